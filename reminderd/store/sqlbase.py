"""What the SQL backends (SQLite, PostgreSQL) share: the fenced marks, the plain updates and
the reads, written once.

The SQL here names its parameters ``{name}``; ``_sql`` turns each into the backend's
placeholder (``:name`` for sqlite3, ``%(name)s`` for psycopg), so no other braces (and no
``%``) may appear in it; constant SQL is joined in with ``+``, not an f-string. A backend
says how it runs a statement (connection, transaction, locking), how it writes and reads
timestamps and key lists (SQLite: ISO text and a JSON array read with ``json_each``;
PostgreSQL: timestamptz and a text array), and keeps what truly differs: migrating,
materialising in bulk, saving feed items, the lock a claim takes.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from reminderd.store.base import (
    AS_CLAIMED,
    CLAIM_ASSIGNMENTS,
    COLUMNS,
    OPEN,
    RELEASE_ASSIGNMENTS,
    SELECT_COLUMNS,
    UNCLAIM_ASSIGNMENTS,
    Claim,
    Delivery,
    Row,
    Status,
    delivery_from_row,
    sort_claimed,
)

# The claimable statuses as SQL: status IN ('pending', 'retrying').
OPEN_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN))

# The tail of every feed_items upsert: the first writer wins, so replicas that saw the same
# change agree on its row.
FEED_ITEMS_UPSERT = (
    " ON CONFLICT (key) DO UPDATE SET hash = excluded.hash,"
    " sequence = excluded.sequence, changed = excluded.changed"
    " WHERE feed_items.hash <> excluded.hash"
    " AND excluded.sequence > feed_items.sequence"
)


class _Placeholders(dict[str, str]):
    def __init__(self, style: str) -> None:
        super().__init__()
        self.style = style

    def __missing__(self, name: str) -> str:
        return self.style.format(name)


class SqlStore(ABC):
    _atomic_owner: int | None = None  # the thread inside atomic(), whose writes join it

    """The DeliveryStore methods whose logic is the same on every SQL backend."""

    # -- what a backend says about its SQL ------------------------------------------------

    PARAM: ClassVar[str]  # a named parameter, "{}" standing for its name
    IN_KEYS: ClassVar[str]  # the condition "key is one of the list bound to {keys}"
    # The guard of a fenced update (SQLite writes `+status` to keep off the status index).
    SENDING: ClassVar[str] = "status = 'sending'"
    # The keys a claim takes: due (pending or retrying, next_attempt reached) or left by a
    # dead owner (sending, lease run out), whole agencies in order, at most {limit}.
    CLAIMABLE: ClassVar[str] = (
        "SELECT key FROM deliveries"
        " WHERE (" + OPEN_SQL + " AND next_attempt <= {now})"
        "    OR (status = 'sending' AND lease_until < {now})"
        " ORDER BY agency, key LIMIT {limit}"
    )
    # What a claim adds to CLAIMABLE to lock its rows (PostgreSQL: FOR UPDATE SKIP LOCKED);
    # a read-only look (claimable) leaves it out.
    CLAIM_LOCK: ClassVar[str] = ""

    @classmethod
    def _sql(cls, template: str) -> str:
        """``template`` with each ``{name}`` made the backend's placeholder for ``name``."""
        return template.format_map(_Placeholders(cls.PARAM))

    @staticmethod
    @abstractmethod
    def _keys(keys: Sequence[str]) -> Any:
        """The parameter value IN_KEYS takes."""

    @staticmethod
    @abstractmethod
    def _stamp(value: datetime) -> Any:
        """An aware datetime as the backend stores it."""

    @staticmethod
    @abstractmethod
    def _from_stamp(value: Any) -> datetime:
        """A stored timestamp as an aware datetime in UTC."""

    @staticmethod
    @abstractmethod
    def _from_date(value: Any) -> date:
        """A stored date as a date."""

    @abstractmethod
    def _read(self, query: str, params: Mapping[str, Any] | None = None) -> Sequence[Row]:
        """The rows of a read-only statement."""

    @abstractmethod
    def _write_rows(self, query: str, params: Mapping[str, Any]) -> Sequence[Row]:
        """The rows a writing statement returns, in a write transaction of its own."""

    @abstractmethod
    def _update(self, query: str, params: Mapping[str, Any]) -> int:
        """The row count of a writing statement, in a write transaction of its own."""

    # -- shared plumbing ------------------------------------------------------------------

    def _delivery(self, row: Row) -> Delivery:
        return delivery_from_row(row, self._from_stamp, self._from_date)

    @classmethod
    def _fence(cls) -> str:
        """Rows among {keys} that the claim with {token} still holds."""
        return cls.IN_KEYS + " AND token = {token} AND " + cls.SENDING

    def _fenced(self, claim: Claim, keys: Sequence[str], sets: str, **params: Any) -> int:
        """Update rows this claim still holds, ending their lease and in-flight flag."""
        if not keys:
            return 0
        query = f"UPDATE deliveries SET {sets}, lease_until = NULL, inflight = 0 WHERE "
        return self._update(self._sql(query + self._fence()),
                            {**params, "keys": self._keys(keys), "token": claim.token})

    # -- DeliveryStore --------------------------------------------------------------------

    def claim_due(
        self, now: datetime, owner: str, lease: timedelta, limit: int = 10_000
    ) -> Claim:
        token = uuid.uuid4().hex
        rows = self._write_rows(
            self._sql(
                "UPDATE deliveries SET " + CLAIM_ASSIGNMENTS + ", owner = {owner},"
                "  token = {token}, lease_until = {lease_until}, updated_at = {now}"
                " WHERE key IN (" + self.CLAIMABLE + self.CLAIM_LOCK + ")"
                " RETURNING " + SELECT_COLUMNS
            ),
            {"now": self._stamp(now), "owner": owner, "token": token,
             "lease_until": self._stamp(now + lease), "limit": limit},
        )
        return Claim(sort_claimed([self._delivery(r) for r in rows]), owner, token)

    def heartbeat(self, claim: Claim, lease_until: datetime) -> int:
        return self._update(
            self._sql("UPDATE deliveries SET lease_until = {lease_until}"
                      " WHERE owner = {owner} AND token = {token} AND status = 'sending'"),
            {"lease_until": self._stamp(lease_until), "owner": claim.owner,
             "token": claim.token},
        )

    def mark_inflight(self, claim: Claim, keys: Sequence[str]) -> int:
        if not keys:
            return 0
        return self._update(
            self._sql("UPDATE deliveries SET inflight = 1 WHERE " + self._fence()),
            {"keys": self._keys(keys), "token": claim.token},
        )

    def mark_sent(
        self, claim: Claim, keys: Sequence[str], now: datetime, message_id: str, recipients: str
    ) -> int:
        return self._fenced(
            claim, keys,
            "status = 'sent', sent_at = {now}, updated_at = {now}, next_attempt = NULL,"
            " message_id = {message_id}, recipients = {recipients}",
            now=self._stamp(now), message_id=message_id, recipients=recipients,
        )

    def mark_uncertain(
        self, claim: Claim, keys: Sequence[str], now: datetime, error: str,
        next_attempt: datetime,
    ) -> int:
        return self._retrying(claim, keys, now, error, next_attempt, "uncertain = TRUE, ")

    def mark_retry(
        self, claim: Claim, keys: Sequence[str], now: datetime, error: str,
        next_attempt: datetime,
    ) -> int:
        return self._retrying(claim, keys, now, error, next_attempt)

    def _retrying(
        self, claim: Claim, keys: Sequence[str], now: datetime, error: str,
        next_attempt: datetime, also: str = "",
    ) -> int:
        return self._fenced(
            claim, keys,
            also + "status = 'retrying', last_error = {error}, next_attempt = {next_attempt},"
            " updated_at = {now}",
            now=self._stamp(now), error=error, next_attempt=self._stamp(next_attempt),
        )

    def mark_failed(self, claim: Claim, keys: Sequence[str], now: datetime, error: str) -> int:
        return self._fenced(
            claim, keys,
            "status = 'failed', last_error = {error}, next_attempt = NULL, updated_at = {now}",
            now=self._stamp(now), error=error,
        )

    def mark_skipped(self, claim: Claim, keys: Sequence[str], now: datetime, reason: str) -> int:
        return self._fenced(
            claim, keys,
            "status = 'skipped', last_error = {reason}, next_attempt = NULL, updated_at = {now},"
            f" {UNCLAIM_ASSIGNMENTS}",
            now=self._stamp(now), reason=reason,
        )

    def release(self, claim: Claim, keys: Sequence[str]) -> int:
        return self._fenced(claim, keys, RELEASE_ASSIGNMENTS)

    def skip(self, keys: Sequence[str], now: datetime, reason: str) -> int:
        if not keys:
            return 0
        return self._update(
            self._sql("UPDATE deliveries SET status = 'skipped', last_error = {reason},"
                      " next_attempt = NULL, updated_at = {now}"
                      f" WHERE {self.IN_KEYS} AND {OPEN_SQL}"),
            {"keys": self._keys(keys), "now": self._stamp(now), "reason": reason},
        )

    def open_keys(self) -> set[str]:
        rows = self._read(f"SELECT key FROM deliveries WHERE {OPEN_SQL}")
        return {row["key"] for row in rows}

    def claimable(self, now: datetime, limit: int = 1_000_000) -> list[Delivery]:
        """The claim's own selection (CLAIMABLE), without its lock and without writing;
        the columns as the claim returns them (attempts counted)."""
        columns = ", ".join(AS_CLAIMED.get(c, c) for c in COLUMNS)
        rows = self._read(
            self._sql(f"SELECT {columns} FROM deliveries WHERE key IN (" + self.CLAIMABLE + ")"),
            {"now": self._stamp(now), "limit": limit},
        )
        return sort_claimed([self._delivery(r) for r in rows])

    def lookup(self, keys: Sequence[str]) -> dict[str, Delivery]:
        rows = self._read(
            self._sql(f"SELECT {SELECT_COLUMNS} FROM deliveries WHERE {self.IN_KEYS}"),
            {"keys": self._keys(keys)},
        )
        return {row["key"]: self._delivery(row) for row in rows}

    def deliveries(self, status: Status | None = None, limit: int = 200) -> list[Delivery]:
        where = "" if status is None else "WHERE status = {status}"
        rows = self._read(
            self._sql(f"SELECT {SELECT_COLUMNS} FROM deliveries {where}"
                      " ORDER BY updated_at DESC, key LIMIT {limit}"),
            {"status": None if status is None else status.value, "limit": limit},
        )
        return [self._delivery(r) for r in rows]

    def counts(self) -> dict[Status, int]:
        rows = self._read("SELECT status, count(*) AS n FROM deliveries GROUP BY status")
        out = dict.fromkeys(Status, 0)
        out.update({Status(row["status"]): row["n"] for row in rows})
        return out

    def load_feed_items(self) -> dict[str, tuple[str, int, datetime]]:
        rows = self._read("SELECT key, hash, sequence, changed FROM feed_items")
        return {r["key"]: (r["hash"], r["sequence"], self._from_stamp(r["changed"]))
                for r in rows}
