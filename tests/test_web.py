"""The HTTP layer over real HTTP: feeds (ETag/304, Last-Modified, gzip, tokens), export,
/healthz, /metrics and the Vietnamese status page.

The app runs in its own event loop in a thread, on 127.0.0.1 port 0; the tests talk to it
with http.client, so every header is the one on the wire.
"""

from __future__ import annotations

import asyncio
import gzip
import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web as aioweb

from reminderd.feeds.build import Feeds, FeedSet
from reminderd.feeds.tokens import FeedTokens, feed_tokens
from reminderd.server import web
from reminderd.server.listen import Limits
from reminderd.server.publish import Published, TokenIndex, export, publish
from reminderd.server.status import LastPass, status_info
from reminderd.server.statuspage import check_status_template, load_status_template
from reminderd.store import Planned, open_store
from reminderd.workspace import Workspace, load_workspace

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
NOW = datetime(2026, 6, 1, 1, 30, tzinfo=UTC)
ICS = "text/calendar; charset=utf-8"


# --- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The bundled plans and templates, with var/ (the token secret) in a temp folder."""
    folder = tmp_path_factory.mktemp("ws")
    config = folder / "reminderd.yaml"
    config.write_text(
        f"plans: {ROOT / 'plans'}\n"
        f"templates: {TEMPLATES}\n"
        f"var_dir: {folder / 'var'}\n"
        f"store: sqlite:///{folder / 'var' / 'reminderd.db'}\n"
        "http:\n  public_url: https://lich.example.gov.vn\n",
        encoding="utf-8")
    return load_workspace(config)


@pytest.fixture(scope="module")
def tokens(ws: Workspace) -> FeedTokens:
    return feed_tokens(ws)


@pytest.fixture(scope="module")
def feedset(ws: Workspace) -> FeedSet:
    return Feeds(ws).build(NOW, None)


@pytest.fixture(scope="module")
def published(feedset: FeedSet, tokens: FeedTokens) -> Published:
    return publish(feedset, tokens, None, NOW)


class Server:
    """An app on 127.0.0.1:0 in a thread of its own; ``get`` speaks HTTP/1.1 to it. The
    admin app by default; ``public=True`` for the public listener's."""

    def __init__(self, state: web.WebState, templates: Path = TEMPLATES, *,
                 public: bool = False, limits: Limits | None = None) -> None:
        self.state = state
        if state.status_template is None:
            state.status_template = load_status_template(templates)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        app = web.make_public_app(state) if public else web.make_admin_app(state)
        self.runner: aioweb.AppRunner = asyncio.run_coroutine_threadsafe(
            web.start_site(app, "127.0.0.1", 0, limits=limits), self.loop).result(10)
        self.port = web.bound_port(self.runner)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def get(self, path: str, headers: Mapping[str, str] | None = None, *,
            method: str = "GET") -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            # no Accept-Encoding unless the test sends one (http.client adds "identity")
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value.encode("utf-8"))
            conn.endheaders()
            resp = conn.getresponse()
            body = resp.read()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
        finally:
            conn.close()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture()
def state(published: Published, ws: Workspace, tokens: FeedTokens) -> web.WebState:
    status = status_info(ws, NOW, None, [], None, tokens=tokens)
    return web.WebState(published=published, status=replace(status, store_ok=True))


@pytest.fixture()
def server(state: web.WebState) -> Iterator[Server]:
    srv = Server(state)
    yield srv
    srv.close()


def agency_path(tokens: FeedTokens, agency: str) -> str:
    return f"/feeds/{tokens.token(agency)}.ics"


BUSY = "dl-songoaivu"  # the agency with the largest feed in the bundled plans


# --- feeds --------------------------------------------------------------------------------

def test_whole_feed_is_the_feedset_bytes(server: Server, feedset: FeedSet) -> None:
    r = server.get("/calendar.ics")
    assert r.status == 200
    assert r.headers["content-type"] == ICS
    assert r.body == feedset.whole
    assert r.headers["content-length"] == str(len(feedset.whole))
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["content-disposition"] == 'inline; filename="calendar.ics"'
    assert re.fullmatch(r'"[0-9a-f]{32}"', r.headers["etag"])
    assert r.headers["last-modified"] == "Mon, 01 Jun 2026 01:30:00 GMT"
    assert "content-encoding" not in r.headers
    assert r.headers["vary"] == "Accept-Encoding"


