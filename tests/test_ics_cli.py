"""`reminderd ics` as an admin runs it: stable bytes, stable UIDs, SEQUENCE on change."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from bundled import write_single_file

from reminderd.cli import main
from reminderd.feeds.build import Feeds
from reminderd.workspace import load_workspace

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    write_single_file(tmp_path / "plans.yaml")
    (tmp_path / "reminderd.yaml").write_text(
        f"plans: plans.yaml\ntemplates: {ROOT / 'templates'}\nstore: sqlite:///var/r.db\n"
        "var_dir: var\n", encoding="utf-8")
    return tmp_path


def ics(workdir: Path, *extra: str, now: str = "2022-08-05T08:00+07:00") -> bytes:
    out = workdir / "out.ics"
    assert main(["ics", "--config", str(workdir / "reminderd.yaml"), "--now", now,
                 "-o", str(out), *extra]) == 0
    return out.read_bytes()


def events(data: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_two_builds_are_byte_identical(workdir: Path) -> None:
    first = ics(workdir)
    assert ics(workdir) == first
    assert ics(workdir, "--agency", "Sở VHTTDL") == ics(workdir, "--agency", "dl-sovhttdl")


def test_moving_one_deadline_keeps_uids_and_bumps_only_its_sequence(workdir: Path) -> None:
    before = events(ics(workdir))
    plans = workdir / "plans.yaml"
    text = plans.read_text(encoding="utf-8")
    assert text.count('"Trước ngày 15/8/2022"') == 1
    plans.write_text(text.replace('"Trước ngày 15/8/2022"', '"Trước ngày 20/8/2022"'),
                     encoding="utf-8")
    after = events(ics(workdir, now="2022-08-06T08:00+07:00"))
    assert set(after) == set(before)
    moved = [uid for uid in after if after[uid]["SEQUENCE"] != before[uid]["SEQUENCE"]]
    assert moved == [next(u for u in after if u.startswith("task/bg-kr30-2022/1.3a@"))]
    event = after[moved[0]]
    assert event["SEQUENCE"] == 1 and event.decoded("DTSTART").isoformat() == "2022-08-19"
    assert event["DTSTAMP"].dt > before[moved[0]]["DTSTAMP"].dt
    unchanged = next(u for u in after if u != moved[0])
    assert after[unchanged]["DTSTAMP"].dt == before[unchanged]["DTSTAMP"].dt


def test_seed_key_dates(workdir: Path) -> None:
    feed = events(ics(workdir, now="2029-06-01T08:00+07:00"))
    assert feed["occasion/tet-nguyen-dan@2030@reminderd.songoaivu.example"].decoded("DTSTART") \
        .isoformat() == "2030-02-02"
    feed_2022 = ics(workdir)
    kr = events(feed_2022)["occasion/kr-relations@2022@reminderd.songoaivu.example"]
    assert "Kỷ niệm 30 năm" in str(kr["SUMMARY"])
    assert kr.decoded("DTSTART").isoformat() == "2022-12-22"
    letter = next(e for u, e in events(feed_2022).items()
                  if u.startswith("task/bg-kr30-2022/1.3a@"))
    assert letter.decoded("DTSTART").isoformat() == "2022-08-14"
    assert letter.decoded("DTEND").isoformat() == "2022-08-15"


def test_no_line_over_75_octets_and_crlf(workdir: Path) -> None:
    data = ics(workdir)
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    unfolded = re.sub(rb"\r\n[ \t]", b"", data).decode("utf-8")  # no split UTF-8 sequence
    assert "Kỷ niệm 30 năm thiết lập quan hệ ngoại giao Việt Nam - Hàn Quốc" in unfolded


def test_a_reload_reuses_the_feed_cache_and_gives_a_cold_builds_bytes(workdir: Path) -> None:
    """The daemon's reload hands the running version's FeedBuilder on: one edited task is
    re-serialised, not every event, and the bytes equal a cold build of the new plans."""
    config = workdir / "reminderd.yaml"
    now = datetime(2022, 8, 5, 1, 0, tzinfo=UTC)
    first = Feeds(load_workspace(config))
    first.build(now, None)
    cold_events = first.builder.serialized
    plans = workdir / "plans.yaml"
    text = plans.read_text(encoding="utf-8")
    plans.write_text(text.replace('"Trước ngày 15/8/2022"', '"Trước ngày 20/8/2022"'),
                     encoding="utf-8")
    edited = load_workspace(config)
    second = Feeds(edited, previous=first)
    assert second.builder is first.builder
    before = second.builder.serialized
    warm = second.build(now, None)
    redone = second.builder.serialized - before
    assert 1 <= redone <= 2 < cold_events // 10, (redone, cold_events)
    cold = Feeds(edited).build(now, None)
    assert warm.whole == cold.whole and warm.agencies == cold.agencies

    # a renamed agency changes event texts: no reuse
    (workdir / "plans.yaml").write_text(
        plans.read_text(encoding="utf-8").replace(
            'name: "Sở Văn hóa, Thể thao và Du lịch tỉnh Đắk Lắk"',
            'name: "Sở Văn hóa và Thể thao tỉnh Đắk Lắk"'),
        encoding="utf-8")
    renamed = Feeds(load_workspace(config), previous=second)
    assert renamed.builder is not second.builder


def test_a_days_reminders_are_planned_once_per_window(workdir: Path) -> None:
    """The send pass's plan is kept per (day, window): the same call gives the same list,
    another window or another day is planned again, never served from the wrong key."""
    ws = load_workspace(workdir / "reminderd.yaml")
    day, behind, ahead = date(2022, 8, 5), timedelta(days=200), timedelta(days=400)
    first = ws.reminders_on(day, behind, ahead)
    assert first and ws.reminders_on(day, behind, ahead) is first
    narrow = ws.reminders_on(day, behind, timedelta(days=10))
    assert narrow is not first and len(narrow) < len(first)
    assert {r.key for r in narrow} <= {r.key for r in first}
    later = ws.reminders_on(day + timedelta(days=1), behind, ahead)
    assert later is not first
