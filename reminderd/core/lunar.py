"""The Vietnamese lunar calendar (âm lịch), computed for UTC+7, lunar years 1900-2100.

Written from the published algorithms in Jean Meeus, *Astronomical Algorithms* (2nd ed.):
the true new moon (ch. 49) and the sun's apparent longitude (ch. 25, low accuracy,
about 0.01 degree), with Delta T from the Espenak-Meeus polynomials. It is not a port of
any lunar-calendar library.

The rules (Vietnam has used UTC+7 since 1968; this module applies UTC+7 to every year, so
dates before 1968 may differ from the calendar printed at the time, which used UTC+8):

* a month begins on the local (UTC+7) day of a new moon;
* month 11 is the month that contains the winter solstice;
* when 13 months lie between two months 11, the first month after month 11 that contains
  no major solar term (sun longitude a multiple of 30 degrees) is a leap month and repeats
  the number of the month before it.

A Chinese-calendar library computes at UTC+8 and is wrong for Vietnam (Tết 1985, 2007, 2030).

Limits: a few boundaries lie closer to local midnight than the method (and, for later
years, the prediction of Delta T) can resolve, so the day a month starts there is uncertain:
the new moons of 1944-06-20, 1967-07-07, 2054-05-08, 2077-11-15 and 2085-10-18 (under a
minute from midnight) and the autumn equinox of 1938 (the leap month of 1938: 8 here, 7 in
the UTC+8 calendar Vietnam used then). Every Tết and every lunar 10/3 of 1901-2100 agrees
with the `holidays` package (see tests/test_lunar.py).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from reminderd.core.errors import LunarDateError

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "LunarDate",
    "can_chi",
    "leap_month",
    "lunar_to_solar",
    "month_length",
    "solar_to_lunar",
    "tet",
]

FIRST_YEAR = 1900
LAST_YEAR = 2100

_TZ_HOURS = 7.0  # Vietnam, UTC+7
_JD_ORDINAL_OFFSET = 1721425  # Julian Day Number of date.fromordinal(n) is n + this
_SYNODIC_MONTH = 29.530588861  # days (Meeus 49.1)
_K0_JDE = 2451550.09766  # mean new moon k = 0 (2000-01-06), JDE (Meeus 49.1)


@dataclass(frozen=True)
class LunarDate:
    """A day of the Vietnamese lunar calendar; ``leap`` marks a day of the leap month."""

    year: int
    month: int
    day: int
    leap: bool = False

    def __str__(self) -> str:
        return f"{self.day}/{self.month}{' nhuận' if self.leap else ''}/{self.year} âm lịch"


# --- astronomy (Meeus) -------------------------------------------------------------------


def _sin(degrees: float) -> float:
    return math.sin(math.radians(degrees))


def _delta_t_days(year: float) -> float:
    """TT - UT in days (Espenak & Meeus polynomials, valid 1900-2150).

    About a minute today, it moves a new moon across midnight only when the new moon is
    within a minute of it, but costs nothing to include.
    """
    if year < 1920:
        t = year - 1900
        s = -2.79 + 1.494119 * t - 0.0598939 * t**2 + 0.0061966 * t**3 - 0.000197 * t**4
    elif year < 1941:
        t = year - 1920
        s = 21.20 + 0.84493 * t - 0.076100 * t**2 + 0.0020936 * t**3
    elif year < 1961:
        t = year - 1950
        s = 29.07 + 0.407 * t - t**2 / 233 + t**3 / 2547
    elif year < 1986:
        t = year - 1975
        s = 45.45 + 1.067 * t - t**2 / 260 - t**3 / 718
    elif year < 2005:
        t = year - 2000
        s = (
            63.86
            + 0.3345 * t
            - 0.060374 * t**2
            + 0.0017275 * t**3
            + 0.000651814 * t**4
            + 0.00002373599 * t**5
        )
    elif year < 2050:
        t = year - 2000
        s = 62.92 + 0.32217 * t + 0.005589 * t**2
    else:
        s = -20 + 32 * ((year - 1820) / 100) ** 2 - 0.5628 * (2150 - year)
    return s / 86400.0


def _year_of_jd(jd: float) -> float:
    return 2000.0 + (jd - 2451545.0) / 365.25


# Periodic terms of the true new moon (Meeus table 49.A, "New Moon" column):
# (coefficient, power of E, multiples of M, M', F, Omega).
_NEW_MOON_TERMS: tuple[tuple[float, int, int, int, int, int], ...] = (
    (-0.40720, 0, 0, 1, 0, 0),
    (0.17241, 1, 1, 0, 0, 0),
    (0.01608, 0, 0, 2, 0, 0),
    (0.01039, 0, 0, 0, 2, 0),
    (0.00739, 1, -1, 1, 0, 0),
    (-0.00514, 1, 1, 1, 0, 0),
    (0.00208, 2, 2, 0, 0, 0),
    (-0.00111, 0, 0, 1, -2, 0),
    (-0.00057, 0, 0, 1, 2, 0),
    (0.00056, 1, 1, 2, 0, 0),
    (-0.00042, 0, 0, 3, 0, 0),
    (0.00042, 1, 1, 0, 2, 0),
    (0.00038, 1, 1, 0, -2, 0),
    (-0.00024, 1, -1, 2, 0, 0),
    (-0.00017, 0, 0, 0, 0, 1),
    (-0.00007, 0, 2, 1, 0, 0),
    (0.00004, 0, 0, 2, -2, 0),
    (0.00004, 0, 3, 0, 0, 0),
    (0.00003, 0, 1, 1, -2, 0),
    (0.00003, 0, 0, 2, 2, 0),
    (-0.00003, 0, 1, 1, 2, 0),
    (0.00003, 0, -1, 1, 2, 0),
    (-0.00002, 0, -1, 1, -2, 0),
    (-0.00002, 0, 1, 3, 0, 0),
    (0.00002, 0, 0, 4, 0, 0),
)

# Planetary arguments A1..A14 (Meeus p. 351): (coefficient, constant, rate per lunation).
# A1 also has a T^2 term, added in _new_moon_jde.
_PLANETARY_TERMS: tuple[tuple[float, float, float], ...] = (
    (0.000325, 299.77, 0.107408),
    (0.000165, 251.88, 0.016321),
    (0.000164, 251.83, 26.651886),
    (0.000126, 349.42, 36.412478),
    (0.000110, 84.66, 18.206239),
    (0.000062, 141.74, 53.303771),
    (0.000060, 207.14, 2.453732),
    (0.000056, 154.84, 7.306860),
    (0.000047, 34.52, 27.261239),
    (0.000042, 207.19, 0.121824),
    (0.000040, 291.34, 1.844379),
    (0.000037, 161.72, 24.198154),
    (0.000035, 239.56, 25.513099),
    (0.000023, 331.55, 3.592518),
)


def _new_moon_jde(k: int) -> float:
    """Julian Ephemeris Day of the true new moon number ``k`` (k = 0 near 2000-01-06)."""
    t = k / 1236.85
    jde = _K0_JDE + _SYNODIC_MONTH * k + 0.00015437 * t**2 - 0.000000150 * t**3
    jde += 0.00000000073 * t**4
    e = 1 - 0.002516 * t - 0.0000074 * t**2
    m = 2.5534 + 29.10535670 * k - 0.0000014 * t**2 - 0.00000011 * t**3
    mp = 201.5643 + 385.81693528 * k + 0.0107582 * t**2 + 0.00001238 * t**3
    mp -= 0.000000058 * t**4
    f = 160.7108 + 390.67050284 * k - 0.0016118 * t**2 - 0.00000227 * t**3
    f += 0.000000011 * t**4
    omega = 124.7746 - 1.56375588 * k + 0.0020672 * t**2 + 0.00000215 * t**3
    for coef, e_pow, cm, cmp, cf, co in _NEW_MOON_TERMS:
        jde += coef * e**e_pow * _sin(cm * m + cmp * mp + cf * f + co * omega)
    for i, (coef, const, rate) in enumerate(_PLANETARY_TERMS):
        arg = const + rate * k - (0.009173 * t**2 if i == 0 else 0.0)
        jde += coef * _sin(arg)
    return jde


def _sun_longitude(jde: float) -> float:
    """The sun's apparent longitude in degrees, 0 <= x < 360 (Meeus ch. 25, low accuracy)."""
    t = (jde - 2451545.0) / 36525
    l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t**2
    m = 357.52911 + 35999.05029 * t - 0.0001537 * t**2
    c = (1.914602 - 0.004817 * t - 0.000014 * t**2) * _sin(m)
    c += (0.019993 - 0.000101 * t) * _sin(2 * m) + 0.000289 * _sin(3 * m)
    omega = 125.04 - 1934.136 * t
    return (l0 + c - 0.00569 - 0.00478 * _sin(omega)) % 360.0


