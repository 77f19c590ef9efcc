"""The delivery store contract: one suite, run against SQLite and PostgreSQL alike.

Every test taking ``store`` runs once per backend. The PostgreSQL runs skip with the reason
when no server is reachable, and fail instead under REMINDERD_REQUIRE_POSTGRES=1 (see
tests/conftest.py). Backend-specific behaviour (the SQLite process lock, PostgreSQL
reconnects) is tested at the end.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from reminderd.store import (
    Claim,
    DeliveryStore,
    Planned,
    Status,
    StoreConfigError,
    StoreLockedError,
    StoreUnavailableError,
    open_store,
    sqlite_path,
)

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
LEASE = timedelta(minutes=5)
SECOND = timedelta(seconds=1)


def key(n: int, agency: str = "so-tu-phap") -> str:
    return f"task/kh-34-2024/ii-{n}@2024-06-10|2024-06-10|lead-3wd|{agency}"


K1, K2, K3, K4, K5 = (key(n) for n in range(1, 6))


def planned(k: str, due: datetime = T0, agency: str = "so-tu-phap") -> Planned:
    return Planned(key=k, agency=agency, occurrence_key=k.split("|")[0],
                   occurrence_date=date(2024, 6, 10), due=due, kind="deadline")


def claim_one(store: DeliveryStore, k: str, now: datetime = T0, owner: str = "a") -> Claim:
    claim = store.claim_due(now, owner, LEASE)
    assert [d.key for d in claim.deliveries] == [k]
    return claim


def raw(url: str, query: str) -> list[tuple[Any, ...]]:
    """Plain SQL against the store's database, bypassing the store."""
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(sqlite_path(url))) as conn, conn:
            return conn.execute(query).fetchall()
    import psycopg

    from reminderd.store.postgres import parse_url

    with psycopg.connect(parse_url(url)[0], autocommit=True) as pg:
        cur = pg.execute(query.encode())
        return cur.fetchall() if cur.description else []


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'reminderd.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture
def open_more(store_url: str) -> Iterator[Callable[[], DeliveryStore]]:
    """More store objects on the same database (SQLite: without the process lock)."""
    opened: list[DeliveryStore] = []

    def factory() -> DeliveryStore:
        opened.append(open_store(store_url, lock=False))
        return opened[-1]

    yield factory
    for extra in opened:
        extra.close()


@pytest.fixture
def store(store_url: str) -> Iterator[DeliveryStore]:
    opened = open_store(store_url)
    opened.migrate()
    yield opened
    opened.close()


# -- migrations -------------------------------------------------------------------------------


def test_migrate_twice_is_a_no_op(store: DeliveryStore, store_url: str,
                                  open_more: Callable[[], DeliveryStore]) -> None:
    versions = raw(store_url, "SELECT version, name FROM schema_version ORDER BY version")
    assert versions == [(1, "deliveries"), (2, "feed_items"), (3, "inflight"),
                        (4, "claim_covering"), (5, "agency_actions")]
    store.materialize([planned(K1)], T0)
    store.migrate()
    open_more().migrate()
    assert raw(store_url, "SELECT version, name FROM schema_version ORDER BY version") == versions
    assert store.open_keys() == {K1}


def test_concurrent_first_migrations_agree(store_url: str,
                                           open_more: Callable[[], DeliveryStore]) -> None:
    stores = [open_more(), open_more(), open_more()]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stores))

    def migrate(s: DeliveryStore) -> None:
        try:
            barrier.wait()
            s.migrate()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert raw(store_url, "SELECT version FROM schema_version ORDER BY version") == [
        (1,), (2,), (3,), (4,), (5,)]


def test_a_schema_newer_than_the_code_is_refused(store: DeliveryStore, store_url: str) -> None:
    raw(store_url, "INSERT INTO schema_version (version, name, applied_at)"
                   " VALUES (99, 'x', '2030-01-01T00:00:00.000000+00:00')")
    with pytest.raises(StoreConfigError, match="newer than this reminderd"):
        store.migrate()


# -- materialise -----------------------------------------------------------------------------