def test_agency_feed_by_token(server: Server, feedset: FeedSet, tokens: FeedTokens) -> None:
    r = server.get(agency_path(tokens, BUSY))
    assert r.status == 200
    assert r.headers["content-type"] == ICS
    assert r.body == feedset.agencies[BUSY]
    assert r.headers["cache-control"] == "private, max-age=300"
    assert r.headers["content-disposition"] == f'inline; filename="lich-{BUSY}.ics"'
    for agency in feedset.agencies:  # every agency's own link serves its own feed
        assert server.get(agency_path(tokens, agency)).body == feedset.agencies[agency]


@pytest.mark.parametrize("path", [
    "/feeds/" + "a" * 32 + ".ics",  # well-formed, unknown
    "/feeds/x.ics",
    "/feeds/%C4%91%E1%BB%8Bnh-v%E1%BB%8B.ics",  # non-ASCII text ("định-vị")
    "/feeds/%FF%FE.ics",  # not even UTF-8
    "/feeds/.ics",
    "/feeds/abc",
])
def test_wrong_tokens_are_404(server: Server, tokens: FeedTokens, path: str) -> None:
    r = server.get(path)
    assert r.status == 404
    assert b"text/calendar" not in r.headers.get("content-type", "").encode()


def test_token_one_character_off_is_404(server: Server, tokens: FeedTokens) -> None:
    token = tokens.token(BUSY)
    wrong = token[:-1] + ("a" if token[-1] != "a" else "b")
    assert server.get(f"/feeds/{wrong}.ics").status == 404
    assert server.get(f"/feeds/{token.upper()}.ics").status == 404


def test_token_index_agrees_with_feed_tokens(ws: Workspace, tokens: FeedTokens) -> None:
    index = TokenIndex(tokens, ws.agencies())
    candidates = [tokens.token(a) for a in ws.agencies()]
    candidates += [t[:-1] + ("b" if t[-1] == "a" else "a") for t in candidates]  # one off
    candidates += [t.upper() for t in candidates] + [t + "a" for t in candidates]
    candidates += ["", "định-vị", "\udcff\udcfe", "a" * 32, "\x00" * 32]
    for token in candidates:
        assert index.agency_for(token) == tokens.agency_for(token), token
    assert index.agency_for(tokens.token(BUSY)) == BUSY


def test_etag_revalidation(server: Server, tokens: FeedTokens) -> None:
    for path in ("/calendar.ics", agency_path(tokens, BUSY)):
        etag = server.get(path).headers["etag"]
        r = server.get(path, {"If-None-Match": etag})
        assert r.status == 304
        assert r.body == b""
        assert r.headers["etag"] == etag
        assert "cache-control" in r.headers and r.headers["vary"] == "Accept-Encoding"
        # lists, weak tags (weak comparison for GET) and "*"
        assert server.get(path, {"If-None-Match": f'"nope", {etag}'}).status == 304
        assert server.get(path, {"If-None-Match": f"W/{etag}"}).status == 304
        assert server.get(path, {"If-None-Match": "*"}).status == 304
        # a stale or malformed tag gets the full feed
        stale = server.get(path, {"If-None-Match": '"0123456789abcdef0123456789abcdef"'})
        assert stale.status == 200 and stale.headers["etag"] == etag
        assert server.get(path, {"If-None-Match": "garbage"}).status == 200


def test_if_modified_since(server: Server) -> None:
    last = server.get("/calendar.ics").headers["last-modified"]
    assert server.get("/calendar.ics", {"If-Modified-Since": last}).status == 304
    later = format_datetime(NOW + timedelta(days=1), usegmt=True)
    assert server.get("/calendar.ics", {"If-Modified-Since": later}).status == 304
    earlier = format_datetime(NOW - timedelta(seconds=1), usegmt=True)
    assert server.get("/calendar.ics", {"If-Modified-Since": earlier}).status == 200
    assert server.get("/calendar.ics", {"If-Modified-Since": "yesterday"}).status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3)
    r = server.get("/calendar.ics", {"If-Modified-Since": last, "If-None-Match": '"other"'})
    assert r.status == 200


