"""The whole send pass (plan, materialise, claim, render, send, mark) against a real aiosmtpd
server on a loopback port: no mocks of reminderd's own code.

Every test writes its own config (plans, the shipped templates, a SQLite store and var/ in a
temporary folder, SMTP to the test server with ``security: none``), loads it with
``load_workspace``, builds the mailer with ``build_mailer`` and runs ``run_pass`` (or the
``reminderd`` CLI) at explicit instants. Times are local (Asia/Ho_Chi_Minh) unless said.

The focused scenarios use a small plans file (agencies of an imaginary "tỉnh Thử", one plan)
with ``remind:`` ladders where a test needs a single reminder per task; the seed scenario uses
the bundled plans.yaml (Bắc Giang plan bg-kr30-2022, summer 2022).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from smtp_server import Recorder, ThreadedSmtpServer, free_port

from reminderd.cli import main
from reminderd.mail.message import message_id_for
from reminderd.mail.setup import build_mailer
from reminderd.sendpass import SKIP_UNPLANNED, PassReport, run_pass
from reminderd.store import Delivery, DeliveryStore, Status, open_store
from reminderd.workspace import load_workspace

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SENDER = "lich@songoaivu.example"
MAIL_DOMAIN = "songoaivu.example"
UID_DOMAIN = "reminderd.songoaivu.example"
SKIP_NEW_PAST = "its time had passed before the item first appeared"
SKIP_CATCH_UP = "missed by more than the catch-up window (3 days)"

VH, NV, TC = "so-vh", "so-nv", "so-tc"
VH_MAIL = "vanthu@sovhttdl.thu.example"
NV_MAIL = "lich@sonv.thu.example"
TC_MAIL, TC_MAIL2 = "vanthu@sotc.thu.example", "ketoan@sotc.thu.example"
AGENCIES = [
    {"id": VH, "name": "Sở Văn hóa, Thể thao và Du lịch tỉnh Thử", "emails": [VH_MAIL]},
    {"id": NV, "name": "Sở Ngoại vụ tỉnh Thử", "emails": [NV_MAIL]},
    {"id": TC, "name": "Sở Tài chính tỉnh Thử", "emails": [TC_MAIL, TC_MAIL2]},
]
PLAN = "kh-thu-2025"


def at(year: int, month: int, day: int, hour: int = 8, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


def task(ident: str, when: str, lead: Sequence[str], support: Sequence[str] = (), *,
         remind: Sequence[int] | None = None, done: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": ident, "title": f"Nhiệm vụ {ident}: tổ chức giao lưu văn hóa",
                            "when": when, "lead": list(lead), "support": list(support)}
    if remind is not None:
        item["remind"] = list(remind)
    if done is not None:
        item["done"] = done
    return item


def plans_doc(*tasks: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": 1,
        "coordinator": NV,
        "agencies": AGENCIES,
        "plans": [{"id": PLAN, "title": "Kế hoạch giao lưu văn hóa năm 2025 của tỉnh Thử",
                   "reference": "Kế hoạch số 12/KH-UBND ngày 10/01/2025", "year": 2025,
                   "coordinator": NV, "tasks": list(tasks)}],
    }


def key(ident: str, deadline: str, step: str, agency: str) -> str:
    return f"task/{PLAN}/{ident}|{deadline}|{step}|{agency}"


class Env:
    """One reminderd installation in a temporary folder, talking to the test relay."""

    def __init__(self, folder: Path, port: int, plans: dict[str, Any] | Path,
                 extra_config: str = "") -> None:
        self.folder = folder
        self.plans = folder / "plans.yaml" if isinstance(plans, dict) else plans
        if isinstance(plans, dict):
            self.write_plans(plans)
        self.config = folder / "reminderd.yaml"
        self.config.write_text(
            f"plans: {self.plans}\n"
            f"templates: {ROOT / 'templates'}\n"
            f"store: sqlite:///{folder}/r.db\n"
            f"var_dir: {folder}/var\n"
            "mail:\n"
            '  from: "Sở Ngoại vụ <lich@songoaivu.example>"\n'
            f"  smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout_seconds: 5}}\n"
            + extra_config,
            encoding="utf-8")
        self.rng = random.Random(20251015)
        self.reload()
        self.store: DeliveryStore = self.open()

    def write_plans(self, doc: dict[str, Any]) -> None:
        # JSON is YAML: the loader reads it like any plans.yaml.
        self.plans.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")

    def reload(self) -> None:
        self.ws = load_workspace(self.config)
        self.mailer = build_mailer(self.ws)

    def open(self) -> DeliveryStore:
        store = open_store(self.ws.settings.store)
        store.migrate()
        return store

    def run(self, now: datetime, **kw: Any) -> PassReport:
        coro = run_pass(self.ws, self.store, self.mailer, now, owner="test", rng=self.rng, **kw)
        return asyncio.run(asyncio.wait_for(coro, 60))

    def run_days(self, first: date, last: date, hour: int = 8) -> list[PassReport]:
        """A pass every day (weekends too, as the daemon would) from first to last."""
        reports = []
        day = first
        while day <= last:
            reports.append(self.run(at(day.year, day.month, day.day, hour)))
            day += timedelta(days=1)
        return reports

    def rows(self) -> dict[str, Delivery]:
        return {d.key: d for d in self.store.deliveries(limit=100_000)}

    def status(self, *keys: str) -> list[Status | None]:
        rows = self.store.lookup(list(keys))
        return [rows[k].status if k in rows else None for k in keys]

    def counts(self) -> dict[Status, int]:
        return self.store.counts()


@pytest.fixture
def relay() -> Iterator[ThreadedSmtpServer]:
    with ThreadedSmtpServer(Recorder()) as server:
        yield server


MakeEnv = Callable[[int, "dict[str, Any] | Path"], Env]


@pytest.fixture
def make_env(tmp_path: Path) -> Iterator[MakeEnv]:
    made: list[Env] = []

    def make(port: int, plans: dict[str, Any] | Path) -> Env:
        folder = tmp_path / f"site{len(made)}"
        folder.mkdir()
        env = Env(folder, port, plans)
        made.append(env)
        return env

    yield make
    for env in made:
        env.store.close()


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def ics_of(msg: EmailMessage) -> icalendar.Calendar:
    attachments = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(attachments) == 1
    assert attachments[0].get_filename() == "nhac-viec.ics"
    payload = attachments[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return icalendar.Calendar.from_ical(payload)


def by_recipient(server: ThreadedSmtpServer, start: int = 0) -> dict[str, EmailMessage]:
    """Messages delivered since ``start``, keyed by the one envelope recipient of each."""
    out: dict[str, EmailMessage] = {}
    for d in server.handler.delivered[start:]:
        assert len(d.rcpt_tos) == 1, d.rcpt_tos
        assert d.rcpt_tos[0] not in out, f"two messages to {d.rcpt_tos[0]} in one pass"
        out[d.rcpt_tos[0]] = d.parsed()
    return out


def assert_none_twice(server: ThreadedSmtpServer) -> None:
    twice = {mid: n for mid, n in server.handler.by_message_id().items() if n > 1}
    assert twice == {}


# --- the seed scenario: Bắc Giang, 12/08/2022 ----------------------------------------------
#
# On Friday 12/08/2022 three reminders fall on the same day (policy: lead 14,7,3,1,0 working
# days, support 7,1; occasions 14 and 3 days):
#   task bg-kr30-2022/1.3a "Trước ngày 15/8/2022" -> deadline Sunday 14/08, so its on-the-day
#     (lead-0wd) and 1-working-day (lead-1wd, support-1wd) steps move to Friday 12/08;
#   occasion kr-liberation-day 15/8 -> day-3 = Friday 12/08.
# Lead: Sở Ngoại vụ Bắc Giang; support: Văn phòng UBND tỉnh Bắc Giang. Nothing else in the
# bundled plans is due that day.

SEED_NOW = at(2022, 8, 12)
BG_SNV, BG_VP = "vanthu@songoaivu.bacgiang.example", "vanthu@vpubnd.bacgiang.example"
T13A = "task/bg-kr30-2022/1.3a"
LIBERATION = "occasion/kr-liberation-day@2022"
SEED_KEYS = {
    BG_SNV: sorted([f"{T13A}|2022-08-14|lead-0wd|bg-songoaivu",
                    f"{T13A}|2022-08-14|lead-1wd|bg-songoaivu",
                    f"{LIBERATION}|2022-08-15|day-3|bg-songoaivu"]),
    BG_VP: sorted([f"{T13A}|2022-08-14|support-1wd|bg-vp-ubnd",
                   f"{LIBERATION}|2022-08-15|day-3|bg-vp-ubnd"]),
}
TITLE_13A = ("Gửi thư chúc mừng của Chủ tịch UBND tỉnh tới Đại sứ Hàn Quốc, các tổ chức KOICA, "
             "KORCHAM, KOTRA và một số địa phương Hàn Quốc nhân dịp quốc khánh Hàn Quốc (15/8)")
TITLE_LIBERATION = "Quốc khánh Hàn Quốc (15/8, Ngày Giải phóng)"


@pytest.fixture
def seed(make_env: MakeEnv, relay: ThreadedSmtpServer) -> Env:
    """The bundled plans, with the daemon's daily pass run from 12/07 to 11/08/2022."""
    env = make_env(relay.port, ROOT / "plans")
    reports = env.run_days(date(2022, 7, 12), date(2022, 8, 11))
    # the first pass records the steps of the last days as "past before first appeared";
    # the daily passes after it never miss anything
    assert all(r.failed == r.retrying == r.uncertain == 0 for r in reports)
    assert all(set(r.skipped) <= {SKIP_NEW_PAST} for r in reports)
    assert all(not r.skipped for r in reports[1:])
    assert_none_twice(relay)
    return env


