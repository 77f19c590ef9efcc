"""What every command shares: the clock (the CLI is the one place that reads it), the
workspace, the store, and usage errors."""

from __future__ import annotations

import argparse
import re
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from reminderd.core.errors import TimeExprError
from reminderd.core.timeexpr import parse_date
from reminderd.plans.names import resolve_agency
from reminderd.store import open_store
from reminderd.store.base import DeliveryStore, StoreError
from reminderd.workspace import Workspace, load_workspace


class UsageError(Exception):
    """A bad command-line value: printed as one line, exit status 2."""


def system_now() -> datetime:
    return datetime.now().astimezone()


_DAY_TIME = re.compile(r"(\d{1,2}/\d{1,2}/\d{4})(?:[ T]+(\d{1,2}):(\d{2}))?")
_TIME_DAY = re.compile(r"(\d{1,2}):(\d{2})\s+(?:ngày\s+)?(\d{1,2}/\d{1,2}/\d{4})")


def parse_instant(text: str, zone: ZoneInfo, option: str) -> datetime:
    """An instant as the admin writes it: "05/08/2022 08:00", "08:00 05/08/2022",
    "05/08/2022" (its midnight), or ISO 8601 ("2022-08-05T08:00+07:00"); without an offset,
    in the configured zone."""
    text = text.strip()
    day_time, time_day = _DAY_TIME.fullmatch(text), _TIME_DAY.fullmatch(text)
    try:
        if day_time or time_day:
            if day_time:
                day, hour, minute = day_time[1], day_time[2] or "0", day_time[3] or "0"
            else:
                assert time_day is not None
                day, hour, minute = time_day[3], time_day[1], time_day[2]
            value = datetime.combine(parse_date(day), time(int(hour), int(minute)))
        else:
            value = datetime.fromisoformat(text)
    except (ValueError, TimeExprError):
        raise UsageError(f"{option} {text!r}: viết ngày giờ dạng dd/mm/yyyy HH:MM (ví dụ "
                         "05/08/2022 08:00) hoặc ISO 8601 (2022-08-05T08:00+07:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def parse_now(text: str | None, ws: Workspace) -> datetime:
    """--now: see :func:`parse_instant`; the system clock when absent."""
    if not text:
        return system_now()
    return parse_instant(text, ws.settings.zone, "--now")


def load(args: argparse.Namespace) -> Workspace:
    return load_workspace(Path(args.config))


def agency_arg(ws: Workspace, ref: str | None) -> str | None:
    """--agency: an id or any alias; a usage error with a suggestion otherwise."""
    if not ref:
        return None
    try:
        return resolve_agency(ws.plans, ref)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def today_arg(ws: Workspace, args: argparse.Namespace) -> date:
    if getattr(args, "from_date", None):
        try:
            return parse_date(args.from_date)
        except TimeExprError as exc:
            raise UsageError(f"--from: {exc}") from None
    return ws.local_today(system_now())


def open_workspace_store(ws: Workspace, *, lock: bool) -> DeliveryStore:
    """The configured store, migrated; StoreError becomes a one-line usage error."""
    settings = ws.settings
    base = settings.path.parent if settings.path else None
    try:
        store = open_store(settings.store, base_dir=base, lock=lock)
        store.migrate()
    except StoreError as exc:
        raise UsageError(f"store {settings.store}: {exc}") from None
    return store
