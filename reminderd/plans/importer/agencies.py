"""Agency names as Vietnamese documents write them, matched against the directory.

One matcher for every place that reads an agency name someone typed or a document wrote
(``reminderd import`` now, ``reminderd check`` later):

- :func:`name_key` normalises a name: NFC, case, old/new tone placement (hoá/hóa, uỷ/ủy,
  thuỷ/thủy), the usual abbreviations (UBND, HĐND, VHTTDL, KH&ĐT, TT&TT, NN&PTNT,
  LĐTB&XH, TN&MT, GTVT ...), punctuation and "và";
- :func:`strip_role` drops a trailing role ("- cơ quan thường trực", "(chủ trì)");
- :func:`split_agencies` splits a cell that lists several agencies ("Sở Ngoại vụ, Liên hiệp
  các tổ chức hữu nghị tỉnh và các Hội thành viên"; "các Sở: Công Thương; Tư pháp");
- :class:`AgencyMatcher` finds the agency id for a name: by id, alias or name, then by the
  name without its province suffix ("tỉnh Đắk Lắk") when that is unambiguous. It never
  guesses: when nothing matches it returns suggestions by similarity (rapidfuzz), and
  says when the name is a generic group ("các sở, ban, ngành").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

# --- normalising -------------------------------------------------------------------------

_MARKS = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # huyền sắc hỏi ngã nặng


def _tone_table() -> dict[str, str]:
    """Old placement (hoá, thuỷ, khoẻ) -> new (hóa, thủy, khỏe), for syllable-final pairs."""
    table: dict[str, str] = {}
    for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
        for mark in _MARKS:
            old = first + unicodedata.normalize("NFC", second + mark)
            new = unicodedata.normalize("NFC", first + mark) + second
            table[old] = new
    return table


_TONES = _tone_table()
_TONE_RX = re.compile("(" + "|".join(_TONES) + r")(?![^\W\d_])")

# Abbreviations as documents write them (after casefolding), and what they stand for.
_ABBREVIATIONS = {
    "ubnd": "ủy ban nhân dân",
    "hđnd": "hội đồng nhân dân",
    "ubmttq": "ủy ban mặt trận tổ quốc",
    "mttq": "mặt trận tổ quốc",
    "vhttdl": "văn hóa thể thao du lịch",
    "vhtt&dl": "văn hóa thể thao du lịch",
    "vh,tt&dl": "văn hóa thể thao du lịch",
    "vh-tt-dl": "văn hóa thể thao du lịch",
    "vh,tt,dl": "văn hóa thể thao du lịch",
    "kh&đt": "kế hoạch đầu tư",
    "khđt": "kế hoạch đầu tư",
    "kh-đt": "kế hoạch đầu tư",
    "tt&tt": "thông tin truyền thông",
    "tttt": "thông tin truyền thông",
    "nn&ptnt": "nông nghiệp phát triển nông thôn",
    "nnptnt": "nông nghiệp phát triển nông thôn",
    "nn-ptnt": "nông nghiệp phát triển nông thôn",
    "lđtb&xh": "lao động thương binh xã hội",
    "lđ-tb&xh": "lao động thương binh xã hội",
    "lđtbxh": "lao động thương binh xã hội",
    "lđ,tb&xh": "lao động thương binh xã hội",
    "tn&mt": "tài nguyên môi trường",
    "tnmt": "tài nguyên môi trường",
    "gtvt": "giao thông vận tải",
    "gd&đt": "giáo dục đào tạo",
    "gdđt": "giáo dục đào tạo",
    "kh&cn": "khoa học công nghệ",
    "khcn": "khoa học công nghệ",
    "pt&th": "phát thanh truyền hình",
    "ptth": "phát thanh truyền hình",
    "vp": "văn phòng",
    "bql": "ban quản lý",
    "kcn": "khu công nghiệp",
    "tp": "thành phố",
    "tx": "thị xã",
    "bchqs": "bộ chỉ huy quân sự",
    "bđbp": "bộ đội biên phòng",
    "lhcthn": "liên hiệp các tổ chức hữu nghị",
    "tchn": "tổ chức hữu nghị",
}
_ABBR_RX = re.compile(
    r"(?<![^\W_])(" + "|".join(re.escape(a) for a in sorted(_ABBREVIATIONS, key=len, reverse=True))
    + r")(?![^\W_])"
)
_PUNCT = re.compile(r"[^\w\s]+")
_FILLER = frozenset({"và"})


def nfc_text(text: str) -> str:
    """NFC with spaces collapsed: the text as written, tidied."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def fold(text: str) -> str:
    """NFC, casefolded, new tone placement (hoá -> hóa, uỷ -> ủy)."""
    s = nfc_text(text).casefold()
    return _TONE_RX.sub(lambda m: _TONES[m[1]], s)


def name_key(text: str) -> str:
    """The key two ways of writing one agency name share."""
    s = _ABBR_RX.sub(lambda m: f" {_ABBREVIATIONS[m[1]]} ", fold(text))
    s = _PUNCT.sub(" ", s.replace("&", " "))
    return " ".join(w for w in s.split() if w not in _FILLER)


