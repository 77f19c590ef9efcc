"""The "đã hoàn thành" link: ``GET /done/{token}`` shows a short Vietnamese page with a
button, ``POST /done/{token}`` records the task as done (mail scanners follow GET links,
so a GET never records anything). And the admin's undo, ``POST /admin/undo-done``.

Two functions register the routes on an aiohttp application, so that the done page can be
mounted on the public listener (with the feeds) and the undo on the admin listener (with
the status page): :func:`add_done_routes` and :func:`add_undo_routes`. What they do is
behind :class:`DoneBackend` (implemented by :mod:`reminderd.server.actions`, over the
running version and the store); the pages are made here, escaped.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from html import escape
from typing import Protocol

from aiohttp import hdrs, web

from reminderd.mail.donelink import BadDoneLink

log = logging.getLogger("reminderd.done")

DONE_PATH = "/done/{token}"
UNDO_PATH = "/admin/undo-done"
MAX_NOTE = 2000  # characters of the optional note

_HEADERS = {
    hdrs.CACHE_CONTROL: "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
}


@dataclass(frozen=True)
class DoneItem:
    """What the page says about the item a link names."""

    key: str
    title: str
    plan: str  # the plan's title
    when: str  # "Hạn: Thứ Sáu, 12/06/2026" or the window
    agency: str  # the agency the link was mailed to (name)
    done_at: str = ""  # when it was recorded done ("HH:MM dd/mm/yyyy"), "" while open
    done_by: str = ""  # who recorded it (name)
    note: str = ""
    in_plans: bool = False  # done: in plans.yaml (no undo from the admin page)


class DoneBackend(Protocol):
    """What the done routes need; raises :class:`BadDoneLink` for a bad or expired token."""

    @property
    def zone_label(self) -> str: ...

    async def look(self, token: str) -> DoneItem: ...
    async def record(self, token: str, note: str) -> DoneItem: ...
    async def undo(self, key: str) -> bool: ...


class DoneState(Protocol):
    """The part of the web state the routes read (assigned by the service)."""

    done: DoneBackend | None
    undo_token: str


_STYLE = """body { font-family: "Noto Sans", "DejaVu Sans", "Segoe UI", Roboto, Arial,
 sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1d2733;
 line-height: 1.5; } h1 { font-size: 1.3rem; } .muted { color: #5f6b77; }
 .ok { color: #1b6e20; } .bad { color: #b71c1c; } textarea { width: 100%; font: inherit; }
 button { font: inherit; font-size: 1.05rem; padding: 0.4rem 1rem; background: #1b6e20;
 color: #fff; border: 0; border-radius: 4px; }"""


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="referrer" content="no-referrer">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><h1>{escape(title)}</h1>{body}</body></html>\n")
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8",
                        headers=_HEADERS)


def _describe(item: DoneItem) -> str:
    rows = [f"<p><strong>{escape(item.title)}</strong></p>"]
    if item.plan:
        rows.append(f'<p class="muted">{escape(item.plan)}</p>')
    rows.append(f"<p>{escape(item.when)}<br>Cơ quan: {escape(item.agency)}</p>")
    return "".join(rows)


def _recorded(item: DoneItem, zone: str) -> str:
    if item.in_plans:
        return f'<p class="ok">Nhiệm vụ đã được ghi nhận hoàn thành ({escape(item.done_at)}).</p>'
    note = f"<br>Ghi chú: {escape(item.note)}" if item.note else ""
    return (f'<p class="ok">Đã ghi nhận hoàn thành lúc {escape(item.done_at)} ({escape(zone)}),'
            f" do {escape(item.done_by)} báo.{note}</p>"
            "<p>Hệ thống đã dừng các thư nhắc và thư đôn đốc về nhiệm vụ này. Nếu ghi nhận "
            "nhầm, xin báo lại cho Sở Ngoại vụ.</p>")


def _bad(exc: BadDoneLink) -> web.Response:
    return _page("Không mở được đường dẫn", f'<p class="bad">{escape(exc.reason)}</p>'
                 "<p>Nếu Quý cơ quan đã hoàn thành nhiệm vụ, xin báo cho Sở Ngoại vụ bằng "
                 "thư hoặc điện thoại.</p>", status=410 if exc.expired else 404)


def add_done_routes(app: web.Application, state: DoneState) -> None:
    """``GET``/``POST`` ``/done/{token}`` on ``app`` (the public listener's, later)."""

    async def show(request: web.Request) -> web.Response:
        backend = state.done
        if backend is None:
            return _page("Hệ thống đang khởi động", "<p>Xin thử lại sau ít giây.</p>", 503)
        try:
            item = await backend.look(request.match_info["token"])
        except BadDoneLink as exc:
            return _bad(exc)
        if item.done_at:
            return _page("Nhiệm vụ đã hoàn thành", _describe(item)
                         + _recorded(item, backend.zone_label))
        form = ('<form method="post"><p><label for="note">Ghi chú (không bắt buộc, ví dụ số '
                'văn bản đã gửi):</label><br><textarea id="note" name="note" rows="3" '
                f'maxlength="{MAX_NOTE}"></textarea></p>'
                '<p><button type="submit">Xác nhận đã hoàn thành</button></p></form>'
                '<p class="muted">Bấm nút để xác nhận. Chỉ mở trang này thì chưa ghi nhận gì.</p>')
        return _page("Xác nhận hoàn thành nhiệm vụ", _describe(item) + form)

    async def record(request: web.Request) -> web.Response:
        backend = state.done
        if backend is None:
            return _page("Hệ thống đang khởi động", "<p>Xin thử lại sau ít giây.</p>", 503)
        form = await request.post()
        note = " ".join(str(form.get("note") or "").split())[:MAX_NOTE]
        try:
            item = await backend.record(request.match_info["token"], note)
        except BadDoneLink as exc:
            return _bad(exc)
        log.info("done.recorded key=%s by=%s", item.key, item.done_by)
        return _page("Đã ghi nhận hoàn thành", _describe(item)
                     + _recorded(item, backend.zone_label))

    app.router.add_get(DONE_PATH, show)
    app.router.add_post(DONE_PATH, record)


def add_undo_routes(app: web.Application, state: DoneState) -> None:
    """``POST /admin/undo-done`` (key, token of the status page's form) on the admin app."""

    async def undo(request: web.Request) -> web.Response:
        form = await request.post()
        given = str(form.get("token") or "").encode()
        if not hmac.compare_digest(given, state.undo_token.encode()):
            return web.Response(status=403, text="Phiên làm việc đã hết; tải lại trang tình "
                                "trạng rồi thử lại.\n", headers=_HEADERS)
        backend = state.done
        key = str(form.get("key") or "")
        if backend is None or not key:
            return web.Response(status=400, text="Thiếu nhiệm vụ cần hủy ghi nhận.\n",
                                headers=_HEADERS)
        undone = await backend.undo(key)
        log.info("done.undone key=%s found=%s", key, undone)
        raise web.HTTPSeeOther("/#hoan-thanh", headers={hdrs.CACHE_CONTROL: "no-store"})

    app.router.add_post(UNDO_PATH, undo)
