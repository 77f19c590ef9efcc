"""Tasks from appendix tables: real tables (.docx, .pdf) and tables flattened into lines.

A table is recognised by its header: "STT" then the column names, which vary ("Nội dung",
"Nhiệm vụ", "Cơ quan/Đơn vị chủ trì", "Đơn vị thực hiện", "Cơ quan phối hợp", "Thời gian
thực hiện/hoàn thành", "Thời hạn", "Tiến độ", "Sản phẩm", "Kinh phí"). The header gives the
roles of the columns and their order.

In a flattened table (a gazette PDF copied as text) each row starts at its number (a line
"1", "2." or a Roman "II" for a group), the cells follow one per line, a long cell broken
over several lines, and an empty cell leaves no line. The cells are rejoined
(:func:`reminderd.plans.importer.lines.join_cells`) and read by what they hold: the first is the
content, cells that start like an agency name are the lead then the coordinating agencies,
the cell our time grammar reads (or that looks like a time) is the time; the rest
(products, funding, notes) are kept as notes. The header repeated on each page and the
column numbering row ("(1) (2) (3)") are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from reminderd.plans.importer.cells import starts_like_agency
from reminderd.plans.importer.lines import join_cells
from reminderd.plans.importer.model import RawTask
from reminderd.plans.importer.readers import Table
from reminderd.plans.names import fold

# column roles, looked for in this order so that "Thời gian thực hiện" is a time, not a lead
_ROLE_WORDS = (
    ("time", r"thời gian|thời hạn|tiến độ|hoàn thành|thời điểm"),
    ("funding", r"kinh phí|nguồn vốn|dự toán"),
    ("product", r"sản phẩm|kết quả|hình thức văn bản|văn bản"),
    ("support", r"phối hợp"),
    ("lead", r"chủ trì|thực hiện|cơ quan|đơn vị|trách nhiệm"),
    ("content", r"nội dung|nhiệm vụ|tên|hoạt động|công việc|giải pháp|chương trình"),
    ("note", r"ghi chú"),
    ("stt", r"^s[ốo]? ?tt\b|^tt\b"),
)
_STT = re.compile(r"^(?:s[ốo]?\s*)?tt\.?$", re.IGNORECASE)
_NUMBERING = re.compile(r"^\(?\d{1,2}\)?(?:\s*[-=+*x]?\s*\(?\d{1,2}\)?)*$")
_ROMAN = re.compile(r"^([IVXLC]{1,6})\.?(?:\s+(.*))?$")
_ARABIC = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.?(?:\)\s*|\s+|$)(.*)$")
_LETTER = re.compile(r"^([a-zđ])[.)]\s*(.*)$")
_END = re.compile(
    r"^(?:Nơi nhận|KT\.|TM\.|TL\.|Người ký|PHỤ LỤC|Phụ lục [IVX\d]+\b|Ghi chú\s*:)",
)

_ROMANS = frozenset(
    re.findall(r"\S+", "I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX")
)

TimeTest = Callable[[str], bool]


def header_roles(cells: list[str]) -> list[str]:
    """The role of each header cell ("content", "lead", "support", "time", ...)."""
    roles: list[str] = []
    for cell in cells:
        text = fold(cell)
        role = "other"
        for name, words in _ROLE_WORDS:
            if re.search(words, text):
                role = name
                break
        roles.append(role)
    if roles and roles[0] == "other" and _STT.match(cells[0].strip()):
        roles[0] = "stt"
    return roles


def _is_header(roles: list[str]) -> bool:
    return "content" in roles and ("lead" in roles or "support" in roles)


# --- real tables ---------------------------------------------------------------------------


def tasks_from_table(table: Table, is_time: TimeTest) -> list[RawTask]:
    """Tasks from a table read as a table (.docx, .pdf)."""
    rows = [list(r) for r in table.rows]
    start = None
    roles: list[str] = []
    for i, row in enumerate(rows[:4]):
        roles = header_roles(row)
        if _is_header(roles):
            start = i + 1
            break
    if start is None:
        return []
    tasks: list[RawTask] = []
    section = ""
    parent = ""
    header = [fold(c) for c in rows[start - 1]]
    for row in rows[start:]:
        cells = [c.strip() for c in row]
        if all(_NUMBERING.match(c) or not c for c in cells):
            continue  # the column numbering row, or an empty one
        if [fold(c) for c in cells] == header:
            continue  # the header repeated on the next page
        by_role: dict[str, str] = {}
        for role, cell in zip(roles, cells, strict=False):
            if cell and role not in by_role:
                by_role[role] = " ".join(cell.split())
        stt = by_role.get("stt", "")
        content = by_role.get("content", "")
        if not content:
            continue
        roman = _ROMAN.match(stt)
        has_work = any(by_role.get(r) for r in ("lead", "support", "time"))
        if roman and not has_work:
            section, parent = roman[1], ""
            continue
        number = _number(section, parent, stt.rstrip(".)"))
        if not has_work:
            parent = stt.rstrip(".)")
            continue
        if _ARABIC.match(stt) and "." not in stt.rstrip("."):
            parent = ""
        tasks.append(
            RawTask(
                number=number,
                title=content,
                lead_text=by_role.get("lead", ""),
                support_text=by_role.get("support", ""),
                when=by_role.get("time", ""),
                notes=[by_role[r] for r in ("product", "funding", "note") if by_role.get(r)],
            )
        )
    return tasks


def merge_tables(tables: list[Table]) -> list[Table]:
    """A table continued on the next page (same columns, header repeated or not) as one."""
    out: list[Table] = []
    for table in tables:
        if not table.rows:
            continue
        if out and len(table.rows[0]) == len(out[-1].rows[0]):
            first = [fold(c) for c in table.rows[0]]
            rows = table.rows[1:] if first == [fold(c) for c in out[-1].rows[0]] else table.rows
            out[-1] = Table(out[-1].rows + rows)
        else:
            out.append(table)
    return out


def _number(section: str, parent: str, stt: str) -> str:
    parts = [p for p in (section, parent if stt and not stt.startswith(parent + ".") else "",
                         stt) if p]
    return ".".join(parts)


# --- flattened tables ----------------------------------------------------------------------


def find_text_tables(lines: list[str]) -> list[tuple[int, int, list[str]]]:
    """(first line of the header, first line after it, column roles) of each table."""
    found: list[tuple[int, int, list[str]]] = []
    i = 0
    while i < len(lines):
        if _STT.match(lines[i]):
            end = i + 1
            while end < len(lines) and end - i <= 14 and not _row_start(lines[end]):
                end += 1
            cells = join_cells(lines[i + 1 : end])
            roles = ["stt", *header_roles(cells)]
            if _is_header(roles):
                while end < len(lines) and _NUMBERING.match(lines[end]):
                    end += 1
                end = _skip_column_numbers(lines, end)
                found.append((i, end, roles))
                i = end
                continue
        i += 1
    return found


def _skip_column_numbers(lines: list[str], at: int) -> int:
    """Past a column numbering row written one number a line ("1", "2", "3", ...)."""
    k = 0
    while at + k < len(lines) and lines[at + k] == str(k + 1):
        k += 1
    return at + k if k >= 3 else at


def _row_start(line: str) -> bool:
    return bool((_ROMAN.match(line) and len(line) < 200 and line.split()[0].rstrip(".") != ""
                and (len(line.split()) == 1 or line.split()[1][:1].isupper()))
                or re.match(r"^\d{1,3}(?:\.\d{1,3})*\.?$", line))


def tasks_from_text_table(
    lines: list[str], start: int, roles: list[str], header: list[str], is_time: TimeTest,
) -> tuple[list[RawTask], int]:
    """The tasks of the flattened table whose rows begin at ``start``; and where it ends."""
    rows: list[tuple[str, list[str]]] = []
    expected: list[int] = [0]
    i = start
    header_set = {fold(h) for h in header}
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if _END.match(line):
            break
        if _STT.match(line) and i + 1 < len(lines) and fold(lines[i + 1]) in header_set:
            i += 1  # the header repeated on a new page
            while i < len(lines) and (fold(lines[i]) in header_set or (_NUMBERING.match(lines[i])
                                      and not _next_number(lines[i], expected))):
                i += 1
            i = _skip_column_numbers(lines, i)
            continue
        mark = _row_mark(line, expected)
        if mark is not None:
            number, rest = mark
            rows.append((number, [rest] if rest else []))
        elif rows:
            rows[-1][1].append(line)
        i += 1
    tasks: list[RawTask] = []
    section = ""
    parent = ""
    for number, row_lines in rows:
        cells = join_cells(row_lines)
        if not cells:
            continue
        if _ROMAN.fullmatch(number):
            section, parent = number, ""
            task = _row_task(cells, roles, is_time)
            if task.lead_text or task.when:
                task.number = section
                tasks.append(task)
            continue
        task = _row_task(cells, roles, is_time)
        if not (task.lead_text or task.support_text or task.when):
            parent = number  # a group row: its sub-rows carry the work
            continue
        task.number = ".".join(p for p in (section, _sub(parent, number)) if p)
        tasks.append(task)
    return tasks, i


def _sub(parent: str, number: str) -> str:
    if parent and (number.isalpha() and len(number) == 1):
        return f"{parent}.{number}"
    return number


def _next_number(line: str, expected: list[int]) -> bool:
    return line.rstrip(".") == str(expected[0] + 1)


def _row_mark(line: str, expected: list[int]) -> tuple[str, str] | None:
    """The row number a line starts with, when it is the next one (or a new group)."""
    m = _ROMAN.match(line)
    if m and (m[2] is None or m[2][:1].isupper()) and m[1] in _ROMANS:
        expected.append(-1)  # a new group: its numbering may restart at 1
        return m[1], (m[2] or "").strip()
    m = _ARABIC.match(line)
    if m:
        head = m[1].split(".")
        top = int(head[0])
        step = top - expected[0]
        if top == 1 and expected[-1] == -1:
            step = 1
        if len(head) == 1 and (1 <= step <= 3 or (not m[2] and 1 <= step <= 10)) and (
            not m[2] or m[2][:1].isupper()
        ):
            expected[0] = top
            del expected[1:]
            return m[1], m[2].strip()
        if len(head) > 1 and top == expected[0] and (not m[2] or m[2][:1].isupper()):
            return m[1], m[2].strip()
    m = _LETTER.match(line)
    if m and m[2][:1].isupper():
        return m[1], m[2].strip()
    return None


def _row_task(cells: list[str], roles: list[str], is_time: TimeTest) -> RawTask:
    """A row's cells read by what they hold, in the header's column order."""
    order = [r for r in roles if r in ("lead", "support", "time", "product", "funding", "note")]
    time_first = "time" in order and "lead" in order and order.index("time") < order.index("lead")
    title_parts = [cells[0]]
    agencies: list[str] = []
    when = ""
    notes: list[str] = []
    seen_other = False
    for cell in cells[1:]:
        if not when and is_time(cell) and not (starts_like_agency(cell) and not agencies):
            when = cell
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
