"""Expansion of the model into occurrences: dates, ordinals, stable keys."""

from dataclasses import replace
from datetime import date

import pytest

from reminderd.core.model import Agreement, Occasion, OccasionKind, Plan, Plans, Task
from reminderd.core.occurrence import OccurrenceKind
from reminderd.core.occurrences import ExpansionLimitError, expand, unscheduled
from reminderd.core.timing import Kind, Recurrence, Timing
from reminderd.holidays_vn import build_calendar

CAL = build_calendar(range(2015, 2032))


def deadline(text: str, end: date, nominal: date | None = None) -> Timing:
    return Timing(Kind.DEADLINE, text, end=end, nominal=nominal or end)


PLAN = Plan(
    id="bg-kr30-2022",
    title="Kế hoạch kỷ niệm 30 năm",
    year=2022,
    reference="KH/UBND 01/2022",
    coordinator="snv",
    tasks=(
        Task("1.3a", "Gửi thư chúc mừng", deadline("Trước ngày 15/8/2022", date(2022, 8, 14),
                                                     date(2022, 8, 15)), lead=("snv",)),
        Task("2.2", "Giao lưu thể thao", Timing(Kind.WINDOW, "Quý I hoặc quý II năm 2022",
                                                 start=date(2022, 1, 1), end=date(2022, 6, 30)),
             lead=("vhttdl",), support=("snv",)),
        Task("1.1", "Đón đoàn cấp cao", Timing(Kind.UNSCHEDULED, "Theo Kế hoạch của đoàn cấp cao",
                                               reason="x"), lead=("snv",)),
        Task("bc", "Báo cáo", Timing(Kind.RECURRING, "6 tháng, hằng năm",
                                     recurrence=Recurrence("yearly", -1, (6, 12))),
             lead=("snv",)),
        Task("1.4", "Tìm đối tác", Timing(Kind.ONGOING, "Từ tháng 2 năm 2022",
                                           start=date(2022, 2, 1)), lead=("snv",)),
    ),
)
OCCASION = Occasion(
    id="kr-relations", title="Ngày thiết lập quan hệ ngoại giao Việt Nam - Hàn Quốc",
    rule=Recurrence("yearly", 22, (12,)), date_text="22/12", kind=OccasionKind.RELATIONS,
    since=1992,
)
TET = Occasion(id="tet", title="Tết Nguyên Đán", rule=Recurrence("yearly", 1, (1,), lunar=True),
               date_text="Tết Nguyên Đán", kind=OccasionKind.NEW_YEAR)
AGREEMENT = Agreement(id="jeollabuk-2017", title="Thỏa thuận hợp tác Đắk Lắk - Jeollabuk-do",
                      signed=date(2017, 12, 22), valid_years=5, review_every_years=2)
PLANS = Plans(occasions=(OCCASION, TET), agreements=(AGREEMENT,), plans=(PLAN,))


def by_key(start: date, end: date, plans: Plans = PLANS) -> dict[str, object]:
    return {o.key: o for o in expand(plans, start, end, CAL)}


def test_task_deadline_is_the_day_before_for_truoc_ngay() -> None:
    occ = by_key(date(2022, 1, 1), date(2022, 12, 31))["task/bg-kr30-2022/1.3a"]
    assert occ.date == date(2022, 8, 14)
    assert occ.nominal == date(2022, 8, 15)
    assert occ.kind is OccurrenceKind.DEADLINE
    assert occ.coordinator == "snv"


def test_inclusive_override_uses_the_written_day() -> None:
    task = replace(PLAN.tasks[0], inclusive=True)
    plans = replace(PLANS, plans=(replace(PLAN, tasks=(task,)),))
    occ = by_key(date(2022, 1, 1), date(2022, 12, 31), plans)["task/bg-kr30-2022/1.3a"]
    assert occ.date == date(2022, 8, 15)
    assert occ.nominal is None


def test_window_is_shown_at_its_end() -> None:
    occ = by_key(date(2022, 1, 1), date(2022, 12, 31))["task/bg-kr30-2022/2.2"]
    assert (occ.date, occ.start, occ.end) == (date(2022, 6, 30), date(2022, 1, 1),
                                              date(2022, 6, 30))


