"""`reminderd run`: start the store, the service and the two listeners; stop cleanly.

Start-up and shutdown are one exit stack (:class:`contextlib.AsyncExitStack`): each step
that starts something pushes its undoing, so whatever step fails, or whenever a signal
arrives, what was started is stopped, in reverse order: stop accepting connections, stop
scheduling, let the pass finish the message on the wire and give the rest of its claim
back (bounded), close the store.

The start-up catch-up pass runs once the listeners are up, so the feeds are served while a
backlog goes out. SIGTERM/SIGINT (from the first moment) stop cleanly and exit 0; a second
one forces the exit at once (status 1), for a drain that hangs. SIGHUP: reload now (the
files are also watched).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import FrameType

from aiohttp import web

from reminderd.config import Settings, redact
from reminderd.core.errors import ProblemsError
from reminderd.server.auth import AdminAuth
from reminderd.server.clock import Clock
from reminderd.server.listen import ADMIN_MAX_CONNECTIONS, Limits, quiet_loop_errors
from reminderd.server.service import Service
from reminderd.server.statuspage import bounded
from reminderd.server.web import (
    WebState,
    bound_port,
    make_admin_app,
    make_public_app,
    start_site,
)

log = logging.getLogger("reminderd.daemon")

FORCED_EXIT = 1


def setup_logging() -> None:
    """Plain lines on stderr; without timestamps under systemd (journald adds its own)."""
    under_journald = "JOURNAL_STREAM" in os.environ
    fmt = "%(levelname)s %(name)s %(message)s" if under_journald else \
        "%(asctime)s %(levelname)s %(name)s %(message)s"
    logging.basicConfig(level=logging.INFO, format=fmt, stream=sys.stderr)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_Redact())


class _Redact(logging.Filter):
    """Passwords in URLs (a PostgreSQL ``store:`` URL) never reach the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


async def start_listeners(settings: Settings, state: WebState, auth: AdminAuth | None,
                          stack: contextlib.AsyncExitStack
                          ) -> tuple[web.AppRunner, web.AppRunner]:
    """The public listener and the admin one (see README, "Running as a service"); each
    pushes its clean-up on ``stack`` as soon as it listens."""
    http = settings.http
    limits = Limits(header_timeout=http.header_timeout_seconds,
                    keepalive_timeout=http.keepalive_timeout_seconds,
                    max_connections=http.max_connections)
    admin_limits = Limits(header_timeout=http.header_timeout_seconds,
                          keepalive_timeout=http.keepalive_timeout_seconds,
                          max_connections=ADMIN_MAX_CONNECTIONS)
    runners = []
    for key, app, (host, port), name, site_limits in (
            ("http.listen", make_public_app(state), http.listen, "public", limits),
            ("http.admin_listen", make_admin_app(state, auth=auth), http.admin_listen, "admin",
             admin_limits)):
        try:
            runner = await start_site(app, host, port, limits=site_limits, name=name)
        except OSError as exc:  # e.g. the port is taken
            raise ProblemsError([settings.problem(key, (
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another "
                f"{key} port"))]) from None
        stack.push_async_callback(runner.cleanup)
        runners.append(runner)
    return runners[0], runners[1]


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("catch_up.failed error=%r", task.exception())


@contextlib.contextmanager
def stop_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> Iterator[None]:
    """SIGTERM and SIGINT: the first sets ``stop``; the second exits at once.

    Plain ``signal.signal`` handlers, not the loop's: they run between bytecodes of the main
    thread even while it is busy (a long load, a drain that hangs), which a loop handler
    would not until the loop is free again."""
    received: list[int] = []

    def handle(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) == 1:
            loop.call_soon_threadsafe(stop.set)
            return
        os.write(2, f"reminderd: {signal.Signals(signum).name} again: forced exit\n".encode())
        os._exit(FORCED_EXIT)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _refuse(lines: list[str], remedy: str) -> int:
    for line in bounded(lines):
        print(redact(line), file=sys.stderr)
    print(f"reminderd: not started; {remedy}", file=sys.stderr)
    return 1


async def run_daemon(config_path: Path, clock_start: datetime | None = None) -> int:
    clock = Clock(clock_start)
    state = WebState()
    service = Service(config_path, clock, state)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    quiet_loop_errors(loop)
    async with contextlib.AsyncExitStack() as stack:
        # Signals first: a SIGTERM while loading or during the catch-up pass is a clean
        # stop, not the default sudden death (which leaves the message on the wire uncertain).
        stack.enter_context(stop_signals(loop, stop))
        loop.add_signal_handler(signal.SIGHUP,
                                lambda: asyncio.ensure_future(service.reload("SIGHUP")))
        stack.callback(loop.remove_signal_handler, signal.SIGHUP)
        try:
            await service.start(stack)
        except ProblemsError as exc:
            return _refuse(exc.lines, "fix the lines above (reminderd check shows them too).")
        if stop.is_set():  # stopped while loading
            return 0
        assert service.current is not None
        settings = service.current.ws.settings
        try:
            public, admin = await start_listeners(settings, state, service.current.auth, stack)
        except ProblemsError as exc:  # what was started is stopped as the stack unwinds
            return _refuse(exc.lines, "fix the lines above.")
        public_url = _url(settings.http.listen[0], bound_port(public))
        admin_url = _url(settings.http.admin_listen[0], bound_port(admin))
        print(f"reminderd: public feeds on {public_url}/feeds/<token>.ics (health: "
              f"{public_url}/healthz); subscribers use {settings.http.public_url}", flush=True)
        print(f"  admin (keep private): {admin_url}/ status page, {admin_url}/calendar.ics, "
              f"{admin_url}/metrics, {admin_url}/healthz"
              + (" (HTTP Basic auth)" if settings.http.admin_password_hash_env else ""),
              flush=True)
        log.info("daemon.started public=%s admin=%s clock=%s", public_url, admin_url,
                 clock.now().isoformat())
        # The catch-up pass runs while the feeds are served: after downtime its backlog can
        # take minutes.
        catch_up = asyncio.create_task(service.run_pass("start"))
        catch_up.add_done_callback(_log_failure)
        await stop.wait()
        log.info("daemon.stopping")
    log.info("daemon.stopped")
    return 0
