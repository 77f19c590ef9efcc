"""The nouns of the time grammar: days and periods ("15/8/2022", "tháng 7", "Quý II/2024").

Each parser takes normalised text (``vnwords.normalise``) and the plan's year, and returns
a ``Day`` (a calendar day, maybe without a year, maybe lunar), a ``Span`` (resolved dates)
or None when the text is not its form. A form that is recognised but impossible
("31/2/2024", "Quý V") raises ``Bad``: never normalised into another date.
``timeexpr`` builds phrases ("trước ngày X", "từ X đến Y", ...) on top of these.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from reminderd.core import lunar
from reminderd.core.vnwords import MONTH_EN, NUM_WORDS, days_in_month, number

FIRST_YEAR, LAST_YEAR = 1900, 2100
HINT_YEAR = "write the year (15/8/2022) or give the plan's year"


class Bad(Exception):
    """A recognised but unreadable phrase; ``timeexpr`` turns it into TimeExprError."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Day:
    """A day as written: ``year`` None when the phrase has none (a yearly date)."""

    day: int
    month: int
    year: int | None
    lunar: bool = False
    leap: bool = False


@dataclass(frozen=True, slots=True)
class Span:
    """Resolved dates. ``unit`` says what was written ("day", "month", "quarter", ...);
    ``point`` marks a single day that stands alone as a deadline (Civil Code Art. 146)."""

    start: date
    end: date
    unit: str
    point: bool = False


Period = Day | Span

DAYNUM = rf"(?:[0-9]{{1,2}}|{NUM_WORDS})"
COUNT = rf"(?:[0-9]{{1,3}}|{NUM_WORDS})"
_MONTHW = rf"(?:[0-9]{{1,2}}|giêng|chạp|{NUM_WORDS})"
_AL = r" (?:âm lịch|âl)"
_LUNAR_MONTHS = {"giêng": 1, "chạp": 12}  # lunar-only names; Hai ... Mười Một are numbers


def year_of(text: str) -> int:
    y = int(text)
    if not FIRST_YEAR <= y <= LAST_YEAR:
        raise Bad(f"year {y} is outside {FIRST_YEAR}-{LAST_YEAR}")
    return y


def check_day(day: int, month: int, year: int | None, is_lunar: bool) -> None:
    """Raise Bad naming what is wrong with a day that cannot exist."""
    if not 1 <= month <= 12:
        raise Bad(f"there is no month {month}")
    if is_lunar:
        if not 1 <= day <= 30:
            raise Bad(f"a lunar month has at most 30 days, there is no day {day}")
        return  # whether it exists in a given year is lunar_to_solar's answer
    if day < 1:
        raise Bad(f"there is no day {day}")
    if year is None:
        most = 29 if month == 2 else days_in_month(2001, month)
        if day > most:
            raise Bad(f"{MONTH_EN[month]} has at most {most} days, there is no {day}/{month}")
    elif day > (n := days_in_month(year, month)):
        raise Bad(f"{MONTH_EN[month]} {year} has {n} days")


def lunar_date(year: int, month: int, day: int, leap: bool = False) -> date:
    try:
        return lunar.lunar_to_solar(year, month, day, leap)
    except ValueError as exc:  # LunarDateError says what exists
        raise Bad(str(exc)) from None


def resolve(d: Day, year: int | None) -> date:
    """The solar date of ``d``, taking ``year`` when it has none (lunar: the lunar year)."""
    y = d.year if d.year is not None else year
    if y is None:
        raise Bad(f"{d.day}/{d.month}{' âm lịch' if d.lunar else ''} has no year", HINT_YEAR)
    if d.lunar:
        return lunar_date(y, d.month, d.day, d.leap)
    check_day(d.day, d.month, y, False)
    return date(y, d.month, d.day)


def as_span(p: Period, year: int | None) -> Span:
    if isinstance(p, Span):
        return p
    d = resolve(p, year)
    return Span(d, d, "day", point=True)


