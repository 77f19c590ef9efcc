"""Vietnamese administrative time phrases -> Timing (docs/cach-ghi-thoi-gian.md).

``parse_time`` reads the time column of a plan ("Trước ngày 15/8/2022", "Quý II/2024",
"6 tháng, hằng năm", "Theo Kế hoạch của đoàn cấp cao") the way a Vietnamese civil servant
does, or raises TimeExprError quoting the phrase. It never guesses: a phrase is read by one
rule of the table below, or it is an error.

Pipeline: ``vnwords.normalise`` -> ``_prepare`` (labels, remarks, spelled numbers, can-chi)
-> ``timerules.read``: the first rule of its table that reads the phrase ("trước X",
"từ X đến Y", "6 tháng, hằng năm" ...), else a lone period (``timeperiod``: "Quý II/2024").
Day-first always; years 1900-2100. This module: preparation, error messages, the API.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache

from reminderd.core import lunar
from reminderd.core.errors import TimeExprError
from reminderd.core.nameddays import Mismatch, substitute
from reminderd.core.recurrence import expand
from reminderd.core.timeperiod import (
    LAST_YEAR,
    Bad,
    parse_day,
    parse_yearly_day,
    resolve,
    year_of,
)
from reminderd.core.timerules import combine_yearly, read, yearly_rule
from reminderd.core.timing import Kind, Recurrence, Timing
from reminderd.core.vnwords import CAN_CHI_RX, NUM_WORDS, normalise, word_number
from reminderd.core.workdays import WorkCalendar, period_end

__all__ = ["describe", "parse_date", "parse_time", "parse_yearly"]

_FORMS = (
    "15/8/2022", "trước ngày 15/8/2022", "chậm nhất ngày 15/8/2022", "tháng 10/2024",
    "Quý II/2024", "6 tháng đầu năm 2024", "Năm 2022", "từ ngày 01/7 đến ngày 15/7/2025",
    "Từ tháng 2 năm 2022", "Thường xuyên trong năm 2024", "6 tháng, hằng năm",
    "định kỳ 02 năm/lần", "10/3 âm lịch", "Tết Nguyên Đán 2025", "Theo kế hoạch ...",
)  # fmt: skip
HINT_FORMS = ("forms that work: " + " | ".join(_FORMS)
              + " (every form, with examples: docs/cach-ghi-thoi-gian.md)")
_MAX_LENGTH = 300  # a time column entry, not a paragraph

# --- preparing the text --------------------------------------------------------------------

_LEAD = re.compile(r"(?:[-+•*] ?|(?:thời gian|thời hạn)(?: [^:]{1,30})?: ?|dự kiến:? |vào )")
# Any short label before a colon; not one whose words change the time ("Kể từ: …").
_LABEL = re.compile(r"([^:0-9()]{2,40}?) ?: ")
_LABEL_STOP = re.compile(r"\b(?:trước|sau|từ|kể|đến|tới|không|chưa|nếu|khi|hoặc|trừ)\b")
_LABEL_CI = re.compile(
    r"^\s*(?:[-+•*]\s*|(?:thời gian|thời hạn)(?: [^:]{1,30})?\s*:\s*|dự kiến:?\s+)+", re.I
)
# Phrases that give no date: the item is unscheduled, with the phrase as its reason.
_UNSCHEDULED = (
    "theo kế hoạch", "theo chương trình", "theo đề xuất", "theo yêu cầu", "đột xuất",
    "khi có yêu cầu", "khi được yêu cầu", "chưa xác định", "tùy tình hình", "tùy theo tình hình",
    "theo thời gian", "theo lịch", "theo tiến độ", "theo quy định", "theo hướng dẫn",
    "theo chỉ đạo", "theo thông báo", "theo văn bản", "theo đề nghị", "theo kết quả",
    "khi có", "khi được", "sau khi", "ngay sau khi", "căn cứ", "theo thực tế", "theo nhu cầu",
)  # fmt: skip
# Relative to when the text is read ("thời gian tới"): no date without a reference day.
_RELATIVE_NOW = re.compile(
    r"\b(?:thời gian tới|sắp tới|tuần (?:tới|sau|này)|tháng (?:tới|sau|này)|năm (?:tới|nay|sau)"
    r"|quý (?:tới|sau|này)|hôm nay|ngày mai)\b"
)
_SPELLED = re.compile(r"(?<![0-9/.-])([0-9]{1,2}) \(([^()0-9]+)\)")  # "06 (sáu)": must agree
_SPELLED_FIRST = re.compile(rf"(?:(?<=tháng )|(?<=ngày ))({NUM_WORDS}) \(([0-9]{{1,2}})\)")
# A trailing parenthetical without digits is a remark; final stops are not part of the time.
_TAIL = re.compile(r"(?: ?\([^()0-9]*\)|[ .;,:!]|\./\.)+$")  # remarks in brackets, stops
_CONDITION = re.compile(r"\b(?:khi|nếu|tùy|trừ|trường hợp|trong trường hợp|điều kiện)\b")
_REMARK = re.compile(r"\(([^()0-9]*)\)")
_TAIL_CHARS = frozenset(") .;,:!")
_OR_ADHOC = re.compile(
    r",? (?:hoặc|và) (?:đến )?(?:thời điểm )?(?:đột xuất|khi có yêu cầu|khi được yêu cầu"
    r"|theo yêu cầu|khi cần)\b.*$"
)
# "Báo cáo 6 tháng đầu năm gửi trước ngày 10/07": which report, then its due day.
_REPORT_LABEL = re.compile(
    r"(?:số liệu )?báo cáo (?:định kỳ )?(?:hằng )?(?P<c>tháng|quý|năm|cả năm|(?:0?6|sáu) tháng"
    r"(?: đầu năm| cuối năm)?|(?:0?9|chín) tháng(?: đầu năm)?)(?: (?:được )?(?:gửi|nộp))?,? "
    r"(?=(?:tính )?từ |trước |chậm nhất |hạn |vào |trong |ngày )"
)
_PERIOD_COMMA_YEAR = re.compile(r"((?:quý|tháng) [ivx0-9]+), (năm [0-9]{4})")
# "(06 tháng 15 ngày)" after a range: the document's own count; ", tầm nhìn 2045": a horizon.
_REMARKS = re.compile(
    r" \((?:[0-9]{1,3} (?:năm|tháng|ngày|tuần),? ?)+\)|,? tầm nhìn (?:đến )?(?:năm )?[0-9]{4}"
    r"| \((?:gmt|utc) ?\+ ?0?7(?::00)?\)| \(giờ (?:hà nội|việt nam)\)"
)
# "ngày 21/4/2021 (nhằm ngày 10 tháng 3 âm lịch)": the lunar day beside the solar one.
_LUNAR_TOO = re.compile(
    r"(?P<solar>[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}),? \((?:tức|nhằm|nhằm|tức là)? ?(?:ngày )?"
    r"(?P<lunar>[^()]*(?:âm lịch|âl))\)"
)
_WEEKDAY = r"(?:thứ (?:hai|ba|tư|năm|sáu|bảy|[2-7])|chủ nhật|cn)"
_WEEKDAY_NUM = {"hai": 0, "2": 0, "ba": 1, "3": 1, "tư": 2, "4": 2, "năm": 3, "5": 3, "sáu": 4,
                "6": 4, "bảy": 5, "7": 5, "chủ nhật": 6, "cn": 6}  # fmt: skip
_WITH_WEEKDAY = re.compile(
    rf"(?P<w1>{_WEEKDAY})(?:,? |-| - )(?:ngày )?(?=[0-9])"
    rf"|(?<=[0-9]) ?,? \(?(?P<w2>{_WEEKDAY})\)?(?=$|[ ,;.])"
)
_DATE_AFTER = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})(?:[/.-]([0-9]{4}))?")
_DATE_BEFORE = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})(?:[/.-]([0-9]{4}))?$")


def _weekdays(p: _Prepared, year: int | None) -> None:
    """"thứ Tư ngày 30/4/2025", "16/07/2024 (thứ ba)": the weekday must be the date's."""

    def check(m: re.Match[str]) -> str:
        name = m["w1"] or m["w2"]
        near = (_DATE_AFTER.match(p.s, m.end()) if m["w1"]
                else _DATE_BEFORE.search(p.s, 0, m.start()))
        if near is None:
            return m[0]
        y = int(near[3]) if near[3] else year
        if y is None:
            return " " if m["w2"] else ""
        try:
            day = date(y, int(near[2]), int(near[1]))
        except ValueError:
            return m[0]  # an impossible date: said by the grammar
        want = _WEEKDAY_NUM[name.removeprefix("thứ ")]
        if day.weekday() != want:
            raise Bad(f"{day:%d/%m/%Y} is a {day:%A}, not {name}",
                      "check the date and the weekday in the document")
        return "ngày " if m["w1"] else ""

    p.s = " ".join(_WITH_WEEKDAY.sub(check, p.s).split())


