"""PostgreSQL delivery store (psycopg 3, sync): the store for replicas.

Claims are ``UPDATE … WHERE key IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING …`` in
one transaction, so concurrent replicas never take the same row; every mark is fenced by the
claim's token and ``status = 'sending'``. One connection per store object, shared by threads
behind a mutex (the daemon calls in through ``asyncio.to_thread``). Connecting is lazy and a
lost connection is reopened on the next call: a connection error becomes
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
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from reminderd.store.base import (
    CLAIM_ASSIGNMENTS,
    OPEN,
    RELEASE_ASSIGNMENTS,
    SELECT_COLUMNS,
    UNCLAIM_ASSIGNMENTS,
    Claim,
    Delivery,
    Planned,
    Status,
    StoreConfigError,
    StoreUnavailableError,
    check_not_newer,
    delivery_from_row,
    migrations,
    sort_claimed,
    utc,
)

log = logging.getLogger("reminderd.store")

Connection = psycopg.Connection[dict[str, Any]]
PING_WHEN_IDLE_S = 5.0  # check a reused connection that has been idle longer than this
BATCH = 5_000  # rows per INSERT … SELECT FROM unnest(…)
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SEARCH_PATH = re.compile(r"-c\s*search_path=([^\s]+)")
_FENCE = "key = ANY(%(keys)s) AND token = %(token)s AND status = 'sending'"


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


class PostgresStore:
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

    def _rows(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self._tx() as conn:
            return conn.execute(query, params).fetchall()

    def _update(self, query: str, params: Mapping[str, Any]) -> int:
        with self._tx() as conn:
            return conn.execute(query, params).rowcount

    def _fenced(self, claim: Claim, keys: Sequence[str], sets: str, **params: Any) -> int:
        if not keys:
            return 0
        query = f"UPDATE deliveries SET {sets}, lease_until = NULL, inflight = 0 WHERE {_FENCE}"
        return self._update(query, {**params, "keys": list(keys), "token": claim.token})

    @staticmethod
    def _delivery(row: Mapping[str, Any]) -> Delivery:
        return delivery_from_row(row, lambda v: v.astimezone(UTC), lambda v: v)

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

    def claim_due(
        self, now: datetime, owner: str, lease: timedelta, limit: int = 10_000
    ) -> Claim:
        token = uuid.uuid4().hex
        rows = self._rows(
            f"UPDATE deliveries SET {CLAIM_ASSIGNMENTS}, owner = %(owner)s, token = %(token)s,"
            "  lease_until = %(lease_until)s, updated_at = %(now)s"
            " WHERE key IN (SELECT key FROM deliveries"
            "  WHERE (status IN ('pending', 'retrying') AND next_attempt <= %(now)s)"
            "     OR (status = 'sending' AND lease_until < %(now)s)"
            "  ORDER BY agency, key LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
            f" RETURNING {SELECT_COLUMNS}",
            {"now": utc(now), "owner": owner, "token": token,
             "lease_until": utc(now + lease), "limit": limit},
        )
        return Claim(sort_claimed([self._delivery(r) for r in rows]), owner, token)

    def heartbeat(self, claim: Claim, lease_until: datetime) -> int:
        return self._update(
            "UPDATE deliveries SET lease_until = %(lease_until)s"
            " WHERE owner = %(owner)s AND token = %(token)s AND status = 'sending'",
            {"lease_until": utc(lease_until), "owner": claim.owner, "token": claim.token},
        )

    def mark_inflight(self, claim: Claim, keys: Sequence[str]) -> int:
        if not keys:
            return 0
        return self._update(f"UPDATE deliveries SET inflight = 1 WHERE {_FENCE}",
                            {"keys": list(keys), "token": claim.token})

    def mark_sent(
        self, claim: Claim, keys: Sequence[str], now: datetime, message_id: str, recipients: str
    ) -> int:
        return self._fenced(
            claim, keys,
            "status = 'sent', sent_at = %(now)s, updated_at = %(now)s, next_attempt = NULL,"
            " message_id = %(message_id)s, recipients = %(recipients)s",
            now=utc(now), message_id=message_id, recipients=recipients,
        )

    def mark_uncertain(
        self, claim: Claim, keys: Sequence[str], now: datetime, error: str,
        next_attempt: datetime,
    ) -> int:
        return self._fenced(
            claim, keys,
            "status = 'retrying', uncertain = true, last_error = %(error)s,"
            " next_attempt = %(next_attempt)s, updated_at = %(now)s",
            now=utc(now), error=error, next_attempt=utc(next_attempt),
        )

    def mark_retry(
        self, claim: Claim, keys: Sequence[str], now: datetime, error: str,
        next_attempt: datetime,
    ) -> int:
        return self._fenced(
            claim, keys,
            "status = 'retrying', last_error = %(error)s, next_attempt = %(next_attempt)s,"
            " updated_at = %(now)s",
            now=utc(now), error=error, next_attempt=utc(next_attempt),
        )

    def mark_failed(self, claim: Claim, keys: Sequence[str], now: datetime, error: str) -> int:
        return self._fenced(
            claim, keys,
            "status = 'failed', last_error = %(error)s, next_attempt = NULL, updated_at = %(now)s",
            now=utc(now), error=error,
        )

    def mark_skipped(self, claim: Claim, keys: Sequence[str], now: datetime, reason: str) -> int:
        return self._fenced(
            claim, keys,
            "status = 'skipped', last_error = %(reason)s, next_attempt = NULL,"
            f" updated_at = %(now)s, {UNCLAIM_ASSIGNMENTS}",
            now=utc(now), reason=reason,
        )

    def release(self, claim: Claim, keys: Sequence[str]) -> int:
        return self._fenced(
            claim, keys, RELEASE_ASSIGNMENTS
        )

    def skip(self, keys: Sequence[str], now: datetime, reason: str) -> int:
        if not keys:
            return 0
        return self._update(
            "UPDATE deliveries SET status = 'skipped', last_error = %(reason)s,"
            " next_attempt = NULL, updated_at = %(now)s"
            " WHERE key = ANY(%(keys)s) AND status IN ('pending', 'retrying')",
            {"keys": list(keys), "now": utc(now), "reason": reason},
        )

    def open_keys(self) -> set[str]:
        rows = self._rows("SELECT key FROM deliveries WHERE status = ANY(%(open)s)",
                          {"open": [s.value for s in OPEN]})
        return {row["key"] for row in rows}

    def lookup(self, keys: Sequence[str]) -> dict[str, Delivery]:
        rows = self._rows(f"SELECT {SELECT_COLUMNS} FROM deliveries WHERE key = ANY(%(keys)s)",
                          {"keys": list(keys)})
        return {row["key"]: self._delivery(row) for row in rows}

    def deliveries(self, status: Status | None = None, limit: int = 200) -> list[Delivery]:
        where = "" if status is None else "WHERE status = %(status)s"
        rows = self._rows(
            f"SELECT {SELECT_COLUMNS} FROM deliveries {where}"
            " ORDER BY updated_at DESC, key LIMIT %(limit)s",
            {"status": None if status is None else status.value, "limit": limit},
        )
        return [self._delivery(r) for r in rows]

    def counts(self) -> dict[Status, int]:
        rows = self._rows("SELECT status, count(*) AS n FROM deliveries GROUP BY status")
        out = dict.fromkeys(Status, 0)
        out.update({Status(row["status"]): row["n"] for row in rows})
        return out

    def load_feed_items(self) -> dict[str, tuple[str, int, datetime]]:
        rows = self._rows("SELECT key, hash, sequence, changed FROM feed_items")
        return {r["key"]: (r["hash"], r["sequence"], r["changed"].astimezone(UTC)) for r in rows}

    def save_feed_items(self, rows: Mapping[str, tuple[str, int, datetime]]) -> None:
        if not rows:
            return
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO feed_items (key, hash, sequence, changed)"
                " SELECT * FROM unnest(%(keys)s::text[], %(hashes)s::text[],"
                "  %(sequences)s::integer[], %(changed)s::timestamptz[])"
                " ON CONFLICT (key) DO UPDATE SET hash = excluded.hash,"
                " sequence = excluded.sequence, changed = excluded.changed"
                # first writer wins: replicas that saw the same change agree on its row
                " WHERE feed_items.hash <> excluded.hash"
                " AND excluded.sequence > feed_items.sequence",
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
