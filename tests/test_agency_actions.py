"""Issue 14 end to end: an agency closes a task from its mail, a moved deadline is announced
once, windows are windows. Real daemon processes, real HTTP, a real SMTP server (aiosmtpd),
SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest
from daemon_proc import SECRET, Daemon, wait_for
from smtp_server import ThreadedSmtpServer

PLANS = """\
agencies:
  - id: snv
    name: Sở Ngoại vụ tỉnh Đắk Lắk
    emails: [lich@songoaivu.example]
  - id: vhttdl
    name: Sở Văn hóa, Thể thao và Du lịch
    emails: [vanthu@sovhttdl.example]
plans:
  - id: bng-2026
    title: Chương trình Quảng bá địa phương Việt Nam tại Hàn Quốc năm 2026
    year: 2026
    coordinator: snv
    contact:
      name: Chị Hồ Thị Hồng Nhung
      phone: 024.3799.5226
      email: dp.nvvh@bng.example
    tasks:
      - id: reply
        title: Gửi công văn trả lời Bộ Ngoại giao
        when: "trước ngày {reply}"
        lead: vhttdl
        support: [{support}]
        notes: "{notes}"
"""
REPLY_TO = "Văn phòng Sở Ngoại vụ <vanphong@songoaivu.example>"


def plans(reply: str = "12/6/2026", support: str = "", notes: str = "") -> str:
    return PLANS.replace("{reply}", reply).replace("{support}", support).replace(
        "{notes}", notes)


@pytest.fixture
def smtp() -> Iterator[ThreadedSmtpServer]:
    with ThreadedSmtpServer() as server:
        yield server


def cli(daemon: Daemon, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REMINDERD_FEED_SECRET": SECRET}
    return subprocess.run([sys.executable, "-m", "reminderd.cli", *argv, "--config",
                           str(daemon.config)], capture_output=True, text=True, env=env,
                          timeout=120)


def post(url: str, fields: dict[str, str]) -> tuple[int, str]:
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def summaries(feed: bytes) -> dict[str, str]:
    cal = icalendar.Calendar.from_ical(feed)
    return {str(e["UID"]).split("@")[0]: str(e["SUMMARY"]) for e in cal.walk("VEVENT")}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                            marks=pytest.mark.postgres)])
def test_done_from_the_mail_stops_reminders_and_escalation(
        backend: str, tmp_path: Path, smtp: ThreadedSmtpServer,
        request: pytest.FixtureRequest) -> None:
    store = "sqlite:///var/r.db" if backend == "sqlite" else \
        request.getfixturevalue("postgres_schema_url")
    # "trước ngày 12/6/2026": due Thu 11/06; the lead hears it is overdue Fri 12/06 08:00,
    # the plan's coordinator (snv) gets the escalation Thu 18/06 08:00.
    daemon = Daemon(tmp_path, plans(), smtp.port, clock_start="2026-06-12T07:59:57+07:00",
                    store=store, mail_extra=f'  reply_to: "{REPLY_TO}"\n')
    daemon.start()
    try:
        assert wait_for(lambda: len(smtp.handler.delivered) >= 1, timeout=15), daemon.output()
        [mail] = smtp.handler.messages()
        assert mail["X-Reminderd-Kind"] == "overdue" and mail["To"] == "vanthu@sovhttdl.example"
        assert "vanphong@songoaivu.example" in str(mail["Reply-To"])
        body = text_of(mail)
        assert "vui lòng không trả lời" not in body and "Trả lời thư này sẽ đến" in body
        assert "Đầu mối liên hệ: Chị Hồ Thị Hồng Nhung, điện thoại 024.3799.5226" in body
        link = re.search(rf"{re.escape(daemon.url)}/done/\S+", body)
        assert link is not None, body

        # GET only shows the page (mail scanners follow links): nothing is recorded
        # the done page is on the public listener (with the feeds), the undo on the admin one
        status, _, page = daemon.get(link[0][len(daemon.url):], public=True)
        assert status == 200 and "Xác nhận đã hoàn thành" in page.decode()
        assert json.loads(cli(daemon, "agenda", "--from", "01/06/2026", "--days", "30",
                              "--json").stdout)[0]["done"] is None
        # the POST records it, with the agency, the time and the note
        status, html = post(link[0], {"note": "Công văn số 123/SVHTTDL"})
        assert status == 200 and "Đã ghi nhận hoàn thành lúc" in html, html
        assert "Sở Văn hóa, Thể thao và Du lịch" in html

        def agenda() -> dict[str, object]:
            done = cli(daemon, "agenda", "--from", "01/06/2026", "--days", "30", "--json")
            assert done.returncode == 0, done.stderr
            items: list[dict[str, object]] = json.loads(done.stdout)
            return next(i for i in items if i["key"] == "task/bng-2026/reply")

        item = agenda()
        assert (item["done"], item["done_by"]) == ("2026-06-12", "vhttdl")
        feed = summaries(daemon.get("/calendar.ics")[2])
        assert feed["task/bng-2026/reply"] == \
            "[Đã hoàn thành] Hạn: Gửi công văn trả lời Bộ Ngoại giao"
        admin = daemon.get("/")[2].decode()
        assert "Nhiệm vụ cơ quan đã báo hoàn thành qua thư (1)" in admin
        assert "Công văn số 123/SVHTTDL" in admin and "Hủy ghi nhận" in admin
        assert re.search(r"<td>\d\d:\d\d 12/06/2026</td>", admin)
        # the admin's undo (with the page's form token), then the agency closes it again
        token = re.search(r'name="token" value="([^"]+)"', admin)
        assert token is not None
        assert post(daemon.admin_url + "/admin/undo-done", {"key": "task/bng-2026/reply",
                                                      "token": "wrong"})[0] == 403
        status, _ = post(daemon.admin_url + "/admin/undo-done", {"key": "task/bng-2026/reply",
                                                           "token": token[1]})
        assert status == 200  # followed the 303 back to the status page
        assert agenda()["done"] is None
        assert "[Đã hoàn thành]" not in summaries(daemon.get("/calendar.ics")[2])[
            "task/bng-2026/reply"]
        assert post(link[0], {})[0] == 200
        assert agenda()["done_by"] == "vhttdl"
        # a forged link is refused
        assert daemon.get(link[0][len(daemon.url):-3] + "abc", public=True)[0] == 404
        assert post(daemon.url + "/admin/undo-done", {"key": "task/bng-2026/reply",
                                                      "token": token[1]})[0] == 404
    finally:
        assert daemon.stop() == 0
    # the next passes send nothing for it: not the overdue reminder again, no escalation
    before = len(smtp.handler.delivered)
    for now in ("15/06/2026 08:00", "18/06/2026 08:00", "2026-06-19T08:00+07:00"):
        done = cli(daemon, "send-due", "--now", now)
        assert done.returncode == 0, done.stderr
    assert len(smtp.handler.delivered) == before
    rows = json.loads(cli(daemon, "outbox", "--json").stdout)
    escalations = [r for r in rows if "|escalate-" in r["key"]]
    assert escalations and all(r["status"] == "skipped" for r in escalations)


@pytest.mark.slow
def test_a_moved_deadline_is_announced_once(tmp_path: Path, smtp: ThreadedSmtpServer) -> None:
    daemon = Daemon(tmp_path, plans(support="snv"), smtp.port,
                    clock_start="2026-06-01T09:00:00+07:00")
    daemon.start()
    try:
        time.sleep(1.5)  # the first load (and its pass) mails nothing
        assert smtp.handler.delivered == []
        daemon.plans.write_text(plans("19/6/2026", support="snv"), encoding="utf-8")
        assert wait_for(lambda: len(smtp.handler.delivered) >= 2, timeout=15), daemon.output()
        time.sleep(1.5)  # and nothing more
        messages = smtp.handler.messages()
        assert [m["X-Reminderd-Kind"] for m in messages] == ["change", "change"]
        assert sorted(str(m["To"]) for m in messages) == ["lich@songoaivu.example",
                                                          "vanthu@sovhttdl.example"]
        for message in messages:
            assert "Thời hạn: 11/06/2026 → 18/06/2026" in text_of(message)
            assert str(message["Subject"]).startswith("[Thay đổi lịch] 1 nội dung")
        # edited again with no date change: none
        daemon.plans.write_text(plans("19/6/2026", support="snv", notes="Bổ sung ghi chú"),
                                encoding="utf-8")
        assert wait_for(lambda: "Bổ sung ghi chú" in str(icalendar.Calendar.from_ical(
            daemon.get("/calendar.ics")[2]).walk("VEVENT")[0]["DESCRIPTION"]),
            timeout=15), daemon.output()  # the edit was loaded
        time.sleep(1.5)
        assert len(smtp.handler.delivered) == 2
        # restarted: none
        assert daemon.stop() == 0
        daemon.start("2026-06-01T10:00:00+07:00")
        time.sleep(2)
        assert len(smtp.handler.delivered) == 2
    finally:
        daemon.kill()


# --- in process: the weekly mail, operator alerts, kinds, links (real SMTP, real store) ---

def installation(tmp_path: Path, port: int, text: str, config: str = "") -> Path:
    (tmp_path / "plans.yaml").write_text(text, encoding="utf-8")
    path = tmp_path / "reminderd.yaml"
    path.write_text(
        "plans: plans.yaml\n"
        f"templates: {Path(__file__).resolve().parents[1] / 'templates'}\n"
        f"store: sqlite:///{tmp_path}/r.db\nvar_dir: var\n"
        "mail:\n"
        '  from: "Sở Ngoại vụ <lich@songoaivu.example>"\n'
        "  operator: vanhanh@songoaivu.example\n"
        f"  smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n" + config,
        encoding="utf-8")
    return path


def test_weekly_mail_on_monday_once_per_agency(tmp_path: Path, smtp: ThreadedSmtpServer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from reminderd.mail.setup import build_mailer
    from reminderd.notices import next_weekly, send_weekly
    from reminderd.store import open_store
    from reminderd.workspace import load_workspace

    monkeypatch.setenv("REMINDERD_FEED_SECRET", SECRET)
    text = plans(support="snv").replace('        when: "trước ngày 12/6/2026"',
                                        '        when: "05 ngày làm việc trong tháng 6/2026"')
    ws = load_workspace(installation(tmp_path, smtp.port, text, "weekly: {agencies: [all]}\n"))
    store = open_store(ws.settings.store)
    store.migrate()
    mailer = build_mailer(ws)
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    sunday, monday = datetime(2026, 6, 7, 9, tzinfo=hanoi), datetime(2026, 6, 8, 8, tzinfo=hanoi)
    assert next_weekly(ws, sunday) == monday
    assert asyncio.run(send_weekly(ws, store, mailer, sunday)) == 0
    assert asyncio.run(send_weekly(ws, store, mailer, monday)) == 2  # lead and support
    assert asyncio.run(send_weekly(ws, store, mailer, monday)) == 0  # once a week
    messages = smtp.handler.messages()
    assert {m["X-Reminderd-Kind"] for m in messages} == {"weekly"}
    body = text_of(messages[0])
    assert "Lịch công tác tuần 08/06 – 14/06/2026" in body
    assert "Thời hạn: trong khoảng 01/06 – 30/06/2026 (5 ngày làm việc)" in body
    store.close()


def test_operator_hears_of_undelivered_mail_once_then_after_quiet(
        tmp_path: Path, smtp: ThreadedSmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from reminderd.mail.setup import build_mailer
    from reminderd.notices import check_operator
    from reminderd.store import Planned, open_store
    from reminderd.workspace import load_workspace

    monkeypatch.setenv("REMINDERD_FEED_SECRET", SECRET)
    ws = load_workspace(installation(tmp_path, smtp.port, plans(),
                                     "operator: {undelivered_hours: 4, quiet_hours: 24}\n"))
    store = open_store(ws.settings.store)
    store.migrate()
    mailer = build_mailer(ws)
    t0 = datetime(2026, 6, 10, 1, tzinfo=UTC)
    store.materialize([Planned("k|x", "vhttdl", "task/x", t0.date(), t0, "deadline")], t0)

    def check(hours: float, failing: datetime | None = None) -> list[str]:
        return asyncio.run(check_operator(ws, store, mailer, t0 + timedelta(hours=hours),
                                          failing, ["plans.yaml:3:5: bad date"]))

    assert check(3) == []  # not yet 4 hours
    assert check(5) == ["undelivered"]
    assert check(6) == [] and check(28) == []  # quiet for 24 hours after the alert
    assert check(29.5) == ["undelivered"]
    assert check(30, failing=t0 + timedelta(hours=20)) == ["reload"]
    messages = smtp.handler.messages()
    assert [m["X-Reminderd-Kind"] for m in messages] == ["operator"] * 3
    assert [str(m["To"]) for m in messages] == ["vanhanh@songoaivu.example"] * 3
    assert "1 thư nhắc chưa gửi được quá 4 giờ" in str(messages[0]["Subject"])
    assert "plans.yaml:3:5: bad date" in text_of(messages[2])
    store.close()


def test_escalation_and_reminder_kinds(tmp_path: Path, smtp: ThreadedSmtpServer,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from reminderd.cli import main

    monkeypatch.setenv("REMINDERD_FEED_SECRET", SECRET)
    config = str(installation(tmp_path, smtp.port, plans()))
    assert main(["send-due", "--config", config, "--now", "10/06/2026 08:00"]) == 0
    assert main(["send-due", "--config", config, "--now", "18/06/2026 08:00"]) == 0
    kinds = {(str(m["To"]), str(m["X-Reminderd-Kind"])) for m in smtp.handler.messages()}
    assert kinds == {("vanthu@sovhttdl.example", "reminder"),
                     ("vanthu@sovhttdl.example", "overdue"),
                     ("lich@songoaivu.example", "escalation")}


def test_done_links_are_signed_and_expire() -> None:
    from datetime import date

    from reminderd.mail.donelink import BadDoneLink, DoneLinks

    links = DoneLinks(b"secret", "https://lich.example/")
    token = links.token("task/p/1", "vhttdl", date(2026, 6, 20))
    assert links.url("task/p/1", "vhttdl", date(2026, 6, 20)) == \
        f"https://lich.example/done/{token}"
    claim = links.verify(token, date(2026, 6, 20))
    assert (claim.key, claim.agency) == ("task/p/1", "vhttdl")
    with pytest.raises(BadDoneLink) as expired:
        links.verify(token, date(2026, 6, 21))
    assert expired.value.expired and "20/06/2026" in expired.value.reason
    for bad in (token[:-2], "x" + token, token.replace(".", ""), "",
                DoneLinks(b"other", "x").token("task/p/1", "vhttdl", date(2026, 6, 20))):
        with pytest.raises(BadDoneLink):
            links.verify(bad, date(2026, 6, 1))


def test_changes_moved_added_cancelled_not_done(tmp_path: Path, smtp: ThreadedSmtpServer
                                                ) -> None:
    from datetime import date

    from reminderd.notices import changes
    from reminderd.workspace import load_workspace

    config = installation(tmp_path, smtp.port, plans())
    old = load_workspace(config)
    (tmp_path / "plans.yaml").write_text(plans("19/6/2026").replace(
        "      - id: reply", "      - id: visit\n        title: Đón đoàn\n"
        '        when: "30/6/2026"\n        lead: snv\n      - id: reply'), encoding="utf-8")
    new = load_workspace(config)
    found = {c.key: c for c in changes(old, new, date(2026, 6, 1))}
    assert found["task/bng-2026/reply"].line() == "Thời hạn: 11/06/2026 → 18/06/2026"
    assert found["task/bng-2026/visit"].line() == "Nhiệm vụ mới, thời hạn 30/06/2026"
    assert {c.line() for c in changes(new, old, date(2026, 6, 1))} >= {
        "Đã hủy (thời hạn cũ 30/06/2026)"}
    assert changes(old, old, date(2026, 6, 1)) == []
    assert changes(old, new, date(2027, 1, 1)) == []  # all in the past
