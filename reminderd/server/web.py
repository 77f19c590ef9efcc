"""HTTP: the feeds (prebuilt bytes, ETag/304, precomputed gzip), /healthz, /metrics and the
Vietnamese status page.

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
from pathlib import Path
from typing import Any, Final

import jinja2
from aiohttp import hdrs, web

from reminderd.server.done import DoneBackend, add_done_routes, add_undo_routes
from reminderd.server.publish import CALENDAR_PATH, FeedFile, Published
from reminderd.server.status import StatusInfo
from reminderd.store.base import Status

log = logging.getLogger("reminderd.web")

STATUS_TEMPLATE: Final = "status/index.html"

# --- state shared with the service -------------------------------------------------------

@dataclass
class WebState:
    """What the service updates (by assigning whole new values); the handlers only read it."""

    published: Published | None = None
    status: StatusInfo | None = None
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


def _environment(templates: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,  # every template here is HTML
        undefined=jinja2.ChainableUndefined,
        auto_reload=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )

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



class _StatusPage:
    """Renders / from the current StatusInfo; keeps the last good template on a bad edit
    and caches the page until the status changes."""

    def __init__(self, templates: Path, undo_token: str = "") -> None:
        self.undo_token = undo_token
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
                                    template_problems=problems, undo_token=self.undo_token)
        self.cache = (status, published, problems, html)
        return html


def make_app(state: WebState, *, templates: Path) -> web.Application:
    """The aiohttp application. ``templates`` is the templates folder (config ``templates``);
    the status page is ``status/index.html`` inside it."""
    page = _StatusPage(templates, state.undo_token)

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
    add_done_routes(app, state)  # public side (issue 12 mounts it on the public listener)
    add_undo_routes(app, state)  # admin side, with the status page
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
