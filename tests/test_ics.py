"""The iCalendar feed: bytes, folding, revisions, roles, notes, cache.

Feeds are read back with icalendar (a third-party parser), never with reminderd's code;
tests/test_ics_consumers.py runs the same feeds through three more consumers.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest
from defaults import options
from hypothesis import given, settings
from hypothesis import strategies as st

from reminderd.core.model import Agency
from reminderd.core.occurrence import Occurrence
from reminderd.core.occurrence import OccurrenceKind as K
from reminderd.feeds.events import Revision, fold, item_hash, revise
from reminderd.feeds.ics import FeedBuilder, size_warning

TODAY = date(2024, 7, 1)
HOLIDAYS = {date(2024, 9, 2), date(2030, 2, 4), date(2030, 2, 5)}
AGENCIES = {
    "sngv": Agency("sngv", "Sở Ngoại vụ tỉnh Bắc Giang", ("songoaivu@bacgiang.example",)),
    "svh": Agency("svh", "Sở Văn hóa, Thể thao và Du lịch",
                  ("vhttdl@bacgiang.example", "vanthu.vhttdl@bacgiang.example")),
    "hhn": Agency("hhn", "Liên hiệp các tổ chức hữu nghị tỉnh"),
}
EMAILS = [e for a in AGENCIES.values() for e in a.emails]
PLAN = ("Kế hoạch tổ chức các hoạt động kỷ niệm 30 năm thiết lập quan hệ ngoại giao"
        " Việt Nam - Hàn Quốc")
REF = "120/KH-UBND ngày 22/02/2022"
TRICKY = ('Báo cáo "tổng kết", công tác; đối ngoại \\ nhân dân: C:\\thư mục\\\\mẫu,'
          " giai đoạn 2021–2025")
LONG = ("ChuẩnbịnộidungchươngtrìnhlàmviệcvớiđoànđạibiểucấpcaotỉnhJeollabukđếnthămvàlàmviệc"
        "tạitỉnhBắcGiangnhândịpkỷniệmngàythiếtlậpquanhệhữunghịgiữahaiđịaphương")


def is_working(d: date) -> bool:
    return d.weekday() < 5 and d not in HOLIDAYS


def task(key: str, kind: K, day: date, title: str, **kw: object) -> Occurrence:
    fields: dict[str, object] = {"lead": ("sngv",), "support": ("svh",), "source": "bg-kr30",
                                 "reference": REF, "source_title": PLAN}
    fields.update(kw)
    return Occurrence(key=key, kind=kind, date=day, title=title, **fields)  # type: ignore[arg-type]


SAMPLE: list[Occurrence] = [
    task("task/bg-kr30-2022/1.3a", K.DEADLINE, date(2022, 8, 14),
         "Gửi thư chúc mừng Quốc khánh Hàn Quốc", text="Trước ngày 15/8/2022",
         nominal=date(2022, 8, 15), done=date(2022, 8, 10)),
    task("task/bg-kr30-2022/1.5", K.DEADLINE, date(2024, 3, 15), TRICKY,
         text="chậm nhất ngày 15/3/2024",
         notes="Dòng một; gửi bản mềm cho anh A (a.nguyen@bacgiang.example)\nDòng hai, \\n thật\r\n"
               "Dòng ba\\\\"),
    task("task/bg-kr30-2022/1.6", K.DEADLINE, date(2024, 6, 30), LONG, text="30/6/2024",
         lead=("svh",), support=("sngv", "hhn")),
    task("task/bg-kr30-2022/1.7", K.DEADLINE, date(2024, 8, 31),
         "Hoàn thiện hồ sơ đề nghị khen thưởng tập thể, cá nhân có thành tích xuất sắc",
         text="Trong tháng 8/2024"),  # a Saturday, in the future
    task("task/bg-kr30-2022/1.8", K.DEADLINE, date(2024, 9, 2),
         "Treo cờ Tổ quốc và băng rôn khẩu hiệu", text="02/9/2024", support=()),
    task("task/kh-34-2024/ii-7", K.WINDOW, date(2024, 6, 28),
         "Tổ chức Tuần văn hóa Hàn Quốc tại tỉnh Bắc Giang", start=date(2024, 4, 1),
         end=date(2024, 6, 28), text="Quý II/2024", lead=("svh",), support=("sngv",)),
    task("task/kh-34-2024/ii-8", K.WINDOW, date(2024, 12, 31),
         "Đón đoàn doanh nghiệp Hàn Quốc khảo sát đầu tư", start=date(2024, 10, 1),
         end=date(2024, 12, 31), text="Quý IV/2024"),
    task("task/kh-34-2024/ii-9", K.WINDOW, date(2024, 7, 26), "Giao lưu thanh niên hai tỉnh",
         start=date(2024, 7, 15), end=date(2024, 7, 26), workdays=5,
         text="05 ngày làm việc trong nửa cuối tháng 7/2024", done=date(2024, 7, 20)),
    task("task/kh-34-2024/i-1", K.ONGOING, date(2024, 1, 1),
         "Tuyên truyền về quan hệ hữu nghị Việt Nam - Hàn Quốc", start=date(2024, 1, 1),
         text="Thường xuyên"),
    task("task/kh-34-2024/i-2", K.ONGOING, date(2024, 12, 31),
         "Theo dõi, đôn đốc thực hiện các thỏa thuận hợp tác", start=date(2024, 1, 1),
         end=date(2024, 12, 31), text="Thường xuyên trong năm 2024"),
    task("task/kh-34-2024/iv-1@2024-06", K.REPORT, date(2024, 6, 20),
         "Báo cáo kết quả thực hiện Kế hoạch 6 tháng đầu năm", text="6 tháng, hằng năm"),
    task("task/kh-34-2024/iv-1@2024-12", K.REPORT, date(2024, 12, 20),
         "Báo cáo kết quả thực hiện Kế hoạch năm", text="6 tháng, hằng năm"),
    Occurrence(key="occasion/tet@2030", kind=K.OCCASION, date=date(2030, 2, 2),
               title="Tết Nguyên Đán", text="01/01 âm lịch", lead=("sngv",),
               occasion_kind="new_year", source="tet"),
    Occurrence(key="occasion/kr-national-day@2024", kind=K.OCCASION, date=date(2024, 10, 3),
               title="Quốc khánh Hàn Quốc", text="03/10", lead=("sngv",), support=("hhn",),
               occasion_kind="national_day", source="kr-national-day"),
    Occurrence(key="occasion/vn-kr@2022", kind=K.ANNIVERSARY, date=date(2022, 12, 22),
               title="Kỷ niệm 30 năm thiết lập quan hệ ngoại giao Việt Nam - Hàn Quốc",
               text="22/12", ordinal=30, round=True, lead=("sngv",), support=("svh", "hhn"),
               occasion_kind="relations", source="vn-kr"),
    Occurrence(key="occasion/vn-kr@2026", kind=K.ANNIVERSARY, date=date(2026, 12, 22),
               title="Kỷ niệm 34 năm thiết lập quan hệ ngoại giao Việt Nam - Hàn Quốc",
               text="22/12", ordinal=34, lead=("sngv",), occasion_kind="relations",
               source="vn-kr"),
    Occurrence(key="agreement/jeollabuk/review@2019", kind=K.REVIEW, date=date(2019, 12, 22),
               title="Thỏa thuận hợp tác với tỉnh Jeollabuk - sơ kết 2 năm",
               text="định kỳ 02 năm/lần từ 22/12/2017", lead=("sngv",), support=("svh",),
               source="jeollabuk", source_title="Thỏa thuận hợp tác với tỉnh Jeollabuk",
               reference="Thỏa thuận ngày 22/12/2017"),
    Occurrence(key="agreement/jeollabuk/expiry", kind=K.EXPIRY, date=date(2022, 12, 22),
               title="Thỏa thuận hợp tác với tỉnh Jeollabuk - hết hiệu lực",
               text="có giá trị 5 năm từ 22/12/2017", lead=("sngv",), source="jeollabuk",
               source_title="Thỏa thuận hợp tác với tỉnh Jeollabuk"),
    task("task/mofa-2026/reply", K.DEADLINE, date(2026, 6, 12),
         "Gửi ý kiến góp ý về Chương trình đối ngoại năm 2026 của Bộ Ngoại giao",
         text="12/6/2026", lead=("hhn",), support=()),
    task("task/misc/no-agency", K.DEADLINE, date(2025, 1, 10),
         "Rà soát danh mục tài liệu lưu trữ", lead=(), support=(), reference="", text=""),
]
KINDS = {o.kind for o in SAMPLE}
assert set(K) == KINDS, "the sample covers every kind"


def build(occs: list[Occurrence] | None = None, revisions: dict[str, Revision] | None = None,
          builder: FeedBuilder | None = None, agency: str | None = None, **opts: object) -> bytes:
    builder = builder or FeedBuilder(options(**opts), AGENCIES)  # type: ignore[arg-type]
    return builder.build(SAMPLE if occs is None else occs, revisions or {}, today=TODAY,
                         is_working=is_working, agency=agency)


def events(feed: bytes) -> dict[str, Any]:
    cal = icalendar.Calendar.from_ical(feed)
    out = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert len(out) == len(cal.walk("VEVENT")), "UIDs are unique"
    return out


def uid(occ: Occurrence) -> str:
    return f"{occ.key}@reminderd.local"


def expected(occ: Occurrence, *, show_spans: bool = False, span_days: int = 31
             ) -> list[tuple[str, date, date]]:
    """(UID, DTSTART, DTEND) of each event of ``occ``: a window of up to ``span_days`` is one
    multi-day event; a longer one its opening and its deadline (and the span, if asked)."""
    day = timedelta(days=1)
    if occ.kind is K.WINDOW and occ.start and occ.end and occ.start < occ.end:
        if (occ.end - occ.start).days + 1 <= span_days:
            return [(uid(occ), occ.start, occ.end + day)]
        out = [(f"{occ.key}/open@reminderd.local", occ.start, occ.start + day),
               (uid(occ), occ.date, occ.date + day)]
        if show_spans:
            out.append((f"{occ.key}/span@reminderd.local", occ.start, occ.end + day))
        return out
    return [(uid(occ), occ.date, occ.date + day)]


def revisions_of(table: dict[str, tuple[str, int, datetime]]) -> dict[str, Revision]:
    return {k: Revision(seq, at) for k, (_h, seq, at) in table.items()}


# -- bytes ------------------------------------------------------------------------------------
def test_two_builds_are_byte_identical_whatever_the_input_order() -> None:
    shuffled = list(SAMPLE)
    random.Random(7).shuffle(shuffled)
    builder = FeedBuilder(options(), AGENCIES)
    first = build(builder=builder)
    assert build(builder=builder) == first
    assert build(shuffled) == first  # a fresh builder too
    assert build(list(reversed(SAMPLE)), agency="svh") == build(agency="svh")


def test_crlf_only_and_lines_within_75_octets_each_valid_utf8() -> None:
    for feed in (build(), build(agency="svh"), build(show_spans=True, include_contacts=True)):
        assert feed.endswith(b"END:VCALENDAR\r\n")
        assert b"\n" not in feed.replace(b"\r\n", b"") and b"\r" not in feed.replace(b"\r\n", b"")
        lines = feed.split(b"\r\n")[:-1]
        assert max(len(line) for line in lines) <= 75
        assert any(len(line) >= 73 for line in lines), "the sample does fold"
        for line in lines:
            line.decode("utf-8")  # raises on a split sequence


def _split_escapes(feed: bytes) -> list[bytes]:
    """Logical lines where a fold falls between a backslash and the character it escapes."""
    bad = []
    for logical in re.split(rb"\r\n(?! )", feed):
        pieces = logical.split(b"\r\n ")
        pos = 0
        joined = b"".join(pieces)
        for piece in pieces[:-1]:
            pos += len(piece)
            run = len(joined[:pos]) - len(joined[:pos].rstrip(b"\\"))
            if run % 2:
                bad.append(logical)
    return bad


def test_folds_never_split_a_backslash_escape() -> None:
    # titles whose backslash pairs land on every offset around the fold
    occs = [task(f"task/x/{i}-{j}", K.DEADLINE, date(2024, 5, 1), "ệ" * i + "\\" * j + "a;b,c")
            for i in range(0, 40) for j in (1, 2, 3)]
    assert _split_escapes(build(occs)) == []
    assert _split_escapes(build()) == []


def test_text_after_unfolding_is_what_was_put_in() -> None:
    evs = events(build())
    for occ in SAMPLE:
        ev = evs[uid(occ)]
        assert str(ev["SUMMARY"]).endswith(occ.title)
        assert occ.title in str(ev["DESCRIPTION"])
    notes = str(evs[uid(SAMPLE[1])]["DESCRIPTION"])
    assert "Ghi chú: Dòng một; gửi bản mềm cho anh A ([e-mail])\nDòng hai, \\n thật\nDòng ba\\\\" \
        in notes


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aăâbcđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậ"
                                             "ỳỷỹýỵ ,;:\\\"'\n\t\u0300\u0323😀€")),
               max_size=300).filter(lambda s: "\\N" not in s))
def test_any_title_survives_fold_and_escape(title: str) -> None:
    """icalendar's escaper turns a literal "\\N" into a newline: that input is excluded."""
    feed = build([task("task/p/1", K.DEADLINE, date(2024, 5, 1), title)])
    lines = feed.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")
    assert _split_escapes(feed) == []
    assert str(events(feed)[uid(task("task/p/1", K.DEADLINE, date(2024, 5, 1), ""))]["SUMMARY"]) \
        == "Hạn: " + title


