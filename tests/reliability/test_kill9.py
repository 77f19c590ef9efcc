"""kill -9 of a single daemon (SQLite store) at random points during a burst, several times
(some kills land in the start-up catch-up pass of the restarted daemon), then a clean
restart: every reminder is delivered, and a Message-ID seen twice at the relay belongs to
a reminder the store marked uncertain."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from pathlib import Path

from . import harness as h

N = 100
KILLS = 4


def test_kill_9_mid_burst_repeatedly_then_clean_restart(
    tmp_path: Path, relay: h.ThreadedSmtpServer, replicas: h.ReplicaPool, seed: int,
) -> None:
    rng = random.Random(seed)
    relay.handler.data_delay = 0.04  # ~5 s of sending: the kills land mid-burst
    plans = tmp_path / "plans.yaml"
    plans.write_text(h.burst_plans(N), encoding="utf-8")
    store = "sqlite:///solo.db"
    daemon = replicas("solo", plans=plans, smtp_port=relay.port, store=store)
    clock = h.VirtualClock(h.BURST_DUE - timedelta(seconds=3))
    daemon.start(clock)
    assert clock.until(h.BURST_DUE) > 0.3, "the daemon started too slowly for the scenario"

    clock.sleep_until(h.BURST_DUE + timedelta(seconds=rng.uniform(0.3, 1.0)))
    at_kill: list[str] = []
    for number in range(KILLS):
        daemon.kill9()
        sent = h.store_counts(store, tmp_path).get("sent", 0)
        at_kill.append(f"{sent}")
        if number < KILLS - 1:
            daemon.spawn(clock)  # no wait: the next kill may land in the catch-up pass
            time.sleep(rng.uniform(0.7, 1.6))

    daemon.start(clock)  # the clean restart
    done = h.wait_for(h.all_sent(store, N, tmp_path), timeout=40, step=0.2)
    code = daemon.stop()
    ledger = h.make_ledger("kill9-sqlite", N, h.read_deliveries(store, tmp_path),
                         relay.handler.ids(), seed=seed, kills=daemon.kills,
                         sent_at_kills="/".join(at_kill))
    assert done and code == 0, f"{ledger}\n{daemon.output()[-5000:]}"
    assert not ledger.problems(), f"{ledger}\n{ledger.problems()}"
    assert any(int(n) < N for n in at_kill), f"no kill landed mid-burst: {ledger}"
