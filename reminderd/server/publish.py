"""The published feeds: one immutable snapshot of every feed's bytes, and its export to disk.

The service calls :func:`publish` whenever the feeds are rebuilt and hands the
:class:`Published` snapshot to the HTTP layer (:mod:`reminderd.server.web`), which only reads it.
Everything a feed response needs (body, gzip body, ETags, header dicts) is computed here once
per change of the feed's bytes, so a feed request costs a few header checks; :func:`export`
writes the same bytes (and the same .gz) to a folder for nginx or a CDN.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Final

from aiohttp import hdrs
from multidict import CIMultiDict, CIMultiDictProxy

from reminderd.feeds.build import FeedSet
from reminderd.feeds.tokens import FeedTokens

CALENDAR_PATH: Final = "/calendar.ics"
ICS_TYPE: Final = "text/calendar; charset=utf-8"

# --- the published feeds -----------------------------------------------------------------


@dataclass(frozen=True)
class FeedFile:
    """One feed's bytes and everything a response needs, computed once per change."""

    feed: str  # "calendar" or the agency id
    body: bytes
    gzip: bytes  # gzip of body (mtime 0: deterministic, same bytes as the exported .gz)
    etag: str  # strong, quoted content hash: '"<hex>"'
    gzip_etag: str  # the gzip variant's: '"<hex>-gz"'
    last_modified: datetime  # UTC, whole seconds: when these bytes were first published
    last_modified_http: str
    headers: Mapping[str, str] = field(repr=False)  # 200, identity
    gzip_headers: Mapping[str, str] = field(repr=False)  # 200, gzip
    not_modified_headers: Mapping[str, str] = field(repr=False)  # 304 of the identity variant
    gzip_not_modified_headers: Mapping[str, str] = field(repr=False)  # 304 of the gzip variant


class TokenIndex:
    """Token -> agency in O(1), for hundreds of agencies, without a timing side channel.

    ``FeedTokens.agency_for`` compares the request's token with every agency's token in
    constant time: O(agencies), 28 us per request at 300 agencies (measured here), which
    halved the throughput of agency feeds. This index keys a dict by HMAC-SHA256 of each
    token under a random per-process key; a request's token is blinded the same way (fixed
    cost), looked up, and the candidate is then confirmed with ``hmac.compare_digest`` on
    bytes. The lookup's timing depends only on blinded values an attacker can neither
    predict nor steer, so it reveals nothing about how close a guess is to a real token.
    Its answers equal ``FeedTokens.agency_for`` for every input (tests/test_web.py).
    """

    __slots__ = ("_blinded", "_key")

    def __init__(self, tokens: FeedTokens, agencies: Iterable[str]) -> None:
        self._key = secrets.token_bytes(32)
        self._blinded: dict[bytes, tuple[str, bytes]] = {}
        for agency in agencies:
            expected = tokens.token(agency).encode("ascii")
            self._blinded[hmac.digest(self._key, expected, "sha256")] = (agency, expected)

    def agency_for(self, token: str) -> str | None:
        given = token.encode("utf-8", "surrogateescape")
        found = self._blinded.get(hmac.digest(self._key, given, "sha256"))
        if found is None or not hmac.compare_digest(given, found[1]):
            return None
        return found[0]


