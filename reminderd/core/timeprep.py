"""Preparing a time phrase for the rules: what is taken out of it, and one spelling for each
thing it may say in several ways.

Labels ("Thời gian hoàn thành:", "Dự kiến"), remarks in brackets and the qualifier of a report
("đối với báo cáo hằng quý") are set aside and kept to be reported; a time of day ("17h00")
and a part of the day ("sáng") are taken out and kept; weekdays and lunar dates written beside
a date are checked against it and dropped; named days become their dates (``nameddays``); the
reporting cycle's many spellings become one (Nghị định 09/2019/NĐ-CP). What is left is the
text ``timeread`` reads with the rules. docs/cach-ghi-thoi-gian.md says what each form means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from reminderd.core import lunar
from reminderd.core.nameddays import Mismatch, substitute
from reminderd.core.timeperiod import Bad, parse_day, resolve, year_of
from reminderd.core.vnwords import CAN_CHI_RX, NUM_WORDS, normalise, word_number

__all__ = ["HAS_CADENCE", "HINT_FORMS", "LABELS", "Prepared", "prepare"]

_FORMS = (
    "15/8/2022", "trước ngày 15/8/2022", "chậm nhất ngày 15/8/2022", "tháng 10/2024",
    "Quý II/2024", "6 tháng đầu năm 2024", "Năm 2022", "từ ngày 01/7 đến ngày 15/7/2025",
    "Từ tháng 2 năm 2022", "Thường xuyên trong năm 2024", "6 tháng, hằng năm",
    "định kỳ 02 năm/lần", "10/3 âm lịch", "Tết Nguyên Đán 2025", "Theo kế hoạch ...",
)  # fmt: skip


HINT_FORMS = ("forms that work: " + " | ".join(_FORMS)
              + " (every form, with examples: docs/cach-ghi-thoi-gian.md)")


MAX_LENGTH = 300  # a time column entry, not a paragraph


_LEAD = re.compile(r"(?:[-+•*] ?|(?:thời gian|thời hạn)(?: [^:]{1,30})?: ?|dự kiến:? |vào )")


# Any short label before a colon; not one whose words change the time ("Kể từ: …").
_LABEL = re.compile(r"([^:0-9()]{2,40}?) ?: ")


_LABEL_STOP = re.compile(r"\b(?:trước|sau|từ|kể|đến|tới|không|chưa|nếu|khi|hoặc|trừ)\b")


LABELS = re.compile(
    r"^\s*(?:[-+•*]\s*|(?:thời gian|thời hạn)(?: [^:]{1,30})?\s*:\s*|dự kiến:?\s+)+", re.I
)


# Phrases that give no date: the item is unscheduled, with the phrase as its reason.
_UNSCHEDULED = (
    "theo kế hoạch", "theo chương trình", "theo đề xuất", "theo yêu cầu", "đột xuất",
    "khi có yêu cầu", "khi được yêu cầu", "chưa xác định", "tùy tình hình", "tùy theo tình hình",
    "theo thời gian", "theo lịch", "theo tiến độ", "theo quy định", "theo hướng dẫn",
    "theo chỉ đạo", "theo thông báo", "theo văn bản", "theo đề nghị", "theo kết quả",
    "khi có", "khi được", "sau khi", "ngay sau khi", "căn cứ", "theo thực tế", "theo nhu cầu",
    "từ ngày ban hành", "kể từ ngày ban hành", "ngay khi", "từ khi",
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


@dataclass(slots=True)
class Prepared:
    """The phrase the rules read, with what was taken out of it on the way."""

    s: str
    unscheduled: bool = False
    ignored: list[str] = field(default_factory=list)
    time: str | None = None
    daypart: str | None = None


def _weekdays(p: Prepared, year: int | None) -> None:
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


def _lunar_too(p: Prepared) -> None:
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


_CLOCK_HINT = re.compile(r"[0-9] ?(?:h|giờ|g)(?![^\W\d_])|[0-9]:[0-9]")
_DIGIT = re.compile(r"[0-9]")
_DAYPART = re.compile(
    r"(?:(?<=^)|(?<= ))(?:buổi )?(?P<dp>sáng|chiều|tối|trưa)"
    r"(?= (?:ngày|thứ|mùng|[0-9])|,|$)"
)


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


def _clock(p: Prepared) -> None:
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


def _daypart(p: Prepared) -> None:
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


_CYCLE_HINT = re.compile("báo cáo|tính từ|liền|tiếp|thứ|sau|kế")


_REDUNDANT_PERIOD = re.compile(
    r"(tháng (?:cuối|đầu) quý|tháng báo cáo|quý sau) kỳ báo cáo"
)


_MONTH_OF_PERIOD = re.compile(r"((?:tháng |/)[0-9]{1,2}) kỳ báo cáo")


def _cycle_words(p: Prepared) -> None:
    for rx, to in _CYCLE_WORDS:
        p.s = rx.sub(to, p.s)
    p.s = _REDUNDANT_PERIOD.sub(r"\1", p.s)
    p.s = _MONTH_OF_PERIOD.sub(r"\1 năm báo cáo", p.s)
    if "hằng tháng" in p.s:  # "hằng tháng, … ngày 05 của tháng tiếp theo kỳ báo cáo"
        p.s = p.s.replace("tháng sau kỳ báo cáo", "tháng sau")
    if "báo cáo" in p.s:
        p.s = _FOR_REPORT.sub(lambda m: _for_report(m, p), p.s).strip()


_CLAUSE_START = re.compile(r".*(?:, | và | hoặc |; |\()")


HAS_CADENCE = re.compile(r"hằng (?:năm|quý|tháng)|báo cáo|tháng sau|quý sau|năm sau|[0-9]{4}")


def _for_report(m: re.Match[str], p: Prepared) -> str:
    """A qualifier naming the report is set aside; when its clause gives no cadence, the
    qualifier's cadence is kept ("trước ngày 20 tháng 7 đối với báo cáo 6 tháng")."""
    p.ignored.append(m[0].strip(" ,()"))
    before = m.string[: m.start()]
    clause = _CLAUSE_START.sub("", before)
    if HAS_CADENCE.search(clause):
        return ""
    c = m["c"]
    if c == "tháng":
        return " hằng tháng"
    if c.startswith("quý") and not ("cuối quý" in clause or "đầu quý" in clause):
        return " hằng năm" if re.search(r"tháng [0-9]", clause) else ""
    return " hằng quý" if c.startswith("quý") else " hằng năm"


