"""The bad-input corpus: a good workspace (config, plans.yaml, a copy of the templates) and
one hostile variant per case, each breaking one file. Generated, not stored: the cases are
readable here, and the huge one (> the 50 MB plans limit) is a sparse file made in a moment.

Each case: ``name``, the file it breaks (``plans``, ``config`` or a template under
``templates/mail``), a function making the broken content from the good one, the exit
status `reminderd check` must give (1, or 0 where the input is legal but bounded), and a
fragment the error must contain.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

GOOD_PLANS = """\
version: 1
agencies:
  - id: so-nv
    name: "Sở Ngoại vụ tỉnh Thử"
    emails: ["lich@sonv.thu.example"]
  - id: so-vh
    name: "Sở Văn hóa, Thể thao và Du lịch tỉnh Thử"
    emails: ["vanthu@sovh.thu.example"]
    aliases: ["Sở VHTTDL"]
plans:
  - id: kh-2026
    title: "Kế hoạch đối ngoại năm 2026 của tỉnh Thử"
    year: 2026
    tasks:
      - id: bao-cao
        title: "Báo cáo kết quả công tác đối ngoại"
        when: "trước ngày 12/6/2026"
        lead: so-nv
        support: ["Sở VHTTDL"]
      - id: hang-thang
        title: "Báo cáo nhanh tình hình đoàn ra, đoàn vào"
        when: "trước ngày 20 hằng tháng"
        lead: so-vh
"""


def good_config(root: Path, port: int = 8080) -> str:
    return (
        "plans: plans.yaml\n"
        "templates: templates\n"
        "store: sqlite:///var/r.db\n"
        "var_dir: var\n"
        "mail:\n"
        '  from: "Sở Ngoại vụ <lich@songoaivu.example>"\n'
        "  maildir: var/outbox\n"
        "http:\n"
        "  listen: 127.0.0.1:0\n"  # the public listener (feeds by token); tests use the admin
        f"  admin_listen: 127.0.0.1:{port}\n"
        f"  public_url: http://127.0.0.1:{port}\n"
    )


def make_workspace(root: Path, port: int = 8080) -> Path:
    """A good workspace under ``root``; returns the config path."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "templates", root / "templates", dirs_exist_ok=True)
    (root / "plans.yaml").write_text(GOOD_PLANS, encoding="utf-8")
    config = root / "reminderd.yaml"
    config.write_text(good_config(root, port), encoding="utf-8")
    return config


