"""Vietnamese administrative time phrases -> Timing (shared/design/time-expressions.md).

``parse_time`` reads the time column of a plan ("Trước ngày 15/8/2022", "Quý II/2024",
"6 tháng, hằng năm", "Theo Kế hoạch của đoàn cấp cao") the way a Vietnamese civil servant
does, or raises TimeExprError quoting the phrase. It never guesses: a phrase is read by one
rule of the table below, or it is an error.

Pipeline: ``vnwords.normalise`` -> ``_prepare`` (labels, remarks, spelled numbers, can-chi)
-> ``timerules.read``: the first rule of its table that reads the phrase ("trước X",
"từ X đến Y", "6 tháng, hằng năm" ...), else a lone period (``timeperiod``: "Quý II/2024").
Day-first always; years 1900-2100. This module: preparation, error messages, the API.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

from reminderd.core import lunar
from reminderd.core.errors import TimeExprError
from reminderd.core.recurrence import expand
from reminderd.core.timeperiod import LAST_YEAR, Bad, parse_yearly_day, resolve, year_of
from reminderd.core.timerules import read, yearly_rule
from reminderd.core.timing import Kind, Recurrence, Timing
from reminderd.core.vnwords import CAN_CHI_RX, normalise, word_number

__all__ = ["describe", "parse_date", "parse_time", "parse_yearly"]

_FORMS = (
    "15/8/2022", "trước ngày 15/8/2022", "chậm nhất ngày 15/8/2022", "tháng 10/2024",
    "Quý II/2024", "6 tháng đầu năm 2024", "Năm 2022", "từ ngày 01/7 đến ngày 15/7/2025",
    "Từ tháng 2 năm 2022", "Thường xuyên trong năm 2024", "6 tháng, hằng năm",
    "định kỳ 02 năm/lần", "10/3 âm lịch", "Tết Nguyên Đán 2025", "Theo kế hoạch ...",
)  # fmt: skip
HINT_FORMS = "forms that work: " + " | ".join(_FORMS)
_MAX_LENGTH = 300  # a time column entry, not a paragraph

# --- preparing the text --------------------------------------------------------------------

_LEAD = re.compile(r"(?:[-+•*] ?|(?:thời gian|thời hạn)(?: [^:]{1,30})?: ?|dự kiến:? |vào )")
_LABEL_CI = re.compile(
    r"^\s*(?:[-+•*]\s*|(?:thời gian|thời hạn)(?: [^:]{1,30})?\s*:\s*|dự kiến:?\s+)+", re.I
)
# Phrases that give no date: the item is unscheduled, with the phrase as its reason.
_UNSCHEDULED = (
    "theo kế hoạch", "theo chương trình", "theo đề xuất", "theo yêu cầu", "đột xuất",
    "khi có yêu cầu", "khi được yêu cầu", "chưa xác định", "tùy tình hình", "tùy theo tình hình",
)  # fmt: skip
_SPELLED = re.compile(r"(?<![0-9/.-])([0-9]{1,2}) \(([^()0-9]+)\)")  # "06 (sáu)": must agree
# A trailing parenthetical without digits is a remark; final stops are not part of the time.
_TAIL = re.compile(r"(?: ?\([^()0-9]*\)|[ .;,:!]|\./\.)+$")  # remarks in brackets, stops
_TAIL_CHARS = frozenset(") .;,:!")
_OR_ADHOC = re.compile(
    r",? (?:hoặc|và) (?:đột xuất|khi có yêu cầu|khi được yêu cầu|theo yêu cầu|khi cần)\b.*$"
)


def _spelled(m: re.Match[str]) -> str:
    said = word_number(m[2].strip())
    if said is None:
        return m[0]  # not a number: a remark, handled below
    if said != int(m[1]):
        raise Bad(f"{m[0]}: the digits say {int(m[1])} but the words say {said}")
    return m[1]


def _can_chi(s: str) -> str:
    """Check "Giáp Thìn 2024" against the year, then drop the name."""
    m = CAN_CHI_RX.search(s)
    if m is None:
        return s
    name = f"{m['can']} {m['chi']}"
    title = name.title()
    years = [y for y in range(1984, 2044) if lunar.can_chi(y).lower() == name]
    if not m["year"]:
        raise Bad(f"{title} names a year of a 60-year cycle", f"write it: {title} {years[0]}")
    y = year_of(m["year"])
    if lunar.can_chi(y).lower() != name:
        near = years[0] + 60 * round((y - years[0]) / 60)  # the same name 60 years apart
        raise Bad(f"{title} is {near}, not {y} ({y} is {lunar.can_chi(y)})")
    return " ".join((s[: m.start()] + s[m.end("chi") :]).split())


def _prepare(text: str) -> tuple[str, bool]:
    """The phrase the rules read, and whether it is an unscheduled one."""
    if len(text) > _MAX_LENGTH:
        raise Bad(f"longer than {_MAX_LENGTH} characters: not a time phrase", HINT_FORMS)
    s = normalise(text)
    while (lead := _LEAD.match(s)) is not None:  # "Thời gian dự kiến:", "dự kiến", "vào"
        s = s[lead.end() :]
    if s.lstrip("(").startswith(_UNSCHEDULED):
        return s, True
    if "(" in s:
        s = _SPELLED.sub(_spelled, s).replace("(âm lịch)", "âm lịch")
    if s[-1:] in _TAIL_CHARS:
        s = _TAIL.sub("", s)  # "(chưa bao gồm thời gian di chuyển)", a final "."
    if "đột xuất" in s or "yêu cầu" in s or "khi cần" in s:
        s = _TAIL.sub("", _OR_ADHOC.sub("", s))  # "... hoặc đột xuất ...": the dated part
    return _can_chi(s), False


# --- errors --------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\s/.,;:()\-]+")
_WORDS = """ngày tháng năm mùng rằm âm dương lịch âl nhuận giêng chạp quý hoặc và đến tới hết từ
    trước chậm muộn nhất là vào hạn chót cuối nộp trong vòng thời có giá trị hiệu lực kể ký
    kết nhận được làm việc tuần đầu giữa thượng trung hạ nửa thường xuyên liên tục những các
    tiếp theo sau đó giai đoạn hằng định kỳ lần tết nguyên đán tiêu cổ truyền ta thu giỗ tổ
    hùng vương lễ xuân đoan ngọ dịp suốt cả mươi mười mốt lăm nhăm một hai ba bốn tư sáu bảy
    tám chín nay giáp ất bính đinh mậu kỷ canh tân nhâm tý sửu dần mão thìn tỵ mùi thân dậu tuất
    hợi i ii iii iv"""
_VOCAB = frozenset(_WORDS.split())


def _unknown(s: str, year: int | None) -> Bad:
    """Quote the part not understood: what is left around the longest part that reads as a
    time, and the words outside the grammar's vocabulary."""
    unknown = [w for w in _TOKEN.findall(s) if w not in _VOCAB and not w.isdigit()]
    words_note = ", ".join(repr(w) for w in dict.fromkeys(unknown))
    words = s.split(" ")
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    for part, rest in sorted([*splits, *((b, a) for a, b in splits)], key=lambda p: -len(p[0])):
        try:
            if read(part, year, part) is None:
                continue
        except Bad:
            continue
        note = f"; unknown words: {words_note}" if unknown else ""
        return Bad(f"not understood: {rest!r} (only {part!r} reads as a time){note}", HINT_FORMS)
    if unknown:
        return Bad(f"not understood: {words_note}", HINT_FORMS)
    return Bad("these words do not form a time phrase reminderd reads", HINT_FORMS)


