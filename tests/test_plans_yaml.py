"""plans.yaml loader: exact places and remedies for each mistake, YAML traps, hostile input."""

from __future__ import annotations

import gc
import itertools
import random
import re
import time
import unicodedata
from dataclasses import fields, is_dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reminderd.core.model import Agency, Agreement, Occasion, OccasionKind, Plan, Plans, Task
from reminderd.core.timeexpr import parse_time
from reminderd.core.timing import Kind
from reminderd.plans import loader as plans_yaml
from reminderd.plans import schema as plans_schema
from reminderd.plans.loader import PlansError, load_plans, load_plans_text

# 9 lines: documents below start their own sections on line 10.
AGENCIES = """\
agencies:
  - id: songoaivu
    name: Sở Ngoại vụ tỉnh Đắk Lắk
    emails: [lich@songoaivu.example]
    aliases: ["Sở Ngoại vụ", "SNV"]
  - id: sovhttdl
    name: Sở Văn hóa, Thể thao và Du lịch
    emails: vhttdl@dulich.example
    aliases: ["Sở VHTTDL"]
"""


def problems(text: str, filename: str = "plans.yaml") -> list[str]:
    with pytest.raises(PlansError) as info:
        load_plans_text(text, filename)
    found = [str(p) for p in info.value.problems]
    assert found == str(info.value).splitlines()
    return found


def problem_at(text: str, place: str, *words: str) -> str:
    """The one problem reported at ``place`` ("LINE:COL"); it must contain ``words``."""
    found = problems(text)
    here = [p for p in found if p.startswith(f"plans.yaml:{place}: ")]
    assert len(here) == 1, found
    for word in words:
        assert word in here[0], (word, here[0])
    return here[0]


def plan_doc(tasks: str, *, header: str = AGENCIES, plan_extra: str = "") -> str:
    """AGENCIES, then one plan (lines 10-14) whose tasks start on line 15."""
    return (
        header
        + "plans:\n"
        + "  - id: kh-34-2024\n"
        + "    title: Kế hoạch hoạt động đối ngoại năm 2024\n"
        + "    year: 2024\n"
        + plan_extra
        + "    tasks:\n"
        + tasks
    )


# ------------------------------------------------------------------ a valid document


VALID = """\
version: 1
coordinator: SNV
agencies:
  - id: songoaivu
    name: Sở Ngoại vụ tỉnh Đắk Lắk
    emails: [lich@songoaivu.example, "vanthu@songoaivu.example"]
    aliases: ["Sở Ngoại vụ", "SNV"]
  - id: sovhttdl
    name: Sở Văn hóa, Thể thao và Du lịch
    emails: vhttdl@dulich.example
    aliases: ["Sở VHTTDL"]
  - id: vp-ubnd
    name: Văn phòng UBND tỉnh
occasions:
  - id: kr-relations
    title: Ngày thiết lập quan hệ ngoại giao Việt Nam - Hàn Quốc
    date: 22/12
    kind: relations
    since: 1992
    lead: songoaivu
    support: [Sở VHTTDL, vp-ubnd]
    remind: [90, 30, 14]
  - id: tet
    title: Tết Nguyên Đán
    date: Tết Nguyên Đán
    kind: new_year
agreements:
  - id: jeollabuk-2017
    title: Thỏa thuận hợp tác giữa tỉnh Đắk Lắk và tỉnh Jeollabuk-do
    parties: ["UBND tỉnh Đắk Lắk", "Chính quyền tỉnh Jeollabuk-do"]
    signed: 22/12/2017
    valid_years: 5
    review_every_years: 2
    reference: Thỏa thuận ký ngày 22/12/2017
    lead: songoaivu
    remind: []
plans:
  - id: bg-kr30-2022
    title: Kế hoạch tổ chức các hoạt động kỷ niệm 30 năm quan hệ Việt Nam - Hàn Quốc
    reference: "Kế hoạch số 12/KH-UBND ngày 20/01/2022 của UBND tỉnh Bắc Giang"
    year: 2022
    notes: |
      Dòng một.
      Dòng hai.
    tasks:
      - id: "1.3a"
        title: Gửi thư chúc mừng
        when: "  Trước ngày 15/8/2022 "
        lead: SNV
        support: [vp-ubnd, "sở   vhttdl", Sở VHTTDL, songoaivu]
        inclusive: FALSE
        done: 10/8/2022
        remind: [1, 7]
      - id: "1.10"
        title: no
        when: 2022-06-12
  - id: kh-34-2024
    title: Kế hoạch hoạt động đối ngoại năm 2024
    year: 2024
    end_year: 2025
    coordinator: vp-ubnd
    tasks:
      - {id: a, title: Báo cáo, when: Quý II/2024, lead: [sovhttdl]}
"""