def test_seed_scenario_exact_recipients_grouping_roles_and_order(
        seed: Env, relay: ThreadedSmtpServer) -> None:
    before = len(relay.handler.delivered)
    connections = relay.handler.connections
    report = seed.run(SEED_NOW)

    assert (report.messages, report.sent, report.late, report.failed) == (2, 5, 0, 0)
    assert report.skipped == {}
    assert relay.handler.connections == connections + 1  # one connection for the pass
    received = by_recipient(relay, before)
    assert sorted(received) == [BG_SNV, BG_VP]  # one message per agency, nobody else
    assert all(d.mail_from == SENDER for d in relay.handler.delivered[before:])

    snv, vp = received[BG_SNV], received[BG_VP]
    assert snv["To"] == BG_SNV and vp["To"] == BG_VP
    assert snv["Subject"] == ("[Nhắc việc] 2 nội dung sắp đến hạn (gần nhất 14/08/2022) - "
                              "Sở Ngoại vụ tỉnh Bắc Giang")
    assert vp["Subject"] == ("[Nhắc việc] 2 nội dung sắp đến hạn (gần nhất 14/08/2022) - "
                             "Văn phòng UBND tỉnh Bắc Giang")
    for address, msg in received.items():
        assert msg["Message-ID"] == message_id_for(SEED_KEYS[address], MAIL_DOMAIN)
        body = text_of(msg)
        # the digest: the task (14/08) before the occasion (15/08), each shown once
        assert body.index(f"1. {TITLE_13A}\n") < body.index(f"2. {TITLE_LIBERATION}\n")
        assert body.count(TITLE_13A) == 1 and "3. " not in body
        assert "Thời hạn: Chủ Nhật, 14/08/2022 (văn bản ghi: \"Trước ngày 15/8/2022\")" in body
        assert "Ngày: Thứ Hai, 15/08/2022 (hằng năm: 15/8) - còn 3 ngày" in body
        assert "là ngày nghỉ; đề nghị hoàn thành trước, chậm nhất Thứ Sáu, 12/08/2022" in body
        assert "Gửi muộn" not in body
    assert text_of(snv).startswith("Kính gửi: Sở Ngoại vụ tỉnh Bắc Giang\n")
    assert text_of(vp).startswith("Kính gửi: Văn phòng UBND tỉnh Bắc Giang\n")
    # the role words, per agency and per item, in both parts
    assert text_of(snv).count("Vai trò của Quý cơ quan: Chủ trì") == 2
    assert "Vai trò của Quý cơ quan: Phối hợp" not in text_of(snv)
    assert text_of(vp).count("Vai trò của Quý cơ quan: Phối hợp") == 2
    assert "Vai trò của Quý cơ quan: Chủ trì" not in text_of(vp)
    assert html_of(snv).count("<strong>Chủ trì</strong>") == 2
    assert html_of(vp).count("<strong>Phối hợp</strong>") == 2

    # the store: those five rows sent with that Message-ID and recipient, nothing else today
    rows = seed.rows()
    for address, keys in SEED_KEYS.items():
        for k in keys:
            row = rows[k]
            assert (row.status, row.recipients, row.attempts) == (Status.SENT, address, 1)
            assert row.message_id == message_id_for(keys, MAIL_DOMAIN)
            assert row.sent_at == SEED_NOW.astimezone(UTC)
    sent_today = {k for k, r in rows.items() if r.sent_at == SEED_NOW.astimezone(UTC)}
    assert sent_today == set(SEED_KEYS[BG_SNV]) | set(SEED_KEYS[BG_VP])