# --- public API ----------------------------------------------------------------------------


def parse_time(text: str, year: int | None = None) -> Timing:
    """Read one time phrase; ``year`` is the plan's year for phrases that have none.

    Raises TimeExprError (quoting the phrase, saying what is wrong and what to write).
    """
    return _parse_cached(text, year)


@lru_cache(maxsize=4096)
def _parse_cached(text: str, year: int | None) -> Timing:
    try:
        if year is not None and not 1900 <= year <= LAST_YEAR:
            raise Bad(f"the plan's year {year} is outside 1900-{LAST_YEAR}")
        s, unscheduled = _prepare(text)
        if unscheduled:
            reason = _LABEL_CI.sub("", " ".join(unicodedata.normalize("NFC", text).split()))
            return Timing(Kind.UNSCHEDULED, text, reason=reason.rstrip(". "))
        if not s:
            raise Bad("empty time phrase", HINT_FORMS)
        if s.startswith("kỷ niệm"):
            raise Bad(
                "'kỷ niệm N năm' names an anniversary, not a time",
                "write the dates, e.g. (22/12/1992 - 22/12/2022), or give the occasion since:",
            )
        timing = read(s, year, text)
        if timing is None and s[:1] == "(" and s[-1:] == ")":  # "(15/8)" as copied
            timing = read(s[1:-1], year, text)
        if timing is None:
            raise _unknown(s, year)
        return timing
    except Bad as exc:
        raise TimeExprError(text, exc.reason, exc.hint) from None


