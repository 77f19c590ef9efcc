"""The same feeds read by four independent consumers, which must all see the same events.

- icalendar (Calendar.from_ical, validate(), get_missing_tzids(), per-component errors);
- recurring-ical-events (the expansion calendar apps built on icalendar use);
- vobject (Radicale's parser), with its own validation;
- Mozilla ical.js through Node (Thunderbird's parser), pinned in tests/node/package.json.

``consume`` is reusable: give it any feed's bytes (e.g. the bundled plans.yaml's feeds).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import icalendar
import pytest
import recurring_ical_events
import vobject
from defaults import options
from test_ics import AGENCIES, SAMPLE, build, expected

NODE_DIR = Path(__file__).parent / "node"
Event = tuple[str, date, date, str, str]  # uid, start, end (exclusive), summary, description


def via_icalendar(feed: bytes) -> list[Event]:
    cal = icalendar.Calendar.from_ical(feed)
    cal.validate()  # type: ignore[no-untyped-call]
    assert cal.get_missing_tzids() == set()
    assert cal.get("METHOD") is None
    out = []
    for component in cal.walk():
        assert not component.errors, (component.name, component.errors)
    for ev in cal.walk("VEVENT"):
        start, end = ev.decoded("DTSTART"), ev.decoded("DTEND")
        assert type(start) is date and type(end) is date, "all-day: VALUE=DATE"
        assert "TZID" not in ev["DTSTART"].params and "RRULE" not in ev
        out.append((str(ev["UID"]), start, end, str(ev["SUMMARY"]), str(ev["DESCRIPTION"])))
    return out


def via_recurring_ical_events(feed: bytes) -> list[Event]:
    cal = icalendar.Calendar.from_ical(feed)
    out = []
    for ev in recurring_ical_events.of(cal).between(date(1900, 1, 1), date(2200, 1, 1)):
        start, end = ev["DTSTART"].dt, ev["DTEND"].dt
        assert type(start) is date and type(end) is date
        out.append((str(ev["UID"]), start, end, str(ev["SUMMARY"]), str(ev["DESCRIPTION"])))
    return out


def via_vobject(feed: bytes) -> list[Event]:
    cal = vobject.readOne(feed.decode("utf-8"), validate=True)
    out = []
    for ev in cal.contents.get("vevent", []):
        start, end = ev.dtstart.value, ev.dtend.value
        assert type(start) is date and type(end) is date
        out.append((ev.uid.value, start, end, ev.summary.value, ev.description.value))
    return out


def node_available() -> str | None:
    """Why ical.js cannot run here, or None. Under REMINDERD_REQUIRE_NODE=1 (.ci/run) a
    missing node fails, so that CI cannot pass by dropping the ical.js comparison."""
    if shutil.which("node") is None:
        if os.environ.get("REMINDERD_REQUIRE_NODE") == "1":
            pytest.fail("REMINDERD_REQUIRE_NODE=1 but node is not installed: the Mozilla "
                        "ical.js consumer check may not be dropped")
        return "node is not installed: the Mozilla ical.js consumer check is skipped"
    # With node present, a missing ical.js is a set-up failure, never a quiet skip.
    assert (NODE_DIR / "node_modules" / "ical.js" / "package.json").is_file(), (
        "node is installed but tests/node/node_modules is missing: run `make test` "
        "(npm ci --prefix tests/node) to install the pinned ical.js")
    return None


def via_icaljs(feed: bytes, tmp_path: Path) -> tuple[dict[str, Any], list[Event]]:
    path = tmp_path / "feed.ics"
    path.write_bytes(feed)
    done = subprocess.run(["node", str(NODE_DIR / "parse.mjs"), str(path)], capture_output=True,
                          text=True, check=True, timeout=120)
    data = json.loads(done.stdout)
    out = []
    for ev in data["events"]:
        assert ev["allDay"], ev
        out.append((ev["uid"], date.fromisoformat(ev["start"]), date.fromisoformat(ev["end"]),
                    ev["summary"], ev["description"]))
    return data["calendar"], out


def consume(feed: bytes, tmp_path: Path) -> list[Event]:
    """Every consumer's events, checked equal; returns them sorted."""
    seen = {
        "icalendar": sorted(via_icalendar(feed)),
        "recurring_ical_events": sorted(via_recurring_ical_events(feed)),
        "vobject": sorted(via_vobject(feed)),
    }
    if node_available() is None:
        calendar, events = via_icaljs(feed, tmp_path)
        assert calendar["method"] is None and calendar["refresh"] == "PT12H"
        seen["ical.js"] = sorted(events)
    reference = seen["icalendar"]
    uids = [e[0] for e in reference]
    assert len(uids) == len(set(uids)), "UIDs are unique"
    for name, events in seen.items():
        assert events == reference, f"{name} disagrees with icalendar"
    return reference


FEEDS: dict[str, dict[str, Any]] = {
    "whole": {},
    "spans+contacts": {"show_spans": True, "include_contacts": True},
    **{f"agency:{a}": {"agency": a} for a in AGENCIES},
}
CONSUMERS = ["recurring_ical_events", "vobject", pytest.param("ical.js", marks=pytest.mark.node)]


def expected_events(name: str) -> list[tuple[str, date, date]]:
    opts = FEEDS[name]
    agency = opts.get("agency")
    out = []
    for o in SAMPLE:
        if agency is not None and agency not in o.lead and agency not in o.support:
            continue
        out += expected(o, show_spans=bool(opts.get("show_spans")))
    return sorted(out)


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_icalendar_sees_every_event_on_its_day(name: str) -> None:
    events = sorted(via_icalendar(build(**FEEDS[name])))
    assert [e[:3] for e in events] == expected_events(name)
    uids = [e[0] for e in events]
    assert len(uids) == len(set(uids)), "UIDs are unique"
    if name == "whole":
        by_uid = {e[0]: e for e in events}
        assert by_uid["occasion/tet@2030@reminderd.local"][1] == date(2030, 2, 2)
        assert by_uid["occasion/vn-kr@2022@reminderd.local"][3].startswith("Kỷ niệm 30 năm")
        assert by_uid["task/bg-kr30-2022/1.3a@reminderd.local"][1] == date(2022, 8, 14)


