"""Expanding Recurrence rules into dates."""

from __future__ import annotations

from datetime import date

import pytest

from reminderd.core.lunar import leap_month, lunar_to_solar, month_length, tet
from reminderd.core.recurrence import expand, period_label
from reminderd.core.timing import Recurrence

D = date


@pytest.mark.parametrize(
    ("rule", "start", "end", "expected"),
    [
        pytest.param(
            Recurrence("yearly", 22, (12,)),
            D(2024, 1, 1),
            D(2026, 12, 31),
            [D(2024, 12, 22), D(2025, 12, 22), D(2026, 12, 22)],
            id="yearly",
        ),
        pytest.param(
            Recurrence("yearly", 22, (12,)),
            D(2024, 12, 22),
            D(2025, 12, 22),
            [D(2024, 12, 22), D(2025, 12, 22)],
            id="range-inclusive",
        ),
        pytest.param(
            Recurrence("monthly", 20),
            D(2025, 11, 1),
            D(2026, 2, 28),
            [D(2025, 11, 20), D(2025, 12, 20), D(2026, 1, 20), D(2026, 2, 20)],
            id="monthly",
        ),
        pytest.param(
            Recurrence("monthly", -1),
            D(2024, 1, 1),
            D(2024, 4, 30),
            [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30)],
            id="last-day",
        ),
        pytest.param(
            Recurrence("yearly", -1, (3, 6, 9, 12)),
            D(2025, 1, 1),
            D(2025, 12, 31),
            [D(2025, 3, 31), D(2025, 6, 30), D(2025, 9, 30), D(2025, 12, 31)],
            id="quarterly",
        ),
        pytest.param(
            Recurrence("monthly", -1, (3, 6, 9, 12)),
            D(2025, 1, 1),
            D(2025, 12, 31),
            [D(2025, 3, 31), D(2025, 6, 30), D(2025, 9, 30), D(2025, 12, 31)],
            id="quarterly-monthly",
        ),
        pytest.param(
            Recurrence("yearly", -1, (6, 12)),
            D(2024, 1, 1),
            D(2025, 12, 31),
            [D(2024, 6, 30), D(2024, 12, 31), D(2025, 6, 30), D(2025, 12, 31)],
            id="semiannual",
        ),
        pytest.param(
            Recurrence("yearly", 22, (12,), interval=2, anchor=D(2017, 12, 22)),
            D(2017, 1, 1),
            D(2024, 12, 31),
            [D(2017, 12, 22), D(2019, 12, 22), D(2021, 12, 22), D(2023, 12, 22)],
            id="every-2-years-from-anchor",
        ),
        pytest.param(
            Recurrence("yearly", 0, interval=2, anchor=D(2017, 12, 22)),
            D(2000, 1, 1),
            D(2022, 12, 31),
            [D(2017, 12, 22), D(2019, 12, 22), D(2021, 12, 22)],
            id="anchor-day-and-month",
        ),
        pytest.param(
            Recurrence("yearly", 22, anchor=D(2017, 12, 22)),
            D(2016, 1, 1),
            D(2019, 12, 31),
            [D(2017, 12, 22), D(2018, 12, 22), D(2019, 12, 22)],
            id="yearly-anchor-month",
        ),
        pytest.param(
            Recurrence("monthly", 15, interval=3, anchor=D(2025, 2, 15)),
            D(2025, 1, 1),
            D(2025, 12, 31),
            [D(2025, 2, 15), D(2025, 5, 15), D(2025, 8, 15), D(2025, 11, 15)],
            id="monthly-interval",
        ),
        pytest.param(
            Recurrence("yearly", 15, (8,), until=D(2026, 8, 15)),
            D(2024, 1, 1),
            D(2030, 12, 31),
            [D(2024, 8, 15), D(2025, 8, 15), D(2026, 8, 15)],
            id="until-inclusive",
        ),
        pytest.param(
            Recurrence("monthly", 31),
            D(2025, 1, 1),
            D(2025, 6, 30),
            [D(2025, 1, 31), D(2025, 3, 31), D(2025, 5, 31)],
            id="31st-skipped-in-short-months",
        ),
        pytest.param(
            Recurrence("yearly", 29, (2,)),
            D(2023, 1, 1),
            D(2029, 12, 31),
            [D(2024, 2, 29), D(2028, 2, 29)],
            id="29-february-only-in-leap-years",
        ),
        pytest.param(
            Recurrence("yearly", 22, (12,)),
            D(2025, 1, 1),
            D(2024, 1, 1),
            [],
            id="empty-range",
        ),
    ],
)
def test_solar(rule: Recurrence, start: date, end: date, expected: list[date]) -> None:
    assert expand(rule, start, end) == expected


def test_lunar_new_year_is_tet() -> None:
    rule = Recurrence("yearly", 1, (1,), lunar=True)
    assert expand(rule, D(2024, 1, 1), D(2031, 12, 31)) == [tet(y) for y in range(2024, 2032)]


def test_lunar_hung_kings_day() -> None:
    rule = Recurrence("yearly", 10, (3,), lunar=True)
    assert expand(rule, D(2024, 1, 1), D(2026, 12, 31)) == [
        D(2024, 4, 18),
        D(2025, 4, 7),
        D(2026, 4, 26),
    ]


