"""SMTP faults through the daemon, from a scripted aiosmtpd relay.

- One daemon (SQLite) and a burst meeting, agency by agency: 421 and 451 bursts at MAIL FROM
  and at the end of DATA (retried, then accepted), 550 at the end of DATA and at RCPT TO
  (failed, listed by `reminderd outbox --status failed`), a disconnect after DATA with and
  without the relay keeping the message (uncertain, retried, the duplicate counted), and
  the relay down for a while mid-burst (retried, then delivered). Retries wait for their
  backoff (a minute or two): the daemon is restarted with its clock moved on.
- Two replicas (PostgreSQL) and a relay slower than the lease (3 s a message; lease 4 s,
  send timeout 2 s): every send times out (uncertain), nothing is taken over while its
  owner lives, and once the relay is fast again everything is delivered; duplicates (the
  relay had queued what it answered too late) are all among the uncertain.
- Two replicas and a relay taking 1.5 s a message (within the send timeout), batches that
  take longer than the lease: heartbeats keep the claims, so no duplicate at all.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from . import harness as h

N = 40


def _addr(i: int) -> str:
    return f"a{i}@burst.example"


def test_smtp_faults_421_451_550_disconnects_and_relay_down(
    tmp_path: Path, relay: h.ThreadedSmtpServer, replicas: h.ReplicaPool,
) -> None:
    handler = relay.handler
    handler.data_delay = 0.04
    # a000..a005: 421, 421, 421, 451, 451, 451 at MAIL FROM (the first six transactions)
    handler.mail_replies = ["421 4.3.2 shutting down, try later"] * 3 + \
        ["451 4.3.0 temporary local problem"] * 3
    handler.scripts = {
        _addr(6): ["451 4.3.0 greylisted", "451 4.3.0 greylisted"],  # twice, then accepted
        _addr(7): ["550 5.7.1 message rejected"],  # permanent, at the end of DATA
        _addr(9): ["drop-keep"],  # the relay queued it and hung up: a duplicate follows
        _addr(10): ["drop"],  # hung up, nothing queued
    }
    handler.refuse = {_addr(8): "550 5.1.1 no such mailbox"}  # every recipient refused
    plans = tmp_path / "plans.yaml"
    plans.write_text(h.burst_plans(N), encoding="utf-8")
    store = "sqlite:///faults.db"
    daemon = replicas("faults", plans=plans, smtp_port=relay.port, store=store)
    clock = h.VirtualClock(h.BURST_DUE - timedelta(seconds=3))
    daemon.start(clock)

    # Once the scripted agencies have had their first try, the relay goes down mid-burst
    # and comes back a few seconds later.
    assert h.wait_for(lambda: not handler.scripts[_addr(10)] and not handler.scripts[_addr(7)],
                    timeout=clock.until(h.BURST_DUE) + 15, step=0.02), daemon.output()[-3000:]
    relay.stop()
    down_at = h.store_counts(store, tmp_path)
    assert down_at.get("sent", 0) + down_at.get("failed", 0) < N - 5, down_at
    time.sleep(3)
    relay.start()
    assert h.wait_for(lambda: sum(h.store_counts(store, tmp_path).get(s, 0)
                                for s in ("sent", "retrying", "failed")) >= N, timeout=20)
    first = h.store_counts(store, tmp_path)
    assert first.get("retrying", 0) >= 11, first  # a000-a006, a009, a010 and the relay outage

    # Retries wait for their backoff: restart with the clock moved on, twice (a006 is
    # refused twice).
    for _ in range(2):
        assert daemon.stop() == 0, daemon.output()[-3000:]
        clock.jump(timedelta(minutes=5))
        daemon.start(clock)  # returns once its catch-up pass is done (then /healthz answers)
    done = h.wait_for(h.all_sent(store, N - 2, tmp_path), timeout=10)
    assert daemon.stop() == 0
    rows = h.read_deliveries(store, tmp_path)
    failed = {r.agency for r in rows if str(r.status) == "failed"}
    keys = {r.agency: r.key for r in rows if r.due <= h.BURST_DUE}
    ledger = h.make_ledger("smtp-faults", N, rows, handler.ids(),
                         expect_delivered=[k for a, k in keys.items() if a not in failed],
                         sent_when_relay_went_down=down_at.get("sent", 0))
    assert done, f"{ledger}\n{daemon.output()[-5000:]}"
    assert not ledger.problems(expect_sent=False), f"{ledger}\n{ledger.problems()}"
    assert ledger.statuses == {"sent": N - 2, "failed": 2}, ledger
    assert failed == {"a007", "a008"}, ledger
    by_agency = {r.agency: r for r in rows if r.due <= h.BURST_DUE}
    assert by_agency["a009"].uncertain and by_agency["a010"].uncertain
    assert handler.ids()[by_agency["a009"].message_id or ""] == 2  # counted, not hidden
    assert by_agency["a006"].attempts == 3 and not by_agency["a006"].uncertain
    assert all(by_agency[f"a{i:03d}"].attempts >= 2 for i in range(6))

    # `reminderd outbox --status failed` reports both 550s, with the relay's words.
    out = subprocess.run(
        [sys.executable, "-m", "reminderd.cli", "outbox", "--config", str(daemon.config),
         "--status", "failed"], capture_output=True, text=True, timeout=30, env=daemon.env)
    assert out.returncode == 0, out.stderr
    assert "2 delivery record(s) with status failed" in out.stdout, out.stdout
    assert "Cơ quan thử tải số 7" in out.stdout and "550 5.7.1 message rejected" in out.stdout
    assert "Cơ quan thử tải số 8" in out.stdout and "550 5.1.1 no such mailbox" in out.stdout


SLOW_N = 6


def test_relay_slower_than_the_lease_two_replicas(
    tmp_path: Path, relay: h.ThreadedSmtpServer, replicas: h.ReplicaPool,
    postgres_schema_url: str,
) -> None:
    """3 s a message against lease 4 s / send timeout 2 s: every send times out."""
    relay.handler.data_delay = 3.0
    plans = tmp_path / "plans.yaml"
    plans.write_text(h.burst_plans(SLOW_N), encoding="utf-8")
    clock = h.VirtualClock(h.BURST_DUE - timedelta(seconds=4))
    group = [replicas(f"slow{i}", plans=plans, smtp_port=relay.port, store=postgres_schema_url,
                      delivery={"claim_batch": 3}) for i in range(2)]
    for replica in group:
        replica.spawn(clock)
    for replica in group:
        replica.wait_ready()
    timed_out = h.wait_for(
        lambda: h.store_counts(postgres_schema_url).get("retrying", 0) == SLOW_N, timeout=25)
    rows = h.read_deliveries(postgres_schema_url)
    assert timed_out, [(r.agency, str(r.status), r.last_error) for r in rows]
    assert all(r.uncertain and r.attempts == 1 for r in rows if r.due <= h.BURST_DUE), \
        [(r.agency, r.attempts, r.uncertain) for r in rows]  # one attempt: no takeover

    relay.handler.data_delay = 0.02  # the relay recovers; the retries' backoff has passed
    for replica in group:
        assert replica.stop() == 0
    clock.jump(timedelta(minutes=5))
    for replica in group:
        replica.spawn(clock)
    for replica in group:
        replica.wait_ready()
    done = h.wait_for(h.all_sent(postgres_schema_url, SLOW_N), timeout=20)
    codes = [r.stop() for r in group]
    ledger = h.make_ledger("slow-relay-3s-two-replicas", SLOW_N,
                         h.read_deliveries(postgres_schema_url), relay.handler.ids())
    assert done and codes == [0, 0], f"{ledger}\n{group[0].output()[-3000:]}"
    assert not ledger.problems(), f"{ledger}\n{ledger.problems()}"
    assert ledger.uncertain == SLOW_N, ledger


def test_relay_within_the_send_timeout_two_replicas_no_duplicate(
    tmp_path: Path, relay: h.ThreadedSmtpServer, replicas: h.ReplicaPool,
    postgres_schema_url: str,
) -> None:
    """1.5 s a message; each replica's batch of 4 agencies takes 6 s, longer than the 4 s
    lease: heartbeats keep it, so no takeover, no uncertain row, no duplicate."""
    n = 10
    relay.handler.data_delay = 1.5
    plans = tmp_path / "plans.yaml"
    plans.write_text(h.burst_plans(n), encoding="utf-8")
    clock = h.VirtualClock(h.BURST_DUE - timedelta(seconds=4))
    group = [replicas(f"steady{i}", plans=plans, smtp_port=relay.port,
                      store=postgres_schema_url, delivery={"claim_batch": 5})
             for i in range(2)]
    for replica in group:
        replica.spawn(clock)
    for replica in group:
        replica.wait_ready()
    done = h.wait_for(h.all_sent(postgres_schema_url, n), timeout=30)
    codes = [r.stop() for r in group]
    rows = h.read_deliveries(postgres_schema_url)
    ledger = h.make_ledger("relay-1.5s-two-replicas", n, rows, relay.handler.ids())
    assert done and codes == [0, 0], f"{ledger}\n{group[0].output()[-3000:]}"
    assert not ledger.problems(), f"{ledger}\n{ledger.problems()}"
    assert ledger.duplicates == 0 and ledger.uncertain == 0, ledger
    assert all(r.attempts == 1 for r in rows if r.due <= h.BURST_DUE), \
        [(r.agency, r.attempts) for r in rows]
    senders = [r.name for r in group if "mail.sent agency=" in r.output()]
    assert len(senders) == 2, f"both replicas should have sent part of the burst: {senders}"