@given(st.binary(max_size=400).map(lambda b: b.decode("utf-8", "replace")))
def test_fold_keeps_every_byte(text: str) -> None:
    line = b"X:" + icalendar.vText(text.replace("\\N", "")).to_ical()
    folded = fold(line)
    assert folded.replace(b"\r\n ", b"") == line
    assert all(len(part) <= 75 for part in folded.split(b"\r\n"))


@pytest.mark.parametrize("text", ["\\" * 500, "😀" * 200, "ệ\\" * 150, "a" * 74 + "😀",
                                  ";" * 300, "x" * 73 + "\\\\" * 3])
def test_fold_on_hostile_lines(text: str) -> None:
    line = b"DESCRIPTION:" + icalendar.vText(text).to_ical()
    folded = fold(line)
    assert folded.replace(b"\r\n ", b"") == line
    parts = folded.split(b"\r\n")
    assert all(len(p) <= 75 for p in parts) and all(p.decode() for p in parts)
    assert _split_escapes(folded + b"\r\n") == []
    cal = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n" + folded + b"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    assert str(icalendar.Calendar.from_ical(cal).walk("VEVENT")[0]["DESCRIPTION"]) == text


# -- header -----------------------------------------------------------------------------------
def test_header_refresh_ttl_name_and_nothing_random() -> None:
    feed = build()
    header = feed.split(b"BEGIN:VEVENT")[0].decode().split("\r\n")
    assert header[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]
    assert "PRODID:-//reminderd//reminderd 0.1//VI" in header
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT12H" in header
    assert "X-PUBLISHED-TTL:PT12H" in header
    assert "NAME:Lịch Sở Ngoại vụ" in header and "X-WR-CALNAME:Lịch Sở Ngoại vụ" in header
    assert "X-WR-TIMEZONE:Asia/Ho_Chi_Minh" in header
    assert not [h for h in header if h.startswith(("UID", "DTSTAMP", "METHOD"))]
    for forbidden in (b"METHOD", b"X-WR-RELCALID", b"RRULE", b"RSCALE", b"TZID", b"DTSTART:"):
        assert forbidden not in feed
    cal = icalendar.Calendar.from_ical(feed)
    assert cal.get("UID") is None and cal.get("METHOD") is None
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert cal.decoded("REFRESH-INTERVAL") == timedelta(hours=12)
    assert build(refresh=timedelta(days=1)).count(b"P1D\r\n") == 2


