"""PostgreSQL delivery store (psycopg 3, sync): the store for replicas.

Claims are ``UPDATE … WHERE key IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING …`` in
one transaction, so concurrent replicas never take the same row; every mark is fenced by the
claim's token and ``status = 'sending'``. One connection per store object, shared by threads
behind a mutex (the daemon calls in from threads of its own, ``reminderd.server.offload``).
Connecting is lazy and a lost connection is reopened on the next call: a connection error becomes
StoreUnavailableError and the caller retries later; writes are never retried blindly here. A
connection idle for a while is checked with ``SELECT 1`` first, so a database restart between
passes costs no error. The schema comes from ``?schema=NAME`` (created by migrate) or from
``options=-csearch_path=NAME``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from reminderd.store.actions import ActionStore
from reminderd.store.base import (
    Planned,
    Status,
    StoreConfigError,
    StoreUnavailableError,
    check_not_newer,
    migrations,
    utc,
)
from reminderd.store.sqlbase import FEED_ITEMS_UPSERT

log = logging.getLogger("reminderd.store")

Connection = psycopg.Connection[dict[str, Any]]
PING_WHEN_IDLE_S = 5.0  # check a reused connection that has been idle longer than this
BATCH = 5_000  # rows per INSERT … SELECT FROM unnest(…)
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SEARCH_PATH = re.compile(r"-c\s*search_path=([^\s]+)")


def parse_url(url: str) -> tuple[str, str | None, str]:
    """``postgresql://…[?schema=NAME]`` -> (libpq conninfo, schema or None, display name)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for name, value in query if name == "schema"), None)
    rest = [(name, value) for name, value in query if name != "schema"]
    try:
        params: dict[str, Any] = conninfo_to_dict(
            urlunsplit(parts._replace(query=urlencode(rest)))
        )
    except psycopg.Error as exc:
        raise StoreConfigError(f"bad PostgreSQL URL: {exc}") from exc
    options = str(params.get("options") or "")
    if schema is not None:
        if not _SCHEMA.match(schema):
            raise StoreConfigError(
                f"schema {schema!r}: write lower-case letters, digits and _ (at most 63)"
            )
        options = f"{options} -csearch_path={schema}".strip()
    else:
        found = _SEARCH_PATH.search(options)
        first = found[1].split(",")[0] if found else ""
        schema = first if _SCHEMA.match(first) else None
    if options:
        params["options"] = options
    params.setdefault("connect_timeout", "5")
    params.setdefault("application_name", "reminderd")
    where = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}/{params.get('dbname')}"
    display = f"postgresql://{where}" + (f" schema {schema}" if schema else "")
    return make_conninfo("", **params), schema, display


