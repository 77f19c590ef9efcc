"""Typed settings from config/reminderd.yaml.

One schema (``SCHEMA``) drives the defaults, the type checks, the help text and the
commented example config (``example_config()``; a test keeps config/reminderd.example.yaml
equal to it). Relative paths resolve against the config file's folder. Problems come back
all at once as ``FILE:LINE:COL: message``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from reminderd.core.errors import Problem
from reminderd.core.model import Contact
from reminderd.core.timeexpr import parse_date

MAX_CONFIG_BYTES = 1024 * 1024
DEFAULT_CONFIG = Path("config/reminderd.yaml")


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --- value readers: raw YAML text -> typed value, or ValueError("what to write instead") ---

def _text(raw: str) -> str:
    return raw


def _header_text(raw: str) -> str:
    if "\r" in raw or "\n" in raw or "=?" in raw:
        raise ValueError("must be one line without '=?' (it goes into an e-mail header)")
    return raw


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


def _env_name(raw: str) -> str:
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", raw):
        raise ValueError("write the NAME of an environment variable (credentials never go in YAML)")
    return raw


@dataclass(frozen=True)
class Setting:
    default: Any
    help: str
    read: Callable[[str], Any] = _text
    is_list: bool = False
    path: bool = False
    optional: bool = False


def _days(help_text: str, default: list[int]) -> Setting:
    return Setting(default, help_text, _int(0, 366), is_list=True)


SCHEMA: dict[str, Any] = {
    "plans": Setting("../plans.yaml", "the plans file", path=True),
    "templates": Setting("../templates", "folder of e-mail and status-page templates", path=True),
    "timezone": Setting("Asia/Ho_Chi_Minh", "local time zone for send times and display", _zone),
    "store": Setting(
        "sqlite:///../var/reminderd.db",
        "delivery store URL: sqlite:///PATH (relative to this file) or postgresql://user@host/db",
        _store_url,
    ),
    "var_dir": Setting("../var", "folder for the store, outbox, secrets and lock files", path=True),
    "mail": {
        "from": Setting("Sở Ngoại vụ <lich@songoaivu.example>", "sender of reminder mail",
                        _header_text),
        "maildir": Setting("../var/outbox", "Maildir used when smtp is absent", path=True),
        # --- answering and the operator (issue 14) ---
        "reply_to": Setting(None, "replies to reminder mail go here (Reply-To); with it the "
                            "\"do not reply\" footer goes", _header_text, optional=True),
        "operator": Setting(None, "the operator's address: told when reminders stay "
                            "undelivered or reloads keep failing (see operator:)", _header_text,
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
        },
    },
    "http": {
        "listen": Setting("127.0.0.1:8080", "address the daemon listens on", _listen),
        "public_url": Setting("http://127.0.0.1:8080", "base URL subscribers use"),
        "export_dir": Setting(None, "also write the feeds here, for nginx or a CDN", path=True,
                              optional=True),
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
    },
    # --- issue 14: the office's person to answer, the weekly mail, operator alerts ---
    "contact": {
        "name": Setting("", "the person agencies may ask (shown at the end of every mail)",
                        _header_text),
        "phone": Setting("", "that person's phone", _header_text),
        "email": Setting("", "that person's e-mail address", _header_text),
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


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username_env: str | None
    password_env: str | None
    timeout_seconds: int


@dataclass(frozen=True)
class Settings:
    """Everything the commands need, typed; ``path`` is the config file read (or None)."""

    path: Path | None
    plans: Path
    templates: Path
    timezone: str
    store: str
    var_dir: Path
    mail_from: str
    maildir: Path
    smtp: SmtpSettings | None
    listen: tuple[str, int]
    public_url: str
    export_dir: Path | None
    feeds: dict[str, Any]
    reminders: dict[str, Any]
    delivery: dict[str, Any]
    extra_off: tuple[date, ...] = ()
    extra_working: tuple[date, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    # --- issue 14 ---
    reply_to: str | None = None
    operator: str | None = None
    contact: Contact | None = None
    weekly_agencies: tuple[str, ...] = ()  # ("all",) for every agency
    alerts: dict[str, Any] = field(default_factory=dict)  # the operator: section

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def store_path(self) -> Path | None:
        """The SQLite file for a sqlite:/// URL (relative to the config folder), else None."""
        if not self.store.startswith("sqlite:///"):
            return None
        rest = self.store[len("sqlite:///"):]
        base = self.path.parent if self.path else Path.cwd()
        return Path(rest) if rest.startswith("/") else (base / rest).resolve()


