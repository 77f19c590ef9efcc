"""One send pass: plan reminders, materialise them, claim what is due, send one digest
per agency, mark the outcome. ``reminderd send-due`` is one pass; the daemon runs the same.

What makes it safe to run again and again: every reminder has a permanent key in the
store; a claim is fenced by a token; reminders that were already past when their item
first appeared are recorded as skipped, never sent; those missed during downtime are sent
late within the catch-up window and skipped beyond it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from reminderd.core.model import Agency
from reminderd.core.reminders import Reminder, ReminderKind, Role
from reminderd.mail.message import build_message, message_id_for
from reminderd.mail.render import TemplateProblem
from reminderd.mail.setup import Mailer
from reminderd.mail.transport import (
    PermanentSendError,
    TransientSendError,
    Transport,
    UncertainSendError,
)
from reminderd.mail.view import Digest
from reminderd.store.base import Claim, Delivery, DeliveryStore, Planned, Status
from reminderd.workspace import Workspace

log = logging.getLogger("reminderd.pass")


class StopFlag(Protocol):
    """Asks a pass to stop (a threading.Event: the daemon's pass runs in its own thread)."""

    def is_set(self) -> bool: ...


# The lease is extended once a quarter of it has passed, so a message always starts with
# at least 3/4 of the lease left, more than the send timeout (config requires lease >= 2x
# timeout). Not after every message: a heartbeat rewrites every row still claimed.
MATERIALISE_AHEAD = timedelta(days=400)
OCCURRENCES_BEHIND = timedelta(days=200)  # escalations come up to ~120 working days late
MAX_BACKOFF = timedelta(hours=6)


@dataclass
class PassReport:
    now: datetime
    planned: int = 0
    new: int = 0
    claimed: int = 0
    messages: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0
    late: int = 0
    gave_up: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    would_send: dict[str, list[Reminder]] = field(default_factory=dict)  # dry run
    next_due: datetime | None = None

    def summary(self) -> str:
        skipped = sum(self.skipped.values())
        return (f"pass at {self.now.isoformat()}: {self.messages} message(s), {self.sent} "
                f"reminder(s) sent ({self.late} late), {self.retrying} to retry, "
                f"{self.failed} failed, {self.gave_up} given up, {self.uncertain} uncertain, "
                f"{skipped} skipped")


ROLE_WORDS = {"lead": "chủ trì", "support": "phối hợp", "coordinator": "theo dõi, đôn đốc"}
SKIP_UNPLANNED = "no longer planned (task done, deadline moved or item removed)"
SKIP_NO_ADDRESS = "the agency has no e-mail address in plans.yaml"


def _skip_new_past() -> str:
    return "its time had passed before the item first appeared"


def current_reminders(ws: Workspace, now: datetime,
                      done: Collection[str] = ()) -> list[Reminder]:
    """The reminders a pass at ``now`` considers, without those of tasks closed from the
    mail (``done``: their occurrence keys): their reminders and escalations stop."""
    planned = ws.reminders_on(ws.local_today(now), OCCURRENCES_BEHIND, MATERIALISE_AHEAD)
    if not done:
        return planned
    return [r for r in planned if r.occurrence.key not in done]


def mail_kind(reminders: Iterable[Reminder]) -> str:
    """X-Reminderd-Kind of a digest: "escalation" when it tells a coordinator of a missed
    deadline, else "overdue" when it reports one, else "reminder"."""
    kinds = {(r.kind, r.role) for r in reminders}
    if (ReminderKind.OVERDUE, Role.COORDINATOR) in kinds and any(
            r.step.startswith("escalate") for r in reminders):
        return "escalation"
    return "overdue" if any(k is ReminderKind.OVERDUE for k, _ in kinds) else "reminder"


def _planned(reminder: Reminder) -> Planned:
    return Planned(
        key=reminder.key,
        agency=reminder.agency,
        occurrence_key=reminder.occurrence.key,
        occurrence_date=reminder.occurrence.date,
        due=reminder.due,
        kind=str(reminder.kind),
    )


def _useful_until(reminder: Reminder, catch_up: timedelta) -> datetime:
    """After this instant a retry is pointless: the date has long passed."""
    if reminder.kind is ReminderKind.OVERDUE:
        return reminder.due + catch_up
    return reminder.due + timedelta(days=max(reminder.days_left, 0) + 1)


def _backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential from one minute, capped, with jitter so replicas do not retry in step."""
    base = min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return base * rng.uniform(0.5, 1.0)


async def run_pass(
    ws: Workspace, store: DeliveryStore, mailer: Mailer, now: datetime, *, owner: str,
    dry_run: bool = False, rng: random.Random | None = None, stop: StopFlag | None = None,
) -> PassReport:
    """``stop``: once set, the pass ends after the message on the wire; what it claimed
    and did not send goes back at once."""
    report = PassReport(now=now)
    reminders = current_reminders(ws, now, store.completions())
    catch_up = timedelta(days=int(ws.settings.reminders["catch_up_days"]))
    by_key = {r.key: r for r in reminders}
    today = ws.local_today(now)
    window = [r for r in reminders if now - catch_up - timedelta(days=1) <= r.due]
    report.planned = len(window)
    report.next_due = next((r.due for r in window if r.due > now), None)
    new_past = [r for r in window if r.due.astimezone(ws.settings.zone).date() < today]
    upcoming = [r for r in window if r.due.astimezone(ws.settings.zone).date() >= today]
    if dry_run:
        _dry_run(ws, store, window, upcoming, now, catch_up, report)
        return report
    report.new = store.materialize([_planned(r) for r in upcoming], now)
    skipped_new = store.materialize([_planned(r) for r in new_past], now,
                                    skipped_reason=_skip_new_past())
    if skipped_new:
        report.skipped[_skip_new_past()] = skipped_new
    limits = Limits.of(ws)
    # `now` stays the pass's instant for what is due; leases follow the time actually spent
    # (a pass longer than the lease must not claim rows whose lease has already run out)
    started = time.monotonic()
    while not (stop and stop.is_set()) and (
            claim := _claim_batch(store, now, owner, limits, time.monotonic() - started)):
        report.claimed += len(claim.deliveries)
        try:
            sendable = _triage(store, claim, by_key, now, catch_up, report)
            if sendable:
                await _send(ws, store, mailer, claim, sendable, now, report,
                            rng or random.Random(), limits, started, stop)
        finally:
            # Whatever this claim did not mark (an error or a stop mid-pass) goes back now,
            # not after the lease; a send that had begun comes back uncertain.
            store.release(claim, [d.key for d in claim.deliveries])
    log.info("pass.done %s", report.summary())
    return report


@dataclass(frozen=True)
class Limits:
    lease: timedelta
    send_timeout: float
    batch: int

    @classmethod
    def of(cls, ws: Workspace) -> Limits:
        d = ws.settings.delivery
        return cls(timedelta(seconds=int(d["lease_seconds"])),
                   float(d["send_timeout_seconds"]), int(d["claim_batch"]))


def _claim_batch(store: DeliveryStore, now: datetime, owner: str, limits: Limits,
                 elapsed: float = 0.0) -> Claim | None:
    """Due rows, whole agencies at a time (claims go in agency order), or None when done.

    A full batch may end in the middle of an agency: its rows are given back so that the
    agency gets one digest, from the next batch or from another replica. ``elapsed``: real
    seconds since the pass's instant ``now``; the lease runs from the present, not from
    ``now``.
    """
    lease = limits.lease + timedelta(milliseconds=int(elapsed * 1000))  # whole ms: stable
    claim = store.claim_due(now, owner, lease, limit=limits.batch)
    rows = claim.deliveries
    if not rows:
        return None
    if len(rows) >= limits.batch:
        last = max(d.agency for d in rows)
        tail = [d.key for d in rows if d.agency == last]
        if len(tail) < len(rows):
            store.release(claim, tail)
            claim = Claim([d for d in rows if d.agency != last], claim.owner, claim.token)
    return claim


def _dry_run(ws: Workspace, store: DeliveryStore, window: list[Reminder],
             upcoming: list[Reminder], now: datetime, catch_up: timedelta,
             report: PassReport) -> None:
    """What the pass would send, by the pass's own rules, without writing: rows that exist
    and are claimable (reminders missed during downtime included), new ones due today, minus
    what the triage would skip or give up on."""
    due = [r for r in window if r.due <= now]
    known = store.lookup([r.key for r in due])
    fresh = {r.key for r in upcoming}  # a new row for these is materialised pending
    agencies = ws.agencies()
    for reminder in due:
        row = known.get(reminder.key)
        if row is None:
            claimable, due_at = reminder.key in fresh, reminder.due
        elif row.status is Status.SENDING:  # taken over once its owner's lease ran out
            claimable, due_at = row.lease_until is not None and row.lease_until < now, row.due
        else:
            claimable = (row.status in (Status.PENDING, Status.RETRYING)
                         and (row.next_attempt is None or row.next_attempt <= now))
            due_at = row.due
        agency = agencies.get(reminder.agency)
        if (claimable and due_at >= now - catch_up and now <= _useful_until(reminder, catch_up)
                and agency is not None and agency.emails):
            report.would_send.setdefault(reminder.agency, []).append(reminder)


def _triage(store: DeliveryStore, claim: Claim, by_key: dict[str, Reminder], now: datetime,
            catch_up: timedelta, report: PassReport) -> dict[str, list[tuple[Delivery, Reminder]]]:
    """Split a claim into what to send (by agency) and what to skip or give up on."""
    skip: dict[str, list[str]] = defaultdict(list)
    give_up: list[str] = []
    sendable: dict[str, list[tuple[Delivery, Reminder]]] = defaultdict(list)
    for row in claim.deliveries:
        reminder = by_key.get(row.key)
        if reminder is None:
            skip[SKIP_UNPLANNED].append(row.key)
        elif row.due < now - catch_up and row.attempts <= 1 and not row.uncertain:
            # never tried: missed during downtime (a retry is bounded by usefulness instead)
            skip[f"missed by more than the catch-up window ({catch_up.days} days)"].append(row.key)
        elif now > _useful_until(reminder, catch_up):
            give_up.append(row.key)
        else:
            sendable[row.agency].append((row, reminder))
    for reason, keys in skip.items():
        report.skipped[reason] = report.skipped.get(reason, 0) + store.mark_skipped(
            claim, keys, now, reason)
    if give_up:
        report.gave_up += store.mark_failed(claim, give_up, now,
                                            "gave up: the date has passed, no longer useful")
    return sendable


async def _send(
    ws: Workspace, store: DeliveryStore, mailer: Mailer, claim: Claim,
    sendable: dict[str, list[tuple[Delivery, Reminder]]], now: datetime, report: PassReport,
    rng: random.Random, limits: Limits, pass_started: float,
    stop: StopFlag | None = None,
) -> None:
    last_beat = time.monotonic()
    agencies = ws.agencies()
    names = {a.id: a.name for a in ws.plans.agencies}
    transport = mailer.transport()
    try:
        await transport.__aenter__()
    except (TransientSendError, OSError) as exc:
        for group in sendable.values():
            _retry(store, claim, group, now, f"cannot connect: {exc}", report, rng)
        return
    deferred: list[Callable[[], None]] = []
    order = []
    for agency_id in sorted(sendable):
        group = sendable[agency_id]
        if agencies[agency_id].emails:
            order.append(group)
        else:
            keys = [row.key for row, _ in group]
            report.skipped[SKIP_NO_ADDRESS] = report.skipped.get(SKIP_NO_ADDRESS, 0) + \
                store.mark_skipped(claim, keys, now, SKIP_NO_ADDRESS)

    try:
        for group in order:
            if stop is not None and stop.is_set():
                break  # run_pass gives the rest of the claim back
            agency = agencies[group[0][0].agency]
            prepared = _prepare(ws, mailer, agency, group, names, now)
            if isinstance(prepared, TemplateProblem):
                _retry(store, claim, group, now, f"template: {prepared}", report, rng)
                continue
            await _send_digest(store, mailer, transport, claim, prepared, group, now, report,
                               rng, limits.send_timeout, deferred)
            # `now` is the pass's fixed instant: extend the lease by the time actually spent
            # since then (earlier batches included), or a long pass loses its claim to
            # another replica and mail goes out twice
            clock = time.monotonic()
            if clock - last_beat >= limits.lease.total_seconds() / 4:  # lease left > 3/4
                store.heartbeat(claim,
                                now + timedelta(seconds=clock - pass_started) + limits.lease)
                last_beat = clock
    finally:
        try:
            with store.atomic():
                flush(deferred)  # even when interrupted: a message that went out is recorded
        finally:
            await transport.__aexit__(None, None, None)


@dataclass(frozen=True)
class Prepared:
    """One rendered digest, ready for SMTP."""

    agency: Agency
    reminders: list[Reminder]
    keys: list[str]
    message_id: str
    message: bytes


def _prepare(ws: Workspace, mailer: Mailer, agency: Agency,
             group: list[tuple[Delivery, Reminder]], names: dict[str, str],
             now: datetime) -> Prepared | TemplateProblem:
    """Render and build one digest."""
    reminders = sorted((r for _, r in group), key=lambda r: (r.occurrence.date, r.key))
    keys = [r.key for r in reminders]
    try:
        mail = mailer.renderer.render(Digest(
            agency=agency, reminders=reminders, now=now, feed_url=mailer.feed_url(agency.id),
            plan_names=names, is_working=ws.calendar(reminders[0].occurrence.date,
                                                    reminders[-1].occurrence.date).is_working,
            done_url=mailer.done_url, reply_to=mailer.reply_to, contact=mailer.contact,
        ))
    except TemplateProblem as exc:
        return exc
    message_id = message_id_for(keys, mailer.domain)
    ics = mailer.attachment(agency.id, [r.occurrence for r in reminders], now)
    message = build_message(mail, sender=mailer.sender, to=list(agency.emails),
                            message_id=message_id, ics=ics, date=now,
                            kind=mail_kind(reminders), reply_to=mailer.reply_to)
    return Prepared(agency, reminders, keys, message_id, message)


async def _send_digest(
    store: DeliveryStore, mailer: Mailer, transport: Transport, claim: Claim,
    prepared: Prepared, group: list[tuple[Delivery, Reminder]], now: datetime,
    report: PassReport, rng: random.Random, send_timeout: float,
    deferred: list[Callable[[], None]],
) -> None:
    """Send one digest; its outcome is appended to ``deferred`` and written with the next
    message's in-flight mark (or by ``flush`` at the end)."""
    agency, reminders, keys = prepared.agency, prepared.reminders, prepared.keys
    agency_id, message_id, message = agency.id, prepared.message_id, prepared.message
    # One commit records the previous message's outcome and marks this one in flight (one
    # durable commit per message, not two). From here a crash leaves these reminders
    # uncertain. If the claim was lost (its lease ran out and another process took the rows
    # over), that process sends them: never both.
    with store.atomic():
        flush(deferred)
        taken = store.mark_inflight(claim, keys)
    if taken < len(keys):
        log.warning("mail.claim_lost agency=%s reminders=%d: not sent here", agency_id,
                    len(keys))
        return
    try:
        async with asyncio.timeout(send_timeout):  # not wait_for: no task per message
            result = await transport.send(mailer.sender, list(agency.emails), message)
    except PermanentSendError as exc:
        failed = str(exc)
        deferred.append(lambda: _failed(store, claim, keys, now, failed, report))
        log.warning("mail.failed agency=%s error=%s", agency_id, exc)
        return
    except (UncertainSendError, TimeoutError) as exc:
        error = str(exc) or "timeout"
        retry_at = now + _backoff(1, rng)

        def uncertain() -> None:
            report.uncertain += store.mark_uncertain(claim, keys, now, error, retry_at)

        deferred.append(uncertain)
        log.warning("mail.uncertain agency=%s error=%s", agency_id, exc)
        return
    except (TransientSendError, OSError) as exc:
        error = str(exc)
        deferred.append(lambda: _retry(store, claim, group, now, error, report, rng))
        return
    if not result.accepted:
        refused = f"all recipients refused: {result.refused}"
        deferred.append(lambda: _failed(store, claim, keys, now, refused, report))
        return
    recipients = ", ".join(result.accepted)
    if result.refused:
        recipients += "; refused: " + "; ".join(f"{a} ({e})" for a, e in result.refused.items())

    def sent() -> None:
        marked = store.mark_sent(claim, keys, now, message_id, recipients)
        if marked < len(keys):  # taken over mid-send: the new owner has them as uncertain
            log.warning("mail.sent_claim_lost agency=%s message_id=%s", agency_id, message_id)
        report.sent += marked
        report.messages += 1
        report.late += sum(1 for r in reminders if now - r.due > timedelta(hours=1))

    deferred.append(sent)
    log.info("mail.sent agency=%s reminders=%d message_id=%s", agency_id, len(keys), message_id)


def flush(deferred: list[Callable[[], None]]) -> None:
    """Record the outcomes waiting to be written (in the caller's transaction)."""
    while deferred:
        deferred.pop(0)()


def _failed(store: DeliveryStore, claim: Claim, keys: list[str], now: datetime, error: str,
            report: PassReport) -> None:
    report.failed += store.mark_failed(claim, keys, now, error)


def _retry(store: DeliveryStore, claim: Claim, group: list[tuple[Delivery, Reminder]],
           now: datetime, error: str, report: PassReport, rng: random.Random) -> None:
    attempts = max(row.attempts for row, _ in group)
    keys = [row.key for row, _ in group]
    report.retrying += store.mark_retry(claim, keys, now, error, now + _backoff(attempts, rng))
    log.warning("mail.retry reminders=%d attempts=%d error=%s", len(keys), attempts, error)


def describe_dry_run(report: PassReport, names: dict[str, str]) -> list[str]:
    lines: list[str] = []
    for agency in sorted(report.would_send):
        items = report.would_send[agency]
        lines.append(f"{names.get(agency, agency)} ({agency}): {len(items)} mục")
        for r in items:
            role = ROLE_WORDS[r.role]
            lines.append(f"  {r.occurrence.date:%d/%m/%Y} [{role}] {r.occurrence.title} "
                         f"({r.step})")
    return lines
