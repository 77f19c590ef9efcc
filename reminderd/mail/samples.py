"""Built-in sample digests: what ``reminderd check`` renders every mail template against.

One digest holds every kind at once (a deadline, a window opening that is sent late, an
occasion, a round anniversary, an agreement review on a Saturday, an overdue task for the
lead and the coordinator's escalation); then one digest per item, so that a broken partial
is reported even when another one fails first.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from reminderd.core.model import Agency, Contact
from reminderd.core.occurrence import Occurrence, OccurrenceKind
from reminderd.core.reminders import Reminder, ReminderKind, Role
from reminderd.core.workdays import WorkCalendar
from reminderd.mail.view import Digest

NOW = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)  # 08:00 Wednesday 10/06/2026 in Hà Nội
AGENCY = Agency("so-vhttdl", "Sở Văn hóa, Thể thao và Du lịch", ("vhttdl@example.gov.vn",))
NAMES = {
    "so-vhttdl": AGENCY.name,
    "snv": "Sở Ngoại vụ",
    "so-ct": "Sở Công Thương",
    "ubnd-tinh": "Ủy ban nhân dân tỉnh",
}
FEED = "https://lich.songoaivu.example/feeds/so-vhttdl.ics"
_TASK = Occurrence(  # what every sample task shares: its plan
    key="", kind=OccurrenceKind.DEADLINE, date=date(2026, 1, 1), title="",
    source="kh-34-2026", source_title="Kế hoạch công tác đối ngoại năm 2026",
    reference="34/KH-UBND ngày 22/02/2026", coordinator="snv")


def _r(occ: Occurrence, kind: ReminderKind, role: Role, step: str, due: datetime) -> Reminder:
    return Reminder(key=f"{occ.key}|{occ.date.isoformat()}|{step}|so-vhttdl", occurrence=occ,
                    agency="so-vhttdl", role=role, kind=kind, step=step, day=due.date(),
                    due=due, days_left=(occ.date - due.date()).days)


def sample_reminders() -> list[Reminder]:
    deadline = replace(
        _TASK, key="task/kh-34-2026/bao-cao-6-thang",
        date=date(2026, 6, 12), title="Báo cáo kết quả công tác đối ngoại 6 tháng đầu năm",
        lead=("so-vhttdl",), support=("so-ct",), text="Trước ngày 15/6/2026",
        nominal=date(2026, 6, 15))
    window = replace(
        _TASK, key="task/kh-34-2026/don-doan-lao", kind=OccurrenceKind.WINDOW,
        date=date(2026, 7, 31), start=date(2026, 7, 16), end=date(2026, 7, 31), workdays=5,
        title="Đón tiếp đoàn đại biểu tỉnh Champasak (Lào)", lead=("so-vhttdl",),
        support=("snv",), text="05 ngày làm việc trong nửa cuối tháng 7/2026",
        contact=Contact("Chị Hồ Thị Hồng Nhung", "024.3799.5226", "dp.nvvh@bng.example"))
    occasion = Occurrence(
        key="occasion/quoc-khanh-nga@2026", kind=OccurrenceKind.OCCASION,
        date=date(2026, 6, 12), title="Ngày Quốc khánh Liên bang Nga", lead=("snv",),
        support=("so-vhttdl",), text="12/6", source="quoc-khanh-nga",
        occasion_kind="national_day")
    anniversary = Occurrence(
        key="occasion/vn-thai-lan@2026", kind=OccurrenceKind.ANNIVERSARY,
        date=date(2026, 8, 6), ordinal=50, round=True,
        title="Kỷ niệm 50 năm thiết lập quan hệ ngoại giao Việt Nam - Thái Lan",
        lead=("so-vhttdl",), text="06/8", source="vn-thai-lan", occasion_kind="relations")
    agreement = Occurrence(
        key="agreement/champasak-2022/review@2026", kind=OccurrenceKind.REVIEW,
        date=date(2026, 6, 20), title="Thỏa thuận hợp tác văn hóa với tỉnh Champasak - sơ kết"
        " 4 năm", lead=("so-vhttdl",), text="định kỳ 02 năm/lần từ 20/06/2022",
        source="champasak-2022", reference="01/TTHT ngày 20/06/2022")
    overdue = replace(
        _TASK, key="task/kh-34-2026/ke-hoach-le-hoi",
        date=date(2026, 6, 5), title="Xây dựng kế hoạch tổ chức Tuần lễ văn hóa ASEAN",
        lead=("so-vhttdl",), text="Trong tháng 5/2026 (chậm nhất 05/6/2026)")
    escalated = replace(
        _TASK, key="task/kh-34-2026/danh-muc-di-tich",
        date=date(2026, 6, 3), title="Rà soát danh mục di tích phục vụ đón khách quốc tế",
        lead=("so-ct",), support=("so-vhttdl",), text="03/6/2026", coordinator="so-vhttdl")
    return [
        _r(deadline, ReminderKind.DEADLINE, Role.LEAD, "lead-1wd", NOW),
        _r(window, ReminderKind.WINDOW_OPEN, Role.LEAD, "open", NOW - timedelta(days=2)),
        _r(occasion, ReminderKind.OCCASION, Role.SUPPORT, "day-3", NOW),
        _r(anniversary, ReminderKind.OCCASION, Role.LEAD, "day-90", NOW),
        _r(agreement, ReminderKind.AGREEMENT, Role.LEAD, "day-7", NOW),
        _r(overdue, ReminderKind.OVERDUE, Role.LEAD, "overdue-1wd", NOW),
        _r(escalated, ReminderKind.OVERDUE, Role.COORDINATOR, "escalate-5wd", NOW),
    ]


def sample_digests() -> list[Digest]:
    reminders = sample_reminders()
    working = WorkCalendar()  # weekends only
    office = Contact("Phòng Hợp tác quốc tế", "0262 3 123 456", "htqt@songoaivu.example")

    def done_url(r: Reminder) -> str:
        return f"https://lich.songoaivu.example/done/{r.occurrence.key.replace('/', '-')}"

    answering = Digest(AGENCY, reminders, NOW, FEED, NAMES, working, done_url=done_url,
                       reply_to="Văn phòng Sở <vanphong@songoaivu.example>", contact=office)
    return [Digest(AGENCY, reminders, NOW, FEED, NAMES, working)] + [
        Digest(AGENCY, [r], NOW, FEED, NAMES, working) for r in reminders
    ] + [answering]
