"""The pieces the time rules are built with: the rule table and ``read``, ranges of periods,
and yearly rules made of several days.

A rule is a regex over prepared text (``timeprep``) and a small function that turns its match
into a Timing, or returns None to let later rules try. Rules register with ``@rule`` in the
order their modules are imported: the reporting-cycle rules (``timecycles``) first, then the
general ones (``timerules``). ``read`` tries them in order, then a lone period ("Quý II/2024",
"15/8"). The periods themselves ("15/8/2022", "tháng 7", "quý II, III") are in ``timeperiod``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from reminderd.core.timeperiod import (
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
)
from reminderd.core.timing import Kind, Recurrence, Timing
from reminderd.core.vnwords import days_in_month, number

__all__ = [
    "ANY_YEAR", "BARE_DAY", "LIST", "Rule", "combine_yearly", "dash_range", "due_day",
    "from_pairs", "join", "read", "recurring", "rule", "span", "yearly_list", "yearly_rule",
]  # fmt: skip

Rule = Callable[[re.Match[str], int | None, str], Timing | None]


_RULES: list[tuple[re.Pattern[str], re.Pattern[str] | None, Rule]] = []


def rule(pattern: str, *needs: str) -> Callable[[Rule], Rule]:
    """Register a rule; ``needs``: words one of which the text must hold for the rule to be
    tried at all (a cheap test before the regex, on the hot path of loading plans)."""

    def register(fn: Rule) -> Rule:
        gate = re.compile("|".join(map(re.escape, needs))) if needs else None
        _RULES.append((re.compile(pattern), gate, fn))
        return fn

    return register


def recurring(text: str, rule: Recurrence, since: int | None = None) -> Timing:
    return Timing(Kind.RECURRING, text, recurrence=rule, since=since)


def yearly_rule(d: Day, anchor: date | None = None) -> Recurrence:
    return Recurrence("yearly", d.day, (d.month,), lunar=d.lunar, leap=d.leap, anchor=anchor)


LIST = re.compile(r", (?:và )?| và ")


ANY_YEAR = 2001  # a common year: a period read in it says which months and days it covers


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
    sp, other = span(p, ANY_YEAR), span(p, ANY_YEAR + 2)
    if sp is None or other is None or sp.start.year != ANY_YEAR or sp.end.year != ANY_YEAR:
        return None
    if (sp.start.month, sp.start.day, sp.end.month, sp.end.day) != (
        other.start.month, other.start.day, other.end.month, other.end.day
    ):
        return None  # a lunar day moves in the solar year: not one solar day every year

    def day(x: date) -> int:
        return -1 if (x + timedelta(1)).month != x.month else x.day

    return sp.start.month, sp.start.day, sp.end.month, day(sp.end)


def yearly_list(p: str, before: bool, text: str) -> Timing | None:
    """"15/6 và 15/12", "tháng 3", "Quý I", "tháng 6 và tháng 12" of every year: each
    part's last day (its first day, less one, after "trước")."""
    parts = [_yearly_part(x) for x in LIST.split(p)]
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
    return from_pairs(pairs, text)


def from_pairs(pairs: list[tuple[int, int]], text: str) -> Timing:
    pairs.sort(key=lambda md: (md[0], md[1] if md[1] > 0 else 32))
    if len(set(pairs)) != len(pairs):
        raise Bad("the same day is listed twice")
    days = {d for _, d in pairs}
    if len(days) == 1:
        return recurring(text, Recurrence("yearly", days.pop(), tuple(m for m, _ in pairs)))
    return recurring(text, Recurrence("yearly", pairs[0][1], dates=tuple(pairs)))


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
        days = [date(ANY_YEAR, m, d if d > 0 else days_in_month(ANY_YEAR, m)) for m, d in unique]
        if len(days) != 2 or (days[1] - days[0]).days > 7:
            raise Bad("the phrase gives alternative dates far apart",
                      "write the one date that applies, or a range: từ ngày X đến ngày Y")
        unique = unique[-1:]
    return from_pairs(unique, text)


def due_day(day: int, before: bool, months: tuple[int, ...] = ()) -> int:
    # Decision: days 29-31 are missing from some months and RFC 5545 skips those months
    # silently; ask for the last day ("hằng tháng") or a day that every month has.
    shortest = min((days_in_month(ANY_YEAR, m) for m in months), default=28)
    if not 1 <= day <= shortest:
        raise Bad(f"day {day} is missing from some months",
                  "use 1-28, or 'cuối tháng, hằng tháng' (the month's last day)")
    return (day - 1 or -1) if before else day


def join(a_text: str, b_text: str, year: int | None, *, same_unit: bool) -> Span | None:
    """A range: a missing year on the first part takes the second's, then the plan's."""
    b = parse_period(b_text, year)
    if b is None:
        return None
    ctx = context_year(b, year)
    a = parse_period(a_text, ctx)
    if a is None and isinstance(b, Day) and (bare := BARE_DAY.fullmatch(a_text)) is not None:
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


def dash_range(s: str, year: int | None) -> Span | None:
    """"01/7/2025-15/7/2025", "2025-2026": the first dash that splits two like periods."""
    error: Bad | None = None
    for i, c in enumerate(s):
        if c == "-":
            a, b = s[:i], s[i + 1 :]
            if a.startswith("tháng ") and b[:1].isdigit() and "/" not in b.split(" ")[0]:
                b = f"tháng {b}"  # "tháng 3-4 năm 2025": the second month shares the word
            try:
                sp = join(a, b, year, same_unit=True)
            except Bad as exc:
                error = error or exc
                continue
            if sp is not None:
                return sp
    if error is not None:
        raise error
    return None


def span(s: str, year: int | None) -> Span | None:
    """A period or a range of periods ("năm 2024", "giai đoạn 2026-2030")."""
    if s.startswith("giai đoạn "):
        s = s[len("giai đoạn ") :]
    m = _RANGE_RX.fullmatch(s)
    if m is not None and (sp := join(m["a"], m["b"], year, same_unit=False)) is not None:
        return sp
    p = parse_period(s, year)
    return as_span(p, year) if p is not None else dash_range(s, year)


BARE_DAY = re.compile(rf"(?:từ )?(?:ngày )?(?:mùng )?(?P<d>{DAYNUM})")


_RANGE_RX = re.compile(r"(?:từ )?(?P<a>.+?) (?:đến|tới) (?:hết )?(?P<b>.+)")


def _lone(p: Period, year: int | None, text: str) -> Timing:
    """One period alone: "15/8" with no plan year recurs (an occasion's date); a full date is
    a deadline on that day; any longer period is a window, due at its end."""
    if isinstance(p, Day) and p.year is None and year is None:
        return recurring(text, yearly_rule(p))
    sp = as_span(p, year)
    if sp.point:
        return Timing(Kind.DEADLINE, text, end=sp.end, nominal=sp.end)
    return Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


def read(s: str, year: int | None, text: str) -> Timing | None:
    """The Timing of prepared text ``s``: a lone period ("Quý II/2024", the common case, tried
    first: no rule reads a whole period differently), else the first rule that reads it, else
    a range of like periods ("01/7/2025-15/7/2025"), else None."""
    if (p := parse_period(s, year)) is not None:
        return _lone(p, year, text)
    for rx, gate, fn in _RULES:
        if gate is not None and gate.search(s) is None:
            continue
        m = rx.fullmatch(s)
        if m is not None and (timing := fn(m, year, text)) is not None:
            return timing
    sp = dash_range(s, year)
    return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)
