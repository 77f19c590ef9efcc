"""Tasks from appendix tables: real tables (.docx, .pdf) and tables flattened into lines.

A table is recognised by its header: "STT" then the column names, which vary ("Nội dung",
"Nhiệm vụ", "Cơ quan/Đơn vị chủ trì", "Đơn vị thực hiện", "Cơ quan phối hợp", "Thời gian
thực hiện/hoàn thành", "Thời hạn", "Tiến độ", "Sản phẩm", "Kinh phí"). The header gives the
roles of the columns and their order.

In a flattened table (a gazette PDF copied as text) each row starts at its number (a line
"1", "2." or a Roman "II" for a group), the cells follow one per line, a long cell broken
over several lines, and an empty cell leaves no line. The cells are rejoined
(:func:`reminderd.plans.importer.lines.join_cells`) and put back in their columns by
:mod:`reminderd.plans.importer.rows`. The header repeated on each page and the column
numbering row ("(1) (2) (3)") are skipped.

What gazette copies add, and how it is read:
- a running number beside the document's own ("1" / "a)", "28" / "8"): the task keeps the
  document's numbering ("1.a", "8"), and a group number may restart the count;
- a header over two lines ("Đơn vị thực hiện" spanning "Chủ trì" / "Phối hợp");
- a group row whose cells span its sub-rows (a merged "Cơ quan chủ trì" or "Thời hạn"):
  its sub-rows without a lead or a time take the group's;
- a row cut by a page break: nothing joins across the break, and the part after it
  continues the columns from the first;
- two cells the text layer set on one line ("Bộ Nông nghiệp và Môi trường Các bộ, cơ quan");
- a second table of the same shape after a paragraph introducing it ("b) … gồm 10 chuyên
  mục sau:"), and the body going on after a table ("IV. TỔ CHỨC THỰC HIỆN").
"""

from __future__ import annotations

import re

from reminderd.plans.importer.cells import starts_like_agency
from reminderd.plans.importer.lines import join_cells
from reminderd.plans.importer.model import RawTask
from reminderd.plans.importer.readers import Table
from reminderd.plans.importer.rows import BREAK, TimeTest, row_task, split_at_breaks
from reminderd.plans.names import fold

# column roles, looked for in this order so that "Thời gian thực hiện" is a time, not a lead
_ROLE_WORDS = (
    ("other", r"^mã\b"),
    ("time", r"thời gian|thời hạn|tiến độ|hoàn thành|thời điểm|số ngày|ngày dự kiến|lộ trình|"
             r"mốc|năm thực hiện|năm triển khai"),
    ("funding", r"kinh phí|nguồn vốn|dự toán"),
    ("product", r"sản phẩm|kết quả|hình thức văn bản|văn bản"),
    ("support", r"phối hợp"),
    ("lead", r"chủ trì|thực hiện|cơ quan|đơn vị|trách nhiệm"),
    ("content", r"nội dung|nhiệm vụ|tên|hoạt động|công việc|giải pháp|chương trình"),
    ("note", r"ghi chú"),
    ("stt", r"^s[ốo]? ?tt\b|^tt\b|^chi tiết$"),
)
_CONTENT_FIRST = re.compile(r"^(?:nội dung|nhiệm vụ|tên (?:nhiệm vụ|hoạt động|công việc|đề án)|"
                            r"hoạt động|công việc|giải pháp)\b")
_STT = re.compile(r"^(?:s[ốo]?\s*)?tt\.?$", re.IGNORECASE)
_NUMBERING = re.compile(r"^\(?\d{1,2}\)?(?:\s*[-=+*x]?\s*\(?\d{1,2}\)?)*$")
_COLUMN_NUMBERS = re.compile(r"^\(\d{1,2}\)(?:\s*\(\d{1,2}\))*$|^\d{1,2}(?:\s+\d{1,2}){2,}$")
_ROMAN = re.compile(r"^([IVXLC]{1,6})\.?(?:\s+(.*))?$")
_ARABIC = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.?(?:\)\s*|\s+|$)(.*)$")
_LETTER = re.compile(r"^([a-zđ])[.)]\s*(.*)$")
_END = re.compile(
    r"^(?:Nơi nhận|KT\.|TM\.|TL\.|Người ký|PHỤ LỤC|Phụ lục [IVX\d]+\b|Ghi chú\s*:)",
)