# --- local (UTC+7) days ------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _new_moon_day(k: int) -> date:
    """The local (UTC+7) day on which new moon ``k`` falls: the first day of a lunar month."""
    jde = _new_moon_jde(k)
    jd_ut = jde - _delta_t_days(_year_of_jd(jde))
    return date.fromordinal(math.floor(jd_ut + 0.5 + _TZ_HOURS / 24) - _JD_ORDINAL_OFFSET)


def _sector(d: date) -> int:
    """Which 30-degree sector the sun is in at local midnight starting day ``d``.

    A month [start, next start) contains a major solar term exactly when the sector at its
    first midnight differs from the sector at the next month's first midnight.
    """
    jd_ut = d.toordinal() + _JD_ORDINAL_OFFSET - 0.5 - _TZ_HOURS / 24
    jde = jd_ut + _delta_t_days(_year_of_jd(jd_ut))
    return int(_sun_longitude(jde) // 30)


def _k_near(d: date) -> int:
    """The number of the mean new moon at or just before day ``d``."""
    jd = d.toordinal() + _JD_ORDINAL_OFFSET
    return math.floor((jd - _K0_JDE) / _SYNODIC_MONTH)


@lru_cache(maxsize=512)
def _month11_k(gregorian_year: int) -> int:
    """The new moon that starts month 11 (the month holding the December solstice)."""
    k = _k_near(date(gregorian_year, 12, 31))
    # Walk back to the first month that starts before the solstice (sector 9 = 270-300 deg).
    while _sector(_new_moon_day(k)) >= 9:
        k -= 1
    return k


# A month table: (first day, month number, leap) for each month, in order.
_Month = tuple[date, int, bool]


@lru_cache(maxsize=512)
def _months_from_11(gregorian_year: int) -> tuple[_Month, ...]:
    """Months from month 11 of ``gregorian_year - 1`` up to month 11 of ``gregorian_year``.

    They start with that month 11 and end with month 10 (or a leap 10); the next month is
    month 11 of ``gregorian_year``.
    """
    k_start, k_end = _month11_k(gregorian_year - 1), _month11_k(gregorian_year)
    days = [_new_moon_day(k) for k in range(k_start, k_end + 1)]
    leap_index: int | None = None
    if k_end - k_start == 13:
        for i in range(1, 13):
            if _sector(days[i]) == _sector(days[i + 1]):
                leap_index = i
                break
    months: list[_Month] = []
    number = 10
    for i, start in enumerate(days[:-1]):
        if i == leap_index:
            months.append((start, number, True))
        else:
            number = number % 12 + 1
            months.append((start, number, False))
    return tuple(months)


@lru_cache(maxsize=256)
def _year_table(year: int) -> tuple[tuple[_Month, ...], date]:
    """The months of lunar year ``year`` in order, and the first day of the next year (Tết)."""
    this, following = _months_from_11(year), _months_from_11(year + 1)
    # Months 1-10 (and a leap 1-10) come from the span ending in month 11 of `year`; months
    # 11 and 12 (and a leap 11 or 12) from the span starting there. Months 11 and 12 of
    # `this` belong to the year before.
    head = [m for m in this if m[1] < 11]
    tail = [m for m in following if m[1] >= 11]
    next_tet = next(m[0] for m in following if m[1] == 1 and not m[2])
    return tuple(head + tail), next_tet


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise LunarDateError(
            f"lunar year {year} is outside the supported range {FIRST_YEAR}-{LAST_YEAR}"
        )


def _month_bounds(year: int, month: int, leap: bool) -> tuple[date, int]:
    """The first day and the length of a lunar month, or LunarDateError if it does not exist."""
    _check_year(year)
    if not 1 <= month <= 12:
        raise LunarDateError(f"lunar month must be 1-12, not {month}")
    months, next_tet = _year_table(year)
    for i, (start, number, is_leap) in enumerate(months):
        if number == month and is_leap == leap:
            end = months[i + 1][0] if i + 1 < len(months) else next_tet
            return start, (end - start).days
    actual = leap_month(year)
    has = f"its leap month is {actual}" if actual else "it has no leap month"
    raise LunarDateError(f"lunar year {year} has no leap month {month}; {has}")


# --- public API --------------------------------------------------------------------------


def leap_month(year: int) -> int | None:
    """The number of the leap month (tháng nhuận) of lunar year ``year``, or None."""
    _check_year(year)
    months, _ = _year_table(year)
    return next((number for _, number, is_leap in months if is_leap), None)


def month_length(year: int, month: int, leap: bool = False) -> int:
    """29 or 30: the number of days of a lunar month (LunarDateError if it does not exist)."""
    return _month_bounds(year, month, leap)[1]


def lunar_to_solar(year: int, month: int, day: int, leap: bool = False) -> date:
    """The Gregorian date of a lunar date; LunarDateError (saying what exists) if impossible."""
    start, length = _month_bounds(year, month, leap)
    if not 1 <= day <= length:
        name = f"{month}{' nhuận' if leap else ''}/{year}"
        raise LunarDateError(f"lunar month {name} has {length} days, there is no day {day}")
    return start + timedelta(days=day - 1)


def solar_to_lunar(d: date) -> LunarDate:
    """The lunar date of Gregorian day ``d`` (lunar years 1900-2100)."""
    year = d.year if d < _new_moon_day(_month11_k(d.year)) else d.year + 1
    # `year` is the span holding d; months 11 and 12 of that span belong to the year before.
    months = _months_from_11(year)
    i = bisect.bisect_right([m[0] for m in months], d) - 1
    start, number, is_leap = months[i]
    lunar_year = year - 1 if number >= 11 else year
    _check_year(lunar_year)
    return LunarDate(lunar_year, number, (d - start).days + 1, is_leap)


def tet(year: int) -> date:
    """Tết Nguyên Đán: the Gregorian date of lunar 1/1 of ``year``."""
    return lunar_to_solar(year, 1, 1)


_STEMS = ("Giáp", "Ất", "Bính", "Đinh", "Mậu", "Kỷ", "Canh", "Tân", "Nhâm", "Quý")
_BRANCHES = ("Tý", "Sửu", "Dần", "Mão", "Thìn", "Tỵ", "Ngọ", "Mùi", "Thân", "Dậu", "Tuất", "Hợi")


def can_chi(year: int) -> str:
    """The sexagenary name of lunar year ``year`` ("Giáp Thìn" for 2024), used to check
    that a year written with its can-chi name agrees."""
    return f"{_STEMS[(year + 6) % 10]} {_BRANCHES[(year + 8) % 12]}"
