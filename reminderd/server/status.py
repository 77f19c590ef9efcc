"""What the status page, /healthz and /metrics show: :class:`StatusInfo`, built by
:func:`status_info` from the (last good) workspace and the delivery store.

Kept apart from the HTTP layer: building it is blocking work (occurrence expansion, store
queries) that the service runs in a thread and assigns to ``WebState``; the handlers in
:mod:`reminderd.server.web` only read the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final

from reminderd.config import redact
from reminderd.core.occurrence import Occurrence, OccurrenceKind
from reminderd.core.reminders import TASK_KINDS, ReminderKind, Role
from reminderd.feeds.tokens import FeedTokens, agency_feed_url, feed_tokens, public_calendar_url
from reminderd.store.base import Completion, Delivery, DeliveryStore, Status
from reminderd.wording import (
    KIND_LABELS,
    ROLE_LABELS,
    days_text,
    decimal,
    occurrence_window,
    short_date,
    vn_date,
    webcal,
    zone_label,
)
from reminderd.workspace import Workspace, with_done

AGENDA_DAYS: Final = 60
RECENT_DAYS_BACK: Final = 90  # delivery rows name items this far back (else their key)
TITLE_DAYS_AHEAD: Final = 120  # delivery rows name items this far ahead (else their key)
_PROBLEM = re.compile(r"^(.+?):(\d+):(\d+): (.*)$", re.S)
# Vietnamese for the frames of errors that do not come from a file
_PREFIXES = (("store: ", "Cơ sở dữ liệu gửi thư: "), ("starting: ", "Đang khởi động: "))

# --- what the status page, /healthz and /metrics show ------------------------------------

@dataclass(frozen=True)
class LastPass:
    at: datetime  # when the pass started (aware)
    duration: float  # seconds
    sent: int = 0
    failed: int = 0
    error: str = ""

    @property
    def duration_text(self) -> str:
        """"0,4": seconds with the Vietnamese decimal comma."""
        return decimal(self.duration)


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
    kind_label: str = ""  # "Hạn chót", "Thời hạn", … (wording.KIND_LABELS)
    window: str = ""  # "trong khoảng 16/07 – 31/07/2026 (5 ngày làm việc)" for a window
    done_text: str = ""  # "đã hoàn thành 12/06/2026 (Sở Ngoại vụ báo qua thư)"


@dataclass(frozen=True)
class Problem:
    """One error line for the page, its place said in Vietnamese."""

    where: str  # "tệp /x/plans.yaml, dòng 12, cột 5" ("" when it has no place)
    message: str


@dataclass(frozen=True)
class CompletionRow:
    """A task closed from the mail, for the admin (who, when, the note) and its undo."""

    key: str
    title: str
    date_text: str  # the item's date
    agency: str  # name
    done_at: str  # local, "HH:MM dd/mm/yyyy"
    note: str


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
    completions: tuple[CompletionRow, ...] = ()

    @property
    def zone_label(self) -> str:
        return zone_label(self.timezone)

    def problem_lines(self) -> list[Problem]:
        """The problems with their place in Vietnamese ("tệp …, dòng …, cột …")."""
        out = []
        for line in self.problems:
            found = _PROBLEM.match(line)
            if found is not None:
                where = f"tệp {found[1]}, dòng {found[2]}, cột {found[3]}"
                out.append(Problem(where, found[4]))
                continue
            for english, vietnamese in _PREFIXES:
                if line.startswith(english):
                    line = vietnamese + line[len(english):]
            out.append(Problem("", line))
        return out

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


def _done_text(occ: Occurrence, names: Mapping[str, str]) -> str:
    if occ.done is None:
        return ""
    who = f" ({names.get(occ.done_by, occ.done_by)} báo qua thư)" if occ.done_by else ""
    return f"đã hoàn thành {short_date(occ.done)}{who}"


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
                      done=occ.done is not None, kind_label=KIND_LABELS.get(occ.kind, ""),
                      window=occurrence_window(occ), done_text=_done_text(occ, names))


def overdue_items(ws: Workspace, today: date, done: Mapping[str, Completion]
                  ) -> list[Occurrence]:
    """Every task past its date and not done (in plans.yaml or from the mail), however old:
    the same list as ``agenda --json`` from the first plan's year, filtered."""
    first = ws.earliest()
    if first >= today:
        return []
    items = with_done(ws.occurrences(first, today - timedelta(days=1)), done, ws.settings.zone)
    return [o for o in items if o.kind in TASK_KINDS and o.done is None and o.date < today]


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
    finished: dict[str, Completion] = {}
    if store is not None:
        try:
            finished = store.completions()
        except Exception:  # reported below, with the rest of the store's state
            finished = {}
    nearby = with_done(ws.occurrences(today - timedelta(days=RECENT_DAYS_BACK),
                                      today + timedelta(days=TITLE_DAYS_AHEAD),
                                      open_during=True), finished, ws.settings.zone)
    last_day = today + timedelta(days=AGENDA_DAYS - 1)
    by_agency: dict[str, list[AgendaItem]] = {a: [] for a in names}
    for occ in nearby:
        first = occ.start if occ.kind is OccurrenceKind.WINDOW and occ.start else occ.date
        if occ.date < today or first > last_day:  # open during the next 60 days
            continue
        roles = [(a, ROLE_LABELS[Role.LEAD]) for a in occ.lead]
        roles += [(a, ROLE_LABELS[Role.SUPPORT]) for a in occ.support if a not in occ.lead]
        if occ.coordinator and occ.coordinator not in occ.lead + occ.support:
            roles.append((occ.coordinator, ROLE_LABELS[Role.COORDINATOR]))
        for agency, role in roles:
            by_agency.setdefault(agency, []).append(_agenda_item(occ, today, role, names))
    late = overdue_items(ws, today, finished)
    overdue = tuple(_agenda_item(o, today, "", names) for o in late)
    agencies = tuple(
        AgencyStatus(id=a.id, name=a.name, feed_url=agency_feed_url(ws, tokens, a.id),
                     webcal_url=webcal(agency_feed_url(ws, tokens, a.id)),
                     items=tuple(by_agency.get(a.id, ())))
        for a in ws.plans.agencies)
    titles = {o.key: o.title for o in late}
    titles.update((o.key, o.title) for o in nearby)
    closed = tuple(CompletionRow(
        key=c.occurrence_key, title=titles.get(c.occurrence_key, c.occurrence_key),
        date_text=short_date(c.occurrence_date), agency=names.get(c.agency, c.agency),
        done_at=_local(c.done_at, ws), note=c.note)
        for c in sorted(finished.values(), key=lambda c: (c.done_at, c.occurrence_key),
                        reverse=True))

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
            store_ok, reason = False, redact(" ".join(f"{type(exc).__name__}: {exc}".split()))
    # the whole calendar's subscription link exists only when it is public (its own token);
    # the admin listener's /calendar.ics is for admins, not for subscribers
    whole = public_calendar_url(ws, tokens) if ws.settings.feeds.public_calendar else ""
    return StatusInfo(
        generated_at=now, timezone=ws.settings.timezone, problems=tuple(problems),
        store_ok=store_ok, store_reason=reason, last_pass=last_pass, counts=counts,
        calendar_url=whole, calendar_webcal=webcal(whole) if whole else "", agencies=agencies,
        overdue=overdue, recent=recent, failures=failures, completions=closed)
