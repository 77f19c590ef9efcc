"""A daemon restarted into a burst (its start-up catch-up pass has a long backlog) serves its
feeds while it catches up, and SIGTERM in the middle of that pass is a clean stop: exit 0
within seconds, the message on the wire finished and recorded, the rest given back (nothing
left uncertain), and the next start delivers the remainder."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from . import harness as h

N = 60


def test_sigterm_during_the_catch_up_pass_is_a_clean_stop(
    tmp_path: Path, relay: h.ThreadedSmtpServer, replicas: h.ReplicaPool,
) -> None:
    relay.handler.data_delay = 0.1  # ~6 s of sending
    plans = tmp_path / "plans.yaml"
    plans.write_text(h.burst_plans(N), encoding="utf-8")
    store = "sqlite:///life.db"
    daemon = replicas("life", plans=plans, smtp_port=relay.port, store=store)
    clock = h.VirtualClock(h.BURST_DUE + timedelta(seconds=2))  # the burst is already due
    daemon.spawn(clock)
    # The feeds are served while the catch-up pass works through the backlog.
    assert h.wait_for(lambda: h.store_counts(store, tmp_path).get("sent", 0) >= 5, timeout=20), \
        daemon.output()[-3000:]
    feed_status = _status(daemon, "/calendar.ics")
    serving_at = h.store_counts(store, tmp_path).get("sent", 0)
    stopping = time.monotonic()
    code = daemon.stop(timeout=30)  # one SIGTERM (a second one would force the exit)
    stop_seconds = time.monotonic() - stopping
    stopped_at = h.store_counts(store, tmp_path)
    assert code == 0, f"exit {code}\n{daemon.output()[-3000:]}"
    assert stop_seconds < 5, f"the stop took {stop_seconds:.1f} s"
    assert stopped_at.get("sending", 0) == 0, stopped_at  # everything given back or marked
    assert stopped_at.get("sent", 0) < N, f"the SIGTERM came after the burst: {stopped_at}"
    assert feed_status == 200, f"/calendar.ics during the catch-up pass: {feed_status}"

    daemon.start(clock)
    done = h.wait_for(h.all_sent(store, N, tmp_path), timeout=30)
    assert daemon.stop() == 0
    ledger = h.make_ledger("sigterm-in-catch-up", N, h.read_deliveries(store, tmp_path),
                         relay.handler.ids(), served_when_sent=serving_at,
                         sent_at_sigterm=stopped_at.get("sent", 0),
                         stop_seconds=round(stop_seconds, 2))
    assert done, f"{ledger}\n{daemon.output()[-3000:]}"
    assert not ledger.problems(), f"{ledger}\n{ledger.problems()}"
    assert ledger.uncertain == 0 and ledger.duplicates == 0, ledger


def _status(daemon: object, path: str) -> int | None:
    try:
        return daemon.get(path, timeout=2)[0]  # type: ignore[attr-defined,no-any-return]
    except OSError:
        return None
