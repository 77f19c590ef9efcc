"""Run `reminderd run` as a real subprocess on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

from smtp_server import free_port

SECRET = "test-feed-secret-at-least-32-bytes-long"

# Two agencies with real-looking (not reserved) addresses, one plan: lead "snv" due
# 11/06/2026, lead "vhttdl" due 29/06/2026 (`{snv}` is the first agency's address).
GOV_PLANS = """\
agencies:
  - id: snv
    name: Sở Ngoại vụ tỉnh Đắk Lắk
    emails: [{snv}]
  - id: vhttdl
    name: Sở Văn hóa, Thể thao và Du lịch
    emails: [vanthu@sovhttdl.gov.vn]
plans:
  - id: bng-2026
    title: Chương trình Quảng bá địa phương Việt Nam tại Hàn Quốc năm 2026
    year: 2026
    tasks:
      - id: reply
        title: Gửi công văn trả lời Bộ Ngoại giao
        when: "trước ngày 12/6/2026"
        lead: snv
      - id: report
        title: Báo cáo kết quả
        when: "trước ngày 30/6/2026"
        lead: vhttdl
"""


def wait_for(condition: Callable[[], Any], timeout: float, step: float = 0.1) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


class Daemon:
    def __init__(self, root: Path, plans: str, smtp_port: int, *,
                 clock_start: str | None = None, store: str = "sqlite:///var/r.db",
                 extra_config: str = "", mail_extra: str = "",
                 env: dict[str, str] | None = None, folder: bool = False) -> None:
        """``folder``: the plans are a folder (``root/plans``) and ``plans`` its first file,
        ``plans/main.yaml`` (``self.plans``)."""
        self.root = root
        self.port = free_port()  # the public listener (public_url)
        self.admin_port = free_port()
        if folder:
            (root / "plans").mkdir()
            self.plans = root / "plans" / "main.yaml"
        else:
            self.plans = root / "plans.yaml"
        self.plans.write_text(plans, encoding="utf-8")
        self.config = root / "reminderd.yaml"
        self.config.write_text(
            f"plans: {'plans' if folder else 'plans.yaml'}\n"
            f"templates: {Path(__file__).resolve().parents[1] / 'templates'}\n"
            f"store: {store}\n"
            "var_dir: var\n"
            "mail:\n"
            '  from: "Sở Ngoại vụ <lich@songoaivu.example>"\n'
            f"  smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none}}\n" + mail_extra +
            "http:\n"
            f"  listen: 127.0.0.1:{self.port}\n"
            f"  admin_listen: 127.0.0.1:{self.admin_port}\n"
            f"  public_url: http://127.0.0.1:{self.port}\n"
            + extra_config,
            encoding="utf-8",
        )
        self.clock_start = clock_start
        self.env = env or {}
        self.preexec: Callable[[], None] | None = None
        self.proc: subprocess.Popen[str] | None = None
        self.log = root / "daemon.log"

    @property
    def url(self) -> str:
        """The public listener: agency feeds by token, a bare /healthz."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        """The admin listener: status page, /metrics, detailed /healthz, /calendar.ics."""
        return f"http://127.0.0.1:{self.admin_port}"

    def start(self, clock_start: str | None = None) -> Daemon:
        argv = [sys.executable, "-m", "reminderd.cli", "run", "--config", str(self.config)]
        start = clock_start or self.clock_start
        if start:
            argv += ["--clock-start", start]
        env = {**os.environ, "REMINDERD_FEED_SECRET": SECRET, "PYTHONUNBUFFERED": "1",
               **self.env}
        with open(self.log, "a") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, text=True,
                                         env=env, preexec_fn=self.preexec)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited {self.proc.returncode}:\n{self.output()}")
            try:
                self.get("/healthz")
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"daemon did not answer within 30 s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def get(self, path: str, headers: dict[str, str] | None = None, *, public: bool = False,
            timeout: float = 10) -> tuple[int, Message, bytes]:
        """Status, headers (case-insensitive) and body of a GET on the admin listener (on
        the public one with ``public=True``)."""
        base = self.url if public else self.admin_url
        request = urllib.request.Request(base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        finally:
            self.proc = None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
