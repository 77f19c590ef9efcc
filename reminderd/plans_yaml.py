"""Read plans.yaml into the model, reporting every problem at once with its place.

The document is read from the YAML parser's events (libyaml's when available) into light
nodes (:mod:`reminderd.yaml_nodes`) and the nodes are walked here: every scalar is taken
as its raw text, so YAML 1.1 implicit typing never decides a value (``2026-06-12``,
``no``, ``3:10`` are text to us, parsed by our own grammar). Each problem becomes
``Problem(file, line, col, message)``; all of them are raised together as
:class:`PlansError`.

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

import difflib
import gc
import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import yaml

from reminderd.core.errors import Problem, TimeExprError
from reminderd.core.model import Agency, Agreement, Occasion, OccasionKind, Plan, Plans, Task
from reminderd.core.timeexpr import parse_date, parse_time, parse_yearly
from reminderd.core.timing import Timing
from reminderd.yaml_nodes import (
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

__all__ = ["MAX_DEPTH", "PlansError", "load_plans", "load_plans_text"]

MAX_DEPTH = 100  # plans.yaml needs 6 levels
MIN_NODE_BUDGET = 200_000  # node visits allowed before aliases count as a bomb
_UNLIMITED = 1 << 62  # the budget while composing, before the node count is known
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]|=\\?")
_AGENCY_ID = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+\Z"
)
_MAX_REMIND = 3660  # days: ten years ahead is plenty
_DONE = Scalar("", 0, 0, None, None)  # stands in a tasks list for a task already read

_T = TypeVar("_T")
_Pair = tuple[Node, Node]
_Fields = dict[str, _Pair]
_Ident = tuple[str, Node]
# an agency read but not yet indexed: node, id, name, name node, aliases, e-mails
_PendingAgency = tuple[Node, _Ident | None, str, Node, list[tuple[Node, str]], tuple[str, ...]]

_TOP_KEYS = ("version", "coordinator", "agencies", "occasions", "agreements", "plans")
_AGENCY_KEYS = ("id", "name", "emails", "aliases")
_COMMON = ("lead", "support", "remind", "notes")
_OCCASION_KEYS = ("id", "title", "date", "kind", "since", *_COMMON)
_AGREEMENT_KEYS = (
    "id", "title", "parties", "signed", "valid_years", "review_every_years", "reference",
    *_COMMON,
)  # fmt: skip
_PLAN_KEYS = ("id", "title", "reference", "year", "end_year", "coordinator", "notes", "tasks")
_TASK_KEYS = ("id", "title", "when", "lead", "support", "inclusive", "done", "remind", "notes")

_EXAMPLES = {
    ("agency", "id"): "id: songoaivu",
    ("agency", "name"): "name: Sở Ngoại vụ tỉnh Đắk Lắk",
    ("occasion", "id"): "id: kr-relations",
    ("occasion", "title"): "title: Ngày thiết lập quan hệ ngoại giao Việt Nam - Hàn Quốc",
    ("occasion", "date"): "date: 22/12",
    ("agreement", "id"): "id: jeollabuk-2017",
    ("agreement", "title"): "title: Thỏa thuận hợp tác với tỉnh Jeollabuk-do",
    ("agreement", "signed"): "signed: 22/12/2017",
    ("plan", "id"): "id: kh-34-2024",
    ("plan", "title"): "title: Kế hoạch hoạt động đối ngoại năm 2024",
    ("plan", "year"): "year: 2024",
    ("task", "id"): 'id: "1.1"',
    ("task", "title"): "title: Gửi thư chúc mừng",
    ("task", "when"): 'when: "Quý II/2024"',
    ("task", "done"): "done: 10/8/2022",
}
_REQUIRED = {
    "agency": ("id", "name"),
    "occasion": ("id", "title", "date"),
    "agreement": ("id", "title", "signed"),
    "plan": ("id", "title", "year"),
    "task": ("id", "title", "when"),
}


class PlansError(Exception):
    """plans.yaml has problems; ``problems`` lists them all, sorted by place."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))  # an alias repeats its node's problems
        super().__init__("\n".join(str(p) for p in self.problems))


def load_plans(path: Path, *, max_bytes: int = 50 * 1024 * 1024) -> Plans:
    """Load plans.yaml from ``path``; raise PlansError listing every problem."""
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
    source: str | bytes = data
    if text.startswith("\ufeff") or not unicodedata.is_normalized("NFC", text):
        source = text
    del text, data
    return _run(source, name)


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


