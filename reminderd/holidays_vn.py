"""Build the WorkCalendar from the `holidays` package (Vietnam) and config overrides.

The `holidays` package follows the Labour Code (Tết by the Vietnamese lunar calendar,
Giỗ Tổ, 30/4, 1/5, 2/9 and its adjacent day) and records the Government's swapped
weekend working days; config adds each year's official decision where it differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import holidays

from reminderd.core.workdays import WorkCalendar


def build_calendar(
    years: Iterable[int],
    *,
    extra_off: Mapping[int, Iterable[date]] | None = None,
    extra_working: Mapping[int, Iterable[date]] | None = None,
) -> WorkCalendar:
    """Working-day calendar for ``years``, with per-year overrides from config."""
    year_list = sorted(set(years))
    vn = holidays.country_holidays("VN", years=year_list)
    working = set(getattr(vn, "weekend_workdays", set()))
    off: set[date] = set()
    for year_days in (extra_off or {}).values():
        off.update(year_days)
    for year_days in (extra_working or {}).values():
        working.update(year_days)
    return WorkCalendar(
        holidays=frozenset(vn.keys()),
        extra_working=frozenset(working),
        extra_off=frozenset(off),
    )


def holiday_names(years: Iterable[int]) -> dict[date, str]:
    """Vietnamese names of the public holidays, for notes in the feed and mails."""
    vn = holidays.country_holidays("VN", years=sorted(set(years)), language="vi")
    return dict(vn.items())
