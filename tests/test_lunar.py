"""The Vietnamese lunar calendar, checked against known dates and the `holidays` package."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest

from reminderd.core.errors import LunarDateError
from reminderd.core.lunar import (
    LunarDate,
    can_chi,
    leap_month,
    lunar_to_solar,
    month_length,
    solar_to_lunar,
    tet,
)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        # Where Vietnam (UTC+7) and China (UTC+8) differ; China gives 1985-02-20,
        # 2007-02-18, 2030-02-03.
        (1985, date(1985, 1, 21)),
        (2007, date(2007, 2, 17)),
        (2027, date(2027, 2, 6)),
        (2030, date(2030, 2, 2)),
        (1968, date(1968, 1, 29)),  # Tết Mậu Thân: North (UTC+7) 29/01, South (UTC+8) 30/01
        (2024, date(2024, 2, 10)),
        (2025, date(2025, 1, 29)),
        (2026, date(2026, 2, 17)),
    ],
)
def test_tet(year: int, expected: date) -> None:
    assert tet(year) == expected
    assert solar_to_lunar(expected) == LunarDate(year, 1, 1)


def _holiday_dates(years: range, name: str) -> dict[int, date]:
    calendar = holidays.VN(years=years, language="en_US", observed=False)
    return {d.year: d for d, n in calendar.items() if n == name}


def test_tet_matches_holidays_package_every_year() -> None:
    found = _holiday_dates(range(1900, 2101), "Lunar New Year")
    assert len(found) >= 200  # holidays covers Tết 1901-2100
    wrong = {y: (tet(y), d) for y, d in found.items() if tet(y) != d}
    assert wrong == {}


def test_hung_kings_day_matches_holidays_package_every_year() -> None:
    found = _holiday_dates(range(1900, 2101), "Hung Kings' Commemoration Day")
    assert len(found) >= 94  # a public holiday since 2007
    wrong = {y: d for y, d in found.items() if lunar_to_solar(y, 3, 10) != d}
    assert wrong == {}


def test_hung_kings_day_matches_holidays_lunar_table_before_2007() -> None:
    """The package's Vietnamese lunar table also has the years before the holiday existed."""
    chinese = pytest.importorskip("holidays.calendars.chinese")
    table = getattr(chinese, "_ChineseLunisolar", None)
    if table is None or not hasattr(chinese, "VIETNAMESE_CALENDAR"):
        pytest.skip("holidays no longer exposes its lunar table")
    lunisolar = table(chinese.VIETNAMESE_CALENDAR)
    wrong = {}
    for year in range(1901, 2101):
        expected, _ = lunisolar.hung_kings_date(year)
        if expected is not None and lunar_to_solar(year, 3, 10) != expected:
            wrong[year] = (lunar_to_solar(year, 3, 10), expected)
    assert wrong == {}


@pytest.mark.parametrize(
    ("year", "month"),
    [
        (1985, 2),  # Vietnam; China has leap 10 in 1984 instead
        (2004, 2),
        (2006, 7),
        (2009, 5),
        (2012, 4),
        (2014, 9),
        (2017, 6),
        (2020, 4),
        (2023, 2),
        (2025, 6),
        (2028, 5),
        (2033, 11),  # the "2033 problem": the leap month follows month 11
    ],
)
def test_leap_months(year: int, month: int) -> None:
    assert leap_month(year) == month
    first = lunar_to_solar(year, month, 1, leap=True)
    assert first == lunar_to_solar(year, month, 1) + timedelta(days=month_length(year, month))
    assert solar_to_lunar(first) == LunarDate(year, month, 1, leap=True)


@pytest.mark.parametrize("year", [1984, 2007, 2024, 2026, 2027, 2034])
def test_no_leap_month(year: int) -> None:
    assert leap_month(year) is None


def test_every_year_has_12_or_13_months_of_29_or_30_days() -> None:
    for year in range(1900, 2101):
        leap = leap_month(year)
        months = [(m, False) for m in range(1, 13)] + ([(leap, True)] if leap else [])
        lengths = [month_length(year, m, is_leap) for m, is_leap in months]
        assert set(lengths) <= {29, 30}
        assert sum(lengths) in ({353, 354, 355} if leap is None else {383, 384, 385})
        if year < 2100:
            assert sum(lengths) == (tet(year + 1) - tet(year)).days


def test_round_trip_every_day() -> None:
    d, last = tet(1900), date(2100, 12, 31)
    previous = None
    while d <= last:
        lunar = solar_to_lunar(d)
        assert lunar_to_solar(lunar.year, lunar.month, lunar.day, lunar.leap) == d
        if previous is not None and lunar.day != 1:
            assert lunar.day == previous.day + 1
        previous = lunar
        d += timedelta(days=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2024, 1, 30), "lunar month 1/2024 has 29 days"),
        ((2024, 2, 31), "lunar month 2/2024 has 30 days"),
        ((2024, 13, 1), "lunar month must be 1-12"),
        ((2024, 0, 1), "lunar month must be 1-12"),
        ((2024, 1, 0), "has 29 days, there is no day 0"),
        ((2025, 6, 30, True), "lunar month 6 nhuận/2025 has 29 days"),
        ((2024, 4, 1, True), "lunar year 2024 has no leap month 4; it has no leap month"),
        ((2025, 5, 1, True), "its leap month is 6"),
        ((1899, 1, 1), "outside the supported range 1900-2100"),
        ((2101, 1, 1), "outside the supported range 1900-2100"),
    ],
)
def test_impossible_dates(args: tuple[int, int, int], message: str) -> None:
    with pytest.raises(LunarDateError, match=message):
        lunar_to_solar(*args)


def test_month_length_and_out_of_range_solar() -> None:
    # 2024: 1/1 = 10/02, 1/2 = 10/03, 1/3 = 09/04 (Tết 2025 = 29/01/2025)
    lengths = [month_length(2024, m) for m in range(1, 13)]
    assert lengths == [29, 30, 29, 29, 30, 29, 30, 30, 29, 30, 30, 29]
    with pytest.raises(LunarDateError):
        month_length(2024, 2, leap=True)
    with pytest.raises(LunarDateError):
        solar_to_lunar(date(1900, 1, 1))  # lunar 1899


@pytest.mark.parametrize(
    ("year", "name"),
    [
        (1984, "Giáp Tý"),
        (2024, "Giáp Thìn"),
        (2025, "Ất Tỵ"),
        (2026, "Bính Ngọ"),
        (2023, "Quý Mão"),
        (1992, "Nhâm Thân"),
    ],
)
def test_can_chi(year: int, name: str) -> None:
    assert can_chi(year) == name


def test_repeated_calls_are_cached() -> None:
    """The per-year table is computed once (speed itself is measured in bench/, not here)."""
    from reminderd.core import lunar

    lunar_to_solar(2031, 8, 15)
    hits = lunar._year_table.cache_info().hits
    for _ in range(10):
        lunar_to_solar(2031, 8, 15)
    assert lunar._year_table.cache_info().hits >= hits + 10
