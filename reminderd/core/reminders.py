"""Reminder policy: which agency is reminded of which occurrence, and when.

Pure: occurrences + policy + working-day calendar -> planned reminders with stable keys
``<occurrence key>|<date>|<step>|<agency>``. The date is in the key so that a moved
deadline gets fresh reminders (its past steps are then skipped by the pass, never sent).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from reminderd.core.occurrence import Occurrence, OccurrenceKind
from reminderd.core.workdays import WorkCalendar

UTC = ZoneInfo("UTC")


class Role(StrEnum):
    LEAD = "lead"  # chủ trì
    SUPPORT = "support"  # phối hợp
    COORDINATOR = "coordinator"  # the plan's follow-up office, on escalation


class ReminderKind(StrEnum):
    DEADLINE = "deadline"  # ahead of a task's deadline (or a window's end)
    WINDOW_OPEN = "window_open"  # a window or ongoing task begins
    OCCASION = "occasion"  # ahead of an occasion or anniversary
    AGREEMENT = "agreement"  # ahead of an agreement's review or expiry
    OVERDUE = "overdue"  # after a missed deadline


TASK_KINDS = frozenset({OccurrenceKind.DEADLINE, OccurrenceKind.WINDOW, OccurrenceKind.REPORT})


@dataclass(frozen=True)
class Policy:
    """The reminder ladders (config ``reminders``); task ladders count working days. No
    defaults here: they are the config schema's (``reminderd.workspace.policy_of``)."""

    send_time: time
    zone: str
    lead_workdays: tuple[int, ...]
    support_workdays: tuple[int, ...]
    occasion_days: tuple[int, ...]
    round_anniversary_days: tuple[int, ...]
    new_year_days: tuple[int, ...]
    agreement_days: tuple[int, ...]
    overdue_after_workdays: int
    escalate_after_workdays: int


@dataclass(frozen=True)
class Reminder:
    """One agency to be told about one occurrence on one day."""

    key: str
    occurrence: Occurrence
    agency: str
    role: Role
    kind: ReminderKind
    step: str  # "lead-14wd", "support-1wd", "open", "day-90", "overdue-1wd", "escalate-5wd"
    day: date  # the local working day it goes out
    due: datetime  # that day at the send time, in UTC
    days_left: int  # calendar days from `day` to the occurrence date (negative when overdue)


def plan(
    occurrences: Iterable[Occurrence], policy: Policy, calendar: WorkCalendar
) -> list[Reminder]:
    """Every reminder the occurrences call for, sorted by (due, key). Done tasks get none."""
    zone = ZoneInfo(policy.zone)
    out = [
        _reminder(occ, agency, role, kind, step, day, policy, zone)
        for occ in occurrences
        if occ.done is None
        for agency, role, kind, step, day in _steps(occ, policy, calendar)
    ]
    out.sort(key=lambda r: (r.due, r.key))
    return out


def _reminder(
    occ: Occurrence, agency: str, role: Role, kind: ReminderKind, step: str, day: date,
    policy: Policy, zone: ZoneInfo,
) -> Reminder:
    due = datetime.combine(day, policy.send_time, tzinfo=zone).astimezone(UTC)
    return Reminder(
        key=f"{occ.key}|{occ.date.isoformat()}|{step}|{agency}",
        occurrence=occ,
        agency=agency,
        role=role,
        kind=kind,
        step=step,
        day=day,
        due=due,
        days_left=(occ.date - day).days,
    )


Step = tuple[str, Role, ReminderKind, str, date]


