"""Command line: check, when, agenda (and the feed, mail and daemon commands).

The CLI is the one place that reads the system clock; everything below takes `now`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reminderd.config import DEFAULT_CONFIG, ConfigError, load_settings
from reminderd.core.errors import TimeExprError
from reminderd.core.occurrence import Occurrence
from reminderd.core.occurrences import unscheduled
from reminderd.core.timeexpr import describe, parse_date, parse_time
from reminderd.core.timing import Timing
from reminderd.core.workdays import WorkCalendar
from reminderd.feeds.build import Feeds, size_warnings
from reminderd.holidays_vn import build_calendar
from reminderd.mail.render import TemplateProblem, check_templates
from reminderd.mail.setup import MailSetupError, build_mailer
from reminderd.notices import send_weekly
from reminderd.plans.agencies import resolve_agency
from reminderd.sendpass import describe_dry_run, run_pass
from reminderd.store import open_store
from reminderd.store.base import Completion, DeliveryStore, Status, StoreError
from reminderd.wording import KIND_LABELS, WEEKDAYS, occurrence_window, reading
from reminderd.workspace import LoadError, Workspace, load_workspace, with_done


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


def _load(args: argparse.Namespace) -> Workspace:
    return load_workspace(Path(args.config))


def _agency_arg(ws: Workspace, ref: str | None) -> str | None:
    """--agency: an id or any alias; a usage error with a suggestion otherwise."""
    if not ref:
        return None
    try:
        return resolve_agency(ws.plans, ref)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


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
    template_problems = check_templates(ws.settings.templates / "mail",
                                        zone=ws.settings.timezone)
    if template_problems:
        for problem in template_problems:
            print(problem, file=sys.stderr)
        print(f"{len(template_problems)} template problem(s).", file=sys.stderr)
        return 1
    today = ws.local_today(system_now())
    plans = ws.plans
    tasks = sum(len(p.tasks) for p in plans.plans)
    upcoming = ws.occurrences(today, today + timedelta(days=365))
    print(f"OK {ws.settings.plans}")
    print(f"  agencies:    {len(plans.agencies)}")
    print(f"  occasions:   {len(plans.occasions)}")
    print(f"  agreements:  {len(plans.agreements)}")
    print(f"  plans:       {len(plans.plans)} ({tasks} tasks)")
    print(f"  templates:   {ws.settings.templates / 'mail'} (all render)")
    print(f"  occurrences in the next 12 months (from {today:%d/%m/%Y}): {len(upcoming)}")
    sizes = Feeds(ws).sizes(system_now())
    largest = max(((a, n) for a, n in sizes.items() if a), key=lambda kv: kv[1],
                  default=("-", 0))
    print(f"  feed size: whole calendar {sizes[None]:,} bytes; largest agency feed "
          f"{largest[0]} {largest[1]:,} bytes")
    for warning in size_warnings(sizes):
        print(f"  warning: {warning}")
    pending = unscheduled(plans)
    if pending:
        print(f"  warnings: {len(pending)} item(s) have no date and get no reminders:")
        for item in pending:
            print(f"    {item.origin}: {item.key}: {item.reason}")
    aside = [(task.origin, task.when) for plan in plans.plans for task in plan.tasks
             if task.when.ignored]
    if aside:
        print(f"  warnings: {len(aside)} time phrase(s) were read with words set aside; check "
              "that the date is the one meant (docs/cach-ghi-thoi-gian.md):")
        for origin, timing in aside:
            words = ", ".join(repr(w) for w in timing.ignored)
            print(f"    {origin}: warning: {timing.text!r} read as {describe_short(timing)}; "
                  f"set aside: {words}")
    return 0


def describe_short(timing: Timing) -> str:
    """"window 01/09/2025 - 30/09/2025", "deadline 19/11/2025 17:00" for check's warnings."""
    def d(day: date | None) -> str:
        return f"{day:%d/%m/%Y}" if day else "…"

    span = d(timing.end) if timing.start is None else f"{d(timing.start)} - {d(timing.end)}"
    rule = timing.recurrence.rrule if timing.recurrence is not None else None
    at = f" {timing.time}" if timing.time else ""
    return f"{timing.kind} {rule or span}{at}"


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
        info = describe(timing, year, _calendar_for(timing))
        if args.json:
            print(json.dumps(info, ensure_ascii=False))
        else:
            print(_when_line(info))
    return status


