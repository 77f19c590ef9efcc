"""The bundled example plans: a folder, one file per source document (plans/), and the same
plans as one plans.yaml, for the tests of the single-file form."""

from __future__ import annotations

import re
from pathlib import Path

from reminderd.plans.loader import plan_files

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "plans"
_KEYS = ("version", "coordinator", "agencies", "groups", "occasions", "agreements", "plans")
_TOP = re.compile(r"^([a-z_]+):")


def single_file_text(folder: Path = BUNDLED) -> str:
    """The folder's files as one plans.yaml: each top-level section once, holding the items
    of every file in the folder's order (so the model and the feeds are the same)."""
    sections: dict[str, list[str]] = {}
    for path in plan_files(folder):
        current: list[str] | None = None
        for line in path.read_text("utf-8").splitlines():
            m = _TOP.match(line)
            if m:
                key = m[1]
                rest = line[m.end():].strip()
                if key in sections and not rest:
                    current = sections[key]
                    continue
                current = sections.setdefault(key, [])
                current.append(line)
            elif current is not None:
                current.append(line)
    out: list[str] = []
    for key in sorted(sections, key=_KEYS.index):
        out += sections[key]
    return "\n".join(out) + "\n"


def write_single_file(path: Path, folder: Path = BUNDLED) -> Path:
    path.write_text(single_file_text(folder), "utf-8")
    return path