# What the rarer steps below look for: a phrase with none of it (most of them) skips them all.
_RARE = re.compile(
    r"[(:]|tầm nhìn|thứ|chủ nhật|\bcn\b|xuất|cầu|cần|kể từ|không quá|thời gian|báo cáo|số liệu"
    r"|tính từ|liền|tiếp|sau|kế|, năm"
)


def prepare(text: str, year: int | None = None) -> Prepared:
    """The phrase the rules read, and what was set aside or taken out of it."""
    if len(text) > MAX_LENGTH:
        raise Bad(f"longer than {MAX_LENGTH} characters: not a time phrase", HINT_FORMS)
    p = Prepared(normalise(text))
    label = _LABEL.match(p.s) if ":" in p.s else None
    if label is not None and not _LABEL_STOP.search(label[1]):
        p.ignored.append(label[1])  # "Ngày ban hành: 05/08/2020", "Tiến độ: Quý IV/2025"
        p.s = p.s[label.end() :]
    while (lead := _LEAD.match(p.s)) is not None:  # "Thời gian dự kiến:", "dự kiến", "vào"
        words = lead[0].strip(" :-+•*")
        if words and words != "vào":
            p.ignored.append(words)
        p.s = p.s[lead.end() :]
    if p.s.lstrip("(").startswith(_UNSCHEDULED) or (
        not _DIGIT.search(p.s) and _RELATIVE_NOW.search(p.s)
    ):
        p.unscheduled = True
        return p
    if _RARE.search(p.s) is not None or p.s[-1:] in _TAIL_CHARS:
        _rare(p, year)
    p.s = _can_chi(p.s)
    try:
        p.s, _ = substitute(p.s)
    except Mismatch as exc:
        raise Bad(str(exc)) from None
    if _CLOCK_HINT.search(p.s):
        _clock(p)
    if "sáng" in p.s or "chiều" in p.s or "tối" in p.s or "trưa" in p.s:
        _daypart(p)
    return p


def _rare(p: Prepared, year: int | None) -> None:
    """Brackets, remarks, qualifiers, weekdays, lunar dates beside solar ones, periods from
    an anchor and the reporting cycle's words (see the module docstring)."""
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
    if ", năm" in p.s:
        p.s = _PERIOD_COMMA_YEAR.sub(r"\1 \2", p.s)  # "Quý II, năm 2025"
    label = _REPORT_LABEL.match(p.s) if p.s.startswith(("báo cáo", "số liệu")) else None
    if label is not None:
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
    if _CYCLE_HINT.search(p.s):
        _cycle_words(p)
