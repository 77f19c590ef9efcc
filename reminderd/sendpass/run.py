"""One send pass: plan reminders, materialise them, claim what is due, send one digest
per agency, mark the outcome. ``reminderd send-due`` is one pass; the daemon runs the same.

What makes it safe to run again and again: every reminder has a permanent key in the
store; a claim is fenced by a token; reminders that were already past when their item
first appeared are recorded as skipped, never sent; those missed during downtime are sent
late within the catch-up window and skipped beyond it.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta

from reminderd.core.reminders import Reminder
from reminderd.mail.setup import Mailer
from reminderd.sendpass.report import SKIP_NEW_PAST, SKIP_UNPLANNED, PassReport
from reminderd.sendpass.send import Limits, StopFlag, send_claim, useful_until
from reminderd.store.base import Claim, Delivery, DeliveryStore, Planned
from reminderd.workspace import Workspace

log = logging.getLogger("reminderd.pass")

MATERIALISE_AHEAD = timedelta(days=400)
OCCURRENCES_BEHIND = timedelta(days=200)  # escalations come up to ~120 working days late
GIVE_UP = "gave up: the date has passed, no longer useful"


def current_reminders(ws: Workspace, now: datetime,
                      done: Collection[str] = ()) -> list[Reminder]:
    """The reminders a pass at ``now`` considers (read-only: shared by the day's passes),
    without those of tasks closed from the mail (``done``: their occurrence keys): their
    reminders and escalations stop."""
    planned = ws.reminders_on(ws.local_today(now), OCCURRENCES_BEHIND, MATERIALISE_AHEAD)
    if not done:
        return planned
    return [r for r in planned if r.occurrence.key not in done]


def _planned(reminder: Reminder) -> Planned:
    return Planned(
        key=reminder.key,
        agency=reminder.agency,
        occurrence_key=reminder.occurrence.key,
        occurrence_date=reminder.occurrence.date,
        due=reminder.due,
        kind=str(reminder.kind),
    )


async def run_pass(
    ws: Workspace, store: DeliveryStore, mailer: Mailer, now: datetime, *, owner: str,
    dry_run: bool = False, rng: random.Random | None = None, stop: StopFlag | None = None,
) -> PassReport:
    """``stop``: once set, the pass ends after the message on the wire; what it claimed
    and did not send goes back at once."""
    report = PassReport(now=now)
    reminders = current_reminders(ws, now, store.completions())
    catch_up = timedelta(days=ws.settings.reminders.catch_up_days)
    by_key = {r.key: r for r in reminders}
    today = ws.local_today(now)
    window = [r for r in reminders if now - catch_up - timedelta(days=1) <= r.due]
    report.planned = len(window)
    report.next_due = next((r.due for r in window if r.due > now), None)
    new_past = [r for r in window if r.due.astimezone(ws.settings.zone).date() < today]
    upcoming = [r for r in window if r.due.astimezone(ws.settings.zone).date() >= today]
    if dry_run:
        _dry_run(ws, store, by_key, upcoming, now, catch_up, report)
        return report
    report.new = store.materialize([_planned(r) for r in upcoming], now)
    report.add_skipped(SKIP_NEW_PAST, store.materialize([_planned(r) for r in new_past], now,
                                                        skipped_reason=SKIP_NEW_PAST))
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
                await send_claim(ws, store, mailer, claim, sendable, now, report,
                                 rng or random.Random(), limits, started, stop)
        finally:
            # Whatever this claim did not mark (an error or a stop mid-pass) goes back now,
            # not after the lease; a send that had begun comes back uncertain.
            store.release(claim, [d.key for d in claim.deliveries])
    log.info("pass.done %s", report.summary())
    return report


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


def verdict(reminder: Reminder | None, due: datetime, attempts: int, uncertain: bool,
            now: datetime, catch_up: timedelta) -> str | None:
    """What the pass does with a claimed row (``due``, ``attempts`` counting this claim,
    ``uncertain``): None to send it, or the reason it is skipped (or, for GIVE_UP, failed).
    The real pass and the dry run both ask here."""
    if reminder is None:
        return SKIP_UNPLANNED
    if due < now - catch_up and attempts <= 1 and not uncertain:
        # never tried: missed during downtime (a retry is bounded by usefulness instead)
        return f"missed by more than the catch-up window ({catch_up.days} days)"
    if now > useful_until(reminder, catch_up):
        return GIVE_UP
    return None


def _triage(store: DeliveryStore, claim: Claim, by_key: dict[str, Reminder], now: datetime,
            catch_up: timedelta, report: PassReport) -> dict[str, list[tuple[Delivery, Reminder]]]:
    """Split a claim into what to send (by agency) and what to skip or give up on."""
    skip: dict[str, list[str]] = defaultdict(list)
    sendable: dict[str, list[tuple[Delivery, Reminder]]] = defaultdict(list)
    for row in claim.deliveries:
        reminder = by_key.get(row.key)
        reason = verdict(reminder, row.due, row.attempts, row.uncertain, now, catch_up)
        if reason is None and reminder is not None:
            sendable[row.agency].append((row, reminder))
        else:
            skip[reason or SKIP_UNPLANNED].append(row.key)
    give_up = skip.pop(GIVE_UP, [])
    for reason, keys in skip.items():
        report.add_skipped(reason, store.mark_skipped(claim, keys, now, reason))
    if give_up:
        report.gave_up += store.mark_failed(claim, give_up, now, GIVE_UP)
    return sendable


def _dry_run(ws: Workspace, store: DeliveryStore, by_key: dict[str, Reminder],
             upcoming: list[Reminder], now: datetime, catch_up: timedelta,
             report: PassReport) -> None:
    """What the pass would send, without writing: the rows the store would let a claim
    take now (the claim's own SQL, read-only), and the rows materialising would add
    (pending, due now), each judged by :func:`verdict`, as the pass judges them."""
    # key -> (due, attempts, uncertain) as the claim would return the row
    rows = {d.key: (d.due, d.attempts, d.uncertain) for d in store.claimable(now)}
    fresh = [r for r in upcoming if r.due <= now and r.key not in rows]
    existing = store.lookup([r.key for r in fresh]) if fresh else {}
    for new in fresh:
        if new.key not in existing:  # materialising inserts it pending, due now
            rows[new.key] = (new.due, 1, False)
    agencies = ws.agencies()
    for key in sorted(rows, key=lambda k: (rows[k][0], k)):  # as the pass plans them
        reminder = by_key.get(key)
        if reminder is None or verdict(reminder, *rows[key], now, catch_up) is not None:
            continue
        agency = agencies.get(reminder.agency)
        if agency is not None and agency.emails:
            report.would_send.setdefault(reminder.agency, []).append(reminder)
