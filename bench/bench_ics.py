"""Feed building speed: reminderd.feeds.ics beside a minimal string serializer and naive icalendar.

Usage: .venv/bin/python bench/bench_ics.py [--sizes 1000,10000,100000] [--naive-max N]

For each size it prints, in the same run:
- floor:   a minimal hand-written serializer of the same events (str.replace escaping,
           octet folding that respects UTF-8, one f-string per event): the lower bound;
- cold:    FeedBuilder.build with an empty cache (a fresh builder);
- naive:   one icalendar.Event per occurrence, Calendar.to_ical() (what library users get);
- rebuild: the same builder after one occurrence moved by a day (same objects otherwise);
- fresh:   the same builder fed a freshly expanded, equal list (new objects);
- reload:  item_hashes (for revise) + build of such a list: the daemon's path after an edit;
- agency:  a per-agency feed from a built calendar (first call, then cached);
and the ratios. Targets: cold <= 3x floor at 100k; rebuild <= 10% of cold; agency < 50 ms
at 10k.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from icalendar import Calendar, Event

from reminderd.config import load_settings
from reminderd.core.model import Agency
from reminderd.core.occurrence import Occurrence, OccurrenceKind
from reminderd.feeds.build import feed_options
from reminderd.feeds.events import Revision, item_hash, revise
from reminderd.feeds.ics import FeedBuilder

KINDS = list(OccurrenceKind)
TODAY = date(2025, 6, 1)
AGENCIES = {
    f"a{i:02d}": Agency(f"a{i:02d}", f"Sở Văn hóa, Thể thao và Du lịch tỉnh số {i}",
                        (f"a{i:02d}@bacgiang.example",))
    for i in range(20)
}
IDS = sorted(AGENCIES)


def is_working(d: date) -> bool:
    return d.weekday() < 5


def synthetic(n: int) -> list[Occurrence]:
    base = date(2024, 6, 1)
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        day = base + timedelta(days=(i * 7) % 1000)
        window = kind in (OccurrenceKind.WINDOW, OccurrenceKind.ONGOING)
        out.append(Occurrence(
            key=f"task/kh-{i // 50}-2024/nv-{i}",
            kind=kind,
            date=day,
            title=f"Tổ chức các hoạt động kỷ niệm, giao lưu hữu nghị với đối tác số {i}; "
                  "báo cáo kết quả về Sở Ngoại vụ",
            start=day - timedelta(days=30) if window else None,
            end=day if window else None,
            lead=(IDS[i % 20],),
            support=(IDS[(i + 3) % 20], IDS[(i + 7) % 20]),
            source=f"kh-{i // 50}",
            reference=f"{i // 50}/KH-UBND ngày 22/02/2024",
            source_title=f"Kế hoạch công tác đối ngoại năm 2024 của tỉnh, đợt {i // 50}",
            text="Quý II/2024" if window else f"Trước ngày {day:%d/%m/%Y}",
            done=day if i % 11 == 0 else None,
            notes="Phối hợp chặt chẽ\nbáo cáo kết quả" if i % 5 == 0 else "",
        ))
    return out


# -- the floor: a minimal correct serializer, written by hand -------------------------------
def _floor_escape(s: str) -> str:
    return (s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _floor_fold(line: str) -> bytes:
    b = line.encode()
    if len(b) <= 75:
        return b
    out, i, width = [], 0, 75
    while len(b) - i > width:
        j = i + width
        while b[j] & 0xC0 == 0x80:
            j -= 1
        out.append(b[i:j])
        i, width = j, 74
    out.append(b[i:])
    return b"\r\n ".join(out)


def floor(occs: list[Occurrence]) -> bytes:
    names = {k: a.name for k, a in AGENCIES.items()}
    parts = [b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//floor//VI\r\n"]
    for o in sorted(occs, key=lambda o: (o.date, o.key)):
        d = o.date
        desc = (f"Nhiệm vụ: {o.title}\nKế hoạch: {o.source_title}\nVăn bản: {o.reference}\n"
                f"Thời gian theo văn bản: {o.text}\nHạn: {d:%d/%m/%Y}\n"
                f"Chủ trì: {', '.join(names[x] for x in o.lead)}\n"
                f"Phối hợp: {', '.join(names[x] for x in o.support)}")
        if o.notes:
            desc += f"\nGhi chú: {o.notes}"
        parts.append(b"\r\n".join((
            b"BEGIN:VEVENT",
            _floor_fold(f"UID:{o.key}@reminderd.local"),
            f"DTSTAMP:{d:%Y%m%d}T000000Z".encode(),
            f"DTSTART;VALUE=DATE:{d:%Y%m%d}".encode(),
            f"DTEND;VALUE=DATE:{d + timedelta(days=1):%Y%m%d}".encode(),
            _floor_fold(f"SUMMARY:Hạn: {_floor_escape(o.title)}"),
            _floor_fold(f"DESCRIPTION:{_floor_escape(desc)}"),
            f"CATEGORIES:{o.kind}".encode(),
            b"TRANSP:TRANSPARENT",
            b"END:VEVENT\r\n",
        )))
    parts.append(b"END:VCALENDAR\r\n")
    return b"".join(parts)


# -- naive icalendar -------------------------------------------------------------------------
def naive(occs: list[Occurrence]) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//bench//naive//VI")
    cal.add("version", "2.0")
    names = {k: a.name for k, a in AGENCIES.items()}
    for o in sorted(occs, key=lambda o: (o.date, o.key)):
        ev = Event()
        ev.add("uid", f"{o.key}@reminderd.local")
        ev.add("dtstamp", datetime(o.date.year, o.date.month, o.date.day, tzinfo=UTC))
        ev.add("dtstart", o.date)
        ev.add("dtend", o.date + timedelta(days=1))
        ev.add("summary", f"Hạn: {o.title}")
        ev.add("description", f"Nhiệm vụ: {o.title}\nKế hoạch: {o.source_title}\n"
               f"Chủ trì: {', '.join(names[x] for x in o.lead)}")
        ev.add("categories", [str(o.kind)])
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    out: bytes = cal.to_ical()
    return out


def feed_of(builder: FeedBuilder, occs: list[Occurrence], revisions: dict[str, Revision],
            agency: str | None = None) -> bytes:
    return builder.build(occs, revisions, today=TODAY, is_working=is_working, agency=agency)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def run(n: int, naive_max: int) -> None:
    occs = synthetic(n)
    repeat = 3 if n <= 10_000 else 2
    stamp0 = datetime(2025, 1, 1, tzinfo=UTC)
    table = revise({}, {o.key: item_hash(o) for o in occs}, stamp0)
    revisions = {k: Revision(seq, at) for k, (_h, seq, at) in table.items()}
    options = replace(feed_options(load_settings(None, {})), uid_domain="reminderd.local")

    t_floor, floor_bytes = timed(lambda: floor(occs), repeat)
    t_cold, feed = timed(lambda: feed_of(FeedBuilder(options, AGENCIES), occs, revisions),
                         repeat)
    assert isinstance(feed, bytes) and isinstance(floor_bytes, bytes)
    t_naive = None
    if n <= naive_max:
        t_naive, _ = timed(lambda: naive(occs), 1)

    builder = FeedBuilder(options, AGENCIES)
    feed_of(builder, occs, revisions)
    current, redone = occs, 0
    t_rebuild = t_fresh = t_reload = float("inf")
    for r in range(3):  # each time another occurrence moves by a day
        i = (n // 2 + 7919 * r) % n
        moved = list(current)
        moved[i] = dataclasses.replace(moved[i], date=moved[i].date + timedelta(days=1))
        table = revise(table, builder.item_hashes(moved), stamp0 + timedelta(days=r + 1))
        revisions = {k: Revision(seq, at) for k, (_h, seq, at) in table.items()}
        before = builder.serialized
        t, _ = timed(lambda: feed_of(builder, moved, revisions), 1)  # noqa: B023
        t_rebuild, redone, current = min(t_rebuild, t), builder.serialized - before, moved
    for _ in range(3):  # a reload: an equal list of new objects, as a fresh expansion gives
        fresh = [dataclasses.replace(o) for o in current]
        t, _ = timed(lambda: feed_of(builder, fresh, revisions), 1)  # noqa: B023
        t_fresh, current = min(t_fresh, t), fresh
    for _ in range(3):  # the daemon's reload: hashes for revise(), then the build
        fresh = [dataclasses.replace(o) for o in current]
        t, _ = timed(lambda: (builder.item_hashes(fresh),  # noqa: B023
                              feed_of(builder, fresh, revisions)), 1)  # noqa: B023
        t_reload, current = min(t_reload, t), fresh
    t_agency1, agency_feed = timed(lambda: feed_of(builder, current, revisions, "a03"), 1)
    t_agency2, _ = timed(lambda: feed_of(builder, current, revisions, "a03"), 3)
    assert isinstance(agency_feed, bytes)

    ms = 1000.0
    print(f"\n== {n:,} occurrences: feed {len(feed) / 1e6:.1f} MB"
          f" (floor's {len(floor_bytes) / 1e6:.1f} MB), agency a03 {len(agency_feed) / 1e6:.2f} MB")
    print(f"  floor (hand-written)      {t_floor * ms:9.1f} ms")
    print(f"  cold build (reminderd)    {t_cold * ms:9.1f} ms   {t_cold / t_floor:5.2f}x floor")
    if t_naive is not None:
        print(f"  naive icalendar           {t_naive * ms:9.1f} ms"
              f"   {t_naive / t_floor:5.2f}x floor   {t_naive / t_cold:5.2f}x cold")
    else:
        print(f"  naive icalendar           (skipped above --naive-max {naive_max:,})")
    print(f"  rebuild, 1 moved          {t_rebuild * ms:9.1f} ms"
          f"   {t_rebuild / t_cold:6.1%} of cold   ({redone} event re-serialized; best of 3)")
    print(f"  rebuild, all new objects  {t_fresh * ms:9.1f} ms   {t_fresh / t_cold:6.1%} of cold"
          "   (equal re-expansion)")
    print(f"  reload: item_hashes+build {t_reload * ms:9.1f} ms   {t_reload / t_cold:6.1%} of cold"
          "   (what the daemon runs after an edit)")
    print(f"  agency feed, first        {t_agency1 * ms:9.1f} ms")
    print(f"  agency feed, again        {t_agency2 * ms:9.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--naive-max", type=int, default=100_000)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}")
    for n in (int(x) for x in args.sizes.split(",")):
        run(n, args.naive_max)


if __name__ == "__main__":
    main()