# -- revisions ----------------------------------------------------------------------------------
def test_revise_rules() -> None:
    t0, t1, t2 = (datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3))
    table = revise({}, {"a": "h1", "b": "h2"}, t0)
    assert table == {"a": ("h1", 0, t0), "b": ("h2", 0, t0)}
    table = revise(table, {"a": "h1", "b": "h3"}, t1)
    assert table == {"a": ("h1", 0, t0), "b": ("h3", 1, t1)}
    table = revise(table, {"a": "h1"}, t2)  # b disappears: its row stays
    assert table["b"] == ("h3", 1, t1)
    assert revise(table, {"b": "h4"}, t2)["b"] == ("h4", 2, t2)  # and continues when back
    with pytest.raises(ValueError):
        revise(table, {}, datetime(2024, 1, 1))


def test_item_hash_ignores_origin_and_reminders_but_not_content() -> None:
    occ = SAMPLE[0]
    assert item_hash(occ) == item_hash(replace(occ, origin="plans.yaml:99:1", remind=(1,)))
    for change in ({"date": date(2022, 8, 13)}, {"title": "x"}, {"support": ()},
                   {"done": None}, {"notes": "n"}, {"text": "t"}):
        assert item_hash(replace(occ, **change)) != item_hash(occ)


def test_moving_one_deadline_keeps_uids_and_bumps_its_sequence() -> None:
    t0 = datetime(2024, 5, 1, 3, 4, 5, tzinfo=UTC)
    t1 = datetime(2024, 6, 2, 8, 0, 0, tzinfo=UTC)
    table = revise({}, {o.key: item_hash(o) for o in SAMPLE}, t0)
    builder = FeedBuilder(options(), AGENCIES)
    before = events(build(revisions=revisions_of(table), builder=builder))
    moved = list(SAMPLE)
    moved[3] = replace(moved[3], date=date(2024, 9, 6))
    table = revise(table, {o.key: item_hash(o) for o in moved}, t1)
    after = events(build(moved, revisions_of(table), builder=builder))
    assert set(before) == set(after)
    for key, ev in after.items():
        if key == uid(moved[3]):
            assert ev.decoded("SEQUENCE") == 1
            assert ev.decoded("DTSTAMP") == t1 and ev.decoded("LAST-MODIFIED") == t1
            assert ev.decoded("DTSTART") == date(2024, 9, 6)
        else:
            assert ev.decoded("SEQUENCE") == 0 and ev.decoded("DTSTAMP") == t0
            assert ev.to_ical() == before[key].to_ical()