def context_year(p: Period, year: int | None) -> int | None:
    """The year a period gives to a yearless neighbour ("từ 01/7 đến 15/7/2025")."""
    if isinstance(p, Day):
        return p.year if p.year is not None else year
    return p.end.year


# --- days ----------------------------------------------------------------------------------

# Day-first always: "12/6/2026" is 12 June, "9/11" 9 November; one separator per date.
_DAY_RX = re.compile(
    rf"(?:ngày )?(?:(?P<ram>rằm)|(?P<mung>mùng )?(?P<d>{DAYNUM}))"
    rf"(?:(?P<sep>[/.-])(?P<m>[0-9]{{1,2}})(?:(?P=sep)(?P<y>[0-9]{{4}}))?| tháng (?P<mw>{_MONTHW}))"
    rf"(?P<leap> nhuận)?(?P<al>{_AL})?(?:(?:/| năm )(?P<y2>[0-9]{{4}}))?(?P<al2>{_AL})?"
)
_ISO_RX = re.compile(r"(?:ngày )?(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})")
# "Xuân 2025" is Tết of 2025; "Xuân" alone is a season. Every other named day ("Tết Nguyên
# Đán", "Quốc khánh Lào") is rewritten to its date before parsing (``nameddays``).
_FESTIVAL_RX = re.compile(r"(?:lễ |ngày |dịp )?xuân (?:năm )?(?P<y>[0-9]{4})")


def parse_day(s: str, year: int | None = None) -> Day | None:
    """"15/8", "22/12/2017", "ngày 06 tháng 06 năm 2025", "mùng 1 tháng Giêng", "10/3 âm lịch"."""
    m = _DAY_RX.fullmatch(s)
    if m is None:
        return None
    ram, mw = m["ram"], m["mw"]
    if ram and mw is None:
        return None
    day = 15 if ram else number(m["d"])
    if mw is None:
        month, month_word = int(m["m"]), False
    else:
        month, month_word = _LUNAR_MONTHS.get(mw) or number(mw), not mw.isdigit()
    leap = m["leap"] is not None
    is_lunar = bool(ram or leap or m["al"] or m["al2"] or mw in _LUNAR_MONTHS)
    # Decision: "mùng 10 tháng Ba" is how the lunar Giỗ Tổ is written, "mùng 2 tháng 9" a
    # solar date: a spelled month after "mùng" with no calendar word is not guessed.
    if m["mung"] and month_word and not is_lunar:
        raise Bad(
            f"{s!r} may be a lunar or a solar date",
            "add 'âm lịch' for a lunar date, or write the month in digits for a solar one",
        )
    if m["y"] and m["y2"]:
        raise Bad("the date has two years")
    y = m["y"] or m["y2"]
    d = Day(day, month, year_of(y) if y else None, is_lunar, leap)
    check_day(d.day, d.month, d.year, is_lunar)
    return d


def parse_iso(s: str, year: int | None = None) -> Day | None:
    """"2026-06-12" (year first: ISO 8601)."""
    m = _ISO_RX.fullmatch(s)
    if m is None:
        return None
    d = Day(int(m["d"]), int(m["m"]), year_of(m["y"]))
    check_day(d.day, d.month, d.year, False)
    return d


def parse_festival(s: str, year: int | None = None) -> Day | None:
    """"Xuân 2025": Tết (lunar 1/1) of that year."""
    m = _FESTIVAL_RX.fullmatch(s)
    return None if m is None else Day(1, 1, year_of(m["y"]), lunar=True)


# --- periods -------------------------------------------------------------------------------

