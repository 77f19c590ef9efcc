"""SQLite delivery store: one writer process, WAL, synchronous=FULL, explicit transactions.

A second writer process is refused up front (an exclusive ``flock`` on ``<db>.lock`` holding the
writer's pid) rather than left to fight over the file: replicas belong on PostgreSQL. Inside
the process, one connection is shared by every thread (the daemon calls the store from
threads of its own, ``reminderd.server.offload``) behind a mutex; every write is
``BEGIN IMMEDIATE … COMMIT``, so a claim is atomic even against another connection to the
same file (a ``lock=False`` reader, a test).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from reminderd.store.actions import ActionStore
from reminderd.store.base import (
    Planned,
    Status,
    StoreLockedError,
    StoreUnavailableError,
    check_not_newer,
    migrations,
    utc,
)
from reminderd.store.sqlbase import FEED_ITEMS_UPSERT, OPEN_SQL

log = logging.getLogger("reminderd.store")

BUSY_TIMEOUT_MS = 10_000
# Primary result codes that mean "the database cannot be used right now", not "a bug".
_UNAVAILABLE = {5: "busy", 6: "locked", 10: "I/O error", 13: "disk full", 14: "cannot open"}


def ts(value: datetime) -> str:
    """UTC ISO-8601 with fixed microseconds and +00:00: text order is time order."""
    return utc(value).isoformat(timespec="microseconds")


def from_ts(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


class SqliteStore(ActionStore):
    PARAM = ":{}"
    IN_KEYS = "key IN (SELECT value FROM json_each({keys}))"
    # `+status`: keeps SQLite from planning the fenced update on the (status, next_attempt)
    # index, which scanned every claimed row per mark (10 ms at 10k claimed); by primary key
    # it is 0.2 ms.
    SENDING = "+status = 'sending'"
    # Two index searches instead of one OR: the first reads agency and key from the
    # covering deliveries_claim index, with no row lookups (2.6 ms against 9-13 ms at
    # 10,000 due rows, measured here). PostgreSQL keeps the OR: FOR UPDATE cannot lock
    # rows of a UNION.
    CLAIMABLE = (
        "SELECT key FROM ("
        " SELECT agency, key FROM deliveries WHERE " + OPEN_SQL + " AND next_attempt <= {now}"
        " UNION ALL"
        " SELECT agency, key FROM deliveries WHERE status = 'sending' AND lease_until < {now})"
        " ORDER BY agency, key LIMIT {limit}"
    )

    def __init__(self, path: Path, *, lock: bool = True) -> None:
        self.path = path
        self._mutex = threading.Lock()
        self._lock_fd: int | None = None
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():  # private from the first byte (SQLite would make it 0644)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        if lock:
            self._lock_fd = _take_process_lock(path)
        try:
            with _mapped_errors(path):
                self._conn = sqlite3.connect(
                    path, isolation_level=None, check_same_thread=False,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                )
                self._conn.row_factory = sqlite3.Row
                self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                self._conn.execute("PRAGMA synchronous = FULL")
        except BaseException:
            self._unlock()
            raise
        if str(mode).lower() != "wal":
            log.warning("store.sqlite.no_wal path=%s journal_mode=%s", path, mode)

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self._atomic_owner == threading.get_ident():  # inside atomic(): join it
            yield self._conn
            return
        with self._mutex, _mapped_errors(self.path):
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _read(
        self, query: str, params: Mapping[str, Any] | None = None
    ) -> list[sqlite3.Row]:
        with self._mutex, _mapped_errors(self.path):
            return self._conn.execute(query, params or {}).fetchall()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        with self._write():
            self._atomic_owner = threading.get_ident()
            try:
                yield
            finally:
                self._atomic_owner = None

    def _write_rows(self, query: str, params: Mapping[str, Any]) -> list[sqlite3.Row]:
        with self._write() as conn:
            return conn.execute(query, params).fetchall()

    def _update(self, query: str, params: Mapping[str, Any]) -> int:
        with self._write() as conn:
            return conn.execute(query, params).rowcount

    @staticmethod
    def _keys(keys: Sequence[str]) -> str:
        return json.dumps(list(keys))

    _stamp = staticmethod(ts)
    _from_stamp = staticmethod(from_ts)

    @staticmethod
    def _from_date(value: str) -> date:
        return date.fromisoformat(value)

    # -- DeliveryStore --------------------------------------------------------------------

    def migrate(self) -> None:
        steps = migrations("sqlite")
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            applied = {row[0] for row in conn.execute("SELECT version FROM schema_version")}
            check_not_newer(applied, steps, str(self.path))
            for step in steps:
                if step.version in applied:
                    continue
                for statement in _statements(step.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (step.version, step.name, ts(datetime.now(UTC))),
                )
                log.info("store.migrated backend=sqlite version=%d name=%s", step.version,
                         step.name)

    def materialize(
        self, planned: Iterable[Planned], now: datetime, *, skipped_reason: str | None = None
    ) -> int:
        stamp = ts(now)
        skipped = skipped_reason is not None
        status = Status.SKIPPED if skipped else Status.PENDING
        planned = list(planned)
        # Every pass plans the same ~400 days: look the keys up (a read, by primary key)
        # and insert only the new ones, rather than re-inserting every row under the write
        # lock (0.4 s a pass at 40,000 rows, measured here). ON CONFLICT stays for a race.
        known: set[str] = set()
        for first in range(0, len(planned), 20_000):  # bounded JSON per query
            chunk = [p.key for p in planned[first:first + 20_000]]
            known.update(row["key"] for row in self._read(
                self._sql("SELECT key FROM deliveries WHERE " + self.IN_KEYS),
                {"keys": self._keys(chunk)}))
        rows = [
            (p.key, p.agency, p.occurrence_key, p.occurrence_date.isoformat(), ts(p.due),
             p.kind, status.value, None if skipped else ts(p.due), skipped_reason, stamp, stamp)
            for p in planned if p.key not in known
        ]
        if not rows:
            return 0
        with self._write() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT INTO deliveries (key, agency, occurrence_key, occurrence_date, due, kind,"
                " status, attempts, next_attempt, last_error, created_at, updated_at, uncertain)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, 0)"
                " ON CONFLICT (key) DO NOTHING",
                rows,
            )
            return conn.total_changes - before

    def save_feed_items(self, rows: Mapping[str, tuple[str, int, datetime]]) -> None:
        values = [(key, h, seq, ts(changed)) for key, (h, seq, changed) in rows.items()]
        if not values:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO feed_items (key, hash, sequence, changed) VALUES (?, ?, ?, ?)"
                + FEED_ITEMS_UPSERT,
                values,
            )

    def ping(self) -> None:
        self._read("SELECT count(*) FROM sqlite_master")

    def close(self) -> None:
        with self._mutex:
            self._conn.close()
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            fd, self._lock_fd = self._lock_fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"


def _take_process_lock(db: Path) -> int:
    """Exclusive flock on ``<db>.lock`` (per open file: a second open in the same process is
    refused too); the holder's pid is written into the file for the error message."""
    lock_path = db.with_name(db.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise StoreLockedError(
            f"another reminderd process (pid {holder}) is using {db}; "
            "stop it or use PostgreSQL for replicas"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


@contextmanager
def _mapped_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        reason = _UNAVAILABLE.get(code & 0xFF) if isinstance(code, int) else None
        if reason is None:
            raise
        raise StoreUnavailableError(f"SQLite store {path}: {reason}: {exc}") from exc


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (sqlite3.execute runs one at a time)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    rest = "\n".join(
        ln for ln in buffer.splitlines() if ln.strip() and not ln.strip().startswith("--")
    )
    if rest:
        raise ValueError(f"incomplete SQL statement at the end of a migration: {rest[:80]!r}")