# -- composing ----------------------------------------------------------------------------


class _TooMany(Exception):
    """The node budget ran out; ``trail`` is (container, key or index), innermost first."""

    def __init__(self) -> None:
        super().__init__()
        self.trail: list[tuple[Node, str | int]] = []


def _load(source: str | bytes, filename: str) -> tuple[Plans | None, list[Problem]]:
    """Compose and walk, reading tasks early; on an alias bomb, again in document order.

    Reading tasks early spends the node budget in another order than the walk would, and
    the budget is only known once composed: when it runs out, the file is read again
    without reading early, so the bomb is reported where the walk meets it.
    """
    if isinstance(source, str):
        if source.startswith("\ufeff"):
            source = source[1:]
        if not unicodedata.is_normalized("NFC", source):
            source = unicodedata.normalize("NFC", source)  # Vietnamese typed on macOS: NFD
    walker = _Walker(filename, _UNLIMITED)
    plans, problems, distinct = _compose_and_walk(source, filename, walker, _Eager(walker))
    if distinct < 0:
        walker = _Walker(filename, _UNLIMITED)
        plans, problems, distinct = _compose_and_walk(source, filename, walker, None)
        if distinct < 0:
            return None, problems
    return plans, problems


_TOO_DEEP = (
    f"the file nests deeper than {MAX_DEPTH} levels; plans.yaml needs about 6: "
    "check the brackets and the indentation here"
)


