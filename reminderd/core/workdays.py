"""Vietnamese working days: weekends, public holidays and the Government's swapped days.

The calendar is data passed in (built by ``reminderd.holidays_vn`` from the ``holidays``
package and config overrides), so this module stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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
