"""Vietnamese administrative time phrases -> Timing (docs/cach-ghi-thoi-gian.md).

``parse_time`` reads the time column of a plan ("Trước ngày 15/8/2022", "Quý II/2024",
"6 tháng, hằng năm", "Theo Kế hoạch của đoàn cấp cao") the way a Vietnamese civil servant
does, or raises TimeExprError quoting the phrase. It never guesses: a phrase is read by the
rules, with any words set aside reported in ``Timing.ignored``, or it is an error.

Pipeline: ``timeprep.prepare`` (normalise; labels, remarks, times of day, named days, the
reporting cycle's words) -> ``timeread.read_all``: the rule table (``timecycles`` and
``timerules`` on ``timespans``), reorderings, clauses, words set aside; the nouns are
``timeperiod``'s. Day-first always; years 1900-2100. This module: the API and ``describe``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date
from functools import lru_cache

from reminderd.core.errors import TimeExprError
from reminderd.core.recurrence import expand
from reminderd.core.timeperiod import LAST_YEAR, Bad, parse_yearly_day, resolve
from reminderd.core.timeprep import HINT_FORMS, LABELS, prepare
from reminderd.core.timeread import read_all, unknown
from reminderd.core.timespans import yearly_rule
from reminderd.core.timing import Kind, Recurrence, Timing
from reminderd.core.workdays import WorkCalendar, period_end

__all__ = ["HINT_FORMS", "describe", "parse_date", "parse_time", "parse_yearly"]

def parse_time(text: str, year: int | None = None) -> Timing:
    """Read one time phrase; ``year`` is the plan's year for phrases that have none.

    Raises TimeExprError (quoting the phrase, saying what is wrong and what to write).
    """
    return _parse_cached(text, year)


@lru_cache(maxsize=4096)
def _parse_cached(text: str, year: int | None) -> Timing:
    try:
        if year is not None and not 1900 <= year <= LAST_YEAR:
            raise Bad(f"the plan's year {year} is outside 1900-{LAST_YEAR}")
        p = prepare(text, year)
        if p.unscheduled:
            reason = LABELS.sub("", " ".join(unicodedata.normalize("NFC", text).split()))
            return Timing(Kind.UNSCHEDULED, text, reason=reason.rstrip(". "))
        if not p.s:
            raise Bad("empty time phrase", HINT_FORMS)
        if p.s.startswith("kỷ niệm"):
            raise Bad(
                "'kỷ niệm N năm' names an anniversary, not a time",
                "write the dates, e.g. (22/12/1992 - 22/12/2022), or give the occasion since:",
            )
        timing = read_all(p.s, year, text)
        if timing is None:
            raise unknown(p.s, year)
        ignored = tuple(_as_written(x, text) for x in (*p.ignored, *timing.ignored))
        if p.time and timing.kind not in (Kind.DEADLINE, Kind.WINDOW):
            raise Bad(f"a time of day ({p.time}) belongs to one day", "write it beside a date")
        if ignored or p.time or p.daypart:
            timing = replace(timing, ignored=ignored, time=p.time, daypart=p.daypart)
        return timing
    except Bad as exc:
        raise TimeExprError(text, exc.reason, exc.hint) from None


def _as_written(fragment: str, text: str) -> str:
    """``fragment`` (normalised) as the phrase writes it: its case and its spacing."""
    words = [re.escape(w).replace(r"\-", r"\s*[-‐-―−]\s*") for w in fragment.split()]
    if not words:
        return fragment
    m = re.search(r"\s*".join(words), unicodedata.normalize("NFC", text), re.I)
    return m[0] if m is not None else fragment


_DATE_HINT = "write a full date: 22/12/2017, 2017-12-22 or ngày 22 tháng 12 năm 2017"


def parse_date(text: str) -> date:
    """One full calendar day: "22/12/2017", "2017-12-22", "ngày 22 tháng 12 năm 2017"."""
    try:
        d = parse_yearly_day(prepare(text).s)
        if d is None:
            raise Bad("not a calendar day", _DATE_HINT)
        if d.year is None:
            raise Bad("the date has no year", _DATE_HINT)
        return resolve(d, None)
    except Bad as exc:
        raise TimeExprError(text, exc.reason, exc.hint) from None


_YEARLY_HINT = "write the day and month: 22/12, 10/3 âm lịch, rằm tháng Tám, Tết Nguyên Đán"


_EVERY_YEAR = re.compile(r",? hằng năm$")


def parse_yearly(text: str) -> Recurrence:
    """An occasion's yearly date: "22/12", "1/1 âm lịch", "rằm tháng Tám", "Tết Nguyên Đán"."""
    try:
        d = parse_yearly_day(_EVERY_YEAR.sub("", prepare(text).s))
        if d is None:
            raise Bad("not a yearly date", _YEARLY_HINT)
        if d.year is not None:
            raise Bad("a yearly date has no year", "write 22/12 and put the first year in since:")
        return yearly_rule(d)
    except Bad as exc:
        raise TimeExprError(text, exc.reason, exc.hint) from None


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _next(timing: Timing, year: int) -> list[str]:
    """The first 5 occurrences on or after 1 January of ``year`` (recurring only)."""
    rule = timing.recurrence
    if timing.kind is not Kind.RECURRING or rule is None:
        return []
    if (rule.day == 0 or rule.interval > 1) and rule.anchor is None:
        return []  # counts from the item's anchor: nothing to show yet
    last = max(year, rule.anchor.year if rule.anchor else year)
    last += 5 * rule.interval + 1 if rule.freq == "yearly" else 1  # room for 5 occurrences
    return [d.isoformat() for d in expand(rule, date(year, 1, 1), date(last, 12, 31))[:5]]


def describe(timing: Timing, year: int, work: WorkCalendar | None = None) -> dict[str, object]:
    """The ``reminderd when --json`` object: the spec's keys, plus extras only when set.

    ``work`` counts a period from a written start (Civil Code Art. 147-148); without it
    only weekends are days off.
    """
    rule = timing.recurrence
    end = timing.end
    if timing.relative is not None and timing.relative.start is not None:
        end = period_end(timing.relative, work or WorkCalendar())
    out: dict[str, object] = {
        "kind": str(timing.kind),
        "start": _iso(timing.start),
        "end": _iso(end),
        "rrule": rule.rrule if rule is not None else None,
        "next": _next(timing, year),
        "text": timing.text,
    }
    if timing.nominal is not None:
        out["nominal"] = timing.nominal.isoformat()
    if timing.time is not None:
        out["time"] = timing.time
    if timing.daypart is not None:
        out["daypart"] = timing.daypart
    if timing.since is not None:
        out["since"] = timing.since
    if timing.workdays is not None:
        out["workdays"] = timing.workdays
    if timing.relative is not None:
        rel = timing.relative
        out["relative"] = {"amount": rel.amount, "unit": rel.unit, "anchor": rel.anchor,
                           "from": _iso(rel.start)}
    if timing.reason is not None:
        out["reason"] = timing.reason
    if timing.ignored:
        out["ignored"] = list(timing.ignored)
    if rule is not None and rule.lunar:
        out["lunar"] = True
    return out
