"""The published feeds: occurrences in the horizon -> iCalendar bytes, with SEQUENCE and
DTSTAMP taken from what the store remembers of each item (its feed_items table).

``reminderd ics`` and the daemon build through this one place, so they publish the same
bytes; two builds of the same plans on the same day are byte-identical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from reminderd.config import Settings
from reminderd.core.occurrence import Occurrence
from reminderd.feeds.events import FeedOptions, Revision, revise
from reminderd.feeds.ics import FeedBuilder, size_warning
from reminderd.store.base import DeliveryStore
from reminderd.workspace import Workspace, with_done


def feed_options(settings: Settings) -> FeedOptions:
    """The feed builder's options from the settings (their defaults are the schema's)."""
    feeds = settings.feeds
    return FeedOptions(
        name=feeds.name,
        uid_domain=feeds.uid_domain,
        refresh=timedelta(hours=feeds.refresh_hours),
        show_spans=feeds.show_spans,
        span_days=feeds.span_days,
        include_contacts=feeds.include_contacts,
        timezone=settings.timezone,
    )


@dataclass
class FeedSet:
    """Every feed of one build: the whole calendar and each agency's, as bytes."""

    whole: bytes
    agencies: dict[str, bytes]

    def sizes(self) -> dict[str | None, int]:
        return {None: len(self.whole), **{a: len(b) for a, b in self.agencies.items()}}


def size_warnings(sizes: dict[str | None, int]) -> list[str]:
    """Warnings for feeds over Google Calendar's ~1 MB, whole calendar first."""
    ordered = sorted(sizes.items(), key=lambda kv: (kv[0] is not None, kv[0] or ""))
    return [w for agency, n in ordered if (w := size_warning(n, agency))]


class Feeds:
    """Builds feeds for a workspace, caching serialised events between builds.

    ``previous`` (the running version's Feeds, on a reload) hands its builder on when the
    feed options and the agency directory are unchanged, so an edit of one task costs the
    events that changed, not a cold build of every feed.
    """

    builder: FeedBuilder

    def __init__(self, ws: Workspace, previous: Feeds | None = None) -> None:
        self.ws = ws
        options, agencies = feed_options(ws.settings), ws.agencies()
        if (previous is not None and previous.builder.options == options
                and previous.builder.agencies == agencies):
            self.builder = previous.builder
        else:
            self.builder = FeedBuilder(options, agencies)

    def occurrences(self, now: datetime, store: DeliveryStore | None = None
                    ) -> list[Occurrence]:
        """The items in the horizon; with a store, those closed from the mail marked done
        (the feed then says "[Đã hoàn thành]")."""
        start, end = self.ws.feed_range(self.ws.local_today(now))
        items = self.ws.occurrences(start, end)
        if store is None:
            return items
        return with_done(items, store.completions(), self.ws.settings.zone)

    def revisions(self, occurrences: list[Occurrence], now: datetime,
                  store: DeliveryStore | None) -> dict[str, Revision]:
        """SEQUENCE and last change per item; remembered in the store when one is given."""
        hashes = self.builder.item_hashes(occurrences)
        previous = store.load_feed_items() if store is not None else {}
        rows = revise(previous, hashes, now)
        if store is not None:
            changed = {k: v for k, v in rows.items() if previous.get(k) != v}
            if changed:
                store.save_feed_items(changed)
                rows = store.load_feed_items()  # another replica may have recorded it first
        return {key: Revision(seq, changed_at) for key, (_, seq, changed_at) in rows.items()}

    def _builder_for(self, now: datetime, store: DeliveryStore | None
                     ) -> Callable[[str | None], bytes]:
        """A function building one feed (None = the whole calendar) as of ``now``."""
        occurrences = self.occurrences(now, store)
        revisions = self.revisions(occurrences, now, store)
        today = self.ws.local_today(now)
        start, end = self.ws.feed_range(today)
        is_working = self.ws.calendar(start, end).is_working

        def one(agency: str | None) -> bytes:
            return self.builder.build(occurrences, revisions, today=today,
                                      is_working=is_working, agency=agency)

        return one

    def build(self, now: datetime, store: DeliveryStore | None) -> FeedSet:
        one = self._builder_for(now, store)
        whole = one(None)
        return FeedSet(whole=whole, agencies={a.id: one(a.id) for a in self.ws.plans.agencies})

    def sizes(self, now: datetime) -> dict[str | None, int]:
        """Each feed's size in bytes, building one at a time (``check`` on big plans)."""
        one = self._builder_for(now, None)
        out: dict[str | None, int] = {None: len(one(None))}
        for agency in self.ws.plans.agencies:
            out[agency.id] = len(one(agency.id))
        return out