def test_seed_subject_decodes_and_ics_has_the_digest_uids(
        seed: Env, relay: ThreadedSmtpServer) -> None:
    before = len(relay.handler.delivered)
    seed.run(SEED_NOW)
    raw = relay.handler.delivered[before].content
    assert raw.isascii()  # RFC 2047 on the wire
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]
    for address, msg in by_recipient(relay, before).items():
        assert msg["Subject"].startswith("[Nhắc việc] 2 nội dung sắp đến hạn")
        assert msg["From"] == "Sở Ngoại vụ <lich@songoaivu.example>"
        calendar = ics_of(msg)
        events = calendar.walk("VEVENT")
        uids = {str(e["UID"]) for e in events}
        expected = {f"{k.split('|')[0]}@{UID_DOMAIN}" for k in SEED_KEYS[address]}
        assert uids == expected == {f"{T13A}@{UID_DOMAIN}", f"{LIBERATION}@{UID_DOMAIN}"}
        starts = {str(e["UID"]): e.decoded("DTSTART") for e in events}
        assert starts[f"{LIBERATION}@{UID_DOMAIN}"] == date(2022, 8, 15)


def test_seed_second_pass_with_the_same_now_sends_nothing(
        seed: Env, relay: ThreadedSmtpServer) -> None:
    seed.run(SEED_NOW)
    delivered, counts = len(relay.handler.delivered), seed.counts()
    mails = relay.handler.mail_commands
    again = seed.run(SEED_NOW)
    assert (again.claimed, again.messages, again.sent, again.new) == (0, 0, 0, 0)
    assert again.skipped == {}
    later = seed.run(SEED_NOW + timedelta(hours=3))
    assert (later.claimed, later.messages) == (0, 0)
    assert len(relay.handler.delivered) == delivered
    assert relay.handler.mail_commands == mails
    assert seed.counts() == counts
    assert_none_twice(relay)


