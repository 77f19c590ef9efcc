"""The phrases of the time grammar: a table of rules built around a period.

Each rule is a regex over prepared text (``timeexpr._prepare``) and a small function that
turns its match into a Timing, or returns None to let later rules try ("từ X đến Y" before
"từ X"). ``read`` tries them in order, then a lone period ("Quý II/2024", "15/8").
The periods themselves ("15/8/2022", "tháng 7", "quý II, III") are in ``timeperiod``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from reminderd.core.timeperiod import (
    COUNT,
    DAYNUM,
    Bad,
    Day,
    Period,
    Span,
    as_span,
    check_day,
    context_year,
    parse_day,
    parse_period,
    parse_yearly_day,
    resolve,
    year_of,
)
from reminderd.core.timing import Kind, Recurrence, Relative, Timing
from reminderd.core.vnwords import days_in_month, number

__all__ = ["read", "yearly_rule"]

Rule = Callable[[re.Match[str], int | None, str], Timing | None]
_RULES: list[tuple[re.Pattern[str], Rule]] = []
_UNIT = r"(?P<u>ngày làm việc|ngày|tuần|tháng|năm)"
_UNITS = {
    "ngày làm việc": "working_day", "ngày": "day", "tuần": "day", "tháng": "month", "năm": "year",
}  # fmt: skip
_ANCHORS = {"ký kết": "ký", "nhận được": "nhận", "có hiệu lực": "hiệu lực"}


def _rule(pattern: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        _RULES.append((re.compile(pattern), fn))
        return fn

    return register


def _relative(n: str, unit: str, anchor: str, text: str, year: int | None = None) -> Timing:
    """A period from an anchor: counted when the anchor is a written date ("kể từ ngày
    01/7/2025"), else unscheduled with the reason (the item must say when it starts)."""
    amount = number(n) * (7 if unit == "tuần" else 1)  # a week is 7 days
    if amount < 1:
        raise Bad("a period must be at least one day, month or year long")
    written = anchor.removeprefix("ngày ")
    day = parse_day(written, year) if written[:1].isdigit() else None
    start = resolve(day, year) if day is not None else None
    rel = Relative(amount, _UNITS[unit], _ANCHORS.get(anchor, anchor), start)  # as written
    if start is not None:
        return Timing(Kind.DEADLINE, text, relative=rel)
    what = f"'{anchor}'" if anchor else "a day the phrase does not write"
    reason = f"counted from {what}, which has no date here: write the start date"
    return Timing(Kind.UNSCHEDULED, text, relative=rel, reason=reason)


@_rule(
    rf"(?:có hiệu lực )?(?:kể )?từ ngày (?P<a>[^,]+?),? (?:và )?có giá trị "
    rf"(?:trong vòng |trong )?(?P<n>{COUNT}) {_UNIT}"
)
def _valid_from(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"có hiệu lực kể từ ngày ký và có giá trị trong vòng 5 năm" (as seed 004 writes it)."""
    return _relative(m["n"], m["u"], m["a"], text, year)


@_rule(
    rf"(?:(?P<v>có giá trị|có hiệu lực)(?: thi hành)? )?"
    rf"(?P<w>(?:trong vòng|trong thời hạn|trong|sau) )?"
    rf"(?P<n>{COUNT}) {_UNIT}(?: (?:kể )?từ (?:ngày )?(?P<a>.+))?"
)
def _within_of(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"trong vòng 15 ngày kể từ ngày ký"; "có giá trị trong vòng 5 năm" counts from the
    start of validity ("hiệu lực"); a bare "trong vòng 3 tháng" from the item's anchor ("")."""
    if not (m["v"] or m["w"] or m["a"]):
        return None  # "15 ngày" alone says nothing about when
    return _relative(m["n"], m["u"], m["a"] or ("hiệu lực" if m["v"] else ""), text, year)


def _recurring(text: str, rule: Recurrence, since: int | None = None) -> Timing:
    return Timing(Kind.RECURRING, text, recurrence=rule, since=since)


def _every_months(n: int, text: str) -> Timing:
    """Reports every n months fall at the ends of the calendar periods (30/06, 31/12)."""
    if n == 1:
        return _recurring(text, Recurrence("monthly", day=-1))
    if n not in (2, 3, 4, 6, 12):
        raise Bad(f"{n} months does not divide the year into equal periods")
    return _recurring(text, Recurrence("yearly", day=-1, months=tuple(range(n, 13, n))))


@_rule(
    rf"(?:định kỳ )?(?:hằng (?P<p>năm|quý|tháng|tuần|ngày)|(?P<n>{COUNT}) (?P<u>tháng|năm))"
)
def _every(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """A cadence with no day ("hằng năm", "định kỳ 6 tháng"): never a day made up (it used
    to become 31/12 or the month's end); unscheduled, with what to write."""
    if m["p"] in ("tuần", "ngày"):
        raise Bad(f"'hằng {m['p']}' repeats too often for reminders", "use hằng tháng or hằng quý")
    if m["n"] is not None and not m[0].startswith("định kỳ"):
        return None  # "6 tháng" alone is a length, read by other rules or refused
    reason = (f"'{m[0]}' says how often, not on which day: write the day, e.g. "
              "'trước ngày 15/12 hằng năm' or 'ngày 20 hằng tháng'")
    return Timing(Kind.UNSCHEDULED, text, reason=reason)


# A repeating due day: "trước ngày 20 hằng tháng" is exclusive (the 19th), "chậm nhất ngày
# 15/12 hằng năm" inclusive, as for one-off deadlines.
_DUE = (
    r"(?:(?P<before>(?:chậm nhất |muộn nhất )?trước )"
    r"|(?:chậm nhất|muộn nhất|hạn chót|hạn|đến hết|đến)(?: là| vào)* )?"
)


@_rule(rf"{_DUE}ngày (?:mùng )?(?P<d>{DAYNUM}),? hằng tháng")
def _monthly_on(m: re.Match[str], year: int | None, text: str) -> Timing:
    return _recurring(text, Recurrence("monthly", day=_due_day(number(m["d"]), bool(m["before"]))))


@_rule(r"(?:vào )?(?:ngày )?(?:cuối (?:mỗi |cùng của )?tháng,? hằng tháng|cuối mỗi tháng)")
def _month_ends(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"cuối tháng, hằng tháng": the last day of every month (Civil Code Art. 146)."""
    return _recurring(text, Recurrence("monthly", day=-1))


@_rule(rf"(?:định kỳ )?(?P<n>{COUNT}) tháng(?:,| và) hằng năm")
def _reports(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"6 tháng, hằng năm": the six-month and the yearly report, at 30/06 and 31/12."""
    return _every_months(number(m["n"]), text)


@_rule(rf"(?:định kỳ )?(?P<n>{COUNT}) (?P<u>tháng|năm)(?:/| (?:một|1) )lần")
def _periodic(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"định kỳ 02 năm/lần": every n years from the anchor the item supplies (day 0).
    "định kỳ 6 tháng/lần" gives no day: unscheduled, as "định kỳ 6 tháng" (it used to become
    30/06 and 31/12, a made-up day)."""
    n = number(m["n"])
    if m["u"] == "tháng":
        if 12 % n:
            raise Bad(f"{n} months does not divide the year into equal periods")
        reason = (f"'{m[0]}' says how often, not on which day: write the day, e.g. "
                  "'trước ngày 15/6 và 15/12 hằng năm'")
        return Timing(Kind.UNSCHEDULED, text, reason=reason)
    if not 1 <= n <= 100:
        raise Bad(f"an interval of {n} years is not a period")  # INTERVAL=0 hangs dateutil
    return _recurring(text, Recurrence("yearly", day=0, interval=n))


_LIST = re.compile(r", (?:và )?| và ")
_FILLER = re.compile(r"^(?:(?:vào |nhân |trong )?dịp |vào |trong )")
# A period of every year, as the months it covers: "tháng 3", "quý I", "6 tháng đầu năm".
_YEARLY_PERIOD = re.compile(
    r"(?:trong |vào )?(?:(?:tháng (?P<m>[0-9]{1,2}))|quý (?P<q>[ivx]+|[1-4])"
    r"|(?P<h>6|sáu) tháng (?P<w>đầu|cuối) năm)"
)
_ROMAN_Q = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}


_ANY_YEAR = 2001  # a common year: a period read in it says which months and days it covers


def _yearly_part(p: str) -> tuple[int, int, int, int] | None:
    """(first month, first day, last month, last day) of one part of a yearly list: a day
    ("15/6"), a month, a quarter, a week of a month, a part of a quarter. Day -1 is a
    month's last day. Lunar days and parts with their own year are not yearly parts."""
    d = parse_day(p)
    if d is not None:
        if d.lunar or d.year is not None:
            return None
        return d.month, d.day, d.month, d.day
    if re.search(r"[0-9]{4}", p):
        return None
    sp, other = _span(p, _ANY_YEAR), _span(p, _ANY_YEAR + 2)
    if sp is None or other is None or sp.start.year != _ANY_YEAR or sp.end.year != _ANY_YEAR:
        return None
    if (sp.start.month, sp.start.day, sp.end.month, sp.end.day) != (
        other.start.month, other.start.day, other.end.month, other.end.day
    ):
        return None  # a lunar day moves in the solar year: not one solar day every year

    def day(x: date) -> int:
        return -1 if (x + timedelta(1)).month != x.month else x.day

    return sp.start.month, sp.start.day, sp.end.month, day(sp.end)


def _yearly_list(p: str, before: bool, text: str) -> Timing | None:
    """"15/6 và 15/12", "tháng 3", "Quý I", "tháng 6 và tháng 12" of every year: each
    part's last day (its first day, less one, after "trước")."""
    parts = [_yearly_part(x) for x in _LIST.split(p)]
    if not parts or any(x is None for x in parts):
        return None
    pairs: list[tuple[int, int]] = []
    for first, first_day, last, last_day in (x for x in parts if x is not None):
        if not before:
            pairs.append((last, last_day))
        elif first_day > 1:
            pairs.append((first, first_day - 1))
        else:  # before a month's first day: the month before's last day
            pairs.append((first - 1 or 12, -1))
    return _from_pairs(pairs, text)


def _from_pairs(pairs: list[tuple[int, int]], text: str) -> Timing:
    pairs.sort(key=lambda md: (md[0], md[1] if md[1] > 0 else 32))
    if len(set(pairs)) != len(pairs):
        raise Bad("the same day is listed twice")
    days = {d for _, d in pairs}
    if len(days) == 1:
        return _recurring(text, Recurrence("yearly", days.pop(), tuple(m for m, _ in pairs)))
    return _recurring(text, Recurrence("yearly", pairs[0][1], dates=tuple(pairs)))


@_rule(rf"{_DUE}(?P<p>.+?),? hằng năm")
def _yearly_on(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"15/8 hằng năm", "10/3 âm lịch hằng năm" (a written year becomes the anchor);
    "15/6 và 15/12 hằng năm", "trong tháng 3 hằng năm", "Quý I hằng năm" (windows: their
    last day is the deadline)."""
    p = _FILLER.sub("", m["p"])  # "hằng năm vào dịp Tết Nguyên đán"
    d = parse_yearly_day(p)
    if d is None or (d.year is None and not d.lunar and _LIST.search(p)):
        listed = _yearly_list(p, bool(m["before"]), text)
        if listed is not None:
            return listed
        return None  # several clauses, or words around the time: read by timeexpr
    anchor = resolve(d, None) if d.year is not None else None
    if not m["before"]:
        return _recurring(text, yearly_rule(d, anchor))
    before = anchor - timedelta(1) if anchor else None
    if d.day > 1:
        return _recurring(text, yearly_rule(Day(d.day - 1, d.month, None, d.lunar, d.leap), before))
    if d.lunar:  # a leap month may come before: not guessed
        raise Bad("the day before a lunar month's first day is not fixed", "write that day itself")
    return _recurring(text, Recurrence("yearly", -1, (d.month - 1 or 12,), anchor=before))


# --- reporting periods (Nghị định 09/2019/NĐ-CP, Art. 12; docs/cach-ghi-thoi-gian.md) -------
# A due day named by its place in the reporting cycle: "ngày 20 của tháng cuối quý" (the
# quarter's last month), "ngày 15 của tháng sau" (the month after the reporting month, so
# every month), "ngày 15/12 của năm báo cáo".
_QUARTER_MONTHS = {
    "đầu": (1, 4, 7, 10), "nhất": (1, 4, 7, 10), "1": (1, 4, 7, 10), "tiên": (1, 4, 7, 10),
    "giữa": (2, 5, 8, 11), "hai": (2, 5, 8, 11), "2": (2, 5, 8, 11),
    "cuối": (3, 6, 9, 12), "ba": (3, 6, 9, 12), "3": (3, 6, 9, 12), "cùng": (3, 6, 9, 12),
}  # fmt: skip
_IN_QUARTER = re.compile(
    r"(?:của )?tháng (?P<w>đầu tiên|đầu|giữa|cuối cùng|cuối|thứ (?:nhất|hai|ba|1|2|3)) "
    r"(?:(?:của )?(?:mỗi )?quý|hằng quý)(?: sau| báo cáo| kỳ báo cáo)?(?: hằng quý)?"
)
_EVERY_MONTH = re.compile(r"(?:của )?tháng (?:báo cáo|sau)(?: hằng tháng)?")
_OF_YEAR = re.compile(r"(?:của |cùng )?năm(?: báo cáo| đó| sau| kỳ báo cáo)?(?: hằng năm)?")


def _cycle_day(day: int, tail: str) -> Recurrence | None:
    """The rule for "ngày <day> <tail>" when the tail names a place in the reporting cycle."""
    if _IN_QUARTER.fullmatch(tail) is None:
        tail = tail.removesuffix(" hằng quý").removesuffix(" hằng tháng").removesuffix(" hằng năm")
    if (m := _IN_QUARTER.fullmatch(tail)) is not None:
        months = _QUARTER_MONTHS[m["w"].split()[-1]]
        return Recurrence("yearly", day, months)
    if _EVERY_MONTH.fullmatch(tail) is not None:
        return Recurrence("monthly", day)
    return None


def _due_day(day: int, before: bool, months: tuple[int, ...] = ()) -> int:
    # Decision: days 29-31 are missing from some months and RFC 5545 skips those months
    # silently; ask for the last day ("hằng tháng") or a day that every month has.
    shortest = min((days_in_month(_ANY_YEAR, m) for m in months), default=28)
    if not 1 <= day <= shortest:
        raise Bad(f"day {day} is missing from some months",
                  "use 1-28, or 'cuối tháng, hằng tháng' (the month's last day)")
    return (day - 1 or -1) if before else day


@_rule(rf"{_DUE}ngày (?:mùng )?(?P<d>{DAYNUM}|cuối cùng|cuối) (?P<tail>(?:của )?tháng .+)")
def _reporting_day(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"chậm nhất ngày 20 của tháng cuối quý" (3, 6, 9, 12), "trước ngày 15 của tháng sau"
    (every month): the due day of a periodic report."""
    last = m["d"].startswith("cuối")
    rule = _cycle_day(0 if last else number(m["d"]), m["tail"])
    if rule is None:
        return None
    if last:  # "ngày cuối cùng của tháng cuối quý": the month's last day
        return None if m["before"] else _recurring(text, replace(rule, day=-1))
    day = _due_day(rule.day, bool(m["before"]), rule.months)
    if day == -1 and rule.freq == "yearly":  # before the 1st: the month before's last day
        rule = Recurrence("yearly", -1, tuple(sorted((x - 1 or 12) for x in rule.months)))
        return _recurring(text, rule)
    return _recurring(text, Recurrence(rule.freq, day, rule.months))


@_rule(
    rf"{_DUE}(?:ngày )?(?P<d>[0-9]{{1,2}})(?:[/.-]| tháng )(?P<m>[0-9]{{1,2}}) (?P<tail>.+)"
)
def _reporting_year_day(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"chậm nhất ngày 15/12 của năm báo cáo", "trước ngày 31/01 của năm liền kề": yearly."""
    if _OF_YEAR.fullmatch(m["tail"]) is None:
        return None
    d = parse_day(f"{m['d']}/{m['m']}")
    if d is None:
        return None
    return _yearly_list(f"{d.day}/{d.month}", bool(m["before"]), text)


_CYCLE_START = re.compile(
    r"(?:đầu )?ngày (?:[0-9]{1,2}|đầu tiên)(?:[/.-][0-9]{1,2})?"
    r"(?: (?:của|tháng|năm|quý|[0-9]{1,2}|đầu|tiên|trước|báo|cáo|kỳ|đó|sau|liền|kề|thuộc))*"
)


@_rule(
    r"(?:(?:thời gian |thời điểm )?(?:lấy |chốt )?số liệu(?: báo cáo)?(?: được)?(?: tính)?:? )?"
    r"từ (?P<a>(?:đầu )?ngày .+?) đến (?:hết )?(?P<b>(?:ngày )?(?:[0-9]|cuối cùng).+)"
)
def _period_to_due(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"từ ngày 01/01 đến ngày 30/6 của năm báo cáo", "từ ngày 15 tháng trước đến ngày 14
    của tháng báo cáo": a period of every reporting cycle, due on its last day."""
    if _CYCLE_START.fullmatch(m["a"]) is None:
        return None
    b = m["b"] if m["b"].startswith("ngày") else f"ngày {m['b']}"
    b = b.replace(" năm dương lịch", " năm báo cáo")  # "đến ngày 31/12 năm dương lịch"
    timing = read(f"chậm nhất {b}", year, text)
    if timing is None or timing.kind is not Kind.RECURRING:
        return None
    return replace(timing, text=text)


# Art. 12 cut-off of the data: "số liệu tính từ ngày 15 tháng trước đến ngày 14 của tháng
# báo cáo" is due, every period, on its last day.
@_rule(
    r"(?:(?:thời gian |thời điểm )?(?:lấy |chốt )?số liệu(?: báo cáo)?(?: được)?(?: tính)?:? "
    r"|(?:thời gian |thời điểm )?chốt số liệu(?: báo cáo)?:? )?"
    r"(?:tính )?từ ngày (?P<a>[0-9]{1,2})(?:[/.-](?P<am>[0-9]{1,2})| tháng (?P<am2>[0-9]{1,2}))?"
    r" (?:của )?(?:tháng|năm) trước(?: đó)?(?: (?:của )?kỳ báo cáo| liền kề)?"
    r" đến (?:hết )?ngày (?P<b>[0-9]{1,2})(?:[/.-](?P<bm>[0-9]{1,2})| tháng (?P<bm2>[0-9]{1,2}))?"
    r" (?P<tail>.+)"
)
def _cutoff(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    end_month = m["bm"] or m["bm2"]
    if end_month:  # "đến ngày 14/12 của năm báo cáo": yearly
        if _OF_YEAR.fullmatch(m["tail"]) is None and m["tail"] != "kỳ báo cáo":
            return None
        return _yearly_list(f"{m['b']}/{end_month}", False, text)
    rule = _cycle_day(number(m["b"]), m["tail"])
    if rule is None:
        return None
    return _recurring(text, Recurrence(rule.freq, _due_day(rule.day, False, rule.months),
                                       rule.months))


def combine_yearly(parts: list[Timing], text: str, *, either: bool = False) -> Timing | None:
    """Several recurring parts as one yearly rule on all their days (a monthly part gives
    every month). ``either`` ("tuần cuối tháng 5 hoặc ngày 01 tháng 6"): alternatives a few
    days apart are one due day, the later; alternatives further apart are refused. None when
    a part is lunar, anchored or spaced (those cannot be listed as days of every year)."""
    pairs: list[tuple[int, int]] = []
    for t in parts:
        r = t.recurrence
        if r is None or r.lunar or r.anchor or r.interval != 1 or r.day == 0 or r.until:
            return None
        if r.dates:
            pairs += r.dates
        elif r.freq == "monthly":
            pairs += [(m, r.day) for m in (r.months or range(1, 13))]
        else:
            pairs += [(m, r.day) for m in r.months]
    unique = sorted(set(pairs), key=lambda md: (md[0], md[1] if md[1] > 0 else 32))
    if either:
        days = [date(_ANY_YEAR, m, d if d > 0 else days_in_month(_ANY_YEAR, m)) for m, d in unique]
        if len(days) != 2 or (days[1] - days[0]).days > 7:
            raise Bad("the phrase gives alternative dates far apart",
                      "write the one date that applies, or a range: từ ngày X đến ngày Y")
        unique = unique[-1:]
    return _from_pairs(unique, text)


def yearly_rule(d: Day, anchor: date | None = None) -> Recurrence:
    return Recurrence("yearly", d.day, (d.month,), lunar=d.lunar, leap=d.leap, anchor=anchor)


_DMY = r"[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}"


def _founding(text: str) -> Day | None:
    """The first date of an anniversary pair: its year may be before 1900 (01/5/1886)."""
    head, _, y = text.rpartition(text[-5])
    d = parse_day(head)
    return None if d is None else Day(d.day, d.month, int(y))


@_rule(
    rf"(?:(?P<pre>[0-9]{{1,2}}[/.-][0-9]{{1,2}}) )?"
    rf"(?P<o>\()?(?:ngày )?(?P<a>{_DMY})-(?:ngày )?(?P<b>{_DMY})(?(o)\))"
)
def _anniversary(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"(22/12/1992 - 22/12/2022)": yearly on 22/12 since 1992 (a founding year before 1900
    is kept). Decision: without brackets a pair with the same day and month is read the same
    way; any other pair is a range. "30/4 (30/4/1975 - 30/4/2025)": the day, then the pair."""
    a, b = _founding(m["a"]), parse_day(m["b"])
    same = a and b and a.year and b.year and (a.day, a.month) == (b.day, b.month)
    if same and a and b and a.year and b.year and b.year > a.year:
        if m["pre"] and parse_day(m["pre"]) != Day(a.day, a.month, None):
            raise Bad(f"{m['pre']} is not the day of the pair {m['a']} - {m['b']}")
        anchor = date(a.year, a.month, a.day)
        return _recurring(text, yearly_rule(Day(a.day, a.month, None), anchor), since=a.year)
    if m["o"] or m["pre"]:
        raise Bad("an anniversary pair needs the same day and month, the later year second")
    return None


@_rule(r"\((?P<a>[0-9]{4})-(?P<b>[0-9]{4})\)")
def _anniversary_years(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"(1969 - 2024)" in a plan for 2024: the anniversary year, counted since 1969."""
    a, b = year_of(m["a"]), year_of(m["b"])
    if b <= a:
        raise Bad(f"an anniversary pair needs the later year second, not {a} - {b}")
    return Timing(Kind.WINDOW, text, start=date(b, 1, 1), end=date(b, 12, 31), since=a)


@_rule(
    r"(?:hằng (?:năm|quý|tháng),? )?(?:thường xuyên(?:,? liên tục)?|liên tục)"
    r"(?:,? hằng (?:năm|quý|tháng)| (?:trong|suốt) (?P<p>.+))?"
)
def _always(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """Continuous work over the period written, else the plan's year, else open."""
    if m["p"] is None:
        if year is None:
            return Timing(Kind.ONGOING, text)
        return Timing(Kind.ONGOING, text, start=date(year, 1, 1), end=date(year, 12, 31))
    sp = _span(m["p"], year)
    return None if sp is None else Timing(Kind.ONGOING, text, start=sp.start, end=sp.end)


@_rule(r"(?P<p>.+?)(?:,? và|,) (?:những|các) năm (?:tiếp theo|sau đó|sau|tiếp)")
def _onwards(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    p = parse_period(m["p"], year)
    return None if p is None else Timing(Kind.ONGOING, text, start=as_span(p, year).start)


@_rule(r"(?:từ |giai đoạn )?(?P<a>.+?) (?:đến|tới) (?:hết )?(?P<b>.+)")
def _from_to(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    if m["b"] == "nay":  # "từ ngày 22/12/2017 đến nay": from then on
        p = parse_period(m["a"], year)
        return None if p is None else Timing(Kind.ONGOING, text, start=as_span(p, year).start)
    sp = _join(m["a"], m["b"], year, same_unit=False)
    return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


@_rule(r"giai đoạn (?P<p>.+)")
def _stage(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    sp = _span(m["p"], year)
    return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


@_rule(r"từ (?P<p>.+)")
def _from(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"Từ tháng 2 năm 2022": ongoing from its start; "từ 01/7-15/7/2025" is a range."""
    p = parse_period(m["p"], year)
    if p is not None:
        return Timing(Kind.ONGOING, text, start=as_span(p, year).start)
    sp = _dash_range(m["p"], year)
    return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


@_rule(r"(?:chậm nhất |muộn nhất )?trước (?P<p>.+)")
def _before(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"trước ngày X" is exclusive: the last day is X - 1, X stays as nominal."""
    p = parse_period(m["p"], year)
    if p is None:
        return None
    first = as_span(p, year).start
    return Timing(Kind.DEADLINE, text, end=first - timedelta(1), nominal=first)


@_rule(
    r"(?:chậm nhất|muộn nhất|hạn chót|hạn cuối|hạn nộp|hạn|đến hết|đến"
    r"|không (?:muộn|chậm|trễ) hơn(?: ngày)?)"
    r"(?: là| vào| đến hết| đến)* (?P<p>.+)"
)
def _by(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"chậm nhất (là/vào) ngày X", "đến hết ngày X", "hạn chót X": X itself is allowed."""
    p = parse_period(m["p"], year)
    if p is None:
        return None
    last = as_span(p, year).end
    return Timing(Kind.DEADLINE, text, end=last, nominal=last)


@_rule(rf"(?P<n>{COUNT}) ngày(?P<wd> làm việc)? (?:trong|vào) (?P<p>.+)")
def _days_within(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"05 ngày làm việc trong nửa cuối tháng 7/2026": the window is the period (its end
    is the deadline); the duration is kept as ``workdays`` (plain "ngày": not kept)."""
    sp = _span(m["p"], year)
    if sp is None:
        return None
    n = number(m["n"])
    if not 1 <= n <= (sp.end - sp.start).days + 1:
        raise Bad(f"{n} days do not fit in {sp.start:%d/%m/%Y}-{sp.end:%d/%m/%Y}")
    workdays = n if m["wd"] else None
    return Timing(Kind.WINDOW, text, start=sp.start, end=sp.end, workdays=workdays)


@_rule(
    rf"(?:trong |vào )?(?:các |những )?ngày (?P<days>{DAYNUM}(?:(?:, | và |-){DAYNUM})*)"
    rf"(?:, | và |-)(?P<last>{DAYNUM}[/.-].+|{DAYNUM} tháng .+)"
)
def _day_list(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"trong các ngày 10, 11/9/2026", "ngày 24, 25 và 26/3": consecutive days are a
    window; days apart are separate dates, which one item cannot hold (refused)."""
    last = parse_period(m["last"], year)
    if not isinstance(last, Day):
        return None
    days = [number(x) for x in re.split(r", | và |-", m["days"])] + [last.day]
    if "-" in m[0] and len(days) > 2:
        return None
    for d in days:
        check_day(d, last.month, last.year if last.year is not None else year, last.lunar)
    end = resolve(last, year)
    start = resolve(Day(days[0], last.month, last.year, last.lunar, last.leap), year)
    if "-" not in m[0] and days != list(range(days[0], days[0] + len(days))):
        raise Bad(
            f"the days {', '.join(map(str, days))} are not consecutive",
            "give each day its own item, or write the range: từ ngày X đến ngày Y",
        )
    if end < start:
        raise Bad(f"the range ends ({end:%d/%m/%Y}) before it starts ({start:%d/%m/%Y})")
    return Timing(Kind.WINDOW, text, start=start, end=end)


@_rule(r"(?:trong |suốt )?cả năm|suốt năm|trong năm")
def _plan_year(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"Cả năm", "Trong năm": the plan's year."""
    if year is None:
        raise Bad(f"'{m[0]}' needs the plan's year", "write the year: cả năm 2025")
    return Timing(Kind.WINDOW, text, start=date(year, 1, 1), end=date(year, 12, 31))


_EACH = {"quý": (3, 6, 9, 12), "năm": (12,)}


@_rule(r"(?:vào )?(?:(?P<p>đầu|cuối) |(?P<m>tháng (?:đầu|cuối)) (?:của )?)(?:mỗi|từng|các) "
       r"(?P<u>quý|năm)")
def _each_period(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"cuối mỗi quý" 31/03, 30/06 …; "đầu mỗi quý" 01/01, 01/04 …; "tháng cuối của mỗi
    quý" that month (its last day is the deadline); "cuối mỗi năm" 31/12 (Art. 146)."""
    months = _EACH[m["u"]]
    if m["p"] == "đầu" or (m["m"] or "").endswith("đầu"):
        first = tuple(x - (2 if m["u"] == "quý" else 11) for x in months)
        day = 1 if m["p"] else -1
        return _recurring(text, Recurrence("yearly", day, first))
    return _recurring(text, Recurrence("yearly", -1, months))


@_rule(r"(?:từ )?(?P<p>.+?),? (?:trở đi|trở về sau|về sau)")
def _onwards_from(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"từ tháng 6/2025 trở đi": ongoing from the period's start."""
    p = parse_period(m["p"], year)
    return None if p is None else Timing(Kind.ONGOING, text, start=as_span(p, year).start)


@_rule(r"từ (?:nay|bây giờ|thời điểm này) (?:đến|tới) (?:hết )?(?P<p>.+)")
def _until(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"Từ nay đến năm 2030": due by the period's end (as "đến năm 2030")."""
    p = parse_period(m["p"], year)
    if p is None:
        return None
    last = as_span(p, year).end
    return Timing(Kind.DEADLINE, text, end=last, nominal=last)


_THEME_STOP = re.compile(r"\b(?:học|đầu|giữa|cuối|sau|trước|tới|nay|báo cáo|liền kề)\b")


@_rule(r"năm (?P<theme>[^0-9()]+?),? (?:năm |\((?P<since>[0-9]{4})-)?(?P<y>[0-9]{4})(?(since)\))")
def _themed_year(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"Năm Đoàn kết hữu nghị Việt Nam - Lào 2022" is the year 2022; the theme is set aside
    (and reported). Not a school year ("năm học 2025") nor a relative year."""
    if _THEME_STOP.search(m["theme"]) or len(m["theme"].split()) < 2:
        return None
    y = year_of(m["y"])
    since = int(m["since"]) if m["since"] else None
    return Timing(Kind.WINDOW, text, start=date(y, 1, 1), end=date(y, 12, 31), since=since,
                  ignored=(f"năm {m['theme']}",))


# --- ranges and lone periods ---------------------------------------------------------------


def _join(a_text: str, b_text: str, year: int | None, *, same_unit: bool) -> Span | None:
    """A range: a missing year on the first part takes the second's, then the plan's."""
    b = parse_period(b_text, year)
    if b is None:
        return None
    ctx = context_year(b, year)
    a = parse_period(a_text, ctx)
    if a is None and isinstance(b, Day) and (bare := _BARE_DAY.fullmatch(a_text)) is not None:
        a = Day(number(bare["d"]), b.month, b.year, b.lunar, b.leap)  # "từ ngày 24 đến 26/3"
        check_day(a.day, a.month, a.year, a.lunar)
    if a is None:
        return None
    sa, sb = as_span(a, ctx), as_span(b, year)
    if same_unit and sa.unit != sb.unit:  # "15/8-2022" is no range
        return None
    if sb.end < sa.start:
        raise Bad(f"the range ends ({sb.end:%d/%m/%Y}) before it starts ({sa.start:%d/%m/%Y})")
    return Span(sa.start, sb.end, "range")


def _dash_range(s: str, year: int | None) -> Span | None:
    """"01/7/2025-15/7/2025", "2025-2026": the first dash that splits two like periods."""
    error: Bad | None = None
    for i, c in enumerate(s):
        if c == "-":
            a, b = s[:i], s[i + 1 :]
            if a.startswith("tháng ") and b[:1].isdigit() and "/" not in b.split(" ")[0]:
                b = f"tháng {b}"  # "tháng 3-4 năm 2025": the second month shares the word
            try:
                sp = _join(a, b, year, same_unit=True)
            except Bad as exc:
                error = error or exc
                continue
            if sp is not None:
                return sp
    if error is not None:
        raise error
    return None


def _span(s: str, year: int | None) -> Span | None:
    """A period or a range of periods ("năm 2024", "giai đoạn 2026-2030")."""
    if s.startswith("giai đoạn "):
        s = s[len("giai đoạn ") :]
    m = _RANGE_RX.fullmatch(s)
    if m is not None and (sp := _join(m["a"], m["b"], year, same_unit=False)) is not None:
        return sp
    p = parse_period(s, year)
    return as_span(p, year) if p is not None else _dash_range(s, year)


_BARE_DAY = re.compile(rf"(?:từ )?(?:ngày )?(?:mùng )?(?P<d>{DAYNUM})")
_RANGE_RX = re.compile(r"(?:từ )?(?P<a>.+?) (?:đến|tới) (?:hết )?(?P<b>.+)")


def _alone(s: str, year: int | None, text: str) -> Timing | None:
    p: Period | None = parse_period(s, year)
    if isinstance(p, Day) and p.year is None and year is None:
        # "15/8" with no plan year: an occasion's date, every year.
        return _recurring(text, yearly_rule(p))
    if p is None:
        sp = _dash_range(s, year)
        return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)
    sp = as_span(p, year)
    if sp.point:  # a full date alone is a deadline on that day
        return Timing(Kind.DEADLINE, text, end=sp.end, nominal=sp.end)
    return Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


def read(s: str, year: int | None, text: str) -> Timing | None:
    """The Timing of prepared text ``s`` by the first rule that reads it, else None."""
    for rx, rule in _RULES:
        m = rx.fullmatch(s)
        if m is not None and (timing := rule(m, year, text)) is not None:
            return timing
    return _alone(s, year, text)
