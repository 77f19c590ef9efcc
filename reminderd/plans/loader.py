"""Read plans.yaml into the model, reporting every problem at once with its place.

The document is read from the YAML parser's events (libyaml's when available) into light
nodes (:mod:`reminderd.plans.nodes`) and the nodes are walked by the schema
(:mod:`reminderd.plans.schema`, on the generic readers of :mod:`reminderd.plans.fields`
and the agency index of :mod:`reminderd.plans.agencies`): every scalar is taken as its raw
text, so YAML 1.1 implicit typing never decides a value (``2026-06-12``, ``no``, ``3:10``
are text to us, parsed by our own grammar). Each problem becomes
``Problem(file, line, col, message)``; all of them are raised together as
:class:`PlansError`. This module is the entry point: it reads the file, composes it
(reading tasks early, below), walks it, and reports syntax errors and alias bombs.

Memory stays flat on large files: each task is read as soon as its mapping ends and its
nodes are dropped (:class:`_Eager`); the rest of the tree is small and is walked once
composed. The result is the same as walking the whole tree: a task is read early only
where nothing that comes later in the file could change how it is read, and its agency
references wait for the agencies when these come after the plans.

Hostile input is bounded: a file size limit (:func:`load_plans`), a nesting limit checked
while composing (before any deeper node is built), and a node budget for alias expansion
(an alias re-visits the anchored node when walked).
"""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import yaml

from reminderd.core.errors import Problem, ProblemsError
from reminderd.core.model import Plans
from reminderd.plans.fields import _DONE, _FieldReader, _Fields, _TooMany
from reminderd.plans.nodes import (
    LIBYAML,
    Collection,
    Mapping,
    Node,
    Scalar,
    Sequence,
    TooDeep,
    alias_on_path,
    compose,
)
from reminderd.plans.schema import (
    Gathered,
    PlanContext,
    agency,
    index_directory,
    plan_year,
    read_coordinator,
    read_directory,
    read_items,
    reader,
    task,
    top_fields,
    walk,
)

__all__ = ["MAX_DEPTH", "PlansError", "load_plans", "load_plans_text", "plan_files"]

MAX_DEPTH = 100  # plans.yaml needs 6 levels
MIN_NODE_BUDGET = 200_000  # node visits allowed before aliases count as a bomb
_UNLIMITED = 1 << 62  # the budget while composing, before the node count is known


class PlansError(ProblemsError):
    """plans.yaml has problems; ``problems`` lists them all, sorted by place."""


def load_plans(path: Path, *, max_bytes: int = 50 * 1024 * 1024) -> Plans:
    """Load plans.yaml from ``path``, or every plan file of the folder ``path`` (see
    :func:`plan_files`); raise PlansError listing every problem."""
    if path.is_dir():
        return _load_folder(path, max_bytes)
    return _run(_read(path, max_bytes), str(path))


def plan_files(folder: Path) -> list[Path]:
    """The plan files of a plans folder: every ``*.yaml`` in it (not in sub-folders), in
    name order; hidden files (an editor's ``.#x.yaml``) are not read."""
    return sorted(
        p for p in folder.glob("*.yaml") if not p.name.startswith(".") and p.is_file()
    )


