"""`reminderd run`: start the store, the service and the web server; stop cleanly.

The start-up catch-up pass runs once the web server is up, so the feeds are served while a
backlog goes out. SIGTERM/SIGINT (from the first moment): stop accepting connections, let
the pass finish the message on the wire and give the rest of its claim back (bounded),
close the store, exit 0. SIGHUP: reload now (the files are also watched).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from aiohttp import web

from reminderd.config import Settings, redact
from reminderd.server.auth import AdminAuth, HashFormatError
from reminderd.server.clock import Clock
from reminderd.server.listen import ADMIN_MAX_CONNECTIONS, Limits, quiet_loop_errors
from reminderd.server.service import Service, StartError
from reminderd.server.web import (
    WebState,
    bound_port,
    make_admin_app,
    make_public_app,
    start_site,
)

log = logging.getLogger("reminderd.daemon")


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


def admin_auth(settings: Settings) -> AdminAuth | None:
    """Basic auth for the admin listener when ``http.admin_password_hash_env`` is set."""
    name = settings.http.admin_password_hash_env
    if name is None:
        return None
    where = settings.path or "<defaults>"
    value = os.environ.get(name)
    if not value:
        raise StartError([f"{where}:1:1: http.admin_password_hash_env names {name}, which is "
                          "not set (or empty); put the output of `reminderd hash-password` "
                          "in it, or remove the setting to serve the admin listener "
                          "without a password"])
    try:
        return AdminAuth(settings.http.admin_user, value)
    except HashFormatError as exc:
        raise StartError([f"{where}:1:1: the value of {name}: {exc}"]) from None


async def start_listeners(settings: Settings, state: WebState
                          ) -> tuple[web.AppRunner, web.AppRunner]:
    """The public listener and the admin one (see README, "Running as a service")."""
    http = settings.http
    limits = Limits(header_timeout=http.header_timeout_seconds,
                    keepalive_timeout=http.keepalive_timeout_seconds,
                    max_connections=http.max_connections)
    auth = admin_auth(settings)
    public = await start_site(make_public_app(state), *http.listen, limits=limits,
                              name="public")
    try:
        admin = await start_site(
            make_admin_app(state, auth=auth), *http.admin_listen, name="admin",
            limits=Limits(header_timeout=http.header_timeout_seconds,
                          keepalive_timeout=http.keepalive_timeout_seconds,
                          max_connections=ADMIN_MAX_CONNECTIONS))
    except BaseException:
        await public.cleanup()
        raise
    return public, admin


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("catch_up.failed error=%r", task.exception())


async def run_daemon(config_path: Path, clock_start: datetime | None = None) -> int:
    clock = Clock(clock_start)
    state = WebState()
    service = Service(config_path, clock, state)
    # Signals first: a SIGTERM while loading or during the catch-up pass is a clean stop,
    # not the default sudden death (which leaves the message on the wire uncertain).
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    quiet_loop_errors(loop)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP,
                            lambda: asyncio.ensure_future(service.reload("SIGHUP")))
    try:
        await service.start()
    except StartError as exc:
        for line in exc.lines:
            print(redact(line), file=sys.stderr)
        print("reminderd: not started; fix the lines above (reminderd check shows them too).",
              file=sys.stderr)
        await service.stop()
        return 1
    if stop.is_set():  # stopped while loading
        await service.stop()
        return 0
    settings = service.current.ws.settings if service.current else None
    assert settings is not None
    try:
        public, admin = await start_listeners(settings, state)
    except (StartError, OSError) as exc:
        lines = exc.lines if isinstance(exc, StartError) else [
            f"{settings.path or '<defaults>'}:1:1: cannot listen: {exc.strerror or exc}; "
            "choose another http.listen / http.admin_listen port"]
        for line in lines:
            print(redact(line), file=sys.stderr)
        print("reminderd: not started; fix the lines above.", file=sys.stderr)
        await service.stop()
        return 1
    public_url = _url(settings.http.listen[0], bound_port(public))
    admin_url = _url(settings.http.admin_listen[0], bound_port(admin))
    print(f"reminderd: public feeds on {public_url}/feeds/<token>.ics (health: "
          f"{public_url}/healthz); subscribers use {settings.http.public_url}", flush=True)
    print(f"  admin (keep private): {admin_url}/ status page, {admin_url}/calendar.ics, "
          f"{admin_url}/metrics, {admin_url}/healthz"
          + (" (HTTP Basic auth)" if settings.http.admin_password_hash_env else ""), flush=True)
    log.info("daemon.started public=%s admin=%s clock=%s", public_url, admin_url,
             clock.now().isoformat())

    # The catch-up pass runs while the feeds are served: after downtime its backlog can
    # take minutes.
    catch_up = asyncio.create_task(service.run_pass("start"))
    catch_up.add_done_callback(_log_failure)
    await stop.wait()
    log.info("daemon.stopping")
    await public.cleanup()  # stop accepting, close connections
    await admin.cleanup()
    await service.stop()  # the pass stops after the message on the wire
    log.info("daemon.stopped")
    return 0

