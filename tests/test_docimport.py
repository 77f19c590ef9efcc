"""reminderd import on real documents (tests/data/import): found, lead and time fractions,
the agency matcher, the CLI end to end, and the draft loading with the project's loader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bundled import BUNDLED, single_file_text

from reminderd.plans.importer.build import extract, import_document
from reminderd.plans.importer.cells import split_agencies
from reminderd.plans.importer.draft import to_yaml
from reminderd.plans.importer.readers import ImportProblem
from reminderd.plans.loader import load_plans
from reminderd.plans.names import AgencyMatcher, name_key, strip_role

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "import"
PLANS = BUNDLED
CONFIG = ROOT / "config" / "reminderd.yaml"

# document -> the expectations it is checked against (the .docx and .pdf hold seed 002).
# 13 real documents: the seeds (Bắc Giang, Đắk Lắk), Hà Nội (UBND, Sở Y tế), Đắk Nông (Sở
# TT&TT), Lâm Đồng (UBND, two), the Government (NQ 03, 109, 116, 175) and the Prime Minister
# (QĐ 844, 893); each .expected.yaml says where it comes from and how it was read.
CORPUS = {
    "seed-002-phuluc.txt": "seed-002-phuluc",
    "seed-001-prose.txt": "seed-001-prose",
    "nq03-cp-2025-phuluc.txt": "nq03-cp-2025-phuluc",
    "seed-002.docx": "seed-002-phuluc",
    "seed-002.pdf": "seed-002-phuluc",
    "kh-100ngay-hanoi-2026.txt": "kh-100ngay-hanoi-2026",
    "cv-syt-hanoi-ditru-2026.txt": "cv-syt-hanoi-ditru-2026",
    "kh-stttt-daknong-mang-di-dong-2024.txt": "kh-stttt-daknong-mang-di-dong-2024",
    "kh-cchc-2026-lamdong.txt": "kh-cchc-2026-lamdong",
    "kh-tuyentruyen-cchc-2026-lamdong.txt": "kh-tuyentruyen-cchc-2026-lamdong",
    "qd844-ttg-bhyt-2026.txt": "qd844-ttg-bhyt-2026",
    "nq175-cp-ttdlqg-2023.txt": "nq175-cp-ttdlqg-2023",
    "nq109-cp-cthd-2026-phuluc3.txt": "nq109-cp-cthd-2026-phuluc3",
    "nq116-cp-thientai-2026.txt": "nq116-cp-thientai-2026",
    "qd893-ttg-nlnt-2026.txt": "qd893-ttg-nlnt-2026",
}


def _num(text: str) -> str:
    return text.replace("-", ".").replace(" ", "").strip(".").lower()


def scores(document: str) -> tuple[float, float, float]:
    expected = yaml.safe_load((DATA / f"{CORPUS[document]}.expected.yaml").read_text("utf-8"))
    _info, tasks = extract(DATA / document)
    found = {_num(t.number): t for t in tasks}
    want = expected["tasks"]
    hits = [found.get(_num(str(w["number"]))) for w in want]
    n = len(want)
    lead = sum(
        1 for w, t in zip(want, hits, strict=True)
        if t is not None and name_key(t.lead_text) == name_key(w["lead"])
    )
    time = sum(
        1 for w, t in zip(want, hits, strict=True)
        if t is not None and " ".join(t.when.split()) == " ".join(str(w["when"]).split())
    )
    return sum(t is not None for t in hits) / n, lead / n, time / n


def test_corpus_is_real_and_varied() -> None:
    """At least 8 distinct documents, each citing its source, with tables and prose."""
    expected = {name: yaml.safe_load((DATA / f"{name}.expected.yaml").read_text("utf-8"))
                for name in set(CORPUS.values())}
    assert len(expected) >= 8
    assert all(e["source"] and e["tasks"] for e in expected.values())
    assert {e["layout"] for e in expected.values()} >= {"table", "prose"}


@pytest.mark.parametrize("document", sorted(CORPUS))
def test_corpus_fractions(document: str) -> None:
    found, lead, time = scores(document)
    print(f"{document}: found {found:.2f} lead {lead:.2f} time {time:.2f}")
    assert found >= 0.8 and lead >= 0.8 and time >= 0.8, (found, lead, time)


def test_corpus_overall() -> None:
    """All documents together, at the aim (95%) rather than the minimum (80%): measured
    found 1.000, lead 0.954, time 0.978 on 366 tasks; the floors below keep them there."""
    totals = [0.0, 0.0, 0.0]
    count = 0
    for document in sorted(CORPUS):
        expected = yaml.safe_load((DATA / f"{CORPUS[document]}.expected.yaml").read_text("utf-8"))
        n = len(expected["tasks"])
        for k, value in enumerate(scores(document)):
            totals[k] += value * n
        count += n
    found, lead, time = (t / count for t in totals)
    print(f"all {count} tasks: found {found:.3f} lead {lead:.3f} time {time:.3f}")
    assert found >= 0.99 and lead >= 0.95 and time >= 0.97, (found, lead, time)


# --- flattened gazette tables: each difficulty on a short real excerpt ----------------------

def _tasks(tmp_path: Path, text: str) -> dict[str, tuple[str, str, str]]:
    path = tmp_path / "excerpt.txt"
    path.write_text(text, "utf-8")
    _info, tasks = extract(path, 2026)
    return {t.number: (t.lead_text, t.when, t.title) for t in tasks}


_KH100_HEAD = """Stt
Tên nhiệm vụ
Đơn vị chủ trì
Đơn vị phối hợp
Sản phẩm
Thời hạn
TT
Chi
tiết
"""


def test_running_number_and_letters_with_merged_cells(tmp_path: Path) -> None:
    """Kế hoạch 100 ngày (Hà Nội): Stt 1, 2 … beside a), b); group 1's time cell spans its
    rows; group 12's lead cell spans its rows; "2" restarts the group after row 8 (the
    pairs "28" / "8" of rows without a letter are in the corpus document)."""
    tasks = _tasks(tmp_path, _KH100_HEAD + """1
