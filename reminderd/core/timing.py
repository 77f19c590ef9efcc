"""What a time phrase means: a Timing (see docs/cach-ghi-thoi-gian.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Kind(StrEnum):
    DEADLINE = "deadline"
    WINDOW = "window"
    RECURRING = "recurring"
    ONGOING = "ongoing"
    UNSCHEDULED = "unscheduled"


@dataclass(frozen=True)
class Recurrence:
    """A repeating date rule.

    Solar rules map onto an RFC 5545 RRULE that Outlook can show; lunar rules
    (``lunar=True``: month/day are lunar) have no RRULE and expand year by year.
    ``day`` is the day of the month; -1 means the last day; 0 means "the anchor's day and
    month" (a rule such as ``định kỳ 02 năm/lần`` before the item supplies its anchor).
    ``months`` empty with freq "monthly" means every month.
    ``anchor`` is the first occurrence (DTSTART) when the rule counts from a date
    (``định kỳ 02 năm/lần`` from a signing date); ``None`` until the item gives it.
    """

    freq: str  # "yearly" | "monthly"
    day: int
    months: tuple[int, ...] = ()
    interval: int = 1
    lunar: bool = False
    leap: bool = False
    anchor: date | None = None
    until: date | None = None
    dates: tuple[tuple[int, int], ...] = ()  # yearly on several (month, day) pairs

    @property
    def rrule(self) -> str | None:
        if self.lunar:
            return None
        if self.dates:
            days = {d for _, d in self.dates}
            if len(days) > 1:  # 15/6 and 20/12: no single RRULE says that
                return None
            listed = ",".join(str(m) for m, _ in self.dates)
            return f"FREQ=YEARLY;BYMONTH={listed};BYMONTHDAY={days.pop()}"
        months = self.months
        day = self.day
        if self.anchor is not None:  # the anchor supplies what the rule leaves open
            if not months and self.freq == "yearly":
                months = (self.anchor.month,)
            day = day or self.anchor.day
        parts = [f"FREQ={self.freq.upper()}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if months:
            parts.append("BYMONTH=" + ",".join(str(m) for m in months))
        if day != 0:
            parts.append(f"BYMONTHDAY={day}")
        if self.until is not None:
            parts.append(f"UNTIL={self.until:%Y%m%d}")
        return ";".join(parts)


@dataclass(frozen=True)
class Relative:
    """A period counted from an anchor the item supplies (Civil Code Art. 147-148).

    ``unit`` is "day", "working_day", "month" or "year"; ``anchor`` names what it counts from
    ("ký" = signing) as written; ``start`` is that day when the phrase writes it
    ("kể từ ngày 01/7/2025"), else None and the item must supply it.
    """

    amount: int
    unit: str
    anchor: str
    start: date | None = None


@dataclass(frozen=True)
class Timing:
    """One time phrase, read.

    deadline:    ``end`` is the last permissible day; ``nominal`` the date as written when it
                 differs (``trước ngày X``: end = X - 1, nominal = X).
    window:      ``start``..``end``; the end is the deadline. ``workdays`` for
                 ``05 ngày làm việc trong …``.
    recurring:   ``recurrence``; ``since`` for anniversaries (ordinal = year - since).
    ongoing:     ``start`` and/or ``end`` (either may be open).
    unscheduled: ``reason``.
    A deadline with ``relative`` set is counted from ``relative.start`` (Civil Code Art.
    147-148; ``workdays.period_end``); without a start the phrase is unscheduled.
    ``time`` ("17:00") and ``daypart`` ("sáng") are the time of day when written;
    ``ignored`` holds the words set aside around the time ("Dự kiến tổ chức"), as written.
    """

    kind: Kind
    text: str
    start: date | None = None
    end: date | None = None
    nominal: date | None = None
    recurrence: Recurrence | None = None
    since: int | None = None
    workdays: int | None = None
    relative: Relative | None = None
    reason: str | None = None
    time: str | None = None
    daypart: str | None = None
    ignored: tuple[str, ...] = ()

    @property
    def exclusive(self) -> bool:
        """True when the phrase was ``trước ngày X`` (the last day is the day before X)."""
        return self.nominal is not None and self.end is not None and self.nominal != self.end
