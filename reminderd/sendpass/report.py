"""What a send pass reports: counts for the log and the status page, and for a dry run who
would get what."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reminderd.core.reminders import Reminder
from reminderd.wording import ROLE_LABELS

SKIP_UNPLANNED = "no longer planned (task done, deadline moved or item removed)"
SKIP_NO_ADDRESS = "the agency has no e-mail address in plans.yaml"
SKIP_NEW_PAST = "its time had passed before the item first appeared"


@dataclass
class PassReport:
    now: datetime
    planned: int = 0
    new: int = 0
    claimed: int = 0
    messages: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0
    late: int = 0
    gave_up: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    would_send: dict[str, list[Reminder]] = field(default_factory=dict)  # dry run
    next_due: datetime | None = None

    def summary(self) -> str:
        skipped = sum(self.skipped.values())
        return (f"pass at {self.now.isoformat()}: {self.messages} message(s), {self.sent} "
                f"reminder(s) sent ({self.late} late), {self.retrying} to retry, "
                f"{self.failed} failed, {self.gave_up} given up, {self.uncertain} uncertain, "
                f"{skipped} skipped")

    def add_skipped(self, reason: str, count: int) -> None:
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count


def describe_dry_run(report: PassReport, names: dict[str, str]) -> list[str]:
    """The dry run's lines: each agency, then its items with the role (in lower case, as
    inside a sentence)."""
    lines: list[str] = []
    for agency in sorted(report.would_send):
        items = report.would_send[agency]
        lines.append(f"{names.get(agency, agency)} ({agency}): {len(items)} mục")
        for r in items:
            role = ROLE_LABELS[r.role].lower()
            lines.append(f"  {r.occurrence.date:%d/%m/%Y} [{role}] {r.occurrence.title} "
                         f"({r.step})")
    return lines
