"""Vietnamese working days: weekends, public holidays and the Government's swapped days.

The calendar is data passed in (built by ``reminderd.holidays_vn`` from the ``holidays``
package and config overrides), so this module stays pure.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from reminderd.core.timing import Relative

_MAX_SCAN = 366  # no run of days off is longer than a year; guards against a bad calendar

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days.

    ``holidays``: public holidays and compensatory days off (Labour Code 2019 Art. 112).
    ``extra_working``: weekend days the Government made working days (swaps).
    ``extra_off``: further days off from config (a year's official decision).
    """

    holidays: frozenset[date] = frozenset()
    extra_working: frozenset[date] = frozenset()
    extra_off: frozenset[date] = frozenset()

    def is_working(self, day: date) -> bool:
        if day in self.extra_working:
            return True
        if day in self.extra_off or day in self.holidays:
            return False
        return day.weekday() < 5

    def previous_working(self, day: date) -> date:
        """``day`` itself if it is a working day, else the closest working day before it."""
        return self._scan(day, -ONE_DAY)

    def next_working(self, day: date) -> date:
        """``day`` itself if it is a working day, else the closest working day after it."""
        return self._scan(day, ONE_DAY)

    def add_working_days(self, day: date, count: int) -> date:
        """The working day ``count`` working days after ``day`` (before it when negative).

        ``day`` itself is not counted (Civil Code Art. 147); ``count == 0`` gives ``day``.
        """
        step = ONE_DAY if count > 0 else -ONE_DAY
        current = day
        for _ in range(abs(count)):
            current = self._scan(current + step, step)
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``start``..``end`` inclusive (0 when end < start)."""
        days = (end - start).days + 1
        return sum(1 for i in range(max(days, 0)) if self.is_working(start + timedelta(days=i)))

    def _scan(self, day: date, step: timedelta) -> date:
        current = day
        for _ in range(_MAX_SCAN):
            if self.is_working(current):
                return current
            current += step
        raise ValueError(f"no working day within a year of {day.isoformat()}")


def add_months(day: date, months: int) -> date:
    """The corresponding day ``months`` later, or that month's last day when it has none
    (Civil Code Art. 148(1)-(2): 31/1 + 1 month is 28/2 or 29/2)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def period_end(rel: Relative, work: WorkCalendar) -> date | None:
    """The last day of a period counted from ``rel.start`` (Civil Code Art. 147-148).

    The start day itself is not counted (Art. 147(1)); a period in days ends on its last day,
    in weeks, months or years on the corresponding day (Art. 148(1)-(4)); a last day that is
    a weekend or holiday moves to the next working day (Art. 148(5)). A period in working
    days counts working days only. None when the phrase did not write its start.
    """
    if rel.start is None:
        return None
    if rel.unit == "working_day":
        return work.add_working_days(rel.start, rel.amount)
    if rel.unit == "month":
        last = add_months(rel.start, rel.amount)
    elif rel.unit == "year":
        last = add_months(rel.start, 12 * rel.amount)
    else:  # days (a week was counted as 7 days)
        last = rel.start + timedelta(days=rel.amount)
    return work.next_working(last)