def test_valid_document_builds_the_expected_model() -> None:
    plans = load_plans_text(VALID)
    assert plans.source == "plans.yaml"
    assert plans.agencies == (
        Agency(
            id="songoaivu",
            name="Sở Ngoại vụ tỉnh Đắk Lắk",
            emails=("lich@songoaivu.example", "vanthu@songoaivu.example"),
            aliases=("Sở Ngoại vụ", "SNV"),
            origin="plans.yaml:4:5",
        ),
        Agency(
            id="sovhttdl",
            name="Sở Văn hóa, Thể thao và Du lịch",
            emails=("vhttdl@dulich.example",),
            aliases=("Sở VHTTDL",),
            origin="plans.yaml:8:5",
        ),
        Agency(id="vp-ubnd", name="Văn phòng UBND tỉnh", origin="plans.yaml:12:5"),
    )
    relations, tet = plans.occasions
    assert relations == Occasion(
        id="kr-relations",
        title="Ngày thiết lập quan hệ ngoại giao Việt Nam - Hàn Quốc",
        rule=relations.rule,
        date_text="22/12",
        kind=OccasionKind.RELATIONS,
        since=1992,
        lead=("songoaivu",),
        support=("sovhttdl", "vp-ubnd"),
        remind=(90, 30, 14),
        origin="plans.yaml:15:5",
    )
    assert (relations.rule.day, relations.rule.months, relations.rule.lunar) == (22, (12,), False)
    assert tet.rule.lunar and (tet.rule.day, tet.rule.months) == (1, (1,))
    assert tet.kind is OccasionKind.NEW_YEAR and tet.remind is None and tet.since is None
    assert plans.agreements == (
        Agreement(
            id="jeollabuk-2017",
            title="Thỏa thuận hợp tác giữa tỉnh Đắk Lắk và tỉnh Jeollabuk-do",
            signed=date(2017, 12, 22),
            parties=("UBND tỉnh Đắk Lắk", "Chính quyền tỉnh Jeollabuk-do"),
            valid_years=5,
            review_every_years=2,
            lead=("songoaivu",),
            reference="Thỏa thuận ký ngày 22/12/2017",
            remind=(),
            origin="plans.yaml:28:5",
        ),
    )
    kr30, kh34 = plans.plans
    assert replace(kr30, tasks=()) == Plan(
        id="bg-kr30-2022",
        title="Kế hoạch tổ chức các hoạt động kỷ niệm 30 năm quan hệ Việt Nam - Hàn Quốc",
        year=2022,
        reference="Kế hoạch số 12/KH-UBND ngày 20/01/2022 của UBND tỉnh Bắc Giang",
        coordinator="songoaivu",  # the top-level coordinator, given by alias
        notes="Dòng một.\nDòng hai.",
        origin="plans.yaml:38:5",
    )
    assert kr30.tasks == (
        Task(
            id="1.3a",
            title="Gửi thư chúc mừng",
            when=parse_time("Trước ngày 15/8/2022", 2022),
            lead=("songoaivu",),
            support=("vp-ubnd", "sovhttdl", "songoaivu"),
            inclusive=False,
            done=date(2022, 8, 10),
            remind=(7, 1),
            origin="plans.yaml:46:9",
        ),
        Task(
            id="1.10",  # not the float 1.1
            title="no",  # not False
            when=parse_time("2022-06-12", 2022),
            origin="plans.yaml:54:9",
        ),
    )
    first = kr30.tasks[0].when
    assert first.text == "Trước ngày 15/8/2022"  # as written, outer blanks stripped
    assert (first.end, first.nominal) == (date(2022, 8, 14), date(2022, 8, 15))
    assert kr30.tasks[1].inclusive is None
    assert (kh34.coordinator, kh34.end_year) == ("vp-ubnd", 2025)
    (report,) = kh34.tasks
    assert report.when.kind is Kind.WINDOW
    assert (report.when.start, report.when.end) == (date(2024, 4, 1), date(2024, 6, 30))
    assert report.lead == ("sovhttdl",) and report.origin == "plans.yaml:63:9"


def test_load_plans_reads_a_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "plans.yaml"
    path.write_text(VALID, encoding="utf-8")
    plans = load_plans(path)
    assert plans.source == str(path)
    assert plans.agencies[0].origin == f"{path}:4:5"
    path.write_text("plans: 5\n", encoding="utf-8")
    with pytest.raises(PlansError) as info:
        load_plans(path)
    assert str(info.value).startswith(f"{path}:1:8: plans: expected a list of plans")


# ------------------------------------------------------------- YAML implicit typing


def test_iso_date_is_text_for_our_grammar() -> None:
    plans = load_plans_text(plan_doc("      - {id: a, title: T, when: 2026-06-12}\n"))
    timing = plans.plans[0].tasks[0].when
    assert timing.text == "2026-06-12"
    assert timing.kind is Kind.DEADLINE and timing.end == date(2026, 6, 12)


def test_no_is_not_a_boolean_write_true_or_false() -> None:
    doc = plan_doc(
        "      - id: a\n        title: T\n        when: Quý II/2024\n        inclusive: no\n"
    )
    problem_at(doc, "18:20", "inclusive: 'no' is not true or false", "write true or false")


def test_sexagesimal_is_an_error_from_the_grammar_not_190() -> None:
    doc = plan_doc("      - id: a\n        title: T\n        when: 3:10\n")
    problem_at(doc, "17:15", "cannot read time phrase '3:10'")


@pytest.mark.parametrize("text", ["22:30", "2026-02-30", "0o17", "1e3", ".inf", "yes", "~x"])
def test_other_implicit_types_stay_text(text: str) -> None:
    doc = plan_doc(f"      - id: a\n        title: {text}\n        when: Quý II/2024\n")
    assert load_plans_text(doc).plans[0].tasks[0].title == text


def test_impossible_iso_date_is_reported_with_its_place() -> None:
    doc = plan_doc("      - id: a\n        title: T\n        when: 2026-02-30\n")
    problem_at(doc, "17:15", "cannot read time phrase '2026-02-30'", "February 2026 has 28 days")