_MONTH_RX = re.compile(
    rf"tháng (?P<m>{_MONTHW})(?P<leap> nhuận)?(?P<al>{_AL})?"
    rf"(?:(?:[/.-]| năm )(?P<y>[0-9]{{4}}))?(?P<al2>{_AL})?"
    r"|(?P<m2>[0-9]{1,2})[/.-](?P<y2>[0-9]{4})"  # a pair ending in 4 digits is month/year
)
_Q = r"(?:[ivx]+|[0-9]{1,2}(?![0-9]))"
_QUARTER_RX = re.compile(
    rf"quý (?P<qs>{_Q}(?:(?:, |-| hoặc | và | đến | tới )(?:quý )?{_Q})*)"
    r"(?:(?:/|-| năm )(?P<y>[0-9]{4}))?"
)
_Q_TOKEN = re.compile(r"\b(?:[ivx]+|[0-9]+)\b")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_HALF_RX = re.compile(
    rf"(?:(?P<n>{COUNT}) tháng|(?P<half>nửa)) (?P<w>đầu|cuối) năm(?:[ /](?P<y>[0-9]{{4}}))?"
)
_PART_RX = re.compile(
    r"(?P<p>thượng tuần|trung tuần|hạ tuần|nửa đầu|nửa cuối|đầu|giữa|cuối) "
    r"(?P<rest>tháng .+|[0-9]{1,2}[/.-][0-9]{4})"
)
_WEEK_RX = re.compile(
    r"tuần (?P<w>đầu(?: tiên)?|cuối(?: cùng)?|thứ (?:nhất|hai|ba|tư|1|2|3|4)|[1-4]) "
    r"(?:của )?(?P<rest>tháng .+|[0-9]{1,2}[/.-][0-9]{4})"
)
_WEEKS = {"nhất": 1, "1": 1, "hai": 2, "2": 2, "ba": 3, "3": 3, "tư": 4, "4": 4}
_QUARTER_PART_RX = re.compile(r"(?P<p>đầu|giữa|cuối) (?P<rest>quý .+)")
_QUARTER_MONTH_RX = re.compile(
    r"tháng (?P<p>đầu|giữa|cuối|thứ (?:nhất|hai|ba|1|2|3)) (?:của )?(?P<rest>quý .+)"
)
_YEAR_PART_RX = re.compile(r"(?P<p>đầu|giữa|cuối) năm(?:[ /](?P<y>[0-9]{4}))?")
_YEAR_RX = re.compile(r"(?:năm )?(?P<y>[0-9]{4})")


def _need(y: str | None, year: int | None, what: str) -> int:
    if y:
        return year_of(y)
    if year is None:
        raise Bad(f"{what} has no year", HINT_YEAR)
    return year


def month_span(y: int, month: int, is_lunar: bool = False, leap: bool = False) -> Span:
    if not is_lunar:
        return Span(date(y, month, 1), date(y, month, days_in_month(y, month)), "month")
    start = lunar_date(y, month, 1, leap)
    try:
        return Span(start, start + timedelta(lunar.month_length(y, month, leap) - 1), "month")
    except ValueError as exc:
        raise Bad(str(exc)) from None


def parse_month(s: str, year: int | None = None) -> Span | None:
    """"tháng 10/2024", "tháng 7 năm 2022", "01/2023", "tháng 7" (+ year), "tháng Chạp"."""
    m = _MONTH_RX.fullmatch(s)
    if m is None:
        return None
    mw = m["m"] or m["m2"]
    month = _LUNAR_MONTHS.get(mw) or number(mw)
    leap = m["leap"] is not None
    is_lunar = bool(leap or m["al"] or m["al2"] or mw in _LUNAR_MONTHS)
    if not 1 <= month <= 12:
        raise Bad(f"there is no month {month}")
    return month_span(_need(m["y"] or m["y2"], year, f"tháng {month}"), month, is_lunar, leap)