def _read(path: Path, max_bytes: int) -> str | bytes:
    """The file's text for the parser; PlansError (located) when it cannot be."""
    name = str(path)
    try:
        with open(path, "rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
        raise PlansError([Problem(name, 1, 1, message)]) from None
    if len(data) > max_bytes:
        try:
            size = path.stat().st_size
        except OSError:  # pragma: no cover - vanished between read and stat
            size = len(data)
        message = (
            f"the file is {size} bytes, larger than the limit of {max_bytes} bytes; "
            "split the plans or raise the limit"
        )
        raise PlansError([Problem(name, 1, 1, message)])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        col = len(data[start : exc.start].decode("utf-8", "replace")) + 1
        bad = data[exc.start : exc.start + 1].hex()
        message = f"the file is not valid UTF-8 (byte 0x{bad}); save it as UTF-8"
        raise PlansError([Problem(name, line, col, message)]) from None
    # The parser reads UTF-8: give it the bytes as read unless the text needs a change
    # (BOM, NFC), and hold no second copy of the file while loading.
    if text.startswith("\ufeff") or not unicodedata.is_normalized("NFC", text):
        return _tidy(text)
    return data


def _tidy(source: str) -> str:
    if source.startswith("\ufeff"):
        source = source[1:]
    if not unicodedata.is_normalized("NFC", source):
        source = unicodedata.normalize("NFC", source)  # Vietnamese typed on macOS: NFD
    return source


def load_plans_text(text: str, filename: str = "plans.yaml") -> Plans:
    """Load plans from YAML text; raise PlansError listing every problem."""
    return _run(text, filename)


def _run(source: str | bytes, filename: str) -> Plans:
    gc_enabled = gc.isenabled()
    gc.disable()  # the load allocates millions of objects in no cycle: skip collections
    try:
        plans, problems = _load(source, filename)
    finally:
        if gc_enabled:
            gc.enable()
    if plans is None or problems:
        raise PlansError(problems)
    return plans


# -- a folder: one file per document -------------------------------------------------------


@dataclass(eq=False)
class _File:
    """One file of a plans folder, composed; ``top`` is None once it cannot be read on."""

    r: _FieldReader
    root: Node
    source: str | bytes
    distinct: int
    top: _Fields | None = None


def _load_folder(folder: Path, max_bytes: int) -> Plans:
    """Every plan file of ``folder`` read as one plans.yaml: the agencies and groups of all
    the files are indexed before any reference is looked up, and ids are unique across the
    files. Each problem names its own file."""
    problems: list[Problem] = []
    files: list[_File] = []
    paths = plan_files(folder)
    if not paths:
        message = ("the plans folder has no *.yaml file; put the agencies and one file per "
                   "plan document in it")
        raise PlansError([Problem(str(folder), 1, 1, message)])
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        for path in paths:
            try:
                source = _read(path, max_bytes)
            except PlansError as exc:
                problems += exc.problems
                continue
            name = str(path)
            root, distinct, found = _compose_file(source, name, None)
            problems += found
            if root is not None:
                budget = max(MIN_NODE_BUDGET, 10 * distinct)
                files.append(_File(reader(name, budget), root, source, distinct))
        g = Gathered()
        for file in files:
            _guarded(file, lambda f: _first_phase(f, g), first=True)
        index_directory(g)
        for file in files:
            _guarded(file, lambda f: read_coordinator(f.r, g, _top(f)))
        for file in files:
            _guarded(file, lambda f: read_items(f.r, g, f.root, _top(f)))
        plans = g.result(str(folder))
    finally:
        if gc_enabled:
            gc.enable()
    for file in files:
        problems += file.r.problems
    if problems:
        raise PlansError(problems)
    return plans


def _first_phase(file: _File, g: Gathered) -> None:
    file.top = top_fields(file.r, file.root)
    if file.top is not None:
        read_directory(file.r, g, file.root, file.top)


def _top(file: _File) -> _Fields:
    assert file.top is not None
    return file.top


def _guarded(file: _File, step: Callable[[_File], None], *, first: bool = False) -> None:
    """Run one phase on a file; an alias bomb stops that file (reported where it is), and
    a file whose top level cannot be read is not read on."""
    if file.distinct < 0 or (not first and file.top is None):
        return
    try:
        step(file)
    except _TooMany as exc:
        file.r.problems.append(
            _bomb_problem(exc, file.root, file.source, file.r.file, file.distinct)
        )
        file.distinct = -1


# -- composing ----------------------------------------------------------------------------


def _load(source: str | bytes, filename: str) -> tuple[Plans | None, list[Problem]]:
    """Compose and walk, reading tasks early; on an alias bomb, again in document order.

    Reading tasks early spends the node budget in another order than the walk would, and
    the budget is only known once composed: when it runs out, the file is read again
    without reading early, so the bomb is reported where the walk meets it.
    """
    if isinstance(source, str):
        source = _tidy(source)
    r, g = reader(filename, _UNLIMITED), Gathered()
    plans, problems, distinct = _compose_and_walk(source, r, g, _Eager(r, g))
    if distinct < 0:
        r, g = reader(filename, _UNLIMITED), Gathered()
        plans, problems, distinct = _compose_and_walk(source, r, g, None)
        if distinct < 0:
            return None, problems
    return plans, problems


_TOO_DEEP = (
    f"the file nests deeper than {MAX_DEPTH} levels; plans.yaml needs about 6: "
    "check the brackets and the indentation here"
)


def _compose_file(
    source: str | bytes, filename: str, hook: _Eager | None
) -> tuple[Node | None, int, list[Problem]]:
    """The composed root (None with the problems if it cannot be) and its node count."""
    try:
        root, distinct = compose(source, MAX_DEPTH, hook)
    except TooDeep as exc:
        return None, 0, [Problem(filename, exc.node.line, exc.node.col, _TOO_DEEP)]
    except RecursionError:  # pragma: no cover - the composer keeps its own stack
        return None, 0, [Problem(filename, 1, 1, "the file nests too deeply to read")]
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem) and exc.problem_mark is not None:
            # libyaml (PyYAML >= 6.0.3 wheels) scans flow brackets ahead of our own count
            mark = exc.problem_mark
            return None, 0, [Problem(filename, mark.line + 1, mark.column + 1, _TOO_DEEP)]
        return None, 0, [_syntax_problem(exc, source, filename)]
    except yaml.YAMLError as exc:
        return None, 0, [_syntax_problem(exc, source, filename)]
    if root is None:
        message = (
            "the file is empty; it must be a mapping with agencies, occasions, agreements and plans"
        )
        return None, 0, [Problem(filename, 1, 1, message)]
    return root, distinct, []


