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

SECRET = "test-feed-secret"


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
                 extra_config: str = "", mail_extra: str = "") -> None:
        self.root = root
        self.port = free_port()
        self.plans = root / "plans.yaml"
        self.plans.write_text(plans, encoding="utf-8")
        self.config = root / "reminderd.yaml"
        self.config.write_text(
            "plans: plans.yaml\n"
            f"templates: {Path(__file__).resolve().parents[1] / 'templates'}\n"
            f"store: {store}\n"
            "var_dir: var\n"
            "mail:\n"
            '  from: "Sở Ngoại vụ <lich@songoaivu.example>"\n'
            f"  smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none}}\n" + mail_extra +
            "http:\n"
            f"  listen: 127.0.0.1:{self.port}\n"
            f"  public_url: http://127.0.0.1:{self.port}\n" + extra_config,
            encoding="utf-8",
        )
        self.clock_start = clock_start
        self.proc: subprocess.Popen[str] | None = None
        self.log = root / "daemon.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, clock_start: str | None = None) -> Daemon:
        argv = [sys.executable, "-m", "reminderd.cli", "run", "--config", str(self.config)]
        start = clock_start or self.clock_start
        if start:
            argv += ["--clock-start", start]
        env = {**os.environ, "REMINDERD_FEED_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
        with open(self.log, "a") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, text=True,
                                         env=env)
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

    def get(self, path: str, headers: dict[str, str] | None = None
            ) -> tuple[int, Message, bytes]:
        """Status, headers (case-insensitive) and body of a GET."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
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
