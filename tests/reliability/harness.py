"""Building blocks of the fault suite (and of bench/soak.py): a burst of reminders, daemon
replicas as real `reminderd run` subprocesses, a relay that remembers what it accepted, a
TCP proxy that can cut the database, and the ledger that says what was lost or doubled.

A *burst*: N agencies, each the lead of one task "trước ngày 12/6/2026" with ``remind: [1]``;
12/6/2026 is a Friday, so the task is due Thu 11/6 and every lead's 1-working-day reminder
falls due at the same instant, Wed 10/6/2026 08:00 Asia/Ho_Chi_Minh (``BURST_DUE``). Each
agency has its own address ``a{i}@burst.example``, so each reminder is one message with a
Message-ID of its own (sha256 of its key): a second copy at the relay is a duplicate.

Replicas are started with ``--clock-start`` taken from one :class:`VirtualClock`, so their
clocks agree to within the processes' start-up latency (well under the test leases).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from aiosmtpd.smtp import SMTP, Envelope, Session

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
if str(TESTS) not in sys.path:  # bench/soak.py imports this module from outside pytest
    sys.path.insert(0, str(TESTS))

from daemon_proc import wait_for  # noqa: E402
from smtp_server import Recorder, ThreadedSmtpServer, free_port  # noqa: E402

from reminderd.mail.message import envelope_address, message_id_for  # noqa: E402
from reminderd.store import Status, open_store  # noqa: E402
from reminderd.store.base import Delivery  # noqa: E402

__all__ = [
    "BURST_DUE",
    "LEDGERS",
    "SECRET",
    "SENDER",
    "TEMPLATES",
    "FastRecorder",
    "Ledger",
    "Replica",
    "ReplicaPool",
    "TcpProxy",
    "ThreadedSmtpServer",
    "VirtualClock",
    "all_sent",
    "burst_plans",
    "free_port",
    "make_ledger",
    "read_deliveries",
    "store_counts",
    "wait_for",
]

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TEMPLATES = ROOT / "templates"
SECRET = "reliability-feed-secret-of-at-least-32-bytes"
SENDER = "Sở Ngoại vụ <lich@songoaivu.example>"
MAIL_DOMAIN = envelope_address(SENDER).rpartition("@")[2]
BURST_DUE = datetime(2026, 6, 10, 8, 0, tzinfo=ZONE)  # the leads' reminder of "trước 12/6/2026"
# Fast faults: short leases so that takeovers happen within a test.
FAST_DELIVERY = {"lease_seconds": 4, "send_timeout_seconds": 2, "claim_batch": 10}
RETRY_TICK = "1"  # REMINDERD_RETRY_TICK_SECONDS for the replicas under test


def burst_plans(n: int, *, deadline: str = "12/6/2026", tasks_per_agency: int = 1) -> str:
    """plans.yaml for a burst: ``n`` agencies a000.., each the lead of its own task(s)."""
    width = max(3, len(str(n - 1)))
    lines = ["version: 1", "agencies:"]
    for i in range(n):
        lines += [f"  - id: a{i:0{width}d}", f'    name: "Cơ quan thử tải số {i}"',
                  f'    emails: ["a{i}@burst.example"]']
    lines += ["plans:", "  - id: burst", '    title: "Kế hoạch thử tải nhắc việc năm 2026"',
              "    year: 2026", "    tasks:"]
    for i in range(n):
        for t in range(tasks_per_agency):
            lines += [f"      - id: t{i:0{width}d}-{t}",
                      f'        title: "Báo cáo thử tải số {i}-{t}"',
                      f'        when: "trước ngày {deadline}"', f"        lead: a{i:0{width}d}",
                      "        remind: [1]"]
    return "\n".join(lines) + "\n"


class VirtualClock:
    """The scenario's clock: ``start`` at creation, advancing in real time. Every replica
    is (re)started at this clock's present, so all of them and the test agree."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._mono = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._mono)

    def until(self, instant: datetime) -> float:
        """Real seconds from now until the clock shows ``instant`` (negative if past)."""
        return (instant - self.now()).total_seconds()

    def sleep_until(self, instant: datetime) -> None:
        time.sleep(max(0.0, self.until(instant)))

    def jump(self, delta: timedelta) -> None:
        """Move the clock on (daemons see it when next started): retries after backoff."""
        self.start += delta


