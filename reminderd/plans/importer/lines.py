"""Text lines as copied from a gazette PDF or a web page, tidied for reading.

Removes what the page adds (the "CÔNG BÁO/Số …/Ngày …" header, page numbers), and joins
the lines of one table cell or one sentence that the page layout broke apart: a line
continues the previous one when it starts in lower case, or when the previous one ends
with a connecting word or mark ("và", "của", "ngày", ",", "/"), as a date split over two
lines does ("Trước ngày" / "15/8/2022").
"""

from __future__ import annotations

import re
import unicodedata

from reminderd.plans.importer.cells import starts_like_agency

_GAZETTE = re.compile(r"^\s*CÔNG\s*BÁO\b|^\s*Công báo\s*(?:số|/)", re.IGNORECASE)
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-–]\s*)?\d{1,4}(?:\s*[-–])?\s*$|^\s*Trang\s+\d+(?:\s*/\s*\d+)?\s*$"
)
_SIGNED = re.compile(r"^\s*(?:Người ký|Thời gian ký)\s*:")
_STAMP = re.compile(r"^\s*(?:Người ký|Thời gian ký|Email|Cơ quan)\s*:")
_SITE = re.compile(r"^\s*(?:Nguồn tra cứu|Nguồn:|Xem thêm|Tải về|In bài)", re.IGNORECASE)

_JOIN_WORDS = frozenset(
    re.split(r"\s+", """và của các với tại cho trong về theo hoặc những được để trên từ đến ngày
    tháng năm quý do là có đối giữa bằng nhằm qua thuộc vào trước sau nhân dịp thiểu khoảng""")
)
_TAKES_ROMAN = frozenset(("khóa", "khoá", "quý", "phần", "chương", "mục", "lục"))
_LIST_HEAD = re.compile(r"^(?:các|Các) (?:Bộ|Sở|Ban|bộ|sở|ban)\s*:$")
_UNFINISHED = re.compile(r"(?:Ban Chỉ đạo|Ban Quản lý|Hội đồng|Ủy ban|Uỷ ban|Ban Thường vụ)$")
_LIST_ITEM = re.compile(r"^(\d{1,2})\.\s+\S")
_DATE_WORDS = frozenset(("năm", "tháng", "quý", "ngày"))
_NEEDS_MORE = frozenset(("UBND", "HĐND", "dân"))  # "UBND" / "các xã, phường": one name
_JOIN_END = re.compile(r"[,;:(&/–-]$")
# an agency's name cut after its head word ("Sở" / "Nông nghiệp và Môi trường")
_HEAD_END = frozenset(re.split(r"\s+", "sở bộ ban cục viện phòng tâm đoàn ủy uỷ"))
_DOC_WORD = re.compile(
    r"^(?:Kế hoạch|Quyết định|Chương trình|Đề án|Nghị quyết|Báo cáo|Văn bản|Công văn|Tờ trình"
    r"|Hướng dẫn|Thông báo|Danh mục|Hồ sơ)\b"
)
_TIME_START = re.compile(
    r"^(?:Quý|Tháng|Năm|Ngày|Trước|Trong|Từ|Đến|Hằng|Hàng|Thường|Định|Cuối|Đầu|Giữa|Giai|Sau|Theo)\b"
)
_ROW_MARK = re.compile(
    r"^(?:[IVXLC]{1,6}|\d{1,3}(?:\.\d{1,3})*|[a-zđ])[.)]?(?:\s|$)"
)


_WIDE = re.compile(r"\t+| {3,}")


# a table's header copied as one line: "TT Nội dung Cơ quan chủ trì Thời gian hoàn thành"
_HEADER_LINE = re.compile(r"^(S[ốo]?\s?TT|TT|Stt)\s+(?=(?:Nội dung|Nhiệm vụ|Tên|Hoạt động)\b)")
_HEADER_CELL = re.compile(
    r"\s+(?=(?:Cơ quan|Đơn vị|Chủ trì|Phối hợp|Thời gian|Thời hạn|Tiến độ|Sản phẩm|Kết quả|"
    r"Kinh phí|Ghi chú|Dự kiến|Hình thức|Cấp trình|Lộ trình|Nguồn)\b)"
)


def nfc_lines(lines: list[str]) -> list[str]:
    """NFC lines, spaces collapsed, markdown bold dropped ("- **Thời gian:** …"); cells a
    layout copy set on one line with wide spaces ("1   Sở Nội vụ   Quý II/2025") become
    lines of their own, one cell a line, as a gazette copy gives them; so does a table's
    header copied as one line ("TT Nội dung Cơ quan chủ trì Thời gian hoàn thành")."""
    out: list[str] = []
    for line in lines:
        text = unicodedata.normalize("NFC", line).replace("\u00a0", " ").replace("**", "")
        for part in _WIDE.split(text.strip()) or [""]:
            cell = " ".join(part.split())
            head = _HEADER_LINE.match(cell)
            if head:
                out.extend([head[1], *_HEADER_CELL.split(cell[head.end() :])])
            else:
                out.append(cell)
    return out


