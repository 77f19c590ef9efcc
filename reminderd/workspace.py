"""Everything a command or the daemon needs, loaded and validated together.

A Workspace is immutable: the daemon builds a new one on reload and switches only when
it loaded without problems, so a bad edit leaves the last good one in service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from reminderd.config import ConfigError, RemindersSettings, Settings, load_settings
from reminderd.core.errors import Problem, ProblemsError
from reminderd.core.model import Agency, Plans
from reminderd.core.occurrence import Occurrence
from reminderd.core.occurrences import expand
from reminderd.core.reminders import TASK_KINDS, Policy, Reminder
from reminderd.core.reminders import plan as plan_reminders
from reminderd.core.workdays import WorkCalendar
from reminderd.holidays_vn import build_calendar
from reminderd.plans.loader import PlansError, load_plans
from reminderd.store.base import Completion


class LoadError(ProblemsError):
    """Config or plans could not be loaded; ``problems`` say where and how to fix them."""


def policy_of(reminders: RemindersSettings, zone: str) -> Policy:
    """The reminder policy of the ``reminders`` settings (their defaults are the schema's)."""
    return Policy(
        send_time=reminders.send_time,
        zone=zone,
        lead_workdays=reminders.lead_workdays,
        support_workdays=reminders.support_workdays,
        occasion_days=reminders.occasion_days,
        round_anniversary_days=reminders.round_anniversary_days,
        new_year_days=reminders.new_year_days,
        agreement_days=reminders.agreement_days,
        overdue_after_workdays=reminders.overdue_after_workdays,
        escalate_after_workdays=reminders.escalate_after_workdays,
    )


@dataclass
class Workspace:
    settings: Settings
    plans: Plans
    _calendars: dict[tuple[int, int], WorkCalendar] = field(default_factory=dict, repr=False)
    # the reminders of one local day (see reminders_on): every pass of a day, retry ticks
    # included, plans the same ~4 per task; kept for the latest day only
    _reminders: dict[tuple[date, timedelta, timedelta], list[Reminder]] = field(
        default_factory=dict, repr=False)

    def calendar(self, start: date, end: date) -> WorkCalendar:
        """Working-day calendar covering ``start``..``end`` with a year of margin each side."""
        span = (start.year - 1, end.year + 1)
        if span not in self._calendars:
            self._calendars[span] = build_calendar(
                range(span[0], span[1] + 1),
                extra_off={0: self.settings.workdays.extra_off},
                extra_working={0: self.settings.workdays.extra_working},
            )
        return self._calendars[span]

    def occurrences(self, start: date, end: date, *, open_during: bool = False
                    ) -> list[Occurrence]:
        return expand(self.plans, start, end, self.calendar(start, end),
                      open_during=open_during)

    def reminders_on(self, today: date, behind: timedelta, ahead: timedelta) -> list[Reminder]:
        """Every reminder of the occurrences in ``today - behind .. today + ahead`` (the
        send pass's window), planned once per local day: the result depends on nothing
        else, and the workspace never changes. Treat the list as read-only."""
        key = (today, behind, ahead)
        cached = self._reminders.get(key)
        if cached is None:
            start, end = today - behind, today + ahead
            cached = plan_reminders(self.occurrences(start, end), self.policy(),
                                    self.calendar(start, end))
            self._reminders.clear()
            self._reminders[key] = cached
        return cached

    def policy(self) -> Policy:
        return policy_of(self.settings.reminders, self.settings.timezone)

    def earliest(self) -> date:
        """A day before any task of plans.yaml can fall (where overdue lists start)."""
        years = [p.year for p in self.plans.plans]
        return date(min(years) - 1, 1, 1) if years else date.max

    def agencies(self) -> dict[str, Agency]:
        return {a.id: a for a in self.plans.agencies}

    def local_today(self, now: datetime) -> date:
        return now.astimezone(self.settings.zone).date()

    def feed_range(self, today: date) -> tuple[date, date]:
        feeds = self.settings.feeds
        back = timedelta(days=feeds.horizon_days_back)
        ahead = timedelta(days=feeds.horizon_days_ahead)
        return today - back, today + ahead


def load_workspace(config_path: Path | None,
                   environ: Mapping[str, str] | None = None) -> Workspace:
    """Load config (and the environment settings) then plans; raise LoadError with every
    problem found."""
    try:
        settings = load_settings(config_path, environ)
        plans = load_plans(settings.plans)
    except (ConfigError, PlansError) as exc:
        raise LoadError(exc.problems) from None
    problems = _check_weekly(settings, plans)
    if problems:
        raise LoadError(problems)
    return Workspace(settings, plans)


def _check_weekly(settings: Settings, plans: Plans) -> list[Problem]:
    """weekly.agencies names agencies of the plans (or is [all]), located at the setting."""
    known = {a.id for a in plans.agencies}
    wanted = settings.weekly.agencies
    if wanted == ("all",):
        return []
    out = []
    for agency in wanted:
        if agency in known:
            continue
        hint = "write agency ids from the plans, or [all]" if agency != "all" else \
            "write [all] alone, or agency ids"
        out.append(settings.problem("weekly.agencies", f"weekly.agencies: {agency!r} is not "
                                    f"an agency id in {settings.plans.name}; {hint}"))
    return out


def with_done(items: list[Occurrence], done: Mapping[str, Completion], zone: ZoneInfo
              ) -> list[Occurrence]:
    """``items`` with the tasks closed from the mail marked done (the local day it was
    recorded) and by whom; a ``done:`` in the plans stands."""
    if not done:
        return items
    out = []
    for occ in items:
        found = done.get(occ.key)
        if found is not None and occ.done is None and occ.kind in TASK_KINDS:
            occ = replace(occ, done=found.done_at.astimezone(zone).date(),
                          done_by=found.agency)
        out.append(occ)
    return out