def test_materialize_is_idempotent(store: DeliveryStore) -> None:
    rows = [planned(K1), planned(K2), planned(K1)]  # a duplicate inside one batch, too
    assert store.materialize(rows, T0) == 2
    assert store.materialize(rows, T0 + SECOND) == 0
    assert store.materialize([], T0) == 0
    assert store.counts()[Status.PENDING] == 2
    row = store.lookup([K1])[K1]
    assert (row.status, row.attempts, row.next_attempt, row.created_at) == (
        Status.PENDING, 0, T0, T0)
    assert (row.uncertain, row.owner, row.token, row.lease_until) == (False, None, None, None)


def test_materialize_never_touches_an_existing_row(store: DeliveryStore) -> None:
    store.materialize([planned(K1)], T0)
    claim = claim_one(store, K1)
    assert store.materialize([planned(K1, due=T0 + timedelta(days=1))], T0 + SECOND) == 0
    row = store.lookup([K1])[K1]
    assert (row.status, row.due, row.token) == (Status.SENDING, T0, claim.token)
    assert store.materialize([planned(K1)], T0, skipped_reason="past") == 0
    assert store.lookup([K1])[K1].status is Status.SENDING


def test_materialize_as_skipped_records_without_sending(store: DeliveryStore) -> None:
    reason = "already past when the item first appeared"
    assert store.materialize([planned(K1), planned(K2)], T0, skipped_reason=reason) == 2
    row = store.lookup([K1])[K1]
    assert (row.status, row.last_error, row.next_attempt) == (Status.SKIPPED, reason, None)
    assert store.claim_due(T0 + timedelta(days=9), "a", LEASE).deliveries == []
    assert store.open_keys() == set()


# -- claims ----------------------------------------------------------------------------------


def test_claim_takes_only_due_rows(store: DeliveryStore) -> None:
    store.materialize([planned(K1, T0 - timedelta(hours=1)), planned(K2, T0),
                       planned(K3, T0 + SECOND)], T0 - timedelta(days=1))
    claim = store.claim_due(T0, "replica-a", LEASE)
    assert [d.key for d in claim.deliveries] == [K1, K2]
    assert len(claim.token) == 32 and claim.owner == "replica-a"
    for row in claim.deliveries:
        assert (row.status, row.attempts, row.owner, row.token) == (
            Status.SENDING, 1, "replica-a", claim.token)
        assert (row.lease_until, row.updated_at, row.uncertain) == (T0 + LEASE, T0, False)
    assert store.claim_due(T0, "replica-a", LEASE).deliveries == []
    later = store.claim_due(T0 + SECOND, "replica-a", LEASE)
    assert [d.key for d in later.deliveries] == [K3]
    assert later.token != claim.token


def test_claim_limit_takes_whole_agencies_in_order(store: DeliveryStore) -> None:
    """Claims go by agency, so a batch holds each agency's due rows together (one digest)."""
    rows = [(name, key(n, agency=name)) for name in ("b", "a", "c") for n in range(2)]
    store.materialize([planned(k, T0 - timedelta(minutes=i), agency=name)
                       for i, (name, k) in enumerate(rows)], T0)
    first = store.claim_due(T0, "w", LEASE, limit=4)
    assert sorted(d.agency for d in first.deliveries) == ["a", "a", "b", "b"]
    assert [d.due for d in first.deliveries] == sorted(d.due for d in first.deliveries)
    assert {d.agency for d in store.claim_due(T0, "w", LEASE, limit=10).deliveries} == {"c"}


def test_concurrent_claimers_never_share_a_row(store: DeliveryStore,
                                               open_more: Callable[[], DeliveryStore]) -> None:
    keys = [key(n, agency=f"agency-{n % 7}") for n in range(200)]
    assert store.materialize([planned(k, T0 - timedelta(seconds=n % 13))
                              for n, k in enumerate(keys)], T0) == 200
    other = open_more()
    stores = [store, other, store, other]  # 4 threads on 2 store objects
    claims: list[list[Claim]] = [[] for _ in stores]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stores))

    def work(i: int) -> None:
        try:
            barrier.wait()
            while claim := stores[i].claim_due(T0, f"worker-{i}", LEASE, limit=7):
                if not claim.deliveries:
                    return
                claims[i].append(claim)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    taken = [d.key for per in claims for c in per for d in c.deliveries]
    assert len(taken) == len(set(taken)) == 200  # disjoint
    assert set(taken) == set(keys)  # and complete
    stored = store.lookup(keys)
    for per in claims:
        for c in per:
            for d in c.deliveries:
                assert (d.token, stored[d.key].token, stored[d.key].attempts) == (
                    c.token, c.token, 1)
    assert store.counts()[Status.SENDING] == 200