def test_without_a_revision_dtstamp_is_fixed_from_the_date() -> None:
    ev = events(build())[uid(SAMPLE[0])]
    assert ev.decoded("SEQUENCE") == 0
    assert ev.decoded("DTSTAMP") == datetime(2022, 8, 14, tzinfo=UTC)
    assert "LAST-MODIFIED" not in ev
    with pytest.raises(ValueError):
        build(revisions={SAMPLE[0].key: Revision(1, datetime(2024, 1, 1))})


# -- content --------------------------------------------------------------------------------------
def test_events_are_all_day_and_say_what_is_due() -> None:
    evs = events(build())
    assert sorted((u, e.decoded("DTSTART"), e.decoded("DTEND")) for u, e in evs.items()) == \
        sorted(x for o in SAMPLE for x in expected(o))
    for ev in evs.values():
        assert type(ev.decoded("DTSTART")) is date
        assert ev["TRANSP"] == "TRANSPARENT" and "RRULE" not in ev
    summary = {o.key: str(evs[uid(o)]["SUMMARY"]) for o in SAMPLE}
    assert summary["task/bg-kr30-2022/1.3a"] == \
        "[Đã hoàn thành] Hạn: Gửi thư chúc mừng Quốc khánh Hàn Quốc"  # done: 10/8/2022
    assert summary["occasion/vn-kr@2022"] == \
        "Kỷ niệm 30 năm thiết lập quan hệ ngoại giao Việt Nam - Hàn Quốc"
    assert summary["occasion/tet@2030"] == "Tết Nguyên Đán"
    assert evs[uid(SAMPLE[12])].decoded("DTSTART") == date(2030, 2, 2)
    assert summary["agreement/jeollabuk/review@2019"].startswith("Rà soát: ")
    assert summary["agreement/jeollabuk/expiry"] == \
        "Thỏa thuận hợp tác với tỉnh Jeollabuk - hết hiệu lực"
    assert summary["task/kh-34-2024/ii-7"] == \
        "Hạn: Tổ chức Tuần văn hóa Hàn Quốc tại tỉnh Bắc Giang"  # a quarter: two events
    assert str(evs["task/kh-34-2024/ii-7/open@reminderd.local"]["SUMMARY"]) == \
        "Bắt đầu: Tổ chức Tuần văn hóa Hàn Quốc tại tỉnh Bắc Giang"
    # 5 working days in the second half of July: one event over the window, no "Hạn: "
    assert summary["task/kh-34-2024/ii-9"] == "[Đã hoàn thành] Giao lưu thanh niên hai tỉnh"
    labels = {o.kind: evs[uid(o)].categories for o in SAMPLE}
    assert labels == {
        K.DEADLINE: ["Hạn chót"], K.WINDOW: ["Khoảng thời gian"], K.ONGOING: ["Thường xuyên"],
        K.REPORT: ["Báo cáo"], K.OCCASION: ["Ngày lễ"], K.ANNIVERSARY: ["Kỷ niệm"],
        K.REVIEW: ["Rà soát thỏa thuận"], K.EXPIRY: ["Hết hiệu lực thỏa thuận"],
    }


