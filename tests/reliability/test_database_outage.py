"""The database unreachable during a pass: a TCP proxy in the test stands between the daemon
and PostgreSQL (the real server is never touched) and is cut (every connection closed, new
ones refused) for a few seconds in the middle of a burst. While it is down the daemon keeps
serving the same /calendar.ics and /healthz answers 503 naming the store; once it is back,
everything is delivered (nothing lost, duplicates only among the uncertain) and /healthz
answers 200 again."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from . import harness as h

N = 80


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[h.TcpProxy]:
    target = urlsplit(postgres_url)
    server = h.TcpProxy(target.hostname or "127.0.0.1", target.port or 5432).start()
    yield server
    server.close()


def test_database_cut_mid_burst(
    tmp_path: Path, relay: h.ThreadedSmtpServer, replicas: h.ReplicaPool,
    postgres_schema_url: str, proxy: h.TcpProxy,
) -> None:
    relay.handler.data_delay = 0.05
    plans = tmp_path / "plans.yaml"
    plans.write_text(h.burst_plans(N), encoding="utf-8")
    daemon = replicas("db", plans=plans, smtp_port=relay.port,
                      store=proxy.url_for(postgres_schema_url))
    clock = h.VirtualClock(h.BURST_DUE - timedelta(seconds=3))
    daemon.start(clock)
    status, headers, calendar = daemon.get("/calendar.ics")
    assert status == 200 and daemon.get("/healthz")[0] == 200

    clock.sleep_until(h.BURST_DUE + timedelta(seconds=1.0))
    proxy.cut()
    cut_at = time.monotonic()
    sent_before = h.store_counts(postgres_schema_url).get("sent", 0)
    try:
        assert h.wait_for(lambda: daemon.get("/healthz")[0] == 503, timeout=5), \
            daemon.output()[-3000:]
        health = json.loads(daemon.get("/healthz")[2])
        assert any("store" in p for p in health["problems"]), health
        for _ in range(3):  # the feeds stay up, the same bytes
            got_status, got_headers, body = daemon.get("/calendar.ics")
            assert got_status == 200 and body == calendar
            assert got_headers["ETag"] == headers["ETag"]
            assert daemon.get("/healthz")[0] == 503
            time.sleep(0.5)
        time.sleep(max(0.0, 4.0 - (time.monotonic() - cut_at)))
    finally:
        proxy.restore()

    done = h.wait_for(h.all_sent(postgres_schema_url, N), timeout=30, step=0.2)
    healthy = h.wait_for(lambda: daemon.get("/healthz")[0] == 200, timeout=10)
    health_after = daemon.get("/healthz")[2].decode()
    assert daemon.get("/calendar.ics")[2] == calendar
    code = daemon.stop()
    ledger = h.make_ledger("database-cut", N, h.read_deliveries(postgres_schema_url),
                         relay.handler.ids(), sent_before_cut=sent_before, cut_seconds=4)
    assert done and code == 0, f"{ledger}\n{daemon.output()[-5000:]}"
    assert healthy, health_after
    assert not ledger.problems(), f"{ledger}\n{ledger.problems()}"
    assert sent_before < N, f"the cut came after the burst: {ledger}"


def test_feeds_stay_responsive_while_the_database_hangs(
    tmp_path: Path, relay: h.ThreadedSmtpServer, replicas: h.ReplicaPool,
    postgres_schema_url: str, proxy: h.TcpProxy,
) -> None:
    plans = tmp_path / "plans.yaml"
    plans.write_text(h.burst_plans(10), encoding="utf-8")
    daemon = replicas("hang", plans=plans, smtp_port=relay.port,
                      store=proxy.url_for(postgres_schema_url))
    daemon.start(h.VirtualClock(h.BURST_DUE - timedelta(hours=1)))
    proxy.cut(blackhole=True)
    worst = 0.0
    try:
        until = time.monotonic() + 7
        while time.monotonic() < until:
            started = time.monotonic()
            with contextlib.suppress(OSError):
                daemon.get("/calendar.ics", timeout=3)
            worst = max(worst, time.monotonic() - started)
            time.sleep(0.1)
    finally:
        proxy.restore()
    print(f"worst /calendar.ics latency while the database hung: {worst:.1f} s")
    assert worst < 1.0, f"/calendar.ics took up to {worst:.1f} s while the database hung"