def _lunar_too(p: _Prepared) -> None:
    """Check the lunar date written beside a solar one, then read the solar one."""

    def check(m: re.Match[str]) -> str:
        solar = parse_day(m["solar"])
        lunar_day = parse_day(m["lunar"].strip(), solar.year if solar else None)
        if solar is None or lunar_day is None or solar.year is None:
            return m[0]
        if resolve(lunar_day, solar.year) != resolve(solar, None):
            raise Bad(f"{m['solar']} is not {m['lunar'].strip()}",
                      "check the solar and the lunar date in the document")
        return m["solar"]

    p.s = _LUNAR_TOO.sub(check, p.s)


# A bracket about what a report or its data covers: "(báo cáo 02 tuần đầu tháng)", "(số liệu
# tính từ ngày 15/12 năm trước ...)". The due day stands outside it.
_COVERS = re.compile(r" \((?:báo cáo|số liệu|đối với|áp dụng cho|tính theo)[^()]*\)")
# A time of day: "17h00", "17h", "8 giờ 30 (phút)", "08:30", with "sáng"/"chiều" after it.
_CLOCK = re.compile(
    r"(?P<pre>(?:chậm nhất |trước |vào lúc |lúc |vào |từ )*)"
    r"(?<![0-9/.])(?P<h>[0-9]{1,2})"
    r"(?: ?(?:h|giờ|g)(?![^\W\d_])(?: ?(?P<m>[0-9]{1,2})(?: ?phút|')?)?"
    r"|:(?P<m2>[0-9]{2}))(?![0-9/.])(?: (?P<dp>sáng|chiều|tối|trưa))?,?"
)
_DAYPART = re.compile(
    r"(?:(?<=^)|(?<= ))(?:buổi )?(?P<dp>sáng|chiều|tối|trưa)"
    r"(?= (?:ngày|thứ|mùng|[0-9])|,|$)"
)