def parse_quarter(s: str, year: int | None = None) -> Span | None:
    """"Quý II/2024", "quý 2/2025", "Quý I hoặc quý II năm 2022", "quý III-IV/2024"."""
    m = _QUARTER_RX.fullmatch(s)
    if m is None:
        return None
    numbers = []
    for token in _Q_TOKEN.findall(m["qs"]):
        q = _ROMAN.get(token) or (int(token) if token.isdigit() else 0)
        if not 1 <= q <= 4:
            raise Bad(f"there is no quarter {token.upper()}: a year has four (I-IV)")
        numbers.append(q)
    if numbers != sorted(numbers):
        raise Bad("list the quarters in order (quý II, III)")
    y = _need(m["y"], year, "the quarter")
    last = numbers[-1] * 3
    return Span(date(y, numbers[0] * 3 - 2, 1), date(y, last, days_in_month(y, last)), "quarter")


def parse_half(s: str, year: int | None = None) -> Span | None:
    """"6 tháng đầu năm 2024" 01/01-30/06, "6 tháng cuối năm" 01/07-31/12, "9 tháng đầu năm"."""
    m = _HALF_RX.fullmatch(s)
    if m is None:
        return None
    n = 6 if m["half"] else number(m["n"])
    if not 1 <= n <= 12:
        raise Bad(f"a year has 12 months, not {n}")
    y = _need(m["y"], year, "the year part")
    if m["w"] == "đầu":
        return Span(date(y, 1, 1), date(y, n, days_in_month(y, n)), "half")
    return Span(date(y, 13 - n, 1), date(y, 12, 31), "half")


def parse_part_of_month(s: str, year: int | None = None) -> Span | None:
    """Tenths and halves of a month (windows); đầu/giữa/cuối tháng (days, Art. 146)."""
    m = _PART_RX.fullmatch(s)
    if m is None or (month := parse_month(m["rest"], year)) is None:
        return None
    start, end, part = month.start, month.end, m["p"]
    if part in ("đầu", "giữa", "cuối"):  # Civil Code Art. 146: day 1, day 15, the last day
        day = {"đầu": start, "giữa": start + timedelta(14), "cuối": end}[part]
        return Span(day, day, "day", point=True)
    first, last = {
        "thượng tuần": (0, 9), "trung tuần": (10, 19), "hạ tuần": (20, None),
        "nửa đầu": (0, 14), "nửa cuối": (15, None),
    }[part]  # fmt: skip
    return Span(start + timedelta(first), end if last is None else start + timedelta(last), "part")


def parse_week_of_month(s: str, year: int | None = None) -> Span | None:
    """"tuần đầu tháng 9/2025" 01-07/09, "tuần thứ hai" 08-14, "tuần cuối" the last 7 days.

    Decision: a week of a month is counted in days from the month's start (Civil Code Art.
    146(1): a week is seven days), not by calendar weeks, which would start in the month
    before; "tuần cuối" is the month's last seven days.
    """
    m = _WEEK_RX.fullmatch(s)
    if m is None or (month := parse_month(m["rest"], year)) is None or month.unit != "month":
        return None
    w = m["w"]
    if w.startswith("cuối"):
        return Span(month.end - timedelta(6), month.end, "week")
    n = 1 if w.startswith("đầu") else _WEEKS[w.split()[-1]]
    start = month.start + timedelta(7 * (n - 1))
    return Span(start, start + timedelta(6), "week")


def parse_part_of_quarter(s: str, year: int | None = None) -> Span | None:
    """"đầu quý III/2025" 01/07, "giữa quý" the 15th of its middle month, "cuối quý" its last
    day (Civil Code Art. 146 for months and years, applied to the quarter); "tháng cuối quý
    III/2025" is that month (a window)."""
    m = _QUARTER_MONTH_RX.fullmatch(s)
    if m is not None and (q := parse_quarter(m["rest"], year)) is not None:
        if q.start.month + 2 != q.end.month:
            raise Bad("name one quarter for its month", "write e.g. tháng cuối quý III/2025")
        which = m["p"].split()[-1]
        offset = {"đầu": 0, "nhất": 0, "1": 0, "giữa": 1, "hai": 1, "2": 1}.get(which, 2)
        return month_span(q.start.year, q.start.month + offset)
    m = _QUARTER_PART_RX.fullmatch(s)
    if m is None or (q := parse_quarter(m["rest"], year)) is None:
        return None
    if q.start.month + 2 != q.end.month:
        raise Bad(f"'{m['p']} quý' needs one quarter", "write e.g. cuối quý III/2025")
    day = {"đầu": q.start, "giữa": date(q.start.year, q.start.month + 1, 15), "cuối": q.end}
    return Span(day[m["p"]], day[m["p"]], "day", point=True)


