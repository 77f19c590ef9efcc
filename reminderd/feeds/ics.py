"""Occurrences -> iCalendar feed bytes (RFC 5545, RFC 7986): the whole calendar or one agency's.

A pure adapter: no I/O and no clock; ``today``, the working-day test and the revisions
(SEQUENCE, DTSTAMP) are passed in. The output is deterministic: the same inputs give the
same bytes, so a feed's ETag only changes when what it shows changes.

What each event says and why: :mod:`reminderd.feeds.events`.

Serialised events are cached per (item hash, revision, past-due, non-working) and per role,
so a rebuild re-serialises only what changed and per-agency feeds reuse the whole feed's
work. A builder is bound to one ``agencies`` mapping (names appear in the text: make a new
builder when the directory changes). It is not thread-safe: one builder per thread.
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from itertools import compress, count
from operator import attrgetter, is_not

from icalendar import Timezone, vDuration

from reminderd.core.model import Agency
from reminderd.core.occurrence import Occurrence
from reminderd.core.occurrence import OccurrenceKind as K
from reminderd.feeds.events import (
    _DATED,
    _ROLE_ESC,
    _SHOWN,
    _TASKS,
    EventWriter,
    FeedOptions,
    Revision,
    _Entry,
    _esc,
    _Key,
    fold,
    item_hash,
)

__all__ = ["FeedBuilder", "size_warning"]

GOOGLE_LIMIT = 1_000_000  # bytes; Google Calendar drops subscribed-feed content past ~1 MB

_LABEL_SAFE = re.compile(r"\s*[,;\n]\s*")


def size_warning(nbytes: int, agency: str | None = None) -> str | None:
    """A warning (Vietnamese, then English) when a feed is over Google's ~1 MB limit."""
    if nbytes <= GOOGLE_LIMIT:
        return None
    mb = nbytes / 1_000_000
    which_vi = f"Lịch của cơ quan {agency}" if agency else "Lịch chung"
    which_en = f"The feed of agency {agency}" if agency else "The whole-calendar feed"
    trim_vi = "rút ngắn khoảng thời gian hiển thị (feeds.horizon_days_ahead)"
    trim_en = "shorten the horizon (feeds.horizon_days_ahead)"
    if not agency:
        trim_vi += " hoặc để các cơ quan đăng ký lịch riêng của mình (reminderd ics --agency ID)"
        trim_en += " or have agencies subscribe to their own feeds (reminderd ics --agency ID)"
    return (
        f"{which_vi} có dung lượng {mb:.1f} MB, vượt quá khoảng 1 MB: Google Calendar bỏ qua"
        f" phần nội dung vượt quá giới hạn này. Cách giảm: {trim_vi}. / {which_en} is"
        f" {mb:.1f} MB; Google Calendar drops subscribed-feed content past about 1 MB."
        f" To trim it: {trim_en}."
    )


_ORDER = attrgetter("date", "key")
_KEY = attrgetter("key")
_PATCH_MAX = 64  # replaced objects up to which the previous order is patched, not re-sorted
_BATCH = 256  # events whose texts are escaped in one vText call (small strings stay in cache)

# per occurrence object: (itself, item hash, key, date, can be overdue, a fixed day)
_Memo = tuple[Occurrence, str, str, date, bool, bool]


def _refuse_duplicates(items: list[Occurrence]) -> set[str]:
    """The keys of ``items``; a key twice would be the same UID twice: ValueError."""
    keys = set(map(_KEY, items))
    if len(keys) != len(items):
        twice = sorted(k for k, n in Counter(map(_KEY, items)).items() if n > 1)
        raise ValueError(f"duplicate occurrence keys (UIDs): {', '.join(twice[:5])}")
    return keys


def _patch(
    done: list[Occurrence], keys: set[str], gone: list[Occurrence], come: list[Occurrence]
) -> list[Occurrence] | None:
    """``done`` (sorted, unique keys) without ``gone`` and with ``come``; None if that fails.

    ``keys`` is updated only on success; a duplicate makes the caller sort and report it.
    """
    items = done.copy()
    for occ in gone:
        at = bisect_left(items, _ORDER(occ), key=_ORDER)
        if at == len(items) or items[at] is not occ:
            return None
        del items[at]
    leaving = {o.key for o in gone}
    arriving = [o.key for o in come]
    if len(set(arriving)) != len(arriving) or any(
        k in keys and k not in leaving for k in arriving
    ):
        return None
    for occ in come:
        insort(items, occ, key=_ORDER)
    keys.difference_update(leaving)
    keys.update(arriving)
    return items


