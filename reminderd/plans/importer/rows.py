"""One row of a flattened table read into a task: which of its cells is the content, the
lead, the coordinating agencies, the time.

When the row has exactly one cell per column, the header's order decides. Otherwise the
cells are put back in their columns by :mod:`reminderd.plans.importer.align`, scored by
what each holds (:data:`FIT`); a row the alignment cannot place (a header without a lead
or time column) is read cell by cell: a time is what the grammar reads, an agency what
starts like one, and the rest (products, funding, notes) is kept as notes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from reminderd.plans.importer.align import align
from reminderd.plans.importer.cells import starts_like_agency
from reminderd.plans.importer.model import RawTask

TimeTest = Callable[[str], bool]
BREAK = "\x00"  # a page break inside a row

_DOC_WORDS = re.compile(
    r"^(?:Kế hoạch|Quyết định|Chương trình|Đề án|Nghị quyết|Báo cáo|Văn bản|Công văn)\b"
)
# a time said inside a sentence ("Thực hiện thường xuyên khi có yêu cầu", "Theo các mốc thời
# gian tại Quyết định …"): a weaker sign of the time column than a time the grammar reads
_TIME_WORDS = re.compile(
    r"thường xuyên|định kỳ|hằng (?:năm|tháng|quý|tuần)|hàng (?:năm|tháng|quý)|trước ngày|"
    r"mốc thời gian|thời hạn|tiến độ|trong (?:tháng|quý|năm) \d|quý [IV]+\b",
    re.IGNORECASE,
)
_DAYS = re.compile(r"^\d{1,3}(?:\s*ngày(?:\s*làm việc)?)?$")


def row_task(
    cells: list[str], roles: list[str], is_time: TimeTest, segments: list[list[str]],
) -> RawTask:
    """A row's cells read by what they hold, in the header's column order.

    When the row has exactly one cell per column the header's order decides; otherwise a
    time is what the grammar reads (or what starts like a time), an agency what starts like
    one, and what is neither (products, funding, notes) is kept as a note.
    """
    cells = _rejoin(cells)
    named = [r for r in roles if r not in ("stt", "other")]
    order = [r for r in named if r in ("lead", "support", "time", "product", "funding", "note")]
    # one cell per column: the named columns, or with the unnamed ones between them ("Cấp
    # trình" has cells too; a trailing "TT" / "Chi tiết" is the row's numbering)
    inner = [r for r in roles if r != "stt"]
    while inner and inner[-1] == "other":
        inner.pop()
    whole = sum(1 for part in segments if part) <= 1  # a row cut by a page break is not
    for columns in (named, inner):  # one cell a column: its parts continue the columns
        if whole and len(cells) == len(columns) and columns[:1] == ["content"]:
            task = _by_column(cells, columns, order, is_time)
            if task is not None:
                return task
    aligned = _aligned_task(segments, roles, is_time)
    if aligned is not None:
        return aligned
    time_first = "time" in order and "lead" in order and order.index("time") < order.index("lead")
    title_parts = [cells[0]]
    agencies: list[str] = []
    when = ""
    notes: list[str] = []
    seen_other = False
    days_column = "time" in order  # a bare number of days is a time only in such a table
    for cell in cells[1:]:
        if cell[:1].islower() and not (starts_like_agency(cell) and not agencies):
            # the rest of a cell the page break cut: the content, or a product
            (title_parts if not agencies and not when else notes).append(cell)
            continue
        if not when and (is_time(cell) or (days_column and _DAYS.match(cell) and (
                agencies or order[-1:] == ["time"]))) and not (
                starts_like_agency(cell) and not agencies):
            when = cell
            continue
        if when and _DOC_WORDS.match(cell) and re.search(r"ban hành|phê duyệt|ký$", when):
            when = f"{when} {cell}"  # "100 ngày kể từ ngày ban hành" / "Kế hoạch"
            continue
        if starts_like_agency(cell) and (not when or time_first) and not (
            seen_other and agencies
        ):
            agencies.append(cell)
            continue
        if not agencies and not when:
            title_parts.append(cell)  # the content cell, broken before a capital
        else:
            notes.append(cell)
            seen_other = True
    lead = agencies[0] if agencies else ""
    support = "; ".join(agencies[1:])
    if "lead" not in order and "support" in order and agencies:
        lead, support = "", "; ".join(agencies)
    return RawTask(
        number="", title=" ".join(title_parts), lead_text=lead, support_text=support,
        when=when, notes=notes,
    )


def _by_column(
    cells: list[str], columns: list[str], order: list[str], is_time: TimeTest,
) -> RawTask | None:
    """The row read in the header's column order, when its cells are plausible there."""
    found: dict[str, str] = {}
    for role, cell in zip(columns, cells, strict=True):
        found.setdefault(role, cell.replace(BREAK, " "))
    plausible = (not found.get("lead") or starts_like_agency(found["lead"])
                 or not is_time(found["lead"])) and (
        not found.get("time") or is_time(found["time"]) or _DAYS.match(found["time"])
        or not starts_like_agency(found["time"]) or "time" in order[-1:])
    if not plausible:
        return None
    return RawTask(
        number="", title=found.get("content", ""), lead_text=found.get("lead", ""),
        support_text=found.get("support", ""), when=found.get("time", ""),
        notes=[found[r] for r in ("product", "funding", "note") if found.get(r)],
    )


