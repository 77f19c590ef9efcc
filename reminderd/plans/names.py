"""Agency names as Vietnamese offices write them: the one normaliser and the one matcher.

Every place that reads an agency name someone typed or a document wrote uses this module:
the plans loader (``lead``, ``support``, ``coordinator``, group members), ``reminderd
agenda --agency`` and ``reminderd import``. So a name that resolves in one resolves in all.

- :func:`name_key` normalises a name: NFC, case, old/new tone placement (hoá/hóa, uỷ/ủy,
  thuỷ/thủy), the usual abbreviations (UBND, HĐND, VHTTDL, KH&ĐT, TT&TT, NN&PTNT,
  LĐTB&XH, TN&MT, GTVT ...), punctuation and "và";
- :func:`strip_role` drops a trailing role ("- cơ quan thường trực", "(chủ trì)");
- :class:`AgencyMatcher` finds the agency for a name: by id, alias or name, then by the
  name without its province suffix ("tỉnh Đắk Lắk") when that is unambiguous; a group of
  the directory (``groups:``) gives its member agencies. It never guesses: when nothing
  matches it gives suggestions by similarity (rapidfuzz), and says when the name is a
  generic group ("các sở, ban, ngành") that no group of the directory names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

if TYPE_CHECKING:
    from reminderd.core.model import Plans

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


# --- matching ----------------------------------------------------------------------------

HOW = {"id": "the id", "alias": "an alias", "name": "the name", "group": "a group"}


@dataclass(frozen=True)
class Entry:
    """One way of naming an agency (or a group): its id, the text as written, how, where."""

    ident: str
    written: str
    how: str  # "id" | "alias" | "name" | "group"
    where: str = ""  # FILE:LINE of the definition, for messages


@dataclass(frozen=True)
class Match:
    """What a name matched: an agency id, a group's members, or nothing with suggestions
    (id, name, score) and whether it reads as a generic group."""

    written: str
    agency: str | None
    how: str = ""  # "id" | "alias" | "name" | "variant" | "group"
    suggestions: tuple[tuple[str, str, int], ...] = ()
    group: bool = False  # a generic group that no group of the directory names
    group_id: str | None = None  # the directory's group it named
    members: tuple[str, ...] = ()  # that group's agencies

    @property
    def ids(self) -> tuple[str, ...]:
        """The agencies the name stands for: one, a group's members, or none."""
        return (self.agency,) if self.agency else self.members