_ROMAN_LIST = re.findall(
    r"\S+", "I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX"
)
_PARTS = "ABCDEFGH"
_PART = re.compile(r"^([A-H])\.?(?:\s+([A-ZĐÀ-Ỹ][^a-zà-ỹđ]*))?$")  # "A", "B. NHIỆM VỤ CỤ THỂ"
_ROMAN_VALUES = {r: n for n, r in enumerate(_ROMAN_LIST, 1)}
_ROMANS = frozenset(_ROMAN_VALUES)


def is_group(number: str) -> bool:
    """Whether a row number names a group of rows: a Roman "II" or a part "B"."""
    return bool(_ROMAN.fullmatch(number)) or number in _PARTS


def header_roles(cells: list[str]) -> list[str]:
    """The role of each header cell ("content", "lead", "support", "time", ...)."""
    roles: list[str] = []
    for cell in cells:
        text = fold(cell)
        role = "other"
        if _CONTENT_FIRST.match(text):
            roles.append("content")  # "Nhiệm vụ thực hiện", "Nội dung công việc"
            continue
        for name, words in _ROLE_WORDS:
            if re.search(words, text):
                role = name
                break
        roles.append(role)
    if roles and roles[0] == "other" and _STT.match(cells[0].strip()):
        roles[0] = "stt"
    return roles


def _two_level(cells: list[str], roles: list[str]) -> list[str]:
    """A header over two lines, "Đơn vị thực hiện" spanning "Chủ trì" and "Phối hợp",
    flattened as its top row then the sub-row: the sub-columns take the spanning
    column's place."""
    tail = [fold(c) for c in cells[-2:]]
    if len(cells) < 4 or tail[0] not in ("chủ trì", "chủ trì thực hiện") or not tail[1].startswith(
            "phối hợp"):
        return roles
    top = roles[:-2]
    if top.count("lead") != 1 or "support" in top:
        return roles
    at = top.index("lead")
    return [*top[:at], "lead", "support", *top[at + 1 :]]


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
            while end < len(lines) and end - i <= 14 and not _row_start(
                    lines[end], lines[end + 1] if end + 1 < len(lines) else ""):
                end += 1
            cells = join_cells(lines[i + 1 : end], header=True)
            roles = ["stt", *_two_level(cells, header_roles(cells))]
            if _is_header(roles):
                while end < len(lines) and _COLUMN_NUMBERS.match(lines[end]):
                    end += 1  # "(1) (2) (3)" or "1 2 3 4 5" (never a lone row number)
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


def _row_start(line: str, following: str) -> bool:
    if _PART.match(line) and line[:1] == "A" and (len(line) > 3 or (
            following.isupper() and len(following) > 3)):
        return True  # part A of a table lettered A, B, … (not "A" / "B" / "1" numbering)
    return bool((_ROMAN.match(line) and len(line) < 200 and line.split()[0].rstrip(".") != ""
                and (len(line.split()) == 1 or line.split()[1][:1].isupper()))
                or re.match(r"^\d{1,3}(?:\.\d{1,3})*\.?$", line))


def tasks_from_text_table(
    lines: list[str], start: int, roles: list[str], header: list[str], is_time: TimeTest,
) -> tuple[list[RawTask], int]:
    """The tasks of the flattened table whose rows begin at ``start``; and where it ends."""
    rows: list[tuple[str, list[str]]] = []
    starts: list[int] = []  # the line each row starts at
    marks = _Marks()
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
            if rows and _new_table(rows, lines, i, header_set, marks):
                rows.pop()  # "b) … gồm 10 chuyên mục sau:": the next table's introduction
                i = starts.pop()
                break
            i += 1  # the header repeated on a new page
            while i < len(lines) and (fold(lines[i]) in header_set or (_NUMBERING.match(lines[i])
                                      and not marks.next_number(lines[i]))):
                i += 1
            i = _skip_column_numbers(lines, i)
            if rows:
                rows[-1][1].append(BREAK)  # a row split by the page break: no join across it
            continue
        if _section_after(rows, line) or _body_heading(rows, lines, i, marks, is_time):
            break  # "IV. TỔ CHỨC THỰC HIỆN", "2. Tổ chức Cuộc thi …": the body goes on
        following = next((ln for ln in lines[i + 1 : i + 3] if ln), "")
        mark = marks.read(line, following)
        if mark is not None:
            number, rest, consumed = mark
            rows.append((number, [rest] if rest else []))
            starts.append(i)
            i += consumed
            continue
        if rows:
            rows[-1][1].extend(_TWO_CELLS.split(line))
        i += 1
    return _tasks_of_rows(rows, roles, is_time), i


