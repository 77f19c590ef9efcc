"""The commands as an admin uses them: check, when, agenda; and the README's examples."""

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reminderd.cli import main
from reminderd.plans.loader import load_plans_text

ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(ROOT / "config" / "reminderd.yaml")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_on_the_bundled_plans(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--config", CONFIG)
    assert code == 0
    assert re.search(r"agencies:\s+40", out)
    assert re.search(r"plans:\s+4 \(65 tasks\)", out)
    assert "task/bg-kr30-2022/1.1" in out  # the unscheduled task is listed, not dropped


def test_check_reports_every_problem_with_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = tmp_path / "plans.yaml"
    plans.write_text(
        "agencies:\n"
        "  - id: snv\n"
        "    name: Sở Ngoại vụ\n"
        "plans:\n"
        "  - id: p\n"
        "    title: Kế hoạch\n"
        "    year: 2026\n"
        "    tasks:\n"
        "      - id: a\n"
        "        title: Việc A\n"
        "        when: 31/2/2026\n"
        "        lead: SNVV\n",
        encoding="utf-8",
    )
    config = tmp_path / "c.yaml"
    config.write_text("plans: plans.yaml\n", encoding="utf-8")
    code, out, err = run(capsys, "check", "--config", str(config))
    assert code == 1
    assert f"{plans}:11:15: " in err and "February 2026 has 28 days" in err
    assert f"{plans}:12:15: " in err and "did you mean" in err
    assert "Traceback" not in err + out


def test_when_json_several_phrases_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "when", "--json", "--year", "2022", "Trước ngày 15/8/2022",
                       "Quý V/2022", "6 tháng, hằng năm")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # one phrase could not be read
    assert lines[0] == {"kind": "deadline", "start": None, "end": "2022-08-14", "rrule": None,
                        "next": [], "text": "Trước ngày 15/8/2022", "nominal": "2022-08-15"}
    assert lines[1]["text"] == "Quý V/2022" and "error" in lines[1]
    assert lines[2]["next"][:2] == ["2022-06-30", "2022-12-31"]


def test_when_reads_stdin(monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Quý II/2024\n\nTháng 10/2024\n"))
    code, out, _ = run(capsys, "when", "--json", "-")
    assert code == 0
    assert [json.loads(x)["end"] for x in out.splitlines()] == ["2024-06-30", "2024-10-31"]


def test_agenda_json_for_the_bac_giang_summer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "agenda", "--config", CONFIG, "--from", "01/08/2022",
                       "--days", "31", "--json")
    assert code == 0
    items = json.loads(out)
    letter = next(i for i in items if i["key"] == "task/bg-kr30-2022/1.3a")
    assert letter["date"] == "2022-08-14"
    assert letter["text"] == "Trước ngày 15/8/2022"
    for field in ("date", "start", "end", "key", "kind", "title", "lead", "support", "source"):
        assert field in letter
    assert [i["date"] for i in items] == sorted(i["date"] for i in items)
    # dated in August, or a window open during it
    assert all("2022-08-01" <= i["date"] <= "2022-08-31"
               or (i["kind"] == "window" and i["start"] <= "2022-08-31" <= i["date"])
               for i in items)
    assert all(i["done_by"] is None for i in items)


def test_agenda_lists_every_window_open_during_the_range(
        capsys: pytest.CaptureFixture[str]) -> None:
    """"Tháng 12/2024" is open from 01/12/2024: agenda --from 01/12/2024 --days 10 shows it,
    in Vietnamese (weekday, kind, the window said as one)."""
    code, out, _ = run(capsys, "agenda", "--config", CONFIG, "--from", "01/12/2024",
                       "--days", "10", "--json")
    items = json.loads(out)
    december = [i for i in items if i["kind"] == "window" and i["start"] == "2024-12-01"]
    assert code == 0 and december and all(i["date"] == "2024-12-31" for i in december)
    code, text, _ = run(capsys, "agenda", "--config", CONFIG, "--from", "2024-12-01",
                        "--days", "10")
    assert code == 0 and "trong khoảng 01/12 – 31/12/2024" in text
    assert "31/12/2024 Thứ Ba" in text and "Thời hạn" in text
    for english in ("deadline", "window", "Tue", "occasion"):
        assert english not in text


def test_when_speaks_vietnamese_with_day_first_dates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "when", "--year", "2026",
                       "05 ngày làm việc trong nửa cuối tháng 7/2026", "Trước ngày 12/6/2026")
    assert code == 0
    assert "trong khoảng 16/07/2026 - 31/07/2026  số ngày làm việc: 5" in out
    assert "hạn chót 11/06/2026  ngày ghi: 12/06/2026" in out
    assert "2026-" not in out


@pytest.mark.parametrize("text", ["05/08/2022 08:00", "08:00 05/08/2022",
                                  "2022-08-05T08:00", "2022-08-05T08:00+07:00"])
def test_instants_take_day_first_or_iso(text: str) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from reminderd.cli.common import parse_instant
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    assert parse_instant(text, zone, "--now") == datetime(2022, 8, 5, 8, 0, tzinfo=zone)


def test_a_bad_instant_says_both_forms(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "send-due", "--config", CONFIG, "--dry-run", "--now",
                       "5/8/22 8h")
    assert code == 2 and "dd/mm/yyyy HH:MM" in err and "ISO 8601" in err


def test_agenda_by_agency_alias(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "agenda", "--config", CONFIG, "--from", "01/01/2024",
                       "--days", "366", "--agency", "Sở VHTTDL", "--json")
    assert code == 0
    items = json.loads(out)
    assert items and all("dl-sovhttdl" in i["lead"] + i["support"] for i in items)
    code, _, err = run(capsys, "agenda", "--config", CONFIG, "--agency", "Sở VHTDL")
    assert code == 2 and "did you mean" in err


def test_agenda_table_shows_the_anniversary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "agenda", "--config", CONFIG, "--from", "20/12/2022",
                       "--days", "5")
    assert code == 0
    assert "22/12/2022" in out and "Kỷ niệm 30 năm thiết lập quan hệ ngoại giao" in out


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_quick_start_is_the_two_make_commands() -> None:
    quick = readme().split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make \w+", quick, flags=re.M)
    assert commands == ["make run", "make test"]


def test_readme_plans_example_loads() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", readme(), flags=re.S)
    example = next(b for b in blocks if "plans:" in b and "agencies:" in b)
    plans = load_plans_text(example, "README.md")
    assert plans.plans[0].tasks[0].when.end.isoformat() == "2026-06-11"


def test_readme_shell_examples_run() -> None:
    lines = re.findall(r"^\$ \.venv/bin/(reminderd .*)$", readme(), flags=re.M)
    assert lines
    for line in lines:
        argv = [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', line)][1:]
        result = subprocess.run([sys.executable, "-m", "reminderd.cli", *argv], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{line}: {result.stderr}"
        assert result.stdout.strip()