Làm sạch, di trú, tích hợp, chuẩn hóa nhóm
dữ liệu thiết yếu, trọng điểm về Kho dữ liệu
dùng chung của Thành phố.
Sở Khoa học và
Công nghệ
Hoàn thành tích hợp, di trú và
chuẩn hóa dữ liệu về Kho dữ liệu
dùng chung thành phố Hà Nội
30/8/2026
1
a)
Dữ liệu đầu tư công, thu ngân sách, dự án đầu
tư, doanh nghiệp, hộ kinh doanh
Sở Tài chính
2
b)
Dữ liệu quy hoạch
Sở Quy hoạch -
Kiến trúc
2
Tập trung cao điểm “45 ngày” về hoàn thiện
cơ sở dữ liệu quốc gia về đất đai
Sở Nông nghiệp và
Môi trường
Theo từng mốc
thời hạn dưới
đây
3
a)
Đối với khoảng 3,2 triệu thửa đất (đã được đo
đạc, có dữ liệu)
Sở Nông nghiệp và
Môi trường
Dữ liệu đạt tiêu chí “đúng, đủ,
sạch, sống”
30/7/2026
12
Giải quyết dứt điểm việc phân bổ kinh phí
và tăng tỷ lệ giải ngân cho chuyển đổi số:
Các Sở, ban, ngành;
UBND các xã,
phường
Sở Tài chính,
Sở Khoa học và
Công nghệ
Đạt được các chỉ tiêu sau đây:
Theo thời hạn
cụ thể sau
đây:
32
a)
Hoàn thành đề xuất phân bổ kinh phí các
nhiệm vụ chuyển đổi số năm 2026.
100% nhiệm vụ chuyển đổi số đã
giao năm 2026 được phân bổ kinh
phí thực hiện
31/7/2026
""")
    assert tasks["1.a"][:2] == ("Sở Tài chính", "30/8/2026")
    assert tasks["1.b"][:2] == ("Sở Quy hoạch - Kiến trúc", "30/8/2026")
    assert tasks["2.a"][:2] == ("Sở Nông nghiệp và Môi trường", "30/7/2026")
    assert tasks["12.a"][:2] == ("Các Sở, ban, ngành; UBND các xã, phường", "31/7/2026")
    assert "1" not in tasks and "12" not in tasks  # group rows are not tasks


def test_cells_several_on_a_line_with_wide_spaces(tmp_path: Path) -> None:
    """A layout copy: the cells of a row on one line, apart by wide spaces."""
    tasks = _tasks(tmp_path, """STT    Nhiệm vụ    Cơ quan thực hiện    Thời gian