def test_description_gives_task_plan_reference_phrase_agencies_window() -> None:
    evs = events(build())
    text = str(evs[uid(SAMPLE[5])]["DESCRIPTION"]).split("\n")
    assert text[:5] == [
        "Nhiệm vụ: Tổ chức Tuần văn hóa Hàn Quốc tại tỉnh Bắc Giang",
        f"Kế hoạch: {PLAN}", f"Văn bản: {REF}", "Thời gian theo văn bản: Quý II/2024",
        "Hạn: 28/06/2024",
    ]
    assert "Khoảng thời gian: 01/04/2024 - 28/06/2024" in text
    assert "Chủ trì: Sở Văn hóa, Thể thao và Du lịch" in text
    assert "Phối hợp: Sở Ngoại vụ tỉnh Bắc Giang" in text
    anniversary = str(evs[uid(SAMPLE[14])]["DESCRIPTION"])
    assert "Năm chẵn, năm tròn: 30 năm" in anniversary and "Ngày: 22/12/2022" in anniversary
    assert "Từ ngày: 01/01/2024" in str(evs[uid(SAMPLE[8])]["DESCRIPTION"])  # open-ended
    assert "Đến ngày: 31/12/2024" in str(evs[uid(SAMPLE[9])]["DESCRIPTION"])


