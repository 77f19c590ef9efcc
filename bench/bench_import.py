"""reminderd import on a ~40-page document: seed 002's appendix and Nghị quyết 03/NQ-CP's
rows repeated (with gazette page headers) into one flattened text of about 40 pages; and on
each real document of tests/data/import (five of them Công báo text layers), timed alone.

    .venv/bin/python bench/bench_import.py          # target: under 5 s
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reminderd.plans.importer.build import import_document  # noqa: E402
from reminderd.plans.importer.draft import to_yaml  # noqa: E402
from reminderd.plans.loader import load_plans  # noqa: E402

DATA = ROOT / "tests" / "data" / "import"
LINES_PER_PAGE = 45


def big_document() -> str:
    """The appendix of seed 002, its table rows repeated with continuing numbers."""
    text = (DATA / "seed-002-phuluc.txt").read_text("utf-8").splitlines()
    start = text.index("Stt")
    head, table = text[: start + 6], text[start + 6 :]
    rows: list[str] = []
    number = 0
    for _copy in range(10):
        for line in table:
            if line.strip().isdigit():
                number += 1
                line = str(number)
            elif line.strip() in ("I", "II", "III", "IV"):
                continue
            rows.append(line)
    out = list(head)
    for i, line in enumerate(rows):
        if i and i % LINES_PER_PAGE == 0:
            page = i // LINES_PER_PAGE + 1
            out += [str(page), "CÔNG BÁO/Số 45 + 46/Ngày 20-3-2024", *text[start : start + 6]]
        out.append(line)
    return "\n".join(out) + "\n"


def main() -> None:
    plans = load_plans(ROOT / "plans")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ke-hoach-40-trang.txt"
        path.write_text(big_document(), "utf-8")
        pages = path.read_text("utf-8").count("CÔNG BÁO") + 1
        started = time.perf_counter()
        imported = import_document(path, plans)
        draft = to_yaml(imported)
        elapsed = time.perf_counter() - started
    print(f"{pages} pages, {len(imported.tasks)} tasks, draft {len(draft):,} bytes: "
          f"{elapsed:.2f} s (target < 5 s)")
    for path in sorted(DATA.glob("*.txt")):
        text = path.read_text("utf-8")
        started = time.perf_counter()
        imported = import_document(path, plans)
        to_yaml(imported)
        elapsed = time.perf_counter() - started
        print(f"  {path.name}: {text.count('CÔNG BÁO')} gazette pages, "
              f"{len(imported.tasks)} tasks, {elapsed:.2f} s")


if __name__ == "__main__":
    main()
