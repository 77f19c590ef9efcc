"""Reminder mail: the MIME message. No network, no disk writes (rendering: :mod:`.render`).

:func:`build_message` makes the bytes to send: multipart/alternative (text + HTML), and the
``.ics`` attached; the subject and display names encoded (RFC 2047) by
:func:`encoded_words`, every character inside a word. On Python 3.11.7
``EmailMessage(policy=SMTP)`` folds Vietnamese subjects so that spaces between encoded
words are lost (docs/library-pitfalls.md); this does not. Header values with CR, LF, other
line-breaking characters or ``=?`` are refused (header injection, CVE-2024-6923 family).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

from reminderd.core.headers import envelope_address, unsafe_header

__all__ = [
    "ATTACHMENT_NAME",
    "MAIL_KINDS",
    "RenderedMail",
    "build_message",
    "encoded_words",
    "envelope_address",
    "message_id_for",
]

ATTACHMENT_NAME = "nhac-viec.ics"
_MESSAGE_ID = re.compile(r"<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+>")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


@dataclass(frozen=True)
class RenderedMail:
    subject: str  # one line, no CR/LF, never "=?"
    text: str
    html: str


# --- message building ------------------------------------------------------------------
#
# The MIME structure is written directly rather than through email.mime + Generator: the
# generator re-folds every header through email.header.Header (22 headers per message),
# which made building cost 0.6-0.7 ms against 0.05 ms here, and the send pass's budget is
# about 1 ms per message. The one part that needs care, the RFC 2047 subject, is encoded by
# encoded_words (as compat32's email.header.Header does it, in a twelfth of the time; not as
# EmailMessage(policy=SMTP) does: docs/library-pitfalls.md). Tests parse the result back with
# the stdlib parser (compat32 and policy.default) and compare it with the email.mime-built
# equivalent.

_CRLF = "\r\n"


def _safe(name: str, value: str) -> str:
    if unsafe_header(value) is not None:
        raise ValueError(f"{name}: CR, LF, a control character or '=?' in a header value: "
                         f"{value!r}")
    return value


@lru_cache(maxsize=65_536)  # above the number of agencies, or a pass never hits
def _mailbox(mailbox: str, header: str) -> str:
    """One address for a From/To header; a non-ASCII display name as RFC 2047 words."""
    address = envelope_address(mailbox)
    name, _ = parseaddr(mailbox)
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))
    words = encoded_words(name, first_line_room=78 - len(f"{header}: "))
    return f"{words} <{address}>"


def message_id_for(keys: Iterable[str], domain: str) -> str:
    """``<32 hex of sha256 over the sorted reminder keys@domain>``: the same reminders give
    the same Message-ID, so a resend after a crash is recognisable (and deduplicated by
    clients that honour it)."""
    unique = sorted(set(keys))
    if not unique:
        raise ValueError("message_id_for needs at least one key")
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a usable Message-ID domain: {domain!r}")
    digest = hashlib.sha256("\n".join(unique).encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


_WORD_BYTES = 45  # 60 base64 characters: a 72-character encoded word (RFC 2047: 75 at most)


def encoded_words(text: str, *, first_line_room: int = 78) -> str:
    """``text`` as RFC 2047 ``=?utf-8?b?...?=`` words folded with CRLF SP, each word under
    the line length and holding whole UTF-8 characters. Every character, spaces included,
    is inside a word, so decoders (which drop the white space between adjacent words)
    give back exactly ``text``: the trap that ``policy.SMTP`` falls into (docs/library-pitfalls.md).
    Written here because ``email.header.Header``, which does the same, took 61 us of the
    send pass's ~1 ms per message (measured here)."""
    raw = text.encode("utf-8")
    words: list[str] = []
    room = max(4, (first_line_room - len("=?utf-8?b??=")) // 4 * 3)  # the first line's
    start = 0
    while start < len(raw) or not words:
        end = min(start + min(room, _WORD_BYTES), len(raw))
        while end < len(raw) and end > start + 1 and raw[end] & 0xC0 == 0x80:
            end -= 1  # never cut a character in two
        words.append(f"=?utf-8?b?{base64.b64encode(raw[start:end]).decode('ascii')}?=")
        start, room = end, _WORD_BYTES
    return (_CRLF + " ").join(words)


def _base64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", _CRLF)


MAIL_KINDS = ("reminder", "overdue", "escalation", "change", "weekly", "operator")


def build_message(
    mail: RenderedMail, *, sender: str, to: Sequence[str], message_id: str,
    ics: bytes | None, date: datetime, kind: str = "reminder", reply_to: str = "",
) -> bytes:
    """RFC 5322 bytes with CRLF line ends, 7-bit clean (base64 bodies, RFC 2047 subject).

    ``multipart/mixed`` [``multipart/alternative`` [text/plain, text/html], the ``.ics`` as
    ``text/calendar; charset="utf-8"`` attachment ``nhac-viec.ics``] or, without ``ics``,
    the ``multipart/alternative`` alone. Boundaries derive from the Message-ID: the same
    inputs give the same bytes. Raises ValueError on an unsafe header value (CR, LF, other
    line breaks or ``=?``), an unusable address, a malformed Message-ID or a naive ``date``.

    ``kind`` goes into ``X-Reminderd-Kind`` (one of :data:`MAIL_KINDS`) so that mail rules
    can sort the messages; ``reply_to`` (mail.reply_to) into ``Reply-To``.
    """
    subject = _safe("Subject", mail.subject)
    if kind not in MAIL_KINDS:
        raise ValueError(f"X-Reminderd-Kind: {kind!r} is not one of {', '.join(MAIL_KINDS)}")
    if not to:
        raise ValueError("no recipients")
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("the Date must be an aware datetime")
    if not _MESSAGE_ID.fullmatch(_safe("Message-ID", message_id)):
        raise ValueError(f"malformed Message-ID: {message_id!r}")
    tag = hashlib.sha256(message_id.encode("ascii")).hexdigest()[:24]
    alt, mixed = f"==alt-{tag}", f"==mix-{tag}"
    encoded_subject = encoded_words(subject, first_line_room=78 - len("Subject: "))
    top = "multipart/alternative" if ics is None else "multipart/mixed"
    out = [
        f"Message-ID: {message_id}",
        f"Date: {format_datetime(date)}",
        f"From: {_mailbox(sender, 'From')}",
        "To: " + ("," + _CRLF + " ").join(_mailbox(t, "To") for t in to),
        *([f"Reply-To: {_mailbox(reply_to, 'Reply-To')}"] if reply_to else []),
        f"Subject: {encoded_subject}",
        f"X-Reminderd-Kind: {kind}",
        "MIME-Version: 1.0",
        f'Content-Type: {top};{_CRLF} boundary="{mixed if ics is not None else alt}"',
        "Content-Language: vi",
        "Auto-Submitted: auto-generated",  # RFC 3834: no auto-replies, please
        "X-Auto-Response-Suppress: All",  # the same, for Exchange
        "",
    ]
    if ics is not None:
        out += [f"--{mixed}",
                f'Content-Type: multipart/alternative;{_CRLF} boundary="{alt}"', ""]
    out += [
        f"--{alt}", 'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: base64", "", _base64(mail.text.encode("utf-8")),
        f"--{alt}", 'Content-Type: text/html; charset="utf-8"',
        "Content-Transfer-Encoding: base64", "", _base64(mail.html.encode("utf-8")),
        f"--{alt}--",
    ]
    if ics is not None:
        out += [
            "", f"--{mixed}", 'Content-Type: text/calendar; charset="utf-8"',
            "Content-Transfer-Encoding: base64",
            f'Content-Disposition: attachment; filename="{ATTACHMENT_NAME}"', "",
            _base64(ics), f"--{mixed}--",
        ]
    out.append("")
    return _CRLF.join(out).encode("ascii")
