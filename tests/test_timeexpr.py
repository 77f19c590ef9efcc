"""Reading Vietnamese time phrases (docs/cach-ghi-thoi-gian.md), table-driven.

Every phrase the spec lists from the five seed documents is here with the plan year its
document gives, then one table per rule, the errors, describe(), parse_date, parse_yearly
and a Hypothesis property: parse_time returns a Timing or raises TimeExprError, nothing else.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminderd.core.errors import TimeExprError
from reminderd.core.timeexpr import describe, parse_date, parse_time, parse_yearly
from reminderd.core.timing import Kind, Recurrence, Relative, Timing

D = date
DL, WIN, REC, ONG, UNS = Kind.DEADLINE, Kind.WINDOW, Kind.RECURRING, Kind.ONGOING, Kind.UNSCHEDULED
YEAR_END = Recurrence("yearly", -1, (12,))
HALF_YEARLY = Recurrence("yearly", -1, (6, 12))
EVERY_2_YEARS = Recurrence("yearly", 0, interval=2)


def yearly(day: int, month: int, **kw: object) -> Recurrence:
    return Recurrence("yearly", day, (month,), **kw)  # type: ignore[arg-type]


def deadline(end: date, nominal: date | None = None) -> dict[str, object]:
    return {"end": end, "nominal": nominal or end}


def window(start: date, end: date, **kw: object) -> dict[str, object]:
    return {"start": start, "end": end, **kw}


def case(text: str, year: int | None, kind: Kind, **fields: object) -> object:
    return pytest.param(text, year, Timing(kind, text, **fields), id=f"{text}|{year}")  # type: ignore[arg-type]


def check(text: str, year: int | None, expected: Timing) -> None:
    """The dates as before; words set aside ("Thời gian dự kiến:") are checked elsewhere."""
    got = parse_time(text, year)
    assert replace(got, ignored=()) == replace(expected, ignored=())


# --- every phrase the spec lists from the seeds, with its document's year ----------------

SEED_PHRASES = [
    # occasions list: yearly dates recur; in a plan with its year they are that year's day
    case("03/10", None, REC, recurrence=yearly(3, 10)),
    case("15/8", None, REC, recurrence=yearly(15, 8)),
    case("22/12", None, REC, recurrence=yearly(22, 12)),
    case("02/12", None, REC, recurrence=yearly(2, 12)),
    case("15/8", 2022, DL, **deadline(D(2022, 8, 15))),
    case("22/12", 2022, DL, **deadline(D(2022, 12, 22))),
    # 000 and 001 (2022)
    case("Trước ngày 15/8/2022", 2022, DL, **deadline(D(2022, 8, 14), D(2022, 8, 15))),
    case("Trước ngày 22/12/2022", 2022, DL, **deadline(D(2022, 12, 21), D(2022, 12, 22))),
    case("vào tháng 01/2023", 2022, WIN, **window(D(2023, 1, 1), D(2023, 1, 31))),
    case("trước ngày 31/12/2022", 2022, DL, **deadline(D(2022, 12, 30), D(2022, 12, 31))),
    case("Quý I năm 2022", 2022, WIN, **window(D(2022, 1, 1), D(2022, 3, 31))),
    case("Quý I hoặc quý II năm 2022", 2022, WIN, **window(D(2022, 1, 1), D(2022, 6, 30))),
    case("quý II, III", 2022, WIN, **window(D(2022, 4, 1), D(2022, 9, 30))),
    case("Quý III, IV", 2022, WIN, **window(D(2022, 7, 1), D(2022, 12, 31))),
    case("Quý II năm 2022", 2022, WIN, **window(D(2022, 4, 1), D(2022, 6, 30))),
    case("Quý III năm 2022", 2022, WIN, **window(D(2022, 7, 1), D(2022, 9, 30))),
    case("Năm 2022", 2022, WIN, **window(D(2022, 1, 1), D(2022, 12, 31))),
    case("năm 2022", 2022, WIN, **window(D(2022, 1, 1), D(2022, 12, 31))),
    case("Năm 2022.", 2022, WIN, **window(D(2022, 1, 1), D(2022, 12, 31))),
    case("Từ tháng 2 năm 2022", 2022, ONG, start=D(2022, 2, 1)),
    case("Từ tháng 2 năm 2022.", 2022, ONG, start=D(2022, 2, 1)),
    case("Thời gian dự kiến: Quý I năm 2022.", 2022, WIN, **window(D(2022, 1, 1), D(2022, 3, 31))),
    case("Thời gian: Trước ngày 15/8/2022.", 2022, DL, **deadline(D(2022, 8, 14), D(2022, 8, 15))),
    case("vào tháng 07/2022", 2022, WIN, **window(D(2022, 7, 1), D(2022, 7, 31))),
    case("vào tháng 01/2023 hoặc đột xuất khi được yêu cầu", 2022, WIN,
         **window(D(2023, 1, 1), D(2023, 1, 31))),
    case("từ ngày 22/12/2017 đến nay", 2022, ONG, start=D(2017, 12, 22)),
    case("(22/12/1992 - 22/12/2022)", 2022, REC,
         recurrence=yearly(22, 12, anchor=D(1992, 12, 22)), since=1992),
    case("(30/08/2012 - 30/08/2022)", 2022, REC,
         recurrence=yearly(30, 8, anchor=D(2012, 8, 30)), since=2012),
    case("(30/08/2012 – 30/08/2022)", 2022, REC,
         recurrence=yearly(30, 8, anchor=D(2012, 8, 30)), since=2012),
    case("(02/12/2021)", 2022, DL, **deadline(D(2021, 12, 2))),
    case("(ngày 03/10/2022)", 2022, DL, **deadline(D(2022, 10, 3))),
    case("Theo Kế hoạch của đoàn cấp cao", 2022, UNS, reason="Theo Kế hoạch của đoàn cấp cao"),
    case("Thời gian dự kiến: Theo Kế hoạch của đoàn cấp cao.", 2022, UNS,
         reason="Theo Kế hoạch của đoàn cấp cao"),
    case("Theo chương trình làm việc cụ thể của các đoàn", 2022, UNS,
         reason="Theo chương trình làm việc cụ thể của các đoàn"),
    case("6 tháng, hằng năm", 2022, REC, recurrence=HALF_YEARLY),
    # 002 (2024)
    case("Quý II/2024", 2024, WIN, **window(D(2024, 4, 1), D(2024, 6, 30))),
    case("Quý III/2024", 2024, WIN, **window(D(2024, 7, 1), D(2024, 9, 30))),
    case("Tháng 10/2024", 2024, WIN, **window(D(2024, 10, 1), D(2024, 10, 31))),
    case("Tháng 4/2024", 2024, WIN, **window(D(2024, 4, 1), D(2024, 4, 30))),
    case("Tháng 6/2024", 2024, WIN, **window(D(2024, 6, 1), D(2024, 6, 30))),
    case("Tháng 12/2024", 2024, WIN, **window(D(2024, 12, 1), D(2024, 12, 31))),
    case("Trong năm 2024", 2024, WIN, **window(D(2024, 1, 1), D(2024, 12, 31))),
    case("Thường xuyên trong năm 2024", 2024, ONG, start=D(2024, 1, 1), end=D(2024, 12, 31)),
    case("(1969 - 2024)", 2024, WIN, **window(D(2024, 1, 1), D(2024, 12, 31), since=1969)),
    case("(1954 - 2024)", 2024, WIN, **window(D(2024, 1, 1), D(2024, 12, 31), since=1954)),
    case("(1989 - 2024)", 2024, WIN, **window(D(2024, 1, 1), D(2024, 12, 31), since=1989)),
    case("(1973 - 2023)", 2024, WIN, **window(D(2023, 1, 1), D(2023, 12, 31), since=1973)),
    case("(02/12/2024)", 2024, DL, **deadline(D(2024, 12, 2))),
    case("6 tháng, hằng năm", 2024, REC, recurrence=HALF_YEARLY),
    # 003 (2026)
    case("trước ngày 12/6/2026", 2026, DL, **deadline(D(2026, 6, 11), D(2026, 6, 12))),
    case("05 ngày làm việc trong nửa cuối tháng 7/2026", 2026, WIN,
         **window(D(2026, 7, 16), D(2026, 7, 31), workdays=5)),
    case("05 ngày làm việc trong nửa cuối tháng 7/2026 (chưa bao gồm thời gian di chuyển)",
         2026, WIN, **window(D(2026, 7, 16), D(2026, 7, 31), workdays=5)),
    # 004 (an agreement signed 22/12/2017)
    case("định kỳ 02 năm/lần", None, REC, recurrence=EVERY_2_YEARS),
    case("định kỳ 02 năm/lần", 2017, REC, recurrence=EVERY_2_YEARS),
    # "có giá trị trong vòng 5 năm" counts from the signing day the agreement gives
    # (valid_years in plans.yaml); alone it is unscheduled: see UNANCHORED below.
    case("22/12/2017", None, DL, **deadline(D(2017, 12, 22))),
]


@pytest.mark.parametrize(("text", "year", "expected"), SEED_PHRASES)
def test_seed_phrases(text: str, year: int | None, expected: Timing) -> None:
    check(text, year, expected)


# --- one table per rule --------------------------------------------------------------------

DATES = [
    # day-first always; separators / - . ; zero padding optional; stray spaces
    case("12/6/2026", None, DL, **deadline(D(2026, 6, 12))),
    case("12-6-2026", None, DL, **deadline(D(2026, 6, 12))),
    case("12.6.2026", None, DL, **deadline(D(2026, 6, 12))),
    case("12 / 06 / 2026", None, DL, **deadline(D(2026, 6, 12))),
    case("9/11/2025", None, DL, **deadline(D(2025, 11, 9))),
    case("2026-06-12", None, DL, **deadline(D(2026, 6, 12))),
    case("ngày 05 tháng 9 năm 2025", None, DL, **deadline(D(2025, 9, 5))),
    case("ngày 06 (sáu) tháng 06 (sáu) năm 2025", None, DL, **deadline(D(2025, 6, 6))),
    case("ngày 15 (mười lăm) tháng 8 (tám) năm 2025", None, DL, **deadline(D(2025, 8, 15))),
    case("mùng 5 tháng 9 năm 2025", None, DL, **deadline(D(2025, 9, 5))),
    case("mồng 5 tháng 9 năm 2025", None, DL, **deadline(D(2025, 9, 5))),
    case("ngày mùng 1 tháng 9 năm 2025", None, DL, **deadline(D(2025, 9, 1))),  # solar
    case("ngày mười lăm tháng tám năm 2025", None, DL, **deadline(D(2025, 8, 15))),
    case("ngày hai mươi mốt tháng mười hai năm 2025", None, DL, **deadline(D(2025, 12, 21))),
    case("ngày ba mươi mốt tháng 12 năm 2025", None, DL, **deadline(D(2025, 12, 31))),
    case("ngày 29/02/2024", None, DL, **deadline(D(2024, 2, 29))),
    # a day and month without a year: the plan's year, else every year
    case("ngày 15 tháng 8", None, REC, recurrence=yearly(15, 8)),
    case("ngày 15 tháng 8", 2022, DL, **deadline(D(2022, 8, 15))),
    case("ngày 15/8", 2024, DL, **deadline(D(2024, 8, 15))),
    case("9/11", None, REC, recurrence=yearly(9, 11)),
    case("ngày 29/02", None, REC, recurrence=yearly(29, 2)),
]

DEADLINES = [
    case("trước ngày 15/8", 2022, DL, **deadline(D(2022, 8, 14), D(2022, 8, 15))),
    case("trước 15/8/2022", None, DL, **deadline(D(2022, 8, 14), D(2022, 8, 15))),
    case("trước ngày 01/01/2023", None, DL, **deadline(D(2022, 12, 31), D(2023, 1, 1))),
    case("chậm nhất trước ngày 15/8/2022", None, DL, **deadline(D(2022, 8, 14), D(2022, 8, 15))),
    case("trước tháng 7/2026", None, DL, **deadline(D(2026, 6, 30), D(2026, 7, 1))),
    case("chậm nhất ngày 15/8/2022", None, DL, **deadline(D(2022, 8, 15))),
    case("chậm nhất là ngày 15/8/2022", None, DL, **deadline(D(2022, 8, 15))),
    case("chậm nhất vào ngày 15/8/2022", None, DL, **deadline(D(2022, 8, 15))),
    case("chậm nhất 15/8/2022", None, DL, **deadline(D(2022, 8, 15))),
    case("đến hết ngày 15/8/2022", None, DL, **deadline(D(2022, 8, 15))),
    case("hạn chót 15/8/2022", None, DL, **deadline(D(2022, 8, 15))),
    case("hạn chót là ngày 15/8/2022", None, DL, **deadline(D(2022, 8, 15))),
    case("hạn 15/8/2022", None, DL, **deadline(D(2022, 8, 15))),
    case("hạn nộp 15/8/2022", None, DL, **deadline(D(2022, 8, 15))),
    case("đến ngày 15/8/2022", None, DL, **deadline(D(2022, 8, 15))),
    case("đến hết năm 2025", None, DL, **deadline(D(2025, 12, 31))),
    case("chậm nhất đến hết ngày 15/8/2022", None, DL, **deadline(D(2022, 8, 15))),
    case("chậm nhất ngày 20/8", 2024, DL, **deadline(D(2024, 8, 20))),
]

MONTHS_AND_YEARS = [
    case("tháng 10/2024", None, WIN, **window(D(2024, 10, 1), D(2024, 10, 31))),
    case("trong tháng 12/2025", None, WIN, **window(D(2025, 12, 1), D(2025, 12, 31))),
    case("01/2023", None, WIN, **window(D(2023, 1, 1), D(2023, 1, 31))),
    case("6/2025", None, WIN, **window(D(2025, 6, 1), D(2025, 6, 30))),
    case("tháng 2-2024", None, WIN, **window(D(2024, 2, 1), D(2024, 2, 29))),
    case("tháng 7 năm 2022", None, WIN, **window(D(2022, 7, 1), D(2022, 7, 31))),
    case("tháng 7", 2022, WIN, **window(D(2022, 7, 1), D(2022, 7, 31))),
    case("tháng mười hai năm 2025", None, WIN, **window(D(2025, 12, 1), D(2025, 12, 31))),
    case("tháng 07 (bảy) năm 2026", None, WIN, **window(D(2026, 7, 1), D(2026, 7, 31))),
    case("2025", None, WIN, **window(D(2025, 1, 1), D(2025, 12, 31))),
    case("Trong năm 2024", None, WIN, **window(D(2024, 1, 1), D(2024, 12, 31))),
    case("trong cả năm 2022", None, WIN, **window(D(2022, 1, 1), D(2022, 12, 31))),
    case("giai đoạn 2026 - 2030", None, WIN, **window(D(2026, 1, 1), D(2030, 12, 31))),
    case("giai đoạn 2021-2025", None, WIN, **window(D(2021, 1, 1), D(2025, 12, 31))),
    case("2025-2026", None, WIN, **window(D(2025, 1, 1), D(2026, 12, 31))),
    case("2025 – 2026", None, WIN, **window(D(2025, 1, 1), D(2026, 12, 31))),
    case("từ năm 2025 đến năm 2026", None, WIN, **window(D(2025, 1, 1), D(2026, 12, 31))),
]

QUARTERS = [
    case("Quý I năm 2022", None, WIN, **window(D(2022, 1, 1), D(2022, 3, 31))),
    case("Quý IV/2022", None, WIN, **window(D(2022, 10, 1), D(2022, 12, 31))),
    case("quý iv/2022", None, WIN, **window(D(2022, 10, 1), D(2022, 12, 31))),
    case("QUÝ II/2024", None, WIN, **window(D(2024, 4, 1), D(2024, 6, 30))),
    case("quý 2/2025", None, WIN, **window(D(2025, 4, 1), D(2025, 6, 30))),
    case("quý 2 năm 2025", None, WIN, **window(D(2025, 4, 1), D(2025, 6, 30))),
    case("quí II/2024", None, WIN, **window(D(2024, 4, 1), D(2024, 6, 30))),
    case("quý III-IV/2024", None, WIN, **window(D(2024, 7, 1), D(2024, 12, 31))),
    case("quý III – IV/2024", None, WIN, **window(D(2024, 7, 1), D(2024, 12, 31))),
    case("quý I và quý II", 2024, WIN, **window(D(2024, 1, 1), D(2024, 6, 30))),
    case("Quý I, III năm 2024", None, WIN, **window(D(2024, 1, 1), D(2024, 9, 30))),
    case("quý II", 2026, WIN, **window(D(2026, 4, 1), D(2026, 6, 30))),
]

PARTS = [
    case("6 tháng đầu năm 2024", None, WIN, **window(D(2024, 1, 1), D(2024, 6, 30))),
    case("6 tháng đầu năm", 2024, WIN, **window(D(2024, 1, 1), D(2024, 6, 30))),
    case("6 tháng cuối năm", 2024, WIN, **window(D(2024, 7, 1), D(2024, 12, 31))),
    case("9 tháng đầu năm", 2024, WIN, **window(D(2024, 1, 1), D(2024, 9, 30))),
    case("sáu tháng cuối năm 2025", None, WIN, **window(D(2025, 7, 1), D(2025, 12, 31))),
    case("thượng tuần tháng 7/2026", None, WIN, **window(D(2026, 7, 1), D(2026, 7, 10))),
    case("trung tuần tháng 7/2026", None, WIN, **window(D(2026, 7, 11), D(2026, 7, 20))),
    case("hạ tuần tháng 7/2026", None, WIN, **window(D(2026, 7, 21), D(2026, 7, 31))),
    case("hạ tuần tháng 2", 2024, WIN, **window(D(2024, 2, 21), D(2024, 2, 29))),
    case("nửa đầu tháng 7/2026", None, WIN, **window(D(2026, 7, 1), D(2026, 7, 15))),
    case("nửa cuối tháng 7/2026", None, WIN, **window(D(2026, 7, 16), D(2026, 7, 31))),
    case("nửa cuối tháng 2 năm 2026", None, WIN, **window(D(2026, 2, 16), D(2026, 2, 28))),
    # Civil Code Art. 146: points, read as deadlines
    case("đầu tháng 7/2026", None, DL, **deadline(D(2026, 7, 1))),
    case("giữa tháng 7/2026", None, DL, **deadline(D(2026, 7, 15))),
    case("cuối tháng 7/2026", None, DL, **deadline(D(2026, 7, 31))),
    case("cuối tháng 2", 2024, DL, **deadline(D(2024, 2, 29))),
    case("đầu năm 2026", None, DL, **deadline(D(2026, 1, 1))),
    case("giữa năm 2026", None, DL, **deadline(D(2026, 6, 30))),
    case("cuối năm 2026", None, DL, **deadline(D(2026, 12, 31))),
    case("cuối năm", 2026, DL, **deadline(D(2026, 12, 31))),
]

RANGES_AND_ONGOING = [
    case("từ ngày 01/7 đến ngày 15/7/2025", None, WIN, **window(D(2025, 7, 1), D(2025, 7, 15))),
    case("01/7/2025 - 15/7/2025", None, WIN, **window(D(2025, 7, 1), D(2025, 7, 15))),
    case("01/7/2025 – 15/7/2025", None, WIN, **window(D(2025, 7, 1), D(2025, 7, 15))),
    case("từ 01/7 đến 15/7/2025", None, WIN, **window(D(2025, 7, 1), D(2025, 7, 15))),
    case("từ 01/7 đến 15/7", 2025, WIN, **window(D(2025, 7, 1), D(2025, 7, 15))),
    case("01/7-15/7", 2025, WIN, **window(D(2025, 7, 1), D(2025, 7, 15))),
    case("từ 01/7-15/7/2025", None, WIN, **window(D(2025, 7, 1), D(2025, 7, 15))),
    case("từ ngày 01/7/2025 đến hết ngày 31/12/2025", None, WIN,
         **window(D(2025, 7, 1), D(2025, 12, 31))),
    case("tháng 7-tháng 9/2025", None, WIN, **window(D(2025, 7, 1), D(2025, 9, 30))),
    case("từ tháng 7 đến tháng 9 năm 2025", None, WIN, **window(D(2025, 7, 1), D(2025, 9, 30))),
    case("Từ tháng 2 năm 2022", None, ONG, start=D(2022, 2, 1)),
    case("từ ngày 01/7/2025", None, ONG, start=D(2025, 7, 1)),
    case("từ năm 2025", None, ONG, start=D(2025, 1, 1)),
    case("từ quý II/2024", None, ONG, start=D(2024, 4, 1)),
    case("2025 và những năm tiếp theo", None, ONG, start=D(2025, 1, 1)),
    case("năm 2025 và các năm tiếp theo", None, ONG, start=D(2025, 1, 1)),
    case("Thường xuyên trong năm 2024", None, ONG, start=D(2024, 1, 1), end=D(2024, 12, 31)),
    case("Thường xuyên", 2024, ONG, start=D(2024, 1, 1), end=D(2024, 12, 31)),
    case("Thường xuyên", None, ONG),
    case("thường xuyên, liên tục", None, ONG),
    case("thường xuyên, liên tục", 2025, ONG, start=D(2025, 1, 1), end=D(2025, 12, 31)),
    case("thường xuyên trong giai đoạn 2021-2025", None, ONG,
         start=D(2021, 1, 1), end=D(2025, 12, 31)),
]

WORKING_DAYS = [
    case("05 ngày làm việc trong nửa cuối tháng 7/2026", None, WIN,
         **window(D(2026, 7, 16), D(2026, 7, 31), workdays=5)),
    case("05 ngày làm việc trong nửa cuối tháng 7/2026 (chưa bao gồm thời gian di chuyển)",
         None, WIN, **window(D(2026, 7, 16), D(2026, 7, 31), workdays=5)),
    case("năm ngày làm việc trong tháng 7/2026", None, WIN,
         **window(D(2026, 7, 1), D(2026, 7, 31), workdays=5)),
    case("05 ngày trong tháng 7/2026", None, WIN, **window(D(2026, 7, 1), D(2026, 7, 31))),
    case("10 ngày làm việc trong quý III", 2026, WIN,
         **window(D(2026, 7, 1), D(2026, 9, 30), workdays=10)),
]

# A period counted from an anchor the phrase does not date: unscheduled, with the reason;
# the relative period is kept so the admin sees what was read.
UNANCHORED = [
    ("trong vòng 15 ngày kể từ ngày ký", None, Relative(15, "day", "ký")),
    ("trong vòng 15 ngày làm việc kể từ ngày nhận", None, Relative(15, "working_day", "nhận")),
    ("trong vòng 15 ngày làm việc kể từ ngày nhận được", 2024,
     Relative(15, "working_day", "nhận")),
    ("15 ngày kể từ ngày ký kết", None, Relative(15, "day", "ký")),
    ("có giá trị trong vòng 5 năm", None, Relative(5, "year", "hiệu lực")),
    ("có hiệu lực 5 năm", None, Relative(5, "year", "hiệu lực")),
    ("có giá trị trong vòng năm năm", None, Relative(5, "year", "hiệu lực")),
    ("trong vòng 3 tháng", None, Relative(3, "month", "")),
    ("trong 2 tuần kể từ ngày ban hành", None, Relative(14, "day", "ban hành")),
    ("trong vòng 30 ngày kể từ ngày kết thúc hội nghị", None,
     Relative(30, "day", "kết thúc hội nghị")),  # unknown anchor: as written
    ("có hiệu lực kể từ ngày ký và có giá trị trong vòng 5 năm.", None,
     Relative(5, "year", "ký")),
]


@pytest.mark.parametrize(("text", "year", "relative"), UNANCHORED)
def test_periods_without_a_dated_anchor_are_unscheduled(
    text: str, year: int | None, relative: Relative
) -> None:
    timing = parse_time(text, year)
    assert timing.kind is UNS and timing.relative == relative
    assert timing.reason is not None and "write the start date" in timing.reason
    assert describe(timing, 2025)["end"] is None


RECURRENCES = [
    case("ngày 20 hằng tháng", None, REC, recurrence=Recurrence("monthly", 20)),
    case("ngày 5 hàng tháng", 2024, REC, recurrence=Recurrence("monthly", 5)),
    case("15/8 hằng năm", None, REC, recurrence=yearly(15, 8)),
    case("ngày 15/8 hằng năm", None, REC, recurrence=yearly(15, 8)),
    case("ngày 15 tháng 8 hàng năm", 2024, REC, recurrence=yearly(15, 8)),
    case("10/3 âm lịch hằng năm", None, REC, recurrence=yearly(10, 3, lunar=True)),
    # a repeating due day: exclusive "trước", inclusive "chậm nhất"
    case("trước ngày 15/12 hằng năm", None, REC, recurrence=yearly(14, 12)),
    case("trước ngày 01/3 hằng năm", None, REC, recurrence=yearly(-1, 2)),  # 28 or 29 Feb
    case("trước ngày 01/01 hằng năm", 2024, REC, recurrence=yearly(-1, 12)),
    case("chậm nhất ngày 15 tháng 12 hằng năm", None, REC, recurrence=yearly(15, 12)),
    case("trước ngày 20 hằng tháng", None, REC, recurrence=Recurrence("monthly", 19)),
    case("trước ngày 01 hằng tháng", None, REC, recurrence=Recurrence("monthly", -1)),
    case("chậm nhất là ngày 5 hằng tháng", None, REC, recurrence=Recurrence("monthly", 5)),
    case("15/8/2022 hằng năm", None, REC, recurrence=yearly(15, 8, anchor=D(2022, 8, 15))),
    case("6 tháng, hằng năm", None, REC, recurrence=HALF_YEARLY),
    case("6 tháng và hằng năm", None, REC, recurrence=HALF_YEARLY),
    case("định kỳ 6 tháng, hằng năm", None, REC, recurrence=HALF_YEARLY),
    case("định kỳ 6 tháng, hằng năm và đột xuất", None, REC, recurrence=HALF_YEARLY),
    case("định kỳ 02 năm/lần", None, REC, recurrence=EVERY_2_YEARS),
    case("2 năm một lần", None, REC, recurrence=EVERY_2_YEARS),
    case("2 năm 1 lần", None, REC, recurrence=EVERY_2_YEARS),
    case("định kỳ hai năm một lần", None, REC, recurrence=EVERY_2_YEARS),
    case("định kỳ 1 năm/lần", None, REC, recurrence=Recurrence("yearly", 0)),
]

ANNIVERSARIES = [
    case("(22/12/1992 - 22/12/2022)", None, REC,
         recurrence=yearly(22, 12, anchor=D(1992, 12, 22)), since=1992),
    case("22/12/1992 - 22/12/2022", None, REC,
         recurrence=yearly(22, 12, anchor=D(1992, 12, 22)), since=1992),
    case("(22/12/1992–22/12/2022)", None, REC,
         recurrence=yearly(22, 12, anchor=D(1992, 12, 22)), since=1992),
    # decision: an unbracketed pair with the same day and month is an anniversary too ...
    case("01/7/2025 - 01/7/2026", None, REC,
         recurrence=yearly(1, 7, anchor=D(2025, 7, 1)), since=2025),
    # ... any other unbracketed pair is a range
    case("22/12/1992 - 23/12/2022", None, WIN, **window(D(1992, 12, 22), D(2022, 12, 23))),
    case("(1969 - 2024)", None, WIN, **window(D(2024, 1, 1), D(2024, 12, 31), since=1969)),
    case("(1969–2024)", 2024, WIN, **window(D(2024, 1, 1), D(2024, 12, 31), since=1969)),
]

LUNAR = [
    case("10/3 âm lịch", None, REC, recurrence=yearly(10, 3, lunar=True)),
    case("10/3 (âm lịch)", None, REC, recurrence=yearly(10, 3, lunar=True)),
    case("ngày 10 tháng 3 âm lịch", None, REC, recurrence=yearly(10, 3, lunar=True)),
    case("10/3 ÂL", None, REC, recurrence=yearly(10, 3, lunar=True)),
    case("rằm tháng Tám", None, REC, recurrence=yearly(15, 8, lunar=True)),
    case("rằm tháng Giêng", None, REC, recurrence=yearly(15, 1, lunar=True)),
    case("mùng 1 tháng Giêng", None, REC, recurrence=yearly(1, 1, lunar=True)),
    case("mồng 1 tháng giêng", None, REC, recurrence=yearly(1, 1, lunar=True)),
    case("ngày 23 tháng Chạp", None, REC, recurrence=yearly(23, 12, lunar=True)),
    case("mùng 10 tháng Ba âm lịch", None, REC, recurrence=yearly(10, 3, lunar=True)),
    case("ngày 10 tháng 6 nhuận", None, REC, recurrence=yearly(10, 6, lunar=True, leap=True)),
    case("Tết Nguyên Đán", None, REC, recurrence=yearly(1, 1, lunar=True)),
    case("Tết Nguyên đán", None, REC, recurrence=yearly(1, 1, lunar=True)),
    case("Tết cổ truyền", None, REC, recurrence=yearly(1, 1, lunar=True)),
    case("Tết Trung thu", None, REC, recurrence=yearly(15, 8, lunar=True)),
    case("Giỗ Tổ Hùng Vương", None, REC, recurrence=yearly(10, 3, lunar=True)),
    # with a year (the lunar year): that year's solar day
    case("Tết Nguyên Đán 2025", None, DL, **deadline(D(2025, 1, 29))),
    case("Tết Nguyên Đán năm 2025", None, DL, **deadline(D(2025, 1, 29))),
    case("Tết Nguyên Đán", 2027, DL, **deadline(D(2027, 2, 6))),
    case("Tết Nguyên Đán 2030", None, DL, **deadline(D(2030, 2, 2))),  # China: 3 Feb
    case("Tết Nguyên Đán 2007", None, DL, **deadline(D(2007, 2, 17))),  # China: 18 Feb
    case("Tết Nguyên Đán 1985", None, DL, **deadline(D(1985, 1, 21))),  # China: 20 Feb
    case("10/3 âm lịch năm 2025", None, DL, **deadline(D(2025, 4, 7))),
    case("10/3/2025 âm lịch", None, DL, **deadline(D(2025, 4, 7))),
    case("10/3 (âm lịch)", 2025, DL, **deadline(D(2025, 4, 7))),
    case("Giỗ Tổ Hùng Vương 2026", None, DL, **deadline(D(2026, 4, 26))),
    case("rằm tháng Giêng", 2025, DL, **deadline(D(2025, 2, 12))),
    case("ngày 10 tháng 6 nhuận âm lịch năm 2025", None, DL, **deadline(D(2025, 8, 3))),
    case("trước Tết Nguyên đán 2025", None, DL, **deadline(D(2025, 1, 28), D(2025, 1, 29))),
    case("trước Tết Nguyên đán", 2025, DL, **deadline(D(2025, 1, 28), D(2025, 1, 29))),
    case("tháng Chạp năm 2024", None, WIN, **window(D(2024, 12, 31), D(2025, 1, 28))),
    # can-chi names must agree with the year
    case("Tết Giáp Thìn 2024", None, DL, **deadline(D(2024, 2, 10))),
    case("năm Ất Tỵ 2025", None, WIN, **window(D(2025, 1, 1), D(2025, 12, 31))),
    case("năm Ất Tị 2025", None, WIN, **window(D(2025, 1, 1), D(2025, 12, 31))),
    case("Xuân Bính Ngọ 2026", None, DL, **deadline(D(2026, 2, 17))),
    case("mùng 1 tháng Giêng năm Ất Tỵ 2025", None, DL, **deadline(D(2025, 1, 29))),
]

UNSCHEDULED = [
    case("theo kế hoạch", None, UNS, reason="theo kế hoạch"),
    case("Theo đề xuất của phía Hàn Quốc", None, UNS, reason="Theo đề xuất của phía Hàn Quốc"),
    case("theo yêu cầu", 2024, UNS, reason="theo yêu cầu"),
    case("Đột xuất", None, UNS, reason="Đột xuất"),
    case("khi có yêu cầu", None, UNS, reason="khi có yêu cầu"),
    case("Khi được yêu cầu.", None, UNS, reason="Khi được yêu cầu"),
    case("Chưa xác định", None, UNS, reason="Chưa xác định"),
    case("Tùy tình hình thực tế", None, UNS, reason="Tùy tình hình thực tế"),
    case("tuỳ tình hình", None, UNS, reason="tuỳ tình hình"),
    case("(chưa xác định thời gian)", None, UNS, reason="(chưa xác định thời gian)"),
    case("Thời gian: theo kế hoạch của UBND tỉnh", None, UNS,
         reason="theo kế hoạch của UBND tỉnh"),
    # a dated phrase with an ad-hoc alternative: the dated part governs
    case("Quý II/2024 hoặc đột xuất", None, WIN, **window(D(2024, 4, 1), D(2024, 6, 30))),
    case("trước ngày 15/8/2022, hoặc khi có yêu cầu", None, DL,
         **deadline(D(2022, 8, 14), D(2022, 8, 15))),
]

NORMALISATION = [
    case("  TRƯỚC   NGÀY 15/8/2022  ", None, DL, **deadline(D(2022, 8, 14), D(2022, 8, 15))),
    case(unicodedata.normalize("NFD", "Trước ngày 15/8/2022"), None, DL,
         **deadline(D(2022, 8, 14), D(2022, 8, 15))),
    case("trước\u00a0ngày\u00a015/8/2022", None, DL, **deadline(D(2022, 8, 14), D(2022, 8, 15))),
    case("dự kiến vào tháng 7/2026", None, WIN, **window(D(2026, 7, 1), D(2026, 7, 31))),
    case("Thời gian thực hiện: Tháng 10/2024", None, WIN,
         **window(D(2024, 10, 1), D(2024, 10, 31))),
    case("- Quý II/2024;", None, WIN, **window(D(2024, 4, 1), D(2024, 6, 30))),
    case("+ Theo kế hoạch", None, UNS, reason="Theo kế hoạch"),
    case("15/8/2022 (Quốc khánh Hàn Quốc)", None, DL, **deadline(D(2022, 8, 15))),
    case("Quý II năm 2024 (dự kiến)", None, WIN, **window(D(2024, 4, 1), D(2024, 6, 30))),
    case("(15/8)", None, REC, recurrence=yearly(15, 8)),
    case("Tháng 10/2024./.", None, WIN, **window(D(2024, 10, 1), D(2024, 10, 31))),
]


@pytest.mark.parametrize(
    ("text", "year", "expected"),
    DATES + DEADLINES + MONTHS_AND_YEARS + QUARTERS + PARTS + RANGES_AND_ONGOING
    + WORKING_DAYS + RECURRENCES + ANNIVERSARIES + LUNAR + UNSCHEDULED
    + NORMALISATION,
)
def test_rules(text: str, year: int | None, expected: Timing) -> None:
    check(text, year, expected)


def test_exclusive_deadline_keeps_nominal() -> None:
    assert parse_time("trước ngày 12/6/2026").exclusive
    assert not parse_time("chậm nhất ngày 12/6/2026").exclusive
    assert not parse_time("12/6/2026").exclusive


# --- errors --------------------------------------------------------------------------------

ERRORS = [
    # impossible dates are errors naming what is wrong, never normalised
    ("31/2/2024", None, "February 2024 has 29 days"),
    ("29/02/2025", None, "February 2025 has 28 days"),
    ("ngày 29/02", 2025, "February 2025 has 28 days"),
    ("30/02", None, "February has at most 29 days"),
    ("31/4", None, "April has at most 30 days"),
    ("31/4", 2024, "April has at most 30 days"),
    ("0/5/2024", None, "no day 0"),
    ("15/13/2024", None, "no month 13"),
    ("tháng 13/2024", None, "no month 13"),
    ("tháng 0/2024", None, "no month 0"),
    ("Quý V/2024", None, "no quarter V"),
    ("quý vi năm 2024", None, "no quarter VI"),
    ("quý 5/2024", None, "no quarter 5"),
    ("quý 0/2024", None, "no quarter 0"),
    ("quý II, I", 2024, "in order"),
    ("13 tháng đầu năm 2024", None, "12 months"),
    ("15/8/2200", None, "outside 1900-2100"),
    ("năm 1850", None, "outside 1900-2100"),
    ("15/8", 1800, "outside 1900-2100"),
    ("ngày 31/2 âm lịch", None, "no day 31"),
    # the year is needed and neither the phrase nor the plan gives it
    ("trước ngày 15/8", None, "write the year (15/8/2022) or give the plan's year"),
    ("tháng 7", None, "write the year (15/8/2022) or give the plan's year"),
    ("Quý II", None, "write the year"),
    ("quý II, III", None, "write the year"),
    ("6 tháng đầu năm", None, "write the year"),
    ("cuối năm", None, "write the year"),
    ("nửa cuối tháng 7", None, "write the year"),
    ("từ 01/7 đến 15/7", None, "write the year"),
    ("trước Tết Nguyên đán", None, "write the year"),
    # lunar days that do not exist in that year
    ("30/12 âm lịch năm 2025", None, "29 days"),
    ("ngày 10 tháng 3 nhuận âm lịch năm 2025", None, "no leap month 3"),
    ("mùng 10 tháng Ba", None, "lunar or a solar"),
    # can-chi must agree with the year, and needs one
    ("Giáp Thìn 2025", None, "Giáp Thìn is 2024, not 2025"),
    ("Tết Giáp Thìn 2025", None, "Giáp Thìn is 2024, not 2025"),
    ("năm Ất Tỵ 2024", None, "Ất Tỵ is 2025, not 2024"),
    ("Tết Giáp Thìn", None, "write it: Giáp Thìn 2024"),
    ("năm Bính Ngọ", 2026, "60-year cycle"),
    # spelled numbers must agree
    ("ngày 06 (bảy) tháng 06 năm 2025", None, "the digits say 6 but the words say 7"),
    # anniversaries
    ("(22/12/1992 - 23/12/2022)", None, "same day and month"),
    ("(22/12/2022 - 22/12/1992)", None, "same day and month"),
    ("(2024 - 1969)", None, "later year second"),
    ("kỷ niệm 30 năm", None, "(22/12/1992 - 22/12/2022)"),
    ("Kỉ niệm 30 năm", 2022, "anniversary"),
    # ranges, counts and rules that cannot be
    ("từ 15/12 đến 15/01/2026", None, "before it starts"),
    ("01/7/2025 - 15/6/2025", None, "before it starts"),
    ("20 ngày làm việc trong thượng tuần tháng 7/2026", None, "do not fit"),
    ("0 năm/lần", None, "interval of 0"),
    ("định kỳ 00 năm/lần", None, "interval of 0"),
    ("5 tháng/lần", None, "does not divide the year"),
    ("ngày 31 hằng tháng", None, "missing from some months"),
    ("trong vòng 0 ngày", None, "at least one"),
    ("hằng tuần", None, "too often"),
    ("trước mùng 1 tháng Giêng hằng năm", None, "lunar month's first day"),
    ("tháng 13 hằng năm", None, "no month 13"),
    ("hằng năm", 3000, "outside"),
    # unknown words: quote the part not understood, hint at forms that work
    ("hôm qua", None, "not understood: 'hôm', 'qua'"),
    ("sau Tết", None, "not understood: 'sau'"),
    ("Tết cổ truyền Bun Pi May Lào năm 2024", None, "'bun', 'pi', 'may', 'lào'"),
    ("ASAP", None, "not understood: 'asap'"),
    ("15 ngày", None, "forms that work"),
    ("15/8-2022", None, "forms that work"),
    ("", None, "empty"),
    ("   ", 2024, "empty"),
    ("x" * 400, None, "longer than"),
]


@pytest.mark.parametrize(("text", "year", "needle"), ERRORS, ids=[e[0][:40] for e in ERRORS])
def test_errors(text: str, year: int | None, needle: str) -> None:
    with pytest.raises(TimeExprError) as info:
        parse_time(text, year)
    exc = info.value
    assert exc.text == text
    assert needle in f"{exc.reason}; {exc.hint}"
    assert repr(text) in str(exc)  # the message quotes the phrase


def test_unknown_words_hint_lists_working_forms() -> None:
    with pytest.raises(TimeExprError) as info:
        parse_time("vào dịp thuận lợi")
    assert "'thuận', 'lợi'" in info.value.reason
    assert "| Quý II/2024 |" in info.value.hint and "| 6 tháng, hằng năm |" in info.value.hint


def test_words_around_the_time_are_set_aside_and_reported() -> None:
    for text, end, ignored in (
        ("Báo cáo gửi Sở Ngoại vụ trước ngày 15/8/2022", D(2022, 8, 14),
         ("Báo cáo gửi Sở Ngoại vụ",)),
        ("Gửi thư chúc mừng ngày 22/12/2022", D(2022, 12, 22), ("Gửi thư chúc mừng",)),
        ("kế hoạch 15/8/2022", D(2022, 8, 15), ("kế hoạch",)),
        ("Tổ chức vào ngày 15/8/2022", D(2022, 8, 15), ("Tổ chức",)),
        ("15/8/2022 gửi Sở Ngoại vụ", D(2022, 8, 15), ("gửi Sở Ngoại vụ",)),
    ):
        timing = parse_time(text, 2022)
        assert (timing.end, timing.ignored) == (end, ignored), text


@pytest.mark.parametrize("text", [
    "dịp 22/12 và năm mới 2023",  # a second date
    "Báo cáo trước khi tổ chức hội nghị tháng 9/2025",  # an anchor
    "Không tổ chức trong tháng 9/2025",  # a negation
    "Nếu cần, tổ chức vào tháng 9/2025",  # a condition
    "Tổ chức sau khi có ý kiến, dự kiến tháng 9/2025",
    "Đợt 1 tháng 3/2025",  # a number set aside
    "Tuần thứ năm của tháng 9/2025",  # a time word not understood
])  # fmt: skip
def test_refuses_when_what_is_set_aside_could_change_the_meaning(text: str) -> None:
    with pytest.raises(TimeExprError):
        parse_time(text, 2025)


# --- describe ------------------------------------------------------------------------------

SPEC_KEYS = {"kind", "start", "end", "rrule", "next", "text"}


def test_describe_half_yearly_reports() -> None:
    info = describe(parse_time("6 tháng, hằng năm", 2024), 2024)
    assert info == {
        "kind": "recurring", "start": None, "end": None,
        "rrule": "FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=-1",
        "next": ["2024-06-30", "2024-12-31", "2025-06-30", "2025-12-31", "2026-06-30"],
        "text": "6 tháng, hằng năm",
    }  # fmt: skip


def test_describe_tet_is_lunar_and_vietnamese() -> None:
    info = describe(parse_time("Tết Nguyên Đán"), 2027)
    assert info["rrule"] is None and info["lunar"] is True and info["kind"] == "recurring"
    assert info["next"] == ["2027-02-06", "2028-01-26", "2029-02-13", "2030-02-02", "2031-01-23"]
    assert "2030-02-02" in info["next"]  # China: 3 February
    assert set(info) == SPEC_KEYS | {"lunar"}


def test_describe_deadline() -> None:
    info = describe(parse_time("Trước ngày 15/8/2022"), 2022)
    assert info == {
        "kind": "deadline", "start": None, "end": "2022-08-14", "rrule": None, "next": [],
        "text": "Trước ngày 15/8/2022", "nominal": "2022-08-15",
    }  # fmt: skip


def test_describe_window_ongoing_unscheduled() -> None:
    info = describe(parse_time("05 ngày làm việc trong nửa cuối tháng 7/2026"), 2026)
    assert info["start"] == "2026-07-16" and info["end"] == "2026-07-31"
    assert info["workdays"] == 5 and set(info) == SPEC_KEYS | {"workdays"}
    info = describe(parse_time("Từ tháng 2 năm 2022"), 2022)
    assert (info["kind"], info["start"], info["end"]) == ("ongoing", "2022-02-01", None)
    assert set(info) == SPEC_KEYS
    info = describe(parse_time("Theo Kế hoạch của đoàn cấp cao"), 2022)
    assert info["kind"] == "unscheduled" and info["reason"] == "Theo Kế hoạch của đoàn cấp cao"
    assert info["start"] is None and info["end"] is None and info["next"] == []


def test_describe_relative_and_anniversaries() -> None:
    info = describe(parse_time("trong vòng 15 ngày làm việc kể từ ngày nhận"), 2024)
    assert info["relative"] == {"amount": 15, "unit": "working_day", "anchor": "nhận",
                                "from": None}
    assert info["kind"] == "unscheduled" and info["end"] is None and info["next"] == []
    info = describe(parse_time("(22/12/1992 - 22/12/2022)"), 2022)
    assert info["since"] == 1992 and info["rrule"] == "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=22"
    assert info["next"][:2] == ["2022-12-22", "2023-12-22"]
    info = describe(parse_time("(1969 - 2024)"), 2024)
    assert info["since"] == 1969 and info["kind"] == "window" and info["next"] == []


def test_describe_rules_waiting_for_an_anchor_have_no_next() -> None:
    info = describe(parse_time("định kỳ 02 năm/lần"), 2024)
    assert info["rrule"] == "FREQ=YEARLY;INTERVAL=2" and info["next"] == []


def test_describe_monthly_and_quarterly() -> None:
    assert describe(parse_time("chậm nhất ngày 20 của tháng cuối quý"), 2025)["next"] == [
        "2025-03-20", "2025-06-20", "2025-09-20", "2025-12-20", "2026-03-20"]
    assert describe(parse_time("ngày 20 hằng tháng"), 2024)["next"][:2] == [
        "2024-01-20", "2024-02-20"]


@pytest.mark.parametrize("text", ["hằng năm", "hàng năm", "Hằng năm", "định kỳ hằng năm",
                                  "hằng quý", "hàng quý", "hằng tháng", "định kỳ 6 tháng",
                                  "định kỳ 6 tháng/lần", "định kỳ 3 tháng/lần"])
def test_a_cadence_without_a_day_is_unscheduled_never_a_made_up_day(text: str) -> None:
    timing = parse_time(text, 2024)
    assert timing.kind is UNS and timing.recurrence is None
    assert timing.reason is not None and "write the day" in timing.reason


# --- parse_date and parse_yearly -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22/12/2017", D(2017, 12, 22)),
        ("2017-12-22", D(2017, 12, 22)),
        ("ngày 22 tháng 12 năm 2017", D(2017, 12, 22)),
        ("Ngày 22 tháng 02 năm 2024", D(2024, 2, 22)),
        ("27/02/2018", D(2018, 2, 27)),
        ("1.1.2025", D(2025, 1, 1)),
        ("ngày 06 (sáu) tháng 06 (sáu) năm 2025", D(2025, 6, 6)),
        ("mùng 5 tháng 9 năm 2025", D(2025, 9, 5)),
        ("Tết Nguyên Đán 2025", D(2025, 1, 29)),
        ("10/3 âm lịch năm 2025", D(2025, 4, 7)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("22/12", "no year"),
        ("31/2/2024", "February 2024 has 29 days"),
        ("2026-02-30", "February 2026 has 28 days"),
        ("12/2025", "not a calendar day"),
        ("Quý II/2024", "not a calendar day"),
        ("hôm qua", "not a calendar day"),
        ("", "not a calendar day"),
    ],
)
def test_parse_date_errors(text: str, needle: str) -> None:
    with pytest.raises(TimeExprError) as info:
        parse_date(text)
    assert needle in info.value.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22/12", yearly(22, 12)),
        ("03/10", yearly(3, 10)),
        ("15/8", yearly(15, 8)),
        ("02/12", yearly(2, 12)),
        ("ngày 2 tháng 9", yearly(2, 9)),
        ("1/1 âm lịch", yearly(1, 1, lunar=True)),
        ("10/3 âm lịch", yearly(10, 3, lunar=True)),
        ("10/3 (âm lịch)", yearly(10, 3, lunar=True)),
        ("rằm tháng Tám", yearly(15, 8, lunar=True)),
        ("rằm tháng Giêng", yearly(15, 1, lunar=True)),
        ("mùng 1 tháng Giêng", yearly(1, 1, lunar=True)),
        ("23 tháng Chạp", yearly(23, 12, lunar=True)),
        ("Tết Nguyên Đán", yearly(1, 1, lunar=True)),
        ("Tết Nguyên đán", yearly(1, 1, lunar=True)),
        ("Tết Trung thu", yearly(15, 8, lunar=True)),
        ("Giỗ Tổ Hùng Vương", yearly(10, 3, lunar=True)),
        ("22/12 hằng năm", yearly(22, 12)),
    ],
)
def test_parse_yearly(text: str, expected: Recurrence) -> None:
    assert parse_yearly(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("22/12/1992", "has no year"),
        ("30/02", "February has at most 29 days"),
        ("tháng 7", "not a yearly date"),
        ("Quý II", "not a yearly date"),
        ("mùng 10 tháng Ba", "lunar or a solar"),
    ],
)
def test_parse_yearly_errors(text: str, needle: str) -> None:
    with pytest.raises(TimeExprError) as info:
        parse_yearly(text)
    assert needle in info.value.reason


# --- cache -----------------------------------------------------------------------------


def test_cached_by_text_and_year() -> None:
    a = parse_time("Quý II năm 2030")
    assert parse_time("Quý II năm 2030") is a
    assert parse_time("15/8", 2022) != parse_time("15/8", 2023)
    assert parse_time("15/8").kind is Kind.RECURRING


# --- property: a Timing or a TimeExprError, never anything else ----------------------------

VOCABULARY = [
    "ngày", "tháng", "năm", "mùng", "rằm", "âm lịch", "(âm lịch)", "nhuận", "Giêng", "Chạp",
    "Quý", "I", "II", "III", "IV", "V", "hoặc", "và", "đến", "hết", "từ", "trước", "chậm nhất",
    "là", "vào", "hạn chót", "trong", "trong vòng", "có giá trị", "có hiệu lực", "kể từ", "ký",
    "làm việc", "tuần", "đầu", "giữa", "cuối", "thượng tuần", "trung tuần", "hạ tuần", "nửa",
    "thường xuyên", "liên tục", "những năm tiếp theo", "giai đoạn", "hằng", "hàng", "định kỳ",
    "lần", "một", "hai", "ba", "mười", "mươi", "lăm", "mốt", "tư", "Tết", "Nguyên Đán",
    "Trung thu", "Giỗ Tổ Hùng Vương", "Xuân", "Giáp Thìn", "Ất Tỵ", "theo kế hoạch", "đột xuất",
    "kỷ niệm", "nay", "(", ")", "/", "-", "–", ".", ",", ":", "(sáu)", "0", "1", "2", "3", "6",
    "9", "12", "13", "15", "29", "30", "31", "00", "02", "1900", "1969", "2024", "2025", "2100",
    "2101", "9999", "15/8", "31/2", "30/02", "15/8/2022", "2026-06-12", "01/2023", "năm/lần",
]  # fmt: skip


def _timing_or_error(text: str, year: int | None) -> None:
    try:
        result = parse_time(text, year)
    except TimeExprError:
        return
    assert isinstance(result, Timing)
    assert result.text == text
    if result.start is not None and result.end is not None:
        assert result.start <= result.end
    describe(result, year or 2024)  # and it can be shown


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80), st.one_of(st.none(), st.integers(1890, 2110)))
def test_any_text_gives_timing_or_timeexprerror(text: str, year: int | None) -> None:
    _timing_or_error(text, year)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=8),
    st.sampled_from(["", " ", "/", "-"]),
    st.one_of(st.none(), st.sampled_from([1900, 2022, 2024, 2026, 2100])),
)
def test_grammar_words_give_timing_or_timeexprerror(
    words: list[str], joiner: str, year: int | None
) -> None:
    _timing_or_error(joiner.join(words) if joiner else " ".join(words), year)


# --- wave 2: the families other provinces and ministries write -----------------------------

WAVE_2 = [
    # words around the time: read, and the words set aside are said
    ("Dự kiến tổ chức vào tháng 9/2025", 2025, "window", "2025-09-01", "2025-09-30", None),
    ("Hoàn thành trước 30/6/2025", 2025, "deadline", None, "2025-06-29", None),
    ("Ngày ban hành: 05/08/2020", None, "deadline", None, "2020-08-05", None),
    ("Không muộn hơn ngày 15/8/2025", None, "deadline", None, "2025-08-15", None),
    # reporting cycles (Nghị định 09/2019/NĐ-CP, Art. 12)
    ("chậm nhất ngày 20 của tháng cuối quý", 2025, "recurring", None, None,
     ["2025-03-20", "2025-06-20", "2025-09-20", "2025-12-20"]),
    ("chậm nhất là ngày 30 của tháng đầu quý sau", 2025, "recurring", None, None,
     ["2025-01-30", "2025-04-30", "2025-07-30", "2025-10-30"]),
    ("Định kỳ hàng quý, chậm nhất trước ngày 10 của tháng đầu quý tiếp theo", 2025, "recurring",
     None, None, ["2025-01-09", "2025-04-09"]),
    ("tính từ ngày 15 tháng 12 năm trước kỳ báo cáo đến ngày 14 tháng 12 của kỳ báo cáo", 2025,
     "recurring", None, None, ["2025-12-14", "2026-12-14"]),
    ("ngày cuối cùng của tháng cuối quý", 2025, "recurring", None, None,
     ["2025-03-31", "2025-06-30"]),
    # several days a year; yearly windows; monthly
    ("trước ngày 15/6 và 15/12 hằng năm", 2025, "recurring", None, None,
     ["2025-06-14", "2025-12-14"]),
    ("ngày 15/6 và 20/12 hằng năm", 2025, "recurring", None, None, ["2025-06-15", "2025-12-20"]),
    ("vào tuần cuối tháng 5 hoặc ngày 01 tháng 6 hằng năm", 2025, "recurring", None, None,
     ["2025-06-01", "2026-06-01"]),
    ("Hằng năm vào dịp Tết Nguyên đán", 2025, "recurring", None, None,
     ["2025-01-29", "2026-02-17"]),  # lunar: never one solar day every year
    ("cuối mỗi quý", 2025, "recurring", None, None, ["2025-03-31", "2025-06-30"]),
    # named days, with their years
    ("Tết cổ truyền Bunpimay 2561 (tính theo Phật lịch)", None, "window", "2018-04-14",
     "2018-04-16", None),
    ("ngày Chiến thắng 30/4 (30/4/1975 - 30/4/2025)", 2025, "recurring", None, None,
     ["2025-04-30", "2026-04-30"]),
    ("(01/5/1886 - 01/5/2018)", 2018, "recurring", None, None, ["2018-05-01", "2019-05-01"]),
    # ranges sharing a month; times of day; weekdays that agree
    ("từ ngày 24 đến 26/3/2026", None, "window", "2026-03-24", "2026-03-26", None),
    ("Tháng 3-4 năm 2025", None, "window", "2025-03-01", "2025-04-30", None),
    ("từ thứ Tư ngày 30/4/2025 đến hết Chủ nhật ngày 04/5/2025", None, "window", "2025-04-30",
     "2025-05-04", None),
    ("ngày 21/4/2021 (nhằm ngày 10 tháng 3 Âm lịch)", None, "deadline", None, "2021-04-21", None),
    # a date in brackets inside the period before it is the more precise reading
    ("Quý III/2025 (trước ngày 15/9/2025)", None, "deadline", None, "2025-09-14", None),
    # periods counted from a written date (Civil Code Art. 147-148)
    ("trong vòng 30 ngày kể từ ngày 01/8/2025", None, "deadline", None, "2025-09-03", None),
    ("có hiệu lực thi hành kể từ ngày 05/11/2019", None, "ongoing", "2019-11-05", None, None),
]  # fmt: skip


@pytest.mark.parametrize(("text", "year", "kind", "start", "end", "first"), WAVE_2,
                         ids=lambda v: str(v)[:40])
def test_wave_2_families(text: str, year: int | None, kind: str, start: str | None,
                         end: str | None, first: list[str] | None) -> None:
    from reminderd.holidays_vn import build_calendar

    info = describe(parse_time(text, year), year or 2025, build_calendar(range(2017, 2027)))
    assert info["kind"] == kind
    assert (info["start"], info["end"]) == (start, end) or kind == "recurring"
    if first is not None:
        assert info["next"][: len(first)] == first  # type: ignore[index]


@pytest.mark.parametrize(("text", "says"), [
    ("Quốc khánh Lào 2/9", "2/12, not 2/9"),  # a date beside a name must agree
    ("Quốc khánh Ba Lan", "not understood"),  # an unknown country is not Vietnam's day
    ("thứ Năm ngày 30/4/2025", "Wednesday"),
    ("ngày 21/4/2021 (nhằm ngày 11 tháng 3 Âm lịch)", "is not"),
    ("trước 25h00 ngày 10/11/2025", "not a time of day"),
    ("Năm 2026 (khi có kinh phí)", "condition"),
    ("ngày 10 và 20/9/2026", "not consecutive"),
    ("tháng 3 hoặc tháng 9 hằng năm", "far apart"),
    ("Quý III/2025 (trước ngày 15/10/2025)", "outside"),
    ("Trước ngày 10 của tháng liền kề của kỳ báo cáo", "forms that work"),
    ("Bunpimay 2553 của Campuchia", "not a day of"),
])  # fmt: skip
def test_wave_2_refusals_say_why(text: str, says: str) -> None:
    with pytest.raises(TimeExprError) as info:
        parse_time(text, 2025)
    assert says in str(info.value)


def test_time_of_day_and_words_set_aside_reach_the_json() -> None:
    info = describe(parse_time("Báo cáo UBND tỉnh trước 17h00 ngày 10/11/2025"), 2025)
    assert (info["end"], info["time"], info["ignored"]) == (
        "2025-11-10", "17:00", ["Báo cáo UBND tỉnh"])
    assert describe(parse_time("sáng ngày 10/11/2025"), 2025)["daypart"] == "sáng"
