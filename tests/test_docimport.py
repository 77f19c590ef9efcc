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

# document -> the expectations it is checked against (the .docx and .pdf hold seed 002)
CORPUS = {
    "seed-002-phuluc.txt": "seed-002-phuluc",
    "seed-001-prose.txt": "seed-001-prose",
    "nq03-cp-2025-phuluc.txt": "nq03-cp-2025-phuluc",
    "seed-002.docx": "seed-002-phuluc",
    "seed-002.pdf": "seed-002-phuluc",
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


@pytest.mark.parametrize("document", sorted(CORPUS))
def test_corpus_fractions(document: str) -> None:
    found, lead, time = scores(document)
    print(f"{document}: found {found:.2f} lead {lead:.2f} time {time:.2f}")
    assert found >= 0.9 and lead >= 0.9 and time >= 0.9, (found, lead, time)


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
    with pytest.raises(ImportProblem, match=r"ke-hoach\.odt"):
        extract(odt)
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
