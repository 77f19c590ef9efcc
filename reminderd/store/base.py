"""The delivery store: what every backend (SQLite, PostgreSQL) promises, and what they share.

One row per reminder key, under a permanent unique constraint. A send pass materialises the
reminders that are due, claims them (a lease with an owner and a fencing token), sends, and
marks the result only while it still holds the claim. A claim whose lease ran out (its owner
died mid-send) is taken over by the next claimer and the row is flagged ``uncertain``: the mail
may already have gone out, so a duplicate is possible, and it is counted, never silent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from importlib import resources
from typing import Any, Protocol


class Status(StrEnum):
    PENDING = "pending"  # materialised, waiting for its due time
    SENDING = "sending"  # claimed: a process holds a lease on it and is sending
    SENT = "sent"
    RETRYING = "retrying"  # a transient failure: next_attempt says when
    FAILED = "failed"  # a permanent failure (5xx) or given up
    SKIPPED = "skipped"  # never sent on purpose (past before first load, no longer planned)


OPEN = (Status.PENDING, Status.RETRYING)  # claimable once next_attempt has come
FINAL = (Status.SENT, Status.FAILED, Status.SKIPPED)


class StoreError(Exception):
    """Base of the store's own errors."""


class StoreLockedError(StoreError):
    """Another writer process holds the SQLite store."""


class StoreUnavailableError(StoreError):
    """The database is unreachable (PostgreSQL down, SQLite busy or disk error): retry later."""


class StoreConfigError(StoreError):
    """A store URL that cannot work, a missing driver, or a schema newer than this code."""


@dataclass(frozen=True)
class Planned:
    """A reminder to materialise."""

    key: str  # unique reminder key "<occurrence key>|<date>|<step>|<agency>"
    agency: str  # recipient agency id
    occurrence_key: str
    occurrence_date: date
    due: datetime  # UTC aware
    kind: str  # ReminderKind value


@dataclass(frozen=True)
class Delivery:
    """A stored row."""

    key: str
    agency: str
    occurrence_key: str
    occurrence_date: date
    due: datetime
    kind: str
    status: Status
    attempts: int
    next_attempt: datetime | None
    last_error: str | None
    message_id: str | None
    recipients: str | None  # comma-separated addresses sent to / refused info
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    uncertain: bool  # a send may have happened before a crash or lost connection
    owner: str | None
    token: str | None
    lease_until: datetime | None


@dataclass(frozen=True)
class Completion:
    """A task an agency closed from its mail (the done link)."""

    occurrence_key: str
    occurrence_date: date  # the item's date when it was closed
    agency: str  # who closed it
    done_at: datetime  # UTC
    note: str = ""


@dataclass(frozen=True)
class Notice:
    """A message other than a reminder, under a permanent key (sent once, by one replica)."""

    key: str  # e.g. "change|task/p/t|2026-06-11|2026-06-18|agency", "weekly|agency|2026-W29"
    kind: str  # "change", "weekly"
    agency: str


@dataclass(frozen=True)
class Claim:
    deliveries: list[Delivery]
    owner: str
    token: str  # fencing token for this claim (uuid4 hex)

    @property
    def keys(self) -> list[str]:
        return [d.key for d in self.deliveries]


class DeliveryStore(Protocol):
    def migrate(self) -> None: ...
    def materialize(
        self, planned: Iterable[Planned], now: datetime, *, skipped_reason: str | None = None
    ) -> int: ...
    def claim_due(
        self, now: datetime, owner: str, lease: timedelta, limit: int = 10_000
    ) -> Claim: ...
    def heartbeat(self, claim: Claim, lease_until: datetime) -> int: ...
    def atomic(self) -> AbstractContextManager[None]:
        """Writes of this thread inside the block form one transaction (one durable commit)."""
        ...
    def mark_inflight(self, claim: Claim, keys: Sequence[str]) -> int:
        """Just before the message goes to SMTP: a takeover after this is uncertain."""
        ...
    def mark_sent(
        self, claim: Claim, keys: Sequence[str], now: datetime, message_id: str, recipients: str
    ) -> int: ...
    def mark_uncertain(
        self, claim: Claim, keys: Sequence[str], now: datetime, error: str,
        next_attempt: datetime,
    ) -> int: ...
    def mark_retry(
        self, claim: Claim, keys: Sequence[str], now: datetime, error: str,
        next_attempt: datetime,
    ) -> int: ...
    def mark_failed(self, claim: Claim, keys: Sequence[str], now: datetime, error: str) -> int: ...
    def mark_skipped(
        self, claim: Claim, keys: Sequence[str], now: datetime, reason: str
    ) -> int: ...
    def release(self, claim: Claim, keys: Sequence[str]) -> int: ...
    def skip(self, keys: Sequence[str], now: datetime, reason: str) -> int: ...
    def open_keys(self) -> set[str]: ...
    def claimable(self, now: datetime, limit: int = 1_000_000) -> list[Delivery]:
        """The rows ``claim_due(now, ...)`` would take, as it would return them, read-only."""
        ...
    def lookup(self, keys: Sequence[str]) -> dict[str, Delivery]: ...
    def deliveries(self, status: Status | None = None, limit: int = 200) -> list[Delivery]: ...
    def counts(self) -> dict[Status, int]: ...
    def load_feed_items(self) -> dict[str, tuple[str, int, datetime]]: ...
    def save_feed_items(self, rows: Mapping[str, tuple[str, int, datetime]]) -> None: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...
    # --- agencies' actions and other mail (issue 14; migration 0005) ---
    def record_done(self, occurrence_key: str, occurrence_date: date, agency: str,
                    now: datetime, note: str = "") -> Completion: ...
    def undo_done(self, occurrence_key: str) -> bool: ...
    def completions(self, keys: Sequence[str] | None = None) -> dict[str, Completion]: ...
    def claim_notices(self, notices: Sequence[Notice], now: datetime) -> set[str]: ...
    def finish_notices(self, keys: Sequence[str], now: datetime, *, message_id: str = "",
                       error: str = "") -> int: ...
    def notice_counts(self) -> dict[tuple[str, str], int]: ...
    def alert_due(self, name: str, now: datetime, quiet: timedelta) -> bool: ...
    def undelivered(self, now: datetime) -> tuple[int, datetime | None]: ...