# --- roles, province suffixes, groups ------------------------------------------------------

_ROLE = re.compile(
    r"\s*(?:[-–—:]\s*|\()\s*(?:là\s+)?(?:cơ quan|đơn vị)?\s*"
    r"(?:thường trực|chủ trì|phối hợp|đầu mối|tham mưu|chủ động|để b/c|để báo cáo|"
    r"tổng hợp|thực hiện)[^()]*\)?\s*$",
    re.IGNORECASE,
)
_TRAIL = re.compile(r"[\s.;,:]+$")
_LEAD = re.compile(r"^\s*(?:[-+•*]\s*|\d+[.)]\s+|[a-zđ][.)]\s+|(?:và|cùng|với)\s+)+")


def strip_role(text: str) -> str:
    """'Sở KH&ĐT - cơ quan thường trực' -> 'Sở KH&ĐT'; '(chủ trì)' and final stops go too."""
    s = nfc_text(text)
    s = _LEAD.sub("", s)
    s = _TRAIL.sub("", s)
    while True:
        t = _TRAIL.sub("", _ROLE.sub("", s))
        if t == s or not t:
            return s
        s = t


_PROVINCE = re.compile(r"\s+(?:tỉnh|thành phố)\s+(?!nhân dân)\S.*$")
_GROUP = re.compile(
    r"^(?:các|những|toàn thể|tất cả các)\s+(?:sở|ban|ngành|bộ|cơ quan|đơn vị|địa phương|"
    r"tổ chức|hội|đoàn thể|doanh nghiệp|huyện|xã|phường|quận|thành viên|trường|phòng)"
    r"|^ủy ban nhân dân (?:các|cấp)\s"
    r"|^(?:sở|ban|ngành|cơ quan|đơn vị)(?:\s+\w+)?\s+(?:có )?liên quan$"
    r"|\b(?:có liên quan|liên quan)$"
)


def is_group(text: str) -> bool:
    """A generic group ("các sở, ban, ngành", "UBND các huyện, thị xã, thành phố")."""
    return _GROUP.search(fold(_ABBR_RX.sub(lambda m: _ABBREVIATIONS[m[1]], fold(text)))) is not None


# --- splitting a cell that lists several agencies -------------------------------------------

# Words that start an agency's name: a new agency starts after ',', ';' or 'và' only here.
# Words that also start a task's wording ("Ban hành", "Báo cáo", "Hội nghị") are excluded.
_NOT_AGENCY = (
    r"hành|cáo|thi|thảo|nghị|chợ|diễn|chống|kết|khen|vệ|sách|giao|trình|thuật|tổ chức|tuyên"
)
_NAMED_HEADS = (
    r"Sở|Ban|Bộ|Hội|Báo|Đài|Cục|Chi cục|Viện|Phòng|Trường|Trung tâm|Đoàn|Quỹ|Tổng cục|"
    r"Học viện|Đại học|Cao đẳng|Công ty|Tổng công ty|Tập đoàn|Ngân hàng|Kho bạc|Liên hiệp|"
    r"Liên đoàn|Hiệp hội|Văn phòng|Thanh tra|Bảo hiểm|Chi nhánh|Nhà xuất bản|Tòa án|Toà án|"
    r"Viện kiểm sát|Ủy ban|Uỷ ban|Hội đồng|Mặt trận|Cảng vụ|Kiểm toán|Thông tấn xã|"
    r"Ngôi trường|Bệnh viện|Tổ công tác|Chính phủ|Thủ tướng|Tỉnh ủy|Tỉnh uỷ|Huyện ủy|"
    r"Huyện uỷ|Thành ủy|Thành uỷ|Quân khu|Bộ Chỉ huy|Bộ đội|Công an|Cơ quan|Đơn vị|"
    r"Thường trực|Địa phương"
)
_PLAIN_HEADS = r"UBND|HĐND|VP|MTTQ|UBMTTQ|BQL|Tỉnh đoàn|Thành đoàn|Huyện đoàn"
_GROUP_NOUNS = (
    r"sở|ban|ngành|bộ|cơ quan|đơn vị|địa phương|tổ chức|hội|đoàn thể|doanh nghiệp|"
    r"huyện|xã|phường|quận|UBND|Ủy ban|trường|phòng|Sở|Bộ|Hội|Ban|cơ sở|thành viên|"
    r"thành phố|tỉnh|nhà trường|ngân hàng"
)
_HEAD_RX = re.compile(
    rf"(?:(?:{_NAMED_HEADS})(?=[\s:])(?!\s+(?:{_NOT_AGENCY})\b)"
    rf"|(?:{_PLAIN_HEADS})\b|[A-ZĐ]{{2,}}(?:&[A-ZĐ]+)?(?=[\s,;]|$)"
    rf"|(?:các|Các|những|Những|toàn thể|Toàn thể)\s+(?:{_GROUP_NOUNS})\b)"
)


