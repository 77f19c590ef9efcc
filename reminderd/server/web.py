"""HTTP, two listeners: the public one (agency feeds by token, a bare /healthz) and the admin
one (the Vietnamese status page, /metrics, the detailed /healthz, the whole calendar).

The web layer schedules nothing. The service builds a
:class:`~reminderd.server.publish.Published` snapshot with
:func:`~reminderd.server.publish.publish` whenever the feeds are rebuilt, and a
:class:`~reminderd.server.status.StatusInfo` with
:func:`~reminderd.server.status.status_info`, and assigns them to :class:`WebState`; the
handlers only read that state. Everything a feed response needs (body, gzip body, ETags,
header dicts) is computed once per change of the feed's bytes (in
:mod:`reminderd.server.publish`), so a feed request costs a few header checks.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

from aiohttp import hdrs, web
from jinja2 import Template

from reminderd.server.auth import AdminAuth
from reminderd.server.done import DoneBackend, add_done_routes, add_undo_routes
from reminderd.server.listen import Gate, GuardedSite, Limits, QuietServerLog
from reminderd.server.publish import CALENDAR_PATH, FeedFile, Published
from reminderd.server.status import StatusInfo
from reminderd.server.statuspage import StatusPage
from reminderd.store.base import Status

log = logging.getLogger("reminderd.web")

# --- state shared with the service -------------------------------------------------------

@dataclass
class WebState:
    """What the service updates (by assigning whole new values); the handlers only read it."""

    published: Published | None = None
    status: StatusInfo | None = None
    status_template: Template | None = None  # the last good one (checked by the service)
    feed_requests: dict[tuple[str, int], int] = field(default_factory=lambda: {
        (feed, code): 0 for feed in ("calendar", "agency") for code in (200, 304, 404)})
    reload_failures: int = 0  # the service adds one per rejected reload
    # --- the done link (issue 14) ---
    done: DoneBackend | None = None  # set by the service once it runs
    undo_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))  # admin form

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


def _healthz_body(state: WebState) -> tuple[bytes, int]:
    status, published = state.status, state.published
    problems = status.healthy_problems() if status else ["starting: no status yet"]
    if published is None:
        problems.append("starting: feeds not built yet")
    body: dict[str, Any] = {"status": "ok" if not problems else "unhealthy",
                            "problems": problems}
    if status is not None and status.last_pass is not None:
        body["last_pass"] = status.last_pass.at.astimezone(UTC).isoformat()
        body["last_pass_duration_seconds"] = status.last_pass.duration
    if published is not None:
        body["feeds"] = len(published.feeds)
        body["feeds_built_at"] = published.built_at.isoformat()
    return json.dumps(body, ensure_ascii=False).encode("utf-8"), 503 if problems else 200


_JSON = {**_NO_STORE, hdrs.CONTENT_TYPE: "application/json; charset=utf-8"}


def make_public_app(state: WebState) -> web.Application:
    """The public listener (``http.listen``): the agency feeds by token, the whole calendar
    under its own token only with ``feeds.public_calendar``, and a bare ``/healthz`` (status
    only, for load balancers). Nothing else: no agency list, no addresses, no paths."""

    async def feed(request: web.Request) -> web.Response:
        published = state.published
        if published is None:
            return _not_ready()
        found = published.public_feed(request.match_info["token"])
        kind = "calendar" if found is published.calendar else "agency"
        if found is None:
            state.count("agency", 404)
            return _not_found()
        response = feed_response(request, found)
        state.count(kind, response.status)
        return response

    async def healthz(request: web.Request) -> web.Response:
        ready = state.published is not None  # the last good feeds serve through bad edits
        return web.Response(body=b'{"status": "ok"}' if ready else b'{"status": "starting"}',
                            status=200 if ready else 503, headers=_JSON)

    app = web.Application(client_max_size=64 * 1024)  # a done form: a note at most
    app.router.add_get("/feeds/{token}.ics", feed)
    app.router.add_get("/healthz", healthz)
    add_done_routes(app, state)  # the "đã hoàn thành" link mailed to agencies (issue 14)
    return app


def make_admin_app(state: WebState, *, auth: AdminAuth | None = None) -> web.Application:
    """The admin listener (``http.admin_listen``): the status page, /metrics, the detailed
    /healthz and the whole calendar; HTTP Basic auth when ``auth`` is given."""
    page = StatusPage(state.undo_token)
    unset = object()
    healthz_cache: list[Any] = [unset, unset, b"", 503]  # status, published, body, code

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
        found = published.agencies.get(agency) if agency is not None else None
        if found is None:
            state.count("agency", 404)
            return _not_found()
        response = feed_response(request, found)
        state.count("agency", response.status)
        return response

    async def healthz(request: web.Request) -> web.Response:
        # built once per status and feed version: the problem list can be long
        if healthz_cache[0] is not state.status or healthz_cache[1] is not state.published:
            body, code = _healthz_body(state)
            healthz_cache[:] = [state.status, state.published, body, code]
        return web.Response(body=healthz_cache[2], status=healthz_cache[3], headers=_JSON)

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text=metrics_text(state), headers={
            **_NO_STORE, hdrs.CONTENT_TYPE: "text/plain; version=0.0.4; charset=utf-8"})

    async def index(request: web.Request) -> web.Response:
        template = state.status_template
        if template is None:
            return web.Response(status=503, text="đang khởi động\n", headers=_NO_STORE)
        try:
            html = page.render(template, state.status, state.published)
        except Exception:
            return web.Response(status=500, headers=_NO_STORE, text=(
                "Trang tình trạng lỗi khi hiển thị; xem nhật ký (web.status_page_failed) và "
                "sửa templates/status/index.html.\n"))
        return web.Response(text=html, content_type="text/html", charset="utf-8", headers={
            hdrs.CACHE_CONTROL: "no-store",
            # the page lists every agency's secret feed link: never leak it in a Referer
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        })

    app = web.Application(middlewares=[auth.middleware] if auth is not None else [])
    app.router.add_get(CALENDAR_PATH, calendar)
    app.router.add_get("/feeds/{token}.ics", agency_feed)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/", index)
    add_undo_routes(app, state)  # the admin's undo of a done link, from the status page
    return app


async def start_site(app: web.Application, host: str, port: int, *,
                     limits: Limits | None = None, name: str = "public") -> web.AppRunner:
    """Serve ``app`` on host:port (port 0: a free one; see :func:`bound_port`) behind a
    :class:`~reminderd.server.listen.Gate` (header timeout, connection cap, idle timeout).
    Access log off: a feed request is logged only through the counters in /metrics;
    malformed requests are one rate-limited line."""
    limits = limits or Limits()
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0,
                           keepalive_timeout=limits.keepalive_timeout, logger=QuietServerLog())
    await runner.setup()
    try:
        await GuardedSite(runner, host, port, Gate(limits, name)).start()
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
