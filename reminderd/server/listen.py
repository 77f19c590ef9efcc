"""Listeners that a slow or hostile client cannot starve.

aiohttp alone waits an hour for a request's headers and accepts connections until the
process runs out of file descriptors; asyncio then logs a traceback for every failed
accept. Here every connection of a listener goes through a :class:`Gate`:

- **header timeout**: a connection whose first request's headers are not complete within
  ``header_timeout`` seconds is closed (later requests on a kept-alive connection are
  bounded by aiohttp's ``keepalive_timeout``, the idle timeout);
- **connection cap**: at most ``max_connections`` open connections, and never more than
  the file-descriptor limit allows (with room left for the store, mail and files). At the
  cap, a new connection closes the oldest idle one (no request under way, nothing being
  written), so a flood of half-open connections cannot lock out a real client; when
  nothing is idle, the new connection is closed at once;
- **quiet errors**: malformed requests and accept errors (EMFILE: asyncio itself backs
  off for a second) are logged as one warning line, at most a few per minute
  (:class:`RateLimitedLog`), never as a traceback per request.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

log = logging.getLogger("reminderd.web")

DESCRIPTORS_KEPT = 64  # for the store, SMTP, the watched files, threads' files
ADMIN_MAX_CONNECTIONS = 64
# asyncio accepts up to this many connections in one go, and their sockets are open a few
# loop iterations before they reach the gate; evicted ones close a few iterations later.
# The cap leaves room for IN_FLIGHT_BATCHES of them, or accept() fails with EMFILE and
# asyncio stops accepting for a whole second (measured: 1-2.6 s answers under a flood)
BACKLOG = 64
IN_FLIGHT_BATCHES = 6
# the kernel's queue of connections not yet accepted (capped by net.core.somaxconn): they
# cost no descriptor, and a full queue drops new SYNs, which a client retries only after
# a second, so it is long, while asyncio still accepts BACKLOG at a time
LISTEN_QUEUE = 4096


@dataclass(frozen=True)
class Limits:
    header_timeout: float = 10.0
    keepalive_timeout: float = 15.0
    max_connections: int = 1000


def descriptor_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


class RateLimitedLog:
    """At most ``burst`` lines per ``window`` seconds for one event; then one line saying
    how many were left out."""

    def __init__(self, event: str, *, burst: int = 5, window: float = 60.0) -> None:
        self.event = event
        self.burst = burst
        self.window = window
        self._start = -window
        self._count = 0
        self._dropped = 0

    def warning(self, detail: str) -> None:
        now = time.monotonic()
        if now - self._start >= self.window:
            if self._dropped:
                log.warning("%s suppressed=%d in the last %.0f s", self.event, self._dropped,
                            self.window)
            self._start, self._count, self._dropped = now, 0, 0
        if self._count < self.burst:
            self._count += 1
            log.warning("%s %s", self.event, " ".join(detail.split())[:300])
        else:
            self._dropped += 1


_bad_request = RateLimitedLog("http.bad_request")
_handler_error = RateLimitedLog("http.handler_error")
_loop_error = RateLimitedLog("http.connection_error")


class QuietServerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger handed to aiohttp's request handler: its ``exception()`` calls (a
    malformed request, a client gone mid-response) become one rate-limited line."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("aiohttp.server"), {})

    def exception(self, msg: object, *args: object, exc_info: Any = True,
                  **kwargs: Any) -> None:
        exc = exc_info if isinstance(exc_info, BaseException) else None
        what = f"{type(exc).__name__}: {exc}" if exc is not None else str(msg)
        text = (str(msg) % args) if args else str(msg)
        limited = _handler_error if text.startswith("Unhandled") else _bad_request
        limited.warning(f"{text}: {what}")

    error = exception


def quiet_loop_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Accept errors (EMFILE and friends) and connection errors: one rate-limited line
    instead of asyncio's traceback each time. Everything else keeps the default."""

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError):
            _loop_error.warning(f"{context.get('message', '')}: {type(exc).__name__}: {exc}")
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