@pytest.mark.parametrize("consumer", CONSUMERS)
@pytest.mark.parametrize("name", sorted(FEEDS))
def test_other_consumers_agree_with_icalendar(name: str, consumer: str, tmp_path: Path) -> None:
    feed = build(**FEEDS[name])
    if consumer == "ical.js":
        reason = node_available()
        if reason is not None:
            pytest.skip(reason)
        calendar, seen = via_icaljs(feed, tmp_path)
        assert calendar["method"] is None and calendar["refresh"] == "PT12H"
    elif consumer == "vobject":
        seen = via_vobject(feed)
    else:
        seen = via_recurring_ical_events(feed)
    assert sorted(seen) == sorted(via_icalendar(feed))


@pytest.mark.node  # consume() includes ical.js
def test_empty_feed_is_accepted_by_every_consumer(tmp_path: Path) -> None:
    assert consume(build([]), tmp_path) == []


@pytest.mark.node
def test_icaljs_reads_the_calendar_name(tmp_path: Path) -> None:
    reason = node_available()
    if reason is not None:
        pytest.skip(reason)
    calendar, events = via_icaljs(build(agency="svh"), tmp_path)
    assert calendar["name"] == "Lịch Sở Ngoại vụ - Sở Văn hóa - Thể thao và Du lịch"
    assert len(events) == sum(len(expected(o)) for o in SAMPLE
                              if "svh" in o.lead or "svh" in o.support)


@pytest.mark.node
@pytest.mark.slow
def test_bundled_plans_feeds_whole_and_per_agency(tmp_path: Path) -> None:
    """Every feed the bundled plans.yaml gives, through every consumer; the seeds' key dates."""
    from reminderd.feeds.ics import FeedBuilder
    from reminderd.workspace import load_workspace

    root = Path(__file__).resolve().parents[1]
    ws = load_workspace(root / "config" / "reminderd.yaml")
    start, end = date(2022, 1, 1), date(2031, 12, 31)
    occurrences = ws.occurrences(start, end)
    agencies = ws.agencies()
    builder = FeedBuilder(options(), agencies)
    emails = [e.encode() for a in agencies.values() for e in a.emails]
    is_working = ws.calendar(start, end).is_working

    def feed(agency: str | None) -> bytes:
        return builder.build(occurrences, {}, today=date(2026, 1, 1), is_working=is_working,
                             agency=agency)

    whole = consume(feed(None), tmp_path)
    assert sorted(e[:3] for e in whole) == sorted(x for o in occurrences for x in expected(o))
    by_uid = {e[0]: e for e in whole}
    bg = by_uid["task/bg-kr30-2022/1.3a@reminderd.local"]  # "Trước ngày 15/8/2022"
    assert bg[1:3] == (date(2022, 8, 14), date(2022, 8, 15)) and bg[3].startswith("Hạn: ")
    assert "Trước ngày 15/8/2022" in bg[4]
    kr = by_uid["occasion/kr-relations@2022@reminderd.local"]
    assert kr[1] == date(2022, 12, 22) and "30 năm" in kr[3]
    assert by_uid["occasion/tet-nguyen-dan@2030@reminderd.local"][1] == date(2030, 2, 2)
    for agency in agencies:
        data = feed(agency)
        assert not [e for e in emails if e in data]
        assert max(len(line) for line in data.split(b"\r\n")) <= 75
        mine = consume(data, tmp_path)
        assert {e[0] for e in mine} <= set(by_uid)
        assert all(e[3].startswith(("[Chủ trì] ", "[Phối hợp] ")) for e in mine)


@pytest.mark.node
def test_a_window_is_a_multi_day_event_for_every_consumer(tmp_path: Path) -> None:
    """The Korea trip, "05 ngày làm việc trong nửa cuối tháng 7/2026": one event from 16/07
    through 31/07 (DTEND 01/08), not a one-day "Hạn: " on 31/07; a quarter (92 days, over
    feeds.span_days) is its opening and its deadline."""
    from dataclasses import replace

    from reminderd.core.occurrence import OccurrenceKind

    base = next(o for o in SAMPLE if o.kind is OccurrenceKind.WINDOW)
    trip = replace(base, key="task/bng-kr-promo-2026/1", title="Tham dự Chương trình Quảng bá",
                   date=date(2026, 7, 31), start=date(2026, 7, 16), end=date(2026, 7, 31),
                   workdays=5, done=None)
    quarter = replace(base, key="task/q", title="Quý III", date=date(2026, 9, 30),
                      start=date(2026, 7, 1), end=date(2026, 9, 30), done=None)
    reason = node_available()
    if reason is not None:
        pytest.skip(reason)
    events = consume(build([trip, quarter]), tmp_path)  # icalendar, r-i-e, vobject, ical.js
    assert [e[:4] for e in events] == [
        ("task/bng-kr-promo-2026/1@reminderd.local", date(2026, 7, 16), date(2026, 8, 1),
         "Tham dự Chương trình Quảng bá"),
        ("task/q/open@reminderd.local", date(2026, 7, 1), date(2026, 7, 2), "Bắt đầu: Quý III"),
        ("task/q@reminderd.local", date(2026, 9, 30), date(2026, 10, 1), "Hạn: Quý III"),
    ]
