"""The bundled plans.yaml encodes the five seed documents faithfully (issue 2, item 8).

Two layers: checks on the raw YAML (always run), and checks on the model built by
``reminderd.plans.loader.load_plans`` (the loader must accept the file with no problem).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from bundled import single_file_text

ROOT = Path(__file__).resolve().parents[1]
PLANS_FILE = ROOT / "plans"  # the bundled folder: one file per document

# Tasks per plan = the documents' counts (see plans.yaml notes for how items were split).
TASK_COUNTS = {
    "dl-kr30-2022": 14,  # 000: II.1 a-d, II.2 a (two dates) b c, II.3 a-d, V.1, V.2
    "bg-kr30-2022": 17,  # 001: 1.1, 1.2 x3, 1.3 x2, 1.4 x2, 1.5, 2.1-2.3, 2.4 x2, 3 x2, IV.2
    "kh-34-2024": 32,  # 002: appendix 3 + 10 + 11 + 7 rows, plus the IV.1 reporting duty
    "bng-kr-promo-2026": 2,  # 003: the programme and the reply deadline
}

# (plan, task) -> (when as written, lead ids, support ids)
TASKS: dict[tuple[str, str], tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    # document 000
    ("dl-kr30-2022", "II.1.a"): ("Năm 2022", ("dl-songoaivu",), ("dl-lienquan",)),
    ("dl-kr30-2022", "II.2.a.1"): ("ngày 03/10/2022", ("dl-songoaivu",), ("dl-lienquan",)),
    ("dl-kr30-2022", "II.2.a.2"): ("ngày 22/12/2022", ("dl-songoaivu",), ("dl-lienquan",)),
    ("dl-kr30-2022", "II.3.d"): ("vào tháng 07/2022", ("dl-songoaivu",), ("dl-lienquan",)),
    ("dl-kr30-2022", "V.1"): ("vào tháng 01/2023", ("dl-songoaivu",), ("dl-lienquan",)),
    ("dl-kr30-2022", "V.2"): ("6 tháng, hằng năm", ("dl-lienquan",), ()),
    # document 001
    ("bg-kr30-2022", "1.1"): (
        "Theo Kế hoạch của đoàn cấp cao",
        ("bg-songoaivu",),
        (
            "bg-vp-tinhuy",
            "bg-vp-ubnd",
            "bg-sokhdt",
            "bg-socongthuong",
            "bg-sovhttdl",
            "bg-bqlkcn",
            "bg-lienquan",
            "bg-ubnd-huyen",
        ),
    ),
    ("bg-kr30-2022", "1.2a.1"): (
        "quý II, III",
        ("bg-songoaivu",),
        (
            "bg-vp-tinhuy",
            "bg-vp-ubnd",
            "bg-sokhdt",
            "bg-socongthuong",
            "bg-sovhttdl",
            "bg-sokhcn",
            "bg-bqlkcn",
        ),
    ),
    ("bg-kr30-2022", "1.2a.2"): (
        "Quý III, IV",
        ("bg-songoaivu",),
        (
            "bg-vp-tinhuy",
            "bg-vp-ubnd",
            "bg-sokhdt",
            "bg-socongthuong",
            "bg-sovhttdl",
            "bg-sokhcn",
            "bg-bqlkcn",
        ),
    ),
    ("bg-kr30-2022", "1.2b"): ("Năm 2022", (), ()),
    ("bg-kr30-2022", "1.3a"): ("Trước ngày 15/8/2022", ("bg-songoaivu",), ("bg-vp-ubnd",)),
    ("bg-kr30-2022", "1.3b"): (
        "Trước ngày 22/12/2022",
        ("bg-songoaivu",),
        ("bg-vp-ubnd", "bg-sokhdt", "bg-cdn-viethan"),
    ),
    ("bg-kr30-2022", "1.4a"): ("Từ tháng 2 năm 2022", ("bg-songoaivu",), ("bg-lienquan",)),
    ("bg-kr30-2022", "1.4b"): (
        "Từ tháng 2 năm 2022",
        ("bg-ubnd-huyen",),
        ("bg-songoaivu", "bg-lienquan"),
    ),
    ("bg-kr30-2022", "1.5"): ("Năm 2022", ("bg-ubnd-tpbg",), ("bg-songoaivu", "bg-lienquan")),
    ("bg-kr30-2022", "2.1"): ("Quý I năm 2022", ("bg-sokhdt",), ("bg-lienquan",)),
    ("bg-kr30-2022", "2.2"): (
        "Quý I hoặc quý II năm 2022",
        ("bg-sovhttdl",),
        (
            "bg-hiephoi-dn",
            "bg-hoi-dntre",
            "bg-lhhn",
            "bg-hhn-hanquoc",
            "bg-songoaivu",
            "bg-sokhdt",
            "bg-bqlkcn",
            "bg-cdn-viethan",
            "bg-samsung-hope",
            "bg-lienquan",
            "bg-ubnd-huyen",
        ),
    ),
    ("bg-kr30-2022", "2.3"): ("Quý III năm 2022", ("bg-cdn-viethan",), ()),
    ("bg-kr30-2022", "2.4a"): ("Quý II năm 2022", ("bg-sogddt",), ("bg-songoaivu", "bg-soldtbxh")),
    ("bg-kr30-2022", "2.4b"): ("Quý III năm 2022", ("bg-cdn-viethan",), ()),
    ("bg-kr30-2022", "3a"): (
        "năm 2022",
        ("bg-baobacgiang", "bg-dai-ptth"),
        ("bg-vp-ubnd", "bg-sotttt", "bg-songoaivu"),
    ),
    ("bg-kr30-2022", "3b"): (
        "Quý III năm 2022",
        ("bg-sokhdt", "bg-socongthuong", "bg-sovhttdl"),
        ("bg-songoaivu", "bg-lienquan", "bg-ubnd-huyen"),
    ),
    ("bg-kr30-2022", "IV.2"): ("trước ngày 31/12/2022", ("bg-songoaivu",), ()),
    # document 002 (appendix)
    ("kh-34-2024", "I-1"): ("Thường xuyên trong năm 2024", ("dl-all",), ()),
    ("kh-34-2024", "I-2"): ("Thường xuyên trong năm 2024", ("dl-songoaivu",), ("dl-lienquan",)),
    ("kh-34-2024", "I-3"): ("Trong năm 2024", ("dl-songoaivu",), ("dl-lienquan",)),
    ("kh-34-2024", "II-1"): (
        "Trong năm 2024",
        ("dl-songoaivu", "dl-lhhn", "dl-hoi-thanh-vien"),
        (),
    ),
    ("kh-34-2024", "II-2"): ("Trong năm 2024", ("dl-sovhttdl", "dl-songoaivu", "dl-lienquan"), ()),
    ("kh-34-2024", "II-3"): ("Trong năm 2024", ("dl-sotttt",), ("dl-lienquan",)),
    ("kh-34-2024", "II-4"): ("Trong năm 2024", ("dl-songoaivu", "dl-sovhttdl", "dl-lienquan"), ()),
    ("kh-34-2024", "II-5"): ("Trong năm 2024", ("dl-hhn-lao",), ("dl-lienquan",)),
    ("kh-34-2024", "II-6"): ("Quý II/2024", ("dl-hhn-campuchia",), ("dl-lienquan",)),
    ("kh-34-2024", "II-7"): ("Quý II/2024", ("dl-sovhttdl",), ("dl-lienquan",)),
    ("kh-34-2024", "II-8"): ("Quý III/2024", ("dl-sovhttdl",), ("dl-lienquan",)),
    ("kh-34-2024", "II-9"): ("Quý III/2024", ("dl-ubnd-easup",), ("dl-lienquan",)),
    ("kh-34-2024", "II-10"): ("Tháng 10/2024", ("dl-sovhttdl",), ("dl-lienquan",)),
    ("kh-34-2024", "III-1"): ("Trong năm 2024", ("dl-lhhn",), ("dl-lienquan",)),
    ("kh-34-2024", "III-2"): ("Trong năm 2024", ("dl-lhhn",), ("dl-lienquan",)),
    ("kh-34-2024", "III-3"): ("Trong năm 2024", ("dl-lhhn",), ("dl-lienquan",)),
    ("kh-34-2024", "III-4"): ("Trong năm 2024", ("dl-hhn-nhatban",), ("dl-lienquan",)),
    ("kh-34-2024", "III-5"): ("Trong năm 2024", ("dl-hhn-nhatban",), ("dl-lienquan",)),
    ("kh-34-2024", "III-6"): ("Trong năm 2024", ("dl-hhn-nhatban",), ("dl-lienquan",)),
    ("kh-34-2024", "III-7"): ("Trong năm 2024", ("dl-hhn-hanquoc",), ("dl-lienquan",)),
    ("kh-34-2024", "III-8"): ("Trong năm 2024", ("dl-hhn-hanquoc",), ("dl-lienquan",)),
    ("kh-34-2024", "III-9"): ("Tháng 4/2024", ("dl-hhn-lao", "dl-ubnd-buondon", "dl-lienquan"), ()),
    ("kh-34-2024", "III-10"): ("Tháng 6/2024", ("dl-sovhttdl",), ("dl-songoaivu", "dl-lienquan")),
    ("kh-34-2024", "III-11"): ("Tháng 12/2024", ("dl-hhn-lao",), ("dl-lienquan",)),
    ("kh-34-2024", "IV-1"): ("Trong năm 2024", ("dl-songoaivu",), ()),
    ("kh-34-2024", "IV-2"): ("Trong năm 2024", ("dl-songoaivu",), ()),
    ("kh-34-2024", "IV-3"): ("Trong năm 2024", ("dl-songoaivu", "dl-sovhttdl", "dl-all"), ()),
    ("kh-34-2024", "IV-4"): ("Trong năm 2024", ("dl-all",), ()),
    ("kh-34-2024", "IV-5"): ("Trong năm 2024", ("dl-songoaivu",), ("dl-lienquan",)),
    ("kh-34-2024", "IV-6"): ("Trong năm 2024", ("dl-songoaivu",), ("dl-sovhttdl",)),
    ("kh-34-2024", "IV-7"): ("Trong năm 2024", ("dl-all",), ()),
    ("kh-34-2024", "TCTH-IV.1"): ("6 tháng, hằng năm", ("dl-all",), ()),
    # document 003
    ("bng-kr-promo-2026", "1"): (
        "05 ngày làm việc trong nửa cuối tháng 7/2026",
        ("dl-songoaivu",),
        ("dl-lienquan",),
    ),
    ("bng-kr-promo-2026", "2"): (
        "trước ngày 12/6/2026",
        ("dl-songoaivu",),
        ("dl-vp-ubnd", "dl-lienquan"),
    ),
}

# The funding column of document 002 goes into notes, row by row.
FUNDING_002 = {
    "I-1": "Không phát sinh",
    "II-1": "Nguồn ngân sách nhà nước năm 2024 cấp cho các đơn vị",
    "II-2": "Không phát sinh kinh phí",
    "II-9": "Không phát sinh kinh phí",
    "III-9": "Nguồn ngân sách nhà nước năm 2024 cấp cho các đơn vị",
    "III-10": "Nguồn xã hội hoá",
    "IV-6": "Không phát sinh",
}

# occasion id -> (date text, kind, since, months, day, lunar)
OCCASIONS: dict[str, tuple[str, str, int | None, tuple[int, ...], int, bool]] = {
    "kr-national-foundation-day": ("03/10", "national_day", None, (10,), 3, False),
    "kr-liberation-day": ("15/8", "national_day", None, (8,), 15, False),
    "kr-relations": ("22/12", "relations", 1992, (12,), 22, False),
    "jeollabuk-friendship": ("22/12", "relations", 2017, (12,), 22, False),
    "bg-cdn-viethan-founding": ("30/08", "other", 2012, (8,), 30, False),
    "tet-nguyen-dan": ("Tết Nguyên Đán", "new_year", None, (1,), 1, True),
    "la-bun-pi-may": ("14/4", "new_year", None, (4,), 14, False),
    "kh-chol-chnam-thmay": ("14/4", "new_year", None, (4,), 14, False),
    "la-national-day": ("02/12", "national_day", None, (12,), 2, False),
    "se-relations": ("11/01", "relations", 1969, (1,), 11, False),
    "mn-relations": ("17/11", "relations", 1954, (11,), 17, False),
    "br-relations": ("08/05", "relations", 1989, (5,), 8, False),
    "jp-relations": ("21/09", "relations", 1973, (9,), 21, False),
    "jp-national-day": ("23/02", "national_day", None, (2,), 23, False),
}

# Spellings the documents use -> the agency they resolve to.
ALIASES = {
    "Sở Ngoại vụ": "dl-songoaivu",
    "SNV": "dl-songoaivu",
    "Sở VHTTDL": "dl-sovhttdl",
    "Sở Văn hóa, Thể thao và Du lịch": "dl-sovhttdl",
    "Văn hóa, Thể thao và Du lịch": "dl-sovhttdl",
    "Văn phòng UBND tỉnh": "dl-vp-ubnd",
    "VP UBND tỉnh": "dl-vp-ubnd",
    "Liên hiệp các tổ chức hữu nghị tỉnh": "dl-lhhn",
    "Hội hữu nghị Việt Nam - Lào tỉnh": "dl-hhn-lao",
    "Hội hữu nghị Việt Nam - Campuchia tỉnh": "dl-hhn-campuchia",
    "Hội Hữu nghị Việt Nam - Nhật Bản tỉnh": "dl-hhn-nhatban",
    "Hội Hữu nghị Việt Nam - Hàn Quốc tỉnh": "dl-hhn-hanquoc",
    "UBND huyện Ea Súp": "dl-ubnd-easup",
    "UBND huyện Buôn Đôn": "dl-ubnd-buondon",
    "Các cơ quan, đơn vị liên quan": "dl-lienquan",
    "Các đơn vị liên quan": "dl-lienquan",
    "các cơ quan, đơn vị có liên quan": "dl-lienquan",
    "Các cơ quan, đơn vị, địa phương trong tỉnh": "dl-all",
    "Các cơ quan, đơn vị, địa phương trên địa bàn tỉnh": "dl-all",
    "Sở Ngoại vụ (Bắc Giang)": "bg-songoaivu",
    "Văn phòng UBND tỉnh (Bắc Giang)": "bg-vp-ubnd",
    "Báo Bắc Giang": "bg-baobacgiang",
    "UBND thành phố Bắc Giang": "bg-ubnd-tpbg",
    "Trường Cao đẳng Nghề công nghệ Việt – Hàn": "bg-cdn-viethan",  # en dash (001, 2.2)
    "Trường Cao đẳng nghề Công nghệ Việt - Hàn": "bg-cdn-viethan",  # hyphen (001, 2.3)
    "Trường Cao đẳng Nghề công nghệ Việt- Hàn": "bg-cdn-viethan",  # 001, Nơi nhận
    "Cao đẳng Nghề công nghệ Việt - Hàn": "bg-cdn-viethan",  # 001, 1.3
    "Ngôi trường Hy vọng Samsung (Hiệp Hòa)": "bg-samsung-hope",
}


# ---------------------------------------------------------------------------- raw YAML


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data = yaml.safe_load(single_file_text())
    assert isinstance(data, dict)
    return data


def _raw_tasks(raw: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["id"], str(t["id"])): t for p in raw["plans"] for t in p["tasks"]}


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def test_raw_task_counts(raw: dict[str, Any]) -> None:
    assert {p["id"]: len(p["tasks"]) for p in raw["plans"]} == TASK_COUNTS


def test_raw_tasks_as_written(raw: dict[str, Any]) -> None:
    tasks = _raw_tasks(raw)
    for key, (when, lead, support) in TASKS.items():
        task = tasks[key]
        assert task["when"] == when, key
        assert _as_tuple(task.get("lead")) == lead, key
        assert _as_tuple(task.get("support")) == support, key


def test_raw_time_values_are_strings(raw: dict[str, Any]) -> None:
    """No YAML implicit typing: every date-like value is quoted text."""
    for plan in raw["plans"]:
        for task in plan["tasks"]:
            assert isinstance(task["when"], str)
            assert isinstance(task["id"], str)
    for occasion in raw["occasions"]:
        assert isinstance(occasion["date"], str)
    for agreement in raw["agreements"]:
        assert isinstance(agreement["signed"], str)


def test_raw_every_seed_phrase_is_used(raw: dict[str, Any]) -> None:
    whens = {t["when"] for p in raw["plans"] for t in p["tasks"]}
    for phrase in (
        "Trước ngày 15/8/2022",
        "Trước ngày 22/12/2022",
        "vào tháng 01/2023",
        "trước ngày 31/12/2022",
        "Quý I năm 2022",
        "Quý I hoặc quý II năm 2022",
        "quý II, III",
        "Quý III, IV",
        "Quý II/2024",
        "Tháng 10/2024",
        "Tháng 4/2024",
        "Tháng 6/2024",
        "Tháng 12/2024",
        "Trong năm 2024",
        "Thường xuyên trong năm 2024",
        "Năm 2022",
        "Từ tháng 2 năm 2022",
        "trước ngày 12/6/2026",
        "05 ngày làm việc trong nửa cuối tháng 7/2026",
        "6 tháng, hằng năm",
        "Theo Kế hoạch của đoàn cấp cao",
    ):
        assert phrase in whens, phrase


def test_raw_funding_in_notes(raw: dict[str, Any]) -> None:
    tasks = _raw_tasks(raw)
    for task_id, funding in FUNDING_002.items():
        assert f"Kinh phí thực hiện: {funding}." in tasks[("kh-34-2024", task_id)]["notes"]


def test_raw_emails_are_reserved_example_domains(raw: dict[str, Any]) -> None:
    for agency in raw["agencies"]:
        emails = _as_tuple(agency.get("emails"))
        assert emails, agency["id"]
        for email in emails:
            assert email.endswith(".example"), (agency["id"], email)
    text = single_file_text()
    assert "@gmail.com" not in text  # document 003's real contact address is not copied
    assert "dp.nvvh@bng.example" in text


def test_raw_no_header_injection_material(raw: dict[str, Any]) -> None:
    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, f"{path}[{i}]")
        else:
            yield path, node

    for path, value in walk(raw, ""):
        if isinstance(value, str):
            assert "\r" not in value and "\n" not in value, path
            assert "=?" not in value, path


# ---------------------------------------------------------------------------- the loader


@pytest.fixture(scope="module")
def plans() -> Any:
    from reminderd.plans.loader import PlansError, load_plans

    try:
        return load_plans(PLANS_FILE)
    except PlansError as exc:  # pragma: no cover - shows every problem on failure
        pytest.fail("plans.yaml has problems:\n" + "\n".join(str(p) for p in exc.problems))


def _plan(plans: Any, plan_id: str) -> Any:
    return next(p for p in plans.plans if p.id == plan_id)


def _task(plans: Any, plan_id: str, task_id: str) -> Any:
    return next(t for t in _plan(plans, plan_id).tasks if t.id == task_id)


def test_loads_and_counts(plans: Any) -> None:
    assert {p.id: len(p.tasks) for p in plans.plans} == TASK_COUNTS
    assert len(plans.occasions) == len(OCCASIONS)
    assert {a.id for a in plans.agreements} == {"jeollabuk-2017", "jeollabuk-edu-mou-2018"}


def test_plan_headers(plans: Any) -> None:
    expected = {
        "dl-kr30-2022": (2022, "dl-songoaivu"),
        "bg-kr30-2022": (2022, "bg-songoaivu"),
        "kh-34-2024": (2024, "dl-songoaivu"),
        "bng-kr-promo-2026": (2026, "dl-songoaivu"),
    }
    for plan_id, (year, coordinator) in expected.items():
        plan = _plan(plans, plan_id)
        assert (plan.year, plan.coordinator) == (year, coordinator), plan_id
    assert "34/KH-UBND ngày 22/02/2024" in _plan(plans, "kh-34-2024").reference
    assert "/KH-UBND" in _plan(plans, "bg-kr30-2022").reference
    assert "/BNG-NVVH" in _plan(plans, "bng-kr-promo-2026").reference


def test_tasks_when_lead_support(plans: Any) -> None:
    for (plan_id, task_id), (when, lead, support) in TASKS.items():
        task = _task(plans, plan_id, task_id)
        assert task.when.text == when, (plan_id, task_id)
        assert tuple(task.lead) == lead, (plan_id, task_id)
        assert tuple(task.support) == support, (plan_id, task_id)


def test_key_timings(plans: Any) -> None:
    """A few readings that the reminders depend on (time-expressions.md)."""
    unscheduled = _task(plans, "bg-kr30-2022", "1.1").when
    assert str(unscheduled.kind) == "unscheduled"

    greeting = _task(plans, "bg-kr30-2022", "1.3a").when  # "Trước ngày" is exclusive
    assert str(greeting.kind) == "deadline"
    assert greeting.end == date(2022, 8, 14)
    assert greeting.nominal == date(2022, 8, 15)

    report = _task(plans, "dl-kr30-2022", "V.1").when
    assert (report.start, report.end) == (date(2023, 1, 1), date(2023, 1, 31))

    quarters = _task(plans, "bg-kr30-2022", "2.2").when
    assert (quarters.start, quarters.end) == (date(2022, 1, 1), date(2022, 6, 30))

    programme = _task(plans, "bng-kr-promo-2026", "1").when
    assert str(programme.kind) == "window"
    assert (programme.start, programme.end) == (date(2026, 7, 16), date(2026, 7, 31))
    assert programme.workdays == 5

    reply = _task(plans, "bng-kr-promo-2026", "2").when
    assert str(reply.kind) == "deadline"
    assert reply.end == date(2026, 6, 11)
    assert reply.nominal == date(2026, 6, 12)

    for plan_id, task_id in (("dl-kr30-2022", "V.2"), ("kh-34-2024", "TCTH-IV.1")):
        duty = _task(plans, plan_id, task_id).when
        assert str(duty.kind) == "recurring", task_id
        assert duty.recurrence is not None
        assert set(duty.recurrence.months) == {6, 12}, task_id


def test_occasions(plans: Any) -> None:
    by_id = {o.id: o for o in plans.occasions}
    for occasion_id, (text, kind, since, months, day, lunar) in OCCASIONS.items():
        occasion = by_id[occasion_id]
        assert occasion.date_text == text, occasion_id
        assert str(occasion.kind) == kind, occasion_id
        assert occasion.since == since, occasion_id
        assert tuple(occasion.rule.months) == months, occasion_id
        assert occasion.rule.day == day, occasion_id
        assert occasion.rule.lunar is lunar, occasion_id
        assert occasion.lead, occasion_id  # every occasion has someone to remind
        assert "Nguồn:" in occasion.notes, occasion_id  # says which document it comes from


def test_agreements(plans: Any) -> None:
    by_id = {a.id: a for a in plans.agreements}
    jeollabuk = by_id["jeollabuk-2017"]
    assert jeollabuk.signed == date(2017, 12, 22)
    assert (jeollabuk.valid_years, jeollabuk.review_every_years) == (5, 2)
    assert "Phạm Ngọc Nghị" in jeollabuk.reference
    assert "Song Ha Chin" in jeollabuk.reference
    assert jeollabuk.lead == ("dl-songoaivu",)

    mou = by_id["jeollabuk-edu-mou-2018"]
    assert mou.signed == date(2018, 2, 27)
    assert mou.valid_years == 5
    assert mou.review_every_years is None
    assert "suy ra" in mou.notes  # the inferred term is flagged


def test_agency_directory(plans: Any) -> None:
    ids = [a.id for a in plans.agencies]
    assert len(ids) == len(set(ids))
    for agency in plans.agencies:
        assert agency.emails, agency.id
        assert all(e.endswith(".example") for e in agency.emails), agency.id
    # both provinces have their own offices
    assert {"dl-songoaivu", "bg-songoaivu", "dl-vp-ubnd", "bg-vp-ubnd"} <= set(ids)


def test_document_spellings_resolve(plans: Any) -> None:
    from reminderd.plans.names import resolve_agency

    for spelling, agency_id in ALIASES.items():
        assert resolve_agency(plans, spelling) == agency_id, spelling