def test_lunar_day_30_in_a_29_day_month_is_the_last_day() -> None:
    """ "Ngày 30 Tết" (tất niên) is the last day of month 12, whatever its length."""
    rule = Recurrence("yearly", 30, (12,), lunar=True)
    # Tết 2020 is 25/01/2020, so the eve of lunar 2019 is in range too.
    eves = [date.fromordinal(tet(y).toordinal() - 1) for y in range(2020, 2032)]
    assert expand(rule, D(2020, 1, 1), D(2031, 12, 31)) == eves
    lengths = {month_length(y, 12) for y in range(2019, 2031)}
    assert lengths == {29, 30}  # both cases are exercised


def test_lunar_last_day_minus_one() -> None:
    rule = Recurrence("yearly", -1, (12,), lunar=True)
    eves = [date.fromordinal(tet(y).toordinal() - 1) for y in range(2021, 2026)]
    assert expand(rule, D(2021, 1, 1), D(2025, 12, 31)) == eves


def test_lunar_leap_month_rule() -> None:
    rule = Recurrence("yearly", 15, (6,), lunar=True, leap=True)
    got = expand(rule, D(1990, 1, 1), D(2100, 12, 31))
    years = [y for y in range(1990, 2101) if leap_month(y) == 6]
    assert 2025 in years
    assert got == [lunar_to_solar(y, 6, 15, leap=True) for y in years]


def test_lunar_interval_counts_lunar_years_from_anchor() -> None:
    anchor = lunar_to_solar(2020, 3, 10)
    rule = Recurrence("yearly", 10, (3,), interval=5, lunar=True, anchor=anchor)
    got = expand(rule, D(2000, 1, 1), D(2031, 12, 31))
    assert got == [lunar_to_solar(y, 3, 10) for y in (2020, 2025, 2030)]


def test_lunar_outside_supported_years_gives_nothing() -> None:
    rule = Recurrence("yearly", 1, (1,), lunar=True)
    assert expand(rule, D(2099, 1, 1), D(2105, 12, 31)) == [tet(2099), tet(2100)]


def test_limit_exceeded_raises() -> None:
    rule = Recurrence("monthly", 1)
    assert len(expand(rule, D(2000, 1, 1), D(2000, 12, 31), limit=12)) == 12
    with pytest.raises(ValueError, match="more than 11 dates"):
        expand(rule, D(2000, 1, 1), D(2000, 12, 31), limit=11)
    with pytest.raises(ValueError, match="more than 10000"):
        expand(rule, D.min, D.max)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (Recurrence("yearly", 1, (1,), interval=0), "interval must be at least 1"),
        (Recurrence("monthly", 1, interval=-1), "interval must be at least 1"),
        (Recurrence("yearly", 22, (12,), interval=2), "needs an anchor date"),
        (Recurrence("yearly", 0), "needs an anchor date"),
        (Recurrence("yearly", 22), "needs months or an anchor date"),
        (Recurrence("weekly", 1), "freq must be"),
        (Recurrence("monthly", 32), "not a day of a month"),
        (Recurrence("yearly", 1, (13,)), "must be 1-12"),
        (Recurrence("monthly", 1, lunar=True), "lunar recurrences are yearly"),
        (Recurrence("yearly", 1, (1, 7), lunar=True), "exactly one lunar month"),
        (Recurrence("yearly", 1, (1,), leap=True), "only a lunar recurrence"),
    ],
)
def test_invalid_rules(rule: Recurrence, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        expand(rule, D(2024, 1, 1), D(2025, 12, 31))


@pytest.mark.parametrize(
    ("rule", "day", "label"),
    [
        (Recurrence("yearly", 22, (12,)), D(2024, 12, 22), "2024"),
        (Recurrence("yearly", 0, interval=2, anchor=D(2017, 12, 22)), D(2019, 12, 22), "2019"),
        (Recurrence("yearly", -1, (6, 12)), D(2024, 6, 30), "2024-06"),
        (Recurrence("monthly", 20), D(2026, 1, 20), "2026-01"),
        (Recurrence("monthly", -1, (12,)), D(2026, 12, 31), "2026"),
        (Recurrence("yearly", 1, (1,), lunar=True), tet(2025), "2025"),
        # Tất niên of lunar 2024 falls in January 2025: its period is lunar year 2024.
        (Recurrence("yearly", 30, (12,), lunar=True), D(2025, 1, 28), "2024"),
    ],
)
def test_period_label(rule: Recurrence, day: date, label: str) -> None:
    assert period_label(rule, day) == label


def test_period_labels_are_unique_per_rule() -> None:
    rules = [
        Recurrence("yearly", 1, (12,), lunar=True),
        Recurrence("yearly", -1, (3, 6, 9, 12)),
        Recurrence("monthly", 31),
    ]
    for rule in rules:
        dates = expand(rule, D(1950, 1, 1), D(2080, 12, 31))
        labels = [period_label(rule, d) for d in dates]
        assert len(set(labels)) == len(labels)