def test_expired_lease_is_taken_over_uncertain_and_fenced(
        store: DeliveryStore, open_more: Callable[[], DeliveryStore]) -> None:
    store.materialize([planned(K1)], T0)
    first = claim_one(store, K1, owner="replica-a")
    replica_b = open_more()
    assert replica_b.claim_due(T0 + LEASE, "replica-b", LEASE).deliveries == []  # not yet
    later = T0 + LEASE + SECOND
    second = replica_b.claim_due(later, "replica-b", LEASE)
    [row] = second.deliveries
    assert (row.uncertain, row.attempts, row.owner, row.token) == (
        False, 2, "replica-b", second.token)  # claimed, but its send had not begun
    assert second.token != first.token
    # The first owner wakes up: every fenced call changes nothing.
    assert store.heartbeat(first, later + LEASE) == 0
    assert store.mark_sent(first, [K1], later, "<a@x>", "a@x") == 0
    assert store.mark_retry(first, [K1], later, "421", later) == 0
    assert store.mark_uncertain(first, [K1], later, "lost", later) == 0
    assert store.mark_failed(first, [K1], later, "550") == 0
    assert store.mark_skipped(first, [K1], later, "gone") == 0
    assert store.release(first, [K1]) == 0
    assert replica_b.mark_sent(second, [K1], later, "<b@x>", "b@x") == 1
    final = store.lookup([K1])[K1]
    assert (final.status, final.message_id, final.recipients, final.sent_at) == (
        Status.SENT, "<b@x>", "b@x", later)
    assert (final.uncertain, final.attempts, final.lease_until) == (False, 2, None)


def test_takeover_of_a_send_in_flight_is_uncertain(
        store: DeliveryStore, open_more: Callable[[], DeliveryStore]) -> None:
    store.materialize([planned(K1), planned(K2)], T0)
    first = store.claim_due(T0, "replica-a", LEASE)
    assert store.mark_inflight(first, [K1]) == 1  # the SMTP transaction for K1 began
    later = T0 + LEASE + SECOND
    second = open_more().claim_due(later, "replica-b", LEASE)
    assert {d.key: d.uncertain for d in second.deliveries} == {K1: True, K2: False}
    assert store.mark_inflight(first, [K2]) == 0  # fenced like every other mark


def test_claimable_is_what_a_claim_takes_read_only(
        store: DeliveryStore, store_url: str, open_more: Callable[[], DeliveryStore]) -> None:
    """The dry run's question: the claim's own selection, without the lock or a write, and
    the rows as the claim returns them (attempts counted, a takeover in flight uncertain)."""
    store.materialize([planned(K1, T0 - SECOND), planned(K2), planned(K3, T0 + SECOND),
                       planned(K4, T0, agency="a")], T0 - timedelta(days=1))
    first = store.claim_due(T0, "replica-a", LEASE, limit=1)  # agency a: K4
    store.mark_inflight(first, [K4])
    before = raw(store_url, "SELECT key, status, attempts, updated_at, owner FROM deliveries"
                            " ORDER BY key")
    later = T0 + LEASE + SECOND  # K4's lease has run out: a claim would take it over
    seen = store.claimable(later)
    assert raw(store_url, "SELECT key, status, attempts, updated_at, owner FROM deliveries"
                          " ORDER BY key") == before  # nothing written
    claimed = open_more().claim_due(later, "replica-b", LEASE)
    keep = ("key", "agency", "due", "attempts", "uncertain")
    assert [{k: getattr(d, k) for k in keep} for d in seen] == [
        {k: getattr(d, k) for k in keep} for d in claimed.deliveries]
    assert {d.key: (d.attempts, d.uncertain) for d in seen} == {
        K1: (1, False), K2: (1, False), K3: (1, False), K4: (2, True)}
    assert store.claimable(later) == []  # all claimed now