def test_past_due_done_and_non_working_notes() -> None:
    desc = {o.key: str(ev["DESCRIPTION"]) for o in SAMPLE for ev in [events(build())[uid(o)]]}
    late, done = "Quá hạn, chưa hoàn thành.", "Đã hoàn thành ngày"
    assert late in desc["task/bg-kr30-2022/1.5"]  # 15/03/2024, not done
    assert late in desc["task/kh-34-2024/ii-7"] and late in desc["task/kh-34-2024/iv-1@2024-06"]
    assert "Đã hoàn thành ngày 10/08/2022." in desc["task/bg-kr30-2022/1.3a"]
    assert late not in desc["task/bg-kr30-2022/1.3a"]
    assert late not in desc["task/kh-34-2024/i-1"]  # ongoing, open-ended
    for key in ("occasion/vn-kr@2022", "agreement/jeollabuk/expiry", "task/bg-kr30-2022/1.7"):
        assert late not in desc[key] and done not in desc[key]
    assert "Lưu ý: ngày 14/08/2022 là ngày nghỉ." in desc["task/bg-kr30-2022/1.3a"]  # Sunday
    assert "Lưu ý: ngày 31/08/2024 là ngày nghỉ." in desc["task/bg-kr30-2022/1.7"]  # Saturday
    assert "Lưu ý: ngày 02/09/2024 là ngày nghỉ." in desc["task/bg-kr30-2022/1.8"]  # holiday
    assert "Lưu ý" not in desc["occasion/tet@2030"]  # a fixed day, not a deadline
    assert "Lưu ý" not in desc["task/kh-34-2024/ii-7"]  # Friday


