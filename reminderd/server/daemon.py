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

from reminderd.server.clock import Clock
from reminderd.server.service import Service, StartError
from reminderd.server.web import WebState, bound_port, make_app, start_site

log = logging.getLogger("reminderd.daemon")


def setup_logging() -> None:
    """Plain lines on stderr; without timestamps under systemd (journald adds its own)."""
    under_journald = "JOURNAL_STREAM" in os.environ
    fmt = "%(levelname)s %(name)s %(message)s" if under_journald else \
        "%(asctime)s %(levelname)s %(name)s %(message)s"
    logging.basicConfig(level=logging.INFO, format=fmt, stream=sys.stderr)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


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
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP,
                            lambda: asyncio.ensure_future(service.reload("SIGHUP")))
    try:
        await service.start()
    except StartError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        print("reminderd: not started; fix the lines above (reminderd check shows them too).",
              file=sys.stderr)
        await service.stop()
        return 1
    if stop.is_set():  # stopped while loading
        await service.stop()
        return 0
    settings = service.current.ws.settings if service.current else None
    assert settings is not None
    host, port = settings.listen
    app = make_app(state, templates=settings.templates)
    runner = await start_site(app, host, port)
    bound = bound_port(runner)
    print(f"reminderd: serving on http://{host}:{bound}/ (status page)", flush=True)
    print(f"  whole calendar: {settings.public_url}/calendar.ics", flush=True)
    print(f"  health: http://{host}:{bound}/healthz  metrics: http://{host}:{bound}/metrics",
          flush=True)
    log.info("daemon.started listen=%s:%s clock=%s", host, bound, clock.now().isoformat())

    # The catch-up pass runs while the feeds are served: after downtime its backlog can
    # take minutes.
    catch_up = asyncio.create_task(service.run_pass("start"))
    catch_up.add_done_callback(_log_failure)
    await stop.wait()
    log.info("daemon.stopping")
    await runner.cleanup()  # stop accepting, close connections
    await service.stop()  # the pass stops after the message on the wire
    log.info("daemon.stopped")
    return 0

