"""Expand the plans model over a date range into dated occurrences with stable keys.

Keys (the feed's UIDs and the stem of reminder keys) name the item, never its position
in plans.yaml, and name the period only for repeating items:
``task/<plan>/<task>``, ``task/<plan>/<task>@2024-06`` (a report period),
``occasion/<id>@2026``, ``agreement/<id>/review@2019``, ``agreement/<id>/expiry``.
So reordering plans.yaml or moving a one-off deadline keeps every key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

from reminderd.core.model import Agreement, Occasion, OccasionKind, Plan, Plans, Task
from reminderd.core.occurrence import Occurrence, OccurrenceKind
from reminderd.core.recurrence import expand as expand_rule
from reminderd.core.recurrence import period_label
from reminderd.core.timing import Kind, Recurrence, Relative
from reminderd.core.workdays import WorkCalendar, add_months, period_end

MAX_OCCURRENCES = 2_000_000
MAX_PER_ITEM = 10_000


class ExpansionLimitError(ValueError):
    """The range would produce more occurrences than allowed (a hostile or mistaken rule)."""


@dataclass(frozen=True)
class Unscheduled:
    """An item that yields no dated occurrence, and why (reported by ``check``)."""

    key: str
    title: str
    reason: str
    origin: str


def expand(
    plans: Plans,
    start: date,
    end: date,
    calendar: WorkCalendar,
    *,
    limit: int = MAX_OCCURRENCES,
    open_during: bool = False,
) -> list[Occurrence]:
    """All occurrences dated within ``start``..``end`` inclusive, sorted by (date, key).

    ``open_during``: also the windows open during the range (begun by its end, due after
    it), as ``agenda`` lists them: a "Tháng 12/2024" task is open on 01/12/2024.
    """
    found: list[Occurrence] = []
    for item in _all(plans, start, end, calendar):
        first = item.start if open_during and item.kind is OccurrenceKind.WINDOW else None
        if start <= item.date <= end or (
                first is not None and first <= end and item.date >= start):
            found.append(item)
            if len(found) > limit:
                raise ExpansionLimitError(
                    f"more than {limit} occurrences between {start} and {end}; "
                    "shorten the range or split plans.yaml"
                )
    found.sort(key=lambda o: (o.date, o.key))
    return found


def unscheduled(plans: Plans) -> list[Unscheduled]:
    """Tasks that cannot be placed on a date, with the reason (never silently dropped)."""
    out: list[Unscheduled] = []
    for plan in plans.plans:
        for task in plan.tasks:
            reason = _unscheduled_reason(task)
            if reason:
                out.append(Unscheduled(_task_key(plan, task), task.title, reason, task.origin))
    return out


def _unscheduled_reason(task: Task) -> str:
    timing = task.when
    if timing.kind is Kind.UNSCHEDULED:
        why = f": {timing.reason}" if timing.reason and timing.reason not in timing.text else ""
        return f"không có mốc thời gian ({timing.text}){why}"
    if timing.kind is Kind.ONGOING and timing.start is None and timing.end is None:
        return f"thường xuyên, không có mốc bắt đầu hay kết thúc ({timing.text})"
    rel = timing.relative
    if timing.kind is Kind.DEADLINE and timing.end is None and (rel is None or rel.start is None):
        return f"thời hạn tính từ một mốc chưa có trong plans.yaml ({timing.text})"
    rule = timing.recurrence
    if timing.kind is Kind.RECURRING and rule is not None and rule.day == 0 and not rule.anchor:
        return f"định kỳ nhưng chưa có ngày gốc ({timing.text})"
    return ""


def _all(plans: Plans, start: date, end: date, calendar: WorkCalendar) -> Iterator[Occurrence]:
    for plan in plans.plans:
        for task in plan.tasks:
            yield from _task(plan, task, start, end, calendar)
    for occasion in plans.occasions:
        yield from _occasion(occasion, start, end)
    for agreement in plans.agreements:
        yield from _agreement(agreement, start, end, calendar)


def _task_key(plan: Plan, task: Task) -> str:
    return f"task/{plan.id}/{task.id}"


_TASK_KINDS = {
    Kind.DEADLINE: OccurrenceKind.DEADLINE,
    Kind.WINDOW: OccurrenceKind.WINDOW,
    Kind.ONGOING: OccurrenceKind.ONGOING,
}


def _task(
    plan: Plan, task: Task, start: date, end: date, calendar: WorkCalendar
) -> Iterator[Occurrence]:
    timing = task.when
    base = Occurrence(
        key=_task_key(plan, task),
        kind=OccurrenceKind.DEADLINE,
        date=start,
        title=task.title,
        lead=task.lead,
        support=task.support,
        source=plan.id,
        reference=plan.reference,
        source_title=plan.title,
        text=timing.text,
        done=task.done,
        remind=task.remind,
        coordinator=plan.coordinator,
        notes=task.notes,
        origin=task.origin,
        contact=task.contact or plan.contact,
    )
    if timing.kind is Kind.RECURRING and timing.recurrence is not None:
        yield from _reports(plan, task, base, timing.recurrence, start, end)
        return
    kind = _TASK_KINDS.get(timing.kind)
    if kind is None:
        return
    day = timing.end if timing.end is not None else timing.start
    if timing.relative is not None and timing.relative.start is not None:
        day = period_end(timing.relative, calendar)  # Civil Code Art. 147-148
    if day is None:
        return
    nominal = timing.nominal if timing.nominal != day else None
    if task.inclusive and timing.exclusive and timing.nominal is not None:
        day, nominal = timing.nominal, None  # the item says the written day itself is allowed
    yield replace(
        base,
        kind=kind,
        date=day,
        start=timing.start,
        end=timing.end if kind is not OccurrenceKind.DEADLINE else None,
        nominal=nominal,
        workdays=timing.workdays,
        time=timing.time or "",
        daypart=timing.daypart or "",
        ordinal=_ordinal(timing.since, day.year),
    )


def _reports(
    plan: Plan, task: Task, base: Occurrence, rule: Recurrence, start: date, end: date
) -> Iterator[Occurrence]:
    """A recurring duty in a plan runs from the plan's year through its end year."""
    if rule.day == 0 and rule.anchor is None:
        return
    first = max(start, date(plan.year, 1, 1))
    last = min(end, date(plan.end_year or plan.year, 12, 31))
    if last < first:
        return
    for day in expand_rule(rule, first, last, limit=MAX_PER_ITEM):
        yield replace(
            base,
            key=f"{base.key}@{period_label(rule, day)}",
            kind=OccurrenceKind.REPORT,
            date=day,
        )