@dataclass(frozen=True)
class Published:
    """One immutable snapshot of the feeds; the service swaps it in whole on each rebuild."""

    # URL path -> feed, what the public listener serves (and export writes):
    # "/feeds/<token>.ics" per agency, and the whole calendar under its own token
    # ("/feeds/<all_token>.ics") only with feeds.public_calendar
    feeds: Mapping[str, FeedFile]
    built_at: datetime  # UTC: the last time any feed's bytes (or the set of paths) changed
    calendar: FeedFile
    agencies: Mapping[str, FeedFile]  # agency id -> its feed
    tokens: FeedTokens
    index: TokenIndex = field(repr=False)  # resolves a request's token (see TokenIndex)
    public_calendar: bool = False

    def public_feed(self, token: str) -> FeedFile | None:
        """The feed a public ``/feeds/{token}.ics`` names, or None (-> 404)."""
        agency = self.index.agency_for(token)
        if agency is not None:
            return self.agencies.get(agency)
        if self.public_calendar and hmac.compare_digest(
                token.encode("utf-8", "surrogateescape"), self.tokens.all_token.encode()):
            return self.calendar
        return None


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _filename(feed: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", feed).strip("-.") or "lich"
    return "calendar.ics" if feed == "calendar" else f"lich-{safe}.ics"


def _frozen(headers: dict[str, str]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(headers))


def make_feed_file(feed: str, body: bytes, last_modified: datetime) -> FeedFile:
    """Hash, gzip and prebuild the headers of one feed (the only place gzip runs)."""
    moment = last_modified.astimezone(UTC).replace(microsecond=0)
    digest = hashlib.sha256(body).hexdigest()[:32]
    etag, gzip_etag = f'"{digest}"', f'"{digest}-gz"'
    cache = "public, max-age=300" if feed == "calendar" else "private, max-age=300"
    lm = _http_date(moment)
    common: dict[str, str] = {
        hdrs.CACHE_CONTROL: cache,
        hdrs.LAST_MODIFIED: lm,
        hdrs.VARY: "Accept-Encoding",
    }
    full: dict[str, str] = {
        hdrs.CONTENT_TYPE: ICS_TYPE,
        hdrs.CONTENT_DISPOSITION: f'inline; filename="{_filename(feed)}"',
        "X-Content-Type-Options": "nosniff",
    }
    return FeedFile(
        feed=feed,
        body=body,
        gzip=gzip.compress(body, compresslevel=9, mtime=0),
        etag=etag,
        gzip_etag=gzip_etag,
        last_modified=moment,
        last_modified_http=lm,
        headers=_frozen({**full, **common, hdrs.ETAG: etag}),
        gzip_headers=_frozen({**full, **common, hdrs.ETAG: gzip_etag,
                              hdrs.CONTENT_ENCODING: "gzip"}),
        not_modified_headers=_frozen({**common, hdrs.ETAG: etag}),
        gzip_not_modified_headers=_frozen({**common, hdrs.ETAG: gzip_etag}),
    )


def publish(feedset: FeedSet, tokens: FeedTokens, previous: Published | None,
            now: datetime, *, public_calendar: bool = False) -> Published:
    """The snapshot for a new build. A feed whose bytes did not change keeps its previous
    FeedFile (same gzip object, same Last-Modified); if nothing changed at all (bytes and
    paths), ``previous`` itself is returned, so the caller can skip exporting."""
    moment = now.astimezone(UTC).replace(microsecond=0)
    old_calendar = previous.calendar if previous else None
    old_agencies: Mapping[str, FeedFile] = previous.agencies if previous else {}

    def reuse(feed: str, body: bytes, old: FeedFile | None) -> FeedFile:
        if old is not None and old.body == body:
            return old
        return make_feed_file(feed, body, moment)

    calendar = reuse("calendar", feedset.whole, old_calendar)
    agencies = {agency: reuse(agency, body, old_agencies.get(agency))
                for agency, body in sorted(feedset.agencies.items())}
    feeds: dict[str, FeedFile] = {}
    if public_calendar:
        feeds[f"/feeds/{tokens.all_token}.ics"] = calendar
    for agency, feed_file in agencies.items():
        feeds[f"/feeds/{tokens.token(agency)}.ics"] = feed_file
    if (previous is not None and previous.calendar is calendar
            and feeds.keys() == previous.feeds.keys()
            and all(feeds[p] is previous.feeds[p] for p in feeds)):
        return previous
    return Published(feeds=feeds, built_at=moment, calendar=calendar, agencies=agencies,
                     tokens=tokens, index=TokenIndex(tokens, agencies),
                     public_calendar=public_calendar)


# --- export for nginx / a CDN ------------------------------------------------------------

def _write_atomic(path: Path, data: bytes, mtime: float) -> bool:
    """Write ``data`` to ``path`` via a temporary file, fsync and os.replace; False when the
    file already holds exactly these bytes (left untouched, so its mtime stays put)."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)  # for nginx, even under UMask=0077
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.utime(tmp, (mtime, mtime))  # nginx's Last-Modified then matches ours
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def export(published: Published, export_dir: Path) -> None:
    """Write every public feed (and its .gz beside it, for nginx ``gzip_static``) under
    ``export_dir`` atomically, then remove the files of feeds no longer published (rotated
    tokens, removed agencies). Unchanged files are not rewritten. What is written is what
    the public listener serves: no calendar.ics (the whole calendar goes under its own
    token with feeds.public_calendar)."""
    feeds_dir = export_dir / "feeds"
    feeds_dir.mkdir(parents=True, exist_ok=True)
    for folder in (export_dir, feeds_dir):
        folder.chmod(0o755)  # nginx reads it, even under UMask=0077
    wanted: set[Path] = set()
    touched: set[Path] = set()
    for url_path, feed in published.feeds.items():
        target = export_dir / url_path.lstrip("/")
        mtime = feed.last_modified.timestamp()
        for path, data in ((target, feed.body), (target.with_name(target.name + ".gz"),
                                                  feed.gzip)):
            wanted.add(path)
            if _write_atomic(path, data, mtime):
                touched.add(path.parent)
    for stale in feeds_dir.iterdir():
        name = stale.name
        ours = name.endswith((".ics", ".ics.gz")) or (name.startswith(".") and ".tmp-" in name)
        if ours and stale not in wanted and stale.is_file():
            stale.unlink(missing_ok=True)
            touched.add(feeds_dir)
    for folder in touched:
        _fsync_dir(folder)
