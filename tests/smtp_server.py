"""A real SMTP server (aiosmtpd) on a loopback port for tests, with scripted faults.

No mocks: the server speaks SMTP over TCP; a :class:`Recorder` handler records what was
delivered and plays the faults a test scripts (4xx/5xx replies, refused recipients, a
connection dropped after the message content was sent).

Two ways to run it:

- :func:`smtp_server` - an async context manager serving in the *caller's* event loop
  (for tests that drive a transport or a pass from inside one ``asyncio.run``);
- :class:`ThreadedSmtpServer` - serving from its own event loop in a thread, so that code
  which runs its own loop (``run_pass`` under ``asyncio.run``, the ``reminderd send-due``
  CLI) can talk to it; it can be stopped and started again on the same port, to play a
  relay that is down for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
import ssl
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType

from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = [
    "Delivered",
    "Recorder",
    "ThreadedSmtpServer",
    "free_port",
    "smtp_server",
]


@dataclass(frozen=True)
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)

    @property
    def message_id(self) -> str:
        return str(self.parsed()["Message-ID"])


class Recorder:
    """An aiosmtpd handler that records deliveries and plays scripted faults.

    Scripts are consumed in order, one entry per SMTP transaction that reaches that step:
    ``mail_replies`` answer MAIL FROM, ``data_replies`` answer the end of DATA (a message
    answered from the script is *not* delivered), ``refuse`` answers RCPT for an address
    (every time), ``drop_after_data`` closes the connection instead of the final reply
    (that many times; with ``keep_dropped`` the content is recorded as delivered first,
    the worst case of RFC 1047: the relay had it, the client never heard). ``data_delay``
    slows every final reply; ``on_data`` lets a test look at the world while a message is
    in flight (it runs in the server's thread).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.delivered: list[Delivered] = []
        self.connections = 0
        self.mail_commands = 0
        self.data_commands = 0  # transactions whose content reached the end of DATA
        self.mail_replies: list[str] = []
        self.data_replies: list[str] = []
        self.refuse: dict[str, str] = {}
        self.drop_after_data = 0
        self.keep_dropped = False
        self.data_delay = 0.0  # seconds to wait before the final reply (a slow relay)
        self.on_data: Callable[[Envelope], None] | None = None  # called (server thread) at DATA
        self.protocols: list[SMTP] = []

    # -- what the tests read ------------------------------------------------------------

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [d.parsed() for d in self.delivered]

    def by_message_id(self) -> Counter[str]:
        """How many copies of each Message-ID the relay accepted."""
        with self._lock:
            return Counter(d.message_id for d in self.delivered)

    def recipients(self) -> list[list[str]]:
        with self._lock:
            return [list(d.rcpt_tos) for d in self.delivered]

    def clear(self) -> None:
        with self._lock:
            self.delivered.clear()

    # -- aiosmtpd hooks -----------------------------------------------------------------

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        with self._lock:
            self.mail_commands += 1
            if self.mail_replies:
                return self.mail_replies.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert envelope.mail_from is not None and isinstance(envelope.content, bytes)
        if self.on_data is not None:
            self.on_data(envelope)
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        tls = bool(server.transport is not None and server.transport.get_extra_info("cipher"))
        record = Delivered(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, tls)
        with self._lock:
            self.data_commands += 1
            drop = self.drop_after_data > 0
            if drop:
                self.drop_after_data -= 1
                if self.keep_dropped:
                    self.delivered.append(record)
            reply = None if drop or not self.data_replies else self.data_replies.pop(0)
            if not drop and reply is None:
                self.delivered.append(record)
        if drop:
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()  # the relay "crashes" before its final reply
            await asyncio.sleep(5)  # cancelled by connection_lost
            return "250 never sent"
        return reply or "250 2.0.0 queued"


def _factory(handler: Recorder, loop: asyncio.AbstractEventLoop,
             starttls: ssl.SSLContext | None) -> SMTP:
    with handler._lock:
        handler.connections += 1
    protocol = SMTP(handler, hostname="relay.test", tls_context=starttls,
                    require_starttls=False, loop=loop)
    handler.protocols.append(protocol)
    return protocol


def _close_connections(handler: Recorder) -> None:
    for protocol in handler.protocols:
        if protocol.transport is not None:
            protocol.transport.close()


@contextlib.asynccontextmanager
async def smtp_server(handler: Recorder, *, starttls: ssl.SSLContext | None = None,
                      implicit_tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """Serve ``handler`` on 127.0.0.1 (a free port, yielded) in the running event loop."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _factory(handler, loop, starttls),
                                      "127.0.0.1", 0, ssl=implicit_tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        _close_connections(handler)
        await server.wait_closed()


class ThreadedSmtpServer:
    """``handler`` served on 127.0.0.1 from an event loop in a daemon thread.

    ``port=0`` picks a free port on the first start; later starts reuse it (so a config
    written with the port stays valid across a simulated outage: ``stop()`` ... ``start()``).
    """

    def __init__(self, handler: Recorder | None = None, *, port: int = 0,
                 starttls: ssl.SSLContext | None = None) -> None:
        self.handler = handler if handler is not None else Recorder()
        self.port = port
        self._starttls = starttls
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> ThreadedSmtpServer:
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            self._server = await loop.create_server(
                lambda: _factory(self.handler, loop, self._starttls), "127.0.0.1", self.port,
                reuse_address=True)
            self.port = self._server.sockets[0].getsockname()[1]

        def main() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(serve())
            except BaseException as exc:  # reported to start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        thread = threading.Thread(target=main, name=f"smtp-server-{self.port}", daemon=True)
        thread.start()
        if not ready.wait(10):
            raise RuntimeError("the test SMTP server did not start within 10 s")
        if failure:
            thread.join(5)
            raise failure[0]
        self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            _close_connections(self.handler)
            if self._server is not None:
                await self._server.wait_closed()
            self._server = None
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    def __enter__(self) -> ThreadedSmtpServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