def test_no_email_addresses_unless_configured() -> None:
    email = re.compile(rb"[\w.+-]+@[\w-]+\.[\w.-]+")
    for feed in (build(), build(agency="sngv"), build(show_spans=True)):
        assert not [m for m in email.findall(feed) if not m.endswith(b"reminderd.local")]
        for address in EMAILS:
            assert address.encode() not in feed
    with_contacts = build(include_contacts=True)
    desc = str(events(with_contacts)[uid(SAMPLE[0])]["DESCRIPTION"])
    assert "Chủ trì: Sở Ngoại vụ tỉnh Bắc Giang (songoaivu@bacgiang.example)" in desc
    assert "a.nguyen@bacgiang.example" in str(events(with_contacts)[uid(SAMPLE[1])]["DESCRIPTION"])


def test_per_agency_feeds_hold_only_its_items_with_its_role() -> None:
    builder = FeedBuilder(options(), AGENCIES)
    build(builder=builder)
    for agency in AGENCIES:
        feed = build(builder=builder, agency=agency)
        assert feed == build(agency=agency)  # from the cache = from scratch
        mine = {e[0]: "Chủ trì" if agency in o.lead else "Phối hợp"
                for o in SAMPLE if agency in o.lead or agency in o.support for e in expected(o)}
        evs = events(feed)
        assert set(evs) == set(mine)
        for key, role in mine.items():
            assert str(evs[key]["SUMMARY"]).startswith(f"[{role}] ")
        name = icalendar.Calendar.from_ical(feed)["X-WR-CALNAME"]  # vUnknown: not unescaped
        assert name == f"Lịch Sở Ngoại vụ - {AGENCIES[agency].name}".replace(", ", " - ")
    with pytest.raises(ValueError):
        build(agency="nobody")


def test_duplicate_keys_are_refused() -> None:
    twice = [*SAMPLE, replace(SAMPLE[12], date=date(2030, 2, 3))]
    with pytest.raises(ValueError, match="occasion/tet@2030"):
        build(twice)
    with pytest.raises(ValueError, match="occasion/tet@2030"):
        build(twice, agency="sngv")


def test_windows_are_multi_day_events_up_to_span_days() -> None:
    for span_days in (1, 12, 31, 92):
        evs = events(build(span_days=span_days))
        assert sorted((u, e.decoded("DTSTART"), e.decoded("DTEND")) for u, e in evs.items()) \
            == sorted(x for o in SAMPLE for x in expected(o, span_days=span_days))
    ii9 = events(build())["task/kh-34-2024/ii-9@reminderd.local"]
    assert (ii9.decoded("DTSTART"), ii9.decoded("DTEND")) == (date(2024, 7, 15),
                                                              date(2024, 7, 27))


def test_spans_are_a_third_event_of_long_windows_with_their_own_uid() -> None:
    evs = events(build(show_spans=True))
    assert len(evs) == sum(len(expected(o, show_spans=True)) for o in SAMPLE)
    windows = [o for o in SAMPLE if o.kind is K.WINDOW and len(expected(o)) > 1]
    for occ in windows:
        span = evs[f"{occ.key}/span@reminderd.local"]
        assert occ.start is not None and occ.end is not None
        assert span.decoded("DTSTART") == occ.start
        assert span.decoded("DTEND") == occ.end + timedelta(days=1)
        assert str(span["SUMMARY"]) == f"Thời gian thực hiện: {occ.title}"
    agency = events(build(show_spans=True, agency="svh"))
    assert str(agency["task/kh-34-2024/ii-7/span@reminderd.local"]["SUMMARY"]).startswith(
        "[Chủ trì] Thời gian thực hiện: ")