def test_marks_clear_inflight(store: DeliveryStore) -> None:
    store.materialize([planned(K1)], T0)
    claim = claim_one(store, K1)
    store.mark_inflight(claim, [K1])
    store.mark_retry(claim, [K1], T0, "421", T0)
    again = store.claim_due(T0 + 2 * LEASE, "b", LEASE)
    assert [d.uncertain for d in again.deliveries] == [False]


def test_heartbeat_extends_the_lease(store: DeliveryStore) -> None:
    store.materialize([planned(K1)], T0)
    claim = claim_one(store, K1)
    assert store.heartbeat(claim, T0 + 3 * LEASE) == 1
    assert store.lookup([K1])[K1].lease_until == T0 + 3 * LEASE
    assert store.claim_due(T0 + 2 * LEASE, "b", LEASE).deliveries == []
    assert len(store.claim_due(T0 + 3 * LEASE + SECOND, "b", LEASE).deliveries) == 1


def test_a_late_mark_counts_while_nobody_took_over(store: DeliveryStore) -> None:
    store.materialize([planned(K1)], T0)
    claim = claim_one(store, K1)
    assert store.mark_sent(claim, [K1], T0 + 10 * LEASE, "<m@x>", "a@x") == 1
    assert store.mark_failed(claim, [K1], T0 + 10 * LEASE, "twice") == 0  # no longer sending


# -- marks -----------------------------------------------------------------------------------


def test_mark_retry_waits_for_next_attempt(store: DeliveryStore) -> None:
    store.materialize([planned(K1)], T0)
    claim = claim_one(store, K1)
    retry_at = T0 + timedelta(minutes=10)
    assert store.mark_retry(claim, [K1], T0 + SECOND, "451 try later", retry_at) == 1
    row = store.lookup([K1])[K1]
    assert (row.status, row.next_attempt, row.last_error, row.attempts) == (
        Status.RETRYING, retry_at, "451 try later", 1)
    assert (row.lease_until, row.uncertain, row.updated_at) == (None, False, T0 + SECOND)
    assert store.open_keys() == {K1}
    assert store.claim_due(retry_at - timedelta(microseconds=1), "a", LEASE).deliveries == []
    again = claim_one(store, K1, now=retry_at)
    assert (again.deliveries[0].attempts, again.deliveries[0].uncertain) == (2, False)


def test_mark_uncertain_retries_and_stays_uncertain(store: DeliveryStore) -> None:
    store.materialize([planned(K1)], T0)
    claim = claim_one(store, K1)
    retry_at = T0 + timedelta(minutes=2)
    assert store.mark_uncertain(claim, [K1], T0, "connection lost after DATA", retry_at) == 1
    row = store.lookup([K1])[K1]
    assert (row.status, row.uncertain, row.next_attempt, row.last_error) == (
        Status.RETRYING, True, retry_at, "connection lost after DATA")
    again = claim_one(store, K1, now=retry_at)
    store.mark_sent(again, [K1], retry_at, "<m@x>", "a@x")
    row = store.lookup([K1])[K1]
    assert (row.status, row.uncertain, row.attempts) == (Status.SENT, True, 2)


def test_mark_failed_is_final(store: DeliveryStore) -> None:
    store.materialize([planned(K1)], T0)
    claim = claim_one(store, K1)
    assert store.mark_failed(claim, [K1], T0 + SECOND, "550 no such user") == 1
    row = store.lookup([K1])[K1]
    assert (row.status, row.last_error, row.next_attempt, row.lease_until) == (
        Status.FAILED, "550 no such user", None, None)
    assert store.claim_due(T0 + timedelta(days=30), "a", LEASE).deliveries == []
    assert store.open_keys() == set()


def test_mark_skipped_is_fenced_and_gives_the_attempt_back(store: DeliveryStore) -> None:
    store.materialize([planned(K1), planned(K2)], T0)
    claim = store.claim_due(T0, "a", LEASE)
    stranger = Claim([], "a", "0" * 32)
    assert store.mark_skipped(stranger, [K1], T0, "no address") == 0
    assert store.mark_skipped(claim, [K1], T0 + SECOND, "no address") == 1
    row = store.lookup([K1])[K1]
    assert (row.status, row.last_error, row.attempts, row.owner) == (
        Status.SKIPPED, "no address", 0, None)