def split_at_breaks(lines: list[str]) -> list[list[str]]:
    """A row's lines in the parts a page break cut it into."""
    parts: list[list[str]] = [[]]
    for line in lines:
        if line == BREAK:
            parts.append([])
        else:
            parts[-1].append(line)
    return parts


_LIST_NUMBER = re.compile(r"^\d{1,2}\.\s+")

# how well a cell fits a column, by what it holds (tuned on tests/data/import)
FIT = {
    "agency": 2.0, "agency_time": -3.0, "agency_other": -0.8,
    "time": 2.5, "time_agency": -3.0, "time_weak": 0.8, "time_other": -0.4,
    "content_odd": -1.0, "rest": -3.0, "note_time": -1.0, "note_agency": -0.3,
}


def _aligned_task(
    segments: list[list[str]], roles: list[str], is_time: TimeTest,
) -> RawTask | None:
    """The row's cells put in the header's columns (:mod:`.align`)."""
    columns = [r for r in roles if r != "stt"]
    if "lead" not in columns or "time" not in columns:
        return None
    kinds: dict[str, tuple[bool, bool]] = {}  # cell -> (an agency?, a time?), read once

    def kind(cell: str) -> tuple[bool, bool]:
        if cell not in kinds:
            agency = starts_like_agency(_LIST_NUMBER.sub("", cell))  # "1. Bộ Tài chính …"
            kinds[cell] = agency, not agency and (is_time(cell) or bool(_DAYS.match(cell)))
        return kinds[cell]

    def fits(cell: str, role: str) -> float:
        agency, timey = kind(cell)
        w = FIT
        if role in ("lead", "support"):
            return w["agency"] if agency else (w["agency_time"] if timey else w["agency_other"])
        if role == "time":
            weak = not agency and _TIME_WORDS.search(cell[:60]) is not None
            return w["time"] if timey else (
                w["time_agency"] if agency else (w["time_weak"] if weak else w["time_other"]))
        if role == "content":
            return w["content_odd"] if agency or timey else 0.0
        if role == "rest":
            return w["rest"]
        return w["note_time"] if timey else (w["note_agency"] if agency else 0.0)

    # "rest": what a row runs on with after its last column (the body after the table)
    placed = align(segments, [*columns, "rest"], fits)
    if placed is None:
        return None
    text: dict[str, str] = {}
    notes: list[str] = []
    for j, parts in sorted(placed.items()):
        joined = " ".join(parts)
        if j == len(columns) or columns[j] in ("product", "funding", "note", "other"):
            notes.append(joined)
        elif columns[j] not in text:
            text[columns[j]] = joined
        else:
            notes.append(joined)
    return RawTask(
        number="", title=text.get("content", ""), lead_text=text.get("lead", ""),
        support_text=text.get("support", ""), when=text.get("time", ""), notes=notes,
    )


def _rejoin(cells: list[str]) -> list[str]:
    """Cells without the page-break marks (a cell cut by a break stays two cells)."""
    return [c for c in (c.replace(BREAK, "").strip() for c in cells) if c]
