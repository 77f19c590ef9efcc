"""Soak: 10,000 reminders, two replicas on one PostgreSQL schema, 20 random kill -9.

The burst is 10,000 agencies with one task each (every lead's 1-working-day reminder due
at the same instant, Wed 10/6/2026 08:00 Asia/Ho_Chi_Minh; one message per reminder, each
with its own Message-ID), sent through a local aiosmtpd relay that queues a message when
its content ends and answers 20 ms later (``--data-delay``; a kill in that window leaves a
delivered message the sender never heard about: RFC 1047's worst case). Two `reminderd run`
replicas share a fresh schema; every few seconds one of them, at random, is killed with
SIGKILL and started again at once (its start-up catch-up pass is part of the burst); only
a replica that is up (serving HTTP, so past loading and in its passes) is chosen, so that
the kills land while it sends (``--any-time``: also during start-up). At the
end (everything sent, or the time cap) the replicas are stopped and the ledger printed:
reminders, delivered, lost, duplicates, uncertain, duplicates outside the uncertain set,
and the wall time. Exit status 1 if anything was lost or a duplicate is not among the
reminders the store marked uncertain (or the cap was reached), else 0.

    .venv/bin/python bench/soak.py                      # 10,000 reminders, 20 kills
    .venv/bin/python bench/soak.py --reminders 2000 --kills 5 --seed 7

PostgreSQL: REMINDERD_TEST_POSTGRES_URL or postgresql://postgres@127.0.0.1:5432/test; the
schema (reminderd_soak_<random>) is dropped at the end unless --keep-schema.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.harness import (  # noqa: E402
    BURST_DUE,
    FastRecorder,
    Replica,
    ThreadedSmtpServer,
    VirtualClock,
    burst_plans,
    make_ledger,
    read_deliveries,
    store_counts,
)

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _up(replica: Replica) -> bool:
    """Serving HTTP: loaded, and the catch-up pass (the burst, once due) has begun."""
    try:
        replica.get("/healthz", timeout=1)
    except OSError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=10_000, help="agencies (one each)")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--data-delay", type=float, default=0.02,
                        help="seconds the relay takes to answer each message (default 0.02)")
    parser.add_argument("--kill-gap", type=float, nargs=2, default=(2.0, 8.0),
                        metavar=("MIN", "MAX"), help="seconds between kills (default 2 8)")
    parser.add_argument("--any-time", action="store_true",
                        help="also kill replicas still starting up (by default only one that "
                        "serves HTTP, i.e. is past loading and in its passes, is chosen)")
    parser.add_argument("--lease", type=int, default=6)
    parser.add_argument("--send-timeout", type=int, default=3)
    parser.add_argument("--claim-batch", type=int, default=100)
    parser.add_argument("--time-cap", type=float, default=1200.0, help="seconds (default 1200)")
    parser.add_argument("--keep-schema", action="store_true")
    args = parser.parse_args()

    import psycopg
    from psycopg import sql

    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    base_url = os.environ.get("REMINDERD_TEST_POSTGRES_URL") or DEFAULT_URL
    schema = f"reminderd_soak_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(base_url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True), schema=schema)
    url = urlunsplit(parts._replace(query=urlencode(query)))
    n = args.reminders
    work = Path(tempfile.mkdtemp(prefix="reminderd-soak-"))
    plans = work / "plans.yaml"
    plans.write_text(burst_plans(n), encoding="utf-8")
    print(f"soak: {n} reminders ({n} agencies x 1 task), {args.replicas} replicas, "
          f"{args.kills} kills, seed {seed}, schema {schema}, logs in {work}", flush=True)

    started = time.monotonic()
    relay = ThreadedSmtpServer(FastRecorder()).start()
    handler = relay.handler
    assert isinstance(handler, FastRecorder)
    handler.data_delay = args.data_delay
    delivery = {"lease_seconds": args.lease, "send_timeout_seconds": args.send_timeout,
                "claim_batch": args.claim_batch}
    group = [Replica(work, f"r{i}", plans=plans, smtp_port=relay.port, store=url,
                     delivery=delivery) for i in range(args.replicas)]
    clock = VirtualClock(BURST_DUE - timedelta(seconds=30))  # start-up takes ~10 s
    born: dict[str, float] = {}
    kills: list[str] = []
    capped = False
    try:
        for replica in group:
            replica.spawn(clock)
            born[replica.name] = time.monotonic()
        for replica in group:
            replica.wait_ready(timeout=120)
        print(f"replicas ready {time.monotonic() - started:.1f} s after start; burst due in "
              f"{clock.until(BURST_DUE):.1f} s", flush=True)
        clock.sleep_until(BURST_DUE + timedelta(seconds=rng.uniform(1, 3)))

        deadline = started + args.time_cap
        for number in range(1, args.kills + 1):
            time.sleep(rng.uniform(*args.kill_gap))
            while not (ripe := [r for r in group if args.any_time or _up(r)]):
                time.sleep(0.2)
            victim = rng.choice(ripe)
            age = time.monotonic() - born[victim.name]
            victim.kill9()
            sent = store_counts(url).get("sent", 0)
            line = (f"kill {number:2d}: {victim.name} -9 after {age:5.1f} s alive, "
                    f"{sent} sent, t={time.monotonic() - started:6.1f} s")
            kills.append(line)
            print(line, flush=True)
            victim.spawn(clock)
            born[victim.name] = time.monotonic()
            if time.monotonic() > deadline:
                break

        while store_counts(url).get("sent", 0) < n:
            if time.monotonic() > deadline:
                capped = True
                break
            for replica in group:  # a replica that exited on its own is a finding, too
                if not replica.alive:
                    print(f"{replica.name} exited on its own; restarting it", flush=True)
                    replica.spawn(clock)
            time.sleep(1)
        codes = [replica.stop() for replica in group]
        rows = read_deliveries(url)
        wall = time.monotonic() - started
        ledger = make_ledger("soak", n, rows, handler.ids(), kills=len(kills),
                             seed=seed, wall_seconds=round(wall, 1))
    finally:
        for replica in group:
            replica.kill9()
        relay.stop()
        if not args.keep_schema:
            with psycopg.connect(base_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))

    sent = ledger.statuses.get("sent", 0)
    print()
    print(f"reminders:                     {ledger.reminders}")
    print(f"delivered (distinct, relay):   {ledger.delivered}")
    print(f"lost:                          {len(ledger.lost)}")
    print(f"messages accepted by relay:    {ledger.messages}")
    print(f"duplicates:                    {ledger.duplicates}")
    print(f"uncertain (store):             {ledger.uncertain}")
    print(f"duplicates outside uncertain:  {len(ledger.dup_outside_uncertain)}")
    print(f"sent in the store:             {sent}")
    print(f"kill -9:                       {len(kills)}")
    print(f"replica exit codes (SIGTERM):  {codes}")
    print(f"wall time:                     {wall:.1f} s" + (" (time cap reached)" if capped
                                                           else ""))
    problems = ledger.problems()
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems or capped or any(codes) else 0


if __name__ == "__main__":
    sys.exit(main())