def test_marks_with_no_keys_change_nothing(store: DeliveryStore) -> None:
    store.materialize([planned(K1)], T0)
    claim = claim_one(store, K1)
    assert store.mark_sent(claim, [], T0, "<m@x>", "") == 0
    assert store.mark_retry(claim, [], T0, "e", T0) == 0
    assert store.mark_uncertain(claim, [], T0, "e", T0) == 0
    assert store.mark_failed(claim, [], T0, "e") == 0
    assert store.mark_skipped(claim, [], T0, "e") == 0
    assert store.release(claim, []) == 0
    assert store.skip([], T0, "e") == 0
    assert store.lookup([]) == {}
    assert store.lookup([K1, "unknown"]).keys() == {K1}


def test_skip_affects_only_open_rows(store: DeliveryStore) -> None:
    store.materialize([planned(k) for k in (K1, K2, K3, K4, K5)], T0)
    claim = store.claim_due(T0, "a", LEASE)
    store.mark_retry(claim, [K2], T0, "421", T0)
    store.mark_sent(claim, [K4], T0, "<m@x>", "a@x")
    store.mark_failed(claim, [K5], T0, "550")
    store.release(claim, [K1])
    # K1 pending, K2 retrying, K3 sending, K4 sent, K5 failed
    assert store.skip([K1, K2, K3, K4, K5, "unknown"], T0 + SECOND, "no longer planned") == 2
    rows = store.lookup([K1, K2, K3, K4, K5])
    assert {k: r.status for k, r in rows.items()} == {
        K1: Status.SKIPPED, K2: Status.SKIPPED, K3: Status.SENDING, K4: Status.SENT,
        K5: Status.FAILED}
    assert rows[K1].last_error == rows[K2].last_error == "no longer planned"
    assert rows[K1].next_attempt is None
    assert store.skip([K1], T0, "again") == 0


def test_release_gives_rows_back_as_they_were(store: DeliveryStore) -> None:
    store.materialize([planned(K1), planned(K2), planned(K3)], T0)
    first = store.claim_due(T0, "a", LEASE)
    store.mark_retry(first, [K2], T0, "421", T0 + SECOND)
    store.mark_sent(first, [K3], T0, "<m@x>", "a@x")
    assert store.release(first, [K1]) == 1
    assert store.lookup([K1])[K1].status is Status.PENDING
    second = store.claim_due(T0 + SECOND, "a", LEASE)
    assert [(d.key, d.attempts) for d in second.deliveries] == [(K1, 1), (K2, 2)]
    assert store.release(Claim([], "a", "0" * 32), [K1, K2]) == 0  # not that claim's rows
    assert store.release(second, [K1, K2, K3]) == 2  # K3 was sent: not this claim's to give
    rows = store.lookup([K1, K2])
    assert (rows[K1].status, rows[K1].attempts) == (Status.PENDING, 0)
    assert (rows[K2].status, rows[K2].attempts, rows[K2].next_attempt) == (
        Status.RETRYING, 1, T0 + SECOND)
    for row in rows.values():
        assert (row.owner, row.token, row.lease_until) == (None, None, None)
    assert len(store.claim_due(T0 + SECOND, "a", LEASE).deliveries) == 2  # claimable again


def test_release_after_a_takeover_stays_uncertain(store: DeliveryStore) -> None:
    store.materialize([planned(K1)], T0)
    dead = claim_one(store, K1, owner="dead")
    store.mark_inflight(dead, [K1])
    takeover = claim_one(store, K1, now=T0 + 2 * LEASE, owner="b")
    assert store.release(takeover, [K1]) == 1
    row = store.lookup([K1])[K1]
    assert (row.status, row.uncertain, row.attempts) == (Status.RETRYING, True, 1)


def test_release_of_a_send_in_flight_is_uncertain(store: DeliveryStore) -> None:
    store.materialize([planned(K1), planned(K2)], T0)
    claim = store.claim_due(T0, "a", LEASE)
    store.mark_inflight(claim, [K1])
    assert store.release(claim, [K1, K2]) == 2
    rows = store.lookup([K1, K2])
    assert (rows[K1].uncertain, rows[K2].uncertain) == (True, False)
    assert rows[K2].status is Status.PENDING