def _compose_and_walk(
    source: str | bytes, filename: str, walker: _Walker, hook: _Eager | None
) -> tuple[Plans | None, list[Problem], int]:
    """The model and problems, and the distinct node count (-1 if the budget ran out)."""
    try:
        root, distinct = compose(source, MAX_DEPTH, hook)
    except TooDeep as exc:
        return None, [Problem(filename, exc.node.line, exc.node.col, _TOO_DEEP)], 0
    except RecursionError:  # pragma: no cover - the composer keeps its own stack
        return None, [Problem(filename, 1, 1, "the file nests too deeply to read")], 0
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem) and exc.problem_mark is not None:
            # libyaml (PyYAML >= 6.0.3 wheels) scans flow brackets ahead of our own count
            mark = exc.problem_mark
            return None, [Problem(filename, mark.line + 1, mark.column + 1, _TOO_DEEP)], 0
        return None, [_syntax_problem(exc, source, filename)], 0
    except yaml.YAMLError as exc:
        return None, [_syntax_problem(exc, source, filename)], 0
    if root is None:
        message = (
            "the file is empty; it must be a mapping with agencies, occasions, agreements and plans"
        )
        return None, [Problem(filename, 1, 1, message)], 0
    walker.left += max(MIN_NODE_BUDGET, 10 * distinct) - _UNLIMITED
    try:
        if walker.left < 0:  # spent while reading early: read again
            raise _TooMany()
        plans = walker.walk(root)
    except _TooMany as exc:
        if hook is not None:
            return None, [], -1
        walker.problems.append(_bomb_problem(exc, root, source, filename, distinct))
        return None, walker.problems, -1
    except RecursionError:  # pragma: no cover - the walk has a fixed depth
        walker.problems.append(Problem(filename, 1, 1, "the file nests too deeply to read"))
        return None, walker.problems, 0
    return plans, walker.problems, distinct


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
    """Role of one plan's tasks list: its tasks read so far (a prefix of the list)."""

    __slots__ = ("done", "ids", "item", "node", "tasks", "year")

    def __init__(self, node: Sequence, year: int | None) -> None:
        self.node = node
        self.year = year
        self.tasks: list[Task] = []
        self.ids: dict[str, int] = {}
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
    the ids seen in ``_Walker.prefilled`` and reads the rest of the list. The top-level
    agencies list is read and indexed as soon as it ends; a task read before that keeps
    its lead and support names (``_Walker.late``) until the walk has indexed the agencies.

    Reading early spends the node budget earlier than the walk would: if the budget runs
    out, :func:`_load` reads the file again without reading early.
    """

    def __init__(self, walker: _Walker) -> None:
        self.walker = walker

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
                    year = self.walker.plan_year({"year": pair}, quiet=True)
                    tasks = _TaskList(node, year)
                    self.walker.prefilled[id(node)] = tasks
                    return tasks
            return None
        if type(role) is _TaskList:
            return role.item if type(node) is Mapping else None
        return None

    def leave(self, role: object, node: Collection, pure: bool) -> Node:
        if type(role) is _TaskItem:
            tasks = role.tasks
            if pure and len(tasks.node.value) == tasks.done:
                self.walker.early_task(tasks, node)
                tasks.done += 1
                return _DONE
        elif type(role) is _AgencyList:
            self.walker.early_agencies(role.key, node)
        return node


# -- walking ------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def _q(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def _kind(node: Node) -> str:
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a list"
    return f"text {_q(node.value)}"


def _tag_name(tag: str) -> str:
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


class _Walker:
    def __init__(self, filename: str, budget: int) -> None:
        self.file = filename
        self.problems: list[Problem] = []
        self.left = budget
        # normalised id/alias/name -> (agency id, as written, "id"|"alias"|"name", line)
        self.keys: dict[str, tuple[str, str, str, int]] = {}
        self.key_list: list[str] = []
        self.ref_cache: dict[str, str] = {}
        self.coordinator: str | None = None
        self.pending: list[_PendingAgency] = []
        self.agencies: list[Agency] = []
        self.occasions: list[Occasion] = []
        self.agreements: list[Agreement] = []
        self.plans: list[Plan] = []
        self.seen: dict[str, dict[str, int]] = {"occasion": {}, "agreement": {}, "plan": {}}
        self.tasks: list[Task] = []
        self.task_ids: dict[str, int] = {}
        self.year: int | None = None
        self.agencies_done = False  # indexed (early, see _Eager, or by the walk)
        self.prefilled: dict[int, _TaskList] = {}  # id(tasks list) -> its tasks read early
        # tasks read before the agencies were indexed, whose references wait for them:
        # (tasks list, index of the task in it or -1 if not kept, lead, support)
        self.late: list[tuple[list[Task], int, list[Scalar], list[Scalar]]] = []

    # - reading early (see _Eager) -

    def early_agencies(self, key: Node, node: Node) -> None:
        # as walk() would; the budget cannot run out while composing, so no trail is needed
        self.section(node, {"agencies": (key, node)}, "agencies", "agencies", self.agency)
        self.register_agencies()
        self.agencies_done = True

    def early_task(self, tasks: _TaskList, node: Node) -> None:
        self.year, self.tasks, self.task_ids = tasks.year, tasks.tasks, tasks.ids
        self.task(node)

    # - reporting and budget -

    def err(self, node: Node, message: str) -> None:
        self.problems.append(Problem(self.file, node.line, node.col, message))

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise _TooMany()

    # - shapes -

    def fields(self, node: Node, allowed: tuple[str, ...], what: str) -> _Fields | None:
        """The mapping's pairs by key; unknown and duplicate keys are reported."""
        if type(node) is not Mapping:
            if type(node) is Scalar and not node.style and node.value in _NULLS:
                example = _EXAMPLES.get((what, "id"), "id: ...")
                self.err(node, f"empty {what}; write its keys, e.g. {example}")
            else:
                self.err(node, f"expected {what} (a mapping of key: value), got {_kind(node)}")
            return None
        if node.tag is not None:
            self.err(node, f"the YAML tag {_tag_name(node.tag)} is not allowed; remove it")
        pairs = node.value
        self.spend(2 * len(pairs))
        out: _Fields = {}
        for pair in pairs:
            key = pair[0]
            if type(key) is not Scalar or key.tag is not None:
                if type(key) is Scalar:
                    self.tag_ok(key, key.value)
                else:
                    self.err(key, f"expected a key name in {what}, got {_kind(key)}")
                continue
            name = key.value
            if name in allowed:
                first = out.get(name)
                if first is None:
                    out[name] = pair
                else:
                    line = first[0].line
                    self.err(key, f"duplicate key {name!r} (first at line {line}); keep only one")
            elif name == "<<":
                self.err(key, "merge keys (<<) are not supported; write the keys out")
            else:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(allowed)
                self.err(key, f"unknown key {_q(name)} in {what}; {hint}")
        for required in _REQUIRED.get(what, ()):
            if required not in out:
                example = _EXAMPLES[what, required]
                self.err(node, f"{what} is missing {required!r}; add {example}")
        return out

    def scalar(self, node: Node, key: str, expected: str) -> Scalar | None:
        """The node if it is an untagged scalar, else None (reported)."""
        if not self.tag_ok(node, key):
            return None
        if type(node) is not Scalar:
            self.err(node, f"{key}: expected {expected}, got {_kind(node)}")
            return None
        return node

    def null(self, node: Node) -> bool:
        return type(node) is Scalar and (
            (not node.style and node.value in _NULLS) or not node.value.strip()
        )

    def safe(self, node: Scalar, key: str, value: str) -> bool:
        """Single-line text without anything that could forge an e-mail header."""
        if node.style == "|" or node.style == ">":
            self.err(
                node,
                f"{key}: a block scalar ({node.style}) is not allowed here: {key} goes into "
                "e-mail headers and must be one line; write it on one line (a long value "
                "may continue on the next line, indented, without | or >)",
            )
            return False
        bad = _UNSAFE.search(value)
        if bad is None:
            return True
        found = bad.group()
        if found == "=?":
            why = "'=?', which mail clients decode as an encoded word"
            fix = "write it without '=?'"
        elif found in "\r\n":
            why = "a line break, which would start a new header"
            fix = "write it on one line"
        else:
            why = f"the control character U+{ord(found):04X}"
            fix = "remove it"
        self.err(node, f"{key}: {_q(value)} contains {why} (e-mail header injection); {fix}")
        return False

    def text(self, f: _Fields, key: str, what: str, *, header: bool = True) -> str:
        pair = f.get(key)
        if pair is None:
            return ""
        node = self.scalar(pair[1], key, "text")
        if node is None:
            return ""
        value: str = node.value
        if (not node.style and value in _NULLS) or not value.strip():
            if key in _REQUIRED.get(what, ()):
                self.err(node, f"{key} is empty; write {_EXAMPLES[what, key]}")
            return ""
        if header and not self.safe(node, key, value):
            return ""
        return value.strip()

    def ident(self, f: _Fields, what: str) -> _Ident | None:
        pair = f.get("id")
        if pair is None:
            return None
        node = pair[1]
        value = self.text(f, "id", what)
        if not value:
            return None
        pattern = _AGENCY_ID if what == "agency" else _ID
        if pattern.match(value):
            return value, node
        allowed = "a-z" if what == "agency" else "letters"
        hint = ""
        if what == "agency" and _AGENCY_ID.match(value.lower()):
            hint = f" (did you mean {value.lower()!r}?)"
        self.err(
            node,
            f"id: {_q(value)} is not a valid {what} id: use {allowed}, digits, '.', '_' and "
            f"'-', starting with a letter or digit{hint}; e.g. {_EXAMPLES[what, 'id']}",
        )
        return value, node  # reported; still returned so references to it do not cascade

    def integer(
        self, f: _Fields, key: str, low: int, high: int, noun: str, example: str
    ) -> int | None:
        pair = f.get(key)
        if pair is None:
            return None
        node = self.scalar(pair[1], key, noun)
        if node is None:
            return None
        value: str = node.value
        digits = value.strip()
        if not digits:
            self.err(node, f"{key} is empty; write {example} or remove the line")
            return None
        if digits.isascii() and digits.isdigit() and len(digits) <= 6:
            number = int(digits)
            if low <= number <= high:
                return number
        self.err(
            node, f"{key}: {_q(value)} is not {noun} between {low} and {high}; write {example}"
        )
        return None

    def boolean(self, f: _Fields, key: str) -> bool | None:
        pair = f.get(key)
        if pair is None:
            return None
        node = self.scalar(pair[1], key, "true or false")
        if node is None:
            return None
        value: str = node.value
        word = value.strip().lower()
        if word == "true":
            return True
        if word == "false":
            return False
        self.err(
            node,
            f"{key}: {_q(value)} is not true or false; write true or false "
            f"({key}: true or {key}: false)",
        )
        return None

    def tag_ok(self, node: Node, key: str) -> bool:
        if node.tag is None:
            return True
        self.err(
            node,
            f"{key}: the YAML tag {_tag_name(node.tag)} is not allowed; "
            "values are plain text: remove the tag",
        )
        return False

    def listed(
        self, f: _Fields, key: str, owner: Node, expected: str, empty: str = ""
    ) -> list[Node]:
        """The items of a list value; one scalar is a list of one; empty is [] (or ``empty``)."""
        pair = f.get(key)
        if pair is None:
            return []
        node = pair[1]
        if not self.tag_ok(node, key):
            return []
        if type(node) is Scalar:
            if self.null(node):
                if empty:
                    self.err(node, empty)
                return []
            return [node]
        if type(node) is not Sequence:
            self.err(node, f"{key}: expected {expected}, got {_kind(node)}")
            return []
        items: list[Node] = node.value
        try:
            self.spend(len(items))
        except _TooMany as exc:
            exc.trail.append((owner, key))
            raise
        return items

    def strings(self, f: _Fields, key: str, owner: Node, noun: str) -> list[tuple[Node, str]]:
        """A text or a list of texts (each one line, header-safe), with their nodes."""
        out: list[tuple[Node, str]] = []
        for item in self.listed(f, key, owner, f"{noun} or a list of them"):
            scalar = self.scalar(item, key, noun)
            if scalar is None:
                continue
            value: str = scalar.value
            if not value.strip():
                self.err(item, f"{key}: empty {noun}; remove the item or write one")
            elif self.safe(scalar, key, value):
                out.append((item, value.strip()))
        return out

    def parse(
        self, f: _Fields, key: str, what: str, read: Callable[[str], _T]
    ) -> tuple[str, _T] | None:
        """Read ``key`` with our grammar; its errors become problems at the value."""
        pair = f.get(key)
        if pair is None:
            return None
        node = self.scalar(pair[1], key, "a date or time phrase")
        if node is None:
            return None
        value: str = node.value
        text = value.strip()
        if not text or (not node.style and text in _NULLS):
            self.err(node, f"{key} is empty; write {_EXAMPLES[what, key]}")
            return None
        if not self.safe(node, key, value):
            return None
        try:
            return text, read(text)
        except TimeExprError as exc:
            self.err(node, str(exc))
        except Exception as exc:  # a grammar bug must not become a traceback for the admin
            self.err(
                node,
                f"{key}: cannot read {_q(text)} (internal error {type(exc).__name__}: {exc}); "
                "please report it",
            )
        return None

    def remind(self, f: _Fields, owner: Node) -> tuple[int, ...] | None:
        if "remind" not in f:
            return None
        empty = (
            "remind is empty; write remind: [] for no reminders, or remove the line for the "
            "default reminders"
        )
        items = self.listed(f, "remind", owner, "a list of days such as [30, 7, 1]", empty)
        days: set[int] = set()
        for item in items:
            scalar = self.scalar(item, "remind", "a number of days")
            if scalar is None:
                continue
            value: str = scalar.value
            digits = value.strip()
            if digits.isascii() and digits.isdigit() and len(digits) <= 5:
                number = int(digits)
                if number <= _MAX_REMIND:
                    days.add(number)
                    continue
            self.err(
                item,
                f"remind: {_q(value)} is not a number of days between 0 and {_MAX_REMIND}; "
                "write days before the date, e.g. remind: [30, 7, 1]",
            )
        return tuple(sorted(days, reverse=True))

    # - agency references -

    def ref(self, node: Scalar, key: str) -> str | None:
        raw: str = node.value
        agency = self.ref_cache.get(raw)
        if agency is not None:
            return agency
        entry = self.keys.get(_norm(raw))
        if entry is not None:
            self.ref_cache[raw] = entry[0]
            return entry[0]
        self.err(node, self.unknown(raw, key))
        return None

    def unknown(self, raw: str, key: str) -> str:
        if not raw.strip():
            return f"{key}: empty agency name; write an agency id or alias, or remove the item"
        base = f"unknown agency {_q(raw)} in {key}"
        close = difflib.get_close_matches(_norm(raw), self.key_list, n=1)
        if close:
            agency, written, kind, _line = self.keys[close[0]]
            if kind == "id":
                return f"{base}; did you mean {agency!r}?"
            return f"{base}; did you mean {written!r} ({agency})?"
        if not self.keys:
            return f"{base}; add the agency under agencies: first"
        ids = sorted({entry[0] for entry in self.keys.values()})
        shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
        return f"{base}; use an agency id or alias ({shown}) or add it to agencies"

    def refs(self, f: _Fields, key: str, owner: Node) -> tuple[str, ...]:
        return self.resolve(self.ref_items(f, key, owner), key)

    def ref_items(self, f: _Fields, key: str, owner: Node) -> list[Scalar]:
        """The agency names listed under ``key`` (shape checked, not yet looked up)."""
        out: list[Scalar] = []
        for item in self.listed(f, key, owner, "a list of agency names"):
            scalar = self.scalar(item, key, "an agency name")
            if scalar is not None:
                out.append(scalar)
        return out

    def resolve(self, items: list[Scalar], key: str) -> tuple[str, ...]:
        out: list[str] = []
        for scalar in items:
            agency = self.ref(scalar, key)
            if agency is not None and agency not in out:
                out.append(agency)
        return tuple(out)

    def resolve_late(self) -> None:
        """Look up the agencies of tasks read early, before the agencies were indexed."""
        for tasks, index, lead_items, support_items in self.late:
            lead = self.resolve(lead_items, "lead")
            support = self.resolve(support_items, "support")
            if index >= 0:
                tasks[index] = replace(tasks[index], lead=lead, support=support)
        self.late = []

    def one_ref(self, f: _Fields, key: str) -> str | None:
        pair = f.get(key)
        if pair is None:
            return None
        node = self.scalar(pair[1], key, "one agency id or alias")
        if node is None:
            return None
        if self.null(node):
            self.err(node, f"{key} is empty; write {key}: songoaivu (an agency id) or remove it")
            return None
        return self.ref(node, key)

    # - sections -

    def section(
        self, top: Node, f: _Fields, key: str, noun: str, item: Callable[[Node], None]
    ) -> None:
        pair = f.get(key)
        if pair is None:
            return
        node = pair[1]
        try:
            if not self.tag_ok(node, key) or self.null(node):
                return
            if type(node) is not Sequence:
                self.err(
                    node,
                    f"{key}: expected a list of {noun} (each starting with '- id: ...'), "
                    f"got {_kind(node)}",
                )
                return
            items = node.value
            self.spend(len(items))
            for index, child in enumerate(items):
                if child is _DONE:
                    continue
                try:
                    item(child)
                except _TooMany as exc:
                    exc.trail.append((node, index))
                    raise
        except _TooMany as exc:
            exc.trail.append((top, key))
            raise

    def origin(self, node: Node) -> str:
        return f"{self.file}:{node.line}:{node.col}"

    def walk(self, root: Node) -> Plans | None:
        if type(root) is not Mapping:
            self.err(
                root,
                "the file must be a mapping with agencies, occasions, agreements and plans "
                f"(each written as 'plans:' at the start of a line), got {_kind(root)}",
            )
            return None
        top = self.fields(root, _TOP_KEYS, "the top level")
        if top is None:
            return None
        version = top.get("version")
        if version is not None:
            node = self.scalar(version[1], "version", "1")
            if node is not None and node.value.strip() != "1":
                self.err(node, f"version: {_q(node.value)} is not supported; write version: 1")
        if not self.agencies_done:
            self.section(root, top, "agencies", "agencies", self.agency)
            self.register_agencies()
            self.agencies_done = True
        self.resolve_late()
        self.coordinator = self.one_ref(top, "coordinator")
        self.section(root, top, "occasions", "occasions", self.occasion)
        self.section(root, top, "agreements", "agreements", self.agreement)
        self.section(root, top, "plans", "plans", self.plan)
        return Plans(
            agencies=tuple(self.agencies),
            occasions=tuple(self.occasions),
            agreements=tuple(self.agreements),
            plans=tuple(self.plans),
            source=self.file,
        )

    def unique(self, kind: str, ident: _Ident | None, seen: dict[str, int]) -> bool:
        if ident is None:
            return False
        value, node = ident
        first = seen.get(value)
        if first is None:
            seen[value] = node.line
            return True
        self.err(
            node,
            f"duplicate {kind} id {value!r} (first at line {first}); give each {kind} its own id",
        )
        return False

    # - agencies -

    def agency(self, node: Node) -> None:
        f = self.fields(node, _AGENCY_KEYS, "agency")
        if f is None:
            return
        ident = self.ident(f, "agency")
        name = self.text(f, "name", "agency")
        emails: list[str] = []
        for item, address in self.strings(f, "emails", node, "an e-mail address"):
            if _EMAIL.match(address) is None:
                self.err(
                    item,
                    f"emails: {_q(address)} is not a plain e-mail address; write only the "
                    "address, e.g. lich@songoaivu.example (no name, no <>)",
                )
            elif address not in emails:
                emails.append(address)
        aliases = self.strings(f, "aliases", node, "a name")
        name_node = f["name"][1] if "name" in f else node
        self.pending.append((node, ident, name, name_node, aliases, tuple(emails)))

    def register_agencies(self) -> None:
        """Index ids, then aliases, then names; a key may name only one agency."""
        keys = self.keys
        ids: dict[str, int] = {}
        kept: list[list[str]] = []
        for node, ident, _name, _name_node, _aliases, _emails in self.pending:
            kept.append([])
            if self.unique("agency", ident, ids) and ident is not None:
                keys[_norm(ident[0])] = (ident[0], ident[0], "id", node.line)
        for (_node, ident, _name, _nn, aliases, _emails), mine in zip(
            self.pending, kept, strict=True
        ):
            for alias_node, alias in aliases:
                self.register(alias_node, alias, "alias", ident, mine)
        for _node, ident, name, name_node, _aliases, _emails in self.pending:
            if name:
                self.register(name_node, name, "name", ident, None)
        for (node, ident, name, _nn, _aliases, emails), mine in zip(
            self.pending, kept, strict=True
        ):
            if ident is not None and name:
                agency = Agency(
                    id=ident[0],
                    name=name,
                    emails=emails,
                    aliases=tuple(mine),
                    origin=self.origin(node),
                )
                self.agencies.append(agency)
        self.key_list = list(keys)

    def register(
        self,
        node: Node,
        written: str,
        kind: str,
        ident: _Ident | None,
        mine: list[str] | None,
    ) -> None:
        agency = ident[0] if ident is not None else ""
        key = _norm(written)
        entry = self.keys.get(key)
        if entry is None:
            if agency:
                self.keys[key] = (agency, written, kind, node.line)
            if mine is not None:
                mine.append(written)
            return
        other, _written, other_kind, line = entry
        if other == agency:
            return  # the same agency named twice: harmless
        what = {"id": "the id", "alias": "an alias", "name": "the name"}[other_kind]
        self.err(
            node,
            f"{kind} {_q(written)} is already {what} of agency {other!r} (line {line}); "
            f"references by this {kind} would be ambiguous: change or remove it",
        )

    # - occasions and agreements -

    def occasion(self, node: Node) -> None:
        f = self.fields(node, _OCCASION_KEYS, "occasion")
        if f is None:
            return
        ident = self.ident(f, "occasion")
        title = self.text(f, "title", "occasion")
        rule = self.parse(f, "date", "occasion", parse_yearly)
        kind = OccasionKind.OTHER
        pair = f.get("kind")
        if pair is not None:
            scalar = self.scalar(pair[1], "kind", "an occasion kind")
            if scalar is not None:
                value: str = scalar.value
                try:
                    kind = OccasionKind(value.strip())
                except ValueError:
                    kinds = [k.value for k in OccasionKind]
                    close = difflib.get_close_matches(value.strip(), kinds, n=1)
                    hint = f"did you mean {close[0]!r}?" if close else "write one of them"
                    self.err(pair[1], f"kind: {_q(value)} is not one of {', '.join(kinds)}; {hint}")
        since = self.integer(f, "since", 1800, 2100, "a year", "since: 1992")
        lead = self.refs(f, "lead", node)
        support = self.refs(f, "support", node)
        remind = self.remind(f, node)
        notes = self.text(f, "notes", "occasion", header=False)
        if self.unique("occasion", ident, self.seen["occasion"]) and ident and title and rule:
            self.occasions.append(
                Occasion(
                    id=ident[0],
                    title=title,
                    rule=rule[1],
                    date_text=rule[0],
                    kind=kind,
                    since=since,
                    lead=lead,
                    support=support,
                    remind=remind,
                    notes=notes,
                    origin=self.origin(node),
                )
            )

    def agreement(self, node: Node) -> None:
        f = self.fields(node, _AGREEMENT_KEYS, "agreement")
        if f is None:
            return
        ident = self.ident(f, "agreement")
        title = self.text(f, "title", "agreement")
        parties = tuple(text for _node, text in self.strings(f, "parties", node, "a party name"))
        signed = self.parse(f, "signed", "agreement", parse_date)
        valid = self.integer(f, "valid_years", 1, 100, "a number of years", "valid_years: 5")
        review = self.integer(
            f, "review_every_years", 1, 100, "a number of years", "review_every_years: 2"
        )
        reference = self.text(f, "reference", "agreement")
        lead = self.refs(f, "lead", node)
        support = self.refs(f, "support", node)
        remind = self.remind(f, node)
        notes = self.text(f, "notes", "agreement", header=False)
        if self.unique("agreement", ident, self.seen["agreement"]) and ident and title and signed:
            self.agreements.append(
                Agreement(
                    id=ident[0],
                    title=title,
                    signed=signed[1],
                    parties=parties,
                    valid_years=valid,
                    review_every_years=review,
                    lead=lead,
                    support=support,
                    reference=reference,
                    remind=remind,
                    notes=notes,
                    origin=self.origin(node),
                )
            )

    # - plans and tasks -

    def plan(self, node: Node) -> None:
        f = self.fields(node, _PLAN_KEYS, "plan")
        if f is None:
            return
        ident = self.ident(f, "plan")
        title = self.text(f, "title", "plan")
        reference = self.text(f, "reference", "plan")
        year = self.plan_year(f)
        end_year = self.integer(f, "end_year", 1900, 2100, "a year", "end_year: 2025")
        if year is not None and end_year is not None and end_year < year:
            self.err(
                f["end_year"][1],
                f"end_year: {end_year} is before year {year}; write an end_year of {year} or "
                "later, or remove it",
            )
        coordinator = self.one_ref(f, "coordinator") if "coordinator" in f else self.coordinator
        notes = self.text(f, "notes", "plan", header=False)
        pair = f.get("tasks")
        early = self.prefilled.get(id(pair[1])) if pair is not None else None
        if early is not None and pair is not None and early.node is pair[1]:
            self.tasks, self.task_ids = early.tasks, early.ids  # read while composing
        else:
            self.tasks, self.task_ids = [], {}
        self.year = year
        self.section(node, f, "tasks", "tasks", self.task)
        if self.unique("plan", ident, self.seen["plan"]) and ident and title and year:
            self.plans.append(
                Plan(
                    id=ident[0],
                    title=title,
                    year=year,
                    reference=reference,
                    coordinator=coordinator,
                    end_year=end_year,
                    tasks=tuple(self.tasks),
                    notes=notes,
                    origin=self.origin(node),
                )
            )

    def plan_year(self, f: _Fields, *, quiet: bool = False) -> int | None:
        if not quiet:
            return self.integer(f, "year", 1900, 2100, "a year", "year: 2024")
        problems, self.problems = self.problems, []
        try:
            return self.integer(f, "year", 1900, 2100, "a year", "year: 2024")
        finally:
            self.problems = problems

    def task(self, node: Node) -> None:
        f = self.fields(node, _TASK_KEYS, "task")
        if f is None:
            return
        ident = self.ident(f, "task")
        title = self.text(f, "title", "task")
        year = self.year
        when: tuple[str, Timing] | None = None
        if year is not None:  # without the plan's year, phrases cannot be read
            when = self.parse(f, "when", "task", lambda text: parse_time(text, year))
        lead_items = self.ref_items(f, "lead", node)
        support_items = self.ref_items(f, "support", node)
        late = not self.agencies_done  # read early, before the agencies: look up later
        lead = () if late else self.resolve(lead_items, "lead")
        support = () if late else self.resolve(support_items, "support")
        inclusive = self.boolean(f, "inclusive")
        done = self.parse(f, "done", "task", parse_date)
        remind = self.remind(f, node)
        notes = self.text(f, "notes", "task", header=False)
        kept = len(self.tasks)
        if self.unique("task", ident, self.task_ids) and ident and title and when:
            timing = when[1]
            if timing.text != when[0]:
                timing = replace(timing, text=when[0])
            self.tasks.append(
                Task(
                    id=ident[0],
                    title=title,
                    when=timing,
                    lead=lead,
                    support=support,
                    inclusive=inclusive,
                    done=None if done is None else done[1],
                    remind=remind,
                    notes=notes,
                    origin=self.origin(node),
                )
            )
        if late and (lead_items or support_items):
            index = kept if len(self.tasks) > kept else -1
            self.late.append((self.tasks, index, lead_items, support_items))
