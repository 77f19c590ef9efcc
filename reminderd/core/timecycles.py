"""Reporting cycles and yearly due days (Nghị định 09/2019/NĐ-CP, Art. 12): the rules.

"chậm nhất ngày 20 của tháng cuối quý", "trước ngày 15 của tháng sau", "số liệu tính từ ngày
15 tháng trước đến ngày 14 của tháng báo cáo", "15/6 và 15/12 hằng năm", "cuối mỗi quý".
``timeprep`` has already written the cycle's words one way ("tháng tiếp theo ngay sau tháng
báo cáo" -> "tháng sau"); docs/cach-ghi-thoi-gian.md says what each means.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from reminderd.core.timeperiod import (
    COUNT,
    DAYNUM,
    Bad,
    Day,
    parse_day,
    parse_yearly_day,
    resolve,
)
from reminderd.core.timespans import (
    LIST,
    due_day,
    read,
    recurring,
    rule,
    yearly_list,
    yearly_rule,
)
from reminderd.core.timing import Kind, Recurrence, Timing
from reminderd.core.vnwords import number

__all__: list[str] = []  # rules register themselves with the table in ``timespans``

# A repeating due day: "trước ngày 20 hằng tháng" is exclusive (the 19th), "chậm nhất ngày
# 15/12 hằng năm" inclusive, as for one-off deadlines.
_DUE = (
    r"(?:(?P<before>(?:chậm nhất |muộn nhất )?trước )"
    r"|(?:chậm nhất|muộn nhất|hạn chót|hạn|đến hết|đến)(?: là| vào)* )?"
)


def _every_months(n: int, text: str) -> Timing:
    """Reports every n months fall at the ends of the calendar periods (30/06, 31/12)."""
    if n == 1:
        return recurring(text, Recurrence("monthly", day=-1))
    if n not in (2, 3, 4, 6, 12):
        raise Bad(f"{n} months does not divide the year into equal periods")
    return recurring(text, Recurrence("yearly", day=-1, months=tuple(range(n, 13, n))))


@rule(rf"{_DUE}ngày (?:mùng )?(?P<d>{DAYNUM}),? hằng tháng")
def _monthly_on(m: re.Match[str], year: int | None, text: str) -> Timing:
    return recurring(text, Recurrence("monthly", day=due_day(number(m["d"]), bool(m["before"]))))


@rule(r"(?:vào )?(?:ngày )?(?:cuối (?:mỗi |cùng của )?tháng,? hằng tháng|cuối mỗi tháng)")
def _month_ends(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"cuối tháng, hằng tháng": the last day of every month (Civil Code Art. 146)."""
    return recurring(text, Recurrence("monthly", day=-1))


