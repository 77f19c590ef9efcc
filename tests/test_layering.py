"""Imports point one way (docs/architecture.md): every import of every module in reminderd/
is checked against a table of what each package or top module may import.

    core <- plans <- config <- workspace <- feeds <- mail <- sendpass, notices <- server <- cli

``store`` imports only ``core`` and is imported by feeds, workspace, sendpass, notices,
server and cli; ``wording`` (Vietnamese text shared by mail and the status page) and ``holidays_vn``
(the working-day calendar) import only ``core``. A new edge that points the wrong way
fails here: move the shared piece down to where both sides may import it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reminderd"

_PLAIN = {"core", "plans", "wording", "holidays_vn"}  # what any layer above plans may use
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "store": {"core"},
    "plans": {"core"},
    "wording": {"core"},
    "holidays_vn": {"core"},
    "config": {"core", "plans"},
    "workspace": _PLAIN | {"config", "store"},
    # documents coming in: `reminderd import` (the directory from the workspace, the draft
    # from plans.importer) and check's review of new plan files; only cli imports it
    "intake": _PLAIN | {"config", "workspace"},
    "feeds": _PLAIN | {"config", "workspace", "store"},
    "mail": _PLAIN | {"config", "workspace", "feeds"},
    "sendpass": _PLAIN | {"config", "workspace", "feeds", "mail", "store"},
    "notices": _PLAIN | {"config", "workspace", "feeds", "mail", "store"},
    "server": _PLAIN | {"config", "workspace", "feeds", "mail", "sendpass", "notices", "store"},
    "cli": _PLAIN | {"config", "workspace", "intake", "feeds", "mail", "sendpass", "notices",
                     "server",
                     "store"},
    "__main__": {"cli"},
    "__init__": set(),
}
ORDER = ["core", "store", "plans", "wording", "holidays_vn", "config", "workspace", "intake",
         "feeds", "mail", "sendpass", "notices", "server", "cli", "__main__", "__init__"]


# modules held to less than their package may import: the done page (on the public listener)
# sees only the link's check, not the store nor the running version; its backend (on the
# admin side too) works over the workspace and the store, never over the web app or sendpass
MODULES: dict[str, set[str]] = {
    "reminderd.notices": _PLAIN | {"workspace", "mail", "store"},
    "reminderd.server.done": {"mail"},
    "reminderd.server.actions": _PLAIN | {"workspace", "mail", "store", "server"},
    "reminderd.mail.donelink": set(),
    "reminderd.store.actions": {"store"},
}
# what the server modules of MODULES may import from server itself
SERVER_MODULES: dict[str, set[str]] = {
    "reminderd.server.done": set(),
    "reminderd.server.actions": {"reminderd.server.done", "reminderd.server.offload"},
}


def unit_of(module: str) -> str | None:
    """``reminderd.mail.render`` -> ``mail``; ``reminderd`` itself -> ``__init__``;
    anything outside reminderd -> None."""
    parts = module.split(".")
    if parts[0] != "reminderd":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def imported_units(source: str, module: str) -> set[str]:
    """The units ``source`` (the text of ``module``) imports, wherever the import sits
    (top level, inside a function, under TYPE_CHECKING)."""
    package = module.split(".")[:-1]  # what `from . import` means in ``module``
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            if node.module:
                base = [*base, *node.module.split(".")]
            name = ".".join(base)
            # `from reminderd import web`: the names are the modules
            targets = ([f"{name}.{alias.name}" for alias in node.names]
                       if name == "reminderd" else [name])
        for target in targets:
            unit = unit_of(target)
            if unit is not None:
                found.add(unit)
    return found


def violations(edges: dict[str, set[str]]) -> list[str]:
    """``importer -> imported`` for every edge the table does not allow."""
    bad = []
    for unit, imported in sorted(edges.items()):
        if unit not in ALLOWED:
            bad.append(f"{unit}: not in the table (add it to ALLOWED, in its layer)")
            continue
        bad += [f"{unit} -> {other}" for other in sorted(imported - ALLOWED[unit] - {unit})]
    return bad


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(rel.parts)


def actual_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        unit = unit_of(module)
        assert unit is not None
        edges.setdefault(unit, set()).update(imported_units(path.read_text("utf-8"), module))
    return edges


def test_every_import_follows_the_table() -> None:
    edges = actual_edges()
    assert {"core", "plans", "feeds", "mail", "store", "server", "cli"} <= set(edges)
    assert violations(edges) == []


def imported_modules(source: str) -> set[str]:
    """The reminderd modules ``source`` imports with ``from reminderd.x.y import ...``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {m for m in found if m.startswith("reminderd")}


def test_issue14_modules_import_less_than_their_package() -> None:
    for module, allowed in MODULES.items():
        path = PACKAGE.parent / (module.replace(".", "/") + ".py")
        source = path.read_text("utf-8")
        units = imported_units(source, module)
        assert units <= allowed | {unit_of(module)}, (module, units - allowed)
        if module in SERVER_MODULES:
            inside = {m for m in imported_modules(source) if m.startswith("reminderd.server")}
            assert inside <= SERVER_MODULES[module], (module, inside)


def test_the_table_points_one_way() -> None:
    assert set(ALLOWED) == set(ORDER)
    for unit, allowed in ALLOWED.items():
        below = set(ORDER[:ORDER.index(unit)])
        assert allowed <= below, f"{unit} may import something above it: {allowed - below}"
    assert ALLOWED["core"] == set()
    assert ALLOWED["plans"] == {"core"} and ALLOWED["store"] == {"core"}
    assert {u for u, a in ALLOWED.items() if "server" in a} == {"cli"}
    assert {u for u, a in ALLOWED.items() if "store" in a} == {
        "feeds", "workspace", "sendpass", "notices", "server", "cli"}


def test_a_wrong_way_edge_fails() -> None:
    """The check can fail: synthetic modules with edges that point the wrong way."""
    cases = {
        "reminderd.core.x": "from reminderd.plans.loader import load_plans\n",
        "reminderd.plans.x": "def f():\n    from reminderd.config import load_settings\n",
        "reminderd.mail.x": "import reminderd.server.web\n",
        "reminderd.feeds.x": "from reminderd import sendpass\n",
        "reminderd.server.x": "from ..cli import main\n",
        "reminderd.store.x": "from reminderd.workspace import Workspace\n",
    }
    for module, source in cases.items():
        unit = unit_of(module)
        assert unit is not None
        assert violations({unit: imported_units(source, module)}), (module, source)
    # and the same shapes pointing the right way pass
    assert violations({"server": imported_units("from ..mail import render\n",
                                                "reminderd.server.x")}) == []
    assert violations({"newmodule": set()}) == ["newmodule: not in the table "
                                                "(add it to ALLOWED, in its layer)"]