def test_quoted_and_unquoted_values_mean_the_same() -> None:
    def occasion(date_text: str, year: str) -> str:
        return (
            AGENCIES + "occasions:\n  - id: o\n    title: O\n"
            f"    date: {date_text}\n    since: {year}\n"
        )

    plain = load_plans_text(occasion("22/12", "1992")).occasions[0]
    quoted = load_plans_text(occasion('"22/12"', "'1992'")).occasions[0]
    assert plain == quoted


# -------------------------------------------------------- mistakes: place and remedy


def test_unknown_key_suggests_the_right_one() -> None:
    doc = plan_doc("      - id: a\n        titel: T\n        when: Quý II/2024\n")
    problem_at(doc, "16:9", "unknown key 'titel' in task; did you mean 'title'?")


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    problem_at(
        AGENCIES + "planz:\n  zzz: 1\n", "10:1", "unknown key 'planz'", "did you mean 'plans'?"
    )
    problem_at("xyzzy: 1\n", "1:1", "unknown key 'xyzzy'", "allowed: version, coordinator")


def test_duplicate_key_names_the_first_line() -> None:
    doc = plan_doc(
        "      - id: a\n        title: T\n        when: Quý II/2024\n        when: Quý III/2024\n"
    )
    problem_at(doc, "18:9", "duplicate key 'when' (first at line 17)")


def test_unknown_agency_suggests_an_alias_with_its_id() -> None:
    doc = plan_doc(
        "      - id: a\n        title: T\n        when: Quý II/2024\n        lead: Sở VHTTL\n"
    )
    problem_at(
        doc, "18:15", "unknown agency 'Sở VHTTL' in lead; did you mean 'Sở VHTTDL' (sovhttdl)?"
    )


def test_unknown_agency_suggests_an_id() -> None:
    doc = plan_doc(
        "      - id: a\n        title: T\n        when: Quý II/2024\n"
        "        support: [songoaivu, sovhtdl]\n"
    )
    problem_at(doc, "18:30", "unknown agency 'sovhtdl' in support; did you mean 'sovhttdl'?")


def test_unknown_agency_without_a_close_match_lists_ids() -> None:
    doc = plan_doc(
        "      - id: a\n        title: T\n        when: Quý II/2024\n        lead: Bộ Y tế\n"
    )
    # no list of the first ids alphabetically: they would be no help
    problem_at(doc, "18:15", "unknown agency 'Bộ Y tế' in lead; no agency is named like it: "
               "add it to agencies (or its name as an alias)")


def test_agency_refs_match_ids_aliases_and_names_loosely() -> None:
    nfd = unicodedata.normalize("NFD", "sở vhttdl")
    doc = plan_doc(
        "      - id: a\n        title: T\n        when: Quý II/2024\n"
        f'        support: [SONGOAIVU, "  {nfd}  ", "Sở Văn hóa,   Thể thao và Du lịch"]\n'
    )
    assert load_plans_text(doc).plans[0].tasks[0].support == ("songoaivu", "sovhttdl")


def test_time_phrase_errors_come_from_the_grammar_at_the_value() -> None:
    doc = plan_doc('      - id: a\n        title: T\n        when: "31/2/2024"\n')
    problem_at(doc, "17:15", "cannot read time phrase '31/2/2024': February 2024 has 29 days")


def test_column_counts_characters_after_vietnamese_text() -> None:
    doc = plan_doc('      - {id: a, title: Gửi thư chúc mừng, when: "31/2/2024"}\n')
    problem_at(doc, "15:49", "cannot read time phrase '31/2/2024'")


def test_missing_required_key_is_reported_at_the_mapping_with_an_example() -> None:
    doc = plan_doc("      - id: a\n        title: T\n        lead: songoaivu\n")
    problem_at(doc, "15:9", "task is missing 'when'; add when: \"Quý II/2024\"")


@pytest.mark.parametrize(
    ("doc", "place", "words"),
    [
        (
            AGENCIES + "  - id: SNGV\n    name: X\n  - id: songoaivu\n    name: Y\n",
            "12:9",
            "duplicate agency id 'songoaivu' (first at line 2)",
        ),
        (
            "occasions:\n  - {id: o, title: O, date: 3/10}\n  - {id: o, title: P, date: 2/9}\n",
            "3:10",
            "duplicate occasion id 'o' (first at line 2)",
        ),
        (
            "agreements:\n  - {id: g, title: G, signed: 1/1/2020}\n"
            "  - {id: g, title: H, signed: 2/2/2020}\n",
            "3:10",
            "duplicate agreement id 'g' (first at line 2)",
        ),
        (
            "plans:\n  - {id: p, title: P, year: 2024}\n  - {id: p, title: Q, year: 2025}\n",
            "3:10",
            "duplicate plan id 'p' (first at line 2)",
        ),
        (
            plan_doc(
                "      - {id: '1.1', title: A, when: Quý I/2024}\n"
                "      - {id: '1.1', title: B, when: Quý II/2024}\n"
            ),
            "16:14",
            "duplicate task id '1.1' (first at line 15)",
        ),
    ],
    ids=["agency", "occasion", "agreement", "plan", "task"],
)
def test_duplicate_ids(doc: str, place: str, words: str) -> None:
    problem_at(doc, place, words)


def test_same_task_id_in_two_plans_is_fine() -> None:
    doc = (
        "plans:\n  - {id: p, title: P, year: 2024, tasks: [{id: a, title: A, when: '2024'}]}\n"
        "  - {id: q, title: Q, year: 2024, tasks: [{id: a, title: A, when: '2024'}]}\n"
    )
    assert [p.tasks[0].id for p in load_plans_text(doc).plans] == ["a", "a"]