1    Xây dựng kế hoạch di trú dữ liệu    Sở Y tế    Quý III/2026
2    Cài đặt CSDL và ứng dụng    Tập đoàn Viettel    Trước ngày 30/9/2026
""")
    assert tasks["1"][:2] == ("Sở Y tế", "Quý III/2026")
    assert tasks["2"][:2] == ("Tập đoàn Viettel", "Trước ngày 30/9/2026")


def test_agency_and_date_broken_across_lines(tmp_path: Path) -> None:
    """Công văn của Sở Y tế Hà Nội: "Sở" / "KHCN", "Tập đoàn" / "Viettel"; Kế hoạch 100
    ngày: "Văn phòng UBND" / "Thành phố"; a date cut after its slash."""
    tasks = _tasks(tmp_path, """TT
Công việc
Đơn vị
thực hiện
Đơn vị phối
hợp
Thời hạn
1
Đảm bảo hạ tầng theo Sizing, các
giải pháp phần cứng đảm bảo ATTT
Sở
KHCN
Sở Y tế
30/8/
2026
2
Dữ liệu quản lý văn bản và điều hành (QLVB)
Văn phòng UBND
Thành phố
Sở KHCN,
Tập đoàn
Viettel
Trước ngày
15/9/2026
3
Hồ sơ, kết quả giải quyết TTHC
Trung tâm Phục vụ hành chính công, Sở
Nông nghiệp và Môi trường (Văn phòng
Đăng ký đất đai)
Sở Y tế
Quý IV/2026
""")
    assert tasks["1"][:2] == ("Sở KHCN", "30/8/2026")
    assert tasks["2"][:2] == ("Văn phòng UBND Thành phố", "Trước ngày 15/9/2026")
    assert tasks["3"][0] == ("Trung tâm Phục vụ hành chính công, Sở Nông nghiệp và Môi trường "
                             "(Văn phòng Đăng ký đất đai)")


def test_page_furniture_repeated_header_and_row_split_by_a_page(tmp_path: Path) -> None:
    """Nghị quyết 03/NQ-CP as a gazette copy: "CÔNG BÁO/Số …" and the page number, the
    header again, a row cut by the page break in its content and another in its product."""
    head = "TT\nTên nhiệm vụ\nCơ quan chủ\ntrì\nCơ quan phối\nhợp\nKết quả\nThời gian\nhoàn thành\n"
    tasks = _tasks(tmp_path, head.join(["", """I
Nâng cao nhận thức
10
Xây dựng Hồ sơ đề nghị xây dựng Luật Cán bộ, công chức (sửa
đổi) theo hướng quy định chính sách để phát huy tinh thần
4
CÔNG BÁO/Số 101 + 102/Ngày 20-01-2025
""", """ngũ cán bộ, công chức, viên chức vì lợi ích chung của quốc
gia, dân tộc.
Bộ Nội vụ
Các bộ, ngành, địa
phương
Hồ sơ đề nghị xây dựng Luật
12/2025
11
Xây dựng nền tảng đào tạo trực tuyến mở đại trà
Bộ Thông tin và Truyền
thông
Các bộ, ngành, địa
phương
Nền tảng đào tạo trực tuyến
mở đại trà
5
CÔNG BÁO/Số 101 + 102/Ngày 20-01-2025
""", """được vận hành
6/2025
"""]))
    assert tasks["I.10"][:2] == ("Bộ Nội vụ", "12/2025")
    assert "ngũ cán bộ" in tasks["I.10"][2]
    assert tasks["I.11"][:2] == ("Bộ Thông tin và Truyền thông", "6/2025")


def test_products_are_not_leads_and_columns_in_any_order(tmp_path: Path) -> None:
    """"Nội dung | Thời gian hoàn thành | Đơn vị chủ trì | Đơn vị phối hợp | Sản phẩm": a time
    before the agencies, products "Kế hoạch", "Báo cáo", "Quyết định của UBND tỉnh"."""
    tasks = _tasks(tmp_path, """STT
Nội dung
Thời gian hoàn thành
Đơn vị chủ trì
Đơn vị phối hợp
Sản phẩm
1
Xây dựng kế hoạch triển khai Chương trình hành động
Tháng 3/2026
Sở Nội vụ
Các sở, ban, ngành
Kế hoạch
2
Tổng kết, đánh giá việc thực hiện
Tháng 12/2026
Sở Tài chính
Báo cáo
3
Ban hành quy chế phối hợp
Quý II/2026
Văn phòng UBND tỉnh
Sở Tư pháp
Quyết định của UBND tỉnh
""")
    assert tasks["1"][:2] == ("Sở Nội vụ", "Tháng 3/2026")
    assert tasks["2"][:2] == ("Sở Tài chính", "Tháng 12/2026")
    assert tasks["3"][:2] == ("Văn phòng UBND tỉnh", "Quý II/2026")
    assert all(t[2] != "Kế hoạch" and "Báo cáo" not in t[2] for t in tasks.values())


def test_days_column_and_bold_markdown_fields(tmp_path: Path) -> None:
    """The Sở Y tế letter's "Số ngày dự kiến" column; seed 003's "- **Thời gian:** …"."""
    tasks = _tasks(tmp_path, """TT
