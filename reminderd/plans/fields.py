"""Generic readers of YAML nodes for the plans loader: typed values, each problem recorded.

A plans.yaml section is read from the light nodes of :mod:`reminderd.plans.nodes` by the
same few checks whatever the section: a mapping of known keys, an untagged one-line text,
an integer in a range, true or false, a list (or one item), a phrase of our own grammar.
:class:`_FieldReader` holds these readers, apart from the schema that uses them
(:mod:`reminderd.plans.schema`), so that each can be read and changed on its own. Every
reader records what is wrong as a :class:`~reminderd.core.errors.Problem` at the node and
returns what it could read, so that one pass reports every problem of the file.

The readers know no section: what a section requires and an example of each key are
given by the schema (``required_keys``, ``key_examples``). They also spend the node budget
that bounds alias expansion (:class:`_TooMany`).

Internal to the plans loader; the public entry point is :mod:`reminderd.plans.loader`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TypeVar

from reminderd.core.errors import Problem, TimeExprError
from reminderd.core.headers import describe_unsafe, unsafe_header
from reminderd.plans.nodes import Mapping, Node, Scalar, Sequence

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
# put in place by loader._Eager; _FieldReader.section skips it
_DONE = Scalar("", 0, 0, None, None)  # stands in a tasks list for a task already read

_T = TypeVar("_T")
_Pair = tuple[Node, Node]
_Fields = dict[str, _Pair]
_Ident = tuple[str, Node]


class _TooMany(Exception):
    """The node budget ran out; ``trail`` is (container, key or index), innermost first."""

    def __init__(self) -> None:
        super().__init__()
        self.trail: list[tuple[Node, str | int]] = []


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


class _FieldReader:
    """Reads typed values out of YAML nodes; ``problems`` collects what is wrong, by place.

    ``left`` is the node budget (see :meth:`spend`); ``required_keys`` (what -> keys) and
    ``key_examples`` ((what, key) -> an example line) are the schema's, given by it.
    """

    def __init__(
        self,
        filename: str,
        budget: int,
        required_keys: dict[str, tuple[str, ...]] | None = None,
        key_examples: dict[tuple[str, str], str] | None = None,
    ) -> None:
        self.file = filename
        self.problems: list[Problem] = []
        self.left = budget
        self.required_keys = required_keys or {}
        self.key_examples = key_examples or {}

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
                example = self.key_examples.get((what, "id"), "id: ...")
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
        for required in self.required_keys.get(what, ()):
            if required not in out:
                example = self.key_examples[what, required]
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
        found = unsafe_header(value)
        if found is None:
            return True
        why, fix = describe_unsafe(found)
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
            if key in self.required_keys.get(what, ()):
                self.err(node, f"{key} is empty; write {self.key_examples[what, key]}")
            return ""
        if header and not self.safe(node, key, value):
            return ""
        return value.strip()

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
            self.err(node, f"{key} is empty; write {self.key_examples[what, key]}")
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

    def unique(self, kind: str, ident: _Ident | None, seen: dict[str, tuple[str, int]]) -> bool:
        """Whether ``ident`` is the first of its id in ``seen`` (shared by the files of a
        plans folder: a duplicate names both places)."""
        if ident is None:
            return False
        value, node = ident
        first = seen.get(value)
        if first is None:
            seen[value] = (self.file, node.line)
            return True
        self.err(
            node,
            f"duplicate {kind} id {value!r} (first at {first_at(*first, self.file)}); "
            f"give each {kind} its own id",
        )
        return False


def first_at(file: str, line: int | str, current: str) -> str:
    """``line N`` for a place in the file being read, else ``FILE:N``."""
    return f"line {line}" if file == current else f"{file}:{line}"