def test_alias_of_two_agencies_is_an_error() -> None:
    doc = AGENCIES + "  - id: sokhdt\n    name: Sở Kế hoạch và Đầu tư\n    aliases: [KHĐT, snv]\n"
    problem_at(doc, "12:21", "alias 'snv' is already an alias of agency 'songoaivu' (line 5)")


def test_alias_equal_to_another_agency_id_is_an_error() -> None:
    doc = AGENCIES + "  - id: sokhdt\n    name: Sở Kế hoạch và Đầu tư\n    aliases: [SoVHTTDL]\n"
    problem_at(doc, "12:15", "alias 'SoVHTTDL' is already the id of agency 'sovhttdl'")


def test_wrong_type_names_what_was_expected() -> None:
    doc = plan_doc(
        "      - id: a\n        title: T\n        when: Quý II/2024\n        support: {a: 1}\n"
    )
    problem_at(doc, "18:18", "support: expected a list of agency names, got a mapping")
    problem_at("plans:\n  id: p\n", "2:3", "plans: expected a list of plans", "got a mapping")
    problem_at(
        "plans:\n  - just text\n", "2:5", "expected plan (a mapping of key: value), got text"
    )


def test_bad_year_says_the_range() -> None:
    doc = "plans:\n  - id: p\n    title: P\n    year: 20222\n"
    problem_at(doc, "4:11", "year: '20222' is not a year between 1900 and 2100")


def test_end_year_before_year() -> None:
    doc = "plans:\n  - {id: p, title: P, year: 2024, end_year: 2023}\n"
    problem_at(doc, "2:45", "end_year: 2023 is before year 2024")


def test_since_must_be_a_plausible_year() -> None:
    doc = "occasions:\n  - {id: o, title: O, date: 22/12, since: 2101}\n"
    problem_at(doc, "2:43", "since: '2101' is not a year between 1800 and 2100")


def test_bad_email() -> None:
    doc = AGENCIES.replace(
        "[lich@songoaivu.example]", '["Sở Ngoại vụ <lich@songoaivu.example>", lich@snv]'
    )
    found = problems(doc)
    assert any(
        p.startswith("plans.yaml:4:14: emails: 'Sở Ngoại vụ <lich@songoaivu.example>'")
        for p in found
    )
    assert any(
        p.startswith("plans.yaml:4:54: emails: 'lich@snv' is not a plain e-mail") for p in found
    )


def test_bad_agency_id_suggests_lower_case() -> None:
    doc = "agencies:\n  - id: SoNgoaiVu\n    name: X\n"
    problem_at(doc, "2:9", "id: 'SoNgoaiVu' is not a valid agency id", "did you mean 'songoaivu'?")


def test_bad_task_id() -> None:
    doc = plan_doc("      - {id: 'a/b', title: T, when: Quý II/2024}\n")
    problem_at(doc, "15:14", "id: 'a/b' is not a valid task id")


def test_remind_must_be_days() -> None:
    doc = plan_doc("      - {id: a, title: T, when: Quý II/2024, remind: [7, -1, 3660, 3661]}\n")
    found = problems(doc)
    assert [p.split(": ", 1)[0] for p in found] == ["plans.yaml:15:58", "plans.yaml:15:68"]
    assert "remind: '-1' is not a number of days between 0 and 3660" in found[0]
    doc = plan_doc("      - {id: a, title: T, when: Quý II/2024, remind: }\n")
    problem_at(doc, "15:54", "remind is empty; write remind: [] for no reminders")


def test_unknown_occasion_kind_suggests() -> None:
    doc = "occasions:\n  - {id: o, title: O, date: 22/12, kind: relation}\n"
    problem_at(doc, "2:42", "kind: 'relation' is not one of", "did you mean 'relations'?")


def test_version_must_be_1() -> None:
    problem_at("version: 2\n", "1:10", "version: '2' is not supported; write version: 1")


@pytest.mark.parametrize("empty", ["", "~", "null", "''"])
def test_required_value_cannot_be_empty(empty: str) -> None:
    doc = plan_doc(f"      - id: a\n        title: {empty}\n        when: Quý II/2024\n")
    expected = "16:15" if empty == "" else "16:16"
    problem_at(doc, expected, "title is empty; write title:")


def test_empty_when_is_an_error() -> None:
    doc = plan_doc("      - id: a\n        title: T\n        when:\n")
    problem_at(doc, "17:14", 'when is empty; write when: "Quý II/2024"')


@pytest.mark.parametrize(
    ("value", "col", "tag"),
    [
        ("!!int 2024", "11", "!!int"),
        ("!!python/object/apply:os.system ['true']", "11", "!!python/object/apply:os.system"),
        ("!custom 2024", "11", "!custom"),
    ],
)
def test_explicit_tags_are_errors(value: str, col: str, tag: str) -> None:
    doc = f"plans:\n  - id: p\n    title: P\n    year: {value}\n"
    problem_at(doc, f"4:{col}", f"year: the YAML tag {tag} is not allowed")


def test_merge_keys_are_not_supported() -> None:
    doc = "plans:\n  - &p {id: p, title: P, year: 2024}\n  - <<: *p\n    id: q\n"
    found = problems(doc)
    assert "plans.yaml:3:5: merge keys (<<) are not supported; write the keys out" in found


