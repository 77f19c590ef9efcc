"""Two and three replicas on one PostgreSQL schema share a burst; one is killed (-9)
mid-burst. Nothing may be lost, and a message may reach the relay twice only for a reminder
the store marked uncertain. The replicas serve the same feeds: same bytes, same ETag, and
the same per-agency token links."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from pathlib import Path

import pytest

from reminderd.feeds.tokens import FeedTokens

from . import harness as h

N = 120


@pytest.mark.parametrize("count", [2, 3])
def test_replicas_share_a_burst_and_one_dies(
    count: int, tmp_path: Path, relay: h.ThreadedSmtpServer,
    replicas: h.ReplicaPool, postgres_schema_url: str, seed: int,
) -> None:
    rng = random.Random(seed)
    relay.handler.data_delay = 0.08
    plans = tmp_path / "plans.yaml"
    plans.write_text(h.burst_plans(N), encoding="utf-8")
    clock = h.VirtualClock(h.BURST_DUE - timedelta(seconds=5))
    group = [replicas(f"r{i}", plans=plans, smtp_port=relay.port, store=postgres_schema_url)
             for i in range(count)]
    for replica in group:
        replica.spawn(clock)
    for replica in group:
        replica.wait_ready()
    assert clock.until(h.BURST_DUE) > 0.5, "the replicas started too slowly for the scenario"

    # Same feed bytes and ETag everywhere; every agency link works on every replica.
    feeds = [r.get("/calendar.ics") for r in group]
    assert all(status == 200 for status, _, _ in feeds)
    assert len({body for _, _, body in feeds}) == 1, "the replicas serve different calendars"
    assert len({headers["ETag"] for _, headers, _ in feeds}) == 1
    tokens = FeedTokens(h.SECRET.encode(), [f"a{i:03d}" for i in range(N)])
    for agency in ("a000", f"a{N - 1:03d}", f"a{rng.randrange(N):03d}"):
        answers = [r.get(f"/feeds/{tokens.token(agency)}.ics") for r in group]
        assert [status for status, _, _ in answers] == [200] * count, agency
        assert len({body for _, _, body in answers}) == 1, agency
        assert len({headers["ETag"] for _, headers, _ in answers}) == 1, agency
        assert f"Báo cáo thử tải số {int(agency[1:])}-0".encode() in answers[0][2]

    # Kill one replica mid-burst.
    kill_at = rng.uniform(0.3, 1.2)
    clock.sleep_until(h.BURST_DUE + timedelta(seconds=kill_at))
    victim = rng.choice(group)
    victim.kill9()
    sent_at_kill = h.store_counts(postgres_schema_url).get("sent", 0)
    survivors = [r for r in group if r is not victim]
    t0 = time.monotonic()
    done = h.wait_for(h.all_sent(postgres_schema_url, N), timeout=45, step=0.25)
    t1 = time.monotonic()
    statuses = [r.stop() for r in survivors]
    print(f"all sent after {t1 - t0:.1f} s; stopped after {time.monotonic() - t1:.1f} s")
    ledger = h.make_ledger(f"replicas-{count}-one-killed", N,
                         h.read_deliveries(postgres_schema_url), relay.handler.ids(), seed=seed,
                         killed=f"{victim.name}@+{kill_at:.2f}s", sent_at_kill=sent_at_kill)
    logs = "\n".join(r.output()[-3000:] for r in group)
    assert done, f"{ledger}\n{logs}"
    assert statuses == [0] * len(survivors), f"{ledger}\n{logs}"
    assert not ledger.problems(), f"{ledger}\n{ledger.problems()}"
    assert sent_at_kill < N, f"the kill came after the burst: {ledger}"
