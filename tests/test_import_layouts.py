"""reminderd import on the layouts ministries and provinces use besides the corpus's own:
lettered fields ("a) Nội dung … b) Cơ quan chủ trì …"), several fields on one line, a
two-level header ("Đơn vị thực hiện" over "Chủ trì" / "Phối hợp"), a "Cấp trình" column,
a ministry's own units ("Vụ …"), deadlines in running text, and issuers in capitals.

The texts are built from the shapes of real documents (the seeds, Decree 30/2020/NĐ-CP's
forms); the seeds' running-text deadlines are checked on their own words."""

from __future__ import annotations

from pathlib import Path

from reminderd.plans.importer.build import extract
from reminderd.plans.importer.header import plan_info


def _tasks(tmp_path: Path, text: str) -> dict[str, tuple[str, str, str]]:
    path = tmp_path / "doc.txt"
    path.write_text(text, "utf-8")
    _info, tasks = extract(path)
    return {t.number: (t.lead_text, t.support_text, t.when) for t in tasks}


def test_lettered_fields_and_several_fields_on_a_line(tmp_path: Path) -> None:
    text = """BỘ TƯ PHÁP
Số: 88/QĐ-BTP
Hà Nội, ngày 20 tháng 01 năm 2025
KẾ HOẠCH
Triển khai thi hành Luật
II. NỘI DUNG
1. Tổ chức quán triệt, phổ biến Luật
a) Nội dung: Tổ chức hội nghị quán triệt Luật cho cán bộ, công chức.
b) Cơ quan chủ trì: Vụ Phổ biến, giáo dục pháp luật.
c) Cơ quan phối hợp: các đơn vị thuộc Bộ.
d) Thời gian thực hiện: Quý I/2025.
2. Rà soát văn bản quy phạm pháp luật
- Đơn vị thực hiện: Cục Kiểm tra văn bản quy phạm pháp luật
- Thời gian hoàn thành: tháng 6/2025
3. Xây dựng Thông tư hướng dẫn
Chủ trì: Vụ Pháp luật hình sự - hành chính; phối hợp: Văn phòng Bộ. Thời gian: trước ngày 30/9/2025.
4. Biên soạn tài liệu
- Cơ quan thực hiện: Nhà xuất bản Tư pháp; thời gian: tháng 12/2025.
"""
    tasks = _tasks(tmp_path, text)
    assert tasks["II.1"] == ("Vụ Phổ biến, giáo dục pháp luật", "các đơn vị thuộc Bộ", "Quý I/2025")
    assert tasks["II.2"] == ("Cục Kiểm tra văn bản quy phạm pháp luật", "", "tháng 6/2025")
    assert tasks["II.3"] == ("Vụ Pháp luật hình sự - hành chính", "Văn phòng Bộ",
                             "trước ngày 30/9/2025")
    assert tasks["II.4"] == ("Nhà xuất bản Tư pháp", "", "tháng 12/2025")
    assert len(tasks) == 4


def test_two_level_header_and_a_cap_trinh_column(tmp_path: Path) -> None:
    two_level = """PHỤ LỤC
TT
Nội dung công việc
Đơn vị thực hiện
Thời gian
thực hiện
Chủ trì
Phối hợp
1
Xây dựng kế hoạch tổ chức đoàn công tác
của tỉnh đi Nhật Bản
Sở Ngoại vụ
Văn phòng UBND tỉnh; Sở Tài
chính
Quý II/2025
2
Rà soát các thỏa thuận quốc tế đã ký kết
Sở Tư pháp
Sở Ngoại vụ
Trước ngày
30/6/2025
"""
    tasks = _tasks(tmp_path, two_level)
    assert tasks["1"] == ("Sở Ngoại vụ", "Văn phòng UBND tỉnh; Sở Tài chính", "Quý II/2025")
    assert tasks["2"] == ("Sở Tư pháp", "Sở Ngoại vụ", "Trước ngày 30/6/2025")
    cap_trinh = """STT
Nhiệm vụ
Cơ quan chủ trì
Cơ quan phối hợp
Cấp trình
Thời hạn trình
1
Xây dựng Nghị định quy định chi tiết
Vụ Luật pháp và Điều ước quốc tế
Các đơn vị liên quan
Chính phủ
Tháng 6/2025
2
Tổ chức tập huấn
Vụ Tổ chức cán bộ
Các đơn vị
Năm 2025
"""
    tasks = _tasks(tmp_path, cap_trinh)
    assert tasks["1"] == ("Vụ Luật pháp và Điều ước quốc tế", "Các đơn vị liên quan",
                          "Tháng 6/2025")
    # "cán bộ" ends a name in lower case: not a head word cut from the next line
    assert tasks["2"] == ("Vụ Tổ chức cán bộ", "Các đơn vị", "Năm 2025")


