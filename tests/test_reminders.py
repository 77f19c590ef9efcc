"""Reminder policy: ladders in working days, roles, occasions, overdue escalation."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from defaults import POLICY

from reminderd.core.occurrence import Occurrence, OccurrenceKind
from reminderd.core.reminders import ReminderKind, Role, plan
from reminderd.holidays_vn import build_calendar

CAL = build_calendar(range(2021, 2028))
HCM = ZoneInfo("Asia/Ho_Chi_Minh")

DEADLINE = Occurrence(
    key="task/mofa-2026/reply", kind=OccurrenceKind.DEADLINE, date=date(2026, 6, 11),
    title="Trả lời Bộ Ngoại giao", lead=("snv",), support=("vhttdl", "snv"), coordinator="ubnd",
    nominal=date(2026, 6, 12), text="trước ngày 12/6/2026",
)


def steps(reminders: list, agency: str) -> dict[str, date]:
    return {r.step: r.day for r in reminders if r.agency == agency}


def test_lead_ladder_counts_working_days_back() -> None:
    reminders = plan([DEADLINE], POLICY, CAL)
    lead = steps(reminders, "snv")
    assert lead["lead-0wd"] == date(2026, 6, 11)  # Thursday, the deadline itself
    assert lead["lead-1wd"] == date(2026, 6, 10)
    assert lead["lead-3wd"] == date(2026, 6, 8)  # Monday
    assert lead["lead-7wd"] == date(2026, 6, 2)  # skips one weekend
    assert lead["lead-14wd"] == date(2026, 5, 22)  # skips two weekends


def test_support_gets_fewer_and_lead_is_not_told_twice() -> None:
    reminders = plan([DEADLINE], POLICY, CAL)
    assert set(steps(reminders, "vhttdl")) == {"support-7wd", "support-1wd"}
    assert not any(r.step.startswith("support") for r in reminders if r.agency == "snv")
    assert {r.role for r in reminders if r.agency == "vhttdl"} == {Role.SUPPORT}


def test_overdue_goes_to_lead_then_escalates_to_the_coordinator() -> None:
    reminders = plan([DEADLINE], POLICY, CAL)
    overdue = [r for r in reminders if r.kind is ReminderKind.OVERDUE]
    assert {(r.agency, r.step, r.day) for r in overdue} == {
        ("snv", "overdue-1wd", date(2026, 6, 12)),
        ("snv", "escalate-5wd", date(2026, 6, 18)),
        ("ubnd", "escalate-5wd", date(2026, 6, 18)),
    }
    assert all(r.days_left < 0 for r in overdue)


def test_send_time_is_0800_local_in_utc() -> None:
    reminders = plan([DEADLINE], POLICY, CAL)
    first = next(r for r in reminders if r.step == "lead-0wd")
    assert first.due == datetime(2026, 6, 11, 1, 0, tzinfo=ZoneInfo("UTC"))
    assert first.due.astimezone(HCM).time() == time(8, 0)


def test_reminder_on_a_day_off_moves_to_the_previous_working_day() -> None:
    # Korean Liberation Day 15/8/2026 is a Saturday; 3 days before is Wed 12/8 (working),
    # 14 days before is Sat 1/8 -> Fri 31/7.
    occ = Occurrence(key="occasion/kr-15-8@2026", kind=OccurrenceKind.OCCASION,
                     date=date(2026, 8, 15), title="Quốc khánh Hàn Quốc", lead=("snv",))
    days = steps(plan([occ], POLICY, CAL), "snv")
    assert days == {"day-14": date(2026, 7, 31), "day-3": date(2026, 8, 12)}
    # A deadline on Wed 2/9/2026 (Quốc khánh): the on-the-day reminder goes out Mon 31/8?
    # No: 31/8/2026 is a swapped day off too; it goes out on Fri 28/8.
    holiday = Occurrence(key="task/x/y", kind=OccurrenceKind.DEADLINE, date=date(2026, 9, 2),
                         title="x", lead=("snv",))
    assert steps(plan([holiday], POLICY, CAL), "snv")["lead-0wd"] == date(2026, 8, 28)


def test_round_anniversaries_and_foreign_new_years_are_warned_earlier() -> None:
    round_ = Occurrence(key="occasion/kr@2022", kind=OccurrenceKind.ANNIVERSARY,
                        date=date(2022, 12, 22), title="Kỷ niệm 30 năm", lead=("snv",),
                        ordinal=30, round=True)
    new_year = Occurrence(key="occasion/bunpimay@2026", kind=OccurrenceKind.OCCASION,
                          date=date(2026, 4, 14), title="Bun Pi May", lead=("hh-lao",),
                          occasion_kind="new_year")
    reminders = plan([round_, new_year], POLICY, CAL)
    assert set(steps(reminders, "snv")) == {"day-90", "day-30", "day-14", "day-3"}
    assert set(steps(reminders, "hh-lao")) == {"day-21", "day-7"}


def test_window_gets_an_opening_notice() -> None:
    window = Occurrence(key="task/p/q", kind=OccurrenceKind.WINDOW, date=date(2024, 6, 30),
                        start=date(2024, 4, 1), end=date(2024, 6, 30), title="Quý II",
                        lead=("snv",))
    days = steps(plan([window], POLICY, CAL), "snv")
    assert days["open"] == date(2024, 4, 1)
    assert days["lead-0wd"] == date(2024, 6, 28)  # 30/6/2024 is a Sunday


def test_done_tasks_get_no_reminders_and_overrides_replace_the_ladder() -> None:
    from dataclasses import replace

    assert plan([replace(DEADLINE, done=date(2026, 6, 1))], POLICY, CAL) == []
    custom = plan([replace(DEADLINE, remind=(2,))], POLICY, CAL)
    assert {r.step for r in custom if r.kind is ReminderKind.DEADLINE} == {"lead-2wd",
                                                                          "support-2wd"}


def test_keys_are_unique_and_carry_the_date() -> None:
    reminders = plan([DEADLINE], POLICY, CAL)
    keys = [r.key for r in reminders]
    assert len(keys) == len(set(keys))
    assert all(k.startswith("task/mofa-2026/reply|2026-06-11|") for k in keys)


def test_a_task_without_a_lead_is_followed_by_the_plans_coordinator() -> None:
    """Bắc Giang 1.2b names no agency ("theo chương trình làm việc cụ thể của các đoàn"):
    the plan's coordinator gets the lead's ladder, once per step, as the follow-up office."""
    orphan = Occurrence(
        key="task/bg/1.2b", kind=OccurrenceKind.DEADLINE, date=date(2026, 6, 11),
        title="Tiếp đoàn", lead=(), support=(), coordinator="snv",
        nominal=date(2026, 6, 11), text="Năm 2026",
    )
    reminders = plan([orphan], POLICY, CAL)
    assert {r.agency for r in reminders} == {"snv"}
    assert {r.role for r in reminders} == {Role.COORDINATOR}
    assert len({r.key for r in reminders}) == len(reminders)
    assert steps(reminders, "snv") == {
        "coordinator-14wd": date(2026, 5, 22), "coordinator-7wd": date(2026, 6, 2),
        "coordinator-3wd": date(2026, 6, 8), "coordinator-1wd": date(2026, 6, 10),
        "coordinator-0wd": date(2026, 6, 11), "overdue-1wd": date(2026, 6, 12),
        "escalate-5wd": date(2026, 6, 18),
    }
    unowned = Occurrence(key="task/x/1", kind=OccurrenceKind.DEADLINE, date=date(2026, 6, 11),
                         title="T", lead=(), support=())
    assert plan([unowned], POLICY, CAL) == []
