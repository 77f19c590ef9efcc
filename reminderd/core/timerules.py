"""The phrases of the time grammar: a table of rules built around a period.

Each rule is a regex over prepared text (``timeexpr._prepare``) and a small function that
turns its match into a Timing, or returns None to let later rules try ("từ X đến Y" before
"từ X"). ``read`` tries them in order, then a lone period ("Quý II/2024", "15/8").
The periods themselves ("15/8/2022", "tháng 7", "quý II, III") are in ``timeperiod``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from reminderd.core.timeperiod import (
    COUNT,
    DAYNUM,
    Bad,
    Day,
    Period,
    Span,
    as_span,
    context_year,
    parse_day,
    parse_period,
    parse_yearly_day,
    resolve,
    year_of,
)
from reminderd.core.timing import Kind, Recurrence, Relative, Timing
from reminderd.core.vnwords import number

__all__ = ["read", "yearly_rule"]

Rule = Callable[[re.Match[str], int | None, str], Timing | None]
_RULES: list[tuple[re.Pattern[str], Rule]] = []
_UNIT = r"(?P<u>ngày làm việc|ngày|tuần|tháng|năm)"
_UNITS = {
    "ngày làm việc": "working_day", "ngày": "day", "tuần": "day", "tháng": "month", "năm": "year",
}  # fmt: skip
_ANCHORS = {"ký kết": "ký", "nhận được": "nhận", "có hiệu lực": "hiệu lực"}


def _rule(pattern: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        _RULES.append((re.compile(pattern), fn))
        return fn

    return register


def _relative(n: str, unit: str, anchor: str, text: str) -> Timing:
    amount = number(n) * (7 if unit == "tuần" else 1)  # a week is 7 days
    if amount < 1:
        raise Bad("a period must be at least one day, month or year long")
    rel = Relative(amount, _UNITS[unit], _ANCHORS.get(anchor, anchor))  # unknown: as written
    return Timing(Kind.DEADLINE, text, relative=rel)


@_rule(
    rf"(?:có hiệu lực )?(?:kể )?từ ngày (?P<a>[^,]+?),? (?:và )?có giá trị "
    rf"(?:trong vòng |trong )?(?P<n>{COUNT}) {_UNIT}"
)
def _valid_from(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"có hiệu lực kể từ ngày ký và có giá trị trong vòng 5 năm" (as seed 004 writes it)."""
    return _relative(m["n"], m["u"], m["a"], text)