class PostgresStore(ActionStore):
    PARAM = "%({})s"
    IN_KEYS = "key = ANY({keys})"
    # concurrent replicas never take the same row
    CLAIM_LOCK = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str) -> None:
        self.conninfo, self.schema, self.display = parse_url(url)
        self._conn: Connection | None = None
        self._mutex = threading.Lock()
        self._last_used = 0.0

    # -- plumbing -------------------------------------------------------------------------

    def _connection(self) -> Connection:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            if time.monotonic() - self._last_used <= PING_WHEN_IDLE_S:
                return conn
            try:
                conn.execute("SELECT 1")
                return conn
            except psycopg.Error:
                log.info("store.postgres.reconnect store=%s", self.display)
        self._drop()
        self._conn = psycopg.connect(self.conninfo, autocommit=True, row_factory=dict_row)
        return self._conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(psycopg.Error):
                conn.close()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        if self._atomic_owner == threading.get_ident() and self._conn is not None:
            yield self._conn  # inside atomic(): join its transaction
            return
        with self._mutex:
            try:
                conn = self._connection()
                with conn.transaction():
                    yield conn
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                self._drop()
                raise StoreUnavailableError(f"PostgreSQL store {self.display}: {exc}") from exc
            finally:
                self._last_used = time.monotonic()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        with self._tx():
            self._atomic_owner = threading.get_ident()
            try:
                yield
            finally:
                self._atomic_owner = None

    def _read(
        self, query: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        with self._tx() as conn:
            return conn.execute(query, params).fetchall()

    def _write_rows(self, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self._read(query, params)  # every statement runs in a transaction of its own

    def _update(self, query: str, params: Mapping[str, Any]) -> int:
        with self._tx() as conn:
            return conn.execute(query, params).rowcount

    @staticmethod
    def _keys(keys: Sequence[str]) -> list[str]:
        return list(keys)

    _stamp = staticmethod(utc)

    @staticmethod
    def _from_stamp(value: datetime) -> datetime:
        return value.astimezone(UTC)

    @staticmethod
    def _from_date(value: date) -> date:
        return value

    @staticmethod
    def _day(value: date) -> date:
        return value

    # -- DeliveryStore --------------------------------------------------------------------

    def migrate(self) -> None:
        steps = migrations("postgresql")
        with self._tx() as conn:
            # Replicas starting together: one migrates, the others wait and find it done.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                         (f"reminderd.migrate:{self.schema or 'public'}",))
            if self.schema:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(self.schema)))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY,"
                " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = {r["version"] for r in conn.execute("SELECT version FROM schema_version")}
            check_not_newer(applied, steps, self.display)
            for step in steps:
                if step.version in applied:
                    continue
                conn.execute(step.sql.encode("utf-8"))  # no parameters: several statements
                conn.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                             (step.version, step.name))
                log.info("store.migrated backend=postgresql version=%d name=%s", step.version,
                         step.name)

    def materialize(
        self, planned: Iterable[Planned], now: datetime, *, skipped_reason: str | None = None
    ) -> int:
        items = list(planned)
        status = Status.PENDING if skipped_reason is None else Status.SKIPPED
        inserted = 0
        with self._tx() as conn:
            for start in range(0, len(items), BATCH):
                part = items[start:start + BATCH]
                cur = conn.execute(
                    "INSERT INTO deliveries (key, agency, occurrence_key, occurrence_date, due,"
                    " kind, status, attempts, next_attempt, last_error, created_at, updated_at,"
                    " uncertain)"
                    " SELECT k, a, o, d, t, n, %(status)s, 0,"
                    "  CASE WHEN %(status)s = 'pending' THEN t END, %(reason)s, %(now)s, %(now)s,"
                    "  false"
                    " FROM unnest(%(keys)s::text[], %(agencies)s::text[], %(okeys)s::text[],"
                    "  %(dates)s::date[], %(dues)s::timestamptz[], %(kinds)s::text[])"
                    "  AS p(k, a, o, d, t, n)"
                    " ON CONFLICT (key) DO NOTHING",
                    {"now": utc(now), "status": status.value, "reason": skipped_reason,
                     "keys": [p.key for p in part],
                     "agencies": [p.agency for p in part],
                     "okeys": [p.occurrence_key for p in part],
                     "dates": [p.occurrence_date for p in part],
                     "dues": [utc(p.due) for p in part], "kinds": [p.kind for p in part]},
                )
                inserted += cur.rowcount
        return inserted

    def save_feed_items(self, rows: Mapping[str, tuple[str, int, datetime]]) -> None:
        if not rows:
            return
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO feed_items (key, hash, sequence, changed)"
                " SELECT * FROM unnest(%(keys)s::text[], %(hashes)s::text[],"
                "  %(sequences)s::integer[], %(changed)s::timestamptz[])"
                + FEED_ITEMS_UPSERT,
                {"keys": list(rows), "hashes": [h for h, _, _ in rows.values()],
                 "sequences": [s for _, s, _ in rows.values()],
                 "changed": [utc(c) for _, _, c in rows.values()]},
            )

    def ping(self) -> None:
        with self._tx() as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        with self._mutex:
            self._drop()

    def __repr__(self) -> str:
        return f"PostgresStore({self.display!r})"