MAX_HEADER_BYTES = 32 * 1024


class _Guarded(asyncio.Protocol):
    """One connection. Until its first request's headers are complete, the bytes are only
    buffered here (a few hundred bytes and a timer per connection): aiohttp's protocol,
    which costs far more, is made once there is a whole request head to give it."""

    __slots__ = ("buffer", "gate", "inner", "last", "make", "timer", "transport")

    def __init__(self, gate: Gate, make: Callable[[], asyncio.Protocol]) -> None:
        self.gate = gate
        self.make = make
        self.inner: asyncio.Protocol | None = None
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.timer: asyncio.TimerHandle | None = None
        self.last = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if not self.gate.admit(self):
            transport.abort()
            return
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.gate.limits.header_timeout, self._too_slow)

    def _too_slow(self) -> None:
        self.timer = None
        self.gate.timed_out += 1
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        self.last = time.monotonic()
        if self.inner is not None:
            self.inner.data_received(data)
            return
        self.buffer += data
        if b"\r\n\r\n" not in self.buffer and b"\n\n" not in self.buffer:
            if len(self.buffer) > MAX_HEADER_BYTES and self.transport is not None:
                self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                     b"Connection: close\r\nContent-Length: 0\r\n\r\n")
                self.transport.close()
            return
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        data, self.buffer = self.buffer, b""
        self.inner = self.make()
        self.inner.connection_made(self.transport)  # type: ignore[arg-type]
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.gate.connections.pop(self, None)
        if self.inner is not None:
            self.inner.connection_lost(exc)

    def idle(self) -> bool:
        """Nothing under way: still waiting for the first request's headers, or between
        requests with nothing left to write."""
        if self.inner is None:
            return True
        transport = self.transport
        waiter = getattr(self.inner, "_waiter", None)  # aiohttp: set while awaiting a request
        return (transport is not None and waiter is not None and not waiter.done()
                and transport.get_write_buffer_size() == 0)


class Gate:
    """The connections of one listener: cap, header timeout, eviction of idle ones."""

    def __init__(self, limits: Limits, name: str) -> None:
        self.limits = limits
        self.name = name
        budget = max(16, descriptor_limit() - DESCRIPTORS_KEPT - IN_FLIGHT_BATCHES * BACKLOG
                     - ADMIN_MAX_CONNECTIONS)
        self.cap = min(limits.max_connections, budget)
        if self.cap < limits.max_connections:
            log.warning("http.connection_cap listener=%s max_connections=%d lowered to %d "
                        "(file descriptor limit %d; raise LimitNOFILE)", name,
                        limits.max_connections, self.cap, descriptor_limit())
        self.connections: dict[_Guarded, None] = {}  # insertion order = age
        self.evicted = 0
        self.refused = 0
        self.timed_out = 0

    def admit(self, conn: _Guarded) -> bool:
        if len(self.connections) >= self.cap:
            victim = next((c for c in self.connections if c.idle()), None)
            if victim is None:
                self.refused += 1
                return False
            self.evicted += 1
            self.connections.pop(victim, None)
            if victim.transport is not None:
                victim.transport.abort()  # its connection_lost then reaches aiohttp
        self.connections[conn] = None
        return True

    def factory(self, make: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        return lambda: _Guarded(self, make)


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through a :class:`Gate`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, gate: Gate) -> None:
        super().__init__(runner, backlog=BACKLOG)
        self._host = host
        self._port = port
        self.gate = gate

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.gate.factory(server), self._host, self._port, backlog=self._backlog,
            reuse_address=True)
        for listening in self._server.sockets:
            with socket.fromfd(listening.fileno(), listening.family, listening.type) as same:
                same.listen(LISTEN_QUEUE)  # the same socket: only the kernel queue grows