def test_feed_items_first_writer_wins(store: DeliveryStore,
                                      open_more: Callable[[], DeliveryStore]) -> None:
    """Two replicas that see the same change record one row, so their feeds agree."""
    store.save_feed_items({"a": ("h0", 0, T0)})
    store.save_feed_items({"a": ("h1", 1, T0 + SECOND)})  # replica A
    open_more().save_feed_items({"a": ("h1", 1, T0 + 2 * SECOND)})  # replica B, later
    assert store.load_feed_items() == {"a": ("h1", 1, T0 + SECOND)}
    store.save_feed_items({"a": ("h2", 1, T0 + 3 * SECOND)})  # stale sequence: refused
    assert store.load_feed_items() == {"a": ("h1", 1, T0 + SECOND)}
    store.save_feed_items({"a": ("h2", 2, T0 + 3 * SECOND)})
    assert store.load_feed_items() == {"a": ("h2", 2, T0 + 3 * SECOND)}


# -- agencies' actions, notices and operator alerts (issue 14) --------------------------------


def test_done_is_recorded_once_seen_by_every_replica_and_undone(
        store: DeliveryStore, open_more: Callable[[], DeliveryStore]) -> None:
    first = store.record_done("task/p/t", date(2024, 6, 10), "so-tu-phap", T0, "đã gửi")
    assert (first.agency, first.done_at, first.note) == ("so-tu-phap", T0, "đã gửi")
    again = open_more().record_done("task/p/t", date(2024, 6, 10), "so-khac", T0 + SECOND)
    assert again == first  # the first record stands
    other = open_more()
    assert other.completions() == {"task/p/t": first}
    assert other.completions(["task/p/t", "task/x"]) == {"task/p/t": first}
    assert other.completions(["task/x"]) == {}
    assert other.undo_done("task/p/t") and not store.undo_done("task/p/t")
    assert store.completions() == {}


def test_notices_are_taken_by_one_caller_once(store: DeliveryStore,
                                              open_more: Callable[[], DeliveryStore]) -> None:
    from reminderd.store.base import Notice
    a, b = Notice("change|k|1|2|x", "change", "x"), Notice("change|k|1|2|y", "change", "y")
    assert store.claim_notices([a, b], T0) == {a.key, b.key}
    assert open_more().claim_notices([a, b], T0) == set()
    assert store.finish_notices([a.key], T0, message_id="<m@x>") == 1
    assert store.finish_notices([b.key], T0, error="550 no") == 1
    assert store.notice_counts() == {("change", "sent"): 1, ("change", "failed"): 1}


def test_operator_alert_once_then_after_the_quiet_period(
        store: DeliveryStore, open_more: Callable[[], DeliveryStore]) -> None:
    quiet = timedelta(hours=24)
    assert store.alert_due("undelivered", T0, quiet)
    assert not open_more().alert_due("undelivered", T0 + timedelta(hours=1), quiet)
    assert store.alert_due("reload", T0 + timedelta(hours=1), quiet)  # another alert
    assert not store.alert_due("undelivered", T0 + timedelta(hours=23), quiet)
    assert open_more().alert_due("undelivered", T0 + timedelta(hours=24), quiet)


def test_undelivered_counts_due_rows_not_yet_sent(store: DeliveryStore) -> None:
    assert store.undelivered(T0) == (0, None)
    store.materialize([planned(K1, T0 - timedelta(hours=5)), planned(K2, T0 + SECOND)], T0)
    assert store.undelivered(T0) == (1, T0 - timedelta(hours=5))
    claim = claim_one(store, K1)
    store.mark_sent(claim, [K1], T0, "<m@x>", "a@x")
    assert store.undelivered(T0) == (0, None)


def test_atomic_groups_writes_and_rolls_back_together(store: DeliveryStore) -> None:
    store.materialize([planned(K1), planned(K2)], T0)
    claim = store.claim_due(T0, "a", LEASE)
    with store.atomic():
        assert store.mark_sent(claim, [K1], T0, "<m@x>", "a@x") == 1
        assert store.mark_inflight(claim, [K2]) == 1
    rows = store.lookup([K1, K2])
    assert rows[K1].status is Status.SENT and rows[K2].status is Status.SENDING
    with pytest.raises(RuntimeError), store.atomic():
        store.mark_failed(claim, [K2], T0, "550")
        raise RuntimeError("crash before the commit")
    assert store.lookup([K2])[K2].status is Status.SENDING  # rolled back


