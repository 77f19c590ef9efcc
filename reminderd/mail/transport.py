"""Delivering built messages: SMTP through aiosmtplib, or a Maildir (the embedded default).

A transport is used for one pass: ``async with transport: await transport.send(...)`` for
each message; the SMTP transport keeps one connection open for the whole pass.

Outcomes of :meth:`Transport.send`:

- :class:`SendResult` - accepted by the relay for at least one recipient; recipients the
  relay refused are in ``refused`` (address -> "550 5.1.1 ...").
- :class:`TransientSendError` - nothing was delivered and trying later may work: a 4xx
  reply, connection refused/reset/timeout before the message content was sent. Its subclass
  :class:`SmtpSetupError` is a configuration problem (STARTTLS not offered though required,
  a certificate that does not verify, credentials refused): still retried, since marking
  the reminders failed would lose them once the operator fixes the setup.
- :class:`UncertainSendError` - the connection broke (or the reply timed out) after the
  message content was sent and before the final reply: the relay may have accepted it
  (RFC 1047). Retry, but the retry may be a duplicate (the Message-ID is the same).
- :class:`PermanentSendError` - a 5xx reply (or every recipient refused with 5xx): never
  retried.

Every error has ``code`` (the SMTP code, or None), ``refused`` (per-recipient refusals
seen so far) and ``connection`` (True when the failure concerns the server or the
connection rather than this message; the rest of the pass will likely fail the same way).
After a failed connection attempt the SMTP transport does not try again within the same
pass (``async with`` block): later sends fail at once with the same TransientSendError.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPException,
    SMTPHeloError,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from reminderd.core.headers import envelope_address

log = logging.getLogger("reminderd.mail_transport")  # the name logs had before the move

Security = Literal["starttls", "tls", "none"]
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass
class SendResult:
    accepted: list[str]
    refused: dict[str, str] = field(default_factory=dict)  # address -> "code message"

    @property
    def temporarily_refused(self) -> list[str]:
        """Refused with a 4xx code: worth sending again to these addresses later."""
        return [a for a, reply in self.refused.items() if reply.startswith("4")]


class SendError(Exception):
    def __init__(self, message: str, *, code: int | None = None,
                 refused: dict[str, str] | None = None, connection: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.refused = refused or {}
        self.connection = connection


class TransientSendError(SendError):
    """Nothing delivered; retry later (4xx, connection failures before DATA completed)."""


class SmtpSetupError(TransientSendError):
    """TLS, STARTTLS or authentication failed: the operator must fix the configuration."""


class UncertainSendError(SendError):
    """The connection broke after the content was sent: maybe delivered (RFC 1047)."""


class PermanentSendError(SendError):
    """5xx: failed, never retried."""


def smtp_payload(message: bytes) -> tuple[bytes, int]:
    """The DATA payload (CRLF line ends, dot-stuffed, ending ``.CRLF``) and the message's
    size. The regular expressions run only where needed: built messages are already CRLF
    and base64, and rewriting 7 KB twice cost ~50 us a message (measured here)."""
    crlf = message.count(b"\r\n")
    clean = crlf == message.count(b"\n") == message.count(b"\r")
    body = message if clean else _LINE_ENDS.sub(b"\r\n", message)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    size = len(body)
    if body.startswith(b".") or b"\n." in body:
        body = _LEADING_DOT.sub(b"..", body)
    return body + b".\r\n", size


class Transport(Protocol):
    async def __aenter__(self) -> Transport: ...

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None: ...

    async def send(self, sender: str, to: Sequence[str], message: bytes) -> SendResult: ...


@lru_cache(maxsize=65_536)  # the same few addresses in every message of a pass
def _address(value: str, role: str) -> str:
    """The bare address of ``"Name <a@b>"`` or ``a@b`` (the one parser,
    :func:`~reminderd.core.headers.envelope_address`); PermanentSendError if unusable."""
    try:
        return envelope_address(value)
    except ValueError:
        raise PermanentSendError(f"unusable {role} address: {value!r}") from None


def _classify(code: int, message: str, refused: dict[str, str] | None = None,
              what: str = "") -> SendError:
    text = f"{what}{code} {message}".strip()
    if 500 <= code < 600:
        return PermanentSendError(text, code=code, refused=refused)
    return TransientSendError(text, code=code, refused=refused, connection=code == 421)


class _Dropped(Exception):
    """The connection was lost before any of the message content was written."""


class SmtpTransport:
    """aiosmtplib with ``security``: ``starttls`` (required: a server that does not offer
    it is an error, never a plaintext send), ``tls`` (implicit TLS, port 465) or ``none``.
    Certificates are verified (``tls_context`` or the system's default context).
    """

    def __init__(
        self, host: str, port: int, *, security: Security, username: str | None = None,
        password: str | None = None, timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None, local_hostname: str | None = None,
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            raise ValueError(f"security must be starttls, tls or none, not {security!r}")
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        if username is not None and security == "none":
            raise ValueError("refusing to send SMTP credentials without TLS (security: none)")
        self.host = host
        self.port = port
        self.security = security
        self._username = username
        self._password = password
        self._timeout = timeout
        self._tls_context = tls_context
        self._local_hostname = local_hostname
        self._smtp: aiosmtplib.SMTP | None = None
        self._down: TransientSendError | None = None
        self._lock = asyncio.Lock()
        self.connections = 0  # connections opened so far (one per pass when all goes well)

    async def __aenter__(self) -> SmtpTransport:
        self._down = None
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit(timeout=min(self._timeout, 5.0))
            except (TimeoutError, SMTPException, OSError):
                smtp.close()

    async def send(self, sender: str, to: Sequence[str], message: bytes) -> SendResult:
        mail_from = _address(sender, "sender")
        recipients = [_address(t, "recipient") for t in to]
        if not recipients:
            raise PermanentSendError("no recipients")
        payload, size = smtp_payload(message)
        async with self._lock:
            for attempt in (1, 2):
                fresh = self._smtp is None or not self._smtp.is_connected
                if fresh:
                    self._drop()
                    await self._connect()
                try:
                    return await self._transaction(mail_from, recipients, payload, size)
                except _Dropped as exc:
                    self._drop()
                    if fresh or attempt == 2:
                        raise TransientSendError(
                            f"connection to {self.host}:{self.port} lost before the message "
                            f"was sent: {exc}", connection=True) from exc
                    log.info("mail.reconnect host=%s port=%s reason=%s",
                             self.host, self.port, exc)
                except SendError:
                    raise  # the connection state was dealt with where it was raised
                except BaseException:
                    self._drop()  # never reuse a connection in an unknown state
                    raise
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    async def _connect(self) -> None:
        if self._down is not None:
            raise TransientSendError(f"{self._down} (earlier in this pass; not retried)",
                                     code=self._down.code, connection=True)
        smtp = aiosmtplib.SMTP(
            hostname=self.host, port=self.port, username=self._username,
            password=self._password, timeout=self._timeout,
            use_tls=self.security == "tls", start_tls=self.security == "starttls",
            validate_certs=True, tls_context=self._tls_context,
            local_hostname=self._local_hostname,
        )
        try:
            await smtp.connect()
            if smtp.is_ehlo_or_helo_needed:
                try:
                    await smtp.ehlo()
                except SMTPHeloError:
                    await smtp.helo()
        except (TimeoutError, SMTPException, OSError) as exc:
            smtp.close()
            error = self._connect_error(exc)
            self._down = error
            log.warning("mail.connect_failed host=%s port=%s error=%s", self.host, self.port,
                        error)
            raise error from exc
        self._smtp = smtp
        self.connections += 1

    def _connect_error(self, exc: BaseException) -> TransientSendError:
        where = f"{self.host}:{self.port}"
        code = exc.code if isinstance(exc, SMTPResponseException) else None
        causes: list[BaseException] = []
        current: BaseException | None = exc
        while current is not None and len(causes) < 10:
            causes.append(current)
            current = current.__cause__ or current.__context__
        if any(isinstance(c, ssl.SSLError) for c in causes):
            return SmtpSetupError(f"TLS with {where} failed: {exc}", connection=True)
        if isinstance(exc, SMTPAuthenticationError):
            return SmtpSetupError(f"{where} refused the credentials: {exc.code} {exc.message}",
                                  code=code, connection=True)
        if isinstance(exc, SMTPException) and not isinstance(
                exc, (SMTPResponseException, SMTPServerDisconnected, SMTPTimeoutError,
                      aiosmtplib.SMTPConnectError)):
            # e.g. "SMTP STARTTLS extension not supported by server."
            return SmtpSetupError(f"{where}: {exc} (security: {self.security})",
                                  connection=True)
        return TransientSendError(f"cannot connect to {where}: {exc}", code=code,
                                  connection=True)

    async def _transaction(self, sender: str, to: list[str], payload: bytes,
                           size: int) -> SendResult:
        smtp = self._smtp
        assert smtp is not None
        refused: dict[str, str] = {}
        try:
            options = [f"SIZE={size}"] if smtp.supports_extension("size") else []
            try:
                await smtp.mail(sender, options=options)
            except SMTPResponseException as exc:
                await self._reset()
                raise _classify(exc.code, exc.message, what="MAIL FROM: ") from exc
            accepted: list[str] = []
            for rcpt in to:
                try:
                    await smtp.rcpt(rcpt)
                    accepted.append(rcpt)
                except SMTPRecipientRefused as exc:
                    refused[rcpt] = f"{exc.code} {exc.message}"
                    if exc.code == 421:  # the server is closing the connection
                        raise _classify(exc.code, exc.message, refused) from exc
            if not accepted:
                await self._reset()
                permanent = all(reply.startswith("5") for reply in refused.values())
                error = PermanentSendError if permanent else TransientSendError
                raise error("every recipient refused: " + "; ".join(
                    f"{a}: {r}" for a, r in refused.items()), refused=refused)
            reply = await smtp.execute_command(b"DATA")
            if reply.code != 354:
                await self._reset()
                raise _classify(reply.code, reply.message, refused, what="DATA: ")
            protocol = smtp.protocol
            if protocol is None:
                raise _Dropped("connection lost")
            protocol.write(payload)  # raises SMTPServerDisconnected if nothing was written
        except (SMTPServerDisconnected, SMTPTimeoutError, OSError) as exc:
            raise _Dropped(str(exc) or type(exc).__name__) from exc
        # From here the relay may have the whole message.
        try:
            reply = await protocol.read_response(timeout=self._timeout)
        except (SMTPServerDisconnected, SMTPTimeoutError, OSError) as exc:
            self._drop()
            raise UncertainSendError(
                f"no reply from {self.host}:{self.port} after the message was sent ({exc});"
                " it may have been delivered", refused=refused, connection=True) from exc
        except SMTPResponseException as exc:  # a malformed reply
            self._drop()
            raise UncertainSendError(f"bad reply after the message was sent: {exc}",
                                     refused=refused, connection=True) from exc
        if reply.code != 250:
            if reply.code == 421:
                self._drop()
            raise _classify(reply.code, reply.message, refused, what="end of DATA: ")
        return SendResult(accepted, refused)

    async def _reset(self) -> None:
        """RSET after a refused transaction so the connection can carry the next one."""
        smtp = self._smtp
        if smtp is None or not smtp.is_connected:
            return
        try:
            await smtp.rset()
        except (SMTPException, OSError):
            self._drop()


class MaildirTransport:
    """Writes each message into a Maildir (``new/``) with ``mailbox.Maildir``: the file is
    written and fsynced in ``tmp/``, then linked into ``new/`` - never seen half-written.
    The envelope is kept as ``Return-Path`` and ``X-Envelope-To`` headers; line ends are
    the local ones (LF), as Maildir readers expect."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._box: mailbox.Maildir | None = None

    async def __aenter__(self) -> MaildirTransport:
        self._open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self._box = None

    def _open(self) -> mailbox.Maildir:
        if self._box is None:
            try:
                # var/ on a fresh machine: private, like the Maildir itself (0700)
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._box = mailbox.Maildir(self.path, factory=None, create=True)
            except OSError as exc:
                raise TransientSendError(f"cannot open the Maildir {self.path}: {exc}",
                                         connection=True) from exc
        return self._box

    async def send(self, sender: str, to: Sequence[str], message: bytes) -> SendResult:
        mail_from = _address(sender, "sender")
        recipients = [_address(t, "recipient") for t in to]
        if not recipients:
            raise PermanentSendError("no recipients")
        envelope = (f"Return-Path: <{mail_from}>\nX-Envelope-To: "
                    + ",\n ".join(recipients) + "\n").encode("ascii")
        data = envelope + _LINE_ENDS.sub(b"\n", message)
        try:
            self._open().add(data)
        except OSError as exc:
            raise TransientSendError(f"cannot write to the Maildir {self.path}: {exc}",
                                     connection=True) from exc
        return SendResult(list(recipients), {})