Công việc
Đơn vị thực hiện
Đơn vị phối hợp
Số ngày dự kiến
1
Cài đặt CSDL và ứng dụng
Tập đoàn
Viettel
Sở Y tế
10
2
Chạy thử và vận hành thử
Sở Y tế
Tập đoàn
Viettel
7
3
Ký biên bản kết thúc di trú dữ liệu
Sở Y tế
1
""")
    assert tasks["1"][:2] == ("Tập đoàn Viettel", "10")
    assert tasks["2"][:2] == ("Sở Y tế", "7")
    assert tasks["3"][:2] == ("Sở Y tế", "1")
    seed = _tasks(tmp_path, """1. Triển khai Chương trình công tác năm 2026, Bộ Ngoại giao xin \
thông tin về kế hoạch tổ chức Chương trình Quảng bá địa phương Việt Nam tại Hàn Quốc:

- **Thời gian:** 05 ngày làm việc trong nửa cuối tháng 7/2026 (chưa bao gồm thời gian di \
chuyển);

- **Địa điểm:** Thành phố Seoul và Incheon, Hàn Quốc;
""")
    assert [w for _, w, _ in seed.values()] == [
        "05 ngày làm việc trong nửa cuối tháng 7/2026 (chưa bao gồm thời gian di chuyển)"]


def test_plan_particulars() -> None:
    info, _ = extract(DATA / "seed-002-phuluc.txt")
    assert info.reference == "34/KH-UBND"
    assert info.issued == "2024-02-22"
    assert info.year == 2024
    assert "ngoại giao văn hóa năm 2024" in info.title.lower()
    info, _ = extract(DATA / "nq03-cp-2025-phuluc.txt")
    assert (info.reference, info.issued, info.issuer) == ("03/NQ-CP", "2025-01-09", "Chính phủ")


# --- the matcher ---------------------------------------------------------------------------

def _matcher() -> AgencyMatcher:
    plans = load_plans(PLANS)
    return AgencyMatcher.build((a.id, a.name, a.aliases) for a in plans.agencies)


@pytest.mark.parametrize(
    ("written", "agency"),
    [
        ("Sở Văn hoá, Thể thao và Du lịch", "dl-sovhttdl"),  # old tone placement
        ("SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH", "dl-sovhttdl"),
        ("Sở VHTTDL", "dl-sovhttdl"),
        ("Sở VH,TT&DL", "dl-sovhttdl"),
        ("Văn phòng Uỷ ban nhân dân tỉnh", "dl-vp-ubnd"),
        ("VP UBND tỉnh", "dl-vp-ubnd"),
        ("Sở Ngoại vụ - cơ quan thường trực", "dl-songoaivu"),
        ("Sở Ngoại vụ (chủ trì)", "dl-songoaivu"),
        ("Sở Thông tin và Truyền thông tỉnh Đắk Lắk", "dl-sotttt"),
        ("Sở TT&TT", "dl-sotttt"),
        ("Sở Thông tin và Truyền thông tỉnh", "dl-sotttt"),
        ("Ủy ban nhân dân huyện Ea Súp", "dl-ubnd-easup"),
    ],
)
def test_matcher_knows_vietnamese_writing(written: str, agency: str) -> None:
    assert _matcher().match(written).agency == agency


def test_matcher_suggests_by_similarity_and_names_groups() -> None:
    m = _matcher().match("Sở Tư pháp tỉnh Đắk Lắk")
    assert m.agency is None and not m.group
    m = _matcher().match("Sở Văn hóa Thể thao")
    assert m.agency is None
    assert m.suggestions and m.suggestions[0][0] in ("dl-sovhttdl", "bg-sovhttdl")
    g = _matcher().match("các sở, ban, ngành")
    assert g.agency is None and g.group
    assert _matcher().match("UBND các huyện, thị xã, thành phố").group


def test_split_agencies() -> None:
    assert split_agencies(
        "Văn phòng Tỉnh ủy, Văn phòng UBND tỉnh; các Sở: Kế hoạch và Đầu tư; Công Thương; "
        "Văn hóa, Thể thao và Du lịch, Ban Quản lý các Khu công nghiệp"
    ) == ["Văn phòng Tỉnh ủy", "Văn phòng UBND tỉnh", "Sở Kế hoạch và Đầu tư", "Sở Công Thương",
          "Sở Văn hóa, Thể thao và Du lịch", "Ban Quản lý các Khu công nghiệp"]
    assert split_agencies("Sở Văn hóa, Thể thao và Du lịch, Sở Ngoại vụ và các cơ quan, đơn vị "
                          "liên quan") == ["Sở Văn hóa, Thể thao và Du lịch", "Sở Ngoại vụ",
                                           "các cơ quan, đơn vị liên quan"]
    assert strip_role("Sở KH&ĐT - cơ quan thường trực.") == "Sở KH&ĐT"


# --- errors --------------------------------------------------------------------------------

def test_unreadable_files_say_what_to_do(tmp_path: Path) -> None:
    odt = tmp_path / "ke-hoach.odt"
    odt.write_bytes(b"not really")
    with pytest.raises(ImportProblem, match=r"ke-hoach\.odt: không phải tệp \.odt"):
        extract(odt)  # refused before LibreOffice, which would read it as plain text
    other = tmp_path / "ke-hoach.xlsx"
    other.write_bytes(b"x")
    with pytest.raises(ImportProblem, match=r"\.docx"):
        extract(other)
    with pytest.raises(ImportProblem, match="không có tệp"):
        extract(tmp_path / "missing.txt")


# --- the draft and the CLI -----------------------------------------------------------------

def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reminderd.cli", "import", *args, "--config", str(CONFIG)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )


def test_cli_json() -> None:
    result = _run(str(DATA / "seed-002-phuluc.txt"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["plan"]) == {"title", "reference", "issued", "issuer"}
    assert len(data["tasks"]) == 31
    first = data["tasks"][1]
    assert set(first) == {"number", "title", "lead_text", "support_text", "lead", "support",
                          "when", "kind", "start", "end", "problems"}
    assert (first["number"], first["lead"], first["support"]) == ("I.2", ["dl-songoaivu"],
                                                                  ["dl-lienquan"])
    assert (first["kind"], first["start"], first["end"]) == ("ongoing", "2024-01-01",
                                                             "2024-12-31")
    assert "Đã nhập 31 nhiệm vụ" in result.stderr


def test_cli_output_file_and_draft_loads(tmp_path: Path) -> None:
    out = tmp_path / "34-KH-UBND-2024.yaml"
    result = _run(str(DATA / "nq03-cp-2025-phuluc.txt"), "-o", str(out), "--plan-id", "nq03")
    assert result.returncode == 0, result.stderr
    draft = out.read_text("utf-8")
    assert "# CẦN QUYẾT ĐỊNH:" in draft and "chưa có trong danh bạ" in draft
    again = _run(str(DATA / "nq03-cp-2025-phuluc.txt"), "-o", str(out))
    assert again.returncode == 2 and "đã có" in again.stderr  # never overwrites
    # once the agencies it names exist, the draft loads with the project's loader
    imported = import_document(DATA / "nq03-cp-2025-phuluc.txt", load_plans(PLANS))
    unique = {name_key(m.written): m.written for t in imported.tasks
              for m in (*t.lead, *t.support) if m.agency is None}
    names = sorted(unique.values())
    base = yaml.safe_load(single_file_text())
    agencies = base["agencies"] + [
        {"id": f"new-{k}", "name": name, "emails": [f"new{k}@example.org"]}
        for k, name in enumerate(names)
    ]
    plan = yaml.safe_load(draft)["plans"]
    combined = tmp_path / "plans.yaml"
    combined.write_text(yaml.safe_dump({"version": 1, "coordinator": "dl-songoaivu",
                                        "agencies": agencies, "plans": plan},
                                       allow_unicode=True, sort_keys=False), "utf-8")
    plans = load_plans(combined)
    assert len(plans.plans[0].tasks) == 23


def test_seed_draft_flags_duplicates_and_loads(tmp_path: Path) -> None:
    plans = load_plans(PLANS)
    imported = import_document(DATA / "seed-002-phuluc.txt", plans)
    text = to_yaml(imported, "kh-34-2024-draft")
    assert text.count("có vẻ trùng nhiệm vụ") >= 25  # the seed is already in plans.yaml
    draft = yaml.safe_load(text)
    base = yaml.safe_load(single_file_text())
    base["plans"] = draft["plans"]
    combined = tmp_path / "plans.yaml"
    combined.write_text(yaml.safe_dump(base, allow_unicode=True, sort_keys=False), "utf-8")
    assert len(load_plans(combined).plans[0].tasks) == 31
