"""The commands that publish and deliver: ics, send-due, outbox, run, hash-password."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from reminderd.cli.common import (
    UsageError,
    agency_arg,
    load,
    open_workspace_store,
    parse_instant,
    parse_now,
)
from reminderd.config import ConfigError, load_settings, redact
from reminderd.feeds.build import Feeds
from reminderd.notices import send_weekly
from reminderd.sendpass import describe_dry_run, run_pass
from reminderd.store.base import Status

# --- ics -------------------------------------------------------------------------------

def cmd_ics(args: argparse.Namespace) -> int:
    ws = load(args)
    agency = agency_arg(ws, args.agency)
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
    from reminderd.server.validate import validate  # the same checks as the daemon's

    version = validate(Path(args.config))
    ws, mailer = version.ws, version.mailer
    now = parse_now(args.now, ws)
    store = open_workspace_store(ws, lock=not args.dry_run)
    try:
        owner = f"{socket.gethostname()}:{os.getpid()}"
        report = asyncio.run(run_pass(ws, store, mailer, now, owner=owner, dry_run=args.dry_run))
        weekly = 0 if args.dry_run else asyncio.run(send_weekly(ws, store, mailer, now))
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
    ws = load(args)
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
            "recipients": r.recipients, "message_id": r.message_id,
            "last_error": redact(r.last_error) if r.last_error else r.last_error,
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
            print(f"{'':17}lỗi: {redact(r.last_error)}")
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


# --- hash-password ---------------------------------------------------------------------

def cmd_hash_password(args: argparse.Namespace) -> int:
    """The admin password's scrypt hash, for http.admin_password_hash_env."""
    import getpass

    from reminderd.server.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Mật khẩu quản trị: ")
        if getpass.getpass("Nhập lại: ") != password:
            raise UsageError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 12:
        raise UsageError("use a password of at least 12 characters")
    print(hash_password(password))
    return 0