@dataclass
class _Prepared:
    """The phrase the rules read, with what was taken out of it on the way."""

    s: str
    unscheduled: bool = False
    ignored: list[str] = field(default_factory=list)
    time: str | None = None
    daypart: str | None = None


def _spelled(m: re.Match[str], *, digits_first: bool = True) -> str:
    digits, words = (m[1], m[2]) if digits_first else (m[2], m[1])
    said = word_number(words.strip())
    if said is None:
        return m[0]  # not a number: a remark, handled below
    if said != int(digits):
        raise Bad(f"{m[0]}: the digits say {int(digits)} but the words say {said}")
    return digits


def _can_chi(s: str) -> str:
    """Check "Giáp Thìn 2024" against the year, then drop the name."""
    m = CAN_CHI_RX.search(s)
    if m is None:
        return s
    name = f"{m['can']} {m['chi']}"
    title = name.title()
    years = [y for y in range(1984, 2044) if lunar.can_chi(y).lower() == name]
    if not m["year"]:
        raise Bad(f"{title} names a year of a 60-year cycle", f"write it: {title} {years[0]}")
    y = year_of(m["year"])
    if lunar.can_chi(y).lower() != name:
        near = years[0] + 60 * round((y - years[0]) / 60)  # the same name 60 years apart
        raise Bad(f"{title} is {near}, not {y} ({y} is {lunar.can_chi(y)})")
    return " ".join((s[: m.start()] + s[m.end("chi") :]).split())