def test_gzip_only_when_asked(server: Server, feedset: FeedSet, tokens: FeedTokens) -> None:
    plain_etag = server.get("/calendar.ics").headers["etag"]
    for value in ("gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*", "GZIP"):
        r = server.get("/calendar.ics", {"Accept-Encoding": value})
        assert r.status == 200, value
        assert r.headers["content-encoding"] == "gzip", value
        assert gzip.decompress(r.body) == feedset.whole
        assert r.headers["etag"] == plain_etag[:-1] + '-gz"'
        assert r.headers["vary"] == "Accept-Encoding"
        assert r.headers["content-type"] == ICS
    for value in ("identity", "gzip;q=0", "deflate, br", "*;q=0", "gzip;q=0, *", ""):
        r = server.get("/calendar.ics", {"Accept-Encoding": value})
        assert "content-encoding" not in r.headers, value
        assert r.body == feedset.whole, value
        assert r.headers["etag"] == plain_etag
    r = server.get(agency_path(tokens, BUSY), {"Accept-Encoding": "gzip"})
    assert gzip.decompress(r.body) == feedset.agencies[BUSY]
    gz_etag = r.headers["etag"]
    again = server.get(agency_path(tokens, BUSY),
                       {"Accept-Encoding": "gzip", "If-None-Match": gz_etag})
    assert again.status == 304 and again.headers["etag"] == gz_etag


def test_head(server: Server, feedset: FeedSet, tokens: FeedTokens) -> None:
    r = server.get("/calendar.ics", method="HEAD")
    assert r.status == 200 and r.body == b""
    assert r.headers["content-length"] == str(len(feedset.whole))
    assert r.headers["content-type"] == ICS
    etag = r.headers["etag"]
    assert server.get("/calendar.ics", {"If-None-Match": etag}, method="HEAD").status == 304
    assert server.get("/feeds/nope.ics", method="HEAD").status == 404
    assert server.get(agency_path(tokens, BUSY), method="HEAD").status == 200


def test_not_ready_before_the_first_build() -> None:
    srv = Server(web.WebState())
    try:
        assert srv.get("/calendar.ics").status == 503
        h = srv.get("/healthz")
        assert h.status == 503 and h.json()["status"] != "ok"
        assert srv.get("/").status == 200  # "starting" page
    finally:
        srv.close()


# --- publish and export -------------------------------------------------------------------

def test_publish_reuses_unchanged_feeds(feedset: FeedSet, tokens: FeedTokens,
                                        published: Published) -> None:
    later = NOW + timedelta(hours=3)
    same = publish(feedset, tokens, published, later)
    assert same is published  # nothing changed: the very same snapshot

    changed_body = feedset.whole.replace(b"END:VCALENDAR", b"X-TEST:1\r\nEND:VCALENDAR")
    changed = FeedSet(whole=changed_body, agencies=dict(feedset.agencies))
    new = publish(changed, tokens, published, later)
    assert new is not published
    assert new.calendar.body == changed_body
    assert new.calendar.etag != published.calendar.etag
    assert new.calendar.last_modified == later.replace(microsecond=0)
    assert new.built_at == later.replace(microsecond=0)
    assert gzip.decompress(new.calendar.gzip) == changed_body
    for agency, feed in new.agencies.items():  # unchanged: the same objects, old dates
        old = published.agencies[agency]
        assert feed is old and feed.gzip is old.gzip
        assert feed.last_modified == NOW.replace(microsecond=0)
    assert set(new.feeds) == set(published.feeds)


def test_publish_paths_follow_token_rotation(ws: Workspace, feedset: FeedSet,
                                             published: Published) -> None:
    rotated = FeedTokens(b"secret", ws.agencies(), {BUSY: 2})
    plain = FeedTokens(b"secret", ws.agencies())
    first = publish(feedset, plain, published, NOW)
    second = publish(feedset, rotated, first, NOW + timedelta(days=1))
    assert agency_path(plain, BUSY) in first.feeds
    assert agency_path(plain, BUSY) not in second.feeds
    assert second.feeds[agency_path(rotated, BUSY)] is first.agencies[BUSY]  # bytes reused