@rule(rf"(?:định kỳ )?(?P<n>{COUNT}) tháng(?:,| và) hằng năm")
def _reports(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"6 tháng, hằng năm": the six-month and the yearly report, at 30/06 and 31/12."""
    return _every_months(number(m["n"]), text)


_FILLER = re.compile(r"^(?:(?:vào |nhân |trong )?dịp |vào |trong )")


@rule(rf"{_DUE}(?P<p>.+?),? hằng năm", "hằng năm")
def _yearly_on(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"15/8 hằng năm", "10/3 âm lịch hằng năm" (a written year becomes the anchor);
    "15/6 và 15/12 hằng năm", "trong tháng 3 hằng năm", "Quý I hằng năm" (windows: their
    last day is the deadline)."""
    p = _FILLER.sub("", m["p"])  # "hằng năm vào dịp Tết Nguyên đán"
    d = parse_yearly_day(p)
    if d is None or (d.year is None and not d.lunar and LIST.search(p)):
        listed = yearly_list(p, bool(m["before"]), text)
        if listed is not None:
            return listed
        return None  # several clauses, or words around the time: read by timeexpr
    anchor = resolve(d, None) if d.year is not None else None
    if not m["before"]:
        return recurring(text, yearly_rule(d, anchor))
    before = anchor - timedelta(1) if anchor else None
    if d.day > 1:
        return recurring(text, yearly_rule(Day(d.day - 1, d.month, None, d.lunar, d.leap), before))
    if d.lunar:  # a leap month may come before: not guessed
        raise Bad("the day before a lunar month's first day is not fixed", "write that day itself")
    return recurring(text, Recurrence("yearly", -1, (d.month - 1 or 12,), anchor=before))


# A due day named by its place in the reporting cycle: "ngày 20 của tháng cuối quý" (the
# quarter's last month), "ngày 15 của tháng sau" (the month after the reporting month, so
# every month), "ngày 15/12 của năm báo cáo".
_QUARTER_MONTHS = {
    "đầu": (1, 4, 7, 10), "nhất": (1, 4, 7, 10), "1": (1, 4, 7, 10), "tiên": (1, 4, 7, 10),
    "giữa": (2, 5, 8, 11), "hai": (2, 5, 8, 11), "2": (2, 5, 8, 11),
    "cuối": (3, 6, 9, 12), "ba": (3, 6, 9, 12), "3": (3, 6, 9, 12), "cùng": (3, 6, 9, 12),
}  # fmt: skip


_IN_QUARTER = re.compile(
    r"(?:của )?tháng (?P<w>đầu tiên|đầu|giữa|cuối cùng|cuối|thứ (?:nhất|hai|ba|1|2|3)) "
    r"(?:(?:của )?(?:mỗi )?quý|hằng quý)(?: sau| báo cáo| kỳ báo cáo)?(?: hằng quý)?"
)


_EVERY_MONTH = re.compile(r"(?:của )?tháng (?:báo cáo|sau)(?: hằng tháng)?")


_OF_YEAR = re.compile(r"(?:của |cùng )?năm(?: báo cáo| đó| sau| kỳ báo cáo)?(?: hằng năm)?")


def _cycle_day(day: int, tail: str) -> Recurrence | None:
    """The rule for "ngày <day> <tail>" when the tail names a place in the reporting cycle."""
    if _IN_QUARTER.fullmatch(tail) is None:
        tail = tail.removesuffix(" hằng quý").removesuffix(" hằng tháng").removesuffix(" hằng năm")
    if (m := _IN_QUARTER.fullmatch(tail)) is not None:
        months = _QUARTER_MONTHS[m["w"].split()[-1]]
        return Recurrence("yearly", day, months)
    if _EVERY_MONTH.fullmatch(tail) is not None:
        return Recurrence("monthly", day)
    return None


@rule(rf"{_DUE}ngày (?:mùng )?(?P<d>{DAYNUM}|cuối cùng|cuối) (?P<tail>(?:của )?tháng .+)")
def _reporting_day(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"chậm nhất ngày 20 của tháng cuối quý" (3, 6, 9, 12), "trước ngày 15 của tháng sau"
    (every month): the due day of a periodic report."""
    last = m["d"].startswith("cuối")
    rule = _cycle_day(0 if last else number(m["d"]), m["tail"])
    if rule is None:
        return None
    if last:  # "ngày cuối cùng của tháng cuối quý": the month's last day
        return None if m["before"] else recurring(text, replace(rule, day=-1))
    day = due_day(rule.day, bool(m["before"]), rule.months)
    if day == -1 and rule.freq == "yearly":  # before the 1st: the month before's last day
        rule = Recurrence("yearly", -1, tuple(sorted((x - 1 or 12) for x in rule.months)))
        return recurring(text, rule)
    return recurring(text, Recurrence(rule.freq, day, rule.months))


@rule(
    rf"{_DUE}(?:ngày )?(?P<d>[0-9]{{1,2}})(?:[/.-]| tháng )(?P<m>[0-9]{{1,2}}) (?P<tail>.+)"
)
def _reporting_year_day(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"chậm nhất ngày 15/12 của năm báo cáo", "trước ngày 31/01 của năm liền kề": yearly."""
    if _OF_YEAR.fullmatch(m["tail"]) is None:
        return None
    d = parse_day(f"{m['d']}/{m['m']}")
    if d is None:
        return None
    return yearly_list(f"{d.day}/{d.month}", bool(m["before"]), text)


_CYCLE_START = re.compile(
    r"(?:đầu )?ngày (?:[0-9]{1,2}|đầu tiên)(?:[/.-][0-9]{1,2})?"
    r"(?: (?:của|tháng|năm|quý|[0-9]{1,2}|đầu|tiên|trước|báo|cáo|kỳ|đó|sau|liền|kề|thuộc))*"
)


@rule(
    r"(?:(?:thời gian |thời điểm )?(?:lấy |chốt )?số liệu(?: báo cáo)?(?: được)?(?: tính)?:? )?"
    r"từ (?P<a>(?:đầu )?ngày .+?) đến (?:hết )?(?P<b>(?:ngày )?(?:[0-9]|cuối cùng).+)"
)
def _period_to_due(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    """"từ ngày 01/01 đến ngày 30/6 của năm báo cáo", "từ ngày 15 tháng trước đến ngày 14
    của tháng báo cáo": a period of every reporting cycle, due on its last day."""
    if _CYCLE_START.fullmatch(m["a"]) is None:
        return None
    b = m["b"] if m["b"].startswith("ngày") else f"ngày {m['b']}"
    b = b.replace(" năm dương lịch", " năm báo cáo")  # "đến ngày 31/12 năm dương lịch"
    timing = read(f"chậm nhất {b}", year, text)
    if timing is None or timing.kind is not Kind.RECURRING:
        return None
    return replace(timing, text=text)


# Art. 12 cut-off of the data: "số liệu tính từ ngày 15 tháng trước đến ngày 14 của tháng
# báo cáo" is due, every period, on its last day.
@rule(
    r"(?:(?:thời gian |thời điểm )?(?:lấy |chốt )?số liệu(?: báo cáo)?(?: được)?(?: tính)?:? "
    r"|(?:thời gian |thời điểm )?chốt số liệu(?: báo cáo)?:? )?"
    r"(?:tính )?từ ngày (?P<a>[0-9]{1,2})(?:[/.-](?P<am>[0-9]{1,2})| tháng (?P<am2>[0-9]{1,2}))?"
    r" (?:của )?(?:tháng|năm) trước(?: đó)?(?: (?:của )?kỳ báo cáo| liền kề)?"
    r" đến (?:hết )?ngày (?P<b>[0-9]{1,2})(?:[/.-](?P<bm>[0-9]{1,2})| tháng (?P<bm2>[0-9]{1,2}))?"
    r" (?P<tail>.+)"
)
def _cutoff(m: re.Match[str], year: int | None, text: str) -> Timing | None:
    end_month = m["bm"] or m["bm2"]
    if end_month:  # "đến ngày 14/12 của năm báo cáo": yearly
        if _OF_YEAR.fullmatch(m["tail"]) is None and m["tail"] != "kỳ báo cáo":
            return None
        return yearly_list(f"{m['b']}/{end_month}", False, text)
    rule = _cycle_day(number(m["b"]), m["tail"])
    if rule is None:
        return None
    return recurring(text, Recurrence(rule.freq, due_day(rule.day, False, rule.months),
                                       rule.months))


_EACH = {"quý": (3, 6, 9, 12), "năm": (12,)}


@rule(r"(?:vào )?(?:(?P<p>đầu|cuối) |(?P<m>tháng (?:đầu|cuối)) (?:của )?)(?:mỗi|từng|các) "
       r"(?P<u>quý|năm)")
def _each_period(m: re.Match[str], year: int | None, text: str) -> Timing:
    """"cuối mỗi quý" 31/03, 30/06 …; "đầu mỗi quý" 01/01, 01/04 …; "tháng cuối của mỗi
    quý" that month (its last day is the deadline); "cuối mỗi năm" 31/12 (Art. 146)."""
    months = _EACH[m["u"]]
    if m["p"] == "đầu" or (m["m"] or "").endswith("đầu"):
        first = tuple(x - (2 if m["u"] == "quý" else 11) for x in months)
        day = 1 if m["p"] else -1
        return recurring(text, Recurrence("yearly", day, first))
    return recurring(text, Recurrence("yearly", -1, months))