def _where(file: str, node: yaml.Node) -> tuple[str, int, int]:
    return file, node.start_mark.line + 1, node.start_mark.column + 1


def _read_section(
    schema: dict[str, Any], node: yaml.Node | None, file: str, problems: list[Problem],
    prefix: str,
) -> dict[str, Any]:
    """Walk one mapping against its schema: unknown keys, types, duplicates."""
    values: dict[str, Any] = {}
    seen: dict[str, yaml.Node] = {}
    if node is not None and not isinstance(node, yaml.MappingNode):
        problems.append(Problem(*_where(file, node), f"'{prefix or 'config'}' must be a mapping"))
        node = None
    pairs = node.value if node is not None else []
    for key_node, value_node in pairs:
        key = str(key_node.value)
        name = f"{prefix}{key}"
        if key in seen:
            line = seen[key].start_mark.line + 1
            problems.append(Problem(*_where(file, key_node),
                                    f"duplicate key '{name}' (first at line {line})"))
            continue
        seen[key] = key_node
        if key not in schema:
            close = difflib.get_close_matches(key, list(schema), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(schema)}"
            problems.append(Problem(*_where(file, key_node), f"unknown key '{name}'{hint}"))
            continue
        spec = schema[key]
        if isinstance(spec, dict):
            values[key] = _read_section(spec, value_node, file, problems, f"{name}.")
            continue
        value = _read_value(spec, value_node, file, problems, name)
        if value is not _BAD:
            values[key] = value
    for key, spec in schema.items():
        if key not in values:
            if isinstance(spec, dict):
                values[key] = None if key == "smtp" else _read_section(spec, None, file, problems,
                                                                      f"{prefix}{key}.")
            else:
                values[key] = spec.default
    return values


_BAD = object()


def _read_value(spec: Setting, node: yaml.Node, file: str, problems: list[Problem],
                name: str) -> Any:
    if node.tag.startswith("!"):  # `!!python/...` or a local tag: never let YAML decide
        problems.append(Problem(*_where(file, node), f"'{name}': YAML tags are not allowed"))
        return _BAD
    if spec.optional and isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
        return None
    items = node.value if spec.is_list and isinstance(node, yaml.SequenceNode) else None
    if spec.is_list and items is None:
        problems.append(Problem(*_where(file, node), f"'{name}' must be a list, e.g. [7, 1]"))
        return _BAD
    scalars = items if items is not None else [node]
    out = []
    for item in scalars:
        if not isinstance(item, yaml.ScalarNode):
            problems.append(Problem(*_where(file, item), f"'{name}' must be a plain value"))
            return _BAD
        try:
            out.append(spec.read(str(item.value)))
        except ValueError as exc:
            problems.append(Problem(*_where(file, item), f"'{name}': {item.value!r}: {exc}"))
            return _BAD
    return out if spec.is_list else out[0]


MAX_CONFIG_DEPTH = 20  # the config needs 3 levels


def _too_deep(text: str, file: str) -> Problem:
    """Where the config nests too deeply to compose: the first collection deeper than
    MAX_CONFIG_DEPTH, found from the parser's events (the parser does not recurse)."""
    message = (f"the config nests deeper than {MAX_CONFIG_DEPTH} levels (it needs 3): check "
               "the brackets and the indentation here")
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                mark = event.start_mark
                if depth > MAX_CONFIG_DEPTH and mark is not None:
                    return Problem(file, mark.line + 1, mark.column + 1, message)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass
    return Problem(file, 1, 1, message)


