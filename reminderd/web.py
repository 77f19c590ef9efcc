"""HTTP: the feeds (prebuilt bytes, ETag/304, precomputed gzip), /healthz, /metrics and the
Vietnamese status page.

The web layer schedules nothing. The service builds a :class:`Published` snapshot with
:func:`publish` whenever the feeds are rebuilt, and a :class:`StatusInfo` with
:func:`status_info`, and assigns them to :class:`WebState`; the handlers only read that state.
Everything a feed response needs (body, gzip body, ETags, header dicts) is computed once per
change of the feed's bytes, so a feed request costs a few header checks.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any, Final

import jinja2
from aiohttp import hdrs, web
from multidict import CIMultiDict, CIMultiDictProxy

from reminderd.core.occurrence import Occurrence, OccurrenceKind
from reminderd.core.reminders import TASK_KINDS, ReminderKind, Role
from reminderd.feed_tokens import FeedTokens
from reminderd.feeds import FeedSet
from reminderd.mail_setup import agency_feed_url, feed_tokens
from reminderd.mail_view import ROLE_LABELS, days_text, vn_date, webcal
from reminderd.store.base import Delivery, DeliveryStore, Status
from reminderd.workspace import Workspace

log = logging.getLogger("reminderd.web")

CALENDAR_PATH: Final = "/calendar.ics"
ICS_TYPE: Final = "text/calendar; charset=utf-8"
STATUS_TEMPLATE: Final = "status/index.html"
AGENDA_DAYS: Final = 60
OVERDUE_DAYS_BACK: Final = 90  # the status page lists unfinished tasks this far back
TITLE_DAYS_AHEAD: Final = 120  # delivery rows name items this far ahead (else their key)

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

    feeds: Mapping[str, FeedFile]  # URL path -> feed: "/calendar.ics", "/feeds/<token>.ics"
    built_at: datetime  # UTC: the last time any feed's bytes (or the set of paths) changed
    calendar: FeedFile
    agencies: Mapping[str, FeedFile]  # agency id -> its feed
    tokens: FeedTokens
    index: TokenIndex = field(repr=False)  # resolves a request's token (see TokenIndex)


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
            now: datetime) -> Published:
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
    feeds = {CALENDAR_PATH: calendar}
    for agency, feed_file in agencies.items():
        feeds[f"/feeds/{tokens.token(agency)}.ics"] = feed_file
    if previous is not None and feeds.keys() == previous.feeds.keys() and all(
            feeds[p] is previous.feeds[p] for p in feeds):
        return previous
    return Published(feeds=feeds, built_at=moment, calendar=calendar, agencies=agencies,
                     tokens=tokens, index=TokenIndex(tokens, agencies))


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
    """Write every feed (and its .gz beside it, for nginx ``gzip_static``) under
    ``export_dir`` atomically, then remove the files of feeds no longer published (rotated
    tokens, removed agencies). Unchanged files are not rewritten."""
    feeds_dir = export_dir / "feeds"
    feeds_dir.mkdir(parents=True, exist_ok=True)
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


# --- what the status page, /healthz and /metrics show ------------------------------------

@dataclass(frozen=True)
class LastPass:
    at: datetime  # when the pass started (aware)
    duration: float  # seconds
    sent: int = 0
    failed: int = 0
    error: str = ""


@dataclass(frozen=True)
class AgendaItem:
    date: date
    date_text: str  # "Thứ Sáu, 12/06/2026"
    title: str
    kind: str  # OccurrenceKind value
    role: str  # "Chủ trì" / "Phối hợp" / "Cơ quan theo dõi, đôn đốc" ("" in the overdue list)
    days_text: str  # "còn 3 ngày", "đã quá hạn 2 ngày"
    text: str = ""  # the time phrase as written
    plan: str = ""  # the plan's title
    lead: tuple[str, ...] = ()  # lead agencies' names
    done: bool = False


@dataclass(frozen=True)
class AgencyStatus:
    id: str
    name: str
    feed_url: str  # https/http
    webcal_url: str
    items: tuple[AgendaItem, ...]  # the next AGENDA_DAYS days, by date


@dataclass(frozen=True)
class DeliveryRow:
    key: str
    agency: str  # name
    title: str
    kind: str  # ReminderKind value
    status: str  # Status value
    due: str  # local, "HH:MM dd/mm/yyyy"
    updated: str
    attempts: int
    error: str
    uncertain: bool


@dataclass(frozen=True)
class StatusInfo:
    generated_at: datetime
    timezone: str = "Asia/Ho_Chi_Minh"
    problems: tuple[str, ...] = ()  # the last reload's errors, "FILE:LINE:COL: message"
    store_ok: bool = True
    store_reason: str = ""
    last_pass: LastPass | None = None
    counts: Mapping[str, int] = field(default_factory=dict)  # Status value -> rows
    calendar_url: str = ""
    calendar_webcal: str = ""
    agencies: tuple[AgencyStatus, ...] = ()
    overdue: tuple[AgendaItem, ...] = ()
    recent: tuple[DeliveryRow, ...] = ()
    failures: tuple[DeliveryRow, ...] = ()
    agenda_days: int = AGENDA_DAYS

    def local(self, moment: datetime | None) -> str:
        """``moment`` in the configured zone, "HH:MM dd/mm/yyyy" (for the template)."""
        if moment is None:
            return ""
        from zoneinfo import ZoneInfo
        local = moment.astimezone(ZoneInfo(self.timezone))
        return f"{local:%H:%M} {local:%d/%m/%Y}"

    def healthy_problems(self) -> list[str]:
        """What makes /healthz answer 503 (empty when healthy)."""
        found = list(self.problems)
        if not self.store_ok:
            found.append(f"store unreachable: {self.store_reason}")
        return found


def _local(moment: datetime | None, ws: Workspace) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(ws.settings.zone)
    return f"{local:%H:%M} {local:%d/%m/%Y}"


def _agenda_item(occ: Occurrence, today: date, role: str, names: Mapping[str, str]
                 ) -> AgendaItem:
    days = (occ.date - today).days
    if occ.kind in (OccurrenceKind.OCCASION, OccurrenceKind.ANNIVERSARY):
        phrase = days_text(ReminderKind.OCCASION, days)
    elif occ.kind in (OccurrenceKind.REVIEW, OccurrenceKind.EXPIRY):
        phrase = days_text(ReminderKind.AGREEMENT, days)
    else:
        phrase = days_text(ReminderKind.DEADLINE, days)
    return AgendaItem(date=occ.date, date_text=vn_date(occ.date), title=occ.title,
                      kind=str(occ.kind), role=role, days_text=phrase, text=occ.text,
                      plan=occ.source_title, lead=tuple(names.get(a, a) for a in occ.lead),
                      done=occ.done is not None)


def status_info(ws: Workspace, now: datetime, store: DeliveryStore | None,
                problems: Iterable[str], last_pass: LastPass | None, *,
                tokens: FeedTokens | None = None, recent_limit: int = 30) -> StatusInfo:
    """Everything the status page shows, from the (last good) workspace and the store.

    Blocking: it expands occurrences and queries the store (sqlite connections belong to
    the thread that opened them, so call it where the store is used). Store errors do not
    raise: they come back as ``store_ok=False`` with the reason."""
    if tokens is None:
        tokens = feed_tokens(ws)
    today = ws.local_today(now)
    names = {a.id: a.name for a in ws.plans.agencies}
    # one expansion: overdue items, the agenda, and the titles of recent deliveries (whose
    # reminders go out up to ~90 days ahead of their item)
    nearby = ws.occurrences(today - timedelta(days=OVERDUE_DAYS_BACK),
                            today + timedelta(days=TITLE_DAYS_AHEAD))
    last_day = today + timedelta(days=AGENDA_DAYS - 1)
    by_agency: dict[str, list[AgendaItem]] = {a: [] for a in names}
    for occ in nearby:
        if not today <= occ.date <= last_day:
            continue
        roles = [(a, ROLE_LABELS[Role.LEAD]) for a in occ.lead]
        roles += [(a, ROLE_LABELS[Role.SUPPORT]) for a in occ.support if a not in occ.lead]
        if occ.coordinator and occ.coordinator not in occ.lead + occ.support:
            roles.append((occ.coordinator, ROLE_LABELS[Role.COORDINATOR]))
        for agency, role in roles:
            by_agency.setdefault(agency, []).append(_agenda_item(occ, today, role, names))
    overdue = tuple(_agenda_item(o, today, "", names) for o in nearby
                    if o.kind in TASK_KINDS and o.done is None and o.date < today)
    agencies = tuple(
        AgencyStatus(id=a.id, name=a.name, feed_url=agency_feed_url(ws, tokens, a.id),
                     webcal_url=webcal(agency_feed_url(ws, tokens, a.id)),
                     items=tuple(by_agency.get(a.id, ())))
        for a in ws.plans.agencies)
    titles = {o.key: o.title for o in nearby}

    def row(d: Delivery) -> DeliveryRow:
        return DeliveryRow(key=d.key, agency=names.get(d.agency, d.agency),
                           title=titles.get(d.occurrence_key, d.occurrence_key),
                           kind=str(d.kind), status=str(d.status), due=_local(d.due, ws),
                           updated=_local(d.updated_at, ws), attempts=d.attempts,
                           error=d.last_error or "", uncertain=bool(d.uncertain))

    store_ok, reason = True, ""
    counts: dict[str, int] = {s.value: 0 for s in Status}
    recent: tuple[DeliveryRow, ...] = ()
    failures: tuple[DeliveryRow, ...] = ()
    if store is None:
        store_ok, reason = False, "no store configured"
    else:
        try:
            store.ping()
            counts.update({str(k): v for k, v in store.counts().items()})
            bad = store.deliveries(Status.FAILED, limit=recent_limit)
            bad += store.deliveries(Status.RETRYING, limit=recent_limit)
            done = store.deliveries(Status.SENT, limit=recent_limit) + bad
            for found in (bad, done):
                found.sort(key=lambda d: (d.updated_at, d.key), reverse=True)
            recent = tuple(row(d) for d in done[:recent_limit])
            failures = tuple(row(d) for d in bad[:recent_limit])
        except Exception as exc:  # any backend error means "unreachable" for the admin
            store_ok, reason = False, " ".join(f"{type(exc).__name__}: {exc}".split())
    whole = f"{ws.settings.public_url}{CALENDAR_PATH}"
    return StatusInfo(
        generated_at=now, timezone=ws.settings.timezone, problems=tuple(problems),
        store_ok=store_ok, store_reason=reason, last_pass=last_pass, counts=counts,
        calendar_url=whole, calendar_webcal=webcal(whole), agencies=agencies,
        overdue=overdue, recent=recent, failures=failures)


def check_templates(templates: Path) -> list[str]:
    """Problems of the status page template, as "FILE:LINE:COL: message" (for reloads)."""
    path = templates / STATUS_TEMPLATE
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{path}:1:1: cannot read the status page template: {exc}"]
    try:
        _environment(templates).parse(source, STATUS_TEMPLATE, str(path))
    except jinja2.TemplateSyntaxError as exc:
        return [f"{path}:{exc.lineno}:1: {exc.message}"]
    return []


# --- state shared with the service -------------------------------------------------------

@dataclass
class WebState:
    """What the service updates (by assigning whole new values); the handlers only read it."""

    published: Published | None = None
    status: StatusInfo | None = None
    feed_requests: dict[tuple[str, int], int] = field(default_factory=lambda: {
        (feed, code): 0 for feed in ("calendar", "agency") for code in (200, 304, 404)})
    reload_failures: int = 0  # the service adds one per rejected reload

    def count(self, feed: str, code: int) -> None:
        key = (feed, code)
        self.feed_requests[key] = self.feed_requests.get(key, 0) + 1


# --- request handling --------------------------------------------------------------------

_ETAG_RE = re.compile(r'(?:W/)?"([^"]*)"')
_CODING_RE = re.compile(r"\s*([^\s;,]+)\s*(?:;\s*q\s*=\s*([0-9.]+))?[^,]*")
_gzip_choice: dict[str, bool] = {}  # Accept-Encoding value -> gzip allowed (few distinct)


def accepts_gzip(value: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (q > 0), by RFC 9110 12.5.3."""
    if not value:
        return False
    known = _gzip_choice.get(value)
    if known is not None:
        return known
    gzip_q = star_q = None
    for match in _CODING_RE.finditer(value):
        coding = match[1].lower()
        try:
            q = float(match[2]) if match[2] is not None else 1.0
        except ValueError:
            q = 0.0
        if coding in ("gzip", "x-gzip"):
            gzip_q = q if gzip_q is None else max(gzip_q, q)
        elif coding == "*":
            star_q = q
    allowed = (gzip_q if gzip_q is not None else (star_q or 0.0)) > 0
    if len(_gzip_choice) > 512:
        _gzip_choice.clear()
    _gzip_choice[value] = allowed
    return allowed


