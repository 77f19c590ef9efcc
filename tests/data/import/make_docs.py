"""Build seed-002.docx and seed-002.pdf from seed 002's appendix (its real text and table).

Run from the repository root: .venv/bin/python tests/data/import/make_docs.py
Needs python-docx (a dependency) and, for the PDF only, fpdf2 and the DejaVu Sans font
(Debian: fonts-dejavu-core). The built files are committed, so the tests need neither.
The rows are read from the flattened text by the importer, then checked by the tests
against the hand-read expectations in seed-002.expected.yaml.
"""

from __future__ import annotations

from pathlib import Path

import docx

from reminderd.plans.importer.build import extract

HERE = Path(__file__).parent
SOURCE = HERE / "seed-002-phuluc.txt"
HEADER = ("Stt", "Nội dung", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian thực hiện",
          "Kinh phí thực hiện")
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def rows() -> list[tuple[str, ...]]:
    _info, tasks = extract(SOURCE)
    out: list[tuple[str, ...]] = []
    section = ""
    titles = {"I": "Thông tin, tuyên truyền về Ngoại giao văn hóa",
              "II": "Tăng cường ngoại giao văn hóa với các đối tác, địa phương nước ngoài",
              "III": "Thúc đẩy Ngoại giao văn hóa trong các hoạt động Đối ngoại nhân dân",
              "IV": "Quảng bá, giới thiệu tinh hoa văn hóa các dân tộc tỉnh Đắk Lắk với nước ngoài"}
    for t in tasks:
        sec, num = t.number.split(".")
        if sec != section:
            section = sec
            out.append((sec, titles[sec], "", "", "", ""))
        out.append((num, t.title, t.lead_text, t.support_text, t.when, "; ".join(t.notes)))
    return out


def build_docx(path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Số: 34/KH-UBND")
    document.add_paragraph("Đắk Lắk, ngày 22 tháng 02 năm 2024")
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph("NGOẠI GIAO VĂN HÓA NĂM 2024 CỦA TỈNH ĐẮK LẮK")
    document.add_paragraph("PHỤ LỤC")
    data = rows()
    table = document.add_table(rows=1, cols=len(HEADER))
    for cell, text in zip(table.rows[0].cells, HEADER, strict=True):
        cell.text = text
    for row in data:
        cells = table.add_row().cells
        if row[2] and not row[3]:
            cells[2].merge(cells[3])  # one cell over both agency columns, as in the document
        for k, text in enumerate(row):
            if k == 3 and row[2] and not row[3]:
                continue
            cells[k].text = text
    document.save(str(path))


def build_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", format="A4")
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.add_font("DejaVu", style="B", fname=str(FONT.with_name("DejaVuSans-Bold.ttf")))
    pdf.set_font("DejaVu", size=8)
    pdf.add_page()
    for line in ("Số: 34/KH-UBND", "Đắk Lắk, ngày 22 tháng 02 năm 2024", "KẾ HOẠCH",
                 "NGOẠI GIAO VĂN HÓA NĂM 2024 CỦA TỈNH ĐẮK LẮK", "PHỤ LỤC"):
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(8, 90, 45, 45, 30, 40), repeat_headings=1) as table:
        table.row(HEADER)
        for row in rows():
            table.row(row)
    pdf.output(str(path))


if __name__ == "__main__":
    build_docx(HERE / "seed-002.docx")
    build_pdf(HERE / "seed-002.pdf")
