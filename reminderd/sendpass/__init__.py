"""One send pass (:func:`run_pass`): plan, materialise, claim, send, mark. ``reminderd
send-due`` runs one; the daemon runs the same at each due instant.

:mod:`.run` holds the pass and its claims, :mod:`.send` the sending of one claim's
digests, :mod:`.report` what a pass reports.
"""

from reminderd.sendpass.report import (
    SKIP_NEW_PAST,
    SKIP_NO_ADDRESS,
    SKIP_UNPLANNED,
    PassReport,
    describe_dry_run,
)
from reminderd.sendpass.run import current_reminders, run_pass
from reminderd.sendpass.send import StopFlag

__all__ = [
    "SKIP_NEW_PAST",
    "SKIP_NO_ADDRESS",
    "SKIP_UNPLANNED",
    "PassReport",
    "StopFlag",
    "current_reminders",
    "describe_dry_run",
    "run_pass",
]
