"""The typed settings: one frozen dataclass per section of config/reminderd.yaml.

No defaults here: every value comes from the schema (:mod:`.schema`) through the loader,
so a default is written once. ``Settings.origins`` says where each value came from (the
file and its place, the environment, or the default), for located problems and for
``reminderd check --show-config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from reminderd.core.errors import Problem

Source = Literal["default", "file", "environment"]


@dataclass(frozen=True)
class Origin:
    """Where one value came from: ``file`` with its place, ``environment`` with the
    variable's name, or ``default``."""

    source: Source
    file: str = ""
    line: int = 1
    col: int = 1
    env: str = ""

    def __str__(self) -> str:
        if self.source == "file":
            return f"file {self.file}:{self.line}:{self.col}"
        if self.source == "environment":
            return f"environment {self.env}"
        return "default"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username_env: str | None
    password_env: str | None
    timeout_seconds: int
    ca_file: Path | None  # an internal CA to trust (resolved); certificates always verified


@dataclass(frozen=True)
class MailSettings:
    sender: str  # the key `from`: a display name and an address
    maildir: Path
    reply_to: str | None  # issue 14: Reply-To of reminder mail; no "do not reply" footer
    operator: str | None  # issue 14: told of undelivered reminders and failing reloads
    smtp: SmtpSettings | None


@dataclass(frozen=True)
class HttpSettings:
    """The two listeners and what protects them (see README, "Running as a service")."""

    listen: tuple[str, int]  # public: feeds and a bare /healthz
    public_url: str
    export_dir: Path | None
    admin_listen: tuple[str, int]  # status page, /metrics, detailed /healthz
    admin_user: str
    admin_password_hash_env: str | None  # Basic auth on admin when set
    header_timeout_seconds: int
    keepalive_timeout_seconds: int
    max_connections: int


@dataclass(frozen=True)
class FeedsSettings:
    name: str
    uid_domain: str
    horizon_days_back: int
    horizon_days_ahead: int
    show_spans: bool
    span_days: int  # issue 14: a window up to this long is one multi-day event
    include_contacts: bool
    refresh_hours: int
    token_rotation: tuple[str, ...]
    public_calendar: bool  # the whole calendar on the public listener (own token)
    secret: str | None = field(repr=False)  # REMINDERD_FEED_SECRET


@dataclass(frozen=True)
class RemindersSettings:
    send_time: time
    lead_workdays: tuple[int, ...]
    support_workdays: tuple[int, ...]
    occasion_days: tuple[int, ...]
    round_anniversary_days: tuple[int, ...]
    new_year_days: tuple[int, ...]
    agreement_days: tuple[int, ...]
    overdue_after_workdays: int
    escalate_after_workdays: int
    catch_up_days: int


@dataclass(frozen=True)
class DeliverySettings:
    lease_seconds: int
    send_timeout_seconds: int
    claim_batch: int
    retry_tick_seconds: float  # REMINDERD_RETRY_TICK_SECONDS


@dataclass(frozen=True)
class ContactSettings:
    """The office's person to answer (issue 14); empty texts when not configured."""

    name: str
    phone: str
    email: str

    def __bool__(self) -> bool:
        return bool(self.name or self.phone or self.email)


@dataclass(frozen=True)
class WeeklySettings:
    """"Lịch công tác tuần" on Monday morning (issue 14)."""

    agencies: tuple[str, ...]  # agency ids, or ("all",)


@dataclass(frozen=True)
class OperatorSettings:
    """When mail.operator hears of trouble (issue 14), like Postfix's delay_warning."""

    undelivered_hours: int
    reload_failing_hours: int
    quiet_hours: int


@dataclass(frozen=True)
class WorkdaysSettings:
    extra_off: tuple[date, ...]
    extra_working: tuple[date, ...]


@dataclass(frozen=True)
class Settings:
    """Everything the commands need, typed; ``path`` is the config file read (or None)."""

    path: Path | None
    plans: Path
    templates: Path
    timezone: str
    store: str
    var_dir: Path
    mail: MailSettings
    http: HttpSettings
    feeds: FeedsSettings
    reminders: RemindersSettings
    delivery: DeliverySettings
    workdays: WorkdaysSettings
    contact: ContactSettings
    weekly: WeeklySettings
    operator: OperatorSettings
    # dotted key ("mail.smtp.host") -> where its value came from
    origins: Mapping[str, Origin] = field(default_factory=dict, repr=False, compare=False)

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

    def problem(self, key: str, message: str) -> Problem:
        """A problem about the setting ``key``, located where its value was written (or,
        for a default, at the nearest enclosing section written in the file)."""
        origin = self.origins.get(key)
        if origin is not None and origin.source == "environment":
            return Problem(f"<environment {origin.env}>", 1, 1, message)
        while origin is None or origin.source != "file":
            if "." not in key:
                return Problem(str(self.path) if self.path else "<defaults>", 1, 1, message)
            key = key.rpartition(".")[0]
            origin = self.origins.get(key)
        return Problem(origin.file, origin.line, origin.col, message)
