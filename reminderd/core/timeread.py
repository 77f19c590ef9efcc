"""Reading a prepared phrase: the rules, then the same phrase reordered, bracketed parts,
several clauses, and last the words around the time set aside, when that is safe.

"Dự kiến tổ chức vào tháng 9/2025" is read as "tháng 9/2025" with "Dự kiến tổ chức" set aside
and reported; "Không tổ chức trong tháng 9/2025" is refused, because what would be set aside
could change the meaning. ``unknown`` says what was not understood when nothing reads.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

from reminderd.core.timeperiod import Bad
from reminderd.core.timeprep import HAS_CADENCE, HINT_FORMS
from reminderd.core.timerules import read
from reminderd.core.timespans import combine_yearly
from reminderd.core.timing import Kind, Timing

__all__ = ["read_all", "unknown"]

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
            timing = read_all(" ".join(run).strip(_WORD_PUNCT + " "), year, text, aside=False)
            if timing is None:
                continue
            aside = [" ".join(x).strip(_WORD_PUNCT + " ") for x in (before, after)]
            return replace(timing, ignored=(*[a for a in aside if a], *timing.ignored))
    return None


_CADENCE_FIRST = re.compile(
    r"(?:định kỳ )?(?P<c>hằng (?:năm|quý|tháng))(?:,|:| và)? (?:vào |là )?(?P<rest>.+)"
)


def read_all(s: str, year: int | None, text: str, *, aside: bool = True) -> Timing | None:
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
        timing = read_all(flat, year, text, aside=aside) if flat != s else None
    if timing is None and _CLAUSES.search(s):
        timing = _clauses(s, year, text)
    if timing is None and aside and " " in s:
        timing = _set_aside(s, year, text)
    return timing


_NARROWED = re.compile(r"(?P<a>[^()]+) \((?P<b>[^()]+)\)")


def _narrowed(a: str, b: str, year: int | None, text: str) -> Timing | None:
    """"Quý III/2025 (trước ngày 15/9/2025)", "Quý II/2025 (hoàn thành trước 30/6)": a date
    in brackets inside the period before them is the more precise reading, and wins."""
    outer = read_all(a, year, text, aside=False)
    if outer is None or outer.kind not in (Kind.WINDOW, Kind.DEADLINE) or outer.end is None:
        return None
    inner = read_all(b, outer.end.year, text)
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
        if cadence and not HAS_CADENCE.search(part):
            part = f"{part} {cadence}"
        t = read_all(part, year, text, aside=False)
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


def unknown(s: str, year: int | None) -> Bad:
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
