"""The wave-2 time phrases through every path an admin and an agency see: `check`, `agenda`,
the feed (parsed back with icalendar) and the reminder mail (sent to a real SMTP server)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import icalendar
import pytest
from smtp_server import Recorder, ThreadedSmtpServer
from test_send_pass import AGENCIES, NV, PLAN, Env, at, by_recipient, plans_doc, task, text_of

from reminderd.cli import main

LEAD = AGENCIES[1]["id"]
LEAD_MAIL = AGENCIES[1]["emails"][0]
TASKS = [
    # words around the time, a time of day: due 10/11/2025 at 17:00
    task("report", "Báo cáo UBND tỉnh trước 17h00 ngày 10/11/2025", [LEAD]),
    # a reporting cycle: the 20th of each quarter's last month
    task("quarterly", "chậm nhất ngày 20 của tháng cuối quý", [LEAD]),
    # several due days a year
    task("halves", "chậm nhất ngày 15/6 và 15/12 hằng năm", [LEAD]),
    # a named day of a partner country
    task("laos", "nhân dịp Quốc khánh Lào", [LEAD]),
    # counted from a written date: 30 days from 01/8/2025 is Sunday 31/08, then the
    # 01-02/09 holidays: the period ends on Wednesday 03/09/2025 (Civil Code Art. 148(5))
    task("counted", "trong vòng 30 ngày kể từ ngày 01/8/2025", [LEAD]),
    # a cadence with no day: unscheduled, never a made-up 31/12
    task("cadence", "hằng năm", [LEAD]),
]


@pytest.fixture
def env(tmp_path: Path) -> Any:
    with ThreadedSmtpServer(Recorder()) as relay:
        folder = tmp_path / "site"
        folder.mkdir()
        made = Env(folder, relay.port, plans_doc(*TASKS))
        yield made, relay
        made.store.close()


def test_check_warns_at_the_place_and_lists_the_unscheduled(
    env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    site, _ = env
    assert main(["check", "--config", str(site.config)]) == 0
    out = capsys.readouterr().out
    assert "words set aside" in out and "'Báo cáo UBND tỉnh'" in out
    assert f"{site.plans}:" in out  # the warning names the file and place
    assert f"task/{PLAN}/cadence" in out and "says how often" in out


def test_agenda_json_gives_the_dates_and_the_time(
    env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    site, _ = env
    assert main(["agenda", "--config", str(site.config), "--from", "01/01/2025", "--days", "365",
                 "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    by_key: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_key.setdefault(item["key"].split("@")[0], []).append(item)
    report = by_key[f"task/{PLAN}/report"]
    assert [(i["date"], i["time"]) for i in report] == [("2025-11-10", "17:00")]
    assert [i["date"] for i in by_key[f"task/{PLAN}/quarterly"]] == [
        "2025-03-20", "2025-06-20", "2025-09-20", "2025-12-20"]
    assert [i["date"] for i in by_key[f"task/{PLAN}/halves"]] == ["2025-06-15", "2025-12-15"]
    assert [i["date"] for i in by_key[f"task/{PLAN}/laos"]] == ["2025-12-02"]
    assert [i["date"] for i in by_key[f"task/{PLAN}/counted"]] == ["2025-09-03"]
    assert f"task/{PLAN}/cadence" not in by_key


def test_the_feed_shows_the_time_of_day(env: Any, tmp_path: Path) -> None:
    site, _ = env
    out = tmp_path / "feed.ics"
    assert main(["ics", "--config", str(site.config), "--now", "2025-10-01T08:00+07:00",
                 "-o", str(out)]) == 0
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    events = {str(e["UID"]).split("@")[0]: e for e in cal.walk("VEVENT")}
    report = events[f"task/{PLAN}/report"]
    assert report.decoded("DTSTART") == date(2025, 11, 10)
    assert "Hạn: 10/11/2025, lúc 17:00" in str(report["DESCRIPTION"])


def test_the_mail_shows_the_time_of_day(env: Any) -> None:
    site, relay = env
    site.run(at(2025, 11, 3))  # first load: earlier steps are recorded as skipped
    start = len(relay.handler.delivered)
    site.run(at(2025, 11, 10))  # the deadline day: the lead's on-the-day reminder
    mail = by_recipient(relay, start)[LEAD_MAIL]
    assert "10/11/2025, lúc 17:00" in text_of(mail)
    assert NV  # the coordinator exists in the plan (escalation is tested elsewhere)