def _billion_laughs(key: str) -> str:
    lines = [f'{key}0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"{key}{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


def _task_field(text: str, field: str, value: str) -> str:
    """Replace a field of the first task (bao-cao)."""
    old = {"title": '        title: "Báo cáo kết quả công tác đối ngoại"\n',
           "when": '        when: "trước ngày 12/6/2026"\n',
           "lead": "        lead: so-nv\n"}[field]
    assert old in text
    return text.replace(old, f"        {field}: {value}\n", 1)


Mutation = Callable[[str], str]


@dataclass(frozen=True)
class Case:
    name: str
    target: str  # "plans", "config" or "templates/mail/<file>"
    mutate: Mutation | None  # None: write ``huge`` bytes (sparse) instead
    exit: int
    expect: str  # a fragment of the output
    huge: int = 0  # bytes of a sparse file instead of text
    daemon: bool = False  # also fed to the running daemon (the representative subset)


def _plans_bomb(text: str) -> str:
    """Billion laughs that the walk would really follow: 300 valid tasks under one anchor,
    reused by 2,000 plans (600,000 tasks to read from a 150 kB file)."""
    tasks = "".join(
        f'      - {{id: t{i}, title: "Việc {i}", when: "trước ngày 12/6/2026", lead: so-nv}}\n'
        for i in range(300))
    plans = "".join(f'  - {{id: p{i}, title: "Kế hoạch {i}", year: 2026, tasks: *t}}\n'
                    for i in range(2000))
    head = text.split("plans:\n", 1)[0]
    return (head + "plans:\n  - id: p-anchor\n    title: \"Kế hoạch gốc\"\n    year: 2026\n"
            "    tasks: &t\n" + tasks + plans)


def _deep_block(key: str, levels: int) -> str:
    return key + ":\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, levels)) + \
        " " * levels + "v: 1\n"


CASES: list[Case] = [
    # --- plans.yaml -------------------------------------------------------------------
    Case("plans-syntax", "plans", lambda t: t.replace('    emails: ["lich@sonv.thu.example"]',
                                                      '    emails: ["lich@sonv.thu.example"'),
         1, "plans.yaml:", daemon=True),
    Case("plans-tab-indent", "plans", lambda t: t.replace("  - id: so-vh", "\t- id: so-vh"),
         1, "plans.yaml:"),
    Case("plans-wrong-type-agencies", "plans",
         lambda t: t.replace("agencies:\n  - id: so-nv", "agencies: 42\nx:\n  - id: so-nv"),
         1, "plans.yaml:"),
    Case("plans-wrong-type-emails", "plans",
         lambda t: t.replace('["lich@sonv.thu.example"]', "{a: 1}"), 1, "plans.yaml:"),
    Case("plans-wrong-type-remind", "plans",
         lambda t: _task_field(t, "lead", "so-nv\n        remind: [\"mười\"]"), 1, "remind"),
    Case("plans-impossible-date", "plans",
         lambda t: _task_field(t, "when", '"trước ngày 31/6/2026"'), 1, "June 2026 has 30 days",
         daemon=True),
    Case("plans-impossible-date-29-2", "plans",
         lambda t: _task_field(t, "when", '"ngày 29/2/2027"'), 1, "plans.yaml:"),
    Case("plans-unknown-agency", "plans", lambda t: _task_field(t, "lead", "so-khong-co"),
         1, "so-khong-co", daemon=True),
    Case("plans-header-injection-title", "plans",
         lambda t: _task_field(t, "title", '"Báo cáo\\r\\nBcc: x@evil.example"'),
         1, "plans.yaml:", daemon=True),
    Case("plans-encoded-word-title", "plans",
         lambda t: _task_field(t, "title", '"=?utf-8?q?=0D=0ABcc:_x@evil.example?="'),
         1, "plans.yaml:"),
    Case("plans-header-injection-email", "plans",
         lambda t: t.replace('"lich@sonv.thu.example"',
                             '"lich@sonv.thu.example\\r\\nBcc: x@evil.example"'),
         1, "plans.yaml:"),
    Case("plans-alias-bomb", "plans", _plans_bomb, 1, "alias expansion too large",
         daemon=True),
    Case("plans-deep-flow", "plans",
         lambda t: t + "x-deep: " + "[" * 50_000 + "]" * 50_000 + "\n", 1, "nests deeper"),
    Case("plans-deep-block", "plans", lambda t: t + _deep_block("x-deep", 1200), 1,
         "nests deeper"),
    Case("plans-empty", "plans", lambda t: "", 1, "the file is empty"),
    Case("plans-recurrence-too-often", "plans",
         lambda t: _task_field(t, "when", '"hằng ngày"'), 1, "plans.yaml:"),
    Case("plans-huge", "plans", None, 1, "larger than the limit", huge=51 * 1024 * 1024,
         daemon=True),
    Case("plans-not-utf8", "plans", lambda t: t.replace("Thử", "Th\udcff", 1), 1, "UTF-8"),
    Case("plans-python-tag", "plans",
         lambda t: t.replace("version: 1", "version: !!python/object/apply:os.system [\"id\"]"),
         1, "plans.yaml:"),
    # legal and bounded: a monthly task in a plan running to 2100
    Case("plans-monthly-to-2100", "plans",
         lambda t: t.replace("    year: 2026\n", "    year: 2026\n    end_year: 2100\n"),
         0, "OK"),
    # --- config -------------------------------------------------------------------------
    Case("config-syntax", "config", lambda t: t.replace("http:\n", "http: [\n"),
         1, "reminderd.yaml:", daemon=True),
    Case("config-wrong-type", "config",
         lambda t: t + "delivery:\n  lease_seconds: lots\n", 1, "lease_seconds"),
    Case("config-lease-below-twice-timeout", "config",
         lambda t: t + "delivery: {lease_seconds: 10, send_timeout_seconds: 8}\n",
         1, "at least twice"),
    Case("config-unknown-key", "config", lambda t: t + "stroe: sqlite:///x.db\n", 1, "stroe"),
    Case("config-header-injection-from", "config",
         lambda t: t.replace('"Sở Ngoại vụ <lich@songoaivu.example>"',
                             '"Sở Ngoại vụ <lich@songoaivu.example>\\r\\nBcc: x@evil.example"'),
         1, "mail.from"),
    Case("config-alias-bomb", "config",
         lambda t: _billion_laughs("x") + t + "workdays: {extra_off: *l9}\n", 1, "reminderd.yaml:"),
    Case("config-deep-flow", "config",
         lambda t: t + "feeds: " + "[" * 20_000 + "]" * 20_000 + "\n", 1, "reminderd.yaml:"),
    Case("config-deep-block", "config", lambda t: t + _deep_block("feeds", 1200), 1,
         "nests deeper"),
    Case("config-huge", "config", None, 1, "limit", huge=2 * 1024 * 1024),
    # --- templates ------------------------------------------------------------------------
    Case("template-syntax", "templates/mail/digest.txt",
         lambda t: t + "\n{% for x in %}\n", 1, "digest.txt:", daemon=True),
    Case("template-dunder", "templates/mail/subject.txt",
         lambda t: "{{ ''.__class__.__mro__ }}" + t, 1, "subject.txt:", daemon=True),
    Case("template-huge-range", "templates/mail/digest.txt",
         lambda t: t + "{% for i in range(10**9) %}x{% endfor %}\n", 1, "digest.txt:",
         daemon=True),
    Case("template-nested-loops", "templates/mail/digest.html",
         lambda t: t + "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}"
                       "{% endfor %}\n", 1, "digest.html:"),
    Case("template-undefined-variable", "templates/mail/digest.txt",
         lambda t: t + "{{ khong_co_bien }}\n", 1, "digest.txt:"),
    Case("template-not-utf8", "templates/mail/digest.txt", lambda t: t + "\udcff", 1,
         "digest.txt:"),
    # legal: an empty partial renders (the mail just says less)
    Case("template-empty-partial", "templates/mail/_deadline.txt", lambda t: "", 0, "OK"),
]


def target_path(root: Path, case: Case) -> Path:
    return {"plans": root / "plans.yaml", "config": root / "reminderd.yaml"}.get(
        case.target, root / case.target)


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def apply(root: Path, case: Case) -> Path:
    """Break the case's file in the workspace at ``root``; returns the file."""
    path = target_path(root, case)
    if case.mutate is None:
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as handle:
            handle.truncate(case.huge)  # sparse: made in a moment, read as zeros
        os.replace(tmp, path)
        return path
    good = path.read_text(encoding="utf-8")
    broken = case.mutate(good)
    write_atomic(path, broken.encode("utf-8", "surrogateescape"))
    return path