def _clock(p: _Prepared) -> None:
    """Take the time of day out: "trước 17h00 ngày 10/11" is due on 10/11 at 17:00."""
    found = list(_CLOCK.finditer(p.s))
    if not found:
        return
    if len(found) > 2:
        raise Bad("more than two times of day", "write one deadline: trước 17h00 ngày 10/11/2025")
    times = []
    for m in found:
        hour, minute = int(m["h"]), int(m["m"] or m["m2"] or 0)
        if m["dp"] in ("chiều", "tối") and hour < 12:
            hour += 12
        if hour > 23 or minute > 59:
            raise Bad(f"{m[0].strip()!r} is not a time of day", "write e.g. 17h00 or 8 giờ 30")
        times.append(f"{hour:02d}:{minute:02d}")
        p.daypart = p.daypart or m["dp"]
    p.time = "-".join(times)

    def keep_due(m: re.Match[str]) -> str:  # before 17:00 on X: X itself is allowed
        return " chậm nhất " if m["pre"].startswith(("trước", "chậm nhất")) else " "

    rest = _CLOCK.sub(keep_due, p.s)
    rest = " ".join(rest.replace(" ,", ",").split()).strip(", ")
    rest = re.sub(r"^(?:đến|tới|-) ", "", rest)  # the end of "từ 8h00 đến 11h00 ngày X"
    p.s = re.sub(r"chậm nhất,? (?:(?:vào|là|đến) )*(?:đến|tới|-) ", "chậm nhất ", rest)


def _daypart(p: _Prepared) -> None:
    m = _DAYPART.search(p.s)
    if m is not None:
        p.daypart = m["dp"]
        p.s = " ".join((p.s[: m.start()] + p.s[m.end() :]).split()).strip(", ")


# The reporting cycle's words, one spelling each (Nghị định 09/2019/NĐ-CP; ministries write
# the same period many ways): "tháng liền sau tháng báo cáo", "tháng tiếp theo ngay sau tháng
# báo cáo" -> "tháng sau"; "quý tiếp theo quý báo cáo" -> "quý sau"; "năm kế tiếp" -> "năm
# sau"; "của kỳ báo cáo" after a month -> "năm báo cáo" (the month of the reporting year).
_CYCLE_WORDS = (
    (re.compile(r"^(?:được )?tính từ\b"), "từ"),
    (re.compile(r"(?<=[ ,(])(?:được )?tính từ\b"), "từ"),
    (re.compile(r"\bngày thứ ([0-9]{1,2})\b"), r"ngày \1"),  # "ngày thứ 05": the 5th day
    (re.compile(r"\bchậm nhất (?:là |vào |đến )*(?=ngày|[0-9]|trước)"), "chậm nhất "),
    (re.compile(
        r"\btháng (?:tiếp theo ngay sau|liền sau|tiếp sau|sau liền kề|tiếp theo liền kề|liền kề sau"
        r"|kế tiếp sau|kế tiếp|tiếp theo|liền kề|sau)(?: (?:của |với )?tháng báo cáo)?\b"
        r"(?! (?:của |thuộc )?kỳ)"), "tháng sau"),
    (re.compile(
        r"\bquý (?:tiếp theo ngay sau|liền sau|tiếp sau|tiếp theo|kế tiếp|liền kề|sau)"
        r"(?: (?:của |với )?quý báo cáo)?\b"), "quý sau"),
    (re.compile(
        r"\bnăm (?:tiếp theo ngay sau|liền sau|tiếp sau|tiếp theo|kế tiếp|liền kề sau|sau liền kề"
        r"|liền kề|sau)(?: (?:của |với )?năm báo cáo)?\b"), "năm sau"),
    (re.compile(r"\b(?:thuộc |của )?(?:năm )?(?:thuộc )?kỳ báo cáo\b"), "kỳ báo cáo"),
    (re.compile(r"\btháng kỳ báo cáo\b"), "tháng báo cáo"),
)
# "đối với báo cáo hằng quý", "(báo cáo 6 tháng)": which report the date is for. Set aside,
# and kept as the cadence when the date alone does not say it.
_FOR_REPORT = re.compile(
    r",? (?:\((?:đối với |với )?|(?:đối với |với |là ))(?:các )?báo cáo (?:định kỳ )?(?:hằng )?"
    r"(?P<c>tháng|quý(?: [ivx1-4]+)?|năm|(?:0?6|sáu) tháng(?: đầu năm| cuối năm)?"
    r"|(?:0?9|chín) tháng|tổng kết năm)\)?"
)