def starts_like_agency(text: str) -> bool:
    """Whether a line of a table starts like an agency's name (a cell of its own)."""
    return _HEAD_RX.match(nfc_text(text)) is not None


_SPLIT_RX = re.compile(r"\s*(?:[;,]|\s(?:và|cùng|với)\s)\s*")
_PREFIXED = re.compile(r"^(?:các|Các)\s+(Sở|Bộ|Ban|Hội)\s*:\s*(.*)$", re.DOTALL)


def _split_commas(piece: str) -> list[str]:
    """Split at ',' and 'và' only where an agency's name starts after them."""
    out: list[str] = []
    start = 0
    for m in _SPLIT_RX.finditer(piece):
        rest = piece[m.end() :]
        if _HEAD_RX.match(rest) and m.start() > start:
            out.append(piece[start : m.start()])
            start = m.end()
    out.append(piece[start:])
    return [p for p in (strip_role(p) for p in out) if p]


def split_agencies(cell: str) -> list[str]:
    """The agencies a cell lists, each as written ("các Sở: A; B" gives "Sở A", "Sở B")."""
    text = nfc_text(cell)
    if not text:
        return []
    out: list[str] = []
    prefix = ""
    for raw in re.split(r"\s*;\s*", text):
        piece = raw.strip()
        if not piece:
            continue
        m = _PREFIXED.match(piece)
        if m:
            prefix, piece = m[1] + " ", m[2]
        elif prefix and _HEAD_RX.match(piece):
            prefix = ""
        parts = _split_commas(piece)
        if prefix and parts:
            parts[0] = prefix + parts[0]
        out.extend(parts)
        if len(parts) > 1:
            prefix = ""  # the list under "các Sở:" ended at the next agency
    return out


# --- matching ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """What a name matched: an id, or nothing with suggestions (id, name, score)."""

    written: str
    agency: str | None
    how: str = ""  # "id" | "alias" | "name" | "variant"
    suggestions: tuple[tuple[str, str, int], ...] = ()
    group: bool = False


@dataclass
class AgencyMatcher:
    """Agency ids by every way of naming them; built from (id, name, aliases) triples."""

    exact: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (id, how)
    variants: dict[str, str | None] = field(default_factory=dict)  # key -> id, None if shared
    names: dict[str, str] = field(default_factory=dict)  # id -> name

    @classmethod
    def build(cls, agencies: Iterable[tuple[str, str, Iterable[str]]]) -> AgencyMatcher:
        m = cls()
        entries = list(agencies)
        for ident, name, aliases in entries:
            m.names[ident] = name
            m.exact.setdefault(name_key(ident), (ident, "id"))
            for alias in aliases:
                m.exact.setdefault(name_key(alias), (ident, "alias"))
            m.exact.setdefault(name_key(name), (ident, "name"))
        for ident, name, aliases in entries:
            for written in (name, *aliases):
                for key in _variant_keys(name_key(written)):
                    if key in m.exact:
                        continue
                    if key in m.variants and m.variants[key] != ident:
                        m.variants[key] = None  # two agencies share it: never use it
                    else:
                        m.variants[key] = ident
        return m

    def match(self, written: str) -> Match:
        text = strip_role(written)
        key = name_key(text)
        hit = self.exact.get(key)
        if hit is not None:
            return Match(text, hit[0], hit[1])
        for variant in (key, *_variant_keys(key)):
            hit = self.exact.get(variant)
            if hit is not None:
                return Match(text, hit[0], "variant")
            ident = self.variants.get(variant)
            if ident:
                return Match(text, ident, "variant")
        return Match(text, None, suggestions=self.suggest(key), group=is_group(text))

    def suggest(self, key: str, limit: int = 3) -> tuple[tuple[str, str, int], ...]:
        """The nearest agencies by similarity of their names and aliases."""
        if not key or not self.exact:
            return ()
        found = process.extract(
            key, list(self.exact), scorer=fuzz.token_sort_ratio, limit=limit * 4,
            score_cutoff=55,
        )
        out: list[tuple[str, str, int]] = []
        seen: set[str] = set()
        for candidate, score, _index in found:
            ident = self.exact[candidate][0]
            if ident in seen:
                continue
            seen.add(ident)
            out.append((ident, self.names.get(ident, ident), int(score)))
            if len(out) == limit:
                break
        return tuple(out)


def _variant_keys(key: str) -> list[str]:
    """The key without the province suffix ("sở ngoại vụ tỉnh đắk lắk" -> "sở ngoại vụ",
    "sở ngoại vụ tỉnh"), and without a final "tỉnh"."""
    out: list[str] = []
    m = _PROVINCE.search(key)
    if m and m.start() > 0:
        out.append(key[: m.start()])
        word = key[m.start() :].split()[0]
        out.append(f"{key[: m.start()]} {word}")
    if key.endswith(" tỉnh"):
        out.append(key[: -len(" tỉnh")])
    return [k for k in out if k and k != key]