def test_export_is_atomic_and_removes_stale_files(tmp_path: Path, ws: Workspace,
                                                   feedset: FeedSet,
                                                   published: Published) -> None:
    out = tmp_path / "export"
    export(published, out)
    for url_path, feed in published.feeds.items():
        target = out / url_path.lstrip("/")
        assert target.read_bytes() == feed.body
        assert Path(f"{target}.gz").read_bytes() == feed.gzip
        assert gzip.decompress(Path(f"{target}.gz").read_bytes()) == feed.body
        assert int(target.stat().st_mtime) == int(feed.last_modified.timestamp())
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    # what the public listener serves, nothing more: no whole calendar.ics
    assert not (out / "calendar.ics").exists()
    assert (out / "feeds").stat().st_mode & 0o777 == 0o755  # nginx reads it
    unrelated = out / "feeds" / "README.txt"
    unrelated.write_text("kept\n")

    # unchanged files are not rewritten (same inode)
    busy = out / agency_path(published.tokens, BUSY).lstrip("/")
    inode = busy.stat().st_ino
    assert busy.stat().st_mode & 0o777 == 0o644
    export(published, out)
    assert busy.stat().st_ino == inode

    # a rotated token: the old link's files go, the new ones appear, written via rename;
    # the whole calendar appears under its own token with public_calendar
    rotated = FeedTokens(b"other-secret", ws.agencies())
    bigger = feedset.agencies[BUSY] + b"\r\n"
    changed = FeedSet(whole=feedset.whole, agencies={**feedset.agencies, BUSY: bigger})
    new = publish(changed, rotated, published, NOW + timedelta(hours=1), public_calendar=True)
    export(new, out)
    moved = out / agency_path(rotated, BUSY).lstrip("/")
    assert moved.read_bytes() == bigger and not busy.exists()
    assert (out / "feeds" / f"{rotated.all_token}.ics").read_bytes() == feedset.whole
    names = {p.name for p in (out / "feeds").iterdir()}
    expected = {f"{rotated.token(a)}.ics" for a in feedset.agencies}
    expected.add(f"{rotated.all_token}.ics")
    expected |= {f"{n}.gz" for n in expected}
    assert names == expected | {"README.txt"}


# --- health, metrics, status page ---------------------------------------------------------

def test_healthz_ok(server: Server) -> None:
    r = server.get("/healthz")
    assert r.status == 200
    body = r.json()
    assert body["status"] == "ok" and body["problems"] == []
    assert body["feeds"] == len(server.state.published.feeds)  # type: ignore[union-attr]
    assert r.headers["cache-control"] == "no-store"


def test_healthz_503_with_reload_errors_and_store_reason(server: Server, ws: Workspace,
                                                        tokens: FeedTokens) -> None:
    lines = ["/etc/reminderd/plans.yaml:41:7: cannot read time phrase 'trước ngày 31/2/2026'",
             "/etc/reminderd/reminderd.yaml:3:10: write true or false"]
    store = open_store("postgresql://nobody@127.0.0.1:1/none")  # nothing listens on port 1
    try:
        server.state.status = status_info(ws, NOW, store, lines, None, tokens=tokens)
    finally:
        store.close()
    r = server.get("/healthz")
    assert r.status == 503
    body = r.json()
    assert body["status"] == "unhealthy"
    assert body["problems"][:2] == lines
    assert body["problems"][2].startswith("store unreachable: StoreUnavailableError")
    # feeds keep being served from the last good build
    assert server.get("/calendar.ics").status == 200


_METRIC = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})?'
                     r" -?[0-9.e+-]+$")