_WITHIN = re.compile(
    r"\b(?:trong (?:vòng |thời hạn |thời gian )?(?:không quá |tối đa )?|không quá |tối đa )"
    r"(?=[0-9]{1,3} (?:ngày|tuần|tháng|năm))"
)
_COUNTED = re.compile(
    r"[0-9]{1,3} (?:ngày|tuần|tháng|năm)(?: làm việc)? kể từ|giá trị|hiệu lực .*kể từ ngày ký"
)
_CYCLE_TRIGGERS = ("báo cáo", "tính từ", "liền", "tiếp", "thứ", "sau", "kế")
_REDUNDANT_PERIOD = re.compile(
    r"(tháng (?:cuối|đầu) quý|tháng báo cáo|quý sau) kỳ báo cáo"
)
_MONTH_OF_PERIOD = re.compile(r"((?:tháng |/)[0-9]{1,2}) kỳ báo cáo")


def _cycle_words(p: _Prepared) -> None:
    for rx, to in _CYCLE_WORDS:
        p.s = rx.sub(to, p.s)
    p.s = _REDUNDANT_PERIOD.sub(r"\1", p.s)
    p.s = _MONTH_OF_PERIOD.sub(r"\1 năm báo cáo", p.s)
    if "hằng tháng" in p.s:  # "hằng tháng, … ngày 05 của tháng tiếp theo kỳ báo cáo"
        p.s = p.s.replace("tháng sau kỳ báo cáo", "tháng sau")
    if "báo cáo" in p.s:
        p.s = _FOR_REPORT.sub(lambda m: _for_report(m, p), p.s).strip()


_CLAUSE_START = re.compile(r".*(?:, | và | hoặc |; |\()")
_HAS_CADENCE = re.compile(r"hằng (?:năm|quý|tháng)|báo cáo|tháng sau|quý sau|năm sau|[0-9]{4}")


def _for_report(m: re.Match[str], p: _Prepared) -> str:
    """A qualifier naming the report is set aside; when its clause gives no cadence, the
    qualifier's cadence is kept ("trước ngày 20 tháng 7 đối với báo cáo 6 tháng")."""
    p.ignored.append(m[0].strip(" ,()"))
    before = m.string[: m.start()]
    clause = _CLAUSE_START.sub("", before)
    if _HAS_CADENCE.search(clause):
        return ""
    c = m["c"]
    if c == "tháng":
        return " hằng tháng"
    if c.startswith("quý") and not ("cuối quý" in clause or "đầu quý" in clause):
        return " hằng năm" if re.search(r"tháng [0-9]", clause) else ""
    return " hằng quý" if c.startswith("quý") else " hằng năm"


def _prepare(text: str, year: int | None = None) -> _Prepared:
    """The phrase the rules read, and what was set aside or taken out of it."""
    if len(text) > _MAX_LENGTH:
        raise Bad(f"longer than {_MAX_LENGTH} characters: not a time phrase", HINT_FORMS)
    p = _Prepared(normalise(text))
    if (label := _LABEL.match(p.s)) is not None and not _LABEL_STOP.search(label[1]):
        p.ignored.append(label[1])  # "Ngày ban hành: 05/08/2020", "Tiến độ: Quý IV/2025"
        p.s = p.s[label.end() :]
    while (lead := _LEAD.match(p.s)) is not None:  # "Thời gian dự kiến:", "dự kiến", "vào"
        words = lead[0].strip(" :-+•*")
        if words and words != "vào":
            p.ignored.append(words)
        p.s = p.s[lead.end() :]
    if p.s.lstrip("(").startswith(_UNSCHEDULED) or (
        _RELATIVE_NOW.search(p.s) and not any(c.isdigit() for c in p.s)
    ):
        p.unscheduled = True
        return p
    if "(" in p.s:
        p.s = _SPELLED.sub(_spelled, p.s).replace("(âm lịch)", "âm lịch")
        p.s = _SPELLED_FIRST.sub(lambda m: _spelled(m, digits_first=False), p.s)
    if p.s[-1:] in _TAIL_CHARS and (tail := _TAIL.search(p.s)) is not None:
        remarks = [r.strip() for r in _REMARK.findall(tail[0]) if r.strip()]
        if any(_CONDITION.search(r) for r in remarks):  # "(khi có kinh phí)": maybe never
            raise Bad(f"a condition beside the time: {', '.join(remarks)!r}",
                      "write the date that applies, or leave the item unscheduled")
        p.ignored += remarks
        p.s = p.s[: tail.start()]  # "(chưa bao gồm thời gian di chuyển)", a final "."
    p.s = _PERIOD_COMMA_YEAR.sub(r"\1 \2", p.s)  # "Quý II, năm 2025"
    if (label := _REPORT_LABEL.match(p.s)) is not None:
        p.ignored.append(label[0].strip(" ,"))
        p.s = p.s[label.end() :]
    if (" (" in p.s or "tầm nhìn" in p.s) and (remarks := _REMARKS.findall(p.s)):
        p.ignored += [r.strip(" ,()") for r in remarks]
        p.s = _REMARKS.sub("", p.s)
    if "âm lịch" in p.s and " (" in p.s:
        _lunar_too(p)
    if "thứ" in p.s or "chủ nhật" in p.s or "cn" in p.s:
        _weekdays(p, year)
    if " (" in p.s and (covers := _COVERS.findall(p.s)):
        p.ignored += [c.strip(" ()") for c in covers]
        p.s = _COVERS.sub("", p.s)
    adhoc = _OR_ADHOC.search(p.s) if "xuất" in p.s or "cầu" in p.s or "cần" in p.s else None
    if adhoc is not None:
        p.ignored.append(adhoc[0].strip(", "))
        p.s = _TAIL.sub("", p.s[: adhoc.start()])  # "... hoặc đột xuất ...": the dated part
    if "kể từ" in p.s or "không quá" in p.s or "thời gian" in p.s:
        p.s = _WITHIN.sub("trong vòng ", p.s).replace(", kể từ", " kể từ")
        if not _COUNTED.search(p.s):  # "có hiệu lực kể từ ngày X": from X on
            p.s = p.s.replace("kể từ", "từ")
    if any(w in p.s for w in _CYCLE_TRIGGERS):
        _cycle_words(p)
    p.s = _can_chi(p.s)
    try:
        p.s, _ = substitute(p.s)
    except Mismatch as exc:
        raise Bad(str(exc)) from None
    if any(c.isdigit() for c in p.s):
        _clock(p)
    if "sáng" in p.s or "chiều" in p.s or "tối" in p.s or "trưa" in p.s:
        _daypart(p)
    return p