def _ordinal(since: int | None, year: int) -> int | None:
    return year - since if since is not None and year > since else None


def _anniversary_title(title: str, years: int) -> str:
    """"Ngày thiết lập quan hệ …" in 2022, since 1992 -> "Kỷ niệm 30 năm thiết lập quan hệ …"."""
    body = title[5:] if title.lower().startswith("ngày ") else title
    return f"Kỷ niệm {years} năm {body}"


def _occasion(occasion: Occasion, start: date, end: date) -> Iterator[Occurrence]:
    for day in expand_rule(occasion.rule, start, end, limit=MAX_PER_ITEM):
        years = _ordinal(occasion.since, day.year)
        if occasion.since is not None and years is None:
            continue  # before the founding date there is nothing to celebrate
        yield Occurrence(
            key=f"occasion/{occasion.id}@{period_label(occasion.rule, day)}",
            kind=OccurrenceKind.ANNIVERSARY if years else OccurrenceKind.OCCASION,
            date=day,
            title=_anniversary_title(occasion.title, years) if years else occasion.title,
            lead=occasion.lead,
            support=occasion.support,
            source=occasion.id,
            text=occasion.date_text,
            ordinal=years,
            round=bool(years and years % 5 == 0),
            remind=occasion.remind,
            occasion_kind=str(occasion.kind or OccasionKind.OTHER),
            notes=occasion.notes,
            origin=occasion.origin,
        )


def add_years(day: date, years: int) -> date:
    """The same day and month ``years`` later; 29/2 becomes 28/2 in a common year."""
    return add_months(day, 12 * years)


def agreement_expiry(agreement: Agreement, calendar: WorkCalendar) -> date | None:
    """Last day of validity: ``valid_years`` counted from the signing day, the one rule for a
    period from a date (Civil Code Art. 147-148, ``workdays.period_end``)."""
    if agreement.valid_years is None:
        return None
    return period_end(Relative(agreement.valid_years, "year", "ký", agreement.signed), calendar)


def _agreement(
    agreement: Agreement, start: date, end: date, calendar: WorkCalendar
) -> Iterator[Occurrence]:
    base = Occurrence(
        key=f"agreement/{agreement.id}",
        kind=OccurrenceKind.REVIEW,
        date=agreement.signed,
        title=agreement.title,
        lead=agreement.lead,
        support=agreement.support,
        source=agreement.id,
        reference=agreement.reference,
        source_title=agreement.title,
        remind=agreement.remind,
        notes=agreement.notes,
        origin=agreement.origin,
    )
    expiry = agreement_expiry(agreement, calendar)
    every = agreement.review_every_years
    if every:
        step = 1
        while True:
            day = add_years(agreement.signed, every * step)
            if day > end or (expiry is not None and day >= expiry) or step > MAX_PER_ITEM:
                break
            if day >= start:
                yield replace(
                    base,
                    key=f"{base.key}/review@{day.year}",
                    date=day,
                    title=f"{agreement.title} - sơ kết {every * step} năm",
                    text=f"định kỳ {every:02d} năm/lần từ {agreement.signed:%d/%m/%Y}",
                )
            step += 1
    if expiry is not None:
        yield replace(
            base,
            key=f"{base.key}/expiry",
            kind=OccurrenceKind.EXPIRY,
            date=expiry,
            title=f"{agreement.title} - hết hiệu lực",
            text=f"có giá trị {agreement.valid_years} năm từ {agreement.signed:%d/%m/%Y}",
        )
