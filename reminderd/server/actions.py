"""The done link's backend (:class:`~reminderd.server.done.DoneBackend`) over the running
version and the store: verify the token, find the item, record or undo, then have the
service rebuild the feeds and the status page. Store calls run in a thread of their own
(:func:`in_thread`), never on the loop that serves the feeds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from reminderd.core.occurrence import Occurrence
from reminderd.core.reminders import TASK_KINDS
from reminderd.mail.donelink import BadDoneLink, DoneClaim
from reminderd.mail.setup import Mailer
from reminderd.server.done import DoneItem
from reminderd.server.offload import in_thread
from reminderd.store.base import Completion, DeliveryStore
from reminderd.wording import occurrence_window, vn_date, zone_label
from reminderd.workspace import Workspace

# how far around today the items a link may name are looked up (links expire a few weeks
# after the item's date; a moved deadline may be further away)
_BACK, _AHEAD = timedelta(days=400), timedelta(days=800)


class Actions:
    def __init__(self, current: Callable[[], tuple[Workspace, Mailer] | None],
                 store: Callable[[], DeliveryStore | None], now: Callable[[], datetime],
                 changed: Callable[[], Awaitable[None]]) -> None:
        self._current, self._store, self._now, self._changed = current, store, now, changed
        self._items: tuple[Workspace, date, dict[str, Occurrence]] | None = None

    @property
    def zone_label(self) -> str:
        loaded = self._current()
        return zone_label(loaded[0].settings.timezone) if loaded else "giờ Việt Nam"

    def _find(self, token: str) -> tuple[Workspace, DoneClaim, Occurrence]:
        loaded = self._current()
        if loaded is None or loaded[1].done_links is None:
            raise BadDoneLink("Hệ thống đang khởi động; xin thử lại sau ít giây.")
        ws, mailer = loaded
        today = ws.local_today(self._now())
        assert mailer.done_links is not None
        claim = mailer.done_links.verify(token, today)
        cached = self._items
        if cached is None or cached[0] is not ws or cached[1] != today:
            found = ws.occurrences(today - _BACK, today + _AHEAD)
            cached = self._items = (ws, today, {o.key: o for o in found
                                                if o.kind in TASK_KINDS})
        occ = cached[2].get(claim.key)
        if occ is None:
            raise BadDoneLink("Nhiệm vụ này không còn trong kế hoạch (đã được sửa hoặc bỏ).")
        return ws, claim, occ

    def _item(self, ws: Workspace, claim: DoneClaim, occ: Occurrence,
              done: Completion | None) -> DoneItem:
        names = {a.id: a.name for a in ws.plans.agencies}
        when = occurrence_window(occ)
        when = f"Thời gian thực hiện: {when}" if when else f"Hạn: {vn_date(occ.date)}"
        if done is None and occ.done is not None:  # done: in plans.yaml
            return DoneItem(occ.key, occ.title, occ.source_title, when,
                            names.get(claim.agency, claim.agency),
                            done_at=f"ngày {occ.done:%d/%m/%Y}", in_plans=True)
        if done is None:
            return DoneItem(occ.key, occ.title, occ.source_title, when,
                            names.get(claim.agency, claim.agency))
        local = done.done_at.astimezone(ws.settings.zone)
        return DoneItem(occ.key, occ.title, occ.source_title, when,
                        names.get(claim.agency, claim.agency),
                        done_at=f"{local:%H:%M} {local:%d/%m/%Y}",
                        done_by=names.get(done.agency, done.agency), note=done.note)

    def _need_store(self) -> DeliveryStore:
        store = self._store()
        if store is None:
            raise BadDoneLink("Hệ thống đang khởi động; xin thử lại sau ít giây.")
        return store

    async def look(self, token: str) -> DoneItem:
        ws, claim, occ = await in_thread(lambda: self._find(token), "done-find")
        store = self._need_store()
        found = await in_thread(lambda: store.completions([occ.key]), "done-look")
        return self._item(ws, claim, occ, found.get(occ.key))

    async def record(self, token: str, note: str) -> DoneItem:
        ws, claim, occ = await in_thread(lambda: self._find(token), "done-find")
        if occ.done is not None:  # done: in plans.yaml already
            return self._item(ws, claim, occ, None)
        store = self._need_store()
        now = self._now()
        done = await in_thread(
            lambda: store.record_done(occ.key, occ.date, claim.agency, now, note), "done-record")
        await self._changed()
        return self._item(ws, claim, occ, done)

    async def undo(self, key: str) -> bool:
        store = self._need_store()
        undone = await in_thread(lambda: store.undo_done(key), "done-undo")
        if undone:
            await self._changed()
        return undone
