"""core/ is pure: it imports nothing outside the standard library and reminderd.core."""

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "reminderd" / "core"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_imports_only_stdlib() -> None:
    files = sorted(CORE.glob("*.py"))
    assert len(files) >= 8
    offenders = {}
    for path in files:
        bad = {
            name
            for name in imported_modules(path)
            if name.split(".")[0] not in sys.stdlib_module_names
            and not name.startswith("reminderd.core")
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_core_never_reads_the_clock() -> None:
    for path in CORE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in ("datetime.now(", "date.today(", "time.time(", ".utcnow("):
            assert call not in text, f"{path.name} calls {call}: pass `now` in instead"