def _calendar_for(timing: Timing) -> WorkCalendar | None:
    """Working days for a period counted from a written start (Art. 148(5) needs holidays)."""
    rel = timing.relative
    if rel is None or rel.start is None:
        return None
    years = rel.amount if rel.unit == "year" else rel.amount // 12 if rel.unit == "month" else 0
    return build_calendar(range(rel.start.year, rel.start.year + years + 2))


_WHEN_EXTRA = (("nominal", "ngày ghi"), ("workdays", "số ngày làm việc"),
               ("rrule", "quy tắc"), ("since", "từ năm"), ("relative", "thời hạn tính từ mốc"))
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _when_line(info: dict[str, Any]) -> str:
    """One phrase as read, in Vietnamese (wording.reading), dates dd/mm/yyyy; ``--json``
    keeps ISO."""
    parts = [f"{info['text']!r}: {reading(info)}"]
    parts += [f"{label}: {info[key]}" for key, label in _WHEN_EXTRA if info.get(key)]
    return _ISO_DAY.sub(r"\3/\2/\1", "  ".join(parts))


# --- agenda ----------------------------------------------------------------------------

def agenda_items(ws: Workspace, start: date, days: int, agency: str | None,
                 done: Mapping[str, Completion] | None = None) -> list[Occurrence]:
    """Every item dated in the range or open during it (a window), tasks closed from the
    mail marked done."""
    items = ws.occurrences(start, start + timedelta(days=days - 1), open_during=True)
    items = with_done(items, done or {}, ws.settings.zone)
    if agency is not None:
        items = [o for o in items if agency in o.lead or agency in o.support]
    return items


def _completions(ws: Workspace) -> dict[str, Completion]:
    """The tasks closed from the mail; a warning (and none) when the store cannot answer."""
    try:
        store = open_workspace_store(ws, lock=False)
    except UsageError as exc:
        print(f"cảnh báo: {exc}; chưa tính các nhiệm vụ báo hoàn thành qua thư",
              file=sys.stderr)
        return {}
    try:
        return store.completions()
    except StoreError as exc:
        print(f"cảnh báo: không đọc được cơ sở dữ liệu ({exc}); chưa tính các nhiệm vụ báo "
              "hoàn thành qua thư", file=sys.stderr)
        return {}
    finally:
        store.close()


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
        "done_by": occ.done_by or None,  # the agency that closed it from its mail
        "time": occ.time or None,
        "origin": occ.origin,
    }


