"""Vietnamese wording shared by the mail and the status page: dates, roles, days left.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from reminderd.core.occurrence import Occurrence, OccurrenceKind
from reminderd.core.reminders import ReminderKind, Role

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
ROLE_LABELS = {
    Role.LEAD: "Chủ trì",
    Role.SUPPORT: "Phối hợp",
    Role.COORDINATOR: "Cơ quan theo dõi, đôn đốc",
}


def vn_date(day: date) -> str:
    """date(2026, 6, 12) -> "Thứ Sáu, 12/06/2026"."""
    return f"{WEEKDAYS[day.weekday()]}, {day.day:02d}/{day.month:02d}/{day.year}"


def at_time(occ: Occurrence) -> str:
    """The time of day the document gives, to follow a date: ", lúc 17:00", ", từ 08:00 đến
    11:30", " (buổi sáng)"; "" when it gives none."""
    if occ.time:
        first, _, last = occ.time.partition("-")
        return f", từ {first} đến {last}" if last else f", lúc {first}"
    return f" (buổi {occ.daypart})" if occ.daypart else ""


def _dmy(iso: object) -> str:
    y, m, d = str(iso).split("-")
    return f"{d}/{m}/{y}"


def reading(info: Mapping[str, object]) -> str:
    """A time phrase's reading (``reminderd when --json``'s object) in Vietnamese, for the
    admin: "hạn chót 14/08/2022", "trong khoảng 01/09/2025 - 30/09/2025", "định kỳ: …"."""
    kind, start, end = info["kind"], info.get("start"), info.get("end")
    at = f" lúc {info['time']}" if info.get("time") else ""
    if info.get("daypart") and not at:
        at = f" (buổi {info['daypart']})"
    if kind == "deadline":
        text = f"hạn chót {_dmy(end)}{at}" if end else "hạn tính từ một mốc chưa có ngày"
    elif kind == "window":
        text = f"trong khoảng {_dmy(start)} - {_dmy(end)}{at}"
    elif kind == "ongoing":
        span = " - ".join(x for x in (_dmy(start) if start else "", _dmy(end) if end else "") if x)
        since = start and not end
        text = "thường xuyên" + (f", từ {span}" if since else f", {span}" if span else "")
    elif kind == "recurring":
        shown = list(info.get("next") or [])[:4]  # type: ignore[call-overload]
        text = "định kỳ: " + (", ".join(_dmy(d) for d in shown) + ", …" if shown
                              else "tính từ ngày gốc của mục")
    else:
        text = f"chưa có ngày ({info.get('reason', '')})"
    ignored = info.get("ignored")
    if ignored:
        text += "; bỏ qua: " + ", ".join(f"“{w}”" for w in ignored)  # type: ignore[attr-defined]
    return text


def short_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def window_text(start: date, end: date, workdays: int | None = None) -> str:
    """"trong khoảng 16/07 – 31/07/2026 (5 ngày làm việc)": a window, said as one."""
    first = f"{start.day:02d}/{start.month:02d}"
    if start.year != end.year:
        first += f"/{start.year}"
    days = f" ({workdays} ngày làm việc)" if workdays else ""
    return f"trong khoảng {first} – {short_date(end)}{days}"


def occurrence_window(occ: Occurrence) -> str:
    """:func:`window_text` of a window occurrence; "" for anything else."""
    if occ.kind is not OccurrenceKind.WINDOW or occ.start is None or occ.end is None \
            or occ.start >= occ.end:
        return ""
    return window_text(occ.start, occ.end, occ.workdays)


# What each kind of item is called (agenda, the status page, the weekly mail).
KIND_LABELS = {
    OccurrenceKind.DEADLINE: "Hạn chót",
    OccurrenceKind.WINDOW: "Thời hạn",
    OccurrenceKind.ONGOING: "Thường xuyên",
    OccurrenceKind.REPORT: "Báo cáo",
    OccurrenceKind.OCCASION: "Sự kiện",
    OccurrenceKind.ANNIVERSARY: "Kỷ niệm",
    OccurrenceKind.REVIEW: "Sơ kết thỏa thuận",
    OccurrenceKind.EXPIRY: "Hết hiệu lực thỏa thuận",
}


def zone_label(zone: str) -> str:
    """"giờ Việt Nam" for the country's zone, else "giờ <zone>"."""
    return "giờ Việt Nam" if zone in ("Asia/Ho_Chi_Minh", "Asia/Saigon") else f"giờ {zone}"


def decimal(value: float, places: int = 1) -> str:
    """12.5 -> "12,5": the Vietnamese decimal comma."""
    return f"{value:.{places}f}".replace(".", ",")


def days_text(kind: ReminderKind, days: int) -> str:
    """Days from today to the item's date, said the way the item's kind needs."""
    if kind is ReminderKind.OCCASION:
        if days > 0:
            return f"còn {days} ngày"
        return "diễn ra hôm nay" if days == 0 else f"đã diễn ra {-days} ngày trước"
    if kind is ReminderKind.AGREEMENT:
        if days > 0:
            return f"còn {days} ngày"
        return "đến hạn hôm nay" if days == 0 else f"đã quá {-days} ngày"
    if days > 0:
        return f"còn {days} ngày"
    return "hôm nay là hạn chót" if days == 0 else f"đã quá hạn {-days} ngày"


def webcal(url: str) -> str:
    """The webcal:// form of an http(s) feed link (clients open it as a subscription)."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme):]
    return url
