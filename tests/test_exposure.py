"""Safe to put on the network (issue 12), over real HTTP against `reminderd run`.

The public listener serves only agency feeds by token and a bare /healthz; the admin one
the rest. Half-open floods, malformed requests, a hostile status template and a huge broken
plans.yaml end with a closed connection or a clear line, never a traceback loop.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import resource
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from daemon_proc import GOV_PLANS, SECRET, Daemon, wait_for
from smtp_server import ThreadedSmtpServer

from reminderd.feeds.tokens import FeedTokens
from reminderd.mail.donelink import DoneLinks
from reminderd.server.auth import hash_password, parse_hash, verify_password
from reminderd.server.statuspage import bounded

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

PLANS = GOV_PLANS.replace("{snv}", "lich@songoaivu.gov.vn")
CLOCK = "2026-06-01T09:00:00+07:00"
TOKENS = FeedTokens(SECRET.encode(), ["snv", "vhttdl"])
EMAILS = ("lich@songoaivu.gov.vn", "vanthu@sovhttdl.gov.vn", "lich@songoaivu.example")


@pytest.fixture
def smtp() -> Iterator[ThreadedSmtpServer]:
    with ThreadedSmtpServer() as server:
        yield server


def _raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes (or ``timeout``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def _post(url: str, form: dict[str, str]) -> tuple[int, bytes]:
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _leaks(body: bytes, allowed_token: str | None, root: Path) -> list[str]:
    text = body.decode("utf-8", "replace")
    found = [t for t in (TOKENS.token("snv"), TOKENS.token("vhttdl"), TOKENS.all_token)
             if t != allowed_token and t in text]
    found += [e for e in EMAILS if e in text]
    found += [p for p in (str(root), str(ROOT), "/tmp/", "plans.yaml", ".yaml") if p in text]
    return found


def test_public_listener_serves_feeds_only_and_leaks_nothing(tmp_path: Path,
                                                             smtp: ThreadedSmtpServer) -> None:
    d = Daemon(tmp_path, PLANS, smtp.port, clock_start=CLOCK)
    try:
        d.start()
        # a config problem, so /healthz has paths and lines to (not) leak
        d.plans.write_text(PLANS.replace("30/6/2026", "31/6/2026"), encoding="utf-8")
        assert wait_for(lambda: d.get("/healthz")[0] == 503, timeout=10), d.output()
        detail = d.get("/healthz")[2].decode()
        assert str(d.plans) in detail  # the admin sees where

        snv = f"/feeds/{TOKENS.token('snv')}.ics"
        # the done links (issue 14): the one mailed to snv, a forged one, an expired one,
        # one for an item no longer in the plans, and garbage
        links = DoneLinks(TOKENS.derive(b"reminderd done links"), d.url)
        forged = DoneLinks(b"not the secret", d.url)
        done = links.url("task/bng-2026/reply", "snv", date(2026, 7, 1))[len(d.url):]
        done_paths = (done, forged.url("task/bng-2026/reply", "snv", date(2026, 7, 1)),
                      links.url("task/bng-2026/reply", "snv", date(2026, 5, 1)),
                      links.url("task/bng-2026/gone", "vhttdl", date(2026, 7, 1)),
                      "/done/", "/done/nope", "/done/" + "A" * 3000 + ".x")
        done_paths = tuple(p[len(d.url):] if p.startswith("http") else p for p in done_paths)
        responses: dict[str, tuple[int, bytes]] = {}
        for path in ("/", "/metrics", "/calendar.ics", "/healthz", "/status", "/feeds/",
                     "/feeds/nope.ics", f"/feeds/{TOKENS.all_token}.ics", "/index.html",
                     "/%2e%2e/%2e%2e/etc/passwd", snv, *done_paths, "/admin/undo-done"):
            status, _, body = d.get(path, public=True)
            responses[path] = (status, body)
        for path in done_paths[1:]:  # a POST with a bad link records nothing, says nothing
            status, body = _post(d.url + path, {"note": "x"})
            responses["POST " + path] = (status, body)
            assert status in (404, 405, 410), (path, status)
        status, body = _post(d.url + "/admin/undo-done", {"key": "task/bng-2026/reply"})
        assert status in (404, 405), status  # the undo is on the admin listener only
        for path in ("/", "/metrics", "/calendar.ics", "/status", "/feeds/nope.ics",
                     f"/feeds/{TOKENS.all_token}.ics"):
            assert responses[path][0] == 404, (path, responses[path])
        assert responses["/healthz"] == (200, b'{"status": "ok"}')  # status only
        assert responses[snv][0] == 200 and b"BEGIN:VCALENDAR" in responses[snv][1]
        assert responses[done][0] == 200 and "Gửi công văn" in responses[done][1].decode()
        assert responses["/admin/undo-done"][0] in (404, 405)
        assert "Gửi công văn" in responses[snv][1].decode()
        for path, (_, body) in responses.items():
            allowed = TOKENS.token("snv") if path == snv else None
            assert not _leaks(body, allowed, tmp_path), (path, _leaks(body, allowed, tmp_path))
        for raw in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"BREW /pot HTTP/1.1\r\n\r\n",
                    b"GET /\x00 HTTP/1.1\r\nHost: \x01\r\n\r\n",
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"):
            reply = _raw(d.port, raw)
            assert not _leaks(reply, None, tmp_path), (raw, reply)

        # the admin listener has all of it
        status, _, page = d.get("/")
        assert status == 200 and "Tình trạng hệ thống nhắc việc" in page.decode()
        assert TOKENS.token("vhttdl") in page.decode()
        assert d.get("/metrics")[0] == 200 and b"reminderd_feed_requests_total" in \
            d.get("/metrics")[2]
        status, _, whole = d.get("/calendar.ics")
        assert status == 200 and "Báo cáo kết quả" in whole.decode()
        assert d.get(snv)[0] == 200
    finally:
        d.kill()
    out = d.output()
    assert "Traceback" not in out, out[-3000:]
    assert f"http://127.0.0.1:{d.port}" in out and f"http://127.0.0.1:{d.admin_port}/" in out


def test_admin_basic_auth_and_public_calendar(tmp_path: Path, smtp: ThreadedSmtpServer) -> None:
    password = "mật-khẩu-quản-trị-đủ-dài"
    d = Daemon(tmp_path, PLANS, smtp.port, clock_start=CLOCK,
               extra_config="  admin_password_hash_env: REMINDERD_ADMIN_HASH\n"
                            "feeds:\n  public_calendar: true\n",
               env={"REMINDERD_ADMIN_HASH": hash_password(password, log2_n=12)})
    d.start()  # returns once the admin listener answers (here: 401 without a password)

    def admin(path: str, credentials: str | None) -> tuple[int, bytes, str]:
        headers = {}
        if credentials is not None:
            token = base64.b64encode(credentials.encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        request = urllib.request.Request(d.admin_url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read(), ""
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers.get("WWW-Authenticate", "")

    try:
        assert d.proc is not None and d.proc.poll() is None, d.output()
        assert wait_for(lambda: admin("/healthz", f"admin:{password}")[0] == 200, timeout=20)
        status, _, challenge = admin("/", None)
        assert status == 401 and challenge.startswith("Basic realm=")
        assert admin("/calendar.ics", f"admin:{password}x")[0] == 401
        assert admin("/metrics", f"root:{password}")[0] == 401
        status, page, _ = admin("/", f"admin:{password}")
        assert status == 200 and "Tình trạng hệ thống" in page.decode()
        # the whole calendar: public under its own token, the same bytes as the admin's
        whole_url = f"http://127.0.0.1:{d.port}/feeds/{TOKENS.all_token}.ics"
        assert whole_url in page.decode()  # the status page gives that link
        status, _, public_whole = d.get(f"/feeds/{TOKENS.all_token}.ics", public=True)
        assert status == 200
        assert public_whole == admin("/calendar.ics", f"admin:{password}")[1]
        assert d.get("/calendar.ics", public=True)[0] == 404
        assert d.get("/healthz", public=True)[0] == 200  # no password on the public side
    finally:
        d.kill()
    assert password not in d.output()


def test_password_hash_format() -> None:
    encoded = hash_password("một mật khẩu dài", log2_n=10)
    assert re.fullmatch(r"\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+", encoded)
    assert verify_password("một mật khẩu dài", encoded)
    assert not verify_password("một mật khẩu dàI", encoded)
    with pytest.raises(ValueError) as err:
        parse_hash("hunter2-plain-password")
    assert "hunter2" not in str(err.value)


def test_problems_are_bounded() -> None:
    lines = [f"plans.yaml:{i}:1: lỗi" for i in range(1, 1001)]
    shown = bounded(lines)
    assert len(shown) == 201 and shown[:200] == lines[:200]
    assert shown[-1].startswith("… và 800 lỗi khác")
    assert bounded(lines[:3]) == lines[:3]


def _low_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def test_half_open_flood_and_malformed_requests(tmp_path: Path,
                                                smtp: ThreadedSmtpServer) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 2300:
        pytest.skip(f"the test needs 2,300 descriptors; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    d = Daemon(tmp_path, PLANS, smtp.port, clock_start=CLOCK,
               extra_config="  header_timeout_seconds: 30\n")
    d.preexec = _low_descriptors
    held: list[socket.socket] = []
    try:
        d.start()
        with open(f"/proc/{d.proc.pid}/limits") as limits:  # type: ignore[union-attr]
            assert re.search(r"Max open files\s+1024\s+1024", limits.read())
        snv = f"/feeds/{TOKENS.token('snv')}.ics"
        started = time.monotonic()
        for _ in range(2000):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", d.port))
            held.append(s)
        time.sleep(0.5)
        for s in held:  # half a request each, never finished
            with contextlib.suppress(OSError):
                s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        opened = time.monotonic() - started
        # with all of them open: the public /healthz and a feed answer within 1 s
        worst = 0.0
        for path in ("/healthz", snv, "/healthz", snv):
            t = time.monotonic()
            status, _, _ = d.get(path, public=True, timeout=5)
            worst = max(worst, time.monotonic() - t)
            assert status == 200, (path, status)
        assert worst < 1.0, f"took {worst:.2f} s under the flood"
        assert d.get("/calendar.ics", timeout=5)[0] == 200
        # malformed requests: a 400 or a closed connection, a few one-line warnings
        for i in range(60):
            _raw(d.port, b"GET /\x00bad HTTP/1.1\r\nHost: x\r\n\r\n" if i % 2 else
                 b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", timeout=2)
        print(f"2000 half-open connections opened in {opened:.2f} s; worst answer "
              f"{worst * 1000:.0f} ms")
    finally:
        for s in held:
            s.close()
    try:
        assert d.get("/healthz", public=True, timeout=5)[0] == 200
        metrics = d.get("/metrics")[2].decode()
        assert "reminderd_feed_requests_total" in metrics
    finally:
        d.kill()
    out = d.output()
    assert "Traceback" not in out, out[-3000:]
    assert len(out) < 20_000, f"{len(out)} bytes of log"
    warnings = [line for line in out.splitlines() if "http.bad_request" in line]
    assert 1 <= len(warnings) <= 6, warnings
    assert "max_connections=1000 lowered to" in out  # the cap follows the descriptor limit


def test_hostile_status_template_is_refused_and_the_last_good_one_serves(
        tmp_path: Path, smtp: ThreadedSmtpServer) -> None:
    templates = tmp_path / "templates"
    import shutil

    shutil.copytree(ROOT / "templates", templates)
    d = Daemon(tmp_path, PLANS, smtp.port, clock_start=CLOCK)
    d.config.write_text(d.config.read_text(encoding="utf-8").replace(
        f"templates: {ROOT / 'templates'}", f"templates: {templates}"), encoding="utf-8")
    page = templates / "status" / "index.html"
    good = page.read_text(encoding="utf-8")
    proof = tmp_path / "pwned"
    try:
        d.start()
        for hostile in (
                "{{ ''.__class__.__mro__[1].__subclasses__() }}",
                "{{ cycler.__init__.__globals__.os.popen('id > " + str(proof) + "').read() }}",
                "{{ lipsum.__globals__['os'].environ }}",
                "{% if status %}{{ status.local.__func__.__globals__ }}{% endif %}"):
            page.write_text(good.replace("<main>", "<main>\n" + hostile, 1), encoding="utf-8")
            assert wait_for(lambda: d.get("/healthz")[0] == 503, timeout=10), d.output()
            problems = json.loads(d.get("/healthz")[2])["problems"]
            assert any(f"{page}:" in p and "SecurityError" in p for p in problems), problems
            status, _, html = d.get("/")
            assert status == 200 and "Lịch 60 ngày tới" in html.decode()  # the last good one
            assert "SecurityError" in html.decode()  # and why the edit was refused
            page.write_text(good, encoding="utf-8")
            assert wait_for(lambda: d.get("/healthz")[0] == 200, timeout=10), d.output()
        assert not proof.exists()
    finally:
        d.kill()
    assert "Traceback" not in d.output()


def _rss_peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _big_broken_plans(count: int) -> str:
    lines = [PLANS.rstrip("\n")]
    for i in range(count):
        lines.append(f"      - id: t{i}\n        title: Nhiệm vụ số {i} của một kế hoạch rất "
                     f"dài\n        when: \"ngày 32/13/2026 hoặc gì đó\"\n"
                     f"        lead: khong-co-{i}")
    return "\n".join(lines) + "\n"


def test_six_megabyte_broken_plans_on_reload(tmp_path: Path, smtp: ThreadedSmtpServer) -> None:
    d = Daemon(tmp_path, PLANS, smtp.port, clock_start=CLOCK)
    try:
        d.start()
        assert d.proc is not None
        status, _, whole = d.get("/calendar.ics")
        assert status == 200
        text = _big_broken_plans(36_000)
        assert len(text.encode()) > 6_000_000
        tmp = d.plans.with_name("plans.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, d.plans)
        worst, served = 0.0, 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            t = time.monotonic()
            status, _, body = d.get("/calendar.ics", timeout=5)
            worst = max(worst, time.monotonic() - t)
            assert status == 200 and body == whole
            served += 1
            if d.get("/healthz", timeout=5)[0] == 503:
                break
            time.sleep(0.1)
        health = d.get("/healthz")[2]
        problems = json.loads(health)["problems"]
        assert len(problems) == 201 and re.match(r"… và \d+ lỗi khác", problems[-1]), \
            problems[-3:]
        assert len(health) < 100_000
        for _ in range(20):  # the page and /healthz are not rebuilt per request
            t = time.monotonic()
            assert d.get("/")[0] == 200
            worst = max(worst, time.monotonic() - t)
        peak = _rss_peak_mb(d.proc.pid)
        print(f"6 MB broken plans: peak RSS {peak:.0f} MB, worst /calendar.ics {worst:.2f} s "
              f"over {served} requests during the reload")
        assert peak < 300, f"peak RSS {peak:.0f} MB"
        assert worst < 1.0
    finally:
        d.kill()
