"""What the mail templates see: a digest turned into plain dicts of ready-made Vietnamese text.

Templates are edited by admins, so they get simple values (``item.title``, ``item.date``,
``item.days_text`` ...) rather than the core objects; every phrase that needs arithmetic or
grammar (weekday names, "còn 7 ngày", the late-send note) is made here, once, in Python.

Pure: no I/O, no clock (``now`` is in the digest).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reminderd.core.model import Agency, Contact
from reminderd.core.occurrence import OccurrenceKind
from reminderd.core.reminders import Reminder, ReminderKind
from reminderd.core.workdays import WorkCalendar
from reminderd.wording import (
    ROLE_LABELS,
    at_time,
    days_text,
    occurrence_window,
    short_date,
    vn_date,
    webcal,
)

LATE_AFTER = timedelta(hours=1)  # a reminder sent more than this after its due time says so
_TASK_REMINDERS = frozenset({ReminderKind.DEADLINE, ReminderKind.WINDOW_OPEN,
                             ReminderKind.OVERDUE})
# Which reminder of one occurrence to show when several are due in one pass (catch-up).
_PRIORITY = {ReminderKind.OVERDUE: 0, ReminderKind.DEADLINE: 1, ReminderKind.AGREEMENT: 1,
             ReminderKind.OCCASION: 1, ReminderKind.WINDOW_OPEN: 2}
_FIXED_DAY = frozenset({OccurrenceKind.OCCASION, OccurrenceKind.ANNIVERSARY})


@dataclass(frozen=True)
class Digest:
    """One message for one agency in one pass.

    ``reminders``: everything due for the agency in this pass, any kinds, any order (shown in
    date order; several reminders of one occurrence, as after a catch-up, are shown once).
    ``now``: aware, the pass time; a reminder whose ``due`` is more than an hour before it
    is marked "Gửi muộn". ``feed_url``: the agency's feed (its https/http form; the webcal
    form is derived). ``plan_names``: agency id -> full name, for lead/support names.
    ``calendar``: the working days; with it, a deadline on a weekend or holiday gets a note
    naming the working day before it (occasions never do: their day is fixed). Without it,
    no such note.
    """

    agency: Agency
    reminders: Sequence[Reminder]
    now: datetime
    feed_url: str
    plan_names: Mapping[str, str]
    calendar: WorkCalendar | None = None
    # --- answering (issue 14) ---
    done_url: Callable[[Reminder], str] | None = None  # the item's "đã hoàn thành" link
    reply_to: str = ""  # mail.reply_to: with it, no "do not reply" footer
    contact: Contact | None = None  # the sending office's person (config contact)


def contact_view(contact: Contact | None) -> dict[str, str] | None:
    """A contact for the templates: name, phone, email and the whole as one line."""
    if contact is None:
        return None
    parts = [contact.name, f"điện thoại {contact.phone}" if contact.phone else "",
             f"e-mail {contact.email}" if contact.email else ""]
    return {"name": contact.name, "phone": contact.phone, "email": contact.email,
            "line": ", ".join(p for p in parts if p)}


def _pick(reminders: Sequence[Reminder]) -> list[Reminder]:
    """One reminder per occurrence (the most urgent kind, then the latest due)."""
    best: dict[tuple[str, date], Reminder] = {}
    for r in reminders:
        k = (r.occurrence.key, r.occurrence.date)
        old = best.get(k)
        if old is None or (_PRIORITY.get(r.kind, 1), old.due) < (_PRIORITY.get(old.kind, 1),
                                                                r.due):
            best[k] = r
    return sorted(best.values(), key=lambda r: (r.occurrence.date, _PRIORITY.get(r.kind, 1),
                                                r.occurrence.title, r.key))


def _item(r: Reminder, today: date, digest: Digest, zone: ZoneInfo) -> dict[str, Any]:
    occ = r.occurrence
    names = digest.plan_names
    days = (occ.date - today).days
    late = r.due < digest.now - LATE_AFTER
    calendar = digest.calendar
    non_working = (calendar is not None and occ.kind not in _FIXED_DAY
                   and not calendar.is_working(occ.date))
    before = calendar.previous_working(occ.date) if calendar is not None and non_working \
        else None
    return {
        "key": r.key,
        "kind": str(r.kind),
        "occurrence_kind": str(occ.kind),
        "step": r.step,
        "title": occ.title,
        "plan_title": occ.source_title,
        "reference": occ.reference,
        "text": occ.text,
        "notes": occ.notes,
        "role": ROLE_LABELS[r.role],
        "role_id": str(r.role),
        "date": vn_date(occ.date) + at_time(occ),
        "date_short": short_date(occ.date),
        "date_iso": occ.date.isoformat(),
        "nominal": vn_date(occ.nominal) if occ.nominal else "",
        "start": vn_date(occ.start) if occ.start else "",
        "end": vn_date(occ.end) if occ.end else "",
        "workdays": occ.workdays,
        "days": days,
        "days_text": days_text(r.kind, days),
        "non_working": non_working,
        "working_before": vn_date(before) if before else "",
        "late": late,
        "due": (f"{r.due.astimezone(zone):%H:%M} {vn_date(r.due.astimezone(zone).date())}"
                if late else ""),
        "ordinal": occ.ordinal,
        "round": occ.round,
        "lead": [names.get(a, a) for a in occ.lead],
        "support": [names.get(a, a) for a in occ.support if a not in occ.lead],
        "coordinator": names.get(occ.coordinator, occ.coordinator) if occ.coordinator else "",
        "window": occurrence_window(occ),
        "contact": contact_view(occ.contact),
        "done_url": (digest.done_url(r) if digest.done_url is not None
                     and r.kind in _TASK_REMINDERS else ""),
    }


def context(digest: Digest, zone: ZoneInfo) -> dict[str, Any]:
    """The variables every mail template gets."""
    if digest.now.tzinfo is None:
        raise ValueError("Digest.now must be an aware datetime")
    if not digest.reminders:
        raise ValueError("a digest needs at least one reminder")
    today = digest.now.astimezone(zone).date()
    chosen = _pick(digest.reminders)
    items = [_item(r, today, digest, zone) for r in chosen]
    upcoming = [i for i in items if i["days"] >= 0]
    overdue = sum(1 for r in chosen if r.kind is ReminderKind.OVERDUE)
    kinds = {r.kind for r in chosen}
    if kinds <= _TASK_REMINDERS:
        noun = "nhiệm vụ"
    elif kinds == {ReminderKind.OCCASION}:
        noun = "sự kiện"
    else:
        noun = "nội dung"
    return {
        "agency": {"id": digest.agency.id, "name": digest.agency.name},
        "items": items,
        "count": len(items),
        "overdue_count": overdue,
        "upcoming_count": len(items) - overdue,
        "late_count": sum(1 for i in items if i["late"]),
        "nearest": upcoming[0]["date_short"] if upcoming else "",
        "noun": noun,
        "feed_url": digest.feed_url,
        "webcal_url": webcal(digest.feed_url),
        "today": vn_date(today),
        "reply_to": digest.reply_to,
        "contact": contact_view(digest.contact),
        "done_links": any(i["done_url"] for i in items),
    }