# -- reading ---------------------------------------------------------------------------------


def test_counts_and_open_keys(store: DeliveryStore) -> None:
    assert store.counts() == dict.fromkeys(Status, 0)
    store.materialize([planned(k) for k in (K1, K2, K3, K4)], T0)
    claim = store.claim_due(T0, "a", LEASE, limit=3)
    store.mark_sent(claim, [K1], T0, "<m@x>", "a@x")
    store.mark_retry(claim, [K2], T0, "421", T0 + LEASE)
    assert store.counts() == {**dict.fromkeys(Status, 0), Status.SENT: 1,
                              Status.RETRYING: 1, Status.SENDING: 1, Status.PENDING: 1}
    assert store.open_keys() == {K2, K4}


def test_deliveries_newest_first_with_status_filter(store: DeliveryStore) -> None:
    a, b, c, d = (key(n, agency=name) for n, name in enumerate("abcd"))
    store.materialize([planned(k) for k in (b, a, d, c)], T0)
    claim = store.claim_due(T0 + timedelta(minutes=1), "a", LEASE)
    store.mark_retry(claim, [b], T0 + timedelta(minutes=2), "421", T0 + LEASE)
    store.mark_failed(claim, [c], T0 + timedelta(minutes=2), "550")
    store.mark_sent(claim, [a], T0 + timedelta(minutes=3), "<m@x>", "a@x")
    assert [x.key for x in store.deliveries()] == [a, b, c, d]
    assert [x.key for x in store.deliveries(limit=2)] == [a, b]
    assert [x.key for x in store.deliveries(Status.FAILED)] == [c]
    assert [x.key for x in store.deliveries(Status.SENDING)] == [d]
    assert store.deliveries(Status.SKIPPED) == []


def test_feed_items_round_trip(store: DeliveryStore) -> None:
    assert store.load_feed_items() == {}
    store.save_feed_items({})
    first = {"task/a@2024-06-10": ("h1", 0, T0),
             "occasion/b@2024-09-02": ("h2", 3, datetime(2024, 6, 3, 8, 0, 0, 5, tzinfo=HANOI))}
    store.save_feed_items(first)
    assert store.load_feed_items() == first
    store.save_feed_items({"task/a@2024-06-10": ("h9", 1, T0 + SECOND)})
    loaded = store.load_feed_items()
    assert loaded == {**first, "task/a@2024-06-10": ("h9", 1, T0 + SECOND)}
    assert all(changed.utcoffset() == timedelta(0) for _, _, changed in loaded.values())


def test_timestamps_come_back_utc_aware_and_equal(store: DeliveryStore) -> None:
    due = datetime(2024, 6, 3, 8, 0, 0, 123456, tzinfo=HANOI)
    now = datetime(2024, 6, 1, 23, 59, 59, 999999, tzinfo=HANOI)
    store.materialize([planned(K1, due=due)], now)
    row = store.lookup([K1])[K1]
    assert (row.due, row.next_attempt, row.created_at, row.updated_at) == (due, due, now, now)
    assert row.occurrence_date == date(2024, 6, 10)
    claim = claim_one(store, K1, now=due)
    sent = claim.deliveries[0]
    assert sent.lease_until == due + LEASE
    for value in (row.due, row.created_at, sent.lease_until, sent.updated_at):
        assert value is not None and value.utcoffset() == timedelta(0)
    store.mark_sent(claim, [K1], due + SECOND, "<m@x>", "a@x")
    assert store.lookup([K1])[K1].sent_at == due + SECOND


