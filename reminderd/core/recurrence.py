"""Expand a Recurrence into dates, bounded by a range and a maximum count.

Solar rules follow RFC 5545: an occurrence whose day does not exist in a month
(BYMONTHDAY=31 in April, 29 February in a common year) is skipped for that month, never
moved. Lunar rules give one date per lunar year; a lunar day 30 in a 29-day month is that
month's last day (custom: "ngày 30 Tết" / tất niên is the last day of month 12, whatever
its length). A direct loop: core is stdlib only, and this is far cheaper than dateutil.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date

from reminderd.core import lunar
from reminderd.core.timing import Recurrence

__all__ = ["expand", "period_label"]


def expand(rule: Recurrence, start: date, end: date, *, limit: int = 10_000) -> list[date]:
    """Occurrences of ``rule`` with ``start <= d <= end``, ascending.

    Nothing before ``rule.anchor`` (DTSTART) or after ``rule.until``. An anchor that does
    not match the rule itself is not an occurrence (RFC 5545 leaves that case undefined).
    Raises ValueError for an invalid rule, or when the range holds more than ``limit``
    occurrences: expansion is always bounded.
    """
    _validate(rule)
    if rule.anchor is not None:
        start = max(start, rule.anchor)
    if rule.until is not None:
        end = min(end, rule.until)
    result: list[date] = []
    if start > end:
        return result
    if rule.lunar:
        candidates = _lunar(rule, start, end)
    elif rule.dates:
        candidates = _pairs(rule, start, end)
    else:
        candidates = _solar(rule, start, end)
    for d in candidates:
        if start <= d <= end:
            if len(result) == limit:
                raise ValueError(
                    f"recurrence {rule.rrule or 'lunar rule'} gives more than {limit} dates "
                    f"between {start} and {end}; narrow the range"
                )
            result.append(d)
    return result


def period_label(rule: Recurrence, d: date) -> str:
    """The stable id of the period an occurrence belongs to, for occurrence keys.

    "YYYY" when the rule gives at most one date per year, else "YYYY-MM". For lunar rules
    the year is the lunar year: a date late in lunar month 11 or 12 can fall in the next
    Gregorian January, and two such dates may share a Gregorian year.
    """
    if rule.lunar:
        return f"{lunar.solar_to_lunar(d).year:04d}"
    if _one_per_year(rule):
        return f"{d.year:04d}"
    return f"{d.year:04d}-{d.month:02d}"


def _one_per_year(rule: Recurrence) -> bool:
    if rule.dates:
        return len(rule.dates) <= 1
    if rule.freq == "yearly":
        return len(rule.months) <= 1
    return len(rule.months) == 1 or rule.interval % 12 == 0


def _validate(rule: Recurrence) -> None:
    if rule.freq not in ("yearly", "monthly"):
        raise ValueError(f"recurrence freq must be 'yearly' or 'monthly', not {rule.freq!r}")
    if rule.interval < 1:
        raise ValueError(f"recurrence interval must be at least 1, not {rule.interval}")
    if rule.interval > 1 and rule.anchor is None:
        raise ValueError(f"a recurrence every {rule.interval} periods needs an anchor date")
    if rule.day == 0 and rule.anchor is None:
        raise ValueError("a recurrence on the anchor's day (day 0) needs an anchor date")
    if not -31 <= rule.day <= (30 if rule.lunar else 31):
        raise ValueError(f"recurrence day {rule.day} is not a day of a month")
    if any(not 1 <= m <= 12 for m in rule.months):
        raise ValueError(f"recurrence months {rule.months} must be 1-12")
    if rule.dates:
        if rule.freq != "yearly" or rule.lunar or rule.interval != 1:
            raise ValueError("several dates a year make a plain yearly rule")
        if any(not 1 <= m <= 12 or not -31 <= d <= 31 or d == 0 for m, d in rule.dates):
            raise ValueError(f"recurrence dates {rule.dates} must be (month 1-12, day)")
        return
    if rule.lunar:
        if rule.freq != "yearly":
            raise ValueError("lunar recurrences are yearly")
        if len(rule.months) > 1 or (not rule.months and rule.day != 0):
            raise ValueError("a lunar recurrence needs exactly one lunar month")
    elif rule.leap:
        raise ValueError("only a lunar recurrence can be in a leap month")
    elif rule.freq == "yearly" and not rule.months and rule.anchor is None:
        raise ValueError("a yearly recurrence needs months or an anchor date")


def _solar(rule: Recurrence, start: date, end: date) -> Iterator[date]:
    """Candidate dates month by month from start's month to end's month."""
    anchor = rule.anchor
    months = set(rule.months)
    if not months and rule.freq == "yearly" and anchor is not None:
        months = {anchor.month}
    day = anchor.day if rule.day == 0 and anchor is not None else rule.day
    for index in range(start.year * 12 + start.month - 1, end.year * 12 + end.month):
        year, month = divmod(index, 12)
        month += 1
        if months and month not in months:
            continue
        if anchor is not None and rule.interval > 1:
            if rule.freq == "yearly":
                offset = year - anchor.year
            else:
                offset = index - (anchor.year * 12 + anchor.month - 1)
            if offset % rule.interval:
                continue
        length = calendar.monthrange(year, month)[1]
        actual = day if day > 0 else length + day + 1
        if 1 <= actual <= length:  # RFC 5545: a day the month lacks is skipped
            yield date(year, month, actual)


def _pairs(rule: Recurrence, start: date, end: date) -> Iterator[date]:
    """Yearly on several (month, day) pairs ("15/6 và 20/12 hằng năm"), in date order."""
    for year in range(start.year, end.year + 1):
        days = []
        for month, day in rule.dates:
            length = calendar.monthrange(year, month)[1]
            actual = day if day > 0 else length + day + 1
            if 1 <= actual <= length:
                days.append(date(year, month, actual))
        yield from sorted(days)


def _lunar(rule: Recurrence, start: date, end: date) -> Iterator[date]:
    """One candidate per lunar year whose dates can fall between start and end.

    ``day`` 0 / no month take the anchor's lunar day / month. Years outside the lunar
    calendar's range (1900-2100) give nothing.
    """
    anchor = rule.anchor
    on = lunar.solar_to_lunar(anchor) if anchor is not None else None
    month = rule.months[0] if rule.months else on.month if on else 0
    day = rule.day if rule.day != 0 else on.day if on else 0  # _validate: on is set
    anchor_year = on.year if on else 0
    # A lunar year runs from late January/February into the next Gregorian year.
    first = max(start.year - 1, lunar.FIRST_YEAR)
    last = min(end.year, lunar.LAST_YEAR)
    for year in range(first, last + 1):
        if (year - anchor_year) % rule.interval:
            continue
        if rule.leap and lunar.leap_month(year) != month:
            continue
        length = lunar.month_length(year, month, rule.leap)
        actual = min(day, length) if day > 0 else length + day + 1
        if actual >= 1:
            yield lunar.lunar_to_solar(year, month, actual, rule.leap)