def _section_after(rows: list[tuple[str, list[str]]], line: str) -> bool:
    m = _ROMAN.match(line)
    return bool(m and m[2] and m[2].isupper() and len(rows) >= 2
                and not any(is_group(n) for n, _ in rows))


_BODY_HEADING = re.compile(r"^(\d{1,2})\.\s+([A-ZĐ].{19,})$")
_NAMES_AGENCY = re.compile(r"\b(?:Bộ|Sở|UBND|Ủy ban|Uỷ ban|Ban|Cục|Vụ)\s+[A-ZĐ]")


def _body_heading(
    rows: list[tuple[str, list[str]]], lines: list[str], at: int, marks: _Marks,
    is_time: TimeTest,
) -> bool:
    """Whether a numbered line after a finished row is the body's next heading ("2. Tổ chức
    Cuộc thi …" after row 10): its number is not the next row's, it names no agency (an
    item of a numbered list in a lead cell does), it and the line after it are as wide as
    the page's text (a cell's lines are narrower), and the row already has its time."""
    m = _BODY_HEADING.match(lines[at])
    if (not m or not rows or int(m[1]) > marks.run or _NAMES_AGENCY.search(m[2])
            or starts_like_agency(m[2]) or len(lines[at]) < 40):
        return False
    after = next((ln for ln in lines[at + 1 : at + 3] if ln), "")
    if len(after) < 60:
        return False
    return any(is_time(cell) for cell in join_cells([ln for ln in rows[-1][1] if ln != BREAK]))


def _new_table(
    rows: list[tuple[str, list[str]]], lines: list[str], at: int, header_set: set[str],
    marks: _Marks,
) -> bool:
    """Whether the header at ``at`` opens a second table of the same shape rather than
    repeating the first's on a new page: its numbering restarts at 1, and the last "row"
    read is a paragraph introducing it ("b) Tổ chức … gồm 10 chuyên mục sau:")."""
    k = at + 1
    while k < len(lines) and (fold(lines[k]) in header_set or not lines[k]):
        k += 1
    restarts = k < len(lines) and lines[k].rstrip(".") == "1" and marks.run >= 2
    number, row_lines = rows[-1]
    intro = " ".join(row_lines).rstrip().endswith(":") and not number.replace(".", "").isdigit()
    return restarts and intro and not any(is_group(n) for n, _ in rows)


# two cells the text layer set on one line: "Bộ Nông nghiệp và Môi trường Các bộ, cơ quan"
# (a capital "Các" inside a sentence starts the next cell)
_TWO_CELLS = re.compile(
    r"(?:(?<=[a-zà-ỹđ;)])|(?<=[a-zà-ỹđ]\.))(?<![Cc]ác) (?=Các (?:bộ|sở|cơ quan|đơn vị|"
    r"địa phương|ngành|Bộ|Sở|tỉnh|thành phố|doanh nghiệp|tổ chức|hội)\b|Bộ, (?:ngành|cơ quan)\b"
    r"|(?:Thường xuyên|Hằng năm|Hằng quý|Hằng tháng|Năm \d{4}|Quý [IVX]+\b|Tháng \d{1,2}\b)"
    r"[^A-ZĐ]{0,25}$)"
    # a line ending in a ministry's or department's name after a word it cannot follow
    # in a sentence ("… theo lộ trình phù hợp Bộ Y tế")
    r"|(?<=[a-zà-ỹđ])(?<!của)(?<!với)(?<!cho)(?<!tại)(?<!và)(?<!theo)(?<!thuộc)(?<!đến)"
    r"(?<!giữa)(?<!gồm) (?=(?:Bộ|Sở) [A-ZĐ][^,;.]{0,40}$)"
)

_BARE_LETTER = re.compile(r"^([a-zđ])\)\s*(.*)$")