def test_yaml_syntax_error_has_line_column_and_parser_text() -> None:
    doc = "plans:\n  - id: p\n   title: P\n"
    problem_at(doc, "3:4", "YAML syntax error: did not find expected '-' indicator")
    problem_at("plans:\n\t- id: p\n", "2:1", "YAML syntax error", "never tabs")
    problem_at("plans: [a, b\n", "2:1", "YAML syntax error")


def test_empty_file_is_an_error() -> None:
    problem_at("# nothing yet\n", "1:1", "the file is empty")


def test_top_level_must_be_a_mapping() -> None:
    problem_at("- id: p\n", "1:1", "the file must be a mapping with agencies", "got a list")
    problem_at("~\n", "1:1", "the file must be a mapping", "got text '~'")


# ------------------------------------------------------------------- header safety


@pytest.mark.parametrize(
    ("lines", "place", "words"),
    [
        ('    title: "Họp\\nBcc: x@evil.example"\n', "5:12", "contains a line break"),
        ('    title: "Họp\\r"\n', "5:12", "contains a line break"),
        ("    title: =?utf-8?b?SOG7jXA=?=\n", "5:12", "contains '=?'"),
        ('    title: "Họp\\u2028x"\n', "5:12", "control character U+2028"),
        ("    title: |\n      Họp\n", "5:12", "a block scalar (|) is not allowed"),
        ("    title: >-\n      Họp\n", "5:12", "a block scalar (>) is not allowed"),
        ('    title: P\n    reference: "34/KH\\n"\n', "6:16", "contains a line break"),
    ],
)
def test_header_fields_reject_injection(lines: str, place: str, words: str) -> None:
    doc = "agencies: []\nplans:\n  - id: p\n    year: 2024\n" + lines
    message = problem_at(doc, place, words)
    assert "header injection" in message or "must be one line" in message


def test_agency_name_alias_and_email_reject_injection() -> None:
    doc = (
        'agencies:\n  - id: a\n    name: "A =?x?="\n    aliases: ["B\\nC"]\n'
        '    emails: ["a@b.example\\r\\nBcc: x@y.example"]\n'
    )
    found = problems(doc)
    assert [p.split(": ", 1)[0] for p in found] == [
        "plans.yaml:3:11",
        "plans.yaml:4:15",
        "plans.yaml:5:14",
    ]
    assert all("header injection" in p for p in found)


def test_notes_may_span_lines() -> None:
    doc = plan_doc(
        "      - id: a\n        title: T\n        when: Quý II/2024\n"
        "        notes: |\n          a\n          b\n"
    )
    assert load_plans_text(doc).plans[0].tasks[0].notes == "a\nb"


def test_title_may_continue_on_the_next_line_without_block_scalar() -> None:
    doc = plan_doc(
        "      - id: a\n        title: Gửi thư\n          chúc mừng\n        when: Quý II/2024\n"
    )
    assert load_plans_text(doc).plans[0].tasks[0].title == "Gửi thư chúc mừng"


# ---------------------------------------------------------------- all at once


def test_all_problems_are_reported_at_once_sorted_by_place() -> None:
    doc = plan_doc(  # plan_extra shifts the tasks one line down, to line 16
        "      - id: a\n"
        "        titel: T\n"
        "        when: 31/2/2024\n"
        "        lead: Sở VHTTL\n"
        "        inclusive: no\n"
        "      - id: a\n"
        "        title: T\n"
        "        when: Quý II/2024\n"
        "        remind: [x]\n",
        plan_extra="    year: 1800\n",
    )
    found = problems(doc)
    assert [p.split(": ", 1)[0] for p in found] == [
        "plans.yaml:14:5",  # duplicate key 'year'
        "plans.yaml:16:9",  # task is missing 'title'
        "plans.yaml:17:9",  # unknown key 'titel'
        "plans.yaml:18:15",  # 31/2/2024
        "plans.yaml:19:15",  # unknown agency
        "plans.yaml:20:20",  # inclusive: no
        "plans.yaml:21:13",  # duplicate task id
        "plans.yaml:24:18",  # remind: [x]
    ]


