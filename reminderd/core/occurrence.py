"""One dated thing to publish and remind about: the unit the feed and the mailer consume."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from reminderd.core.model import Contact


class OccurrenceKind(StrEnum):
    DEADLINE = "deadline"  # a task due by a day
    WINDOW = "window"  # a task due within a period; `date` is its end
    ONGOING = "ongoing"  # continuous work ("thường xuyên"); `date` is its end or start
    REPORT = "report"  # a recurring reporting duty, one per period
    OCCASION = "occasion"  # a yearly date (national day, new year)
    ANNIVERSARY = "anniversary"  # a yearly date with an ordinal ("kỷ niệm 30 năm")
    REVIEW = "review"  # an agreement's periodic review
    EXPIRY = "expiry"  # an agreement's end of validity


@dataclass(frozen=True)
class Occurrence:
    """A dated item with a stable ``key``.

    ``key`` is the iCalendar UID stem and the prefix of reminder keys. It does not
    contain the date for one-off items (so moving a deadline keeps the UID) and
    contains the period (year, or year-month) for repeating ones.
    ``date`` is the day to show and remind about (for windows, the deadline = end).
    """

    key: str
    kind: OccurrenceKind
    date: dt.date
    title: str
    start: dt.date | None = None  # window/ongoing start
    end: dt.date | None = None  # window/ongoing end (inclusive); None when open
    lead: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    source: str = ""  # plan / occasion / agreement id
    reference: str = ""  # document reference ("34/KH-UBND ngày 22/02/2024")
    source_title: str = ""  # the plan's title
    text: str = ""  # the time phrase as written
    nominal: dt.date | None = None  # the date as written when it differs from `date`
    ordinal: int | None = None  # anniversary years
    round: bool = False  # a round anniversary (every 5 years)
    workdays: int | None = None
    time: str = ""  # time of day as the phrase wrote it ("17:00"), else ""
    daypart: str = ""  # "sáng", "chiều" ... when the phrase gives no clock time
    done: dt.date | None = None
    remind: tuple[int, ...] | None = None  # per-item override of the reminder ladder
    occasion_kind: str = ""  # for occasions: OccasionKind value
    coordinator: str | None = None  # the plan's follow-up office, for escalation
    notes: str = ""
    origin: str = ""  # plans.yaml:LINE:COL
    contact: Contact | None = None  # whom to ask (the task's, else the plan's)
    done_by: str = ""  # the agency that closed it from its mail ("" for plans.yaml done:)