# --- the relay ---------------------------------------------------------------------------

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class FastRecorder(Recorder):
    """A relay that keeps (Message-ID, recipients) of each accepted message instead of
    parsing whole messages (the soak accepts tens of thousands), with scripted faults per
    recipient and per-message delays.

    - ``scripts``: address -> actions, one consumed per transaction that reaches the end of
      DATA for that recipient: an SMTP reply ("451 4.3.0 …", "550 5.7.1 …": nothing is
      delivered), ``"drop"`` (hang up before the final reply, nothing delivered) or
      ``"drop-keep"`` (the relay queued it, then hung up: RFC 1047's worst case).
    - ``delays`` are consumed one per transaction, then ``data_delay`` applies.
    - ``commit_first`` (default): the relay queues the message when its content ends and
      only then takes the delay to answer, so a client that dies or gives up in that window
      leaves a delivered message it never heard about. Without it, a delay cut short by the
      client hanging up delivers nothing (aiosmtpd cancels the handler).
    - ``mail_replies`` and ``refuse`` (MAIL FROM and RCPT TO) work as in Recorder.
    """

    def __init__(self) -> None:
        super().__init__()
        self.accepted: list[tuple[str, tuple[str, ...]]] = []
        self.delays: list[float] = []
        self.scripts: dict[str, list[str]] = {}
        self.commit_first = True

    def ids(self) -> Counter[str]:
        with self._lock:
            return Counter(mid for mid, _ in self.accepted)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        found = _MESSAGE_ID.search(content.split(b"\r\n\r\n", 1)[0])
        record = (found[1].decode("ascii") if found else "<none>", tuple(envelope.rcpt_tos))
        with self._lock:
            self.data_commands += 1
            delay = self.delays.pop(0) if self.delays else self.data_delay
            action = None
            for rcpt in envelope.rcpt_tos:
                queue = self.scripts.get(rcpt)
                if queue:
                    action = queue.pop(0)
                    break
            if (action is None and self.commit_first) or action == "drop-keep":
                self.accepted.append(record)
        if action in ("drop", "drop-keep"):
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()  # the relay "crashes" before its final reply
            await asyncio.sleep(5)  # cancelled by connection_lost
            return "250 never sent"
        if action is not None:
            return action
        if delay:
            await asyncio.sleep(delay)
        if not self.commit_first:
            with self._lock:
                self.accepted.append(record)
        return "250 2.0.0 queued"


# --- replicas ----------------------------------------------------------------------------

class Replica:
    """One `reminderd run` process: its own config (store, delivery limits, port), the
    shared plans and templates. ``spawn`` does not wait (kills land during the start-up
    catch-up pass too); ``start`` waits until /healthz answers and the catch-up pass is done."""

    def __init__(self, root: Path, name: str, *, plans: Path, smtp_port: int, store: str,
                 delivery: dict[str, int] | None = None, templates: Path = TEMPLATES,
                 smtp_timeout: int = 10, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.name = name
        self.port = free_port()  # the admin listener: /healthz in detail, /calendar.ics
        self.public_port = free_port()
        self.plans = plans
        self.config = root / f"{name}.yaml"
        self.log = root / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self.env = {**os.environ, "REMINDERD_FEED_SECRET": SECRET, "PYTHONUNBUFFERED": "1",
                    "REMINDERD_RETRY_TICK_SECONDS": RETRY_TICK, **(env or {})}
        limits = {**FAST_DELIVERY, **(delivery or {})}
        self.config.write_text(
            f"plans: {plans}\n"
            f"templates: {templates}\n"
            f'store: "{store}"\n'
            f"var_dir: {name}-var\n"
            "mail:\n"
            f'  from: "{SENDER}"\n'
            f"  smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none,"
            f" timeout_seconds: {smtp_timeout}}}\n"
            "http:\n"
            f"  listen: 127.0.0.1:{self.public_port}\n"
            f"  admin_listen: 127.0.0.1:{self.port}\n"
            "  public_url: http://reminderd.test\n"  # the same links from every replica
            "delivery:\n"
            + "".join(f"  {k}: {v}\n" for k, v in limits.items()),
            encoding="utf-8",
        )

    @classmethod
    def with_config(cls, root: Path, name: str, config: Path, port: int,
                    env: dict[str, str] | None = None) -> Replica:
        """A daemon on a config written by the caller (its admin listener on ``port``)."""
        replica = cls.__new__(cls)
        replica.root, replica.name, replica.port = root, name, port
        replica.plans, replica.config = root / "plans.yaml", config
        replica.log, replica.proc, replica.kills = root / f"{name}.log", None, 0
        replica.env = {**os.environ, "REMINDERD_FEED_SECRET": SECRET, "PYTHONUNBUFFERED": "1",
                       "REMINDERD_RETRY_TICK_SECONDS": RETRY_TICK, **(env or {})}
        return replica

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self, clock: VirtualClock | datetime | None) -> Replica:
        assert not self.alive, f"{self.name} is already running"
        argv = [sys.executable, "-m", "reminderd.cli", "run", "--config", str(self.config)]
        if clock is not None:
            start = clock.now() if isinstance(clock, VirtualClock) else clock
            argv += ["--clock-start", start.isoformat()]
        with open(self.log, "ab") as log:
            log.write(f"--- spawn {' '.join(argv[3:])}\n".encode())
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         env=self.env, cwd=self.root)
        return self

    def wait_ready(self, timeout: float = 60, *, caught_up: bool = True) -> Replica:
        """Until /healthz answers and, with ``caught_up``, a first pass (the start-up
        catch-up pass, which runs while the feeds are served) has finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                raise RuntimeError(f"{self.name} exited {code}:\n{self.output()[-4000:]}")
            try:
                _, _, body = self.get("/healthz", timeout=2)
                if not caught_up or b'"last_pass"' in body:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s:\n"
                           f"{self.output()[-4000:]}")

    def start(self, clock: VirtualClock | datetime | None, timeout: float = 60) -> Replica:
        return self.spawn(clock).wait_ready(timeout)

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.kills += 1
            with open(self.log, "ab") as log:
                log.write(b"--- killed -9 by the test\n")
        self.proc = None

    def stop(self, timeout: float = 40) -> int:
        """SIGTERM and wait: the exit status (the daemon exits 0 on a clean stop)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            raise

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() \
            else ""

    def get(self, path: str, headers: dict[str, str] | None = None, timeout: float = 10
            ) -> tuple[int, Message, bytes]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()


