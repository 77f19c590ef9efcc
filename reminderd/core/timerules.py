"""The general phrases of the time grammar: deadlines, ranges, periods from an anchor,
continuous work, anniversaries, named years.

Registered after the reporting-cycle rules (``timecycles``, imported first below), in the
order of this file: a rule that returns None lets the next one try ("từ X đến Y" before
"từ X"). ``read`` is the entry point (``timespans``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from reminderd.core import timecycles  # noqa: F401  (registers the reporting-cycle rules first)
from reminderd.core.timeperiod import (
    COUNT,
    DAYNUM,
    Bad,
    Day,
    as_span,
    check_day,
    parse_day,
    parse_period,
    resolve,
    year_of,
)
from reminderd.core.timespans import (
    dash_range,
    join,
    read,
    recurring,
    rule,
    span,
    yearly_rule,
)
from reminderd.core.timing import Kind, Recurrence, Relative, Timing
from reminderd.core.vnwords import number

__all__ = ["read"]

_UNIT = r"(?P<u>ngày làm việc|ngày|tuần|tháng|năm)"


_UNITS = {
    "ngày làm việc": "working_day", "ngày": "day", "tuần": "day", "tháng": "month", "năm": "year",
}  # fmt: skip


_ANCHORS = {"ký kết": "ký", "nhận được": "nhận", "có hiệu lực": "hiệu lực"}


def _relative(n: str, unit: str, anchor: str, text: str, year: int | None = None) -> Timing:
    """A period from an anchor: counted when the anchor is a written date ("kể từ ngày
    01/7/2025"), else unscheduled with the reason (the item must say when it starts)."""
    amount = number(n) * (7 if unit == "tuần" else 1)  # a week is 7 days
    if amount < 1:
        raise Bad("a period must be at least one day, month or year long")
    written = anchor.removeprefix("ngày ")
    day = parse_day(written, year) if written[:1].isdigit() else None
    start = resolve(day, year) if day is not None else None
    rel = Relative(amount, _UNITS[unit], _ANCHORS.get(anchor, anchor), start)  # as written
    if start is not None:
        return Timing(Kind.DEADLINE, text, relative=rel)
    what = f"'{anchor}'" if anchor else "a day the phrase does not write"
    reason = f"counted from {what}, which has no date here: write the start date"
    return Timing(Kind.UNSCHEDULED, text, relative=rel, reason=reason)


@rule(
    rf"(?:có hiệu lực )?(?:kể )?từ ngày (?P<a>[^,]+?),? (?:và )?có giá trị "
    rf"(?:trong vòng |trong )?(?P<n>{COUNT}) {_UNIT}"
)
def _valid_from(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"có hiệu lực kể từ ngày ký và có giá trị trong vòng 5 năm" (as seed 004 writes it)."""
    return _relative(m["n"], m["u"], m["a"], text, year)


@rule(
    rf"(?:(?P<v>có giá trị|có hiệu lực)(?: thi hành)? )?"
    rf"(?P<w>(?:trong vòng|trong thời hạn|trong|sau) )?"
    rf"(?P<n>{COUNT}) {_UNIT}(?: (?:kể )?từ (?:ngày )?(?P<a>.+))?"
)
def _within_of(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"trong vòng 15 ngày kể từ ngày ký"; "có giá trị trong vòng 5 năm" counts from the
    start of validity ("hiệu lực"); a bare "trong vòng 3 tháng" from the item's anchor ("")."""
    if not (m["v"] or m["w"] or m["a"]):
        return None  # "15 ngày" alone says nothing about when
    return _relative(m["n"], m["u"], m["a"] or ("hiệu lực" if m["v"] else ""), text, year)


@rule(
    rf"(?:định kỳ )?(?:hằng (?P<p>năm|quý|tháng|tuần|ngày)|(?P<n>{COUNT}) (?P<u>tháng|năm))"
)
def _every(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """A cadence with no day ("hằng năm", "định kỳ 6 tháng"): never a day made up (it used
    to become 31/12 or the month's end); unscheduled, with what to write."""
    if m["p"] in ("tuần", "ngày"):
        raise Bad(f"'hằng {m['p']}' repeats too often for reminders", "use hằng tháng or hằng quý")
    if m["n"] is not None and not m[0].startswith("định kỳ"):
        return None  # "6 tháng" alone is a length, read by other rules or refused
    reason = (f"'{m[0]}' says how often, not on which day: write the day, e.g. "
              "'trước ngày 15/12 hằng năm' or 'ngày 20 hằng tháng'")
    return Timing(Kind.UNSCHEDULED, text, reason=reason)


@rule(rf"(?:định kỳ )?(?P<n>{COUNT}) (?P<u>tháng|năm)(?:/| (?:một|1) )lần")
def _periodic(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"định kỳ 02 năm/lần": every n years from the anchor the item supplies (day 0).
    "định kỳ 6 tháng/lần" gives no day: unscheduled, as "định kỳ 6 tháng" (it used to become
    30/06 and 31/12, a made-up day)."""
    n = number(m["n"])
    if m["u"] == "tháng":
        if 12 % n:
            raise Bad(f"{n} months does not divide the year into equal periods")
        reason = (f"'{m[0]}' says how often, not on which day: write the day, e.g. "
                  "'trước ngày 15/6 và 15/12 hằng năm'")
        return Timing(Kind.UNSCHEDULED, text, reason=reason)
    if not 1 <= n <= 100:
        raise Bad(f"an interval of {n} years is not a period")  # INTERVAL=0 hangs dateutil
    return recurring(text, Recurrence("yearly", day=0, interval=n))


_DMY = r"[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}"


def _founding(text: str) -> Day | None:
    """The first date of an anniversary pair: its year may be before 1900 (01/5/1886)."""
    head, _, y = text.rpartition(text[-5])
    d = parse_day(head)
    return None if d is None else Day(d.day, d.month, int(y))


@rule(
    rf"(?:(?P<pre>[0-9]{{1,2}}[/.-][0-9]{{1,2}}) )?"
    rf"(?P<o>\()?(?:ngày )?(?P<a>{_DMY})-(?:ngày )?(?P<b>{_DMY})(?(o)\))"
)
def _anniversary(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"(22/12/1992 - 22/12/2022)": yearly on 22/12 since 1992 (a founding year before 1900
    is kept). Decision: without brackets a pair with the same day and month is read the same
    way; any other pair is a range. "30/4 (30/4/1975 - 30/4/2025)": the day, then the pair."""
    a, b = _founding(m["a"]), parse_day(m["b"])
    same = a and b and a.year and b.year and (a.day, a.month) == (b.day, b.month)
    if same and a and b and a.year and b.year and b.year > a.year:
        if m["pre"] and parse_day(m["pre"]) != Day(a.day, a.month, None):
            raise Bad(f"{m['pre']} is not the day of the pair {m['a']} - {m['b']}")
        anchor = date(a.year, a.month, a.day)
        return recurring(text, yearly_rule(Day(a.day, a.month, None), anchor), since=a.year)
    if m["o"] or m["pre"]:
        raise Bad("an anniversary pair needs the same day and month, the later year second")
    return None


@rule(r"\((?P<a>[0-9]{4})-(?P<b>[0-9]{4})\)")
def _anniversary_years(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"(1969 - 2024)" in a plan for 2024: the anniversary year, counted since 1969."""
    a, b = year_of(m["a"]), year_of(m["b"])
    if b <= a:
        raise Bad(f"an anniversary pair needs the later year second, not {a} - {b}")
    return Timing(Kind.WINDOW, text, start=date(b, 1, 1), end=date(b, 12, 31), since=a)


@rule(
    r"(?:hằng (?:năm|quý|tháng),? )?(?:thường xuyên(?:,? liên tục)?|liên tục)"
    r"(?:,? hằng (?:năm|quý|tháng)| (?:trong|suốt) (?P<p>.+))?"
)
def _always(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """Continuous work over the period written, else the plan's year, else open."""
    if m["p"] is None:
        if year is None:
            return Timing(Kind.ONGOING, text)
        return Timing(Kind.ONGOING, text, start=date(year, 1, 1), end=date(year, 12, 31))
    sp = span(m["p"], year)
    return None if sp is None else Timing(Kind.ONGOING, text, start=sp.start, end=sp.end)


@rule(r"(?P<p>.+?)(?:,? và|,) (?:những|các) năm (?:tiếp theo|sau đó|sau|tiếp)", "năm ")
def _onwards(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    p = parse_period(m["p"], year)
    return None if p is None else Timing(Kind.ONGOING, text, start=as_span(p, year).start)


@rule(r"(?:từ |giai đoạn )?(?P<a>.+?) (?:đến|tới) (?:hết )?(?P<b>.+)", "đến", "tới")
def _from_to(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    if m["b"] == "nay":  # "từ ngày 22/12/2017 đến nay": from then on
        p = parse_period(m["a"], year)
        return None if p is None else Timing(Kind.ONGOING, text, start=as_span(p, year).start)
    sp = join(m["a"], m["b"], year, same_unit=False)
    return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


@rule(r"giai đoạn (?P<p>.+)")
def _stage(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    sp = span(m["p"], year)
    return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


@rule(r"từ (?P<p>.+)")
def _from(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"Từ tháng 2 năm 2022": ongoing from its start; "từ 01/7-15/7/2025" is a range."""
    p = parse_period(m["p"], year)
    if p is not None:
        return Timing(Kind.ONGOING, text, start=as_span(p, year).start)
    sp = dash_range(m["p"], year)
    return None if sp is None else Timing(Kind.WINDOW, text, start=sp.start, end=sp.end)


@rule(r"(?:chậm nhất |muộn nhất )?trước (?P<p>.+)")
def _before(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"trước ngày X" is exclusive: the last day is X - 1, X stays as nominal."""
    p = parse_period(m["p"], year)
    if p is None:
        return None
    first = as_span(p, year).start
    return Timing(Kind.DEADLINE, text, end=first - timedelta(1), nominal=first)


@rule(
    r"(?:chậm nhất|muộn nhất|hạn chót|hạn cuối|hạn nộp|hạn|đến hết|đến"
    r"|không (?:muộn|chậm|trễ) hơn(?: ngày)?)"
    r"(?: là| vào| đến hết| đến)* (?P<p>.+)"
)
def _by(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"chậm nhất (là/vào) ngày X", "đến hết ngày X", "hạn chót X": X itself is allowed."""
    p = parse_period(m["p"], year)
    if p is None:
        return None
    last = as_span(p, year).end
    return Timing(Kind.DEADLINE, text, end=last, nominal=last)


@rule(rf"(?P<n>{COUNT}) ngày(?P<wd> làm việc)? (?:trong|vào) (?P<p>.+)")
def _days_within(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"05 ngày làm việc trong nửa cuối tháng 7/2026": the window is the period (its end
    is the deadline); the duration is kept as ``workdays`` (plain "ngày": not kept)."""
    sp = span(m["p"], year)
    if sp is None:
        return None
    n = number(m["n"])
    if not 1 <= n <= (sp.end - sp.start).days + 1:
        raise Bad(f"{n} days do not fit in {sp.start:%d/%m/%Y}-{sp.end:%d/%m/%Y}")
    workdays = n if m["wd"] else None
    return Timing(Kind.WINDOW, text, start=sp.start, end=sp.end, workdays=workdays)


@rule(
    rf"(?:trong |vào )?(?:các |những )?ngày (?P<days>{DAYNUM}(?:(?:, | và |-){DAYNUM})*)"
    rf"(?:, | và |-)(?P<last>{DAYNUM}[/.-].+|{DAYNUM} tháng .+)"
)
def _day_list(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"trong các ngày 10, 11/9/2026", "ngày 24, 25 và 26/3": consecutive days are a
    window; days apart are separate dates, which one item cannot hold (refused)."""
    last = parse_period(m["last"], year)
    if not isinstance(last, Day):
        return None
    days = [number(x) for x in re.split(r", | và |-", m["days"])] + [last.day]
    if "-" in m[0] and len(days) > 2:
        return None
    for d in days:
        check_day(d, last.month, last.year if last.year is not None else year, last.lunar)
    end = resolve(last, year)
    start = resolve(Day(days[0], last.month, last.year, last.lunar, last.leap), year)
    if "-" not in m[0] and days != list(range(days[0], days[0] + len(days))):
        raise Bad(
            f"the days {', '.join(map(str, days))} are not consecutive",
            "give each day its own item, or write the range: từ ngày X đến ngày Y",
        )
    if end < start:
        raise Bad(f"the range ends ({end:%d/%m/%Y}) before it starts ({start:%d/%m/%Y})")
    return Timing(Kind.WINDOW, text, start=start, end=end)


@rule(r"(?:trong |suốt )?cả năm|suốt năm|trong năm")
def _plan_year(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"Cả năm", "Trong năm": the plan's year."""
    if year is None:
        raise Bad(f"'{m[0]}' needs the plan's year", "write the year: cả năm 2025")
    return Timing(Kind.WINDOW, text, start=date(year, 1, 1), end=date(year, 12, 31))


@rule(r"(?:từ )?(?P<p>.+?),? (?:trở đi|trở về sau|về sau)", "trở", "về sau")
def _onwards_from(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"từ tháng 6/2025 trở đi": ongoing from the period's start."""
    p = parse_period(m["p"], year)
    return None if p is None else Timing(Kind.ONGOING, text, start=as_span(p, year).start)


@rule(r"từ (?:nay|bây giờ|thời điểm này) (?:đến|tới) (?:hết )?(?P<p>.+)")
def _until(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"Từ nay đến năm 2030": due by the period's end (as "đến năm 2030")."""
    p = parse_period(m["p"], year)
    if p is None:
        return None
    last = as_span(p, year).end
    return Timing(Kind.DEADLINE, text, end=last, nominal=last)


_THEME_STOP = re.compile(r"\b(?:học|đầu|giữa|cuối|sau|trước|tới|nay|báo cáo|liền kề)\b")


@rule(
    r"năm (?P<theme>[^0-9()]+?),? (?:năm |\((?P<since>[0-9]{4})-)?(?P<y>[0-9]{4})(?(since)\))"
)
def _themed_year(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"Năm Đoàn kết hữu nghị Việt Nam - Lào 2022" is the year 2022; the theme is set aside
    (and reported). Not a school year ("năm học 2025") nor a relative year."""
    if _THEME_STOP.search(m["theme"]) or len(m["theme"].split()) < 2:
        return None
    y = year_of(m["y"])
    since = int(m["since"]) if m["since"] else None
    return Timing(Kind.WINDOW, text, start=date(y, 1, 1), end=date(y, 12, 31), since=since,
                  ignored=(f"năm {m['theme']}",))
