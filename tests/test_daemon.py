"""`reminderd run` end to end: a subprocess on a free port, real HTTP, a real SMTP server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_proc import SECRET, Daemon, wait_for
from smtp_server import ThreadedSmtpServer

from reminderd.feeds.tokens import FeedTokens

PLANS = """\
agencies:
  - id: snv
    name: Sở Ngoại vụ tỉnh Đắk Lắk
    emails: [lich@songoaivu.example]
  - id: vhttdl
    name: Sở Văn hóa, Thể thao và Du lịch
    emails: [vanthu@sovhttdl.example]
    aliases: ["Sở VHTTDL"]
plans:
  - id: bng-2026
    title: Chương trình Quảng bá địa phương Việt Nam tại Hàn Quốc năm 2026
    reference: "Công văn …/BNG-NVVH tháng 5/2026 của Bộ Ngoại giao"
    year: 2026
    tasks:
      - id: reply
        title: Gửi công văn trả lời Bộ Ngoại giao
        when: "trước ngày {reply}"
        lead: snv
        support: ["Sở VHTTDL"]
"""

# 12/6/2026 is a Friday: "trước ngày 12/6/2026" is due Thu 11/6; the lead's 1-working-day
# reminder goes out Wed 10/6 at 08:00 Asia/Ho_Chi_Minh.
DUE = "2026-06-10T08:00:00+07:00"
JUST_BEFORE = "2026-06-10T07:59:56+07:00"


@pytest.fixture
def smtp() -> Iterator[ThreadedSmtpServer]:
    with ThreadedSmtpServer() as server:
        yield server


@pytest.fixture
def daemon(tmp_path: Path, smtp: ThreadedSmtpServer) -> Iterator[Daemon]:
    d = Daemon(tmp_path, PLANS.replace("{reply}", "12/6/2026"), smtp.port,
               clock_start=JUST_BEFORE)
    yield d
    d.kill()


@pytest.mark.slow
def test_feeds_tokens_reload_mail_and_restart(daemon: Daemon, smtp: ThreadedSmtpServer) -> None:
    daemon.start()
    started = time.monotonic()

    # The mail due at 08:00 on the daemon's clock arrives within 5 s of that instant, once:
    # the lead's 1-working-day reminder and the coordinating agency's, one message each.
    assert wait_for(lambda: len(smtp.handler.delivered) >= 2, timeout=4 + 5), daemon.output()
    assert time.monotonic() - started < 4 + 5
    assert sorted(smtp.handler.recipients()) == [["lich@songoaivu.example"],
                                                 ["vanthu@sovhttdl.example"]]
    bodies = [m.get_body(("plain",)).get_content() for m in smtp.handler.messages()]
    assert all("Gửi công văn trả lời Bộ Ngoại giao" in b for b in bodies)
    assert any("Chủ trì" in b for b in bodies) and any("Phối hợp" in b for b in bodies)

    # The whole feed, with a strong ETag that revalidates to 304.
    status, headers, body = daemon.get("/calendar.ics")
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    assert b"UID:task/bng-2026/reply@" in body and b"DTSTART;VALUE=DATE:20260611" in body
    etag = headers["ETag"]
    assert etag.startswith('"')
    status, _, body304 = daemon.get("/calendar.ics", {"If-None-Match": etag})
    assert status == 304 and body304 == b""

    # Agency feeds behind unguessable tokens: the right one 200, a wrong one 404.
    tokens = FeedTokens(SECRET.encode(), ["snv", "vhttdl"])
    status, _, agency_feed = daemon.get(f"/feeds/{tokens.token('vhttdl')}.ics")
    assert status == 200 and b"task/bng-2026/reply" in agency_feed
    wrong = tokens.token("vhttdl")[:-1] + ("a" if tokens.token("vhttdl")[-1] != "a" else "b")
    assert daemon.get(f"/feeds/{wrong}.ics")[0] == 404

    # A bad edit: the old feed stays, /healthz says 503 with file:line.
    good_text = daemon.plans.read_text(encoding="utf-8")
    daemon.plans.write_text(good_text.replace("lead: snv", "lead: snvv"), encoding="utf-8")
    assert wait_for(lambda: daemon.get("/healthz")[0] == 503, timeout=5), daemon.output()
    health = daemon.get("/healthz")[2].decode()
    assert f"{daemon.plans}:" in health and "snvv" in health
    assert daemon.get("/calendar.ics")[2] == body

    # A good edit is served within 5 s: the deadline moves to 19/6 (due 18/6).
    daemon.plans.write_text(good_text.replace("12/6/2026", "19/6/2026"), encoding="utf-8")
    assert wait_for(lambda: b"DTSTART;VALUE=DATE:20260618" in daemon.get("/calendar.ics")[2],
                    timeout=5), daemon.output()
    assert daemon.get("/healthz")[0] == 200
    # Same UID, higher SEQUENCE.
    moved = daemon.get("/calendar.ics")[2]
    assert b"UID:task/bng-2026/reply@" in moved and b"SEQUENCE:1" in moved

    # The moved deadline is announced to both agencies, once (issue 14).
    assert wait_for(lambda: len(smtp.handler.delivered) >= 4, timeout=10), daemon.output()
    kinds = sorted(str(m["X-Reminderd-Kind"]) for m in smtp.handler.messages())
    assert kinds == ["change", "change", "reminder", "reminder"]

    # SIGTERM: exit 0. A restart sends nothing twice.
    assert daemon.stop() == 0, daemon.output()
    daemon.start(clock_start="2026-06-10T08:05:00+07:00")
    # the restarted daemon's catch-up pass has run (it shows in /healthz) before we look
    assert wait_for(lambda: "last_pass" in json.loads(daemon.get("/healthz")[2]),
                    timeout=15), daemon.output()
    assert smtp.handler.by_message_id().most_common(1)[0][1] == 1
    assert len(smtp.handler.delivered) == 4, daemon.output()
    assert daemon.stop() == 0


def test_a_broken_config_at_start_exits_1_with_the_place(tmp_path: Path,
                                                         smtp: ThreadedSmtpServer) -> None:
    d = Daemon(tmp_path, PLANS.replace("{reply}", "31/6/2026"), smtp.port)
    with pytest.raises(RuntimeError, match=r"daemon exited 1") as err:
        d.start()
    assert f"{d.plans}:" in str(err.value) and "June 2026 has 30 days" in str(err.value)
