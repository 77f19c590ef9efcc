"""Vietnamese wording shared by the mail and the status page: dates, roles, days left.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import date

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


def short_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


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
