"""Send-pass throughput: the full pass beside a bare aiosmtplib loop, to the same local sink.

    .venv/bin/python bench/bench_mail.py [--agencies 10000] [--rounds 2] [--profile FILE]

Setup (not timed): a plans file with N agencies, each the lead of one task whose only
reminder (``remind: [0]``) is due on Wed 15/10/2025 08:00, so one pass sends N reminders as
N messages (one message per agency per pass: the digest for an agency with one item). A
counting aiosmtpd sink runs in a subprocess on 127.0.0.1 (its own interpreter, so it does
not share the GIL with the sender); its handler only counts.

Timed, in the same run, each on a fresh store and a fresh sink count:

- bare:   one aiosmtplib connection, ``sendmail`` of N pre-built messages (the very bytes
          the pass sends: same renderer, same ``build_message``), one after the other;
- pass:   ``run_pass`` at the due instant, rows already materialised by the day-before
          pass as the daemon would have done (plan, materialise-no-op, claim, render,
          attach the .ics, send over one connection, mark each in the store);
- cold:   ``run_pass`` on an empty store (the first pass also materialises the
          4N rows of the next 400 days: the step, the overdue and the two escalations).

It prints messages/s (= reminders/s here) for each and the ratio pass/bare. Target
(issue 4): pass >= 50% of bare. ``--profile FILE`` also writes a cProfile of one pass.
Machines here are shared and noisy: compare the ratio, not the seconds.

Where the time goes (10,000 messages, per message, measured here with timers around the
pass's steps): the SMTP exchange ~1,250 us (the bare loop's whole cost), rendering and
building the digest ~300-500 us (Jinja ~155, MIME ~75, the .ics ~55), the durable commit
(the last outcome + this message's in-flight mark, synchronous=FULL) ~160 us of SQL and
~320 us of fsync, and ~150 us of the pass's share of planning, materialising and claiming.
What was cut: SQLite once planned the fenced marks on the status index (O(n) a mark; now
``+status``), ``email.header.Header`` (61 us; now ``encoded_words``), regex rewrites of
every DATA payload (~50 us; now only when needed), address parsing (cached), a task per
``wait_for``, re-inserting every planned row each pass (0.4 s at 40,000 rows; now new keys
only), replanning every pass of a day (cached per day), the claim's row lookups (a
covering index). What did not help, measured: committing in a thread while the next
digest renders, or rendering ahead in a thread: slower (GIL hand-offs cost more than the
~320 us fsync they would hide).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import pstats
import random
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosmtplib

from reminderd.mail.message import build_message, message_id_for
from reminderd.mail.setup import build_mailer
from reminderd.mail.view import Digest
from reminderd.sendpass import PassReport, current_reminders, run_pass
from reminderd.store import DeliveryStore, open_store
from reminderd.workspace import Workspace, load_workspace

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DUE = datetime(2025, 10, 15, 8, 0, tzinfo=ZONE)
SENDER = "Sở Ngoại vụ <lich@songoaivu.example>"


# --- the sink (a subprocess) ---------------------------------------------------------------

def _sink_main(port_out: Any, count: Synchronized[int]) -> None:
    from aiosmtpd.smtp import SMTP, Envelope, Session

    class Counter:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            with count.get_lock():
                count.value += 1
            return "250 2.0.0 counted"

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        handler = Counter()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="sink.test", loop=loop), "127.0.0.1", 0)
        port_out.send(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(serve())


@dataclass
class Sink:
    process: multiprocessing.process.BaseProcess
    port: int
    count: Synchronized[int]

    @classmethod
    def start(cls) -> Sink:
        ctx = multiprocessing.get_context("spawn")
        count: Synchronized[int] = ctx.Value("q", 0)
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_sink_main, args=(send, count), daemon=True)
        process.start()
        if not receive.poll(30):
            raise RuntimeError("the sink did not start")
        port = int(receive.recv())
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        return cls(process, port, count)

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value = 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


# --- the installation ---------------------------------------------------------------------

def write_site(folder: Path, agencies: int, port: int) -> Path:
    ids = [f"a{i:05d}" for i in range(agencies)]
    doc = {
        "version": 1,
        "agencies": [{"id": a, "name": f"Ủy ban nhân dân xã Thử Nghiệm số {i}",
                      "emails": [f"vanthu@{a}.bench.example"]} for i, a in enumerate(ids)],
        "plans": [{
            "id": "kh-bench-2025", "title": "Kế hoạch thử tải năm 2025",
            "reference": "Kế hoạch số 99/KH-UBND ngày 02/01/2025", "year": 2025,
            "coordinator": ids[0],
            "tasks": [{"id": f"{i + 1}", "title": f"Báo cáo kết quả thực hiện nhiệm vụ số {i + 1}",
                       "when": "ngày 15/10/2025", "lead": [a], "remind": [0]}
                      for i, a in enumerate(ids)],
        }],
    }
    plans = folder / "plans.yaml"
    plans.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    config = folder / "reminderd.yaml"
    config.write_text(
        f"plans: {plans}\ntemplates: {ROOT / 'templates'}\n"
        f"store: sqlite:///{folder}/r.db\nvar_dir: {folder}/var\n"
        f'mail:\n  from: "{SENDER}"\n'
        f"  smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout_seconds: 30}}\n",
        encoding="utf-8")
    return config


def fresh_store(ws: Workspace, folder: Path, name: str) -> DeliveryStore:
    store = open_store(f"sqlite:///{folder}/{name}.db")
    store.migrate()
    return store


def prebuilt_messages(ws: Workspace) -> list[tuple[str, bytes]]:
    """The messages the pass at DUE sends, built beforehand by the same code."""
    mailer = build_mailer(ws)
    agencies = ws.agencies()
    names = {a.id: a.name for a in ws.plans.agencies}
    due = [r for r in current_reminders(ws, DUE) if r.due == DUE]
    out = []
    for r in sorted(due, key=lambda r: r.agency):
        agency = agencies[r.agency]
        mail = mailer.renderer.render(Digest(
            agency=agency, reminders=[r], now=DUE, feed_url=mailer.feed_url(r.agency),
            plan_names=names, calendar=ws.calendar(r.occurrence.date, r.occurrence.date)))
        message = build_message(
            mail, sender=mailer.sender, to=list(agency.emails),
            message_id=message_id_for([r.key], mailer.domain),
            ics=mailer.attachment(r.agency, [r.occurrence], DUE), date=DUE)
        out.append((agency.emails[0], message))
    return out


# --- the two contenders ---------------------------------------------------------------------

async def bare_loop(port: int, messages: list[tuple[str, bytes]]) -> None:
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
    await smtp.connect()
    for rcpt, message in messages:
        await smtp.sendmail("lich@songoaivu.example", [rcpt], message)
    await smtp.quit()


def timed_bare(sink: Sink, messages: list[tuple[str, bytes]]) -> float:
    sink.reset()
    started = time.perf_counter()
    asyncio.run(bare_loop(sink.port, messages))
    elapsed = time.perf_counter() - started
    assert sink.count.value == len(messages), (sink.count.value, len(messages))
    return elapsed


def timed_pass(ws: Workspace, store: DeliveryStore, sink: Sink, expected: int,
               profile: Path | None = None) -> tuple[float, PassReport]:
    mailer = build_mailer(ws)
    sink.reset()
    coro = run_pass(ws, store, mailer, DUE, owner="bench", rng=random.Random(1))
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = asyncio.run(coro)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    if profiler and profile:
        profiler.dump_stats(str(profile))
    assert report.sent == report.messages == expected, report.summary()
    assert sink.count.value == expected, (sink.count.value, expected)
    return elapsed, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2, help="repeat bare/pass (best kept)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of one warm pass here")
    args = parser.parse_args()
    n = args.agencies
    sink = Sink.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-mail-") as tmp:
            folder = Path(tmp)
            config = write_site(folder, n, sink.port)
            started = time.perf_counter()
            ws = load_workspace(config)
            loaded = time.perf_counter() - started
            messages = prebuilt_messages(ws)
            assert len(messages) == n
            size = sum(len(m) for _, m in messages) / n
            print(f"{n:,} agencies, one reminder each due {DUE.isoformat()}: "
                  f"{n:,} messages of {size:,.0f} bytes on average "
                  f"(plans loaded in {loaded:.1f} s, not timed)")

            bare_times, warm_times, cold_times = [], [], []
            for round_no in range(args.rounds):
                bare_times.append(timed_bare(sink, messages))
                # warm: the daemon's pass the day before materialised every row
                store = fresh_store(ws, folder, f"warm{round_no}")
                before = asyncio.run(run_pass(ws, store, build_mailer(ws),
                                              DUE - timedelta(days=1), owner="bench"))
                assert before.messages == 0 and before.new == 4 * n - 1, before
                profile = args.profile if round_no == args.rounds - 1 else None
                warm, _ = timed_pass(ws, store, sink, n, profile)
                warm_times.append(warm)
                store.close()
                cold_store = fresh_store(ws, folder, f"cold{round_no}")
                cold, _ = timed_pass(ws, cold_store, sink, n)
                cold_times.append(cold)
                cold_store.close()
                print(f"  round {round_no + 1}: bare {n / bare_times[-1]:,.0f} msg/s, "
                      f"pass {n / warm:,.0f} msg/s, cold pass {n / cold:,.0f} msg/s")

            bare, warm, cold = min(bare_times), min(warm_times), min(cold_times)
            print()
            print(f"{'':28}{'seconds':>9}{'messages/s':>12}{'vs bare':>9}")
            for label, seconds in (("bare aiosmtplib loop", bare),
                                   ("full pass (rows exist)", warm),
                                   ("full pass (first, cold)", cold)):
                print(f"{label:28}{seconds:9.2f}{n / seconds:12,.0f}{bare / seconds:9.0%}")
            verdict = "meets" if bare / warm >= 0.5 else "BELOW"
            print(f"\nTarget: full pass >= 50% of the bare loop's rate: {verdict} "
                  f"({bare / warm:.0%}; reminders/s = messages/s here: one item per message)")
            if args.profile:
                print(f"\nprofile of the last warm pass: {args.profile}")
                stats = pstats.Stats(str(args.profile))
                stats.sort_stats("cumulative").print_stats(25)
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
