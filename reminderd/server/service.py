"""When things run: the only module that imports APScheduler.

APScheduler decides only *when* a pass runs: at the next due instant of any reminder, on a
retry tick while deliveries wait for a retry, and after local midnight (anniversary
ordinals and "overdue" change with the date). It holds no state that matters (no job
store): the delivery store is the record, so a restart loses nothing. Reloads of
plans.yaml, config and templates are validated in full before they replace the running
version; a bad edit keeps the last good one serving and sending.

The event loop only serves and schedules: every store call, pass and feed rebuild runs in a
thread (:func:`in_thread`), so a database that hangs leaves the feeds answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from jinja2 import Template

from reminderd.config import redact
from reminderd.core.errors import ProblemsError
from reminderd.feeds.build import Feeds
from reminderd.feeds.tokens import FeedTokens
from reminderd.mail.setup import Mailer
from reminderd.notices import check_operator, next_weekly, send_changes, send_weekly
from reminderd.plans.loader import plan_files
from reminderd.sendpass import PassReport, run_pass
from reminderd.server.actions import Actions
from reminderd.server.auth import AdminAuth
from reminderd.server.clock import Clock
from reminderd.server.offload import in_thread
from reminderd.server.publish import Published, export, publish
from reminderd.server.status import LastPass, status_info
from reminderd.server.statuspage import bounded
from reminderd.server.validate import ValidationError, validate
from reminderd.server.web import WebState
from reminderd.store import open_store
from reminderd.store.base import DeliveryStore, Status, StoreError
from reminderd.workspace import Workspace

log = logging.getLogger("reminderd.service")

# Explicit, because APScheduler 3's default grace of 1 s silently drops a late job.
JOB_DEFAULTS = {"misfire_grace_time": 24 * 3600, "coalesce": True, "max_instances": 1}
WATCH_SECONDS = 1.0
DRAIN_SECONDS = 30.0


@dataclass
class Loaded:
    """A validated version of the inputs, with what was built from it."""

    ws: Workspace
    mailer: Mailer
    feeds: Feeds
    stamp: tuple[Any, ...]
    tokens: FeedTokens
    status_template: Template
    auth: AdminAuth | None


@dataclass
class PassStats:
    last_at: datetime | None = None
    last_seconds: float | None = None
    last_report: PassReport | None = None
    errors: list[str] = field(default_factory=list)


def _watched(ws_or_path: Workspace | Path) -> list[Path]:
    if isinstance(ws_or_path, Path):
        return [ws_or_path]
    settings = ws_or_path.settings
    paths = [settings.plans]
    if settings.plans.is_dir():  # a plans folder: a file added, changed or removed
        paths.extend(plan_files(settings.plans))
    if settings.path is not None:
        paths.append(settings.path)
    folder = settings.templates
    if folder.is_dir():
        paths.extend(sorted(p for p in folder.rglob("*") if p.is_file()))
    return paths


def _stamp(paths: list[Path]) -> tuple[Any, ...]:
    """What changes when a watched file is edited, replaced or removed."""
    out: list[Any] = []
    for path in paths:
        try:
            st = path.stat()
            out.append((str(path), st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append((str(path), None))
    return tuple(out)


def load_version(config_path: Path, previous: Loaded | None = None) -> Loaded:
    """:func:`~reminderd.server.validate.validate`, then the feed builder of the version;
    ValidationError with every problem. ``previous``, the running version, lends its feed
    caches."""
    version = validate(config_path)
    ws = version.ws
    feeds = Feeds(ws, previous.feeds if previous is not None else None)
    return Loaded(ws, version.mailer, feeds, _stamp([config_path, *_watched(ws)]),
                  version.tokens, version.status_template, version.auth)


class Service:
    def __init__(self, config_path: Path, clock: Clock, state: WebState) -> None:
        self.config_path = config_path
        self.clock = clock
        self.state = state
        self.current: Loaded | None = None
        self.store: DeliveryStore | None = None
        self.owner = f"{os.uname().nodename}:{os.getpid()}"
        self.passes = PassStats()
        self.problems: list[str] = []
        self._pass_lock = asyncio.Lock()
        self._scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
        self._stopping = False
        self._stop_pass = threading.Event()  # read by the pass, in its own thread
        self._publish_lock = asyncio.Lock()
        self._status_serial = 0
        self._done_keys: frozenset[str] | None = None  # tasks closed from the mail, last seen
        self._failing_since: datetime | None = None  # reloads failing since (operator alert)
        self._weekly_sent: str = ""  # the ISO week whose weekly mail this process has done

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self, stack: contextlib.AsyncExitStack) -> None:
        """Validate, open the store, publish the feeds, start scheduling. Each step that
        starts something pushes its undoing on ``stack``: whatever step fails (a
        ProblemsError for bad inputs or an unusable store), what was started is stopped
        when the stack unwinds, in reverse order. The caller runs the catch-up pass,
        run_pass("start"), once the feeds are served."""
        self.current = await asyncio.to_thread(load_version, self.config_path)
        self.state.status_template = self.current.status_template
        settings = self.current.ws.settings
        base = settings.path.parent if settings.path else None
        try:
            self.store = await asyncio.to_thread(open_store, settings.store, base_dir=base,
                                                 lock=True)
            stack.push_async_callback(self._close_store)
            await asyncio.to_thread(self.store.migrate)
        except StoreError as exc:
            raise ProblemsError([settings.problem("store", f"store {settings.store}: {exc}")]
                                ) from None
        stack.push_async_callback(self._drain)
        self.state.done = Actions(self._loaded, lambda: self.store, self.clock.now,
                                  self.after_done)
        await self.republish()
        self._scheduler.start()
        stack.callback(self._scheduler.shutdown, wait=False)
        tick = settings.delivery.retry_tick_seconds
        self._scheduler.add_job(self._retry_tick, IntervalTrigger(seconds=tick), id="retry-tick")
        self._scheduler.add_job(self._watch, IntervalTrigger(seconds=WATCH_SECONDS), id="watch")
        self._schedule_midnight()

    async def _drain(self) -> None:
        """Stop passes: an in-flight pass finishes the message on the wire (bounded) and
        gives the rest of its claim back."""
        self._stopping = True
        self._stop_pass.set()
        try:
            await asyncio.wait_for(self._pass_lock.acquire(), DRAIN_SECONDS)
            self._pass_lock.release()
        except TimeoutError:
            log.warning("stop.drain_timeout seconds=%s", DRAIN_SECONDS)

    async def _close_store(self) -> None:
        store = self.store
        if store is None:
            return
        try:  # a store stuck on a dead network must not hold up the exit
            await asyncio.wait_for(in_thread(store.close, "store-close"), 5.0)
        except TimeoutError:
            log.warning("stop.store_close_timeout")
        log.info("stop.done")

    # --- passes ---------------------------------------------------------------------------
    async def run_pass(self, reason: str) -> None:
        store = self.store
        if self._stopping or self.current is None or store is None:
            return
        async with self._pass_lock:
            loaded = self.current
            now = self.clock.now()
            started = time.perf_counter()

            def one_pass() -> PassReport:  # with an event loop of its own, in its thread
                return asyncio.run(run_pass(loaded.ws, store, loaded.mailer, now,
                                            owner=self.owner, stop=self._stop_pass))

            try:
                report = await in_thread(one_pass, "pass")
                self.passes.errors = []
            except StoreError as exc:
                self.passes.errors = [redact(f"store: {exc}")]
                log.warning("pass.store_unavailable reason=%s error=%s", reason, redact(str(exc)))
                report = None
            self.passes.last_at = now
            self.passes.last_seconds = time.perf_counter() - started
            if report is not None:
                self.passes.last_report = report
                log.info("pass.run reason=%s %s", reason, report.summary())
            self._schedule_next(report.next_due if report else None)
            await self._after_pass(loaded, store)
        await self.refresh_status()

    async def _after_pass(self, loaded: Loaded, store: DeliveryStore, *,
                          weekly: bool = True) -> None:
        """The weekly mail (on Monday, once a week here; keyed in the store) and the operator
        alerts that are due."""
        now = self.clock.now()
        settings = loaded.ws.settings
        local = now.astimezone(settings.zone)
        iso = local.isocalendar()
        week = f"{iso.year}-W{iso.week:02d}"
        monday = local.weekday() == 0 and local.time() >= settings.reminders.send_time
        failing, problems = self._failing_since, list(self.problems)

        async def both() -> None:
            if weekly and monday and week != self._weekly_sent:
                await send_weekly(loaded.ws, store, loaded.mailer, now)
                self._weekly_sent = week
            await check_operator(loaded.ws, store, loaded.mailer, now, failing, problems)

        try:
            await in_thread(lambda: asyncio.run(both()), "notices")
        except StoreError as exc:
            log.warning("notices.store_unavailable error=%s", exc)
        self._schedule_weekly(loaded)

    def _schedule_weekly(self, loaded: Loaded) -> None:
        due = next_weekly(loaded.ws, self.clock.now())
        if self._stopping or due is None:
            return
        self._scheduler.add_job(self.run_pass, DateTrigger(run_date=self.clock.to_real(due)),
                                args=["weekly"], id="weekly", replace_existing=True)

    def _schedule_next(self, due: datetime | None) -> None:
        if self._stopping:
            return
        if due is None:
            if self._scheduler.get_job("next-pass"):
                self._scheduler.remove_job("next-pass")
            return
        run_at = self.clock.to_real(due)
        self._scheduler.add_job(self.run_pass, DateTrigger(run_date=run_at), args=["due"],
                                id="next-pass", replace_existing=True)
        log.info("schedule.next_pass due=%s", due.isoformat())

    def _schedule_midnight(self) -> None:
        """Just after the next local midnight on the daemon's clock: refresh and pass."""
        if self._stopping or self.current is None:
            return
        zone = self.current.ws.settings.zone
        local = self.clock.now().astimezone(zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(),
                                    tzinfo=zone) + timedelta(minutes=1)
        self._scheduler.add_job(self._midnight, DateTrigger(run_date=self.clock.to_real(midnight)),
                                id="midnight", replace_existing=True)

    async def _midnight(self) -> None:
        await self.republish()
        await self.run_pass("midnight")
        self._schedule_midnight()

    async def _retry_tick(self) -> None:
        store = self.store
        if store is None:
            return
        try:
            await self._done_elsewhere(store)
            counts = await in_thread(store.counts, "retry-tick")
            # rows in "sending" include claims of a replica that died mid-send: a pass
            # takes them over once their lease has run out (and claims nothing before)
            waiting = counts.get(Status.RETRYING, 0) + counts.get(Status.SENDING, 0)
        except StoreError as exc:
            self.passes.errors = [redact(f"store: {exc}")]
            await self.refresh_status()
            return
        if waiting or self.passes.errors:
            await self.run_pass("retry")
        elif self._failing_since is not None and self.current is not None:
            await self._after_pass(self.current, store, weekly=False)  # the operator alert

    # --- reloads --------------------------------------------------------------------------
    async def _watch(self) -> None:
        current = self.current
        if current is None:
            return
        paths = [self.config_path, *_watched(current.ws)]
        if _stamp(paths) != current.stamp:
            await self.reload("files changed")

    async def reload(self, reason: str) -> bool:
        """Switch to the new version only if it validates in full; else keep the old one."""
        try:
            loaded = await asyncio.to_thread(load_version, self.config_path, self.current)
        except Exception as exc:  # a reload never takes the daemon down, nor loops a traceback
            if self._failing_since is None and self.current is not None:
                self._failing_since = self.clock.now()
            if isinstance(exc, ValidationError):
                lines = bounded([redact(line) for line in exc.lines])
            else:
                lines = [redact(f"{self.config_path}:1:1: reload failed: "
                                f"{type(exc).__name__}: {exc}")]
            if lines != self.problems:
                self.state.reload_failures += 1
                for line in lines:
                    log.error("reload.failed %s", line)
            self.problems = lines
            if self.current is not None:  # do not retry the same broken files every second
                self.current.stamp = _stamp([self.config_path, *_watched(self.current.ws)])
            await self.refresh_status()
            return False
        previous, self.current = self.current, loaded
        self.state.status_template = loaded.status_template
        self.problems = []
        self._failing_since = None
        log.info("reload.ok reason=%s", reason)
        await self.republish()
        self._schedule_midnight()
        if previous is not None:  # never on the first load: nothing to compare with
            await self._send_changes(previous.ws, loaded)
        await self.run_pass("reload")
        return True

    async def _send_changes(self, old: Workspace, new: Loaded) -> None:
        """Change notices for what this reload moved, added or cancelled (keyed in the store:
        one replica sends each change, once)."""
        store = self.store
        if store is None:
            return
        now = self.clock.now()
        try:
            sent = await in_thread(lambda: asyncio.run(
                send_changes(old, new.ws, store, new.mailer, now)), "changes")
        except StoreError as exc:
            log.warning("changes.store_unavailable error=%s", exc)
            return
        if sent:
            log.info("changes.sent messages=%d", sent)

    # --- done from the mail -----------------------------------------------------------------
    def _loaded(self) -> tuple[Workspace, Mailer] | None:
        current = self.current
        return (current.ws, current.mailer) if current is not None else None

    async def after_done(self) -> None:
        """A task was closed (or reopened): the feeds and the status page say so now."""
        await self.republish()

    async def _done_elsewhere(self, store: DeliveryStore) -> None:
        """Another replica recorded a task done (or undid one): rebuild to show it."""
        keys = frozenset(await in_thread(store.completions, "done-check"))
        if self._done_keys is not None and keys != self._done_keys:
            log.info("done.seen_elsewhere items=%d", len(keys))
            await self.republish()
        self._done_keys = keys

    # --- feeds and status -------------------------------------------------------------------
    async def republish(self) -> None:
        """Rebuild the feeds (in a thread) and publish them; the old ones serve meanwhile."""
        async with self._publish_lock:  # one build at a time, the latest version last
            current, store = self.current, self.store
            if current is None:
                return
            now = self.clock.now()
            tokens = current.tokens
            previous = self.state.published
            export_dir = current.ws.settings.http.export_dir
            public_calendar = current.ws.settings.feeds.public_calendar

            def build_and_publish() -> Published:
                try:
                    feedset = current.feeds.build(now, store)
                except StoreError as exc:
                    log.warning("feeds.store_unavailable error=%s", exc)
                    feedset = current.feeds.build(now, None)
                published = publish(feedset, tokens, previous, now,
                                    public_calendar=public_calendar)
                if export_dir is not None and published is not previous:
                    export(published, export_dir)
                return published

            self.state.published = await in_thread(build_and_publish, "feeds")
        await self.refresh_status()

    async def refresh_status(self) -> None:
        """Recompute the status page (the store part in a thread); the newest one wins."""
        current = self.current
        if current is None:
            return
        passes = self.passes
        last = None
        if passes.last_at is not None:
            report = passes.last_report
            last = LastPass(at=passes.last_at, duration=passes.last_seconds or 0.0,
                            sent=report.sent if report else 0,
                            failed=report.failed if report else 0,
                            error="; ".join(passes.errors))
        self._status_serial += 1
        serial = self._status_serial
        problems = self.problems + passes.errors
        now, store, tokens = self.clock.now(), self.store, current.tokens
        status = await in_thread(
            lambda: status_info(current.ws, now, store, problems, last, tokens=tokens),
            "status")
        if serial == self._status_serial:  # a later refresh may have finished first
            self.state.status = status
