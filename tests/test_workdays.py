"""Working days: weekends, Vietnamese public holidays, swapped days, config overrides."""

from datetime import date

import pytest

from reminderd.core.workdays import WorkCalendar
from reminderd.holidays_vn import build_calendar, holiday_names

CAL = build_calendar(range(2022, 2028))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 6, 12), True),  # Friday
        (date(2026, 6, 13), False),  # Saturday
        (date(2026, 9, 2), False),  # Quốc khánh
        (date(2026, 9, 1), False),  # the adjacent day
        (date(2026, 2, 17), False),  # Tết Bính Ngọ
        (date(2026, 4, 27), False),  # Giỗ Tổ moved off a Sunday (nghỉ bù)
        (date(2024, 5, 4), True),  # Saturday swapped into a working day (for 29/4/2024)
        (date(2024, 4, 29), False),  # the day off it paid for
        (date(2025, 4, 30), False),
        (date(2025, 5, 1), False),
        (date(2022, 12, 22), True),
    ],
)
def test_is_working(day: date, working: bool) -> None:
    assert CAL.is_working(day) is working


def test_previous_and_next_working_day() -> None:
    # Tết 2026: 16/2 (Mon) .. 20/2 (Fri) off, then the weekend.
    assert CAL.previous_working(date(2026, 2, 18)) == date(2026, 2, 13)
    assert CAL.next_working(date(2026, 2, 18)) == date(2026, 2, 23)
    assert CAL.previous_working(date(2026, 6, 12)) == date(2026, 6, 12)


def test_add_working_days_skips_weekends_and_holidays() -> None:
    # 7 working days before Thu 2026-09-03 skips 2/9, 1/9 and the weekend 29-30/8.
    assert CAL.add_working_days(date(2026, 9, 3), -7) == date(2026, 8, 21)
    assert CAL.add_working_days(date(2026, 6, 12), 1) == date(2026, 6, 15)
    assert CAL.add_working_days(date(2026, 6, 12), 0) == date(2026, 6, 12)


def test_working_days_between() -> None:
    # The second half of July 2026 has 12 working days: enough for a 5-working-day programme.
    assert CAL.working_days_between(date(2026, 7, 16), date(2026, 7, 31)) == 12
    assert CAL.working_days_between(date(2026, 7, 31), date(2026, 7, 16)) == 0


def test_config_overrides_win() -> None:
    off = date(2026, 6, 15)
    work = date(2026, 6, 13)
    cal = build_calendar([2026], extra_off={2026: [off]}, extra_working={2026: [work]})
    assert not cal.is_working(off)
    assert cal.is_working(work)


def test_holiday_names_are_vietnamese() -> None:
    names = holiday_names([2026])
    assert names[date(2026, 9, 2)] == "Quốc khánh"
    assert "Tết" in names[date(2026, 2, 17)]


def test_a_calendar_without_working_days_fails_loudly() -> None:
    every_day = frozenset(date.fromordinal(date(2026, 1, 1).toordinal() + i) for i in range(800))
    with pytest.raises(ValueError, match="no working day"):
        WorkCalendar(holidays=every_day).next_working(date(2026, 3, 1))
