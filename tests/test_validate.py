"""One validation path: `check`, `run` at start-up and a running daemon's reload refuse the
same cases with the same located lines (issue 11): a mail.from without an address, an SMTP
credential variable that is not set, a broken status page template. And the daemon's
lifecycle: a failing start-up step stops what was started; a second SIGTERM forces the
exit."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemon_proc import Daemon, wait_for
from smtp_server import ThreadedSmtpServer
from test_daemon import JUST_BEFORE, PLANS

from reminderd.cli import main

pytestmark = pytest.mark.slow  # daemon subprocesses

ROOT = Path(__file__).resolve().parents[1]
UNSET = "REMINDERD_TEST_NEVER_SET_PASSWORD"


def _no_address(d: Daemon) -> str:
    text = d.config.read_text(encoding="utf-8")
    d.config.write_text(text.replace('from: "Sở Ngoại vụ <lich@songoaivu.example>"',
                                     'from: "Sở Ngoại vụ"'), encoding="utf-8")
    return "'mail.from': 'Sở Ngoại vụ': write one address with a valid domain"


def _reply_to_and_operator(d: Daemon) -> str:
    """issue 14's addresses go through the one address parser (core/headers), located."""
    text = d.config.read_text(encoding="utf-8")
    d.config.write_text(text.replace(
        'from: "Sở Ngoại vụ <lich@songoaivu.example>"\n',
        'from: "Sở Ngoại vụ <lich@songoaivu.example>"\n  reply_to: "Văn phòng Sở"\n'
        '  operator: "ops@x.example, boss@x.example"\n'), encoding="utf-8")
    return "'mail.reply_to': 'Văn phòng Sở': write one address with a valid domain"


def _unset_credential(d: Daemon) -> str:
    text = d.config.read_text(encoding="utf-8")
    d.config.write_text(text.replace(
        "security: none}", f"security: starttls, username_env: {UNSET}, password_env: {UNSET}}}"),
        encoding="utf-8")
    return f"mail.smtp.username_env names the environment variable {UNSET}, which is not set"


def _broken_status_page(d: Daemon) -> str:
    page = d.root / "templates" / "status" / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace(
        "status.last_pass.duration_text", "status.last_pass.duraton"), encoding="utf-8")
    return "has no attribute 'duraton'"


CASES: dict[str, Callable[[Daemon], str]] = {
    "mail.from without an address": _no_address,
    "mail.reply_to, mail.operator not one address": _reply_to_and_operator,
    "credential variable not set": _unset_credential,
    "broken status page template": _broken_status_page,
}


@pytest.fixture
def smtp() -> Iterator[ThreadedSmtpServer]:
    with ThreadedSmtpServer() as server:
        yield server


def make_daemon(root: Path, smtp: ThreadedSmtpServer) -> Daemon:
    """The daemon of test_daemon, with its own copy of the templates (to break)."""
    d = Daemon(root, PLANS.replace("{reply}", "12/6/2026"), smtp.port, clock_start=JUST_BEFORE)
    shutil.copytree(ROOT / "templates", root / "templates")
    text = d.config.read_text(encoding="utf-8")
    d.config.write_text(text.replace(f"templates: {ROOT / 'templates'}", "templates: templates"),
                        encoding="utf-8")
    return d


def check_lines(d: Daemon, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["check", "--config", str(d.config)])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.startswith(str(d.root))]


