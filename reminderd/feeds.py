"""The published feeds: occurrences in the horizon -> iCalendar bytes, with SEQUENCE and
DTSTAMP taken from what the store remembers of each item (its feed_items table).

``reminderd ics`` and the daemon build through this one place, so they publish the same
bytes; two builds of the same plans on the same day are byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from reminderd.core.occurrence import Occurrence
from reminderd.ics import FeedBuilder, FeedOptions, Revision, revise, size_warning
from reminderd.store.base import DeliveryStore
from reminderd.workspace import Workspace


def feed_options(ws: Workspace) -> FeedOptions:
    feeds = ws.settings.feeds
    return FeedOptions(
        name=str(feeds["name"]),
        uid_domain=str(feeds["uid_domain"]),
        refresh=timedelta(hours=int(feeds["refresh_hours"])),
        show_spans=bool(feeds["show_spans"]),
        include_contacts=bool(feeds["include_contacts"]),
        timezone=ws.settings.timezone,
    )


@dataclass
class FeedSet:
    """Every feed of one build: the whole calendar and each agency's, as bytes."""

    whole: bytes
    agencies: dict[str, bytes]

    def warnings(self) -> list[str]:
        found = [size_warning(len(self.whole))]
        found += [size_warning(len(b), agency) for agency, b in sorted(self.agencies.items())]
        return [w for w in found if w]


class Feeds:
    """Builds feeds for a workspace, caching serialised events between builds."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.builder = FeedBuilder(feed_options(ws), ws.agencies())

    def occurrences(self, now: datetime) -> list[Occurrence]:
        start, end = self.ws.feed_range(self.ws.local_today(now))
        return self.ws.occurrences(start, end)

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
        return {key: Revision(seq, changed_at) for key, (_, seq, changed_at) in rows.items()}

    def build(self, now: datetime, store: DeliveryStore | None, *,
              agencies: bool = True) -> FeedSet:
        occurrences = self.occurrences(now)
        revisions = self.revisions(occurrences, now, store)
        today = self.ws.local_today(now)
        start, end = self.ws.feed_range(today)
        is_working = self.ws.calendar(start, end).is_working

        def one(agency: str | None) -> bytes:
            return self.builder.build(occurrences, revisions, today=today,
                                      is_working=is_working, agency=agency)

        per_agency = {a.id: one(a.id) for a in self.ws.plans.agencies} if agencies else {}
        return FeedSet(whole=one(None), agencies=per_agency)