def parse_metrics(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ ", line), line
            continue
        assert _METRIC.match(line), line
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
    return values


def test_metrics(server: Server, tokens: FeedTokens, feedset: FeedSet) -> None:
    server.get("/calendar.ics")
    etag = server.get("/calendar.ics").headers["etag"]
    server.get("/calendar.ics", {"If-None-Match": etag})
    server.get(agency_path(tokens, BUSY))
    server.get("/feeds/nope.ics")
    server.get("/feeds/nope.ics")
    server.state.reload_failures = 3
    server.state.status = replace(server.state.status,  # type: ignore[type-var]
                                  counts={"sent": 12, "failed": 1},
                                  last_pass=LastPass(NOW, 0.25, sent=12))
    r = server.get("/metrics")
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    m = parse_metrics(r.body.decode())
    assert m['reminderd_feed_requests_total{feed="calendar",code="200"}'] == 2
    assert m['reminderd_feed_requests_total{feed="calendar",code="304"}'] == 1
    assert m['reminderd_feed_requests_total{feed="agency",code="200"}'] == 1
    assert m['reminderd_feed_requests_total{feed="agency",code="404"}'] == 2
    assert m["reminderd_reload_failures_total"] == 3
    assert m['reminderd_reminders{status="sent"}'] == 12
    assert m['reminderd_reminders{status="pending"}'] == 0
    assert m["reminderd_last_pass_timestamp_seconds"] == NOW.timestamp()
    assert m["reminderd_last_pass_duration_seconds"] == 0.25
    assert m['reminderd_feed_bytes{feed="calendar",encoding="identity"}'] == len(feedset.whole)
    assert m[f'reminderd_feed_bytes{{feed="agency/{BUSY}",encoding="identity"}}'] == len(
        feedset.agencies[BUSY])


def test_status_page_in_vietnamese(server: Server, ws: Workspace, tokens: FeedTokens) -> None:
    r = server.get("/")
    assert r.status == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["referrer-policy"] == "no-referrer"
    html = r.body.decode("utf-8")
    assert '<html lang="vi">' in html
    assert "Lịch 60 ngày tới theo cơ quan" in html
    assert "Đường dẫn đăng ký lịch" in html
    assert "Lỗi cấu hình" not in html
    for agency in ws.plans.agencies:
        url = f"https://lich.example.gov.vn/feeds/{tokens.token(agency.id)}.ics"
        assert f'href="{url}"' in html
        assert f'href="{url.replace("https://", "webcal://")}"' in html
    # the whole calendar has no subscription link unless feeds.public_calendar
    assert "/calendar.ics" not in html
    # the agenda: the bundled plans have the reply to MOFA due 11/06/2026, 10 days ahead
    assert "Thứ Năm, 11/06/2026" in html and "còn 10 ngày" in html and "Chủ trì" in html
    assert "<script" not in html


def test_status_page_shows_config_error_escaped(server: Server) -> None:
    line = "/srv/plans.yaml:12:5: unknown agency '<b>sở-x</b>'; write one of: sngv"
    server.state.status = replace(server.state.status,  # type: ignore[type-var]
                                  problems=(line,))
    html = server.get("/").body.decode()
    assert "Lỗi cấu hình" in html
    assert ("Lỗi ở tệp /srv/plans.yaml, dòng 12, cột 5:</span> unknown agency "
            "&#39;&lt;b&gt;sở-x&lt;/b&gt;&#39;") in html
    assert "<b>sở-x</b>" not in html
    assert html.index("Lỗi cấu hình") < html.index("Tổng quan")  # at the top


def test_status_with_a_real_store(tmp_path: Path, ws: Workspace, tokens: FeedTokens) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    store.migrate()
    try:
        occ = ws.occurrences(NOW.date(), NOW.date() + timedelta(days=30))[0]
        due = NOW - timedelta(hours=1)
        planned = [Planned(f"{occ.key}|{occ.date}|lead-7wd|{a}", a, occ.key, occ.date, due,
                           "deadline") for a in (BUSY, "dl-vp-ubnd")]
        store.materialize(planned, NOW - timedelta(days=1))
        claim = store.claim_due(NOW, "test", timedelta(minutes=5))
        store.mark_sent(claim, [planned[0].key], NOW, "<m@x>", "a@b")
        store.mark_failed(claim, [planned[1].key], NOW, "550 5.1.1 mailbox unavailable")
        info = status_info(ws, NOW, store, [], LastPass(NOW, 1.5, sent=1, failed=1),
                           tokens=tokens)
    finally:
        store.close()
    assert info.store_ok
    assert info.counts["sent"] == 1 and info.counts["failed"] == 1
    assert [d.status for d in info.failures] == ["failed"]
    assert info.failures[0].error.startswith("550")
    assert info.failures[0].title == occ.title
    assert {d.status for d in info.recent} == {"sent", "failed"}
    srv = Server(web.WebState(status=info))
    try:
        html = srv.get("/").body.decode()
    finally:
        srv.close()
    assert "Gửi thất bại" in html and "550 5.1.1 mailbox unavailable" in html
    assert "Đã gửi" in html and occ.title in html


def test_overdue_items(ws: Workspace, tokens: FeedTokens) -> None:
    occ = ws.occurrences(NOW.date(), NOW.date() + timedelta(days=30))[0]
    after = datetime.combine(occ.date + timedelta(days=3), datetime.min.time(), UTC)
    info = status_info(ws, after, None, [], None, tokens=tokens)
    titles = [o.title for o in info.overdue]
    assert occ.title in titles
    item = info.overdue[titles.index(occ.title)]
    assert item.days_text == "đã quá hạn 3 ngày"


def test_bad_status_template_is_rejected_with_its_line(tmp_path: Path,
                                                      state: web.WebState) -> None:
    folder = tmp_path / "templates"
    (folder / "status").mkdir(parents=True)
    good = (TEMPLATES / "status" / "index.html").read_text(encoding="utf-8")
    page = folder / "status" / "index.html"
    page.write_text(good, encoding="utf-8")
    assert check_status_template(folder) == []
    page.write_text("ok\n{% for x in %}\n", encoding="utf-8")
    problems = check_status_template(folder)
    assert len(problems) == 1 and re.match(rf"{re.escape(str(page))}:2:1: ", problems[0])
    # hostile: the sandbox refuses, at check time, with the line
    for hostile in ("{{ ''.__class__.__mro__[1].__subclasses__() }}",
                    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
                    "{% if status %}{{ status.local.__globals__['os'].environ }}{% endif %}",
                    "{% if published %}{{ published.tokens._by_agency }}{% endif %}"):
        page.write_text("<p>\n" + hostile + "\n", encoding="utf-8")
        problems = check_status_template(folder)
        assert len(problems) == 1, (hostile, problems)
        assert f"{page}:2:1: SecurityError" in problems[0], (hostile, problems)


def test_accepts_gzip() -> None:
    assert web.accepts_gzip("gzip")
    assert web.accepts_gzip("deflate, gzip;q=0.5")
    assert web.accepts_gzip("x-gzip")
    assert not web.accepts_gzip(None)
    assert not web.accepts_gzip("gzip;q=0, *;q=1")
    assert not web.accepts_gzip("gzip;q=0.000")
    assert not web.accepts_gzip("br")


def test_start_site_on_a_taken_port_fails_cleanly(server: Server) -> None:
    async def attempt() -> None:
        app = web.make_admin_app(web.WebState())
        await web.start_site(app, "127.0.0.1", server.port)

    with pytest.raises(OSError):
        asyncio.run(attempt())
    assert server.get("/calendar.ics").status == 200  # the first server is unaffected


def _closed_after(port: int, send: bytes) -> float:
    """Seconds until the server closes a connection that sent ``send`` (then nothing)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        started = time.monotonic()
        s.sendall(send)
        while s.recv(65536):
            pass
        return time.monotonic() - started


def test_header_and_idle_timeouts(state: web.WebState, tokens: FeedTokens) -> None:
    srv = Server(state, public=True, limits=Limits(header_timeout=0.5, keepalive_timeout=1.5))
    try:
        # headers never finished: closed after the header timeout
        assert 0.4 < _closed_after(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n") < 1.4
        assert 0.4 < _closed_after(srv.port, b"") < 1.4  # connected, said nothing
        # a whole request, then idle: answered, then closed after the idle timeout
        path = agency_path(tokens, BUSY)
        waited = _closed_after(srv.port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert 1.3 < waited < 3.0
        # and a feed over the public app, for comparison, still answers
        assert srv.get(path).status == 200
    finally:
        srv.close()


def test_public_app_serves_only_feeds(state: web.WebState, tokens: FeedTokens,
                                      published: Published, ws: Workspace) -> None:
    srv = Server(state, public=True)
    try:
        for path in ("/", "/metrics", "/calendar.ics", f"/feeds/{tokens.all_token}.ics"):
            assert srv.get(path).status == 404, path
        health = srv.get("/healthz")
        assert health.status == 200 and health.json() == {"status": "ok"}
        assert srv.get(agency_path(tokens, BUSY)).status == 200
        # with public_calendar, the whole calendar under its own token (and still not
        # under /calendar.ics)
        srv.state.published = replace(published, public_calendar=True)
        r = srv.get(f"/feeds/{tokens.all_token}.ics")
        assert r.status == 200 and r.body == published.calendar.body
        assert srv.get("/calendar.ics").status == 404
    finally:
        srv.close()
