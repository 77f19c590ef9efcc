"""Everything a command or the daemon needs, loaded and validated together.

A Workspace is immutable: the daemon builds a new one on reload and switches only when
it loaded without problems, so a bad edit leaves the last good one in service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from reminderd.config import ConfigError, Settings, load_settings
from reminderd.core.errors import Problem
from reminderd.core.model import Agency, Plans
from reminderd.core.occurrence import Occurrence
from reminderd.core.occurrences import expand
from reminderd.core.reminders import Policy, Reminder
from reminderd.core.reminders import plan as plan_reminders
from reminderd.core.workdays import WorkCalendar
from reminderd.holidays_vn import build_calendar
from reminderd.plans.loader import PlansError, load_plans


class LoadError(Exception):
    """Config or plans could not be loaded; ``problems`` say where and how to fix them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


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
                extra_off={0: self.settings.extra_off},
                extra_working={0: self.settings.extra_working},
            )
        return self._calendars[span]

    def occurrences(self, start: date, end: date) -> list[Occurrence]:
        return expand(self.plans, start, end, self.calendar(start, end))

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
        r = self.settings.reminders
        return Policy(
            send_time=r["send_time"],
            zone=self.settings.timezone,
            lead_workdays=tuple(r["lead_workdays"]),
            support_workdays=tuple(r["support_workdays"]),
            occasion_days=tuple(r["occasion_days"]),
            round_anniversary_days=tuple(r["round_anniversary_days"]),
            new_year_days=tuple(r["new_year_days"]),
            agreement_days=tuple(r["agreement_days"]),
            overdue_after_workdays=int(r["overdue_after_workdays"]),
            escalate_after_workdays=int(r["escalate_after_workdays"]),
        )

    def agencies(self) -> dict[str, Agency]:
        return {a.id: a for a in self.plans.agencies}

    def local_today(self, now: datetime) -> date:
        return now.astimezone(self.settings.zone).date()

    def feed_range(self, today: date) -> tuple[date, date]:
        feeds = self.settings.feeds
        back = timedelta(days=int(feeds["horizon_days_back"]))
        ahead = timedelta(days=int(feeds["horizon_days_ahead"]))
        return today - back, today + ahead


def load_workspace(config_path: Path | None) -> Workspace:
    """Load config then plans; raise LoadError with every problem found."""
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        raise LoadError(exc.problems) from None
    try:
        plans = load_plans(settings.plans)
    except PlansError as exc:
        raise LoadError(exc.problems) from None
    return Workspace(settings, plans)