def parse_part_of_year(s: str, year: int | None = None) -> Span | None:
    """Civil Code Art. 146: "đầu năm" 01/01, "giữa năm" 30/06, "cuối năm" 31/12 (days)."""
    m = _YEAR_PART_RX.fullmatch(s)
    if m is None:
        return None
    y = _need(m["y"], year, f"{m['p']} năm")
    day = {"đầu": date(y, 1, 1), "giữa": date(y, 6, 30), "cuối": date(y, 12, 31)}[m["p"]]
    return Span(day, day, "day", point=True)


def parse_year(s: str, year: int | None = None) -> Span | None:
    """"2025", "Năm 2022"."""
    m = _YEAR_RX.fullmatch(s)
    if m is None:
        return None
    y = year_of(m["y"])
    return Span(date(y, 1, 1), date(y, 12, 31), "year")


_PARSERS = (
    parse_day, parse_month, parse_quarter, parse_year, parse_half,
    parse_part_of_month, parse_part_of_year, parse_iso, parse_festival, parse_week_of_month,
    parse_part_of_quarter,
)  # fmt: skip
_FILLER = re.compile(
    r"(?:(?:nhân |vào |trong )?dịp |trong (?:cả |suốt |thời gian )?|vào |suốt |cả )"
)


Parser = Callable[[str, int | None], Period | None]


def _by_first_word() -> dict[str, tuple[Parser, ...]]:
    """Which parsers can match text starting with a given word (in _PARSERS' order): a
    cheap dispatch on the hot path of loading plans. A word not listed tries them all."""
    could = {
        "ngày": (parse_day, parse_iso, parse_festival), "rằm": (parse_day,),
        "mùng": (parse_day,), "tháng": (parse_month, parse_part_of_quarter),
        "quý": (parse_quarter,), "năm": (parse_day, parse_year, parse_half),
        "nửa": (parse_half, parse_part_of_month), "tuần": (parse_week_of_month,),
        "lễ": (parse_festival,), "dịp": (parse_festival,), "xuân": (parse_festival,),
        **{w: (parse_part_of_month,) for w in ("thượng", "trung", "hạ")},
        **{w: (parse_part_of_month, parse_part_of_year, parse_part_of_quarter)
           for w in ("đầu", "giữa", "cuối")},
        # words that start a phrase of the rules, never a period on its own
        **{w: () for w in ("trước", "chậm", "muộn", "từ", "hằng", "định", "thường", "giai",
                           "có", "kể", "hạn", "đến", "tới", "không", "sau", "các", "những",
                           "liên", "số", "tính", "chốt")},
    }  # fmt: skip
    return {w: tuple(p for p in _PARSERS if p in parsers) for w, parsers in could.items()}


_FIRST_WORD = _by_first_word()
_DIGIT_FIRST: tuple[Parser, ...] = (parse_day, parse_month, parse_year, parse_half, parse_iso)


def parse_period(s: str, year: int | None) -> Period | None:
    """Any one day or period, after an optional "trong"/"vào"."""
    if (m := _FILLER.match(s)) is not None:
        s = s[m.end() :]
    first = s.split(" ", 1)[0]
    parsers = _DIGIT_FIRST if first[:1].isdigit() else _FIRST_WORD.get(first, _PARSERS)
    for parse in parsers:
        p = parse(s, year)
        if p is not None:
            return p
    return None


def parse_yearly_day(s: str) -> Day | None:
    """A day that can recur every year (no year needed): a date, a lunar date, a festival."""
    return parse_day(s) or parse_iso(s) or parse_festival(s)