def _compose_and_walk(
    source: str | bytes, r: _FieldReader, g: Gathered, hook: _Eager | None
) -> tuple[Plans | None, list[Problem], int]:
    """The model and problems, and the distinct node count (-1 if the budget ran out)."""
    filename = r.file
    root, distinct, problems = _compose_file(source, filename, hook)
    if root is None:
        return None, problems, 0
    r.left += max(MIN_NODE_BUDGET, 10 * distinct) - _UNLIMITED
    try:
        if r.left < 0:  # spent while reading early: read again
            raise _TooMany()
        plans = walk(r, g, root)
    except _TooMany as exc:
        if hook is not None:
            return None, [], -1
        r.problems.append(_bomb_problem(exc, root, source, filename, distinct))
        return None, r.problems, -1
    except RecursionError:  # pragma: no cover - the walk has a fixed depth
        r.problems.append(Problem(filename, 1, 1, "the file nests too deeply to read"))
        return None, r.problems, 0
    return plans, r.problems, distinct


_SYNTAX_HINTS = (
    ("cannot start any token", "indent with spaces, never tabs, and quote values that "
     "start with @ or `"),
    ("mapping values are not allowed", "put the value in quotes when it contains ': '"),
    ("could not find expected ':'", "each line needs 'key: value'; quote values that "
     "contain ': ' or start with a quote"),
    ("did not find expected key", "check the indentation: keys of one item line up"),
    ("did not find expected '-' indicator", "check the indentation: the '-' of list "
     "items line up"),
    ("found undefined alias", "define the anchor (&name) before using *name"),
    ("expected a single document", "remove the '---' or '...' line that starts a "
     "second document"),
)  # fmt: skip


def _syntax_problem(exc: yaml.YAMLError, source: str | bytes, filename: str) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = f"YAML syntax error: {exc.problem or exc.context or 'cannot parse'}"
        if exc.context and exc.problem and exc.context_mark is not None:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        for needle, hint in _SYNTAX_HINTS:
            if needle in message:
                message += f"; {hint}"
                break
        return Problem(filename, line, col, message)
    if isinstance(exc, yaml.reader.ReaderError):
        if LIBYAML:  # libyaml counts bytes of the UTF-8 encoding
            raw = source if isinstance(source, bytes) else source.encode("utf-8")
            before = raw[: exc.position].decode("utf-8", "replace")
        else:  # pragma: no cover - the pure-Python reader counts characters
            text = source if isinstance(source, str) else source.decode("utf-8")
            before = text[: exc.position]
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        message = (
            f"the character U+{ord(char):04X} is not allowed in a YAML file ({exc.reason}); "
            "remove it"
        )
        return Problem(filename, line, col, message)
    return Problem(filename, 1, 1, f"YAML error: {exc}")  # pragma: no cover


def _bomb_problem(
    exc: _TooMany, root: Node, source: str | bytes, filename: str, distinct: int
) -> Problem:
    """Report an exhausted node budget at the alias (on the walked path) that caused it."""
    path: list[int] = []
    for container, step in reversed(exc.trail):
        if isinstance(step, int):
            path.append(step)
            continue
        assert isinstance(container, Mapping)
        for index, (key, _value) in enumerate(container.value):
            if isinstance(key, Scalar) and key.value == step:
                path.append(2 * index + 1)
                break
    limit = max(MIN_NODE_BUDGET, 10 * distinct)
    alias = alias_on_path(source, path)
    if alias is not None and alias.start_mark is not None:
        line, col = alias.start_mark.line + 1, alias.start_mark.column + 1
        name = f"*{alias.anchor}"
    else:
        deepest = exc.trail[0][0] if exc.trail else root
        line, col = deepest.line, deepest.col
        name = "an alias"
    message = (
        f"alias expansion too large: through {name} the file would be read as more than "
        f"{limit} nodes (it has {distinct}); write the items out instead of repeating "
        "aliases of aliases"
    )
    return Problem(filename, line, col, message)


