"""Command line: the parser and the entry point. The commands are in :mod:`.plans`
(check, when, agenda) and :mod:`.delivery` (ics, send-due, outbox, run, hash-password);
what they share in :mod:`.common`. The CLI is the one place that reads the system clock;
everything below takes `now`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from reminderd.cli.common import UsageError
from reminderd.cli.delivery import (
    cmd_hash_password,
    cmd_ics,
    cmd_outbox,
    cmd_run,
    cmd_send_due,
)
from reminderd.cli.plans import cmd_agenda, cmd_check, cmd_when
from reminderd.config import DEFAULT_CONFIG, redact
from reminderd.core.errors import ProblemsError
from reminderd.feeds.tokens import SecretError

__all__ = ["main"]

# --- entry point -----------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reminderd", description=(
        "reminderd: plans.yaml read exactly, iCalendar feeds and reminder mail. Commands: "
        "check, when, agenda; ics, send-due, outbox, run, hash-password."))
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str,
                config: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if config:
            p.add_argument("--config", default=str(DEFAULT_CONFIG),
                           help="config file (default: config/reminderd.yaml)")
        p.set_defaults(func=func)
        return p

    p = command("check", cmd_check, "validate config, plans.yaml, templates and the mail "
                "set-up; print a summary")
    p.add_argument("--show-config", action="store_true", help="print every setting with "
                   "where its value came from (default, file or environment); secrets masked")
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
    command("hash-password", cmd_hash_password, "print the scrypt hash of the admin password "
            "(read from the terminal or stdin) for http.admin_password_hash_env", config=False)
    p = command("run", cmd_run, "the daemon: schedules passes, serves feeds, reloads on edits")
    p.add_argument("--clock-start", help="start the daemon's clock at this instant (dd/mm/yyyy "
                   "HH:MM or ISO 8601), advancing in real time: for rehearsals and tests")
    p = command("import", cmd_import, "draft a plan from a plan document (.docx .pdf .txt "
                ".doc .odt)")
    p.add_argument("file", help="the document")
    p.add_argument("--plan-id", help="the draft plan's id (default: from the document number)")
    p.add_argument("--year", type=int, help="the plan's year (default: the document's)")
    p.add_argument("-o", "--output", help="write the draft to this new file (default: stdout)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    return parser


def cmd_import(args: argparse.Namespace) -> int:
    from reminderd.intake.importing import run_import

    return run_import(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except ProblemsError as exc:
        for problem in exc.problems:
            print(redact(str(problem)), file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was changed.", file=sys.stderr)
        return 1
    except SecretError as exc:
        print(f"reminderd {args.command}: {exc}", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(redact(f"reminderd {args.command}: {exc}"), file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0

