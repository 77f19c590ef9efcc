"""A document imported: its particulars and tasks, agencies matched and times read.

:func:`import_document` reads the file, finds the tables and prose blocks, splits and
matches every agency, reads every time with the project's grammar, and records what a
human must decide for each task (an unknown agency and its nearest matches, a time that
cannot be read and why, no lead, a duplicate of a task already in the plans).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from reminderd.core.errors import TimeExprError
from reminderd.core.model import Plans
from reminderd.core.timeexpr import describe, parse_time
from reminderd.plans.importer.cells import split_agencies
from reminderd.plans.importer.duties import tasks_from_duties
from reminderd.plans.importer.lines import drop_page_furniture, nfc_lines
from reminderd.plans.importer.model import PlanInfo, RawTask
from reminderd.plans.importer.prose import heading_path, tasks_from_prose
from reminderd.plans.importer.readers import Table, read_document
from reminderd.plans.importer.tables import (
    find_text_tables,
    is_group,
    merge_tables,
    tasks_from_table,
    tasks_from_text_table,
)
from reminderd.plans.names import AgencyMatcher, Match, fold

# what starts like a time the grammar may not read ("100 ngày kể từ ngày ban hành Kế hoạch",
# "Theo tiến độ dự án", "Quý II/2025 và các năm tiếp theo"): a time word or a date first
_TIMEISH = re.compile(
    r"^(?:quý|tháng|năm|ngày|thường xuyên|hằng|hàng|định kỳ|trước|giai đoạn|đến|từ|trong|"
    r"cuối|đầu|giữa|kỳ|tuần|sau|chậm nhất|muộn nhất|kể từ|liên tục|dự kiến|theo (?:tiến độ|"
    r"kế hoạch|lộ trình|thời gian|từng|yêu cầu|chỉ đạo)|"
    r"theo thời hạn)\b"
    r"|^\d{1,3}\s*(?:ngày|tháng|tuần|năm)\b"
    r"|^(?:\d{1,2}/)?\d{1,2}/(?:19|20)\d\d\b|^(?:19|20)\d\d(?:\s*[-–]\s*(?:19|20)?\d\d)?\b",
    re.IGNORECASE,
)
_NOT_TIME = re.compile(r"^(?:nguồn|ngân sách|kinh phí|không phát sinh|theo dự toán)", re.I)


@dataclass
class Problem:
    kind: str  # unknown_agency | group | time | no_lead | no_time | duplicate | from_text
    message: str  # Vietnamese, for the draft and the terminal

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


@dataclass
class ImportedTask:
    raw: RawTask
    lead: list[Match] = field(default_factory=list)
    support: list[Match] = field(default_factory=list)
    timing: dict[str, object] | None = None
    problems: list[Problem] = field(default_factory=list)
    task_id: str = ""


@dataclass
class Imported:
    path: Path
    info: PlanInfo
    year: int
    tasks: list[ImportedTask]


def _timeish(text: str) -> bool:
    return bool(text) and len(text) < 160 and not _NOT_TIME.match(text) and bool(
        _TIMEISH.search(text)
    )


def extract(path: Path, year: int | None = None) -> tuple[PlanInfo, list[RawTask]]:
    """The plan's particulars and its tasks as written."""
    from reminderd.plans.importer.header import plan_info

    blocks = read_document(path)
    lines = drop_page_furniture(nfc_lines([b for b in blocks if isinstance(b, str)]))
    info = plan_info(lines, year)
    plan_year = info.year

    def is_time(text: str) -> bool:
        if _NOT_TIME.match(text) or len(text) > 240:  # a time cell is short; a page is not
            return False
        try:
            timing = parse_time(text, plan_year)
            # read only past words set aside at its start ("hiểm y tế từ năm 2027 …", the
            # rest of a content cell cut by a page break): not a time cell
            return not (timing.ignored and text.startswith(timing.ignored[0])
                        and not _timeish(text))
        except TimeExprError:
            return _timeish(text) and not any(c.isalpha() and c.isupper() for c in text[1:8]
                                              if text[:3].lower() not in ("quý", "thá", "năm"))

    raw: list[RawTask] = []
    for table in merge_tables([b for b in blocks if isinstance(b, Table)]):
        raw.extend(tasks_from_table(table, is_time))
    tables = find_text_tables(lines)
    taken: list[tuple[int, int]] = []
    read: list[tuple[str, list[RawTask]]] = []
    for head_at, start, roles in tables:
        if taken and head_at < taken[-1][1]:
            continue  # the header repeated on a later page of a table already read
        header = lines[head_at:start]
        tasks, end = tasks_from_text_table(lines, start, roles, header, is_time)
        read.append((heading_path(lines, head_at), tasks))
        taken.append((head_at, end))
    raw.extend(_placed(read))
    rest = [ln for i, ln in enumerate(lines) if not any(a <= i < b for a, b in taken)]
    raw.extend(tasks_from_prose(rest))
    raw.extend(t for t in tasks_from_duties(rest, is_time) if not _told(t, raw))
    if info.year is None:
        years = Counter(int(y) for t in raw for y in re.findall(r"\b(20\d\d)\b", t.when))
        info.year = years.most_common(1)[0][0] if years else None
    return info, raw


