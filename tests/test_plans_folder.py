"""Plans in a folder (one file per document), the one agency matcher in plans.yaml
references, groups, and check's review of new or changed plan files."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from bundled import BUNDLED, ROOT, write_single_file

from reminderd.plans.loader import PlansError, load_plans, load_plans_text

AGENCIES = """\
version: 1
coordinator: snv
agencies:
  - id: snv
    name: Sở Ngoại vụ tỉnh Đắk Lắk
    emails: [lich@songoaivu.example]
  - id: vhttdl
    name: Sở Văn hóa, Thể thao và Du lịch
    emails: [vanthu@sovhttdl.example]
  - id: khdt
    name: Sở Kế hoạch và Đầu tư
    emails: [vanthu@khdt.example]
  - id: ubnd
    name: Ủy ban nhân dân tỉnh
    emails: [vanthu@ubnd.example]
  - id: easup
    name: UBND huyện Ea Súp
    emails: [a@easup.example]
  - id: buondon
    name: UBND huyện Buôn Đôn
    emails: [a@buondon.example]
groups:
  - id: cac-huyen
    name: UBND các huyện, thị xã, thành phố
    aliases: [UBND các huyện]
    members: [easup, "UBND huyện Buôn Đôn"]
"""

PLAN = """\
plans:
  - id: {plan}
    title: Kế hoạch {plan}
    year: 2026
    tasks:
      - id: "1"
        title: Báo cáo
        when: trước ngày 30/6/2026
        lead: [{lead}]
