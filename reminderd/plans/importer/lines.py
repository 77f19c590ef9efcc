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
_SITE = re.compile(r"^\s*(?:Nguồn tra cứu|Nguồn:|Xem thêm|Tải về|In bài)", re.IGNORECASE)

_JOIN_WORDS = frozenset(
    re.split(r"\s+", """và của các với tại cho trong về theo hoặc những được để trên từ đến ngày
    tháng năm quý do là có đối giữa bằng nhằm qua thuộc vào trước sau nhân dịp""")
)
_JOIN_END = re.compile(r"[,;:(&/–-]$")
_ROW_MARK = re.compile(
    r"^(?:[IVXLC]{1,6}|\d{1,3}(?:\.\d{1,3})*|[a-zđ])[.)]?(?:\s|$)"
)


def nfc_lines(lines: list[str]) -> list[str]:
    return [" ".join(unicodedata.normalize("NFC", line).replace("\u00a0", " ").split())
            for line in lines]


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
    for i, line in enumerate(lines):
        if i in skip:
            continue
        if _SITE.match(line):
            continue
        out.append(line)
    return out


def continues(previous: str, line: str) -> bool:
    """Whether ``line`` is the rest of the cell or sentence ``previous`` began."""
    if not previous or not line:
        return False
    first = line[0]
    if first.islower() and not (
        line.startswith(("các ", "những ")) and starts_like_agency(line)
        and not _JOIN_END.search(previous)
        and previous.split()[-1].lower() not in _JOIN_WORDS
    ):
        return True
    if first in ")]}%" or (first == "(" and not _ROW_MARK.match(line[1:])):
        return True
    last_word = previous.split()[-1].lower()
    if _JOIN_END.search(previous) or last_word in _JOIN_WORDS:
        return not _ROW_MARK.match(line) or (first.isdigit() and "/" in line.split()[0])
    return False


def join_cells(lines: list[str]) -> list[str]:
    """Lines of one table row grouped into its cells."""
    cells: list[str] = []
    for line in lines:
        if cells and continues(cells[-1], line):
            glue = "" if cells[-1].endswith("/") or line[0] in ")]}%" else " "
            cells[-1] = f"{cells[-1]}{glue}{line}"
        else:
            cells.append(line)
    return cells