def _told(duty: RawTask, tasks: list[RawTask]) -> bool:
    """Whether a deadline read from running text is a task already read (its number, or
    the same deadline under the same heading, as a labelled block gives it)."""
    when = fold(" ".join(duty.when.split()))
    return any(
        t.number == duty.number or (
            (t.number.startswith(duty.number + ".") or duty.number.startswith(t.number + "."))
            and when in fold(" ".join(t.when.split())))
        for t in tasks
    )


def _placed(read: list[tuple[str, list[RawTask]]]) -> list[RawTask]:
    """The tables' tasks; when two tables number their rows alike (two tables under
    "III.1.a)" and "III.1.b)", each from 1), each row takes its heading's number too."""
    numbers = Counter(t.number for _place, tasks in read for t in tasks)
    out: list[RawTask] = []
    for place, tasks in read:
        clash = any(numbers[t.number] > 1 for t in tasks)
        if place and clash and not any(is_group(t.number.split(".")[0]) for t in tasks):
            for task in tasks:
                task.number = f"{place}.{task.number}"
        out.extend(tasks)
    return out


def import_document(
    path: Path, plans: Plans | None, year: int | None = None,
) -> Imported:
    info, raw = extract(path, year)
    plan_year = year or info.year or 0
    matcher = AgencyMatcher.from_plans(plans)
    existing = [
        (plan.id, task.id, fold(task.title), str(task.origin))
        for plan in (plans.plans if plans else ())
        for task in plan.tasks
    ]
    out: list[ImportedTask] = []
    used: Counter[str] = Counter()
    for task in raw:
        item = ImportedTask(task)
        base = task.number or str(len(out) + 1)
        used[base] += 1
        item.task_id = base if used[base] == 1 else f"{base}-{used[base]}"
        if task.source == "text":
            item.problems.append(Problem(
                "from_text", "đọc từ một đoạn văn (không phải bảng hay mục “Thời gian: …”): "
                "kiểm tra cơ quan và thời hạn với câu trong văn bản, hoặc bỏ nhiệm vụ này",
            ))
        _agencies(item, matcher)
        _time(item, plan_year or None)
        _duplicate(item, existing)
        out.append(item)
    return Imported(path, info, plan_year, out)


def _agencies(item: ImportedTask, matcher: AgencyMatcher) -> None:
    for attr, text in (("lead", item.raw.lead_text), ("support", item.raw.support_text)):
        matches = [matcher.match(name) for name in split_agencies(text)]
        setattr(item, attr, matches)
        for m in matches:
            if m.ids or m.group_id is not None:
                continue
            near = "; ".join(f"{ident} ({name}, {score}%)" for ident, name, score in m.suggestions)
            if m.group:
                item.problems.append(Problem(
                    "group",
                    f"“{m.written}” là một nhóm cơ quan chung, chưa có trong danh bạ; "
                    "thêm nhóm vào groups: (id, name, aliases có cách viết này, members: "
                    "các cơ quan của nhóm) rồi dùng id nhóm, hoặc bỏ"
                    + (f"; gần nhất: {near}" if near else ""),
                ))
            else:
                item.problems.append(Problem(
                    "unknown_agency",
                    f"“{m.written}” chưa có trong danh bạ cơ quan; "
                    + (f"gần nhất: {near}" if near else "không có tên nào gần giống")
                    + "; chọn id đúng, hoặc thêm cơ quan vào agencies:",
                ))
    if not item.lead:
        item.problems.append(Problem(
            "no_lead",
            "văn bản không ghi cơ quan chủ trì cho nhiệm vụ này; ghi lead, hoặc để lead: [] "
            "để cơ quan điều phối của kế hoạch theo dõi",
        ))


def _time(item: ImportedTask, year: int | None) -> None:
    when = item.raw.when
    if not when:
        item.problems.append(Problem(
            "no_time", "văn bản không ghi thời gian cho nhiệm vụ này; ghi when theo văn bản "
            "hoặc theo khung thời gian chung của kế hoạch",
        ))
        return
    try:
        timing = parse_time(when, year)
    except TimeExprError as exc:
        item.problems.append(Problem("time", f"không đọc được thời gian “{when}”: {exc}"))
        return
    item.timing = describe(timing, year or timing_year(timing))


def timing_year(timing: object) -> int:
    start = getattr(timing, "start", None) or getattr(timing, "end", None)
    return start.year if start is not None else 2000


def _duplicate(item: ImportedTask, existing: list[tuple[str, str, str, str]]) -> None:
    title = fold(item.raw.title)
    for plan_id, task_id, other, origin in existing:
        if abs(len(other) - len(title)) > max(len(title), len(other)) // 4 + 5:
            continue
        if fuzz.ratio(title, other) >= 90:
            item.problems.append(Problem(
                "duplicate",
                f"có vẻ trùng nhiệm vụ {task_id} của kế hoạch {plan_id} ({origin}); bỏ "
                "nhiệm vụ này nếu đúng là một",
            ))
            return