def test_empty_feed_is_still_a_valid_calendar() -> None:
    feed = build([])
    cal = icalendar.Calendar.from_ical(feed)
    cal.validate()  # type: ignore[no-untyped-call]
    assert not cal.walk("VEVENT") and cal.get_missing_tzids() == set()
    assert build([], agency="hhn").count(b"BEGIN:VTIMEZONE") == 1


# -- size and cache ------------------------------------------------------------
def test_size_warning() -> None:
    assert size_warning(1_000_000) is None
    warning = size_warning(2_345_678)
    assert warning is not None
    assert "2.3 MB" in warning and "Google Calendar" in warning
    assert "feeds.horizon_days_ahead" in warning and "--agency" in warning
    assert "vượt quá" in warning and "drops" in warning
    agency = size_warning(1_500_000, agency="svh")
    assert agency is not None and "svh" in agency and "--agency" not in agency


def test_rebuild_reserializes_only_what_changed() -> None:
    builder = FeedBuilder(options(), AGENCIES)
    events_ = sum(len(expected(o)) for o in SAMPLE)  # long windows are two events
    build(builder=builder)
    assert builder.serialized == events_
    build(builder=builder)
    for agency in AGENCIES:
        build(builder=builder, agency=agency)
    assert builder.serialized == events_, "agency feeds reuse the whole feed's events"
    moved = list(SAMPLE)
    moved[6] = replace(moved[6], date=date(2024, 12, 30), end=date(2024, 12, 30))
    fresh = [replace(o) for o in moved]  # equal values, new objects (a re-expansion)
    assert build(fresh, builder=builder) == build(moved)
    assert moved[6].key == "task/kh-34-2024/ii-8"  # a quarter: its opening and its deadline
    assert builder.serialized == events_ + 2
    # days pass: the items that became overdue meanwhile are re-rendered, nothing else
    builder.build(fresh, {}, today=date(2024, 12, 31), is_working=is_working)
    overdue = ["1.7 (31/8)", "1.8 (2/9)", "iv-1@2024-12 (20/12)", "ii-8 (30/12)", "ii-8 open"]
    assert builder.serialized == events_ + 2 + len(overdue)


def test_patched_order_equals_a_fresh_sort() -> None:
    builder = FeedBuilder(options(), AGENCIES)
    current = list(SAMPLE)
    build(current, builder=builder)
    rng = random.Random(3)
    for step in range(30):
        new = list(current)
        i, j = rng.randrange(len(new)), rng.randrange(len(new))
        if step % 3 == 0:
            new[i], new[j] = new[j], new[i]  # same objects, another input order
        else:
            new[i] = replace(new[i], date=new[i].date + timedelta(days=rng.randint(-400, 400)))
        assert build(new, builder=builder) == build(new), step
        current = new
    clash = list(current)
    clash[0] = replace(clash[0], key=clash[1].key)
    with pytest.raises(ValueError, match="duplicate"):
        build(clash, builder=builder)
    same_twice = list(current)
    same_twice[0] = same_twice[1]
    with pytest.raises(ValueError, match="duplicate"):
        build(same_twice, builder=builder)
    assert build(current, builder=builder) == build(current)


def test_builder_item_hashes_are_item_hash() -> None:
    builder = FeedBuilder(options(), AGENCIES)
    expected = {o.key: item_hash(o) for o in SAMPLE}
    assert builder.item_hashes(SAMPLE) == expected
    assert builder.item_hashes([replace(o) for o in SAMPLE]) == expected  # from the memo
    moved = replace(SAMPLE[0], date=date(2022, 8, 12))
    assert builder.item_hashes([moved])[moved.key] == item_hash(moved) != expected[moved.key]