def load_settings(path: Path | None) -> Settings:
    """Read the config file (or the embedded defaults when ``path`` is None)."""
    problems: list[Problem] = []
    node = None
    file = str(path) if path else "<defaults>"
    if path is not None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            problem = Problem(file, 1, 1, f"cannot read config: {exc.strerror}")
            raise ConfigError([problem]) from None
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError([Problem(file, 1, 1, f"config is {len(data)} bytes; the limit is "
                                                    f"{MAX_CONFIG_BYTES}")])
        try:
            node = yaml.compose(data.decode("utf-8"), Loader=yaml.SafeLoader)
        except UnicodeDecodeError as exc:
            raise ConfigError([Problem(file, 1, 1, f"not UTF-8: {exc.reason}")]) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            raise ConfigError([Problem(file, line, col, f"YAML syntax: {exc.problem}")]) from None
        except RecursionError:  # PyYAML's composer recurses once per level of nesting
            raise ConfigError([_too_deep(data.decode("utf-8"), file)]) from None
    values = _read_section(SCHEMA, node, file, problems, "")
    smtp_values = values["mail"].get("smtp")
    smtp = None
    if smtp_values is not None:
        if not smtp_values.get("host"):
            problems.append(Problem(file, 1, 1, "mail.smtp needs a host, e.g. host: smtp.example"))
        else:
            smtp = SmtpSettings(**smtp_values)
    delivery = values["delivery"]
    if delivery["lease_seconds"] < 2 * delivery["send_timeout_seconds"]:
        problems.append(Problem(file, 1, 1, "delivery.lease_seconds must be at least twice "
                                "delivery.send_timeout_seconds, or a slow send could be taken "
                                "over by another replica and sent twice"))
    base = path.parent.resolve() if path else Path.cwd()
    if problems:
        raise ConfigError(problems)

    def resolve(value: str | None) -> Path | None:
        return None if value is None else (base / value).resolve()

    http = values["http"]
    return Settings(
        path=path,
        plans=resolve(values["plans"]) or base,
        templates=resolve(values["templates"]) or base,
        timezone=values["timezone"],
        store=values["store"],
        var_dir=resolve(values["var_dir"]) or base,
        mail_from=values["mail"]["from"],
        maildir=resolve(values["mail"]["maildir"]) or base,
        smtp=smtp,
        listen=http["listen"],
        public_url=http["public_url"].rstrip("/"),
        export_dir=resolve(http["export_dir"]),
        feeds=values["feeds"],
        reminders=values["reminders"],
        delivery=values["delivery"],
        extra_off=tuple(values["workdays"]["extra_off"]),
        extra_working=tuple(values["workdays"]["extra_working"]),
        raw=values,
        reply_to=values["mail"]["reply_to"],
        operator=values["mail"]["operator"],
        contact=Contact(**values["contact"]) if any(values["contact"].values()) else None,
        weekly_agencies=tuple(values["weekly"]["agencies"]),
        alerts=values["operator"],
    )


def _render_default(spec: Setting) -> str:
    value = spec.default
    if isinstance(value, time):
        return f'"{value:%H:%M}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if value is None:
        return "~"
    text = str(value)
    return f'"{text}"' if any(c in text for c in ":<>#") else text


def example_config() -> str:
    """The fully commented example config, generated from the schema."""
    lines = ["# reminderd configuration. Every key is optional; shown here with its default.",
             "# Relative paths resolve against this file's folder."]

    def walk(schema: dict[str, Any], indent: str) -> None:
        for key, spec in schema.items():
            if isinstance(spec, dict):
                if key == "smtp":
                    lines.append(f"{indent}# smtp:   # absent = write mail to the Maildir")
                    for sub, sub_spec in spec.items():
                        lines.append(f"{indent}#   {sub}: {_render_default(sub_spec)}"
                                     f"   # {sub_spec.help}")
                    continue
                lines.append(f"{indent}{key}:")
                walk(spec, indent + "  ")
            else:
                lines.append(f"{indent}# {spec.help}")
                lines.append(f"{indent}{key}: {_render_default(spec)}")

    walk(SCHEMA, "")
    return "\n".join(lines) + "\n"