def cmd_agenda(args: argparse.Namespace) -> int:
    ws = _load(args)
    if args.days < 1:
        raise UsageError("--days must be at least 1")
    agency = _agency_arg(ws, args.agency)
    start = _today(ws, args)
    items = agenda_items(ws, start, args.days, agency, _completions(ws))
    if args.json:
        print(json.dumps([occurrence_json(o) for o in items], ensure_ascii=False, indent=1))
        return 0
    names = {a.id: a.name for a in ws.plans.agencies}
    end = start + timedelta(days=args.days - 1)
    print(f"Lịch từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}: {len(items)} mục")
    for occ in items:
        lead = ", ".join(names.get(a, a) for a in occ.lead) or "-"
        window = occurrence_window(occ)
        span = f" ({window})" if window else (
            f" ({occ.start:%d/%m}–{occ.end:%d/%m})" if occ.start and occ.end else "")
        done = ""
        if occ.done:
            who = f", {names.get(occ.done_by, occ.done_by)} báo qua thư" if occ.done_by else ""
            done = f" [đã hoàn thành {occ.done:%d/%m/%Y}{who}]"
        weekday = WEEKDAYS[occ.date.weekday()]
        kind = KIND_LABELS.get(occ.kind, str(occ.kind))
        print(f"{occ.date:%d/%m/%Y} {weekday:<8} {kind:<23} {occ.title}{span}{done}")
        print(f"{'':20}chủ trì: {lead}" + (f"; phối hợp: {len(occ.support)} đơn vị"
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
    agency = _agency_arg(ws, args.agency)
    store = open_workspace_store(ws, lock=False)
    try:
        feeds = Feeds(ws)
        now = parse_now(args.now, ws)
        occurrences = feeds.occurrences(now, store)
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


# --- send-due / outbox --------------------------------------------------------------------

def cmd_send_due(args: argparse.Namespace) -> int:
    ws = _load(args)
    now = parse_now(args.now, ws)
    store = open_workspace_store(ws, lock=not args.dry_run)
    try:
        mailer = build_mailer(ws)
        owner = f"{socket.gethostname()}:{os.getpid()}"
        report = asyncio.run(run_pass(ws, store, mailer, now, owner=owner, dry_run=args.dry_run))
        weekly = 0 if args.dry_run else asyncio.run(send_weekly(ws, store, mailer, now))
    except (MailSetupError, TemplateProblem) as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()
    if args.dry_run:
        names = {a.id: a.name for a in ws.plans.agencies}
        lines = describe_dry_run(report, names)
        print(f"dry run at {now.isoformat()}: would send {len(report.would_send)} message(s)")
        for line in lines:
            print(line)
        return 0
    print(report.summary())
    if weekly:
        print(f"  weekly: {weekly} message(s) \"Lịch công tác tuần\"")
    for reason, count in sorted(report.skipped.items()):
        print(f"  skipped {count}: {reason}")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    ws = _load(args)
    status = None
    if args.status:
        try:
            status = Status(args.status)
        except ValueError:
            choices = ", ".join(s.value for s in Status)
            raise UsageError(f"--status {args.status!r}: choose one of {choices}") from None
    store = open_workspace_store(ws, lock=False)
    try:
        rows = store.deliveries(status, limit=args.limit)
    finally:
        store.close()
    names = {a.id: a.name for a in ws.plans.agencies}
    if args.json:
        print(json.dumps([{
            "key": r.key, "agency": r.agency, "status": str(r.status), "due": r.due.isoformat(),
            "updated_at": r.updated_at.isoformat(), "attempts": r.attempts,
            "recipients": r.recipients, "message_id": r.message_id, "last_error": r.last_error,
            "uncertain": r.uncertain,
        } for r in rows], ensure_ascii=False, indent=1))
        return 0
    zone = ws.settings.zone
    print(f"{len(rows)} delivery record(s)" + (f" with status {status}" if status else ""))
    for r in rows:
        occurrence, day, step, _ = r.key.split("|")
        when = r.updated_at.astimezone(zone)
        flag = " (có thể trùng)" if r.uncertain else ""
        print(f"{when:%d/%m/%Y %H:%M} {r.status:<8}{flag} {names.get(r.agency, r.agency)}: "
              f"{occurrence} [{step}, hạn {day}] lần {r.attempts}")
        if r.recipients:
            print(f"{'':17}tới: {r.recipients}")
        if r.last_error:
            print(f"{'':17}lỗi: {r.last_error}")
    return 0


# --- run -------------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace) -> int:
    from reminderd.server.daemon import run_daemon, setup_logging

    clock_start = None
    if args.clock_start:
        try:
            zone = load_settings(Path(args.config)).zone
        except ConfigError:
            zone = ZoneInfo("Asia/Ho_Chi_Minh")  # the daemon reports the config's problems
        clock_start = parse_instant(args.clock_start, zone, "--clock-start")
    setup_logging()
    return asyncio.run(run_daemon(Path(args.config), clock_start))


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
    p.add_argument("--from", dest="from_date",
                   help="first day (dd/mm/yyyy or yyyy-mm-dd; default today)")
    p.add_argument("--days", type=int, default=60, help="number of days (default 60)")
    p.add_argument("--agency", help="only this agency's items (id or alias)")
    p.add_argument("--json", action="store_true", help="a JSON list")
    p = command("ics", cmd_ics, "write the iCalendar feed (the bytes the daemon serves)")
    p.add_argument("--agency", help="only this agency's feed (id or alias)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.add_argument("--now", help="build as of this instant (dd/mm/yyyy HH:MM or ISO 8601), "
                   "for rehearsals")
    p = command("send-due", cmd_send_due, "one pass: send every reminder due now, once")
    p.add_argument("--now", help="the pass's instant (dd/mm/yyyy HH:MM, e.g. 05/08/2022 08:00, "
                   "or ISO 8601)")
    p.add_argument("--dry-run", action="store_true", help="print who would get what; send "
                   "nothing and change nothing")
    p = command("outbox", cmd_outbox, "list deliveries: when, to whom, what, status, error")
    p.add_argument("--status", help="only this status (pending, sending, sent, retrying, "
                   "failed, skipped)")
    p.add_argument("--limit", type=int, default=200, help="at most this many (newest first)")
    p.add_argument("--json", action="store_true", help="a JSON list")
    p = command("run", cmd_run, "the daemon: schedules passes, serves feeds, reloads on edits")
    p.add_argument("--clock-start", help="start the daemon's clock at this instant (dd/mm/yyyy "
                   "HH:MM or ISO 8601), advancing in real time: for rehearsals and tests")
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