"""


def folder(tmp_path: Path, **files: str) -> Path:
    d = tmp_path / "plans"
    d.mkdir(exist_ok=True)
    for name, text in files.items():
        (d / f"{name}.yaml").write_text(text, "utf-8")
    return d


def problems(path: Path) -> list[str]:
    with pytest.raises(PlansError) as err:
        load_plans(path)
    return [str(p) for p in err.value.problems]


def test_bundled_folder_and_single_file_give_the_same_plans(tmp_path: Path) -> None:
    folder_plans = load_plans(BUNDLED)
    single = load_plans(write_single_file(tmp_path / "plans.yaml"))

    def strip(p: object) -> object:
        from dataclasses import fields, is_dataclass, replace
        if is_dataclass(p) and not isinstance(p, type):
            changes = {f.name: strip(getattr(p, f.name)) for f in fields(p)
                       if f.name not in ("origin", "source", "_agency_index")}
            for name in ("origin", "source"):
                if hasattr(p, name):
                    changes[name] = ""
            return replace(p, **changes)
        if isinstance(p, tuple):
            return tuple(strip(x) for x in p)
        return p

    assert strip(folder_plans) == strip(single)
    origins = {t.origin.rsplit(":", 2)[0] for p in folder_plans.plans for t in p.tasks}
    assert origins == {str(BUNDLED / n) for n in (
        "000-dl-kr30-2022.yaml", "001-bg-kr30-2022.yaml", "002-34-KH-UBND-2024.yaml",
        "003-bng-kr-promo-2026.yaml")}


def _ics(config: Path, out: Path) -> bytes:
    subprocess.run([sys.executable, "-m", "reminderd", "ics", "--config", str(config),
                    "--now", "2026-03-01T08:00:00+07:00", "-o", str(out)], check=True)
    return out.read_bytes()


@pytest.mark.slow
def test_feed_bytes_are_the_same_from_the_folder_and_the_single_file(tmp_path: Path) -> None:
    templates = ROOT / "templates"
    for name, plans in (("folder", BUNDLED), ("single", write_single_file(tmp_path / "p.yaml"))):
        (tmp_path / f"{name}.yaml").write_text(
            f"plans: {plans}\ntemplates: {templates}\nstore: sqlite:///var/r.db\n", "utf-8")
    assert _ics(tmp_path / "folder.yaml", tmp_path / "a.ics") == _ics(
        tmp_path / "single.yaml", tmp_path / "b.ics")


def test_a_folder_reads_every_yaml_file_and_references_cross_files(tmp_path: Path) -> None:
    d = folder(tmp_path, agencies=AGENCIES, kh1=PLAN.format(plan="kh1", lead="snv"),
               kh2=PLAN.format(plan="kh2", lead='"Sở KH&ĐT - cơ quan thường trực"'))
    (d / "notes.txt").write_text("not a plan file", "utf-8")
    (d / ".#kh3.yaml").write_text("{{ broken", "utf-8")  # an editor's lock file
    plans = load_plans(d)
    assert [p.id for p in plans.plans] == ["kh1", "kh2"]
    assert plans.plans[1].tasks[0].lead == ("khdt",)
    assert plans.plans[0].coordinator == "snv"  # the coordinator of agencies.yaml
    assert plans.source == str(d)


def test_a_problem_names_its_own_file_line_and_column(tmp_path: Path) -> None:
    d = folder(tmp_path, agencies=AGENCIES,
               kh1=PLAN.format(plan="kh1", lead="snv").replace("30/6/2026", "31/6/2026"))
    found = problems(d)
    assert len(found) == 1 and found[0].startswith(f"{d / 'kh1.yaml'}:8:15: ")
    assert "June 2026 has 30 days" in found[0]


def test_ids_are_unique_across_files_and_a_duplicate_names_both(tmp_path: Path) -> None:
    d = folder(tmp_path, agencies=AGENCIES, a=PLAN.format(plan="kh", lead="snv"),
               b=PLAN.format(plan="kh", lead="snv"),
               more="agencies:\n  - id: snv\n    name: Sở khác\n")
    found = problems(d)
    assert f"{d / 'b.yaml'}:2:9: duplicate plan id 'kh' (first at {d / 'a.yaml'}:2)" in \
        " ".join(found)
    assert any(p.startswith(f"{d / 'more.yaml'}:2:9: duplicate agency id 'snv' (first at "
                            f"{d / 'agencies.yaml'}:4)") for p in found), found


def test_two_coordinators_and_an_empty_folder_are_refused(tmp_path: Path) -> None:
    d = folder(tmp_path, agencies=AGENCIES, other="coordinator: khdt\n")
    assert any("coordinator is already given" in p and p.startswith(str(d / "other.yaml"))
               for p in problems(d))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert problems(empty) == [f"{empty}:1:1: the plans folder has no *.yaml file; put the "
                               "agencies and one file per plan document in it"]


@pytest.mark.parametrize("written, agency", [
    ("Sở Văn hoá, Thể thao và Du lịch", "vhttdl"),  # old tone placement
    ("SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH", "vhttdl"),
    ("Sở VHTTDL", "vhttdl"),
    ("Sở VH,TT&DL", "vhttdl"),
    ("Sở KH&ĐT", "khdt"),
    ("Sở KH&ĐT - cơ quan thường trực", "khdt"),
    ("Sở Kế hoạch và Đầu tư (chủ trì)", "khdt"),
    ("Uỷ ban nhân dân tỉnh", "ubnd"),
    ("UBND tỉnh", "ubnd"),
    ("Sở Ngoại vụ", "snv"),  # without the province suffix, only one agency has it
])
def test_references_resolve_as_the_importer_matches(written: str, agency: str) -> None:
    from reminderd.plans.names import AgencyMatcher

    doc = AGENCIES + PLAN.format(plan="kh", lead=f'"{written}"')
    plans = load_plans_text(doc)
    assert plans.plans[0].tasks[0].lead == (agency,)
    assert AgencyMatcher.from_plans(plans).match(written).agency == agency  # import agrees


def test_a_group_stands_for_its_members() -> None:
    plans = load_plans_text(AGENCIES + PLAN.format(plan="kh", lead='"UBND các huyện", snv'))
    assert plans.plans[0].tasks[0].lead == ("easup", "buondon", "snv")
    assert plans.groups[0].members == ("easup", "buondon")


def test_group_mistakes_are_located() -> None:
    doc = AGENCIES.replace('members: [easup, "UBND huyện Buôn Đôn"]',
                           "members: [easup, huyen-x]") + "  - id: g2\n    name: Sở VHTTDL\n" \
        "    members: [snv]\n"
    with pytest.raises(PlansError) as err:
        load_plans_text(doc)
    found = [str(p) for p in err.value.problems]
    assert any(p.startswith("plans.yaml:26:22: unknown agency 'huyen-x' in members")
               for p in found), found
    assert any("name 'Sở VHTTDL' is already the name of agency 'vhttdl'" in p for p in found)
    coordinator = AGENCIES.replace("coordinator: snv", "coordinator: UBND các huyện")
    with pytest.raises(PlansError, match="it is a group; coordinator lists agencies"):
        load_plans_text(coordinator)


def test_an_unknown_name_gets_the_nearest_names_not_the_first_ids() -> None:
    doc = AGENCIES + PLAN.format(plan="kh", lead='"Sở Văn hóa Thể thao"')
    with pytest.raises(PlansError) as err:
        load_plans_text(doc)
    message = str(err.value.problems[0])
    assert "did you mean 'Sở Văn hóa, Thể thao và Du lịch' (vhttdl)?" in message, message


def test_import_writes_a_new_file_into_the_folder_and_check_reviews_it(tmp_path: Path) -> None:
    d = folder(tmp_path, agencies=AGENCIES, kh1=PLAN.format(plan="kh1", lead="snv"))
    config = tmp_path / "reminderd.yaml"
    config.write_text(f"plans: plans\ntemplates: {ROOT / 'templates'}\n"
                      "store: sqlite:///var/r.db\nvar_dir: var\n", "utf-8")
    before = {p.name: p.read_bytes() for p in d.iterdir()}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "reminderd", *argv, "--config",
                               str(config)], capture_output=True, text=True)

    first = run("check")
    assert first.returncode == 0, first.stderr
    assert "Ghi nhận 2 tệp kế hoạch" in first.stdout
    assert "Không có tệp kế hoạch nào mới" in run("check").stdout
    source = ROOT / "tests" / "data" / "import" / "seed-002-phuluc.txt"
    out = d / "34-KH-UBND-2024.yaml"
    made = run("import", str(source), "-o", str(out))
    assert made.returncode == 0, made.stderr
    assert {p.name: p.read_bytes() for p in d.iterdir() if p != out} == before
    assert run("import", str(source), "-o", str(out)).returncode == 2  # never overwrites
    # the draft names agencies this directory lacks: check refuses it, located
    refused = run("check")
    assert refused.returncode == 1 and f"{out}:" in refused.stderr
    # the admin decides: here, a plan file of their own with two tasks
    out.unlink()
    year = date.today().year + 1  # the deadlines shown are the coming ones
    (d / "kh2.yaml").write_text(PLAN.format(plan="kh2", lead="UBND các huyện").replace(
        "2026", str(year)) + ('      - id: "2"\n        title: Tổng kết\n'
                              f"        when: Quý IV/{year}\n        lead: [vhttdl]\n"), "utf-8")
    (d / "agencies.yaml").write_text(AGENCIES.replace(
        "groups:", "  - id: stc\n    name: Sở Tài chính\n    emails: [a@stc.example]\ngroups:"),
        "utf-8")
    review = run("check")
    assert review.returncode == 0, review.stderr
    text = review.stdout
    assert f"Tệp mới: {d / 'kh2.yaml'}" in text
    assert "thêm 1 kế hoạch (kh2), 2 nhiệm vụ" in text
    assert f"Tệp đã sửa: {d / 'agencies.yaml'}" in text and "thêm 1 cơ quan (stc)" in text
    # "trước ngày 30/6" is due on the 29th
    assert "hạn đầu tiên:" in text and f"29/06/{year}  1  Báo cáo  (chủ trì: easup, buondon)" \
        in text, text
    assert "Không có tệp kế hoạch nào mới" in run("check").stdout


@pytest.mark.slow
def test_the_daemon_applies_a_new_file_and_keeps_the_last_good_on_a_bad_one(
        tmp_path: Path) -> None:
    from daemon_proc import Daemon, wait_for
    from smtp_server import ThreadedSmtpServer

    with ThreadedSmtpServer() as smtp:
        d = Daemon(tmp_path, AGENCIES + PLAN.format(plan="kh1", lead="snv"), smtp.port,
                   folder=True).start()
        try:
            def feed() -> bytes:
                return d.get("/calendar.ics")[2]

            assert b"UID:task/kh1/1@" in feed() and b"task/kh2/" not in feed()
            new = d.plans.parent / "34-KH-UBND-2026.yaml"
            new.write_text(PLAN.format(plan="kh2", lead='"Sở KH&ĐT"'), "utf-8")
            assert wait_for(lambda: b"UID:task/kh2/1@" in feed(), 20), d.output()
            # a bad file: the running version stays, the problem shows, located
            bad = d.plans.parent / "35-KH-UBND-2026.yaml"
            bad.write_text(PLAN.format(plan="kh3", lead="Sở Không Có"), "utf-8")
            assert wait_for(lambda: d.get("/healthz")[0] == 503 or
                            f"{bad}:9:" in d.output(), 20), d.output()
            assert b"UID:task/kh2/1@" in feed() and b"task/kh3/" not in feed()
            assert f"{bad}:9:" in d.output()  # the log names the file, line and column
            bad.unlink()  # removed: the folder is whole again
            assert wait_for(lambda: "reload.ok" in d.output().rsplit(str(bad), 1)[-1], 20)
            assert b"UID:task/kh2/1@" in feed()
        finally:
            d.kill()