def drop_page_furniture(lines: list[str]) -> list[str]:
    """Without gazette page headers, the page numbers next to them, and site footers."""
    out: list[str] = []
    skip: set[int] = set()
    for i, line in enumerate(lines):
        if _GAZETTE.search(line):
            skip.add(i)
            for j in (i - 1, i + 1):
                if 0 <= j < len(lines) and _PAGE_NUMBER.match(lines[j]):
                    skip.add(j)
        if _SIGNED.match(line):  # the digital signature's stamp, and its lines around
            skip.update(j for j in range(i - 3, i + 4) if 0 <= j < len(lines)
                        and _STAMP.match(lines[j]))
    for i, line in enumerate(lines):
        if i in skip:
            continue
        if _SITE.match(line):
            continue
        out.append(line)
    return out


def continues(previous: str, line: str, header: bool = False) -> bool:
    """Whether ``line`` is the rest of the cell or sentence ``previous`` began."""
    if not previous.strip() or not line:
        return False
    first = line[0]
    last = previous.split()[-1]  # the word the line would follow
    last_word = last.lower()
    if first.islower() and _LIST_ITEM.match(previous):
        return True  # the rest of an item of a numbered list ("1. Bộ Tài chính …")
    if first.islower() and not (
        line.startswith(("các ", "những ")) and starts_like_agency(line)
        and last not in _NEEDS_MORE
        and not _JOIN_END.search(previous)
        and last_word not in _JOIN_WORDS
    ):
        return True
    if first in ")]}%" or (first == "(" and not _ROW_MARK.match(line[1:])):
        return True
    if last_word in _TAKES_ROMAN and re.fullmatch(r"[IVXLC]{1,6}\.?,?", line):
        return True  # "Quốc hội khóa" / "XVI"
    item = _LIST_ITEM.match(line)
    if item and int(item[1]) >= 2 and re.search(rf"(?:^|\s){int(item[1]) - 1}\.\s", previous):
        return True  # "1. Bộ Tài chính …" / "2. Bộ Tư pháp …": a numbered list in one cell
    if _LIST_HEAD.match(previous) or (_UNFINISHED.search(previous) and first.isupper()):
        return True  # "Các Bộ:" / "NN&MT, Xây dựng, …"; "Ban Chỉ đạo" / "Phòng thủ dân sự …"
    if previous in ("Lãnh đạo", "Đại diện", "Đại diện lãnh đạo") and starts_like_agency(line):
        return True  # "Lãnh đạo" / "Sở Giáo dục và Đào tạo"
    if previous.endswith(":") and (starts_like_agency(line) or _TIME_START.match(line)):
        return False  # "… sau đây:" ends its cell; an agency or a time is the next one
    if last_word in ("các", "những") and _TIME_START.match(line):
        return False  # "UBND các" / "Thường xuyên": a cell cut short, then the time
    if last_word in _DATE_WORDS and first.isupper():
        return False  # "… trong năm" / "Các sở, ban, ngành", "… hằng năm" / "Thường xuyên"
    if _JOIN_END.search(previous) or last_word in _JOIN_WORDS:
        return not _ROW_MARK.match(line) or (first.isdigit() and "/" in line.split()[0])
    if last_word == "số" and first.isdigit() and "/" in line.split()[0]:
        return True  # "Nghị quyết số" / "59/2026/NQ-HĐND"
    if previous.count("(") > previous.count(")") and not _ROW_MARK.match(line):
        return True  # "(theo Nghị quyết số" / "59/2026/NQ-HĐND …)"
    if _ROW_MARK.match(line) or first.isdigit() or _DOC_WORD.match(line) or header:
        return False
    cut_head = last_word in _HEAD_END and (
        last[:1].isupper() or last_word in ("tâm", "ủy", "uỷ"))  # not "cán bộ"
    if cut_head and first.isupper():
        return True  # "Trung tâm Phục vụ hành chính công, Sở" / "Nông nghiệp và Môi trường"
    # "Văn phòng UBND" / "Thành phố"; "Tập đoàn" / "Viettel": the end of an agency's name
    return (first.isupper() and len(line.split()) <= 2 and starts_like_agency(previous)
            and not starts_like_agency(line) and not line.endswith(":")
            and not _TIME_START.match(line))


def join_cells(lines: list[str], header: bool = False) -> list[str]:
    """Lines of one table row grouped into its cells."""
    cells: list[str] = []
    cut = False
    for line in lines:
        if line == "\x00":  # a page break inside the row: nothing joins across it
            cut = True
            continue
        if cells and not cut and continues(cells[-1], line, header):
            glue = "" if cells[-1].endswith("/") or line[0] in ")]}%" else " "
            cells[-1] = f"{cells[-1]}{glue}{line}"
        else:
            cells.append(line)
        cut = False
    return cells