def test_naive_datetimes_are_refused(store: DeliveryStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.materialize([planned(K1)], datetime(2024, 6, 3, 8, 0))
    with pytest.raises(ValueError, match="naive"):
        store.claim_due(datetime(2024, 6, 3, 8, 0), "a", LEASE)
    store.ping()


# -- SQLite only -----------------------------------------------------------------------------


def test_sqlite_one_writer_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    first = open_store(url)
    try:
        with pytest.raises(StoreLockedError) as caught:
            open_store(url)
        assert str(caught.value) == (
            f"another reminderd process (pid {__import__('os').getpid()}) is using "
            f"{tmp_path / 'r.db'}; stop it or use PostgreSQL for replicas")
        reader = open_store(url, lock=False)  # the outbox listing
        reader.close()
        script = ("import sys; from reminderd.store import open_store\n"
                  f"open_store({url!r})\n")
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode != 0
        assert "StoreLockedError: another reminderd process (pid" in proc.stderr
    finally:
        first.close()
    open_store(url).close()  # free again once closed


def test_sqlite_wal_and_full_sync(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        conn = store._conn  # type: ignore[attr-defined]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    finally:
        store.close()


def test_sqlite_urls(tmp_path: Path) -> None:
    assert sqlite_path("sqlite:///../var/r.db", tmp_path / "config") == tmp_path / "var" / "r.db"
    assert sqlite_path(f"sqlite:///{tmp_path}/r.db") == tmp_path / "r.db"
    store = open_store("sqlite:///var/reminderd.db", base_dir=tmp_path)
    store.close()
    assert (tmp_path / "var" / "reminderd.db").exists()
    assert (tmp_path / "var" / "reminderd.db.lock").exists()
    for bad in ("sqlite:///", "sqlite:///:memory:", "mysql://x/y", "reminderd.db"):
        with pytest.raises(StoreConfigError):
            open_store(bad, base_dir=tmp_path)


def test_psycopg_stays_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, reminderd.store, reminderd.store.sqlite; "
                               "assert 'psycopg' not in sys.modules"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "reminderd.store.postgres", raising=False)
    with pytest.raises(StoreConfigError, match=r"install reminderd\[postgres\]"):
        open_store("postgresql://postgres@127.0.0.1:5432/test")


# -- PostgreSQL only -------------------------------------------------------------------------


def test_postgres_unreachable_is_unavailable_quickly() -> None:
    pytest.importorskip("psycopg")
    store = open_store("postgresql://postgres@127.0.0.1:1/test?connect_timeout=2&schema=nowhere")
    started = time.monotonic()
    try:
        with pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1:1/test"):
            store.ping()
        with pytest.raises(StoreUnavailableError):
            store.claim_due(T0, "a", LEASE)
    finally:
        store.close()
    assert time.monotonic() - started < 5


def _kill_backends(postgres_url: str, application_name: str) -> int:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE application_name = %s", (application_name,)).fetchall()
    return len(rows)


def test_postgres_reconnects_after_losing_its_connection(
        postgres_url: str, postgres_schema_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import reminderd.store.postgres as pg

    name = f"reminderd-test-{id(monkeypatch)}"
    store = open_store(f"{postgres_schema_url}&application_name={name}")
    try:
        store.migrate()
        store.materialize([planned(K1)], T0)
        assert _kill_backends(postgres_url, name) == 1
        with pytest.raises(StoreUnavailableError):  # a fresh loss shows, and is not retried
            store.open_keys()
        assert store.open_keys() == {K1}  # the next call reconnects
        monkeypatch.setattr(pg, "PING_WHEN_IDLE_S", 0.0)
        assert _kill_backends(postgres_url, name) == 1
        assert store.open_keys() == {K1}  # an idle connection is checked first: no error
    finally:
        store.close()


def test_postgres_schema_parameter(postgres_schema_url: str) -> None:
    from reminderd.store.postgres import parse_url

    schema = parse_url(postgres_schema_url)[1]
    store = open_store(postgres_schema_url)
    try:
        store.migrate()
    finally:
        store.close()
    tables = raw(postgres_schema_url, "SELECT table_name FROM information_schema.tables"
                 f" WHERE table_schema = '{schema}' ORDER BY table_name")
    assert tables == [("completions",), ("deliveries",), ("feed_items",), ("notices",),
                      ("operator_alerts",), ("schema_version",)]
    with pytest.raises(StoreConfigError, match="schema"):
        open_store("postgresql://h/db?schema=Bad-Name")
    assert parse_url("postgresql://u@h/db?options=-csearch_path%3Dmine")[1] == "mine"