class FeedBuilder:
    def __init__(self, options: FeedOptions, agencies: Mapping[str, Agency]) -> None:
        self.options = options
        self.agencies = dict(agencies)
        self._events = EventWriter(options, self.agencies)
        self.serialized = 0  # events serialised (cache misses), for tests and metrics
        self._entries: dict[_Key, _Entry] = {}
        self._roles: dict[tuple[_Key, str], bytes] = {}
        self._memo: dict[int, _Memo] = {}  # by id(occurrence)
        # key -> (shown fields, item_hash) of the latest occurrence seen with that key
        self._seen: dict[str, tuple[tuple[object, ...], str]] = {}
        self._empty: bytes | None = None
        self._headers: dict[str | None, bytes] = {}  # by agency (None: the whole calendar)
        self._fixed: tuple[bytes, bytes] | None = None  # header lines around the names
        # the last whole feed's input, its sorted order and its keys
        self._order: tuple[list[Occurrence], list[Occurrence], set[str]] | None = None

    # -- public -------------------------------------------------------------------------
    def build(
        self,
        occurrences: Sequence[Occurrence],
        revisions: Mapping[str, Revision],
        *,
        today: date,
        is_working: Callable[[date], bool],
        agency: str | None = None,
    ) -> bytes:
        """The feed: all occurrences, or those where ``agency`` leads or coordinates.

        The cyclic garbage collector is paused meanwhile: a build makes no cycles, only many
        small tuples, and at 100k items the collector's full passes cost more than the build.
        """
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._build(occurrences, revisions, today, is_working, agency)
        finally:
            if paused:
                gc.enable()

    def _build(
        self,
        occurrences: Sequence[Occurrence],
        revisions: Mapping[str, Revision],
        today: date,
        is_working: Callable[[date], bool],
        agency: str | None,
    ) -> bytes:
        if agency is None:
            items = self._sorted(occurrences)
        else:
            if agency not in self.agencies:
                raise ValueError(f"unknown agency {agency!r}")
            items = sorted(
                (o for o in occurrences if agency in o.lead or agency in o.support), key=_ORDER
            )
            _refuse_duplicates(items)
        keys, body = self._scan(items, revisions, today, is_working)
        if agency is None:
            self._prune(items, keys)
        else:
            body = [self._role(k, "lead" if agency in o.lead else "support")
                    for k, o in zip(keys, items, strict=True)]
        if not body:
            body = [self._empty_component()]
        return b"".join((self._header(agency), *body, b"END:VCALENDAR\r\n"))

    def item_hashes(self, occurrences: Sequence[Occurrence]) -> dict[str, str]:
        """key -> :func:`item_hash` for :func:`revise`, from the builder's memo when it can.

        An occurrence seen before (the same object, or an equal one from an earlier
        expansion) is not hashed again, and the next :meth:`build` finds it remembered.
        """
        memo, remember = self._memo, self._remember
        out = {}
        for occ in occurrences:
            m = memo.get(id(occ))
            if m is None or m[0] is not occ:
                m = remember(occ)
            out[m[2]] = m[1]
        return out

    # -- per build ----------------------------------------------------------------------
    def _remember(self, occ: Occurrence) -> _Memo:
        """What a build needs of ``occ`` that does not depend on today or revisions."""
        shown = _SHOWN(occ)
        # an equal occurrence from an earlier expansion? Looked up by key, then compared:
        # hashing every shown field (titles, notes) cost more than comparing them
        seen = self._seen.get(occ.key)
        if seen is not None and seen[0] == shown:
            h = seen[1]
        else:
            h = item_hash(occ)
            self._seen[occ.key] = (shown, h)
        kind = occ.kind
        late = occ.done is None and kind in _TASKS and (
            kind is not K.ONGOING or occ.end is not None)
        m = self._memo[id(occ)] = (occ, h, occ.key, occ.date, late, kind in _DATED)
        return m

    def _scan(
        self,
        items: list[Occurrence],
        revisions: Mapping[str, Revision],
        today: date,
        is_working: Callable[[date], bool],
    ) -> tuple[list[_Key], list[bytes]]:
        """The cache key and the serialised VEVENT(s) of each item, serialising what is new."""
        memo, remember, entries, get_rev = self._memo, self._remember, self._entries, revisions.get
        working: dict[date, bool] = {}
        keys: list[_Key] = []
        blobs: list[bytes] = []
        missing: list[int] = []
        for occ in items:
            m = memo.get(id(occ))
            if m is None or m[0] is not occ:
                m = remember(occ)
            _occ, h, okey, day, can_be_late, dated = m
            off = False
            if not dated:
                works = working.get(day)
                if works is None:
                    works = working[day] = bool(is_working(day))
                off = not works
            late = can_be_late and day < today
            rev = get_rev(okey)
            key = (h, 0, None, late, off) if rev is None else (
                h, rev.sequence, rev.changed, late, off)
            keys.append(key)
            entry = entries.get(key)
            if entry is None:
                missing.append(len(blobs))
                blobs.append(b"")
            else:
                blobs.append(entry[0])
        if missing:
            self._fill([(keys[i], items[i]) for i in missing], revisions)
            for i in missing:
                blobs[i] = entries[keys[i]][0]
        return keys, blobs

    def _sorted(self, occurrences: Sequence[Occurrence]) -> list[Occurrence]:
        """Sorted by (date, key), refusing a key twice (it would be the same UID twice).

        When the input is the previous whole feed's list with a few objects replaced, the
        previous order is patched instead of sorting again.
        """
        new = list(occurrences)
        if self._order is not None and len(self._order[0]) == len(new):
            old, done, keys = self._order
            at = list(compress(count(), map(is_not, new, old)))
            if len(at) <= _PATCH_MAX:
                patched = _patch(done, keys, [old[i] for i in at], [new[i] for i in at])
                if patched is not None:
                    self._order = (new, patched, keys)
                    return patched
        items = sorted(new, key=_ORDER)
        self._order = (new, items, _refuse_duplicates(items))
        return items

    def _prune(self, items: list[Occurrence], keys: list[_Key]) -> None:
        """Bound the caches to about twice what the latest whole feed needs."""
        if len(self._memo) > 2 * len(items) + 1024:
            self._memo = {id(o): self._memo[id(o)] for o in items}
        if len(self._seen) > 2 * len(items) + 1024:
            self._seen = {o.key: (_SHOWN(o), self._memo[id(o)][1]) for o in items}
        if len(self._entries) > 2 * len(keys) + 1024:
            self._entries = {k: self._entries[k] for k in keys}
            self._roles = {k: v for k, v in self._roles.items() if k[0] in self._entries}

    def _fill(self, todo: list[tuple[_Key, Occurrence]], revisions: Mapping[str, Revision]) -> None:
        """Serialise events not in the cache; their texts are escaped a batch at a time."""
        entries = self._entries
        for first in range(0, len(todo), _BATCH):
            batch = todo[first:first + _BATCH]
            texts: list[str] = []
            sizes: list[int] = []
            for key, occ in batch:
                mine = self._events.texts(occ, key[3], key[4])
                texts.extend(mine)
                sizes.append(len(mine))
            escaped = _esc("\x00".join(texts)).split(b"\x00")  # clean() removed every NUL
            if len(escaped) != len(texts):  # pragma: no cover - a NUL got past clean()
                raise AssertionError("text batch split mismatch")
            at = 0
            for (key, occ), n in zip(batch, sizes, strict=True):
                entry = self._events.serialize(occ, key, revisions.get(occ.key), escaped[at:at + n])
                entries[key] = entry
                at += n
                self.serialized += len(entry[1])

    def _role(self, key: _Key, role: str) -> bytes:
        out = self._roles.get((key, role))
        if out is None:
            blob, summaries = self._entries[key]
            parts: list[bytes] = []
            pos = 0
            for start, end, value in summaries:
                parts += (blob[pos:start], fold(b"SUMMARY:" + _ROLE_ESC[role] + value), b"\r\n")
                pos = end
            parts.append(blob[pos:])
            out = self._roles[(key, role)] = b"".join(parts)
        return out

    def _header(self, agency: str | None) -> bytes:
        """The VCALENDAR lines before the events (built once per feed: a mail attachment
        is a feed of its own, and building this took most of its 50 us)."""
        header = self._headers.get(agency)
        if header is None:
            header = self._headers[agency] = self._make_header(agency)
        return header

    def _make_header(self, agency: str | None) -> bytes:
        o = self.options
        name = o.name if agency is None else f"{o.name} - {self.agencies[agency].name}"
        # consumers disagree on unescaping calendar-level names (icalendar 7.3 and ical.js
        # show NAME/X-WR-CALNAME raw, "\\,"): keep them free of characters that need escaping
        name_esc = _esc(_LABEL_SAFE.sub(" - ", self._events.clean(name)).replace("\\", "/"))
        if self._fixed is None:  # the lines that are the same in every feed
            ttl: bytes = vDuration(o.refresh).to_ical()  # type: ignore[no-untyped-call]
            self._fixed = (
                b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + fold(b"PRODID:" + _esc(o.prodid))
                + b"\r\nCALSCALE:GREGORIAN\r\n",
                fold(b"X-WR-TIMEZONE:" + _esc(o.timezone)) + b"\r\n"
                + fold(b"REFRESH-INTERVAL;VALUE=DURATION:" + ttl) + b"\r\n"
                + fold(b"X-PUBLISHED-TTL:" + ttl) + b"\r\n",
            )
        before, after = self._fixed
        return b"".join((before, fold(b"NAME:" + name_esc), b"\r\n",
                         fold(b"X-WR-CALNAME:" + name_esc), b"\r\n", after))

    def _empty_component(self) -> bytes:
        """RFC 5545 wants at least one component: an empty feed carries its VTIMEZONE."""
        if self._empty is None:
            tz = Timezone.from_tzid(self.options.timezone).to_ical()
            self._empty = b"".join(
                fold(line) + b"\r\n" for line in tz.replace(b"\r\n ", b"").split(b"\r\n") if line
            )
        return self._empty
