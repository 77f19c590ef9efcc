"""Command line: check, when, agenda (and the feed, mail and daemon commands).

The CLI is the one place that reads the system clock; everything below takes `now`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from reminderd.agency_refs import resolve_agency
from reminderd.config import DEFAULT_CONFIG
from reminderd.core.errors import TimeExprError
from reminderd.core.occurrence import Occurrence
from reminderd.core.occurrences import unscheduled
from reminderd.core.timeexpr import describe, parse_date, parse_time
from reminderd.feeds import Feeds
from reminderd.store import open_store
from reminderd.store.base import DeliveryStore, StoreError
from reminderd.workspace import LoadError, Workspace, load_workspace


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


def _load(args: argparse.Namespace) -> Workspace:
    return load_workspace(Path(args.config))


def _today(ws: Workspace, args: argparse.Namespace) -> date:
    if getattr(args, "from_date", None):
        try:
            return parse_date(args.from_date)
        except TimeExprError as exc:
            raise UsageError(f"--from: {exc}") from None
    return ws.local_today(system_now())


# --- check -----------------------------------------------------------------------------

def cmd_check(args: argparse.Namespace) -> int:
    ws = _load(args)
    today = ws.local_today(system_now())
    plans = ws.plans
    tasks = sum(len(p.tasks) for p in plans.plans)
    upcoming = ws.occurrences(today, today + timedelta(days=365))
    print(f"OK {ws.settings.plans}")
    print(f"  agencies:    {len(plans.agencies)}")
    print(f"  occasions:   {len(plans.occasions)}")
    print(f"  agreements:  {len(plans.agreements)}")
    print(f"  plans:       {len(plans.plans)} ({tasks} tasks)")
    print(f"  occurrences in the next 12 months (from {today:%d/%m/%Y}): {len(upcoming)}")
    feeds = Feeds(ws).build(system_now(), None)
    largest = max(feeds.agencies.items(), key=lambda kv: len(kv[1]), default=("-", b""))
    print(f"  feed size: whole calendar {len(feeds.whole):,} bytes; largest agency feed "
          f"{largest[0]} {len(largest[1]):,} bytes")
    for warning in feeds.warnings():
        print(f"  warning: {warning}")
    pending = unscheduled(plans)
    if pending:
        print(f"  warnings: {len(pending)} item(s) have no date and get no reminders:")
        for item in pending:
            print(f"    {item.origin}: {item.key}: {item.reason}")
    return 0


# --- when ------------------------------------------------------------------------------

def _phrases(texts: Sequence[str]) -> list[str]:
    if list(texts) == ["-"]:
        return [line.strip() for line in sys.stdin if line.strip()]
    return list(texts)


def cmd_when(args: argparse.Namespace) -> int:
    year = args.year if args.year is not None else system_now().year
    status = 0
    for text in _phrases(args.text):
        try:
            timing = parse_time(text, args.year)
        except TimeExprError as exc:
            status = 1
            if args.json:
                print(json.dumps({"text": text, "error": str(exc)}, ensure_ascii=False))
            else:
                print(f"error: {exc}", file=sys.stderr)
            continue
        info = describe(timing, year)
        if args.json:
            print(json.dumps(info, ensure_ascii=False))
        else:
            print(_when_line(info))
    return status


def _when_line(info: dict[str, Any]) -> str:
    parts = [f"{info['text']!r}: {info['kind']}"]
    if info.get("start") or info.get("end"):
        parts.append(f"{info.get('start') or '…'} → {info.get('end') or '…'}")
    for key in ("nominal", "rrule", "since", "workdays", "relative", "reason"):
        if info.get(key):
            parts.append(f"{key}={info[key]}")
    if info.get("next"):
        parts.append("next: " + ", ".join(info["next"]))
    return "  ".join(parts)


# --- agenda ----------------------------------------------------------------------------

def agenda_items(ws: Workspace, start: date, days: int, agency: str | None) -> list[Occurrence]:
    items = ws.occurrences(start, start + timedelta(days=days - 1))
    if agency is not None:
        items = [o for o in items if agency in o.lead or agency in o.support]
    return items


def occurrence_json(occ: Occurrence) -> dict[str, Any]:
    def iso(day: date | None) -> str | None:
        return day.isoformat() if day else None

    return {
        "date": occ.date.isoformat(),
        "start": iso(occ.start),
        "end": iso(occ.end),
        "key": occ.key,
        "kind": str(occ.kind),
        "title": occ.title,
        "lead": list(occ.lead),
        "support": list(occ.support),
        "source": occ.source,
        "reference": occ.reference,
        "text": occ.text,
        "nominal": iso(occ.nominal),
        "ordinal": occ.ordinal,
        "round": occ.round,
        "done": iso(occ.done),
        "origin": occ.origin,
    }


def cmd_agenda(args: argparse.Namespace) -> int:
    ws = _load(args)
    if args.days < 1:
        raise UsageError("--days must be at least 1")
    agency = None
    if args.agency:
        try:
            agency = resolve_agency(ws.plans, args.agency)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    start = _today(ws, args)
    items = agenda_items(ws, start, args.days, agency)
    if args.json:
        print(json.dumps([occurrence_json(o) for o in items], ensure_ascii=False, indent=1))
        return 0
    names = {a.id: a.name for a in ws.plans.agencies}
    end = start + timedelta(days=args.days - 1)
    print(f"Lịch từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}: {len(items)} mục")
    for occ in items:
        lead = ", ".join(names.get(a, a) for a in occ.lead) or "-"
        span = f" ({occ.start:%d/%m}–{occ.end:%d/%m})" if occ.start and occ.end else ""
        done = " [đã xong]" if occ.done else ""
        print(f"{occ.date:%d/%m/%Y} {occ.date:%a}  {occ.kind:<11} {occ.title}{span}{done}")
        print(f"{'':16}chủ trì: {lead}" + (f"; phối hợp: {len(occ.support)} đơn vị"
                                          if occ.support else ""))
    return 0


# --- ics -------------------------------------------------------------------------------

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


def cmd_ics(args: argparse.Namespace) -> int:
    ws = _load(args)
    agency = None
    if args.agency:
        try:
            agency = resolve_agency(ws.plans, args.agency)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    store = open_workspace_store(ws, lock=False)
    try:
        feeds = Feeds(ws)
        now = parse_now(args.now, ws)
        occurrences = feeds.occurrences(now)
        revisions = feeds.revisions(occurrences, now, store)
    finally:
        store.close()
    today = ws.local_today(now)
    start, end = ws.feed_range(today)
    data = feeds.builder.build(occurrences, revisions, today=today,
                               is_working=ws.calendar(start, end).is_working, agency=agency)
    if args.output and args.output != "-":
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


# --- entry point -----------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reminderd", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str,
                config: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if config:
            p.add_argument("--config", default=str(DEFAULT_CONFIG),
                           help="config file (default: config/reminderd.yaml)")
        p.set_defaults(func=func)
        return p

    command("check", cmd_check, "validate config, plans.yaml and templates; print a summary")
    p = command("when", cmd_when, "show how time phrases are read")
    p.add_argument("text", nargs="+", help="phrases, or - to read one per line from stdin")
    p.add_argument("--year", type=int, help="the plan's year, for phrases without one")
    p.add_argument("--json", action="store_true", help="one JSON object per phrase")
    p = command("agenda", cmd_agenda, "what is due, when, for whom")
    p.add_argument("--from", dest="from_date", help="first day (dd/mm/yyyy; default today)")
    p.add_argument("--days", type=int, default=60, help="number of days (default 60)")
    p.add_argument("--agency", help="only this agency's items (id or alias)")
    p.add_argument("--json", action="store_true", help="a JSON list")
    p = command("ics", cmd_ics, "write the iCalendar feed (the bytes the daemon serves)")
    p.add_argument("--agency", help="only this agency's feed (id or alias)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.add_argument("--now", help="build as of this instant (ISO 8601), for rehearsals")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except LoadError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was changed.", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"reminderd {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