@_rule(
    rf"(?:(?P<v>có giá trị|có hiệu lực) )?(?P<w>(?:trong vòng|trong thời hạn|trong) )?"
    rf"(?P<n>{COUNT}) {_UNIT}(?: (?:kể )?từ (?:ngày )?(?P<a>.+))?"
)
def _within_of(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"trong vòng 15 ngày kể từ ngày ký"; "có giá trị trong vòng 5 năm" counts from the
    start of validity ("hiệu lực"); a bare "trong vòng 3 tháng" from the item's anchor ("")."""
    if not (m["v"] or m["w"] or m["a"]):
        return None  # "15 ngày" alone says nothing about when
    return _relative(m["n"], m["u"], m["a"] or ("hiệu lực" if m["v"] else ""), text)


def _recurring(text: str, rule: Recurrence, since: int | None = None) -> Timing:
    return Timing(Kind.RECURRING, text, recurrence=rule, since=since)


def _every_months(n: int, text: str) -> Timing:
    """Reports every n months fall at the ends of the calendar periods (30/06, 31/12)."""
    if n == 1:
        return _recurring(text, Recurrence("monthly", day=-1))
    if n not in (2, 3, 4, 6, 12):
        raise Bad(f"{n} months does not divide the year into equal periods")
    return _recurring(text, Recurrence("yearly", day=-1, months=tuple(range(n, 13, n))))


@_rule(r"(?:định kỳ )?hằng (?P<p>năm|quý|tháng|tuần|ngày)")
def _every(m: re.Match[str], year: int | None, text: str) -> Timing:
    """hằng năm: at year end; hằng quý: at quarter ends; hằng tháng: at month ends. With a
    plan year the rule is not bounded here: the caller bounds it."""
    if m["p"] in ("tuần", "ngày"):
        raise Bad(f"'hằng {m['p']}' repeats too often for reminders", "use hằng tháng or hằng quý")
    return _every_months({"năm": 12, "quý": 3, "tháng": 1}[m["p"]], text)


# A repeating due day: "trước ngày 20 hằng tháng" is exclusive (the 19th), "chậm nhất ngày
# 15/12 hằng năm" inclusive, as for one-off deadlines.
_DUE = (
    r"(?:(?P<before>(?:chậm nhất |muộn nhất )?trước )"
    r"|(?:chậm nhất|muộn nhất|hạn chót|hạn|đến hết|đến)(?: là| vào)* )?"
)


@_rule(rf"{_DUE}ngày (?P<d>{DAYNUM}) hằng tháng")
def _monthly_on(m: re.Match[str], year: int | None, text: str) -> Timing:
    day = number(m["d"])
    # Decision: days 29-31 are missing from some months and RFC 5545 skips those months
    # silently; ask for the last day ("hằng tháng") or a day that every month has.
    if not 1 <= day <= 28:
        raise Bad(f"day {day} is missing from some months", "use 1-28, or 'hằng tháng' (last day)")
    if m["before"]:
        day = day - 1 or -1  # before the 1st: the last day of the month before
    return _recurring(text, Recurrence("monthly", day=day))


@_rule(rf"(?:định kỳ )?(?P<n>{COUNT}) tháng(?:,| và) hằng năm")
def _reports(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"6 tháng, hằng năm": the six-month and the yearly report, at 30/06 and 31/12."""
    return _every_months(number(m["n"]), text)


@_rule(rf"(?:định kỳ )?(?P<n>{COUNT}) (?P<u>tháng|năm)(?:/| (?:một|1) )lần")
def _periodic(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"định kỳ 02 năm/lần": every n years from the anchor the item supplies (day 0)."""
    n = number(m["n"])
    if m["u"] == "tháng":
        return _every_months(n, text)
    if not 1 <= n <= 100:
        raise Bad(f"an interval of {n} years is not a period")  # INTERVAL=0 hangs dateutil
    return _recurring(text, Recurrence("yearly", day=0, interval=n))


@_rule(rf"{_DUE}(?P<p>.+?),? hằng năm")
def _yearly_on(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"15/8 hằng năm", "10/3 âm lịch hằng năm"; a written year becomes the anchor."""
    d = parse_yearly_day(m["p"])
    if d is None:
        raise Bad("'hằng năm' needs a day and month before it", "write e.g. 15/8 hằng năm")
    anchor = resolve(d, None) if d.year is not None else None
    if not m["before"]:
        return _recurring(text, yearly_rule(d, anchor))
    before = anchor - timedelta(1) if anchor else None
    if d.day > 1:
        return _recurring(text, yearly_rule(Day(d.day - 1, d.month, None, d.lunar, d.leap), before))
    if d.lunar:  # a leap month may come before: not guessed
        raise Bad("the day before a lunar month's first day is not fixed", "write that day itself")
    return _recurring(text, Recurrence("yearly", -1, (d.month - 1 or 12,), anchor=before))


def yearly_rule(d: Day, anchor: date | None = None) -> Recurrence:
    return Recurrence("yearly", d.day, (d.month,), lunar=d.lunar, leap=d.leap, anchor=anchor)


_DMY = r"[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}"


@_rule(rf"(?P<o>\()?(?:ngày )?(?P<a>{_DMY})-(?:ngày )?(?P<b>{_DMY})(?(o)\))")
def _anniversary(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"(22/12/1992 - 22/12/2022)": yearly on 22/12 since 1992. Decision: without brackets a
    pair with the same day and month is read the same way; any other pair is a range."""
    a, b = parse_day(m["a"]), parse_day(m["b"])
    if a and b and a.year and b.year and (a.day, a.month) == (b.day, b.month) and b.year > a.year:
        return _recurring(text, yearly_rule(a, resolve(a, None)), since=a.year)
    if m["o"]:
        raise Bad("an anniversary pair needs the same day and month, the later year second")
    return None


@_rule(r"\((?P<a>[0-9]{4})-(?P<b>[0-9]{4})\)")
def _anniversary_years(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"(1969 - 2024)" in a plan for 2024: the anniversary year, counted since 1969."""
    a, b = year_of(m["a"]), year_of(m["b"])
    if b <= a:
        raise Bad(f"an anniversary pair needs the later year second, not {a} - {b}")
    return Timing(Kind.WINDOW, text, start=date(b, 1, 1), end=date(b, 12, 31), since=a)


@_rule(r"thường xuyên(?:,? liên tục)?(?: (?:trong|suốt) (?P<p>.+))?")
def _always(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """Continuous work over the period written, else the plan's year, else open."""
    if m["p"] is None:
        if year is None:
            return Timing(Kind.ONGOING, text)
        return Timing(Kind.ONGOING, text, start=date(year, 1, 1), end=date(year, 12, 31))
    sp = _span(m["p"], year)
    return None if sp is None else Timing(Kind.ONGOING, text, start=sp.start, end=sp.end)


@_rule(r"(?P<p>.+?),? và (?:những|các) năm (?:tiếp theo|sau đó|sau|tiếp)")
def _onwards(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    p = parse_period(m["p"], year)
    return None if p is None else Timing(Kind.ONGOING, text, start=as_span(p, year).start)


@_rule(r"(?:từ |giai đoạn )?(?P<a>.+?) (?:đến|tới) (?:hết )?(?P<b>.+)")
def _from_to(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    if m["b"] == "nay":  # "từ ngày 22/12/2017 đến nay": from then on
        p = parse_period(m["a"], year)
        return None if p is None else Timing(Kind.ONGOING, text, start=as_span(p, year).start)
    sp = _join(m["a"], m["b"], year, same_unit=False)
    return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


@_rule(r"giai đoạn (?P<p>.+)")
def _stage(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    sp = _span(m["p"], year)
    return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


@_rule(r"từ (?P<p>.+)")
def _from(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"Từ tháng 2 năm 2022": ongoing from its start; "từ 01/7-15/7/2025" is a range."""
    p = parse_period(m["p"], year)
    if p is not None:
        return Timing(Kind.ONGOING, text, start=as_span(p, year).start)
    sp = _dash_range(m["p"], year)
    return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


@_rule(r"(?:chậm nhất |muộn nhất )?trước (?P<p>.+)")
def _before(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"trước ngày X" is exclusive: the last day is X - 1, X stays as nominal."""
    p = parse_period(m["p"], year)
    if p is None:
        return None
    first = as_span(p, year).start
    return Timing(Kind.DEADLINE, text, end=first - timedelta(1), nominal=first)


@_rule(
    r"(?:chậm nhất|muộn nhất|hạn chót|hạn cuối|hạn nộp|hạn|đến hết|đến)"
    r"(?: là| vào| đến hết| đến)* (?P<p>.+)"
)
def _by(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"chậm nhất (là/vào) ngày X", "đến hết ngày X", "hạn chót X": X itself is allowed."""
    p = parse_period(m["p"], year)
    if p is None:
        return None
    last = as_span(p, year).end
    return Timing(Kind.DEADLINE, text, end=last, nominal=last)


@_rule(rf"(?P<n>{COUNT}) ngày(?P<wd> làm việc)? (?:trong|vào) (?P<p>.+)")
def _days_within(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"05 ngày làm việc trong nửa cuối tháng 7/2026": the window is the period (its end
    is the deadline); the duration is kept as ``workdays`` (plain "ngày": not kept)."""
    sp = _span(m["p"], year)
    if sp is None:
        return None
    n = number(m["n"])
    if not 1 <= n <= (sp.end - sp.start).days + 1:
        raise Bad(f"{n} days do not fit in {sp.start:%d/%m/%Y}-{sp.end:%d/%m/%Y}")
    workdays = n if m["wd"] else None
    return Timing(Kind.WINDOW, text, start=sp.start, end=sp.end, workdays=workdays)


# --- ranges and lone periods ---------------------------------------------------------------


def _join(a_text: str, b_text: str, year: int | None, *, same_unit: bool) -> Span | None:
    """A range: a missing year on the first part takes the second's, then the plan's."""
    b = parse_period(b_text, year)
    if b is None:
        return None
    ctx = context_year(b, year)
    a = parse_period(a_text, ctx)
    if a is None:
        return None
    sa, sb = as_span(a, ctx), as_span(b, year)
    if same_unit and sa.unit != sb.unit:  # "15/8-2022" is no range
        return None
    if sb.end < sa.start:
        raise Bad(f"the range ends ({sb.end:%d/%m/%Y}) before it starts ({sa.start:%d/%m/%Y})")
    return Span(sa.start, sb.end, "range")


def _dash_range(s: str, year: int | None) -> Span | None:
    """"01/7/2025-15/7/2025", "2025-2026": the first dash that splits two like periods."""
    error: Bad | None = None
    for i, c in enumerate(s):
        if c == "-":
            try:
                sp = _join(s[:i], s[i + 1 :], year, same_unit=True)
            except Bad as exc:
                error = error or exc
                continue
            if sp is not None:
                return sp
    if error is not None:
        raise error
    return None


def _span(s: str, year: int | None) -> Span | None:
    """A period or a range of periods ("năm 2024", "giai đoạn 2026-2030")."""
    if s.startswith("giai đoạn "):
        s = s[len("giai đoạn ") :]
    m = _RANGE_RX.fullmatch(s)
    if m is not None and (sp := _join(m["a"], m["b"], year, same_unit=False)) is not None:
        return sp
    p = parse_period(s, year)
    return as_span(p, year) if p is not None else _dash_range(s, year)


_RANGE_RX = re.compile(r"(?:từ )?(?P<a>.+?) (?:đến|tới) (?:hết )?(?P<b>.+)")


def _alone(s: str, year: int | None, text: str) -> Timing | None:
    p: Period | None = parse_period(s, year)
    if isinstance(p, Day) and p.year is None and year is None:
        # "15/8" with no plan year: an occasion's date, every year.
        return _recurring(text, yearly_rule(p))
    if p is None:
        sp = _dash_range(s, year)
        return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)
    sp = as_span(p, year)
    if sp.point:  # a full date alone is a deadline on that day
        return Timing(Kind.DEADLINE, text, end=sp.end, nominal=sp.end)
    return Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


def read(s: str, year: int | None, text: str) -> Timing | None:
    """The Timing of prepared text ``s`` by the first rule that reads it, else None."""
    for rx, rule in _RULES:
        m = rx.fullmatch(s)
        if m is not None and (timing := rule(m, year, text)) is not None:
            return timing
    return _alone(s, year, text)
