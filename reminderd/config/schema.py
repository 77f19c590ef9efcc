"""The settings schema: every key of config/reminderd.yaml and every environment setting,
with its default, its reader (text -> typed value) and its help.

The one place defaults live: the typed sections (:mod:`.settings`) have none, the loader
(:mod:`.load`) fills them from here, and the example config and ``check --show-config``
(:mod:`.show`) are generated from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, time
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reminderd.core.headers import describe_unsafe, envelope_address, unsafe_header
from reminderd.core.timeexpr import parse_date

# --- value readers: raw YAML text -> typed value, or ValueError("what to write instead") ---

def _text(raw: str) -> str:
    return raw


def _header_text(raw: str) -> str:
    found = unsafe_header(raw)
    if found is not None:
        what, fix = describe_unsafe(found)
        raise ValueError(f"contains {what} (it goes into an e-mail header); {fix}")
    return raw


def _mailbox(raw: str) -> str:
    """A sender: one address, optionally with a display name (``Sở Ngoại vụ
    <lich@x.example>``), by the one envelope-address parser, with a valid domain (the
    plans' rule for an address, labels of at most 63 characters)."""
    from reminderd.plans.schema import _EMAIL  # the plans' own rule for an address

    try:
        address = envelope_address(_header_text(raw))
    except ValueError as exc:
        if unsafe_header(raw) is not None:
            raise
        address = ""
        del exc
    if not address or _EMAIL.match(address) is None or any(
            len(label) > 63 for label in address.rpartition("@")[2].split(".")):
        raise ValueError("write one address with a valid domain, e.g. "
                         '"Sở Ngoại vụ <lich@songoaivu.gov.vn>" or lich@songoaivu.gov.vn')
    return raw


def _contact_email(raw: str) -> str:
    """contact.email: empty, or one bare address by the one envelope-address parser."""
    if not raw:
        return raw
    _mailbox(raw)
    if envelope_address(raw) != raw.strip():
        raise ValueError("write the address only, e.g. vanphong@songoaivu.gov.vn")
    return raw.strip()


def _int(low: int, high: int) -> Callable[[str], int]:
    def read(raw: str) -> int:
        if not re.fullmatch(r"\d+", raw) or not low <= int(raw) <= high:
            raise ValueError(f"write a whole number from {low} to {high}")
        return int(raw)

    return read


def _bool(raw: str) -> bool:
    low = raw.lower()
    if low not in ("true", "false"):
        raise ValueError("write true or false")
    return low == "true"


def _clock(raw: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError('write a 24-hour time in quotes, e.g. "08:00"')
    return time(int(match[1]), int(match[2]))


def _zone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("write an IANA time zone, e.g. Asia/Ho_Chi_Minh") from None
    return raw


def _listen(raw: str) -> tuple[str, int]:
    match = re.fullmatch(r"\[?([^\]]+?)\]?:(\d{1,5})", raw)
    if not match or not 0 <= int(match[2]) <= 65535:
        raise ValueError("write HOST:PORT, e.g. 127.0.0.1:8080")
    return match[1], int(match[2])


def _security(raw: str) -> str:
    if raw not in ("starttls", "tls", "none"):
        raise ValueError("write starttls, tls or none")
    return raw


def _store_url(raw: str) -> str:
    if not raw.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ValueError("write sqlite:///relative/path.db, sqlite:////abs/path.db or postgresql://…")
    return raw


def _day(raw: str) -> date:
    return parse_date(raw)  # TimeExprError is a ValueError: its message says what to write


def parse_rotation(entries: Iterable[str]) -> dict[str, int]:
    """["vhttdl=2"] -> {"vhttdl": 2}; ValueError says what to write."""
    versions: dict[str, int] = {}
    for entry in entries:
        agency, sep, number = entry.partition("=")
        if not sep or not number.isdigit() or not agency.strip():
            raise ValueError("write AGENCY_ID=N, e.g. vhttdl=2")
        versions[agency.strip()] = int(number)
    return versions


def _rotation(raw: str) -> str:
    parse_rotation([raw])
    return raw


class NotEchoed(ValueError):
    """A bad value that may be a secret pasted in the wrong place: never shown whole."""


def hidden(raw: str) -> str:
    """What a problem line shows of a value that may be a secret: its length only."""
    return f"<{len(raw)} characters, not shown>"


_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^@/\s]*@")
_DSN_PASSWORD = re.compile(r"(?i)\b(password\s*=\s*)('[^']*'|\S+)")


def redact(text: str) -> str:
    """``text`` with the password of every URL (``scheme://user:PASSWORD@host``) and every
    libpq ``password=...`` replaced by ``***``: for anything printed or logged."""
    return _DSN_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", text))


def _env_name(raw: str) -> str:
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", raw):
        raise NotEchoed("write the NAME of an environment variable, e.g. "
                        "REMINDERD_SMTP_PASSWORD (credentials never go in YAML)")
    return raw


def _admin_user(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", raw):
        raise ValueError("write a user name of letters, digits, '.', '_' or '-'")
    return raw


def _ca_file(raw: str) -> str:
    if not raw.strip():
        raise ValueError("write the path of a PEM file with the CA certificate(s)")
    return raw


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 86400:
        raise ValueError("write a number of seconds above 0 and at most 86400, e.g. 60")
    return value


@dataclass(frozen=True)
class Setting:
    """One key. ``env``: the environment variable that sets it; with ``file=False`` only the
    environment does (secrets and knobs for rehearsals never go in YAML). ``secret``: shown
    masked. ``field``: the attribute name when the key is not an identifier (``from``)."""

    default: Any
    help: str
    read: Callable[[str], Any] = _text
    is_list: bool = False
    path: bool = False
    optional: bool = False
    env: str | None = None
    file: bool = True
    secret: bool = False
    field: str | None = None


Schema: TypeAlias = "dict[str, Setting | Schema]"


def _days(help_text: str, default: list[int]) -> Setting:
    return Setting(default, help_text, _int(0, 366), is_list=True)


SCHEMA: Schema = {
    "plans": Setting("../plans", "the plans: a folder (every *.yaml in it is a plan file: "
                     "agencies, occasions, agreements, one file per plan document) or one "
                     "plans.yaml", path=True),
    "templates": Setting("../templates", "folder of e-mail and status-page templates", path=True),
    "timezone": Setting("Asia/Ho_Chi_Minh", "local time zone for send times and display", _zone),
    "store": Setting(
        "sqlite:///../var/reminderd.db",
        "delivery store URL: sqlite:///PATH (relative to this file) or postgresql://user@host/db",
        _store_url,
    ),
    "var_dir": Setting("../var", "folder for the store, outbox, secrets and lock files", path=True),
    "mail": {
        "from": Setting("Sở Ngoại vụ <lich@songoaivu.example>", "sender of reminder mail: "
                        "one address, optionally with a name", _mailbox, field="sender"),
        "maildir": Setting("../var/outbox", "Maildir used when smtp is absent", path=True),
        # --- answering and the operator (issue 14) ---
        "reply_to": Setting(None, "replies to reminder mail go here (Reply-To): one address, "
                            "optionally with a name; with it the \"do not reply\" footer goes",
                            _mailbox, optional=True),
        "operator": Setting(None, "the operator's address: told when reminders stay "
                            "undelivered or reloads keep failing (see operator:)", _mailbox,
                            optional=True),
        "smtp": {
            "host": Setting(None, "SMTP server; leave smtp out to write to the Maildir",
                            optional=True),
            "port": Setting(587, "SMTP port", _int(1, 65535)),
            "security": Setting("starttls", "starttls (required, never downgraded), tls or none",
                                _security),
            "username_env": Setting(None, "environment variable holding the user name", _env_name,
                                    optional=True),
            "password_env": Setting(None, "environment variable holding the password", _env_name,
                                    optional=True),
            "timeout_seconds": Setting(30, "per-command timeout", _int(1, 600)),
            "ca_file": Setting(None, "PEM file of an internal CA to trust (certificates are "
                               "always verified)", _ca_file, path=True, optional=True),
        },
    },
    "http": {
        "listen": Setting("127.0.0.1:8080", "address the daemon listens on", _listen),
        "public_url": Setting("http://127.0.0.1:8080", "base URL subscribers use"),
        "export_dir": Setting(None, "also write the feeds here, for nginx or a CDN", path=True,
                              optional=True),
        "admin_listen": Setting("127.0.0.1:8081", "admin listener: status page, /metrics, "
                                "detailed /healthz, whole calendar (keep it private)", _listen),
        "admin_user": Setting("admin", "user name for HTTP Basic auth on the admin listener",
                              _admin_user),
        "admin_password_hash_env": Setting(
            None, "environment variable holding the admin password hash (reminderd "
            "hash-password); unset = no auth", _env_name, optional=True),
        "header_timeout_seconds": Setting(10, "close a connection whose request headers take "
                                          "longer", _int(1, 300)),
        "keepalive_timeout_seconds": Setting(15, "close a kept-alive connection idle this long",
                                             _int(1, 3600)),
        "max_connections": Setting(1000, "open connections per listener (capped below the file "
                                   "descriptor limit); the oldest idle one makes room",
                                   _int(16, 1_000_000)),
    },
    "feeds": {
        "name": Setting("Lịch Sở Ngoại vụ", "calendar name shown by clients", _header_text),
        "uid_domain": Setting("reminderd.songoaivu.example", "domain part of event UIDs"),
        "horizon_days_back": Setting(365, "days of the past the feed keeps", _int(0, 3660)),
        "horizon_days_ahead": Setting(730, "days ahead the feed shows", _int(1, 3660)),
        "show_spans": Setting(False, "also show each long window as a span", _bool),
        # --- windows as windows (issue 14) ---
        "span_days": Setting(31, "a window up to this many days is one multi-day event; a "
                             "longer one is two: its opening and its deadline", _int(1, 3660)),
        "include_contacts": Setting(False, "put agencies' e-mail addresses in the whole feed",
                                    _bool),
        "refresh_hours": Setting(12, "REFRESH-INTERVAL / X-PUBLISHED-TTL in hours", _int(1, 168)),
        "token_rotation": Setting([], "renew (and revoke) an agency's feed link: AGENCY_ID=N",
                                  _rotation, is_list=True),
        "public_calendar": Setting(False, "also serve the whole calendar on the public "
                                   "listener, under a token of its own (pseudo-agency 'all')",
                                   _bool),
        "secret": Setting(None, "the secret agency feed links derive from (else var_dir/"
                          "feed-secret, made once); replicas share it; at least 32 bytes", _text,
                          optional=True,
                          env="REMINDERD_FEED_SECRET", file=False, secret=True),
    },
    "reminders": {
        "send_time": Setting(time(8, 0), "local time reminders go out (working days only)",
                             _clock),
        "lead_workdays": _days("working days before a deadline: lead agency", [14, 7, 3, 1, 0]),
        "support_workdays": _days("working days before a deadline: coordinating agencies",
                                  [7, 1]),
        "occasion_days": _days("days before an occasion", [14, 3]),
        "round_anniversary_days": _days("days before a round anniversary", [90, 30, 14, 3]),
        "new_year_days": _days("days before a foreign new year (delegations travel)", [21, 7]),
        "agreement_days": _days("days before an agreement's review or expiry", [90, 30, 7]),
        "overdue_after_workdays": Setting(1, "working days after a missed deadline: to the lead",
                                          _int(1, 60)),
        "escalate_after_workdays": Setting(
            5, "working days after a missed deadline: also to the plan's coordinator",
            _int(1, 120)),
        "catch_up_days": Setting(3, "send reminders missed during downtime up to this many days",
                                 _int(0, 60)),
    },
    "delivery": {
        "lease_seconds": Setting(300, "how long a claimed reminder stays with one process; "
                                 "at least twice send_timeout_seconds", _int(2, 86400)),
        "send_timeout_seconds": Setting(120, "hard limit for one message's SMTP transaction",
                                        _int(1, 3600)),
        "claim_batch": Setting(200, "reminders claimed at a time (replicas share a burst)",
                               _int(1, 100_000)),
        "retry_tick_seconds": Setting(
            60.0, "how often the daemon looks for reminders waiting for a retry or for a dead "
            "replica's lease (rehearsals with short leases lower it)", _seconds,
            env="REMINDERD_RETRY_TICK_SECONDS", file=False),
    },
    # --- issue 14: the office's person to answer, the weekly mail, operator alerts ---
    "contact": {
        "name": Setting("", "the person agencies may ask (shown at the end of every mail)",
                        _header_text),
        "phone": Setting("", "that person's phone", _header_text),
        "email": Setting("", "that person's e-mail address", _contact_email),
    },
    "weekly": {
        "agencies": Setting([], "agencies that get \"Lịch công tác tuần\" on Monday morning: "
                            "agency ids, or [all]", is_list=True),
    },
    "operator": {
        "undelivered_hours": Setting(4, "tell mail.operator when due reminders stay "
                                     "undelivered this long", _int(1, 720)),
        "reload_failing_hours": Setting(4, "tell mail.operator when plans/config edits keep "
                                        "failing to load this long", _int(1, 720)),
        "quiet_hours": Setting(24, "after an alert, the same alert again only after this "
                               "long (like Postfix's delay_warning)", _int(1, 720)),
    },
    "workdays": {
        "extra_off": Setting([], "extra days off by official decision (dd/mm/yyyy)", _day,
                             is_list=True),
        "extra_working": Setting([], "weekend days made working days (dd/mm/yyyy)", _day,
                                 is_list=True),
    },
}