_DATE_HINT = "write a full date: 22/12/2017, 2017-12-22 or ngày 22 tháng 12 năm 2017"


def parse_date(text: str) -> date:
    """One full calendar day: "22/12/2017", "2017-12-22", "ngày 22 tháng 12 năm 2017"."""
    try:
        s, _ = _prepare(text)
        d = parse_yearly_day(s)
        if d is None:
            raise Bad("not a calendar day", _DATE_HINT)
        if d.year is None:
            raise Bad("the date has no year", _DATE_HINT)
        return resolve(d, None)
    except Bad as exc:
        raise TimeExprError(text, exc.reason, exc.hint) from None


_YEARLY_HINT = "write the day and month: 22/12, 10/3 âm lịch, rằm tháng Tám, Tết Nguyên Đán"
_EVERY_YEAR = re.compile(r",? hằng năm$")


def parse_yearly(text: str) -> Recurrence:
    """An occasion's yearly date: "22/12", "1/1 âm lịch", "rằm tháng Tám", "Tết Nguyên Đán"."""
    try:
        s, _ = _prepare(text)
        d = parse_yearly_day(_EVERY_YEAR.sub("", s))
        if d is None:
            raise Bad("not a yearly date", _YEARLY_HINT)
        if d.year is not None:
            raise Bad("a yearly date has no year", "write 22/12 and put the first year in since:")
        return yearly_rule(d)
    except Bad as exc:
        raise TimeExprError(text, exc.reason, exc.hint) from None


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _next(timing: Timing, year: int) -> list[str]:
    """The first 5 occurrences on or after 1 January of ``year`` (recurring only)."""
    rule = timing.recurrence
    if timing.kind is not Kind.RECURRING or rule is None:
        return []
    if (rule.day == 0 or rule.interval > 1) and rule.anchor is None:
        return []  # counts from the item's anchor: nothing to show yet
    last = max(year, rule.anchor.year if rule.anchor else year)
    last += 5 * rule.interval + 1 if rule.freq == "yearly" else 1  # room for 5 occurrences
    return [d.isoformat() for d in expand(rule, date(year, 1, 1), date(last, 12, 31))[:5]]


def describe(timing: Timing, year: int) -> dict[str, object]:
    """The ``reminderd when --json`` object: the spec's keys, plus extras only when set."""
    rule = timing.recurrence
    out: dict[str, object] = {
        "kind": str(timing.kind),
        "start": _iso(timing.start),
        "end": _iso(timing.end),
        "rrule": rule.rrule if rule is not None else None,
        "next": _next(timing, year),
        "text": timing.text,
    }
    if timing.nominal is not None:
        out["nominal"] = timing.nominal.isoformat()
    if timing.since is not None:
        out["since"] = timing.since
    if timing.workdays is not None:
        out["workdays"] = timing.workdays
    if timing.relative is not None:
        rel = timing.relative
        out["relative"] = {"amount": rel.amount, "unit": rel.unit, "anchor": rel.anchor}
    if timing.reason is not None:
        out["reason"] = timing.reason
    if rule is not None and rule.lunar:
        out["lunar"] = True
    return out

