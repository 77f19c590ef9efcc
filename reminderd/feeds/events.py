"""One occurrence -> its VEVENT lines: what each event says, and why.

- one VEVENT per occurrence, all-day (``DTSTART;VALUE=DATE``, ``DTEND`` = the next day), no
  RRULE and no RSCALE (each year of an anniversary carries its own ordinal; lunar dates are
  already Gregorian); ``TRANSP:TRANSPARENT`` so deadlines never block anyone's free/busy;
- ``UID`` = ``{occurrence.key}@{uid_domain}``: stable across builds and plans.yaml edits;
- ``SEQUENCE``/``DTSTAMP``/``LAST-MODIFIED`` come from the :class:`Revision` the store keeps
  per key (see :func:`revise`). An occurrence without a revision gets ``SEQUENCE:0``, no
  LAST-MODIFIED and ``DTSTAMP`` = midnight UTC of the occurrence's date: fixed, never "now";
- text escaping is icalendar's (``vText``/``vCategory``); folding is ours (:func:`fold`), at
  75 octets, never inside a UTF-8 sequence or a backslash escape.

Pure: the builder (:mod:`reminderd.feeds.ics`) decides what to serialise and caches it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from operator import attrgetter

from icalendar import vCategory, vText

from reminderd.core.model import Agency
from reminderd.core.occurrence import Occurrence
from reminderd.core.occurrence import OccurrenceKind as K
from reminderd.core.reminders import Role
from reminderd.wording import ROLE_LABELS, at_time

CATEGORY = {
    K.DEADLINE: "Hạn chót",
    K.WINDOW: "Khoảng thời gian",
    K.ONGOING: "Thường xuyên",
    K.REPORT: "Báo cáo",
    K.OCCASION: "Ngày lễ",
    K.ANNIVERSARY: "Kỷ niệm",
    K.REVIEW: "Rà soát thỏa thuận",
    K.EXPIRY: "Hết hiệu lực thỏa thuận",
}
_PREFIX = {K.DEADLINE: "Hạn: ", K.WINDOW: "Hạn: ", K.REPORT: "Hạn: ",
           K.REVIEW: "Rà soát: ", K.EXPIRY: "Hết hiệu lực: "}
_LABEL = {K.OCCASION: "Sự kiện", K.ANNIVERSARY: "Sự kiện", K.REVIEW: "Rà soát",
          K.EXPIRY: "Hết hiệu lực"}  # first DESCRIPTION line; tasks: "Nhiệm vụ"
_TASKS = frozenset({K.DEADLINE, K.WINDOW, K.ONGOING, K.REPORT})  # can be done / overdue
_DATED = frozenset({K.OCCASION, K.ANNIVERSARY})  # fixed days: no non-working-day note
# the roles a per-agency feed names in each SUMMARY (the wording's one table)
ROLES: dict[str, str] = {str(role): ROLE_LABELS[role] for role in (Role.LEAD, Role.SUPPORT)}
_SPAN_PREFIX = "Thời gian thực hiện: "
_OPEN_PREFIX = "Bắt đầu: "
DONE_MARK = "[Đã hoàn thành] "  # before the summary of a task that is done

_CTL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not allowed in TEXT (RFC 5545 3.3.11)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HIDDEN = "[e-mail]"


@dataclass(frozen=True)
class FeedOptions:
    """What a feed looks like (config ``feeds``: the defaults are the schema's, filled in
    by :func:`reminderd.feeds.build.feed_options`)."""

    name: str  # X-WR-CALNAME / NAME
    uid_domain: str  # UID = f"{occurrence.key}@{uid_domain}"
    refresh: timedelta  # REFRESH-INTERVAL and X-PUBLISHED-TTL
    show_spans: bool  # long windows: also a VEVENT for start..end (UID key + "/span")
    span_days: int  # a window up to this long is one multi-day event; longer: two
    include_contacts: bool  # e-mail addresses only when True
    timezone: str  # X-WR-TIMEZONE; all-day events carry no TZID
    prodid: str = "-//reminderd//reminderd 0.1//VI"  # not a setting


@dataclass(frozen=True)
class Revision:
    """What the store remembers of a published item: SEQUENCE and when it last changed (UTC)."""

    sequence: int
    changed: datetime


_SHOWN = attrgetter(  # the fields item_hash covers, as a tuple (C-speed equality and hash)
    "key", "kind", "date", "start", "end", "nominal", "done", "ordinal", "round", "workdays",
    "occasion_kind", "lead", "support", "title", "reference", "source_title", "text", "notes",
)


def item_hash(occ: Occurrence) -> str:
    """A stable digest of everything an event shows (not ``today``; not origin/remind).

    Stored in the feed_items table: the format is versioned ("1") and must not drift.
    """
    s = "\x1f".join((
        "1", occ.key, occ.kind, str(occ.date), str(occ.start), str(occ.end), str(occ.nominal),
        str(occ.done), str(occ.ordinal), str(occ.round), str(occ.workdays), occ.occasion_kind,
        "\x1e".join(occ.lead), "\x1e".join(occ.support), occ.title, occ.reference,
        occ.source_title, occ.text, occ.notes,
        *((f"at {occ.time}|{occ.daypart}",) if occ.time or occ.daypart else ()),
    ))  # a time of day is appended only when set, so earlier hashes stay valid
    return hashlib.blake2b(s.encode(), digest_size=16).hexdigest()


def revise(
    previous: Mapping[str, tuple[str, int, datetime]], hashes: Mapping[str, str], now: datetime
) -> dict[str, tuple[str, int, datetime]]:
    """key -> (hash, sequence, changed) after seeing ``hashes``.

    Same hash: the row is kept. Changed hash: sequence + 1, changed = now. New key:
    (hash, 0, now). Keys no longer present are kept, so an item that disappears and comes
    back continues its sequence (clients ignore an update whose SEQUENCE went down).
    """
    if now.tzinfo is None:
        raise ValueError("revise: `now` must be timezone-aware")
    now = now.astimezone(UTC)
    out = dict(previous)
    for key, h in hashes.items():
        row = previous.get(key)
        if row is None:
            out[key] = (h, 0, now)
        elif row[0] != h:
            out[key] = (h, row[1] + 1, now)
    return out


def fold(line: bytes) -> bytes:
    """Fold one content line at 75 octets (RFC 5545 3.1), CRLF + space between parts.

    A cut never falls inside a UTF-8 sequence nor between a backslash and the character it
    escapes (icalendar's own fold checks only the last character, so it can split ``\\\\``).
    """
    n = len(line)
    if n <= 75:
        return line
    parts = []
    start, width = 0, 75
    while n - start > width:
        cut = start + width
        while line[cut] & 0xC0 == 0x80:  # continuation byte: back to the character's start
            cut -= 1
        if line[cut - 1] == 0x5C:  # a backslash: escapes pair up from the run's start
            i = cut - 1
            while i > start and line[i - 1] == 0x5C:
                i -= 1
            if (cut - i) % 2:
                cut -= 1
        parts.append(line[start:cut])
        start, width = cut, 74  # continuation lines begin with the space
    parts.append(line[start:])
    return b"\r\n ".join(parts)


def _esc(text: str) -> bytes:
    return vText(text).to_ical()


@lru_cache(maxsize=1 << 16)
def _ddmmyyyy(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


@lru_cache(maxsize=1 << 16)
def _basic(d: date) -> bytes:
    return b"%04d%02d%02d" % (d.year, d.month, d.day)


@lru_cache(maxsize=1 << 12)
def _stamp(dt: datetime) -> bytes:
    if dt.tzinfo is None:
        raise ValueError(f"Revision.changed must be timezone-aware, got {dt!r}")
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ").encode()


_BEGIN, _END = b"BEGIN:VEVENT\r\n", b"TRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
_CATS = {k: fold(b"CATEGORIES:" + vCategory([v]).to_ical()) + b"\r\n" for k, v in CATEGORY.items()}
_ROLE_ESC = {r: _esc(f"[{label}] ") for r, label in ROLES.items()}

# cache key: (item hash, sequence, changed, past due, non-working); entry: the serialised
# VEVENT(s) and, per event, where its SUMMARY line sits and its escaped value (for roles)
_Key = tuple[str, int, datetime | None, bool, bool]
_Entry = tuple[bytes, tuple[tuple[int, int, bytes], ...]]


class EventWriter:
    """The texts and VEVENT lines of one occurrence, for one ``options`` and directory."""

    def __init__(self, options: FeedOptions, agencies: Mapping[str, Agency]) -> None:
        self.options = options
        self.agencies = agencies
        self._names: dict[tuple[str, ...], str] = {}

    def layout(self, occ: Occurrence) -> list[tuple[str, str, date, date, K]]:
        """The events of one occurrence: (UID suffix, summary prefix, first day, last day,
        category). A window of up to ``span_days`` is one multi-day event; a longer one is
        its opening and its deadline (plus the span itself with ``show_spans``)."""
        start, end = occ.start, occ.end
        if occ.kind is not K.WINDOW or start is None or end is None or start >= end:
            return [("", "", occ.date, occ.date, occ.kind)]
        if (end - start).days + 1 <= self.options.span_days:
            return [("", "", start, end, K.WINDOW)]
        out = [("/open", _OPEN_PREFIX, start, start, K.WINDOW),
               ("", "", occ.date, occ.date, K.WINDOW)]
        if self.options.show_spans:
            out.append(("/span", _SPAN_PREFIX, start, end, K.WINDOW))
        return out

    def texts(self, occ: Occurrence, late: bool, off: bool) -> list[str]:
        """UID, SUMMARY, DESCRIPTION, then UID and SUMMARY of each further event, unescaped."""
        kind, title, domain = occ.kind, self.clean(occ.title), self.clean(self.options.uid_domain)
        prefix = _PREFIX.get(kind, "")
        if prefix:
            word, folded = prefix[:-2].casefold(), title.casefold()
            if folded.startswith(word + ":") or (kind in (K.REVIEW, K.EXPIRY) and word in folded):
                prefix = ""  # "… - hết hiệu lực" needs no "Hết hiệu lực: "
        done = DONE_MARK if occ.done is not None and kind in _TASKS else ""
        key = self.clean(occ.key)
        events = self.layout(occ)
        out: list[str] = []
        for i, (suffix, own, first, last, _kind) in enumerate(events):
            head = own if own else ("" if first != last else prefix)
            out += (f"{key}{suffix}@{domain}", done + head + title)
            if i == 0:
                out.append(self._describe(occ, title, late, off))
        return out

    def _describe(self, occ: Occurrence, title: str, late: bool, off: bool) -> str:
        kind, clean = occ.kind, self.clean
        lines = [f"{_LABEL.get(kind, 'Nhiệm vụ')}: {title}"]
        if occ.source_title and occ.source_title != occ.title:
            label = "Thỏa thuận" if kind in (K.REVIEW, K.EXPIRY) else "Kế hoạch"
            lines.append(f"{label}: {clean(occ.source_title)}")
        if occ.reference:
            lines.append(f"Văn bản: {clean(occ.reference)}")
        if occ.text:
            lines.append(f"Thời gian theo văn bản: {clean(occ.text)}")
        if kind in _DATED:
            label = "Ngày"
        elif kind is K.ONGOING:
            label = "Từ ngày" if occ.end is None else "Đến ngày"
        else:
            label = "Hạn"
        lines.append(f"{label}: {_ddmmyyyy(occ.date)}{at_time(occ)}")
        if occ.start is not None and occ.end is not None and occ.start != occ.end:
            lines.append(f"Khoảng thời gian: {_ddmmyyyy(occ.start)} - {_ddmmyyyy(occ.end)}")
        if occ.workdays:
            lines.append(f"Thời hạn: {occ.workdays} ngày làm việc")
        if occ.lead:
            lines.append(f"{ROLE_LABELS[Role.LEAD]}: {self._agency_names(occ.lead)}")
        if occ.support:
            lines.append(f"{ROLE_LABELS[Role.SUPPORT]}: {self._agency_names(occ.support)}")
        if occ.round and occ.ordinal:
            lines.append(f"Năm chẵn, năm tròn: {occ.ordinal} năm")
        if off:
            lines.append(f"Lưu ý: ngày {_ddmmyyyy(occ.date)} là ngày nghỉ.")
        if occ.done is not None:
            lines.append(f"Đã hoàn thành ngày {_ddmmyyyy(occ.done)}.")
        elif late:
            lines.append("Quá hạn, chưa hoàn thành.")
        if occ.notes:
            lines.append(f"Ghi chú: {clean(occ.notes)}")
        return "\n".join(lines)

    def serialize(
        self, occ: Occurrence, key: _Key, rev: Revision | None, esc: list[bytes]
    ) -> _Entry:
        if rev is None:
            stamp = b"DTSTAMP:%sT000000Z\r\n" % _basic(occ.date)
        else:
            changed = _stamp(rev.changed)
            stamp = b"DTSTAMP:%s\r\nLAST-MODIFIED:%s\r\n" % (changed, changed)
        stamp += b"SEQUENCE:%d\r\n" % key[1]
        description = fold(b"DESCRIPTION:" + esc[2]) + b"\r\n"
        parts: list[bytes] = []
        summaries: list[tuple[int, int, bytes]] = []
        size = 0
        shape = self.layout(occ)
        uids = [esc[0], *esc[3::2]]
        names = [esc[1], *esc[4::2]]
        events = [(uid, name, first, last, kind)
                  for uid, name, (_, _, first, last, kind) in zip(uids, names, shape, strict=True)]
        for uid, summary, first, last, kind in events:
            head = b"".join((
                _BEGIN, fold(b"UID:" + uid), b"\r\n", stamp,
                b"DTSTART;VALUE=DATE:%s\r\nDTEND;VALUE=DATE:%s\r\n"
                % (_basic(first), _basic(last + timedelta(days=1))),
            ))
            line = fold(b"SUMMARY:" + summary) + b"\r\n"
            start = size + len(head)
            summaries.append((start, start + len(line), summary))
            chunk = b"".join((head, line, description, _CATS[kind], _END))
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts), tuple(summaries)

    def clean(self, text: str) -> str:
        """No control characters (not allowed in TEXT); no e-mail addresses unless asked."""
        if not text.isprintable():
            text = _CTL.sub("", text.replace("\r\n", "\n"))
        if "@" in text and not self.options.include_contacts:
            text = _EMAIL.sub(_HIDDEN, text)
        return text

    def _agency_names(self, ids: tuple[str, ...]) -> str:
        out = self._names.get(ids)
        if out is None:
            names = []
            for agency_id in ids:
                agency = self.agencies.get(agency_id)
                if agency is None:
                    names.append(agency_id)
                    continue
                name = self.clean(agency.name)
                if self.options.include_contacts and agency.emails:
                    name += f" ({', '.join(self.clean(e) for e in agency.emails)})"
                names.append(name)
            out = self._names[ids] = ", ".join(names)
        return out