def test_deadlines_in_running_text(tmp_path: Path) -> None:
    """Seed 000's "Tổ chức thực hiện" and seed 003's reply deadline, in their own words."""
    plan = """KẾ HOẠCH
Tổ chức các hoạt động kỷ niệm 30 năm
II. CÁC HOẠT ĐỘNG CỤ THỂ
d) Giới thiệu thông tin về Hội nghị kết nối đầu tư Việt Nam - Hàn
Quốc (dự kiến tổ chức bằng hình thức trực tuyến, vào tháng 07/2022, quy mô 100 -
150 đại biểu).
V. TỔ CHỨC TH C HIỆN
1. Sở Ngoại vụ chủ trì, phối hợp với các cơ quan, đơn vị có liên quan tham

mưu UBND tỉnh triển khai các nội dung trong Kế hoạch; tổng hợp, báo cáo kết

quả thực hiện cho UBND tỉnh, Bộ Ngoại giao vào tháng 01/2023 hoặc đột xuất

khi được yêu cầu.
2. Sở Tài chính:
- Thẩm định kinh phí; gửi kết quả thẩm định về Sở Ngoại vụ trước ngày 15/3/2022.
Nơi nhận:
- Bộ Ngoại giao;
"""
    tasks = _tasks(tmp_path, plan)
    assert tasks == {
        "V.1": ("Sở Ngoại vụ", "", "tháng 01/2023"),
        "V.2": ("Sở Tài chính", "", "trước ngày 15/3/2022"),
    }  # the conference's date in II.d is a description, not a duty: no agency asked
    letter = """Số: /BNG-NVVH
Hà Nội, ngày tháng 5 năm 2026
Kính gửi: Ủy ban nhân dân các tỉnh/thành phố trực thuộc Trung ương.
2. Để chương trình được tổ chức bảo đảm thiết thực và hiệu quả, Bộ Ngoại giao đề nghị:
- Đăng ký thành phần tham dự Chương trình;
Công văn trả lời gửi về Bộ Ngoại giao **trước ngày 12/6/2026** để tổng hợp.
"""
    tasks = _tasks(tmp_path, letter)
    assert tasks == {"2": ("Ủy ban nhân dân các tỉnh/thành phố trực thuộc Trung ương", "",
                           "trước ngày 12/6/2026")}


def test_issuer_in_capitals_is_written_as_names_are() -> None:
    cases = {
        "ỦY BAN NHÂN DÂN\nTỈNH QUẢNG NINH": "Ủy ban nhân dân tỉnh Quảng Ninh",
        "BỘ VĂN HÓA, THỂ THAO VÀ DU LỊCH": "Bộ Văn hóa, Thể thao và Du lịch",
        "BỘ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI": "Bộ Lao động - Thương binh và Xã hội",
        "BỘ CÔNG THƯƠNG": "Bộ Công Thương",
        "ỦY BAN NHÂN DÂN\nTỈNH BÀ RỊA - VŨNG TÀU": "Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu",
        "THỦ TƯỚNG CHÍNH PHỦ": "Thủ tướng Chính phủ",
    }
    for head, issuer in cases.items():
        lines = [*head.split("\n"), "Số: 12/KH-UBND", "Hà Nội, ngày 02 tháng 3 năm 2025",
                 "KẾ HOẠCH", "Thực hiện Nghị quyết số 57-NQ/TW", "CHỦ TỊCH ỦY BAN NHÂN DÂN",
                 "Căn cứ Luật"]
        info = plan_info(lines, None)
        assert info.issuer == issuer
        # a title may open with "Thực hiện"; the one who decides, in capitals, ends it
        assert info.title == "Kế hoạch Thực hiện Nghị quyết số 57-NQ/TW"


