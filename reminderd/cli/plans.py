"""The commands that read the plans: check, when, agenda."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from reminderd.cli.common import (
    UsageError,
    agency_arg,
    load,
    open_workspace_store,
    system_now,
    today_arg,
)
from reminderd.config import show_config
from reminderd.core.errors import TimeExprError
from reminderd.core.occurrence import Occurrence
from reminderd.core.occurrences import unscheduled
from reminderd.core.timeexpr import describe, parse_time
from reminderd.core.timing import Timing
from reminderd.core.workdays import WorkCalendar
from reminderd.feeds.build import Feeds, size_warnings
from reminderd.holidays_vn import build_calendar
from reminderd.intake.review import summary as review_summary
from reminderd.mail.golive import going_live
from reminderd.store.base import Completion, StoreError
from reminderd.wording import KIND_LABELS, WEEKDAYS, occurrence_window, reading
from reminderd.workspace import Workspace, with_done

# --- check -----------------------------------------------------------------------------

def cmd_check(args: argparse.Namespace) -> int:
    from reminderd.server.validate import validate  # what the daemon runs is what passes

    ws = validate(Path(args.config), create_secret=False).ws
    if args.show_config:
        for line in show_config(ws.settings):
            print(line)
        return 0
    errors, live_warnings = going_live(ws)
    if errors:
        for line in errors:
            print(line, file=sys.stderr)
        print(f"{len(errors)} problem(s).", file=sys.stderr)
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
    print(f"  templates:   {ws.settings.templates} (mail and status page: all render)")
    print(f"  occurrences in the next 12 months (from {today:%d/%m/%Y}): {len(upcoming)}")
    sizes = Feeds(ws).sizes(system_now())
    largest = max(((a, n) for a, n in sizes.items() if a), key=lambda kv: kv[1],
                  default=("-", 0))
    print(f"  feed size: whole calendar {sizes[None]:,} bytes; largest agency feed "
          f"{largest[0]} {largest[1]:,} bytes")
    for warning in size_warnings(sizes):
        print(f"  warning: {warning}")
    for warning in live_warnings:
        print(f"  {warning}")
    pending = unscheduled(plans)
    if pending:
        print(f"  warnings: {len(pending)} item(s) have no date and get no reminders:")
        for item in pending:
            print(f"    {item.origin}: {item.key}: {item.reason}")
    aside = [(task.origin, plan.year, task.when) for plan in plans.plans for task in plan.tasks
             if task.when.ignored]
    if aside:
        print(f"  warnings: {len(aside)} time phrase(s) were read with words set aside; check "
              "that the date is the one meant (docs/cach-ghi-thoi-gian.md):")
        for origin, year, timing in aside:
            info = describe(timing, year)
            info.pop("ignored", None)  # said after the reading, as the words themselves
            words = ", ".join(repr(w) for w in timing.ignored)
            print(f"    {origin}: warning: {timing.text!r} read as: {reading(info)}; "
                  f"set aside: {words}")
    for line in review_summary(ws, today):  # what new or changed plan files add
        print(line)
    return 0


# --- when ------------------------------------------------------------------------------

def _phrases(texts: Sequence[str]) -> list[str]:
    if list(texts) == ["-"]:
        return [line.strip() for line in sys.stdin if line.strip()]
    return list(texts)


def cmd_when(args: argparse.Namespace) -> int:
    """Each phrase as read, one line each, in order. A column pasted from a document repeats
    its phrases: a phrase seen before prints the line made for it, and output is written in
    blocks rather than a write per line."""
    year = args.year if args.year is not None else system_now().year
    failed = False
    made: dict[str, tuple[str, bool]] = {}  # phrase -> (its line, read?)
    out: list[str] = []
    for text in _phrases(args.text):
        line = made.get(text)
        if line is None:
            line = made[text] = _when_output(text, args.year, year, json_out=args.json)
        if line[1] or args.json:
            out.append(line[0])
        else:  # the error goes to stderr after the lines before it
            _flush(out)
            sys.stdout.flush()
            print(line[0], file=sys.stderr)
        failed = failed or not line[1]
        if len(out) >= 1024:
            _flush(out)
    _flush(out)
    return 1 if failed else 0


def _when_output(
    text: str, plan_year: int | None, year: int, *, json_out: bool
) -> tuple[str, bool]:
    """The line for one phrase, and whether it was read (an error line otherwise)."""
    try:
        timing = parse_time(text, plan_year)
    except TimeExprError as exc:
        if json_out:
            return json.dumps({"text": text, "error": str(exc)}, ensure_ascii=False), False
        return f"error: {exc}", False
    info = describe(timing, year, _calendar_for(timing))
    return (json.dumps(info, ensure_ascii=False) if json_out else _when_line(info)), True


def _flush(lines: list[str]) -> None:
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
        lines.clear()


def _calendar_for(timing: Timing) -> WorkCalendar | None:
    """Working days for a period counted from a written start (Art. 148(5) needs holidays)."""
    rel = timing.relative
    if rel is None or rel.start is None:
        return None
    years = rel.amount if rel.unit == "year" else rel.amount // 12 if rel.unit == "month" else 0
    return _calendar(rel.start.year, rel.start.year + years + 1)


@lru_cache(maxsize=64)
def _calendar(first: int, last: int) -> WorkCalendar:
    """One calendar per span of years: a pasted column counts many periods from the same years."""
    return build_calendar(range(first, last + 1))


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
    ws = load(args)
    if args.days < 1:
        raise UsageError("--days must be at least 1")
    agency = agency_arg(ws, args.agency)
    start = today_arg(ws, args)
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
