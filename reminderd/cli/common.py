"""What every command shares: the clock (the CLI is the one place that reads it), the
workspace, the store, and usage errors."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path

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


def parse_now(text: str | None, ws: Workspace) -> datetime:
    """--now: ISO 8601 (2022-08-05T08:00+07:00); without an offset, the configured zone."""
    if not text:
        return system_now()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--now {text!r}: write ISO 8601, e.g. 2022-08-05T08:00+07:00") from None
    return value if value.tzinfo else value.replace(tzinfo=ws.settings.zone)


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
