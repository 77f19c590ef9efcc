"""Sending the digests of one claim: render, build, send over one connection, and record
each outcome fenced by the claim (one durable commit per message).

Outcomes are deferred: a message's result is written in the same transaction that marks
the next message in flight, so a crash leaves at most the message on the wire uncertain.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
from reminderd.sendpass.report import SKIP_NO_ADDRESS, PassReport
from reminderd.store.base import Claim, Delivery, DeliveryStore
from reminderd.workspace import Workspace

log = logging.getLogger("reminderd.pass")

MAX_BACKOFF = timedelta(hours=6)


class StopFlag(Protocol):
    """Asks a pass to stop (a threading.Event: the daemon's pass runs in its own thread)."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class Limits:
    """The delivery settings a pass needs, as the types it uses."""

    lease: timedelta
    send_timeout: float
    batch: int

    @classmethod
    def of(cls, ws: Workspace) -> Limits:
        d = ws.settings.delivery
        return cls(timedelta(seconds=d.lease_seconds), float(d.send_timeout_seconds),
                   d.claim_batch)


def mail_kind(reminders: Iterable[Reminder]) -> str:
    """X-Reminderd-Kind of a digest: "escalation" when it tells a coordinator of a missed
    deadline, else "overdue" when it reports one, else "reminder"."""
    kinds = {(r.kind, r.role) for r in reminders}
    if (ReminderKind.OVERDUE, Role.COORDINATOR) in kinds and any(
            r.step.startswith("escalate") for r in reminders):
        return "escalation"
    return "overdue" if any(k is ReminderKind.OVERDUE for k, _ in kinds) else "reminder"


def useful_until(reminder: Reminder, catch_up: timedelta) -> datetime:
    """After this instant a retry is pointless: the date has long passed."""
    if reminder.kind is ReminderKind.OVERDUE:
        return reminder.due + catch_up
    return reminder.due + timedelta(days=max(reminder.days_left, 0) + 1)


def _backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential from one minute, capped, with jitter so replicas do not retry in step."""
    base = min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return base * rng.uniform(0.5, 1.0)


async def send_claim(
    ws: Workspace, store: DeliveryStore, mailer: Mailer, claim: Claim,
    sendable: dict[str, list[tuple[Delivery, Reminder]]], now: datetime, report: PassReport,
    rng: random.Random, limits: Limits, pass_started: float,
    stop: StopFlag | None = None,
) -> None:
    """Send the claim's digests, one per agency, in agency order; stop after the message on
    the wire once ``stop`` is set."""
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
            report.add_skipped(SKIP_NO_ADDRESS,
                               store.mark_skipped(claim, keys, now, SKIP_NO_ADDRESS))

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
            plan_names=names,
            calendar=ws.calendar(reminders[0].occurrence.date, reminders[-1].occurrence.date),
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