# Columns of the deliveries table, in the order the Delivery dataclass takes them.
COLUMNS = (
    "key", "agency", "occurrence_key", "occurrence_date", "due", "kind", "status", "attempts",
    "next_attempt", "last_error", "message_id", "recipients", "created_at", "updated_at",
    "sent_at", "uncertain", "owner", "token", "lease_until",
)
SELECT_COLUMNS = ", ".join(COLUMNS)
TIMESTAMP_COLUMNS = frozenset(
    {"due", "next_attempt", "created_at", "updated_at", "sent_at", "lease_until"}
)

# Claimed rows remember where they came from (claimed_from) so that release() can put them
# back; a row taken over from a dead owner comes back as retrying.
CLAIM_ASSIGNMENTS = """
    claimed_from = CASE WHEN status = 'sending' THEN 'retrying' ELSE status END,
    uncertain = (uncertain OR (status = 'sending' AND inflight = 1)),
    inflight = 0, status = 'sending', attempts = attempts + 1"""
# The same columns read as the claim above would return them (for a read-only look at what
# a claim would take: the dry run); keep the two side by side.
AS_CLAIMED = {
    "uncertain": "(uncertain OR (status = 'sending' AND inflight = 1)) AS uncertain",
    "attempts": "attempts + 1 AS attempts",
}


def utc(value: datetime) -> datetime:
    """An aware datetime in UTC; naive datetimes are a bug in the caller, never guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: the store needs aware datetimes")
    return value.astimezone(UTC)


class Row(Protocol):
    def __getitem__(self, name: str, /) -> Any: ...


def delivery_from_row(
    row: Row,
    to_datetime: Callable[[Any], datetime],
    to_date: Callable[[Any], date],
) -> Delivery:
    """Build a Delivery from a row mapping; the backend says how to read its timestamps."""
    values: dict[str, Any] = {}
    for name in COLUMNS:
        value = row[name]
        if name in TIMESTAMP_COLUMNS and value is not None:
            value = to_datetime(value)
        values[name] = value
    values["occurrence_date"] = to_date(row["occurrence_date"])
    values["status"] = Status(row["status"])
    values["uncertain"] = bool(row["uncertain"])
    return Delivery(**values)


# Claimed rows handed back unsent (release, mark_skipped): that claim's attempt did not happen.
UNCLAIM_ASSIGNMENTS = "claimed_from = NULL, owner = NULL, token = NULL, attempts = attempts - 1"
# Given back unsent; a send that had begun leaves the row uncertain.
RELEASE_ASSIGNMENTS = ("status = COALESCE(claimed_from, 'retrying'),"
                       " uncertain = (uncertain OR inflight = 1), " + UNCLAIM_ASSIGNMENTS)


def sort_claimed(rows: list[Delivery]) -> list[Delivery]:
    return sorted(rows, key=lambda d: (d.due, d.key))


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)(?:\.(sqlite|postgresql))?\.sql$")


def migrations(backend: str) -> list[Migration]:
    """Numbered migrations for a backend: ``NNNN_name.sql`` is shared by both backends,
    ``NNNN_name.<backend>.sql`` is one backend's own version of step NNNN."""
    shared: dict[int, Migration] = {}
    own: dict[int, Migration] = {}
    folder = resources.files("reminderd.store").joinpath("migrations")
    for entry in folder.iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match is None:
            continue
        number, name, only = int(match[1]), match[2], match[3]
        if only is not None and only != backend:
            continue
        target = shared if only is None else own
        if number in target:
            raise StoreConfigError(f"two migrations numbered {number:04d} for {backend}")
        target[number] = Migration(number, name, entry.read_text(encoding="utf-8"))
    steps = {**shared, **own}
    numbers = sorted(steps)
    if numbers != list(range(1, len(numbers) + 1)):
        raise StoreConfigError(f"{backend} migrations are not numbered 1..n: {numbers}")
    return [steps[n] for n in numbers]


def check_not_newer(applied: set[int], known: list[Migration], where: str) -> None:
    newest = max((m.version for m in known), default=0)
    ahead = sorted(v for v in applied if v > newest)
    if ahead:
        raise StoreConfigError(
            f"the store {where} has schema version {ahead[-1]}, newer than this reminderd "
            f"knows ({newest}); upgrade reminderd instead of downgrading the database"
        )