# -- reading tasks as they end ------------------------------------------------------------

_ROOT, _PLANS, _PLAN = "root", "plans", "plan"  # roles of the collections _Eager follows


class _AgencyList:
    """Role of the top-level agencies list: read (and indexed) as soon as it ends."""

    __slots__ = ("key",)

    def __init__(self, key: Node) -> None:
        self.key = key


class _TaskList:
    """Role of one plan's tasks list: its tasks read so far (a prefix of the list).

    ``ctx`` is what the walk finds in ``Gathered.prefilled`` (the plan's context with the
    tasks read); the role adds what following the list needs: how many items are read,
    and the role of each item.
    """

    __slots__ = ("ctx", "done", "item", "node")

    def __init__(self, node: Sequence, year: int | None) -> None:
        self.node = node
        self.ctx = PlanContext(year, node=node)
        self.done = 0  # the first ``done`` items of ``node`` are _DONE
        self.item = _TaskItem(self)


class _TaskItem:
    """Role of a task mapping in a followed tasks list."""

    __slots__ = ("tasks",)

    def __init__(self, tasks: _TaskList) -> None:
        self.tasks = tasks


def _plain_key(parent: Mapping, key: Node | int | None) -> str | None:
    """The name of ``key`` if it is a plain scalar and the first such key in ``parent``.

    Only the first of duplicate keys is read (the others are reported), as ``fields``.
    """
    if type(key) is not Scalar or key.tag is not None:
        return None
    name = key.value
    for other, _value in parent.value:
        if type(other) is Scalar and other.tag is None and other.value == name:
            return None
    return name


class _Eager:
    """Reads each task while composing, as soon as its mapping ends, then drops its nodes.

    A task is read early only when the walk would read it the same way, whatever follows:

    * it is an item of the ``tasks`` list of a plan in the top-level ``plans`` list, each
      of them the first of its key, untagged where a tag would stop the walk, and none of
      root, plans list, plan, tasks list or task anchored (an alias could walk it again);
    * its plan's ``year`` key came before ``tasks`` (the year reads the phrases);
    * it holds no anchor and no alias, and every item before it was read early (so the
      order of tasks, and of duplicate ids, stays the document's).

    In its place the tasks list keeps :data:`_DONE`; the walk finds the tasks read and
    the ids seen in ``Gathered.prefilled`` and reads the rest of the list. The top-level
    agencies list is read and indexed as soon as it ends; a task read before that keeps
    its lead and support names (``Directory.late``) until the directory is complete.

    Reading early spends the node budget earlier than the walk would: if the budget runs
    out, :func:`_load` reads the file again without reading early.
    """

    def __init__(self, r: _FieldReader, g: Gathered) -> None:
        self.r = r
        self.g = g

    def enter(
        self,
        role: object,
        parent: Collection | None,
        key: Node | int | None,
        node: Collection,
        anchored: bool,
    ) -> object:
        if anchored:
            return None
        if parent is None:
            return _ROOT if type(node) is Mapping else None
        if role is _ROOT and type(parent) is Mapping:
            name = _plain_key(parent, key)
            if name == "agencies":
                assert key is not None and not isinstance(key, int)
                return _AgencyList(key)
            if name == "plans" and type(node) is Sequence and node.tag is None:
                return _PLANS
            return None
        if role is _PLANS:
            return _PLAN if type(node) is Mapping else None
        if role is _PLAN:
            if (
                type(parent) is not Mapping
                or type(node) is not Sequence
                or node.tag is not None
                or _plain_key(parent, key) != "tasks"
            ):
                return None
            for pair in parent.value:
                other = pair[0]
                if type(other) is Scalar and other.tag is None and other.value == "year":
                    year = plan_year(self.r, {"year": pair}, quiet=True)
                    tasks = _TaskList(node, year)
                    self.g.prefilled[id(node)] = tasks.ctx
                    return tasks
            return None
        if type(role) is _TaskList:
            return role.item if type(node) is Mapping else None
        return None

    def leave(self, role: object, node: Collection, pure: bool) -> Node:
        if type(role) is _TaskItem:
            tasks = role.tasks
            if pure and len(tasks.node.value) == tasks.done:
                task(self.r, self.g, tasks.ctx, node)
                tasks.done += 1
                return _DONE
        elif type(role) is _AgencyList:
            # as the walk would; the budget cannot run out while composing: no trail
            r = self.r
            r.section(node, {"agencies": (role.key, node)}, "agencies", "agencies",
                      partial(agency, r, self.g))
            self.g.directory.index_agencies()
        return node
