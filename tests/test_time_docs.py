"""docs/cach-ghi-thoi-gian.md cannot drift from the grammar.

Every example row of the admin reference (`| \\`phrase\\` | year | reading |`) is read again
and must give the reading the page prints; every named day of the table in code is listed.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from reminderd.core.errors import TimeExprError
from reminderd.core.nameddays import NAMED_DAYS
from reminderd.core.timeexpr import describe, parse_time
from reminderd.holidays_vn import build_calendar
from reminderd.wording import reading

DOC = Path(__file__).resolve().parents[1] / "docs" / "cach-ghi-thoi-gian.md"
ROW = re.compile(r"^\| `(?P<text>[^`]+)` \| (?P<year>[0-9]{4}|—) \| (?P<reading>.+) \|$", re.M)


@cache
def rows() -> list[tuple[str, int | None, str]]:
    found = ROW.findall(DOC.read_text(encoding="utf-8"))
    return [(t, None if y == "—" else int(y), r) for t, y, r in found]


def test_the_reference_has_examples_of_every_family() -> None:
    assert len(rows()) >= 70
    text = DOC.read_text(encoding="utf-8")
    for heading in ("Chữ đứng quanh thời gian", "Kỳ báo cáo", "Nhiều ngày trong năm",
                    "Ngày lễ", "giờ trong ngày", "đầu, giữa, cuối quý", "tính từ một mốc"):
        assert heading in text


@pytest.mark.parametrize(("text", "year", "printed"), rows(), ids=lambda v: str(v)[:50])
def test_each_example_reads_as_the_reference_says(text: str, year: int | None,
                                                  printed: str) -> None:
    try:
        got = reading(describe(parse_time(text, year), year or 2025,
                               build_calendar(range(2020, 2031))))
    except TimeExprError:
        got = "không đọc được"
    assert got == printed


def test_every_named_day_is_listed() -> None:
    text = DOC.read_text(encoding="utf-8")
    for row in NAMED_DAYS:
        assert f"| {row.names[0]}" in text and f"| {row.date} |" in text, row.names[0]


def test_the_error_for_an_unreadable_phrase_points_at_the_reference() -> None:
    with pytest.raises(TimeExprError) as info:
        parse_time("khi nào xong thì báo", 2025)
    assert "docs/cach-ghi-thoi-gian.md" in str(info.value)