def test_gazette_text_layer_quirks(tmp_path: Path) -> None:
    """What Công báo text layers do (NQ 109/NQ-CP, QĐ 844/QĐ-TTg, NQ 175/NQ-CP): a lead cell
    that is a numbered list, two cells on one line, a row cut by a page break, the digital
    signature's stamp, a number with a lower-case code ("TTg")."""
    text = """THỦ TƯỚNG CHÍNH PHỦ
Số: 844/QĐ-TTg
Hà Nội, ngày 13 tháng 5 năm 2026
Người ký: Cổng Thông tin điện tử Chính phủ
Email: thongtinchinhphu@chinhphu.vn
Cơ quan: Văn phòng Chính phủ
Thời gian ký: 03.11.2023 16:19:35 +07:00
PHỤ LỤC
TT
NHIỆM VỤ
THỜI HẠN
HOÀN THÀNH
CƠ QUAN CHỦ TRÌ
CƠ QUAN PHỐI HỢP
4
Thể chế hoá các cơ chế, chính sách đặc thù
Năm 2026
1. Bộ Tài chính tổng kết, đánh
giá cơ chế, chính sách đặc thù.
2. Bộ Tư pháp, các bộ, cơ quan
tham mưu, đề xuất
Các địa phương và cơ
quan, đơn vị liên quan
5
Rà soát, phê duyệt điều chỉnh Quy hoạch sử dụng đất
Quý II/2026
Bộ Nông nghiệp và Môi trường Các bộ, cơ quan, địa
phương
6
Xây dựng Nghị định về tăng mức đóng bảo
Tháng 3/2027
Bộ Y tế
Bộ Tài chính, các
CÔNG BÁO/Số 286/Ngày 27-05-2026
97
TT
NHIỆM VỤ
THỜI HẠN
HOÀN THÀNH
CƠ QUAN CHỦ TRÌ
CƠ QUAN PHỐI HỢP
hiểm y tế từ năm 2027 theo lộ trình phù hợp
bộ, ngành, cơ quan có liên quan
"""
    path = tmp_path / "qd.txt"
    path.write_text(text, "utf-8")
    info, tasks = extract(path)
    assert info.reference == "844/QĐ-TTg"
    found = {t.number: t for t in tasks}
    assert set(found) == {"4", "5", "6"}  # the stamp's "Thời gian ký" is not a task
    assert found["4"].lead_text == ("1. Bộ Tài chính tổng kết, đánh giá cơ chế, chính sách đặc "
                                    "thù. 2. Bộ Tư pháp, các bộ, cơ quan tham mưu, đề xuất")
    assert (found["4"].when, found["5"].when, found["6"].when) == (
        "Năm 2026", "Quý II/2026", "Tháng 3/2027")
    assert found["5"].lead_text == "Bộ Nông nghiệp và Môi trường"
    assert found["5"].support_text == "Các bộ, cơ quan, địa phương"
    assert found["6"].lead_text == "Bộ Y tế"
    assert "theo lộ trình phù hợp" in found["6"].title  # the part after the break


def test_letter_subject_and_issuer_from_its_code() -> None:
    lines = ["BỘ NGOẠI GIAO", "Số: /BNG-NVVH", "V/v Chương trình Quảng bá địa phương",
             "Việt Nam tại Hàn Quốc năm 2026", "Hà Nội, ngày tháng 5 năm 2026",
             "Kính gửi: Ủy ban nhân dân các tỉnh/thành phố trực thuộc Trung ương."]
    info = plan_info(lines, None)
    assert info.title == ("Công văn về việc Chương trình Quảng bá địa phương Việt Nam tại "
                          "Hàn Quốc năm 2026")
    assert info.issuer == "Bộ Ngoại giao"
    derived = plan_info(lines[1:], None)  # no letterhead: the issuer from "BNG" in the number
    assert (derived.issuer, derived.issuer_derived) == ("Bộ Ngoại giao", True)