# --- words around the time ---------------------------------------------------------------

# Words that may stand beside a time without changing it ("Dự kiến tổ chức vào tháng 9/2025",
# "Báo cáo UBND tỉnh trước ngày 20/11/2025") are set aside and reported. A word below, a
# digit, or a bracket in what would be set aside could change the meaning (a second date, a
# negation, an anchor, a condition, another period): then the phrase is refused.
_UNSAFE = frozenset(
    """không chưa chẳng nếu khi hoặc hay trước kể tính hết hạn chậm muộn sớm ngày tháng quý
    tuần năm giờ phút hằng hàng định lần mỗi nay mai trở liền kề xuyên vòng suốt lịch âm
    rằm mùng tết khánh trường tùy cần gia lùi hoãn dời kéo đợt giai mùa kỳ lào campuchia
    khmer""".split()  # noqa: SIM905
)
# Words that are about time only before a time word ("đầu tháng", "thu đông", "sau ngày"),
# and ordinary words elsewhere ("người đứng đầu", "thu nhập", "gửi đến Sở").
_TIME_NEXT = frozenset(
    """ngày tháng quý tuần năm kỳ giờ hết nay khi đó này tới sau""".split()  # noqa: SIM905
)
_CONTEXT = frozenset(
    """đầu giữa cuối nửa sáng chiều tối trưa đêm thượng trung hạ xuân hè thu đông từ đến
    tới sau tiếp thứ qua trong vào lúc thường""".split()  # noqa: SIM905
)
# Names of events, not times: "sơ kết giữa kỳ", "nhiệm kỳ", "ngày hội", "phiên họp thường kỳ".
_EVENT_TERMS = re.compile(
    r"\b(?:(?:giữa|cuối|đầu) kỳ|nhiệm kỳ|thường kỳ|ngày (?:hội|lễ|kỷ niệm|truyền thống)"
    r"|như sau|sau đây)\b"
)
_WORD_PUNCT = ",.;:!-–"


def _safe_aside(words: list[str]) -> bool:
    text = _EVENT_TERMS.sub(" ", " ".join(words))
    tokens = [w.strip(_WORD_PUNCT) for w in text.split()]
    tokens = [w for w in tokens if w]
    for i, w in enumerate(tokens):
        if w in _UNSAFE or any(c.isdigit() or c in "()/%" for c in w):
            return False
        if w in _CONTEXT and (i + 1 == len(tokens) or tokens[i + 1] in _TIME_NEXT):
            return False
    return True