def test_reports_recur_within_the_plan_year_with_period_keys() -> None:
    found = by_key(date(2020, 1, 1), date(2025, 12, 31))
    reports = sorted(k for k in found if k.startswith("task/bg-kr30-2022/bc"))
    assert reports == ["task/bg-kr30-2022/bc@2022-06", "task/bg-kr30-2022/bc@2022-12"]
    assert found["task/bg-kr30-2022/bc@2022-06"].date == date(2022, 6, 30)


def test_anniversary_ordinal_and_round_flag() -> None:
    found = by_key(date(2022, 1, 1), date(2026, 12, 31))
    y2022 = found["occasion/kr-relations@2022"]
    assert y2022.title == "Kỷ niệm 30 năm thiết lập quan hệ ngoại giao Việt Nam - Hàn Quốc"
    assert y2022.round and y2022.ordinal == 30 and y2022.kind is OccurrenceKind.ANNIVERSARY
    y2026 = found["occasion/kr-relations@2026"]
    assert y2026.title.startswith("Kỷ niệm 34 năm") and not y2026.round


def test_lunar_occasion_lands_on_the_vietnamese_tet() -> None:
    found = by_key(date(2027, 1, 1), date(2030, 12, 31))
    assert found["occasion/tet@2027"].date == date(2027, 2, 6)
    assert found["occasion/tet@2030"].date == date(2030, 2, 2)


def test_agreement_reviews_every_two_years_and_expiry_after_five() -> None:
    found = by_key(date(2017, 1, 1), date(2030, 12, 31))
    reviews = sorted(k for k in found if "/review@" in k)
    assert reviews == ["agreement/jeollabuk-2017/review@2019",
                       "agreement/jeollabuk-2017/review@2021"]
    assert found["agreement/jeollabuk-2017/expiry"].date == date(2022, 12, 22)


def test_expiry_on_a_day_off_moves_to_the_next_working_day() -> None:
    # 01/01/2022 + 5 years = Fri 01/01/2027, New Year's Day -> Mon 04/01/2027 (Art. 148(5)).
    agreement = replace(AGREEMENT, id="x", signed=date(2022, 1, 1), review_every_years=None)
    plans = Plans(agreements=(agreement,))
    assert by_key(date(2026, 1, 1), date(2027, 12, 31), plans)["agreement/x/expiry"].date == \
        date(2027, 1, 4)


def test_keys_stable_under_reordering_and_across_runs() -> None:
    first = [o.key for o in expand(PLANS, date(2020, 1, 1), date(2030, 12, 31), CAL)]
    shuffled = Plans(
        occasions=tuple(reversed(PLANS.occasions)),
        agreements=PLANS.agreements,
        plans=(replace(PLAN, tasks=tuple(reversed(PLAN.tasks))),),
    )
    again = [o.key for o in expand(shuffled, date(2020, 1, 1), date(2030, 12, 31), CAL)]
    assert first == again
    assert len(set(first)) == len(first)


def test_moving_a_deadline_keeps_its_key() -> None:
    moved = replace(PLAN.tasks[0], when=deadline("Trước ngày 20/8/2022", date(2022, 8, 19),
                                                 date(2022, 8, 20)))
    plans = replace(PLANS, plans=(replace(PLAN, tasks=(moved,)),))
    occ = by_key(date(2022, 1, 1), date(2022, 12, 31), plans)["task/bg-kr30-2022/1.3a"]
    assert occ.date == date(2022, 8, 19)


def test_unscheduled_items_are_listed_not_dropped() -> None:
    items = unscheduled(PLANS)
    assert [i.key for i in items] == ["task/bg-kr30-2022/1.1"]
    assert "Theo Kế hoạch" in items[0].reason


def test_expansion_is_bounded() -> None:
    with pytest.raises(ExpansionLimitError):
        expand(PLANS, date(1950, 1, 1), date(2100, 12, 31), CAL, limit=50)