@dataclass
class AgencyMatcher:
    """Agency ids (and groups) by every way of naming them."""

    exact: dict[str, Entry] = field(default_factory=dict)  # name_key -> entry
    variants: dict[str, str | None] = field(default_factory=dict)  # key -> id, None if shared
    names: dict[str, str] = field(default_factory=dict)  # id -> name
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # group id -> members
    _finished: bool = False
    _entries: list[Entry] = field(default_factory=list)  # for suggestions
    _written: list[str] = field(default_factory=list)  # their written forms, folded
    _keys: list[str] = field(default_factory=list)  # and their keys

    def add(self, ident: str, written: str, how: str, where: str = "") -> Entry | None:
        """Index one way of naming ``ident``; the entry of another agency (or group) that
        the same key already names, if any (then this one is not indexed)."""
        key = name_key(written)
        if not key:
            return None
        entry = self.exact.get(key)
        if entry is None:
            self.exact[key] = Entry(ident, written, how, where)
            if how == "name":
                self.names.setdefault(ident, written)
            self._finished = False
            return None
        if how == "name":
            self.names.setdefault(ident, written)
        return None if entry.ident == ident else entry

    def add_group(self, ident: str, members: tuple[str, ...]) -> None:
        self.groups[ident] = members

    @classmethod
    def build(
        cls,
        agencies: Iterable[tuple[str, str, Iterable[str]]],
        groups: Iterable[tuple[str, str, Iterable[str], tuple[str, ...]]] = (),
    ) -> AgencyMatcher:
        """From (id, name, aliases) triples and (id, name, aliases, members) groups: ids,
        then aliases, then names (the loader's order), the first agency keeping a key."""
        m = cls()
        entries = list(agencies)
        group_list = list(groups)
        for ident, _name, _aliases in entries:
            m.add(ident, ident, "id")
        for ident, _name, _aliases, members in group_list:
            m.add(ident, ident, "group")
            m.add_group(ident, members)
        for ident, _name, aliases in entries:
            for alias in aliases:
                m.add(ident, alias, "alias")
        for ident, name, aliases, _members in group_list:
            for written in (name, *aliases):
                m.add(ident, written, "group")
        for ident, name, _aliases in entries:
            m.add(ident, name, "name")
        return m

    @classmethod
    def from_plans(cls, plans: Plans | None) -> AgencyMatcher:
        if plans is None:
            return cls()
        return cls.build(
            ((a.id, a.name, a.aliases) for a in plans.agencies),
            ((g.id, g.name, g.aliases, g.members) for g in plans.groups),
        )

    def _finish(self) -> None:
        """The names without their province suffix, where only one agency has them."""
        self.variants = {}
        for key, entry in self.exact.items():
            if entry.how in ("id", "group"):
                continue
            for variant in _variant_keys(key):
                if variant in self.exact:
                    continue
                if variant in self.variants and self.variants[variant] != entry.ident:
                    self.variants[variant] = None  # two agencies share it: never use it
                else:
                    self.variants[variant] = entry.ident
        self._entries = list(self.exact.values())
        self._written = [fold(entry.written) for entry in self._entries]
        self._keys = list(self.exact)
        self._finished = True

    def _hit(self, text: str, entry: Entry, how: str) -> Match:
        if entry.how == "group":
            return Match(text, None, "group", group_id=entry.ident,
                         members=self.groups.get(entry.ident, ()))
        return Match(text, entry.ident, how)

    def match(self, written: str) -> Match:
        if not self._finished:
            self._finish()
        text = strip_role(written)
        key = name_key(text)
        entry = self.exact.get(key)
        if entry is not None:
            return self._hit(text, entry, entry.how)
        for variant in _variant_keys(key):
            entry = self.exact.get(variant)
            if entry is not None:
                return self._hit(text, entry, "variant")
        for variant in (key, *_variant_keys(key)):
            ident = self.variants.get(variant)
            if ident:
                return Match(text, ident, "variant")
        return Match(text, None, suggestions=self.suggest(text), group=is_group(text))

    def nearest(self, text: str, limit: int = 3) -> list[tuple[Entry, int]]:
        """The nearest agencies (and groups), one entry each, by similarity (rapidfuzz) of
        the ways they are written to ``text``, as written and as keys, best first."""
        if not self._finished:
            self._finish()
        written = fold(strip_role(text))
        if not written or not self._entries:
            return []
        best: dict[str, tuple[int, int]] = {}  # id -> (score, entry index)
        for target, choices in ((written, self._written), (name_key(written), self._keys)):
            for _c, score, index in process.extract(
                target, choices, scorer=fuzz.token_sort_ratio, limit=limit * 4,
                score_cutoff=60,
            ):
                ident = self._entries[index].ident
                if ident not in best or score > best[ident][0]:
                    best[ident] = (int(score), index)
        ranked = sorted(best.values(), key=lambda pair: (-pair[0], pair[1]))[:limit]
        return [(self._entries[index], score) for score, index in ranked]

    def suggest(self, text: str, limit: int = 3) -> tuple[tuple[str, str, int], ...]:
        """(id, name, score) of the nearest agencies, best first."""
        return tuple(
            (entry.ident, self.names.get(entry.ident, entry.written), score)
            for entry, score in self.nearest(text, limit)
        )


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


def resolve_agency(plans: Plans, ref: str) -> str:
    """The agency id for ``ref`` (id, alias or name, as the loader reads them); ValueError
    with the nearest agencies otherwise."""
    found = AgencyMatcher.from_plans(plans).match(ref)
    if found.agency is not None:
        return found.agency
    if found.group_id is not None:
        raise ValueError(f"{ref!r} is the group {found.group_id!r}; name one agency of it "
                         f"({', '.join(found.members)})")
    near = ", ".join(repr(ident) for ident, _name, _score in found.suggestions)
    hint = f"; did you mean {near}?" if near else "; `reminderd check` lists agencies"
    raise ValueError(f"unknown agency {ref!r}{hint}")