def test_seed_dry_run_prints_who_gets_what_and_changes_nothing(
        seed: Env, relay: ThreadedSmtpServer, capsys: pytest.CaptureFixture[str]) -> None:
    counts, rows = seed.counts(), seed.rows()
    connections, delivered = relay.handler.connections, len(relay.handler.delivered)
    capsys.readouterr()
    code = main(["send-due", "--config", str(seed.config), "--now", SEED_NOW.isoformat(),
                 "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"dry run at {SEED_NOW.isoformat()}: would send 2 message(s)"
    assert "Sở Ngoại vụ tỉnh Bắc Giang (bg-songoaivu): 3 mục" in lines
    assert "Văn phòng UBND tỉnh Bắc Giang (bg-vp-ubnd): 2 mục" in lines
    assert sum(1 for line in lines if line.startswith("  14/08/2022 [chủ trì] Gửi thư")) == 2
    assert sum(1 for line in lines if line.startswith("  15/08/2022 [phối hợp] Quốc khánh")) == 1
    assert seed.counts() == counts and seed.rows() == rows  # not even updated_at moved
    assert relay.handler.connections == connections
    assert len(relay.handler.delivered) == delivered
    # and the real pass sends to exactly those agencies
    report = seed.run(SEED_NOW)
    assert report.messages == 2
    assert sorted(by_recipient(relay, delivered)) == [BG_SNV, BG_VP]


def test_cli_send_due_twice_with_the_same_now(
        make_env: MakeEnv, relay: ThreadedSmtpServer, capsys: pytest.CaptureFixture[str]) -> None:
    env = make_env(relay.port, plans_doc(
        task("1", "ngày 15/10/2025", [VH], remind=[0]),
    ))
    env.store.close()  # the CLI takes the one-writer lock itself
    argv = ["send-due", "--config", str(env.config)]
    assert main([*argv, "--now", "2025-10-13T08:00+07:00"]) == 0
    capsys.readouterr()
    assert main([*argv, "--now", "2025-10-15T08:00+07:00"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("pass at 2025-10-15T08:00:00+07:00: 1 message(s), 1 reminder(s) "
                            "sent (0 late)")
    assert main([*argv, "--now", "2025-10-15T08:00+07:00"]) == 0
    second = capsys.readouterr().out
    assert second.startswith("pass at 2025-10-15T08:00:00+07:00: 0 message(s), 0 reminder(s)")
    assert relay.handler.recipients() == [[VH_MAIL]]
    env.store = env.open()


# --- catch-up after downtime -------------------------------------------------------------------
#
# Task A (lead so-vh): deadline Wed 15/10/2025, remind 1 working day -> Tue 14/10 08:00.
# Task B (lead so-nv): deadline Wed 15/10/2025, remind on the day    -> Wed 15/10 08:00.
# Both: overdue-1wd on Thu 16/10 (to their lead), escalate-5wd on Wed 22/10.
# The daemon's last pass before the outage is Mon 13/10 (D).

def outage_plans() -> dict[str, Any]:
    return plans_doc(task("A", "ngày 15/10/2025", [VH], remind=[1]),
                     task("B", "ngày 15/10/2025", [NV], remind=[0]))


A_1WD = key("A", "2025-10-15", "lead-1wd", VH)
B_0WD = key("B", "2025-10-15", "lead-0wd", NV)
A_OVERDUE = key("A", "2025-10-15", "overdue-1wd", VH)
B_OVERDUE = key("B", "2025-10-15", "overdue-1wd", NV)


def test_catch_up_after_a_two_day_outage(make_env: MakeEnv, relay: ThreadedSmtpServer) -> None:
    env = make_env(relay.port, outage_plans())
    first = env.run(at(2025, 10, 13))
    # A: its step, overdue, escalate to the lead and to the plan's coordinator (so-nv);
    # B: its step, overdue, escalate (so-nv is both the lead and the coordinator)
    assert first.messages == 0 and first.new == 7
    assert env.status(A_1WD, B_0WD) == [Status.PENDING, Status.PENDING]
    # no pass on Tue 14/10 nor on Wed 15/10 before 10:00
    back = env.run(at(2025, 10, 15, 10))
    assert (back.messages, back.sent, back.late, back.skipped) == (2, 2, 2, {})
    received = by_recipient(relay)
    assert sorted(received) == [NV_MAIL, VH_MAIL]
    a_body, b_body = text_of(received[VH_MAIL]), text_of(received[NV_MAIL])
    assert ("Gửi muộn: nhắc việc này lẽ ra được gửi lúc 08:00 Thứ Ba, 14/10/2025; do hệ thống "
            "gián đoạn nên nay gửi bù.") in a_body
    assert "Gửi muộn: nhắc việc này lẽ ra được gửi lúc 08:00 Thứ Tư, 15/10/2025" in b_body
    assert "Nhiệm vụ A" in a_body and "Nhiệm vụ B" not in a_body
    assert "<strong>Gửi muộn:</strong>" in html_of(received[VH_MAIL])
    assert env.status(A_1WD, B_0WD) == [Status.SENT, Status.SENT]
    # sent once: later passes that day and the next morning add only the overdue steps
    assert env.run(at(2025, 10, 15, 10, 5)).claimed == 0
    next_day = env.run(at(2025, 10, 16))
    assert (next_day.messages, next_day.late) == (2, 0)
    assert env.status(A_OVERDUE, B_OVERDUE) == [Status.SENT, Status.SENT]
    counts = Counter(k for d in relay.handler.delivered for k in d.rcpt_tos)
    assert counts == {VH_MAIL: 2, NV_MAIL: 2}
    assert_none_twice(relay)


def test_outage_beyond_the_catch_up_window(make_env: MakeEnv, relay: ThreadedSmtpServer) -> None:
    env = make_env(relay.port, outage_plans())
    env.run(at(2025, 10, 13))
    # down from Tue 14/10 until Sat 18/10 08:00: the window (3 days) reaches back to
    # Wed 15/10 08:00, so A's Tuesday step is skipped; B's on-the-day step is inside the
    # window but its day is long past (the overdue notice replaces it): given up;
    # Thursday's overdue notices are sent late
    back = env.run(at(2025, 10, 18))
    assert back.skipped == {SKIP_CATCH_UP: 1}
    assert (back.messages, back.sent, back.late, back.gave_up, back.failed) == (2, 2, 2, 1, 0)
    skipped = env.store.deliveries(Status.SKIPPED)
    assert [(d.key, d.last_error, d.attempts) for d in skipped] == [(A_1WD, SKIP_CATCH_UP, 0)]
    gave_up = env.store.deliveries(Status.FAILED)
    assert [(d.key, d.last_error) for d in gave_up] == [
        (B_0WD, "gave up: the date has passed, no longer useful")]
    assert env.status(A_OVERDUE, B_OVERDUE) == [Status.SENT] * 2
    received = by_recipient(relay)
    assert sorted(received) == [NV_MAIL, VH_MAIL]
    # A: only its overdue notice (the skipped reminder is not smuggled into the digest)
    a_body = text_of(received[VH_MAIL])
    assert "Nhiệm vụ đã quá hạn, đề nghị báo cáo tình hình thực hiện." in a_body
    assert "lẽ ra được gửi lúc 08:00 Thứ Năm, 16/10/2025" in a_body
    assert received[VH_MAIL]["Message-ID"] == message_id_for([A_OVERDUE], MAIL_DOMAIN)
    assert received[NV_MAIL]["Message-ID"] == message_id_for([B_OVERDUE], MAIL_DOMAIN)


def test_dry_run_after_an_outage_lists_what_the_pass_will_catch_up(
        make_env: MakeEnv, relay: ThreadedSmtpServer) -> None:
    env = make_env(relay.port, outage_plans())
    env.run(at(2025, 10, 13))
    now = at(2025, 10, 15, 10)
    dry = env.run(now, dry_run=True)
    assert relay.handler.connections == 0
    real = env.run(now)
    assert {a: sorted(r.key for r in rs) for a, rs in dry.would_send.items()} == {
        VH: [A_1WD], NV: [B_0WD]}
    assert real.sent == 2
    # beyond the window: the dry run leaves out what the pass skips
    env2 = make_env(relay.port, outage_plans())
    env2.run(at(2025, 10, 13))
    dry2 = env2.run(at(2025, 10, 18), dry_run=True)
    assert {a: sorted(r.key for r in rs) for a, rs in dry2.would_send.items()} == {
        VH: [A_OVERDUE], NV: [B_OVERDUE]}


# --- first load, done tasks, working days, moved deadlines -----------------------------------


def test_first_load_records_past_steps_as_skipped_never_sent(
        make_env: MakeEnv, relay: ThreadedSmtpServer) -> None:
    # deadline Fri 24/10/2025: lead 14wd Mon 06/10, 7wd Wed 15/10, 3wd Tue 21/10,
    # 1wd Thu 23/10, 0wd Fri 24/10; support (so-nv) 7wd Wed 15/10, 1wd Thu 23/10.
    env = make_env(relay.port, plans_doc(task("1", "ngày 24/10/2025", [VH], [NV])))
    first = env.run(at(2025, 10, 17))  # plans loaded for the first time on Fri 17/10
    assert first.messages == 0 and first.claimed == 0
    assert first.skipped == {SKIP_NEW_PAST: 2}
    for step, agency in (("lead-7wd", VH), ("support-7wd", NV)):
        row = env.store.lookup([key("1", "2025-10-24", step, agency)])
        assert [(r.status, r.last_error, r.attempts) for r in row.values()] == [
            (Status.SKIPPED, SKIP_NEW_PAST, 0)]
    # older than the catch-up window: never a row that could be sent
    assert env.status(key("1", "2025-10-24", "lead-14wd", VH)) in ([None], [Status.SKIPPED])
    env.run_days(date(2025, 10, 18), date(2025, 10, 24))
    sent = {d.key for d in env.store.deliveries(Status.SENT)}
    assert sent == {key("1", "2025-10-24", s, a) for s, a in (
        ("lead-3wd", VH), ("lead-1wd", VH), ("support-1wd", NV), ("lead-0wd", VH))}
    assert [d.rcpt_tos for d in relay.handler.delivered] == [
        [VH_MAIL], [NV_MAIL], [VH_MAIL], [VH_MAIL]]  # 21/10; 23/10 (two agencies); 24/10
    assert_none_twice(relay)


def test_done_task_gets_nothing_more(make_env: MakeEnv, relay: ThreadedSmtpServer) -> None:
    tasks = [task("1", "ngày 24/10/2025", [VH], [NV]),
             task("2", "ngày 24/10/2025", [TC], remind=[0])]
    env = make_env(relay.port, plans_doc(*tasks))
    env.run(at(2025, 10, 6))  # task 1's 14-working-day reminder goes out
    assert relay.handler.recipients() == [[VH_MAIL]]
    # Mon 13/10: the agency reports task 1 done
    env.write_plans(plans_doc(task("1", "ngày 24/10/2025", [VH], [NV], done="13/10/2025"),
                              tasks[1]))
    env.reload()
    reports = env.run_days(date(2025, 10, 13), date(2025, 11, 7))
    # only task 2 was mailed after that: to so-tc (on the day, overdue, escalate) and to
    # the coordinator so-nv (escalate); so-vh, task 1's lead, got nothing more
    later = relay.handler.delivered[1:]
    tc = [TC_MAIL, TC_MAIL2]
    assert [d.rcpt_tos for d in later] == [tc, tc, [NV_MAIL], tc]  # 24/10, 27/10, 31/10 x2
    assert all("Nhiệm vụ 1:" not in text_of(d.parsed()) for d in later)
    assert all("Nhiệm vụ 2:" in text_of(d.parsed()) for d in later)
    rows = {k: r for k, r in env.rows().items() if k.startswith(f"task/{PLAN}/1|")}
    by_status = Counter(r.status for r in rows.values())
    # sent 14wd; skipped: 7wd, 3wd, 1wd, 0wd, support 7wd and 1wd, overdue, escalate x2
    assert by_status == {Status.SENT: 1, Status.SKIPPED: 9}
    assert {r.last_error for r in rows.values() if r.status is Status.SKIPPED} == {
        SKIP_UNPLANNED}
    assert sum(r.skipped.get(SKIP_UNPLANNED, 0) for r in reports) == 9


def test_deadline_on_a_sunday_or_holiday_is_reminded_on_the_working_day_before(
        make_env: MakeEnv, relay: ThreadedSmtpServer) -> None:
    env = make_env(relay.port, plans_doc(
        task("CN", "ngày 19/10/2025", [VH], remind=[0]),  # Sunday
        task("QK", "ngày 02/9/2025", [NV], remind=[0]),  # Quốc khánh (01-02/09/2025 off)
    ))
    env.run(at(2025, 8, 20))
    assert env.run(at(2025, 8, 28)).messages == 0
    friday = env.run(at(2025, 8, 29))
    assert friday.messages == 1 and relay.handler.recipients() == [[NV_MAIL]]
    body = text_of(relay.handler.delivered[0].parsed())
    assert "Thời hạn: Thứ Ba, 02/09/2025 (văn bản ghi: \"ngày 02/9/2025\") - còn 4 ngày" in body
    assert "là ngày nghỉ; đề nghị hoàn thành trước, chậm nhất Thứ Sáu, 29/08/2025" in body
    for day in (30, 31):
        assert env.run(at(2025, 8, day)).messages == 0
    assert env.run(at(2025, 9, 1)).messages == 0
    assert env.run(at(2025, 9, 2)).messages == 0  # the holiday itself: nothing
    assert env.run(at(2025, 9, 3)).messages == 1  # overdue, on the next working day
    assert env.status(key("QK", "2025-09-02", "overdue-1wd", NV)) == [Status.SENT]

    start = len(relay.handler.delivered)
    assert env.run(at(2025, 10, 16)).messages == 0
    assert env.run(at(2025, 10, 17)).messages == 1  # Friday
    assert by_recipient(relay, start).keys() == {VH_MAIL}
    assert env.status(key("CN", "2025-10-19", "lead-0wd", VH)) == [Status.SENT]
    assert env.run(at(2025, 10, 18)).messages == 0
    assert env.run(at(2025, 10, 19)).messages == 0  # the Sunday deadline itself: nothing
    assert len(relay.handler.delivered) == start + 1
    assert_none_twice(relay)


def test_moved_deadline_no_resend_and_new_steps_for_the_future_only(
        make_env: MakeEnv, relay: ThreadedSmtpServer) -> None:
    old, new = "2025-10-24", "2025-11-05"
    env = make_env(relay.port, plans_doc(task("1", "ngày 24/10/2025", [VH], [NV])))
    env.run_days(date(2025, 10, 6), date(2025, 10, 16))
    assert {d.key for d in env.store.deliveries(Status.SENT)} == {
        key("1", old, "lead-14wd", VH), key("1", old, "lead-7wd", VH),
        key("1", old, "support-7wd", NV)}
    sent_before = len(relay.handler.delivered)
    assert sent_before == 3  # 06/10 (lead), 15/10 (lead and support)
    # Fri 17/10, before the pass: the deadline moves to Wed 05/11/2025. Its ladder:
    # 14wd Thu 16/10 (already past), 7wd Mon 27/10, 3wd Fri 31/10, 1wd Tue 04/11, 0wd 05/11
    env.write_plans(plans_doc(task("1", "ngày 05/11/2025", [VH], [NV])))
    env.reload()
    moved = env.run(at(2025, 10, 17))
    assert moved.messages == 0 and moved.skipped == {SKIP_NEW_PAST: 1}
    env.run_days(date(2025, 10, 18), date(2025, 11, 14))
    rows = env.rows()

    def steps(deadline: str, status: Status) -> set[tuple[str, str]]:
        return {(k.split("|")[2], k.split("|")[3]) for k, r in rows.items()
                if k.split("|")[1] == deadline and r.status is status}

    assert steps(old, Status.SENT) == {("lead-14wd", VH), ("lead-7wd", VH), ("support-7wd", NV)}
    assert steps(old, Status.SKIPPED) == {
        ("lead-3wd", VH), ("lead-1wd", VH), ("support-1wd", NV), ("lead-0wd", VH),
        ("overdue-1wd", VH), ("escalate-5wd", VH), ("escalate-5wd", NV)}
    assert {rows[key("1", old, "lead-0wd", VH)].last_error} == {SKIP_UNPLANNED}
    assert steps(new, Status.SKIPPED) == {("lead-14wd", VH)}
    assert rows[key("1", new, "lead-14wd", VH)].last_error == SKIP_NEW_PAST
    assert steps(new, Status.SENT) == {
        ("lead-7wd", VH), ("support-7wd", NV), ("lead-3wd", VH), ("lead-1wd", VH),
        ("support-1wd", NV), ("lead-0wd", VH), ("overdue-1wd", VH), ("escalate-5wd", VH),
        ("escalate-5wd", NV)}
    assert Counter(r.status for r in rows.values()) == {Status.SENT: 12, Status.SKIPPED: 8}
    assert_none_twice(relay)
    first_new = relay.handler.delivered[sent_before].parsed()
    assert first_new["Date"].datetime == at(2025, 10, 27)
    assert "Thời hạn: Thứ Tư, 05/11/2025" in text_of(first_new)


# --- faults, through the pass ----------------------------------------------------------------

def fault_plans() -> dict[str, Any]:
    """One reminder each for so-nv, so-tc and so-vh on Wed 15/10/2025 08:00."""
    return plans_doc(task("F", "ngày 15/10/2025", [VH], remind=[0]),
                     task("G", "ngày 15/10/2025", [NV], remind=[0]),
                     task("H", "ngày 15/10/2025", [TC], remind=[0]))


F_KEY = key("F", "2025-10-15", "lead-0wd", VH)
G_KEY = key("G", "2025-10-15", "lead-0wd", NV)
H_KEY = key("H", "2025-10-15", "lead-0wd", TC)
DUE = at(2025, 10, 15)


def fault_env(make_env: MakeEnv, port: int) -> Env:
    env = make_env(port, fault_plans())
    env.run(at(2025, 10, 13))
    return env


def test_transient_421_and_451_retried_until_delivered_none_twice(
        make_env: MakeEnv, relay: ThreadedSmtpServer) -> None:
    env = fault_env(make_env, relay.port)
    relay.handler.mail_replies = ["421 4.3.2 service shutting down"]
    relay.handler.data_replies = ["451 4.3.0 try again later", "451 4.7.1 greylisted",
                                  "451 4.3.0 try again later"]
    # pass 1, in agency order so-nv, so-tc, so-vh: 421 (connection closed), 451, 451
    first = env.run(DUE)
    assert (first.sent, first.retrying, first.messages) == (0, 3, 0)
    rows = env.store.lookup([F_KEY, G_KEY, H_KEY])
    assert rows[G_KEY].last_error == "MAIL FROM: 421 4.3.2 service shutting down"
    assert rows[H_KEY].last_error == "end of DATA: 451 4.3.0 try again later"
    assert rows[F_KEY].last_error == "end of DATA: 451 4.7.1 greylisted"
    for row in rows.values():
        assert row.status is Status.RETRYING and row.attempts == 1
        assert row.next_attempt is not None
        assert DUE < row.next_attempt <= DUE + timedelta(minutes=1)
    # not before the backoff
    assert env.run(DUE + timedelta(seconds=20)).claimed == 0
    # pass 2: so-nv 451 again (K = 2 for it), so-tc and so-vh accepted
    second = env.run(DUE + timedelta(minutes=1))
    assert (second.sent, second.retrying) == (2, 1)
    g = env.store.lookup([G_KEY])[G_KEY]
    assert g.status is Status.RETRYING and g.attempts == 2
    assert g.next_attempt is not None
    assert DUE + timedelta(minutes=2) <= g.next_attempt <= DUE + timedelta(minutes=3)
    third = env.run(DUE + timedelta(minutes=3))
    assert (third.sent, third.retrying) == (1, 0)
    assert env.run(DUE + timedelta(hours=1)).claimed == 0
    rows = env.store.lookup([F_KEY, G_KEY, H_KEY])
    assert {k: (r.status, r.attempts, r.uncertain) for k, r in rows.items()} == {
        G_KEY: (Status.SENT, 3, False), H_KEY: (Status.SENT, 2, False),
        F_KEY: (Status.SENT, 2, False)}
    assert sorted(relay.handler.recipients()) == [[NV_MAIL], [TC_MAIL, TC_MAIL2], [VH_MAIL]]
    assert sorted(relay.handler.by_message_id().values()) == [1, 1, 1]
    assert relay.handler.mail_commands == 7  # 3 + 3 + 1 transactions


def test_permanent_550_failed_reported_never_retried(
        make_env: MakeEnv, relay: ThreadedSmtpServer, capsys: pytest.CaptureFixture[str]) -> None:
    env = fault_env(make_env, relay.port)
    relay.handler.data_replies = ["550 5.7.1 message refused by policy"]
    report = env.run(DUE)
    assert (report.failed, report.sent, report.messages, report.retrying) == (1, 2, 2, 0)
    assert "1 failed" in report.summary()
    failed = env.store.deliveries(Status.FAILED)
    assert [(d.key, d.last_error, d.attempts, d.next_attempt) for d in failed] == [
        (G_KEY, "end of DATA: 550 5.7.1 message refused by policy", 1, None)]
    mails = relay.handler.mail_commands
    for later in (timedelta(minutes=5), timedelta(hours=6)):
        assert env.run(DUE + later).claimed == 0
    assert relay.handler.mail_commands == mails
    # the next day only the three overdue notices go out; the failed reminder stays failed
    next_day = env.run(at(2025, 10, 16))
    assert (next_day.claimed, next_day.sent) == (3, 3)
    assert env.store.lookup([G_KEY])[G_KEY] == failed[0]
    capsys.readouterr()
    assert main(["outbox", "--config", str(env.config), "--status", "failed", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["key"], r["status"], r["last_error"]) for r in listed] == [
        (G_KEY, "failed", "end of DATA: 550 5.7.1 message refused by policy")]


def test_connection_dropped_after_data_is_uncertain_retried_and_counted(
        make_env: MakeEnv, relay: ThreadedSmtpServer, capsys: pytest.CaptureFixture[str]) -> None:
    env = make_env(relay.port, plans_doc(task("F", "ngày 15/10/2025", [VH], remind=[0])))
    env.run(at(2025, 10, 13))
    relay.handler.drop_after_data = 1
    relay.handler.keep_dropped = True  # the worst case: the relay had queued it
    first = env.run(DUE)
    assert (first.uncertain, first.sent, first.retrying) == (1, 0, 0)
    row = env.store.lookup([F_KEY])[F_KEY]
    assert (row.status, row.uncertain, row.attempts) == (Status.RETRYING, True, 1)
    assert "may have been delivered" in (row.last_error or "")
    assert row.next_attempt is not None and row.next_attempt > DUE
    capsys.readouterr()
    assert main(["outbox", "--config", str(env.config), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sum(1 for r in listed if r["uncertain"]) == 1
    assert [r["status"] for r in listed if r["uncertain"]] == ["retrying"]

    second = env.run(row.next_attempt)
    assert (second.sent, second.messages) == (1, 1)
    row = env.store.lookup([F_KEY])[F_KEY]
    assert (row.status, row.uncertain, row.attempts) == (Status.SENT, True, 2)
    # the possible duplicate is visible: two copies, one Message-ID, and the outbox says so
    assert relay.handler.by_message_id() == {message_id_for([F_KEY], MAIL_DOMAIN): 2}
    assert main(["outbox", "--config", str(env.config)]) == 0
    assert "sent     (có thể trùng)" in capsys.readouterr().out
    assert env.run(DUE + timedelta(hours=2)).claimed == 0


def test_server_down_for_the_whole_pass_then_delivered_by_a_later_pass(
        make_env: MakeEnv) -> None:
    port = free_port()
    relay = ThreadedSmtpServer(Recorder(), port=port)  # not started: nothing listens
    env = fault_env(make_env, port)
    down = env.run(DUE)
    assert (down.retrying, down.sent, down.messages) == (3, 0, 0)
    rows = env.store.lookup([F_KEY, G_KEY, H_KEY])
    assert all(r.status is Status.RETRYING and r.attempts == 1 for r in rows.values())
    assert all(r.next_attempt is not None and r.next_attempt > DUE for r in rows.values())
    assert "cannot connect to 127.0.0.1" in (rows[G_KEY].last_error or "")
    assert all("earlier in this pass" in (rows[k].last_error or "") for k in (F_KEY, H_KEY))
    with relay:
        assert relay.port == port
        assert env.run(DUE + timedelta(seconds=10)).claimed == 0  # backoff respected
        up = env.run(max(r.next_attempt or DUE for r in rows.values()))
        assert (up.sent, up.messages, up.retrying) == (3, 3, 0)
        assert env.status(F_KEY, G_KEY, H_KEY) == [Status.SENT] * 3
        assert relay.handler.connections == 1
        assert sorted(relay.handler.by_message_id().values()) == [1, 1, 1]


def test_partial_recipient_refusal_is_sent_and_recorded(
        make_env: MakeEnv, relay: ThreadedSmtpServer) -> None:
    env = make_env(relay.port, plans_doc(task("H", "ngày 15/10/2025", [TC], remind=[0])))
    env.run(at(2025, 10, 13))
    relay.handler.refuse = {TC_MAIL2: "550 5.1.1 no such user"}
    report = env.run(DUE)
    assert (report.sent, report.messages, report.failed) == (1, 1, 0)
    assert relay.handler.recipients() == [[TC_MAIL]]
    msg = relay.handler.delivered[0].parsed()
    assert msg["To"] == f"{TC_MAIL}, {TC_MAIL2}"
    row = env.store.lookup([H_KEY])[H_KEY]
    assert row.status is Status.SENT
    assert row.recipients == f"{TC_MAIL}; refused: {TC_MAIL2} (550 5.1.1 no such user)"


def test_a_long_pass_extends_its_lease_as_it_goes(
        tmp_path: Path, relay: ThreadedSmtpServer) -> None:
    """The claim's lease is extended by the time actually spent (the pass's ``now`` is fixed),
    so that a slow pass keeps its claim and no other replica takes the rows over. (The
    extension is due after a quarter of the lease: here a 2 s lease, so every 0.5 s, with a
    relay taking 0.25 s a message.)"""
    env = Env(tmp_path, relay.port, fault_plans(),
              extra_config="delivery: {lease_seconds: 2, send_timeout_seconds: 1}\n")
    env.run(at(2025, 10, 13))
    database = env.folder / "r.db"
    seen: list[list[datetime]] = []

    def look(_envelope: object) -> None:  # in the server's thread, while a message is sent
        with contextlib.closing(sqlite3.connect(database)) as conn:
            rows = conn.execute(
                "SELECT lease_until FROM deliveries WHERE status = 'sending'").fetchall()
        seen.append(sorted(datetime.fromisoformat(r[0]) for r in rows))

    relay.handler.on_data = look
    relay.handler.data_delay = 0.25
    assert env.run(DUE).sent == 3
    claimed_until = DUE + timedelta(seconds=2)
    assert [len(s) for s in seen] == [3, 2, 1]
    assert seen[0] == [claimed_until] * 3
    assert seen[1] == [claimed_until] * 2  # 0.25 s in: no extension yet
    assert seen[2][0] >= claimed_until + timedelta(seconds=0.5)
    assert all(r.lease_until is None for r in env.rows().values())