class ReplicaPool:
    """``pool(name, **kwargs)`` -> a Replica under the test's tmp_path; ``pool.adopt(r)``
    for one made otherwise. Every one is killed at the end of the test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: list[Replica] = []

    def __call__(self, name: str, **kwargs: Any) -> Replica:
        return self.adopt(Replica(self.root, name, **kwargs))

    def adopt(self, replica: Replica) -> Replica:
        self.made.append(replica)
        return replica


# --- a TCP proxy that can cut the database off -----------------------------------------

class TcpProxy:
    """127.0.0.1:<port> -> target, from an event loop in a thread. ``cut()`` closes every
    connection and stops listening (new connections are refused); ``cut(blackhole=True)``
    closes every connection and then accepts new ones but never answers (a partition
    where the database hangs); ``restore()`` forwards on the same port again. The real
    server is never touched."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.cuts = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy",
                                        daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._blackhole: asyncio.Event | None = None  # set: let the held connections go
        self._thread.start()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hole = self._blackhole
        if hole is not None:
            self._writers.add(writer)
            await hole.wait()  # never answered; dropped at restore() or close()
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers -= {writer, up_writer}

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                                  reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self, blackhole: bool = False) -> None:
        if self._blackhole is not None:
            self._blackhole.set()
            self._blackhole = None
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            transport = writer.transport
            if isinstance(transport, asyncio.Transport):
                transport.abort()
        self._writers.clear()
        if blackhole:
            self._blackhole = asyncio.Event()
            await self._listen()

    def start(self) -> TcpProxy:
        self._call(self._listen())
        return self

    def cut(self, *, blackhole: bool = False) -> None:
        self.cuts += 1
        self._call(self._cut(blackhole))

    def restore(self) -> None:
        self._call(self._cut())  # drops held connections, if any
        self._call(self._listen())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def url_for(self, url: str) -> str:
        """``url`` (postgresql://user@host:port/db?…) pointed at this proxy."""
        parts = urlsplit(url)
        user = parts.netloc.rpartition("@")[0]
        netloc = (f"{user}@" if user else "") + f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))


# --- the ledger --------------------------------------------------------------------------

def read_deliveries(store_url: str, base_dir: Path | None = None) -> list[Delivery]:
    store = open_store(store_url, base_dir=base_dir, lock=False)
    try:
        return store.deliveries(limit=10_000_000)
    finally:
        store.close()