class _Marks:
    """Row numbers as flattened tables write them: "1", "2." (the next one), "II" (a
    group), "1" then "a)" (a running number and a sub-row's letter), "28" then "8" (a
    running number and the document's own), "a)" alone; a group number may restart the
    count ("2" after "8" when "1" held rows a) to h))."""

    def __init__(self) -> None:
        self.run = 0
        self.group = 0
        self.restart = False
        self.section = 0  # the last Roman group; the next is a little further ("khóa" / "XVI"
        # in a cell is not one)
        self.part = 0  # parts lettered A, B, C … taken so far

    def next_number(self, line: str) -> bool:
        return line.rstrip(".") in (str(self.run + 1), str(self.group + 1))

    def read(self, line: str, following: str) -> tuple[str, str, int] | None:
        m = _ROMAN.match(line)
        if (m and (m[2] is None or m[2][:1].isupper()) and m[1] in _ROMANS
                and (0 < _ROMAN_VALUES[m[1]] - self.section <= 3 or m[1] == "I")):
            self.section = _ROMAN_VALUES[m[1]]
            self.restart = True  # a new group: its numbering may restart at 1
            self.group = 0
            return m[1], (m[2] or "").strip(), 1
        m = _PART.match(line)
        if m and m[1] == _PARTS[self.part : self.part + 1] and (
                m[2] or (following.isupper() and len(following) > 3)):  # not "A" / "B" / "1"
            self.part += 1  # "A" / "NHIỆM VỤ CHUNG", then "B": parts numbered by letters
            self.restart, self.group = True, 0
            return m[1], (m[2] or "").strip(), 1
        m = _ARABIC.match(line)
        if m:
            head = m[1].split(".")
            top = int(head[0])
            rest = m[2].strip()
            if len(head) == 1 and not rest:
                sub = _BARE_LETTER.match(following)
                if sub and not sub[2][:1].islower():
                    self.run = top
                    return f"{self.group}.{sub[1]}" if self.group else sub[1], sub[2], 2
                own = re.fullmatch(r"(\d{1,2})\.?", following)
                if own and int(own[1]) < self.run and 1 <= top - self.run <= 3:
                    self.run, self.group = top, int(own[1])
                    return own[1], "", 2
            step = top - self.run
            if self.restart and top == 1:
                step = 1
            fits = 1 <= step <= 3 or (not rest and 1 <= step <= 10)
            if fits and step > 1 and not rest and following == str(self.run + 1):
                fits = False  # "7" (a number of days) before the next row's "2"
            regroup = self.group and top == self.group + 1 and not rest
            if len(head) == 1 and (fits or regroup) and (not rest or rest[:1].isupper()):
                if not (regroup and not fits):
                    self.run = top
                self.group = top
                self.restart = False
                return m[1], rest, 1
            if len(head) > 1 and top == self.run and (not rest or rest[:1].isupper()):
                return m[1], rest, 1
        m = _LETTER.match(line) or _BARE_LETTER.match(line)
        if m and (not m[2] or m[2][:1].isupper()):
            return (f"{self.group}.{m[1]}" if self.group else m[1]), m[2].strip(), 1
        return None


def _tasks_of_rows(
    rows: list[tuple[str, list[str]]], roles: list[str], is_time: TimeTest,
) -> list[RawTask]:
    tasks: list[RawTask] = []
    section = ""
    parent = ""
    group: RawTask | None = None  # a row whose sub-rows (a), b) ...) carry the work
    group_number = ""
    for k, (number, row_lines) in enumerate(rows):
        segments = [join_cells(part) for part in split_at_breaks(row_lines)]
        cells = join_cells(row_lines)
        if not cells:
            continue
        nxt = rows[k + 1][0] if k + 1 < len(rows) else ""
        task = row_task(cells, roles, is_time, segments)
        if is_group(number):
            section, parent, group = number, "", None
            if task.lead_text or task.when:
                task.number = section
                tasks.append(task)
            continue
        if nxt.startswith(number + ".") and not number.count("."):
            group, group_number = task, number  # "1" followed by its rows "1.a", "1.b"
            continue
        if group is not None and number.startswith(group_number + "."):
            if not task.lead_text and group.lead_text:
                task.lead_text, task.support_text = group.lead_text, (
                    task.support_text or group.support_text)
            if not task.when and group.when and is_time(group.when):
                task.when = group.when
        elif group is not None:
            group = None
        if not (task.lead_text or task.support_text or task.when):
            parent = number  # a group row: its sub-rows carry the work
            continue
        task.number = ".".join(p for p in (section, _sub(parent, number)) if p)
        tasks.append(task)
    return tasks


def _sub(parent: str, number: str) -> str:
    if parent and (number.isalpha() and len(number) == 1):
        return f"{parent}.{number}"
    return number