def _none_match(value: str, feed: FeedFile, gzipped: bool) -> Mapping[str, str] | None:
    """The 304 headers when If-None-Match matches a variant (weak comparison), else None.
    Matching either variant is a 304 for that variant (its ETag tells a cache which one)."""
    if value == feed.etag:
        return feed.not_modified_headers
    if value == feed.gzip_etag:
        return feed.gzip_not_modified_headers
    if value.strip() == "*":
        return feed.gzip_not_modified_headers if gzipped else feed.not_modified_headers
    tags = set(_ETAG_RE.findall(value))
    plain, zipped = feed.etag.strip('"'), feed.gzip_etag.strip('"')
    order = ((zipped, feed.gzip_not_modified_headers), (plain, feed.not_modified_headers))
    for tag, headers in order if gzipped else order[::-1]:
        if tag in tags:
            return headers
    return None


def _modified_since(value: str, feed: FeedFile) -> bool:
    if value == feed.last_modified_http:
        return False
    try:
        since = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return True  # an invalid date is ignored
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    if since.timestamp() > time.time():
        return True  # a date in the future is invalid (RFC 9110 13.1.3)
    return feed.last_modified > since


def feed_response(request: web.BaseRequest, feed: FeedFile) -> web.Response:
    """200 (identity or gzip) or 304: prebuilt bytes and headers, a few header checks."""
    headers = request.headers
    gzipped = accepts_gzip(headers.get(hdrs.ACCEPT_ENCODING))
    none_match = headers.get(hdrs.IF_NONE_MATCH)
    if none_match is not None:
        matched = _none_match(none_match, feed, gzipped)
        if matched is not None:
            return web.Response(status=304, headers=matched)
    else:
        since = headers.get(hdrs.IF_MODIFIED_SINCE)
        if since is not None and not _modified_since(since, feed):
            return web.Response(status=304, headers=(
                feed.gzip_not_modified_headers if gzipped else feed.not_modified_headers))
    if gzipped:
        return web.Response(body=feed.gzip, headers=feed.gzip_headers)
    return web.Response(body=feed.body, headers=feed.headers)