@pytest.mark.parametrize("case", list(CASES))
def test_check_and_run_refuse_the_same_lines(case: str, tmp_path: Path,
                                             smtp: ThreadedSmtpServer,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    d = make_daemon(tmp_path, smtp)
    assert check_lines(d, capsys) == (0, [])
    expected = CASES[case](d)
    code, lines = check_lines(d, capsys)
    assert code == 1 and lines and expected in "\n".join(lines), lines
    # each line names the place: FILE:LINE:COL, never the file's 1:1 for a field
    for line in lines:
        file, row, col, _ = line.split(":", 3)
        assert Path(file).exists() and int(row) >= 1 and int(col) >= 1
        assert not (file == str(d.config) and (row, col) == ("1", "1")), line
    with pytest.raises(RuntimeError, match="daemon exited 1") as err:
        d.start()
    output = d.output()
    assert "Traceback" not in output, output
    assert [x for x in output.splitlines() if x.startswith(str(d.root))] == lines
    assert str(err.value)


def test_a_running_daemon_keeps_its_last_good_version(tmp_path: Path,
                                                      smtp: ThreadedSmtpServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    d = make_daemon(tmp_path, smtp)
    good = {p: p.read_bytes() for p in (d.config, tmp_path / "templates/status/index.html")}
    d.start()
    try:
        assert wait_for(lambda: d.get("/healthz")[0] == 200, timeout=10), d.output()
        feed = d.get("/calendar.ics")[2]
        for case, breaks in CASES.items():
            expected = breaks(d)
            assert wait_for(lambda: d.get("/healthz")[0] == 503, timeout=10), (case, d.output())
            health = json.loads(d.get("/healthz")[2])
            assert any(expected in p for p in health["problems"]), (case, health)
            page = d.get("/")
            assert page[0] == 200 and "Lỗi cấu hình" in page[2].decode(), case
            assert d.get("/calendar.ics")[2] == feed  # the last good version serves
            for path, data in good.items():
                path.write_bytes(data)
            assert wait_for(lambda: d.get("/healthz")[0] == 200, timeout=10), (case, d.output())
        output = d.output()
        assert "Traceback" not in output, output
        assert d.stop() == 0
    finally:
        d.kill()


def test_a_failed_start_up_step_stops_what_was_started(tmp_path: Path,
                                                       smtp: ThreadedSmtpServer) -> None:
    """The port is taken: store opened, feeds published, scheduler started, then the
    listener fails. The exit stack stops all of it; the line names http.listen."""
    d = make_daemon(tmp_path, smtp)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", d.port))
        taken.listen()
        with pytest.raises(RuntimeError, match="daemon exited 1"):
            d.start()
    output = d.output()
    assert "Traceback" not in output, output
    assert f"{d.config}:" in output and "cannot listen on 127.0.0.1" in output
    assert "stop.done" in output  # the store was closed on the way out
    assert d.start().stop() == 0  # and nothing was left holding the store


class _StallingSmtp:
    """Accepts connections and never greets: a pass hangs in connect until its timeout."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_forces_the_exit(tmp_path: Path, sig: signal.Signals) -> None:
    """SIGTERM or Ctrl-C while the drain waits for a stalled SMTP server: the first waits,
    the second exits at once."""
    stall = _StallingSmtp()
    try:
        d = Daemon(tmp_path, PLANS.replace("{reply}", "12/6/2026"), stall.port,
                   clock_start="2026-06-10T08:00:01+07:00")  # a reminder is due at once
        d.start()
        assert d.proc is not None
        time.sleep(1.5)  # the start-up pass is waiting for the greeting
        d.proc.send_signal(sig)
        time.sleep(1.0)
        assert d.proc.poll() is None, d.output()  # draining: the pass is on the wire
        started = time.monotonic()
        d.proc.send_signal(sig)
        assert d.proc.wait(timeout=5) == 1
        assert time.monotonic() - started < 3
        assert f"{sig.name} again: forced exit" in d.output()
    finally:
        d.kill()
        stall.close()


def test_ctrl_c_stops_cleanly(tmp_path: Path, smtp: ThreadedSmtpServer) -> None:
    d = make_daemon(tmp_path, smtp).start()
    assert d.proc is not None
    d.proc.send_signal(signal.SIGINT)
    assert d.proc.wait(timeout=30) == 0
    assert "Traceback" not in d.output() and "daemon.stopped" in d.output()
