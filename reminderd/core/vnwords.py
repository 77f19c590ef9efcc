"""Vietnamese words of administrative time: normalisation, number words, can-chi.

The grammar in ``timeexpr`` works on text that ``normalise`` has made uniform: NFC,
lower case, single spaces, ASCII dashes, no spaces around ``/`` and ``-``, one spelling for
words that have two (``hàng``/``hằng``, ``Tị``/``Tỵ``, ``mồng``/``mùng`` ...). Diacritics are
never stripped: ``năm`` (year, five) and ``nam`` (south) are different words.
"""

from __future__ import annotations

import calendar
import re
import unicodedata

__all__ = [
    "CAN_CHI_RX",
    "MONTH_EN",
    "NUM_WORDS",
    "days_in_month",
    "normalise",
    "number",
    "word_number",
]

# --- number words ----------------------------------------------------------------------

_UNITS = {
    "một": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5,
    "sáu": 6, "bảy": 7, "tám": 8, "chín": 9,
}  # fmt: skip
# After "mười"/"mươi" five is "lăm" ("mười năm" is "ten years"), one after "mươi" is "mốt".
_AFTER_TENS = {**{w: v for w, v in _UNITS.items() if w != "năm"}, "lăm": 5, "nhăm": 5, "mốt": 1}
_TENS = "hai|ba|bốn|năm|sáu|bảy|tám|chín"
_ONES_20 = "mốt|một|hai|ba|bốn|tư|lăm|nhăm|sáu|bảy|tám|chín"
_ONES_10 = "một|hai|ba|bốn|tư|lăm|nhăm|sáu|bảy|tám|chín"

#: A spelled-out number 1-99 as a regex fragment. A bare "năm" followed by digits is the
#: word "year" ("năm 2025"), never five.
NUM_WORDS = (
    rf"(?:(?:{_TENS}) mươi(?: (?:{_ONES_20}))?|mười(?: (?:{_ONES_10}))?"
    r"|một|hai|ba|bốn|tư|năm(?! [0-9])|sáu|bảy|tám|chín)\b"
)
_NUM_WORDS_RX = re.compile(NUM_WORDS)


def word_number(text: str) -> int | None:
    """"mười lăm" -> 15, "hai mươi mốt" -> 21, "sáu" -> 6; None if not a number word."""
    if _NUM_WORDS_RX.fullmatch(text) is None:
        return None
    words = text.split()
    if words[0] == "mười":
        value, rest = 10, words[1:]
    elif len(words) > 1:  # "<tens> mươi [<ones>]"
        value, rest = 10 * _UNITS[words[0]], words[2:]
    else:
        return _UNITS[words[0]]
    return value + (_AFTER_TENS[rest[0]] if rest else 0)


def number(text: str) -> int:
    """ASCII digits or a number word (as matched by the grammar) -> int."""
    if text.isascii() and text.isdigit():
        return int(text)
    value = word_number(text)
    if value is None:  # the grammar only passes matched numbers
        raise ValueError(f"not a number: {text!r}")
    return value


# --- calendar words ----------------------------------------------------------------------

MONTH_EN = (
    "", "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


_CAN = "giáp|ất|bính|đinh|mậu|kỷ|canh|tân|nhâm|quý"
_CHI = "tý|sửu|dần|mão|mẹo|thìn|tỵ|ngọ|mùi|thân|dậu|tuất|hợi"
#: A can-chi year name, optionally followed by its year ("giáp thìn 2024", "ất tỵ năm 2025").
CAN_CHI_RX = re.compile(
    rf"\b(?P<can>{_CAN}) (?P<chi>{_CHI})\b(?: (?:năm )?(?P<year>[0-9]{{4}})\b)?"
)

# --- normalisation -------------------------------------------------------------------------

_CHARS = {
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "ð": "đ",  # Icelandic eth typed for Đ
    "\u200b": "", "\ufeff": "", "\u00ad": "",
}  # fmt: skip
_CHARS_RX = re.compile("[" + "".join(_CHARS) + "]")
_AROUND = re.compile(r" ?([/-]) ?")  # "12 / 6 / 2026" -> "12/6/2026", "2026 - 2030" -> "2026-2030"
_DOT = re.compile(r"(?<=[0-9]) ?\. ?(?=[0-9])")  # "12 . 6" -> "12.6"
_COMMA = re.compile(r" ?, ?")
_OPEN = re.compile(r" ?\( ?")
_CLOSE = re.compile(r" ?\)")
# One spelling for words written two ways.
_VARIANTS = {
    "hàng": "hằng", "mồng": "mùng", "tị": "tỵ", "quí": "quý", "qúy": "quý", "kỉ": "kỷ",
    "tuỳ": "tùy", "bẩy": "bảy", "mẹo": "mão",
}  # fmt: skip
_VARIANT_RX = re.compile(r"\b(?:" + "|".join(_VARIANTS) + r")\b")


def normalise(text: str) -> str:
    """The uniform form the grammar reads (see the module docstring).

    Each substitution runs only when its trigger is present: this is on the hot path of
    loading a large plans.yaml.
    """
    s = unicodedata.normalize("NFC", text).lower()
    if _CHARS_RX.search(s):
        s = _CHARS_RX.sub(lambda m: _CHARS[m.group()], s)
    s = " ".join(s.split())
    if " /" in s or "/ " in s or " -" in s or "- " in s:
        s = _AROUND.sub(r"\1", s)
    if " ." in s or ". " in s:
        s = _DOT.sub(".", s)
    if "," in s:
        s = _COMMA.sub(", ", s)
    if "(" in s or ")" in s:
        s = _CLOSE.sub(")", _OPEN.sub(" (", s)).strip()
    return _VARIANT_RX.sub(lambda m: _VARIANTS[m.group()], s)