_NO_STORE = {hdrs.CACHE_CONTROL: "no-store"}


def _not_found() -> web.Response:
    return web.Response(status=404, text="not found\n", headers=_NO_STORE)


def _not_ready() -> web.Response:
    return web.Response(status=503, text="feeds are being built\n",
                        headers={**_NO_STORE, hdrs.RETRY_AFTER: "5"})


def _metric_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics_text(state: WebState) -> str:
    """Prometheus text exposition format 0.0.4."""
    out: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")

    status = state.status
    family("reminderd_reminders", "gauge", "Reminders in the delivery store by status.")
    counts = status.counts if status else {}
    for name in [s.value for s in Status]:
        out.append(f'reminderd_reminders{{status="{name}"}} {counts.get(name, 0)}')
    last = status.last_pass if status else None
    family("reminderd_last_pass_timestamp_seconds", "gauge",
           "Start of the last send pass (Unix time; 0 before the first).")
    out.append(f"reminderd_last_pass_timestamp_seconds {last.at.timestamp() if last else 0}")
    family("reminderd_last_pass_duration_seconds", "gauge", "Duration of the last send pass.")
    out.append(f"reminderd_last_pass_duration_seconds {last.duration if last else 0}")
    family("reminderd_feed_requests_total", "counter", "Feed requests by feed and status code.")
    for (feed, code), value in sorted(state.feed_requests.items()):
        out.append(f'reminderd_feed_requests_total{{feed="{feed}",code="{code}"}} {value}')
    family("reminderd_reload_failures_total", "counter",
           "Reloads rejected because the new config, plans or templates had errors.")
    out.append(f"reminderd_reload_failures_total {state.reload_failures}")
    family("reminderd_config_ok", "gauge", "1 when the last reload succeeded.")
    out.append(f"reminderd_config_ok {0 if status and status.problems else 1}")
    family("reminderd_store_up", "gauge", "1 when the delivery store answered.")
    out.append(f"reminderd_store_up {1 if status is None or status.store_ok else 0}")
    published = state.published
    family("reminderd_feed_bytes", "gauge", "Size of each published feed by encoding.")
    if published is not None:
        feeds = [("calendar", published.calendar)]
        feeds += [(f"agency/{a}", f) for a, f in published.agencies.items()]
        for name, f in feeds:
            label = _metric_label(name)
            out.append(f'reminderd_feed_bytes{{feed="{label}",encoding="identity"}} '
                       f"{len(f.body)}")
            out.append(f'reminderd_feed_bytes{{feed="{label}",encoding="gzip"}} {len(f.gzip)}')
        family("reminderd_feeds_built_timestamp_seconds", "gauge",
               "When the published feeds last changed (Unix time).")
        out.append(f"reminderd_feeds_built_timestamp_seconds {published.built_at.timestamp()}")
    return "\n".join(out) + "\n"


