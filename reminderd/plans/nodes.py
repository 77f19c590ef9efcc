"""A light, streaming YAML composer over the parser's events (libyaml's when available).

PyYAML's composer builds a ``yaml.Node`` with two ``Mark`` objects for every scalar: on a
plans.yaml of 100k tasks that is ~1.6M nodes and several hundred MB. This composer reads
the same event stream and builds ``__slots__`` nodes keeping only what a reader needs:
the value, the 1-based line and column of the start, an explicit tag (``None`` when the
node has none, or only the non-specific ``!``) and, for scalars, the style.

It behaves as yaml's composer: anchors and aliases resolve to the same node object (an
alias of a collection still being composed sees it as composed so far, so ``&x [*x]``
contains itself), a duplicate anchor, an undefined alias and a second document raise
the same ``ComposerError`` as ``CSafeLoader``, parser errors propagate unchanged. It is a
loop with its own stack, so nesting depth is limited here (:class:`TooDeep`) rather than by
the C stack; libyaml's parser itself keeps its states on the heap.

A :class:`Hook` may follow chosen collections as they are composed and replace a finished
one by another node: that lets the caller process, then drop, each item of a long list
as soon as it ends, so the whole tree never has to be held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import yaml
from yaml.composer import ComposerError
from yaml.error import Mark
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

try:
    from yaml._yaml import CParser as _Parser

    LIBYAML = True
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Parser  # type: ignore[assignment]

    LIBYAML = False

__all__ = [
    "LIBYAML",
    "Hook",
    "Mapping",
    "Node",
    "Scalar",
    "Sequence",
    "TooDeep",
    "alias_on_path",
    "compose",
]


class Scalar:
    """A scalar: its text as written (no implicit typing), place, explicit tag, style.

    ``style`` is ``''`` (or ``None`` from the pure-Python parser) for plain scalars, else
    one of ``'`` ``"`` ``|`` ``>``.
    """

    __slots__ = ("col", "line", "style", "tag", "value")

    def __init__(self, value: str, line: int, col: int, tag: str | None, style: str | None):
        self.value = value
        self.line = line
        self.col = col
        self.tag = tag
        self.style = style

    def __repr__(self) -> str:
        return f"Scalar({self.value!r} at {self.line}:{self.col})"


class Sequence:
    """A list: its items, place and explicit tag."""

    __slots__ = ("col", "line", "tag", "value")

    def __init__(self, value: list[Node], line: int, col: int, tag: str | None):
        self.value = value
        self.line = line
        self.col = col
        self.tag = tag

    def __repr__(self) -> str:
        return f"Sequence({len(self.value)} items at {self.line}:{self.col})"


class Mapping:
    """A mapping: its (key, value) pairs in document order, place and explicit tag."""

    __slots__ = ("col", "line", "tag", "value")

    def __init__(self, value: list[tuple[Node, Node]], line: int, col: int, tag: str | None):
        self.value = value
        self.line = line
        self.col = col
        self.tag = tag

    def __repr__(self) -> str:
        return f"Mapping({len(self.value)} pairs at {self.line}:{self.col})"


Node = Scalar | Sequence | Mapping
Collection = Sequence | Mapping


class TooDeep(Exception):
    """A node would nest deeper than the limit; ``node`` is the collection holding it."""

    def __init__(self, node: Collection) -> None:
        super().__init__()
        self.node = node


class Hook(Protocol):
    """Follows collections as they are composed.

    ``enter`` is called when a collection starts, if its parent collection is followed
    (or it is the root): ``key`` is the mapping key it is the value of (None when the
    collection is itself a key), or its index in the parent list. It returns a role to
    follow the collection by, or None. ``leave`` is called when a followed collection
    ends; ``pure`` says no anchor or alias occurred inside it. It returns the node to put
    in the parent in its place.
    """

    def enter(
        self,
        role: object,
        parent: Collection | None,
        key: Node | int | None,
        node: Collection,
        anchored: bool,
    ) -> object: ...

    def leave(self, role: object, node: Collection, pure: bool) -> Node: ...


def _mark(line: int, col: int) -> Mark:
    return Mark("<document>", 0, line - 1, col - 1, None, None)  # type: ignore[arg-type]


_NO_KEY: Node = Scalar("", 0, 0, None, None)  # a mapping waiting for its next key


def compose(
    source: str | bytes, max_depth: int, hook: Hook | None = None
) -> tuple[Node | None, int]:
    """The root node of the single document in ``source`` (None if empty), and how many
    distinct nodes it has. Raises ``yaml.YAMLError`` or :class:`TooDeep`."""
    parser = _Parser(source)
    try:
        return _compose(parser, max_depth, hook)
    finally:
        parser.dispose()


def _compose(parser: _Parser, max_depth: int, hook: Hook | None) -> tuple[Node | None, int]:
    get: Callable[[], Any] = parser.get_event  # an Event, None after the stream's end
    get()  # StreamStartEvent
    event = get()
    if type(event) is StreamEndEvent:
        return None, 0
    event = get()  # after DocumentStartEvent: the root's first event
    scalar_event, alias_event = ScalarEvent, AliasEvent
    sequence_start, mapping_start = SequenceStartEvent, MappingStartEvent
    anchors: dict[str, Node] = {}
    # the open collections, outermost first: (node, its items, is a mapping, key waiting
    # for its value, role, refs when it started)
    stack: list[tuple[Collection | None, list[Any], bool, Node, object, int]] = []
    parent: Collection | None = None
    items: list[Any] = []
    is_map = False
    key = _NO_KEY
    role: object = None
    start_refs = 0
    refs = 0  # anchors and aliases met so far
    nodes = 0
    depth = 0
    follow = hook is not None  # the open collection is followed (or none is open)
    node: Node
    while True:
        kind = type(event)
        if kind is scalar_event or kind is sequence_start or kind is mapping_start:
            anchor = event.anchor
            if anchor is not None:
                refs += 1
                if anchor in anchors:
                    first = anchors[anchor]
                    mark = event.start_mark
                    raise ComposerError(
                        "found duplicate anchor; first occurrence",
                        _mark(first.line, first.col),
                        "second occurrence",
                        mark,
                    )
            if depth >= max_depth:
                assert parent is not None
                raise TooDeep(parent)
            nodes += 1
            mark = event.start_mark
            tag = event.tag
            if tag == "!":
                tag = None
            if kind is scalar_event:
                node = Scalar(event.value, mark.line + 1, mark.column + 1, tag, event.style)
                if anchor is not None:
                    anchors[anchor] = node
            else:
                new: Collection
                if kind is sequence_start:
                    new = Sequence([], mark.line + 1, mark.column + 1, tag)
                else:
                    new = Mapping([], mark.line + 1, mark.column + 1, tag)
                if anchor is not None:
                    anchors[anchor] = new
                new_role: object = None
                if follow and hook is not None:
                    if parent is None:
                        where: Node | int | None = None
                    elif is_map:
                        where = None if key is _NO_KEY else key
                    else:
                        where = len(items)
                    new_role = hook.enter(role, parent, where, new, anchor is not None)
                stack.append((parent, items, is_map, key, role, start_refs))
                parent, items, is_map, key = new, new.value, kind is mapping_start, _NO_KEY
                role, start_refs = new_role, refs
                follow = new_role is not None
                depth += 1
                event = get()
                continue
        elif kind is alias_event:
            anchor = event.anchor
            refs += 1
            found = anchors.get(anchor)
            if found is None:
                raise ComposerError(None, None, "found undefined alias", event.start_mark)
            node = found
        elif kind is SequenceEndEvent or kind is MappingEndEvent:
            assert parent is not None
            node = parent
            done_role, pure = role, refs == start_refs
            parent, items, is_map, key, role, start_refs = stack.pop()
            depth -= 1
            follow = role is not None or (parent is None and hook is not None)
            if done_role is not None and hook is not None:
                node = hook.leave(done_role, node, pure)
        else:  # pragma: no cover - the parser only gives node events inside a document
            raise ComposerError(None, None, f"unexpected {kind.__name__}", event.start_mark)
        if parent is None:
            break
        if is_map:
            if key is _NO_KEY:
                key = node
            else:
                items.append((key, node))
                key = _NO_KEY
        else:
            items.append(node)
        event = get()
    get()  # DocumentEndEvent
    event = get()
    if type(event) is not StreamEndEvent:
        raise ComposerError(
            "expected a single document in the stream",
            _mark(node.line, node.col),
            "but found another document",
            event.start_mark,
        )
    return node, nodes


def alias_on_path(source: str | bytes, path: list[int]) -> AliasEvent | None:
    """The first alias met following child indices ``path`` from the root (events only).

    In a mapping, child ``2 * i`` is the i-th key and ``2 * i + 1`` its value.
    """
    loader = yaml.CSafeLoader if LIBYAML else yaml.SafeLoader
    events: Iterator[Event] = yaml.parse(source, Loader=loader)
    try:
        event = next(events)
        while not isinstance(event, NodeEvent):
            event = next(events)
        for index in path:
            if isinstance(event, AliasEvent):
                return event
            if not isinstance(event, CollectionStartEvent):
                return None
            event = next(events)
            for _ in range(index):
                if isinstance(event, CollectionStartEvent):
                    depth = 1
                    while depth:
                        event = next(events)
                        if isinstance(event, CollectionStartEvent):
                            depth += 1
                        elif isinstance(event, CollectionEndEvent):
                            depth -= 1
                event = next(events)
    except (StopIteration, yaml.YAMLError):  # pragma: no cover - composed once already
        return None
    return event if isinstance(event, AliasEvent) else None