def test_two_tables_of_one_shape_in_the_body(tmp_path: Path) -> None:
    """Kế hoạch tuyên truyền CCHC 2026 (Lâm Đồng): a table under III.1.a) and another under
    III.1.b), each numbered from 1; then the body goes on ("2. Tổ chức Cuộc thi …")."""
    table = """TT
Nội dung
Trách nhiệm
thực hiện
Thời gian
(Năm 2026)
1
Giải đáp vướng mắc thuộc thẩm quyền của Sở Y tế
Lãnh đạo Sở Y tế
Từ 20 giờ 15
phút ngày 08
tháng 5
2
Giải đáp vướng mắc thuộc thẩm quyền của Sở Xây dựng
Lãnh đạo
Sở Xây dựng
Từ 20 giờ 15 phút
ngày 09 tháng 10
"""
    text = ("III. MỘT SỐ HOẠT ĐỘNG\n1. Xây dựng các chương trình\na) Tổ chức chương trình "
            "đối với các sở:\n" + table + "b) Tổ chức chương trình đối với các xã, phường:\n"
            + table + "2. Tổ chức Cuộc thi tìm hiểu về cải cách hành chính năm 2026\n"
            "Sở Nội vụ chủ trì, phối hợp với các cơ quan, đơn vị liên quan xây dựng, tổ chức\n"
            "Cuộc thi tìm hiểu về cải cách hành chính trên địa bàn tỉnh.\n"
            "IV. TỔ CHỨC THỰC HIỆN\nCác cơ quan triển khai.\n")
    tasks = _tasks(tmp_path, text)
    assert tasks == {
        "III.1.a.1": ("Lãnh đạo Sở Y tế", "", "Từ 20 giờ 15 phút ngày 08 tháng 5"),
        "III.1.a.2": ("Lãnh đạo Sở Xây dựng", "", "Từ 20 giờ 15 phút ngày 09 tháng 10"),
        "III.1.b.1": ("Lãnh đạo Sở Y tế", "", "Từ 20 giờ 15 phút ngày 08 tháng 5"),
        "III.1.b.2": ("Lãnh đạo Sở Xây dựng", "", "Từ 20 giờ 15 phút ngày 09 tháng 10"),
    }


def test_a_deadline_in_a_labelled_block_is_not_read_twice(tmp_path: Path) -> None:
    text = """II. NỘI DUNG
1. Gửi thư chúc mừng
- Sở Ngoại vụ gửi thư chúc mừng của Chủ tịch UBND tỉnh, báo cáo kết quả trước ngày 15/8/2022.
Thời gian: Trước ngày 15/8/2022.
Cơ quan chủ trì: Sở Ngoại vụ.
- Tổ chức đoàn
Thời gian: Quý III/2022.
Cơ quan chủ trì: Sở Ngoại vụ.
"""
    assert _tasks(tmp_path, text) == {
        "II.1.a": ("Sở Ngoại vụ", "", "Trước ngày 15/8/2022"),
        "II.1.b": ("Sở Ngoại vụ", "", "Quý III/2022"),
    }


def test_a_roman_number_wrapped_in_a_cell_is_not_a_group(tmp_path: Path) -> None:
    """NQ 97/NQ-CP: "Kỳ họp thứ nhất Quốc hội khóa" / "XVI" is a time cell, not group XVI."""
    text = """TT
Nhiệm vụ
Cơ quan chủ trì
Thời hạn hoàn thành
10
Trình Quốc hội dự án Luật Tổ chức chính quyền địa phương
Bộ Nội vụ
Kỳ họp thứ nhất Quốc
hội khóa
XVI
11
Ban hành Nghị định hướng dẫn
Bộ Tư pháp
Tháng 6/2026
"""
    tasks = _tasks(tmp_path, text)
    assert tasks == {
        "10": ("Bộ Nội vụ", "", "Kỳ họp thứ nhất Quốc hội khóa XVI"),
        "11": ("Bộ Tư pháp", "", "Tháng 6/2026"),
    }


def test_a_header_copied_as_one_line(tmp_path: Path) -> None:
    text = """PHỤ LỤC
STT Nội dung công việc Cơ quan chủ trì Cơ quan phối hợp Thời gian hoàn thành Sản phẩm
1
Xây dựng kế hoạch tổ chức đoàn công tác
Sở Ngoại vụ
Văn phòng UBND tỉnh
Quý II/2025
Kế hoạch
2
Tổ chức hội nghị
Sở Công Thương
Tháng 12/2025
"""
    assert _tasks(tmp_path, text) == {
        "1": ("Sở Ngoại vụ", "Văn phòng UBND tỉnh", "Quý II/2025"),
        "2": ("Sở Công Thương", "", "Tháng 12/2025"),
    }


def test_parts_lettered_a_b_with_numbering_restarting(tmp_path: Path) -> None:
    text = """PHỤ LỤC
STT
Nội dung
Cơ quan chủ trì
Thời gian hoàn thành
A
NHIỆM VỤ CHUNG
1
Tuyên truyền kế hoạch
Sở Ngoại vụ
Quý I/2025
2
Rà soát văn bản
Sở Tư pháp
Quý II/2025
B
NHIỆM VỤ CỤ THỂ
1
Tổ chức hội nghị
Sở Công Thương
Tháng 6/2025
"""
    assert _tasks(tmp_path, text) == {
        "A.1": ("Sở Ngoại vụ", "", "Quý I/2025"),
        "A.2": ("Sở Tư pháp", "", "Quý II/2025"),
        "B.1": ("Sở Công Thương", "", "Tháng 6/2025"),
    }