def _environment(templates: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,  # every template here is HTML
        undefined=jinja2.ChainableUndefined,
        auto_reload=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class _StatusPage:
    """Renders / from the current StatusInfo; keeps the last good template on a bad edit
    and caches the page until the status changes."""

    def __init__(self, templates: Path) -> None:
        self.env = _environment(templates)
        self.template: jinja2.Template | None = None
        # (status, published, template problems) -> page; the objects are kept (not their
        # ids) so that a new status can never be mistaken for a freed one
        self.cache: tuple[StatusInfo | None, Published | None, list[str], str] | None = None

    def render(self, status: StatusInfo | None, published: Published | None) -> str:
        problems: list[str] = []
        try:
            template = self.env.get_template(STATUS_TEMPLATE)
            if template is not self.template:
                self.template, self.cache = template, None
        except jinja2.TemplateError as exc:
            log.warning("web.status_template_error %s", exc)
            problems.append(f"{STATUS_TEMPLATE}: {exc}")
        if self.template is None:
            raise web.HTTPInternalServerError(text="status page template missing or broken: "
                                              + "; ".join(problems))
        cache = self.cache
        if (cache is not None and cache[0] is status and cache[1] is published
                and cache[2] == problems):
            return cache[3]
        html = self.template.render(status=status, published=published,
                                    template_problems=problems)
        self.cache = (status, published, problems, html)
        return html


def make_app(state: WebState, *, templates: Path) -> web.Application:
    """The aiohttp application. ``templates`` is the templates folder (config ``templates``);
    the status page is ``status/index.html`` inside it."""
    page = _StatusPage(templates)

    async def calendar(request: web.Request) -> web.Response:
        published = state.published
        if published is None:
            return _not_ready()
        response = feed_response(request, published.calendar)
        state.count("calendar", response.status)
        return response

    async def agency_feed(request: web.Request) -> web.Response:
        published = state.published
        if published is None:
            return _not_ready()
        agency = published.index.agency_for(request.match_info["token"])
        feed = published.agencies.get(agency) if agency is not None else None
        if feed is None:
            state.count("agency", 404)
            return _not_found()
        response = feed_response(request, feed)
        state.count("agency", response.status)
        return response

    async def healthz(request: web.Request) -> web.Response:
        status = state.status
        problems = status.healthy_problems() if status else ["starting: no status yet"]
        if state.published is None:
            problems.append("starting: feeds not built yet")
        body: dict[str, Any] = {"status": "ok" if not problems else "unhealthy",
                                "problems": problems}
        if status is not None and status.last_pass is not None:
            body["last_pass"] = status.last_pass.at.astimezone(UTC).isoformat()
            body["last_pass_duration_seconds"] = status.last_pass.duration
        if state.published is not None:
            body["feeds"] = len(state.published.feeds)
            body["feeds_built_at"] = state.published.built_at.isoformat()
        return web.json_response(body, status=503 if problems else 200,
                                 dumps=lambda o: json.dumps(o, ensure_ascii=False),
                                 headers=_NO_STORE)

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text=metrics_text(state), headers={
            **_NO_STORE, hdrs.CONTENT_TYPE: "text/plain; version=0.0.4; charset=utf-8"})

    async def index(request: web.Request) -> web.Response:
        html = page.render(state.status, state.published)
        return web.Response(text=html, content_type="text/html", charset="utf-8", headers={
            hdrs.CACHE_CONTROL: "no-store",
            # the page lists every agency's secret feed link: never leak it in a Referer
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
        })

    app = web.Application()
    app.router.add_get(CALENDAR_PATH, calendar)
    app.router.add_get("/feeds/{token}.ics", agency_feed)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/", index)
    return app


async def start_site(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve ``app`` on host:port (port 0: a free one; see :func:`bound_port`). Access log
    off: a feed request is logged only through the counters in /metrics."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_address=True).start()
    except BaseException:
        await runner.cleanup()  # e.g. the port is taken: leave nothing half-started
        raise
    log.info("web.listening %s", " ".join(_address(a) for a in runner.addresses))
    return runner


def _address(address: Any) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def bound_port(runner: web.AppRunner) -> int:
    """The TCP port the runner's (first) site listens on."""
    return int(runner.addresses[0][1])