def store_counts(store_url: str, base_dir: Path | None = None) -> dict[str, int]:
    """Rows per status ({} while the store cannot be read)."""
    try:
        store = open_store(store_url, base_dir=base_dir, lock=False)
    except Exception:
        return {}
    try:
        return {str(k): v for k, v in store.counts().items()}
    except Exception:
        return {}
    finally:
        store.close()


def all_sent(store_url: str, n: int, base_dir: Path | None = None) -> Callable[[], bool]:
    """True once ``n`` rows are sent (the burst's; later steps stay pending)."""
    return lambda: store_counts(store_url, base_dir).get("sent", 0) >= n


@dataclass
class Ledger:
    """What the relay got against what the store says, for one scenario."""

    scenario: str
    reminders: int  # expected (the burst's size)
    rows: int  # rows in the store
    delivered: int  # distinct reminders the relay accepted
    messages: int  # messages the relay accepted
    duplicates: int  # messages beyond the first per Message-ID
    uncertain: int  # rows the store marked uncertain
    statuses: dict[str, int]
    lost: list[str] = field(default_factory=list)  # keys the relay never got
    dup_outside_uncertain: list[str] = field(default_factory=list)
    unknown_ids: list[str] = field(default_factory=list)  # accepted, no reminder matches
    notes: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        extra = "".join(f" {k}={v}" for k, v in self.notes.items())
        return (f"LEDGER {self.scenario}: reminders={self.reminders} rows={self.rows} "
                f"delivered={self.delivered} lost={len(self.lost)} messages={self.messages} "
                f"duplicates={self.duplicates} uncertain={self.uncertain} "
                f"duplicates_outside_uncertain={len(self.dup_outside_uncertain)} "
                f"unknown={len(self.unknown_ids)} statuses={dict(sorted(self.statuses.items()))}"
                f"{extra}")

    def problems(self, *, expect_sent: bool = True) -> list[str]:
        found = []
        if self.rows != self.reminders:
            found.append(f"{self.rows} rows in the store for {self.reminders} reminders")
        if self.lost:
            found.append(f"lost: {self.lost[:10]}")
        if self.dup_outside_uncertain:
            found.append(f"duplicates not marked uncertain: {self.dup_outside_uncertain[:10]}")
        if self.unknown_ids:
            found.append(f"messages matching no reminder: {self.unknown_ids[:10]}")
        if expect_sent and self.statuses.get(Status.SENT.value, 0) != self.reminders:
            found.append(f"not all rows are sent in the store: {self.statuses}")
        return found


LEDGERS: list[Ledger] = []  # printed again in the terminal summary (tests/reliability)


def make_ledger(scenario: str, reminders: int, rows: Iterable[Delivery],
                accepted: Counter[str], *, until: datetime = BURST_DUE,
                expect_delivered: Iterable[str] | None = None, **notes: Any) -> Ledger:
    """``accepted``: Message-ID -> copies the relay accepted. A message is one agency's
    digest: its Message-ID is that of the agency's reminder keys (one per burst agency).
    Rows due after ``until`` (the tasks' later overdue/escalation steps, materialised ahead)
    are not part of the scenario."""
    rows = [row for row in rows if row.due <= until]
    by_agency: dict[str, list[str]] = {}
    for row in rows:
        by_agency.setdefault(row.agency, []).append(row.key)
    id_keys: dict[str, list[str]] = {}
    for keys in by_agency.values():
        id_keys[message_id_for(keys, MAIL_DOMAIN)] = keys
        for key in keys:
            id_keys.setdefault(message_id_for([key], MAIL_DOMAIN), [key])
    uncertain = {row.key for row in rows if row.uncertain}
    got: set[str] = set()
    outside: list[str] = []
    unknown: list[str] = []
    for mid, copies in accepted.items():
        keys = id_keys.get(mid)
        if keys is None:
            unknown.append(mid)
            continue
        got.update(keys)
        if copies > 1:
            outside += [k for k in keys if k not in uncertain]
    wanted = set(expect_delivered) if expect_delivered is not None else {r.key for r in rows}
    ledger = Ledger(
        scenario=scenario, reminders=reminders, rows=len(rows), delivered=len(got),
        messages=sum(accepted.values()),
        duplicates=sum(c - 1 for c in accepted.values() if c > 1),
        uncertain=len(uncertain), statuses=dict(Counter(str(r.status) for r in rows)),
        lost=sorted(wanted - got), dup_outside_uncertain=sorted(outside),
        unknown_ids=sorted(unknown), notes=dict(notes))
    LEDGERS.append(ledger)
    print(ledger, flush=True)
    return ledger