def _edge(word: str) -> bool:
    """A word a time phrase can start or end with (prunes the search)."""
    w = word.strip(_WORD_PUNCT)
    return w in _VOCAB or any(c.isdigit() for c in w)


def _set_aside(s: str, year: int | None, text: str) -> Timing | None:
    """The longest run of words that reads as a time, when every other word is safe to set
    aside; the words set aside go to ``ignored``. A run that is a recognised but impossible
    time raises (a shorter run would silently drop what made it impossible)."""
    words = s.split(" ")
    n = len(words)
    for length in range(n - 1, 0, -1):
        for i in range(n - length + 1):
            run = words[i : i + length]
            if not (_edge(run[0]) and _edge(run[-1])):
                continue
            before, after = words[:i], words[i + length :]
            if not _safe_aside(before + after):
                continue
            timing = _read_all(" ".join(run).strip(_WORD_PUNCT + " "), year, text, aside=False)
            if timing is None:
                continue
            aside = [" ".join(x).strip(_WORD_PUNCT + " ") for x in (before, after)]
            return replace(timing, ignored=(*[a for a in aside if a], *timing.ignored))
    return None


_CADENCE_FIRST = re.compile(
    r"(?:định kỳ )?(?P<c>hằng (?:năm|quý|tháng))(?:,|:| và)? (?:vào |là )?(?P<rest>.+)"
)


def _read_all(s: str, year: int | None, text: str, *, aside: bool = True) -> Timing | None:
    """The rules, then the same phrase reordered ("hằng tháng, trước ngày 20"), bracketed
    parts read as parts, and last the words around the time set aside."""
    timing = read(s, year, text)
    if timing is None and s[:1] == "(" and s[-1:] == ")":  # "(15/8)" as copied
        timing = read(s[1:-1], year, text)
    if timing is None and (m := _CADENCE_FIRST.fullmatch(s)) is not None:
        timing = read(f"{m['rest']} {m['c']}", year, text)
    if timing is None and (m := _NARROWED.fullmatch(s)) is not None:
        timing = _narrowed(m["a"], m["b"], year, text)
    if timing is None and "(" in s:
        flat = " ".join(s.replace("(", ", ").replace(")", " ").split()).replace(" ,", ",")
        timing = _read_all(flat, year, text, aside=aside) if flat != s else None
    if timing is None and _CLAUSES.search(s):
        timing = _clauses(s, year, text)
    if timing is None and aside and " " in s:
        timing = _set_aside(s, year, text)
    return timing


_NARROWED = re.compile(r"(?P<a>[^()]+) \((?P<b>[^()]+)\)")


def _narrowed(a: str, b: str, year: int | None, text: str) -> Timing | None:
    """"Quý III/2025 (trước ngày 15/9/2025)", "Quý II/2025 (hoàn thành trước 30/6)": a date
    in brackets inside the period before them is the more precise reading, and wins."""
    outer = _read_all(a, year, text, aside=False)
    if outer is None or outer.kind not in (Kind.WINDOW, Kind.DEADLINE) or outer.end is None:
        return None
    inner = _read_all(b, outer.end.year, text)
    if inner is None or inner.kind not in (Kind.WINDOW, Kind.DEADLINE) or inner.end is None:
        return None
    first = outer.start or outer.end
    if first <= (inner.start or inner.end) and inner.end <= outer.end:
        return inner
    raise Bad(f"the date in brackets ({b}) is outside {a}", "write the one that applies")


_CLAUSES = re.compile(r"(?:,|;)? (?:và|hoặc) |; |, (?=(?:trước|chậm nhất|hạn|ngày|đến|từ|tháng|quý"
                      r"|cuối|đầu|giữa|tuần|[0-9]))")
_SHARED_CADENCE = re.compile(r",? (hằng (?:năm|quý|tháng))$")