def _steps(occ: Occurrence, policy: Policy, cal: WorkCalendar) -> Iterator[Step]:
    if occ.kind in TASK_KINDS:
        yield from _task_steps(occ, policy, cal)
    elif occ.kind is OccurrenceKind.ONGOING:
        if occ.start is not None:
            for agency in occ.lead:
                yield agency, Role.LEAD, ReminderKind.WINDOW_OPEN, "open", cal.previous_working(
                    occ.start)
    elif occ.kind in (OccurrenceKind.REVIEW, OccurrenceKind.EXPIRY):
        yield from _calendar_steps(occ, occ.remind or policy.agreement_days,
                                   ReminderKind.AGREEMENT, cal)
    else:
        yield from _calendar_steps(occ, _occasion_ladder(occ, policy), ReminderKind.OCCASION, cal)


def _occasion_ladder(occ: Occurrence, policy: Policy) -> tuple[int, ...]:
    if occ.remind is not None:
        return occ.remind
    if occ.round:
        return policy.round_anniversary_days
    if occ.occasion_kind == "new_year":
        return policy.new_year_days
    return policy.occasion_days


def _calendar_steps(
    occ: Occurrence, ladder: Iterable[int], kind: ReminderKind, cal: WorkCalendar
) -> Iterator[Step]:
    """Calendar days before the date, moved back to a working day."""
    for days in sorted(set(ladder), reverse=True):
        day = cal.previous_working(occ.date - timedelta(days=days))
        for agency in occ.lead:
            yield agency, Role.LEAD, kind, f"day-{days}", day
        for agency in occ.support:
            if agency not in occ.lead:
                yield agency, Role.SUPPORT, kind, f"day-{days}", day


def _task_steps(occ: Occurrence, policy: Policy, cal: WorkCalendar) -> Iterator[Step]:
    # A task whose document names no lead ("theo chương trình của các đoàn") is followed by
    # the plan's coordinator: it gets the lead's ladder, so no task goes unreminded.
    if occ.lead or not occ.coordinator:
        leads, lead_role, prefix = occ.lead, Role.LEAD, "lead"
    else:
        leads, lead_role, prefix = (occ.coordinator,), Role.COORDINATOR, "coordinator"
    lead_ladder = occ.remind if occ.remind is not None else policy.lead_workdays
    support_ladder = occ.remind if occ.remind is not None else policy.support_workdays
    first_ladder_day = None
    for days in sorted(set(lead_ladder), reverse=True):
        day = _workdays_before(occ.date, days, cal)
        first_ladder_day = first_ladder_day or day
        for agency in leads:
            yield agency, lead_role, ReminderKind.DEADLINE, f"{prefix}-{days}wd", day
    for days in sorted(set(support_ladder), reverse=True):
        day = _workdays_before(occ.date, days, cal)
        for agency in occ.support:
            if agency not in leads:
                yield agency, Role.SUPPORT, ReminderKind.DEADLINE, f"support-{days}wd", day
    if occ.kind is OccurrenceKind.WINDOW and occ.start is not None:
        opening = cal.previous_working(occ.start)
        if first_ladder_day is None or opening < first_ladder_day:
            for agency in leads:
                yield agency, lead_role, ReminderKind.WINDOW_OPEN, "open", opening
    overdue = cal.add_working_days(occ.date, policy.overdue_after_workdays)
    for agency in leads:
        step = f"overdue-{policy.overdue_after_workdays}wd"
        yield agency, lead_role, ReminderKind.OVERDUE, step, overdue
    escalate = cal.add_working_days(occ.date, policy.escalate_after_workdays)
    step = f"escalate-{policy.escalate_after_workdays}wd"
    for agency in leads:
        yield agency, lead_role, ReminderKind.OVERDUE, step, escalate
    if occ.coordinator and occ.coordinator not in leads:
        yield occ.coordinator, Role.COORDINATOR, ReminderKind.OVERDUE, step, escalate


def _workdays_before(deadline: date, days: int, cal: WorkCalendar) -> date:
    """``days`` working days before the deadline; 0 = the deadline day (or the working day
    before it, when the deadline falls on a weekend or holiday)."""
    if days == 0:
        return cal.previous_working(deadline)
    return cal.add_working_days(deadline, -days)