def test_problems_are_problems_with_fields() -> None:
    with pytest.raises(PlansError) as info:
        load_plans_text("plans: 5\n", "x/plans.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.col) == ("x/plans.yaml", 1, 8)


# ------------------------------------------------------------------ hostile input


def test_file_larger_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "plans.yaml"
    path.write_text(VALID, encoding="utf-8")
    with pytest.raises(PlansError) as info:
        load_plans(path, max_bytes=100)
    (problem,) = info.value.problems
    assert (problem.line, problem.col) == (1, 1)
    assert f"the file is {path.stat().st_size} bytes" in problem.message
    assert "limit of 100 bytes" in problem.message


def test_invalid_utf8_is_reported_at_its_place(tmp_path: Path) -> None:
    path = tmp_path / "plans.yaml"
    path.write_bytes(
        "plans:\n  - id: ở\xff\n".encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff")
    )
    with pytest.raises(PlansError) as info:
        load_plans(path)
    assert (
        str(info.value) == f"{path}:2:10: the file is not valid UTF-8 (byte 0xff); save it as UTF-8"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PlansError) as info:
        load_plans(tmp_path / "nope.yaml")
    assert "cannot read the file" in str(info.value)


def billion_laughs(levels: int = 9) -> list[str]:
    names = "abcdefghijklmnop"[:levels]
    lines = [
        f'{names[0]}: &{names[0]} ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'
    ]
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return lines


def test_billion_laughs_finishes_fast_with_clean_errors() -> None:
    lines = billion_laughs()
    doc = "\n".join(lines) + "\nplans: [" + ", ".join(["*i"] * 9) + "]\n"
    start = time.perf_counter()
    found = problems(doc)
    assert time.perf_counter() - start < 1.0
    assert "plans.yaml:1:1: unknown key 'a'" in found[0]
    assert any("expected plan (a mapping of key: value), got a list" in p for p in found)


def test_alias_bomb_in_the_shape_of_plans_stops_at_the_alias() -> None:
    support = "[" + ", ".join(["songoaivu"] * 1000) + "]"
    doc = (
        AGENCIES
        + "plans:\n"  # 10
        + "  - &p\n"  # 11
        + "    id: p\n    title: P\n    year: 2024\n    tasks:\n"  # 12-15
        + f"      - &t {{id: t, title: T, when: Quý II/2024, support: {support}}}\n"  # 16
        + "      - *t\n" * 999  # 17-1015
        + "  - *p\n" * 999  # 1016-
    )
    start = time.perf_counter()
    found = problems(doc)
    assert time.perf_counter() - start < 1.0
    bomb = [p for p in found if "alias expansion too large" in p]
    assert bomb == [
        "plans.yaml:212:9: alias expansion too large: through *t the file would be read as "
        "more than 200000 nodes (it has 1045); write the items out instead of repeating "
        "aliases of aliases"
    ]


def test_small_alias_reuse_is_fine() -> None:
    doc = plan_doc(
        "      - {id: a, title: A, when: Quý I/2024, support: &both [songoaivu, sovhttdl]}\n"
        "      - {id: b, title: B, when: Quý II/2024, support: *both}\n"
    )
    first, second = load_plans_text(doc).plans[0].tasks
    assert first.support == second.support == ("songoaivu", "sovhttdl")


def test_recursive_alias_is_a_clean_error() -> None:
    problem_at("plans: &x [*x]\n", "1:8", "expected plan (a mapping of key: value), got a list")


@pytest.mark.parametrize(
    "doc",
    [
        "plans: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "plans: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n",
        "plans:\n" + "".join(" " * i + "-\n" for i in range(300)),
    ],
    ids=["flow-lists", "flow-maps", "block"],
)
def test_deep_nesting_is_a_clean_error(doc: str) -> None:
    (problem,) = problems(doc)
    assert "the file nests deeper than 100 levels" in problem


# -------------------------------------------------------------- order invariance


def strip_origin(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(strip_origin(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: strip_origin(getattr(value, f.name)) for f in fields(value) if f.init}
        if "origin" in changes:
            changes["origin"] = ""
        return replace(value, **changes)
    return value


def canonical(plans: Plans) -> Any:
    def by_id(items: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(sorted(items, key=lambda item: item.id))

    plans = strip_origin(plans)
    return (
        by_id(plans.agencies),
        by_id(plans.occasions),
        by_id(plans.agreements),
        by_id(tuple(replace(p, tasks=by_id(p.tasks)) for p in plans.plans)),
    )


def test_reordering_sections_items_and_keys_gives_the_same_model() -> None:
    import yaml

    data = yaml.load(VALID, Loader=yaml.BaseLoader)  # every scalar a string, as ours
    rng = random.Random(7)
    reference = canonical(load_plans_text(VALID))
    for _ in range(5):
        shuffled = dict(data)
        for section in ("agencies", "occasions", "agreements", "plans"):
            items = [dict(item) for item in data[section]]
            rng.shuffle(items)
            for item in items:
                if "tasks" in item:
                    item["tasks"] = rng.sample(item["tasks"], len(item["tasks"]))
            shuffled[section] = [dict(rng.sample(list(i.items()), len(i))) for i in items]
        keys = list(shuffled)
        rng.shuffle(keys)
        text = yaml.safe_dump({k: shuffled[k] for k in keys}, allow_unicode=True, sort_keys=False)
        assert canonical(load_plans_text(text)) == reference


# ------------------------------------------------------ reading tasks as they end


def outcome(text: str) -> tuple[str, Any]:
    try:
        return "ok", load_plans_text(text)
    except PlansError as exc:
        return "problems", [str(p) for p in exc.problems]


def whole_tree(text: str) -> tuple[str, Any]:
    """The outcome with no task read early: the whole tree composed, then walked."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plans_yaml._Eager, "enter", lambda *args: None)
        return outcome(text)


def read_early(text: str) -> tuple[tuple[str, Any], int]:
    """The outcome, and how many tasks were read early."""
    count = 0
    task = plans_schema.task

    def counting(*args: Any) -> None:
        nonlocal count
        count += 1
        task(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plans_yaml, "task", counting)  # the loader's early read
        return outcome(text), count


def many_tasks(plans: int, per_plan: int) -> str:
    lines = [AGENCIES.rstrip("\n"), "plans:"]
    for p in range(plans):
        lines += [f"  - id: p{p}", f"    title: Kế hoạch {p}", "    year: 2024", "    tasks:"]
        for t in range(per_plan):
            lines += [
                f'      - id: "{t}"',
                f"        title: Việc {p}.{t}",
                f"        when: Quý {('I', 'II', 'III', 'IV')[t % 4]}/2024",
                "        lead: SNV",
                "        support: [sovhttdl, Sở Ngoại vụ]",
            ]
            if t % 3 == 0:
                lines.append("        remind: [7, 1]")
    return "\n".join(lines) + "\n"


def test_tasks_are_read_as_their_mapping_ends() -> None:
    text = many_tasks(3, 40)
    result, early = read_early(text)
    assert result[0] == "ok" and early == 120
    assert result == whole_tree(text)
    plans = result[1]
    assert [len(p.tasks) for p in plans.plans] == [40, 40, 40]
    # 9 lines of agencies, "plans:", a plan of 4 + 40 * 5 + 14 (remind) lines, 4 + 6 + 5
    assert plans.plans[1].tasks[2].origin == "plans.yaml:244:9"
    assert plans.plans[1].tasks[2].support == ("sovhttdl", "songoaivu")


def test_tasks_read_early_do_not_hold_the_tree() -> None:
    import tracemalloc

    text = many_tasks(4, 250)
    tracemalloc.start()
    try:
        outcome(text)
        early_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        whole_tree(text)
        whole_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert early_peak < whole_peak / 2, (early_peak, whole_peak)


TASK = "      - {{id: '{id}', title: T, when: Quý II/2024, lead: SNV}}\n"
EARLY_CASES = {
    "agencies after plans": plan_doc(TASK.format(id="a"), header="") + AGENCIES,
    "agencies after plans, unknown and repeated references": plan_doc(
        TASK.format(id="a")
        + "      - {id: b, title: B, when: Quý I/2024, lead: [SVN, SNV], support: [songoaivu]}\n"
        + "      - {id: b, when: Quý I/2024, lead: Sở VHTTL, support: [vp, SNV, Sở Ngoại vụ]}\n"
        + "      - {id: c, title: C, when: Quý I/2024, support: [sovhttdl, SNV, Sở VHTTDL]}\n",
        header="",
    )
    + AGENCIES,
    "year after tasks": (
        AGENCIES
        + "plans:\n  - id: p\n    title: P\n    tasks:\n"
        + TASK.format(id="a")
        + "    year: 2024\n"
    ),
    "year twice": plan_doc(TASK.format(id="a"), plan_extra="    year: 1800\n"),
    "bad year": plan_doc(TASK.format(id="a")).replace("year: 2024", "year: 20x4"),
    "anchored task then more, duplicate ids": plan_doc(
        TASK.format(id="a")
        + TASK.format(id="b").replace("- {", "- &t {")
        + TASK.format(id="a")
        + TASK.format(id="c")
        + "      - *t\n"
    ),
    "duplicate ids read early": plan_doc(TASK.format(id="a") * 3 + TASK.format(id="b")),
    "alias inside a task": plan_doc(
        "      - {id: a, title: T, when: Quý II/2024, support: &s [SNV]}\n"
        "      - {id: b, title: T, when: Quý II/2024, support: *s}\n" + TASK.format(id="c")
    ),
    "tasks twice": plan_doc(TASK.format(id="a") + "    tasks:\n" + TASK.format(id="b")),
    "plans twice": plan_doc(TASK.format(id="a")) + "plans:\n  - {id: q, title: Q, year: 2024}\n",
    "agencies twice": AGENCIES + plan_doc(TASK.format(id="a"), header="agencies: []\n"),
    "agencies empty before": "agencies:\n" + plan_doc(TASK.format(id="a")),
    "tagged tasks": plan_doc(TASK.format(id="a")).replace("tasks:\n", "tasks: !!seq\n"),
    "tagged plans": plan_doc(TASK.format(id="a")).replace("plans:\n", "plans: !!seq\n"),
    "tagged plan": plan_doc(TASK.format(id="a")).replace("  - id: kh", "  - !!map\n    id: kh"),
    "anchored plan aliased": plan_doc(TASK.format(id="a")).replace(
        "  - id: kh", "  - &p\n    id: kh"
    )
    + "  - *p\n",
    "anchored root": "&r\n" + plan_doc(TASK.format(id="a")),
    "tasks as an alias": AGENCIES
    + "occasions: []\nx: &ts\n"
    + TASK.format(id="a")
    + "plans:\n  - {id: p, title: P, year: 2024, tasks: *ts}\n",
    "task mistakes": plan_doc(
        "      - {id: a, titel: T, when: 31/2/2024, lead: Sở VHTTL, inclusive: no}\n"
        "      - just text\n" + TASK.format(id="b")
    ),
    "task not a mapping first": plan_doc("      - [1]\n" + TASK.format(id="a")),
    "mapping as a key": plan_doc(TASK.format(id="a")).replace(
        "    tasks:", "    ? {a: 1}\n    tasks:"
    ),
}


@pytest.mark.parametrize("text", EARLY_CASES.values(), ids=EARLY_CASES.keys())
def test_reading_early_gives_what_the_whole_tree_gives(text: str) -> None:
    assert outcome(text) == whole_tree(text)


def test_which_tasks_are_read_early() -> None:
    _, early = read_early(EARLY_CASES["anchored task then more, duplicate ids"])
    assert early == 1  # the anchored task and all after it are read with the tree
    late = ("year after tasks", "tagged tasks", "anchored plan aliased")
    for case in late:
        assert read_early(EARLY_CASES[case])[1] == 0, case
    # before the agencies are known, tasks are read early and their references looked up
    # once the agencies are indexed
    result, early = read_early(EARLY_CASES["agencies after plans, unknown and repeated references"])
    assert early == 4
    assert result == whole_tree(
        EARLY_CASES["agencies after plans, unknown and repeated references"]
    )
    found = result[1]
    assert [p.split(": ", 1)[0] for p in found] == [
        "plans.yaml:7:52",  # SVN
        "plans.yaml:8:9",  # b: missing title
        "plans.yaml:8:14",  # duplicate id b
        "plans.yaml:8:41",  # Sở VHTTL
        "plans.yaml:8:61",  # vp
    ]
    assert "did you mean 'SNV' (songoaivu)?" in found[0]
    text = EARLY_CASES["agencies after plans"]
    assert read_early(text)[0][1].plans[0].tasks[0].lead == ("songoaivu",)
    assert read_early(EARLY_CASES["duplicate ids read early"])[1] == 4
    found = problems(EARLY_CASES["duplicate ids read early"])
    assert [p.split(": ", 1)[0] for p in found] == ["plans.yaml:16:14", "plans.yaml:17:14"]
    assert "duplicate task id 'a' (first at line 15)" in found[0]


def test_alias_bomb_after_tasks_read_early_is_reported_at_its_alias() -> None:
    support = "[" + ", ".join(["songoaivu"] * 1000) + "]"
    doc = (
        many_tasks(1, 30)
        + "  - &p\n    id: p\n    title: P\n    year: 2024\n    tasks:\n"
        + f"      - &t {{id: t, title: T, when: Quý II/2024, support: {support}}}\n"
        + "      - *t\n" * 999
        + "  - *p\n" * 999
    )
    start = time.perf_counter()
    result, early = read_early(doc)
    assert time.perf_counter() - start < 2.0
    assert early == 30
    assert result == whole_tree(doc)
    bomb = [p for p in result[1] if "alias expansion too large" in p]
    assert len(bomb) == 1 and bomb[0].startswith("plans.yaml:"), result[1]
    assert "through *t" in bomb[0]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            "plans:\n  - &p {id: p}\n  - &p {id: q}\n",
            "plans.yaml:3:5: YAML syntax error: second occurrence (found duplicate anchor; "
            "first occurrence at line 2)",
        ),
        (
            "plans: []\n---\nplans: []\n",
            "plans.yaml:2:1: YAML syntax error: but found another document (expected a single "
            "document in the stream at line 1); remove the '---' or '...' line that starts a "
            "second document",
        ),
        (
            "plans: [*nope]\n",
            "plans.yaml:1:9: YAML syntax error: found undefined alias; define the anchor "
            "(&name) before using *name",
        ),
        (
            "plans: [ở\x07]\n",
            "plans.yaml:1:10: the character U+0007 is not allowed in a YAML file (control "
            "characters are not allowed); remove it",
        ),
    ],
    ids=["duplicate-anchor", "second-document", "undefined-alias", "control-character"],
)
def test_composer_errors_as_libyaml_reports_them(doc: str, expected: str) -> None:
    assert problems(doc) == [expected]
    # after tasks read early (30 lines): the error alone, 30 lines down (the document
    # still starts on line 1)
    _, line, rest = expected.split(":", 2)
    shifted = re.sub(r"(?<=occurrence at line )\d+", lambda m: str(int(m[0]) + 30), rest)
    later = many_tasks(1, 3) + doc.replace("plans:", "notes:")
    assert later.count("\n") == doc.count("\n") + 30
    assert problems(later) == [f"plans.yaml:{int(line) + 30}:{shifted}"]


def test_file_and_text_read_alike(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", VALID)
    docs = [VALID, "\ufeff" + VALID, nfd, "\ufeff" + nfd, "plans: [ở\x07]\n", "plans: [a\n"]
    path = tmp_path / "plans.yaml"
    for doc in docs:
        path.write_bytes(doc.encode("utf-8"))
        try:
            from_file: Any = replace(load_plans(path), source="plans.yaml")
        except PlansError as exc:
            from_file = [str(p).replace(str(path), "plans.yaml") for p in exc.problems]
        expected = outcome(doc)[1]
        if isinstance(from_file, Plans):
            assert strip_origin(from_file) == strip_origin(expected)
        else:
            assert from_file == expected


def test_load_leaves_the_collector_on_and_unfrozen() -> None:
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    load_plans_text(VALID)
    problems("plans: 5\n")
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def mutate(data: st.DataObject, text: str, edits: list[str], most: int) -> str:
    """``text`` with 1..``most`` random spans cut (up to 12 characters) and an edit put in."""
    for _ in range(data.draw(st.integers(1, most))):
        pos = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 12))
        text = text[:pos] + data.draw(st.sampled_from(edits)) + text[pos + cut :]
    return text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_mutation_reads_early_as_the_whole_tree(data: st.DataObject) -> None:
    edits = ["", ":", "- ", "[", "]", "{", "\n", "  ", "&a ", "*a", "!!str ", "'", "#", "~",
             "year: 2023\n", "tasks:\n", "agencies: []\n", "plans:\n", "<<: *a\n",
             "      - {id: '1', title: T, when: 2024}\n"]
    text = mutate(data, many_tasks(2, 3), edits, 3)
    assert outcome(text) == whole_tree(text)


# ---------------------------------------------------------------- never a traceback


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_mutation_of_a_valid_file_loads_or_reports(data: st.DataObject) -> None:
    edits = ["", ":", "- ", "[", "]", "{", "\n", "  ", "&a ", "*a", "!!int ", '"', "'", "#",
             "?", "~", "|\n", "đ", "\t"]
    text = mutate(data, VALID, edits, 4)
    try:
        load_plans_text(text)
    except PlansError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.line >= 1 and problem.col >= 1 and problem.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_loads_or_reports(text: str) -> None:
    try:
        load_plans_text(text)
    except PlansError as exc:
        assert exc.problems