def _clauses(s: str, year: int | None, text: str) -> Timing | None:
    """Several due days in one phrase ("trước ngày 20/7 (báo cáo 6 tháng) và trước ngày 20/01
    năm sau (báo cáo năm)", "cuối tháng 6 và cuối tháng 12 hằng năm"): one yearly rule with
    every day. A shared "hằng năm" at the end applies to each part. "A hoặc B" of the same
    kind is the span from A to B, as "Quý I hoặc quý II" is. Anything else is refused."""
    cadence = ""
    if (m := _SHARED_CADENCE.search(s)) is not None:
        cadence, s = m[1], s[: m.start()]
    either = " hoặc " in s
    parts = [x.strip(" ,;") for x in _CLAUSES.split(s) if x.strip(" ,;")]
    if len(parts) < 2:
        return None
    read_parts: list[Timing] = []
    for part in parts:
        if cadence and not _HAS_CADENCE.search(part):
            part = f"{part} {cadence}"
        t = _read_all(part, year, text, aside=False)
        if t is None:
            return None
        read_parts.append(t)
    if all(t.kind is Kind.RECURRING and t.recurrence is not None for t in read_parts):
        return combine_yearly(read_parts, text, either=either)
    spans = sorted(
        (t.start or t.end, t.end)
        for t in read_parts
        if t.kind in (Kind.DEADLINE, Kind.WINDOW) and t.end is not None
    )
    if len(spans) == len(read_parts):
        joined = all((b[0] - a[1]).days <= 1 for a, b in itertools.pairwise(spans))
        if either or joined:
            return Timing(Kind.WINDOW, text, start=spans[0][0], end=max(e for _, e in spans))
        raise Bad("the phrase gives several separate dates",
                  "give each date its own item, or write one range: từ ngày X đến ngày Y")
    return None


# --- errors --------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\s/.,;:()\-]+")
_WORDS = """ngày tháng năm mùng rằm âm dương lịch âl nhuận giêng chạp quý hoặc và đến tới hết từ
    trước chậm muộn nhất là vào hạn chót cuối nộp trong vòng thời có giá trị hiệu lực kể ký
    kết nhận được làm việc tuần đầu giữa thượng trung hạ nửa thường xuyên liên tục những các
    tiếp theo sau đó giai đoạn hằng định kỳ lần tết nguyên đán tiêu cổ truyền ta thu giỗ tổ
    hùng vương lễ xuân đoan ngọ dịp suốt cả mươi mười mốt lăm nhăm một hai ba bốn tư sáu bảy
    tám chín nay giáp ất bính đinh mậu kỷ canh tân nhâm tý sửu dần mão thìn tỵ mùi thân dậu tuất
    hợi i ii iii iv dịp nhân tuần kỳ báo cáo số liệu chốt trở đi của thứ tiên cùng sáng chiều
    tối trưa lúc giờ cuối đầu giữa quý nay thường xuyên khoảng liền kề sau tiếp"""
_VOCAB = frozenset(_WORDS.split())


def _unknown(s: str, year: int | None) -> Bad:
    """Quote the part not understood: what is left around the longest part that reads as a
    time, and the words outside the grammar's vocabulary."""
    unknown = [w for w in _TOKEN.findall(s) if w not in _VOCAB and not w.isdigit()]
    words_note = ", ".join(repr(w) for w in dict.fromkeys(unknown))
    words = s.split(" ")
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    for part, rest in sorted([*splits, *((b, a) for a, b in splits)], key=lambda p: -len(p[0])):
        try:
            if read(part, year, part) is None:
                continue
        except Bad:
            continue
        note = f"; unknown words: {words_note}" if unknown else ""
        return Bad(f"not understood: {rest!r} (only {part!r} reads as a time){note}", HINT_FORMS)
    if unknown:
        return Bad(f"not understood: {words_note}", HINT_FORMS)
    return Bad("these words do not form a time phrase reminderd reads", HINT_FORMS)


# --- public API ----------------------------------------------------------------------------


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
        p = _prepare(text, year)
        if p.unscheduled:
            reason = _LABEL_CI.sub("", " ".join(unicodedata.normalize("NFC", text).split()))
            return Timing(Kind.UNSCHEDULED, text, reason=reason.rstrip(". "))
        if not p.s:
            raise Bad("empty time phrase", HINT_FORMS)
        if p.s.startswith("kỷ niệm"):
            raise Bad(
                "'kỷ niệm N năm' names an anniversary, not a time",
                "write the dates, e.g. (22/12/1992 - 22/12/2022), or give the occasion since:",
            )
        timing = _read_all(p.s, year, text)
        if timing is None:
            raise _unknown(p.s, year)
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
        d = parse_yearly_day(_prepare(text).s)
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
        d = parse_yearly_day(_EVERY_YEAR.sub("", _prepare(text).s))
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
