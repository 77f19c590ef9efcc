"""What the status page, /healthz and /metrics show: :class:`StatusInfo`, built by
:func:`status_info` from the (last good) workspace and the delivery store.

Kept apart from the HTTP layer: building it is blocking work (occurrence expansion, store
queries) that the service runs in a thread and assigns to ``WebState``; the handlers in
:mod:`reminderd.server.web` only read the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final

from reminderd.core.occurrence import Occurrence, OccurrenceKind
from reminderd.core.reminders import TASK_KINDS, ReminderKind, Role
from reminderd.feeds.tokens import FeedTokens, agency_feed_url, feed_tokens
from reminderd.server.publish import CALENDAR_PATH
from reminderd.store.base import Delivery, DeliveryStore, Status
from reminderd.wording import ROLE_LABELS, days_text, vn_date, webcal
from reminderd.workspace import Workspace

AGENDA_DAYS: Final = 60
OVERDUE_DAYS_BACK: Final = 90  # the status page lists unfinished tasks this far back
TITLE_DAYS_AHEAD: Final = 120  # delivery rows name items this far ahead (else their key)

# --- what the status page, /healthz and /metrics show ------------------------------------

@dataclass(frozen=True)
class LastPass:
    at: datetime  # when the pass started (aware)
    duration: float  # seconds
    sent: int = 0
    failed: int = 0
    error: str = ""


@dataclass(frozen=True)
class AgendaItem:
    date: date
    date_text: str  # "Thứ Sáu, 12/06/2026"
    title: str
    kind: str  # OccurrenceKind value
    role: str  # "Chủ trì" / "Phối hợp" / "Cơ quan theo dõi, đôn đốc" ("" in the overdue list)
    days_text: str  # "còn 3 ngày", "đã quá hạn 2 ngày"
    text: str = ""  # the time phrase as written
    plan: str = ""  # the plan's title
    lead: tuple[str, ...] = ()  # lead agencies' names
    done: bool = False


@dataclass(frozen=True)
class AgencyStatus:
    id: str
    name: str
    feed_url: str  # https/http
    webcal_url: str
    items: tuple[AgendaItem, ...]  # the next AGENDA_DAYS days, by date


@dataclass(frozen=True)
class DeliveryRow:
    key: str
    agency: str  # name
    title: str
    kind: str  # ReminderKind value
    status: str  # Status value
    due: str  # local, "HH:MM dd/mm/yyyy"
    updated: str
    attempts: int
    error: str
    uncertain: bool


@dataclass(frozen=True)
class StatusInfo:
    generated_at: datetime
    timezone: str = "Asia/Ho_Chi_Minh"
    problems: tuple[str, ...] = ()  # the last reload's errors, "FILE:LINE:COL: message"
    store_ok: bool = True
    store_reason: str = ""
    last_pass: LastPass | None = None
    counts: Mapping[str, int] = field(default_factory=dict)  # Status value -> rows
    calendar_url: str = ""
    calendar_webcal: str = ""
    agencies: tuple[AgencyStatus, ...] = ()
    overdue: tuple[AgendaItem, ...] = ()
    recent: tuple[DeliveryRow, ...] = ()
    failures: tuple[DeliveryRow, ...] = ()
    agenda_days: int = AGENDA_DAYS

    def local(self, moment: datetime | None) -> str:
        """``moment`` in the configured zone, "HH:MM dd/mm/yyyy" (for the template)."""
        if moment is None:
            return ""
        from zoneinfo import ZoneInfo
        local = moment.astimezone(ZoneInfo(self.timezone))
        return f"{local:%H:%M} {local:%d/%m/%Y}"

    def healthy_problems(self) -> list[str]:
        """What makes /healthz answer 503 (empty when healthy)."""
        found = list(self.problems)
        if not self.store_ok:
            found.append(f"store unreachable: {self.store_reason}")
        return found


def _local(moment: datetime | None, ws: Workspace) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(ws.settings.zone)
    return f"{local:%H:%M} {local:%d/%m/%Y}"


def _agenda_item(occ: Occurrence, today: date, role: str, names: Mapping[str, str]
                 ) -> AgendaItem:
    days = (occ.date - today).days
    if occ.kind in (OccurrenceKind.OCCASION, OccurrenceKind.ANNIVERSARY):
        phrase = days_text(ReminderKind.OCCASION, days)
    elif occ.kind in (OccurrenceKind.REVIEW, OccurrenceKind.EXPIRY):
        phrase = days_text(ReminderKind.AGREEMENT, days)
    else:
        phrase = days_text(ReminderKind.DEADLINE, days)
    return AgendaItem(date=occ.date, date_text=vn_date(occ.date), title=occ.title,
                      kind=str(occ.kind), role=role, days_text=phrase, text=occ.text,
                      plan=occ.source_title, lead=tuple(names.get(a, a) for a in occ.lead),
                      done=occ.done is not None)


def status_info(ws: Workspace, now: datetime, store: DeliveryStore | None,
                problems: Iterable[str], last_pass: LastPass | None, *,
                tokens: FeedTokens | None = None, recent_limit: int = 30) -> StatusInfo:
    """Everything the status page shows, from the (last good) workspace and the store.

    Blocking: it expands occurrences and queries the store (sqlite connections belong to
    the thread that opened them, so call it where the store is used). Store errors do not
    raise: they come back as ``store_ok=False`` with the reason."""
    if tokens is None:
        tokens = feed_tokens(ws)
    today = ws.local_today(now)
    names = {a.id: a.name for a in ws.plans.agencies}
    # one expansion: overdue items, the agenda, and the titles of recent deliveries (whose
    # reminders go out up to ~90 days ahead of their item)
    nearby = ws.occurrences(today - timedelta(days=OVERDUE_DAYS_BACK),
                            today + timedelta(days=TITLE_DAYS_AHEAD))
    last_day = today + timedelta(days=AGENDA_DAYS - 1)
    by_agency: dict[str, list[AgendaItem]] = {a: [] for a in names}
    for occ in nearby:
        if not today <= occ.date <= last_day:
            continue
        roles = [(a, ROLE_LABELS[Role.LEAD]) for a in occ.lead]
        roles += [(a, ROLE_LABELS[Role.SUPPORT]) for a in occ.support if a not in occ.lead]
        if occ.coordinator and occ.coordinator not in occ.lead + occ.support:
            roles.append((occ.coordinator, ROLE_LABELS[Role.COORDINATOR]))
        for agency, role in roles:
            by_agency.setdefault(agency, []).append(_agenda_item(occ, today, role, names))
    overdue = tuple(_agenda_item(o, today, "", names) for o in nearby
                    if o.kind in TASK_KINDS and o.done is None and o.date < today)
    agencies = tuple(
        AgencyStatus(id=a.id, name=a.name, feed_url=agency_feed_url(ws, tokens, a.id),
                     webcal_url=webcal(agency_feed_url(ws, tokens, a.id)),
                     items=tuple(by_agency.get(a.id, ())))
        for a in ws.plans.agencies)
    titles = {o.key: o.title for o in nearby}

    def row(d: Delivery) -> DeliveryRow:
        return DeliveryRow(key=d.key, agency=names.get(d.agency, d.agency),
                           title=titles.get(d.occurrence_key, d.occurrence_key),
                           kind=str(d.kind), status=str(d.status), due=_local(d.due, ws),
                           updated=_local(d.updated_at, ws), attempts=d.attempts,
                           error=d.last_error or "", uncertain=bool(d.uncertain))

    store_ok, reason = True, ""
    counts: dict[str, int] = {s.value: 0 for s in Status}
    recent: tuple[DeliveryRow, ...] = ()
    failures: tuple[DeliveryRow, ...] = ()
    if store is None:
        store_ok, reason = False, "no store configured"
    else:
        try:
            store.ping()
            counts.update({str(k): v for k, v in store.counts().items()})
            bad = store.deliveries(Status.FAILED, limit=recent_limit)
            bad += store.deliveries(Status.RETRYING, limit=recent_limit)
            done = store.deliveries(Status.SENT, limit=recent_limit) + bad
            for found in (bad, done):
                found.sort(key=lambda d: (d.updated_at, d.key), reverse=True)
            recent = tuple(row(d) for d in done[:recent_limit])
            failures = tuple(row(d) for d in bad[:recent_limit])
        except Exception as exc:  # any backend error means "unreachable" for the admin
            store_ok, reason = False, " ".join(f"{type(exc).__name__}: {exc}".split())
    whole = f"{ws.settings.public_url}{CALENDAR_PATH}"
    return StatusInfo(
        generated_at=now, timezone=ws.settings.timezone, problems=tuple(problems),
        store_ok=store_ok, store_reason=reason, last_pass=last_pass, counts=counts,
        calendar_url=whole, calendar_webcal=webcal(whole), agencies=agencies,
        overdue=overdue, recent=recent, failures=failures)
