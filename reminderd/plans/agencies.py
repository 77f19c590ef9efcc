"""The agency directory of the plans loader: agencies and groups indexed, references looked up.

Tasks, occasions, agreements and plans name agencies (``lead``, ``support``,
``coordinator``) by id, alias or name, written however the office writes them, or name a
group of them (``groups:``). Once the agencies and groups are read (from one file or from
every file of a plans folder), :class:`Directory` indexes every way of naming each one in
the one matcher (:class:`~reminderd.plans.names.AgencyMatcher`, which ``reminderd import``
uses too; each way may name only one agency) and looks the references up in it, with the
nearest names (by similarity) for one it does not know. References read before the
directory is complete (tasks read early, tasks of an earlier file) wait in ``late``.

The directory holds no reader: each call that can find a problem takes the
:class:`~reminderd.plans.fields._FieldReader` of the file being read, which records it.
Internal to the plans loader (whose public entry point is :mod:`reminderd.plans.loader`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from reminderd.core.model import Agency, Group, Task
from reminderd.plans.fields import _FieldReader, _Fields, _Ident, _q, first_at
from reminderd.plans.names import HOW, AgencyMatcher, name_key
from reminderd.plans.nodes import Node, Scalar


@dataclass
class _Pending:
    """An agency or group read but not yet indexed, with the reader of its file."""

    reader: _FieldReader
    node: Node
    ident: _Ident | None
    name: str
    name_node: Node
    aliases: list[tuple[Node, str]]
    emails: tuple[str, ...] = ()
    members: list[Scalar] | None = None  # a group's member references


@dataclass
class _Late:
    """A task's references read before the directory was complete."""

    reader: _FieldReader
    tasks: list[Task]
    index: int  # of the task in ``tasks``, -1 if it was not kept
    lead: list[Scalar]
    support: list[Scalar]


@dataclass
class Directory:
    """The agencies and groups of the plans, indexed by every way of naming them."""

    matcher: AgencyMatcher = field(default_factory=AgencyMatcher)
    pending: list[_Pending] = field(default_factory=list)
    groups_pending: list[_Pending] = field(default_factory=list)
    agencies: list[Agency] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    late: list[_Late] = field(default_factory=list)
    ids: dict[str, tuple[str, int]] = field(default_factory=dict)  # agency/group id -> place
    indexed: bool = False  # the agencies are indexed
    complete: bool = False  # ... and the groups: every reference can be looked up
    cache: dict[str, tuple[tuple[str, ...], bool]] = field(default_factory=dict)  # found

    # - indexing -

    def index_agencies(self) -> None:
        """Index ids, then aliases, then names; a key may name only one agency."""
        matcher = self.matcher
        kept: list[list[str]] = []
        for p in self.pending:
            kept.append([])
            if p.reader.unique("agency", p.ident, self.ids) and p.ident is not None:
                matcher.add(p.ident[0], p.ident[0], "id", where(p.reader, p.node))
        for p, mine in zip(self.pending, kept, strict=True):
            for alias_node, alias in p.aliases:
                self._register(p.reader, alias_node, alias, "alias", p.ident, mine)
        for p in self.pending:
            if p.name:
                self._register(p.reader, p.name_node, p.name, "name", p.ident, None)
        for p, mine in zip(self.pending, kept, strict=True):
            if p.ident is not None and p.name:
                self.agencies.append(Agency(
                    id=p.ident[0], name=p.name, emails=p.emails, aliases=tuple(mine),
                    origin=p.reader.origin(p.node),
                ))
        self.pending = []
        self.indexed = True

    def index_groups(self) -> None:
        """Index the groups (after the agencies: their members are agencies), then look up
        the references that waited."""
        for p in self.groups_pending:
            if p.reader.unique("group", p.ident, self.ids) and p.ident is not None:
                self.matcher.add(p.ident[0], p.ident[0], "group", where(p.reader, p.node))
        for p in self.groups_pending:
            for written_node, written in ((p.name_node, p.name), *p.aliases):
                if written:
                    self._register(p.reader, written_node, written, "group", p.ident, None)
        for p in self.groups_pending:
            members = self.resolve(p.reader, p.members or [], "members", groups=False)
            if p.ident is None or not p.name:
                continue
            self.matcher.add_group(p.ident[0], members)
            self.groups.append(Group(
                id=p.ident[0], name=p.name, members=members,
                aliases=tuple(text for _node, text in p.aliases),
                origin=p.reader.origin(p.node),
            ))
        self.groups_pending = []
        self.complete = True
        for late in self.late:
            lead = self.resolve(late.reader, late.lead, "lead")
            support = self.resolve(late.reader, late.support, "support")
            if late.index >= 0:
                late.tasks[late.index] = replace(
                    late.tasks[late.index], lead=lead, support=support
                )
        self.late = []

    def _register(
        self,
        r: _FieldReader,
        node: Node,
        written: str,
        kind: str,
        ident: _Ident | None,
        mine: list[str] | None,
    ) -> None:
        if ident is None:  # reported already; still checked against the others
            other = self.matcher.exact.get(name_key(written))
        else:
            other = self.matcher.add(ident[0], written, kind, where(r, node))
        if other is None:
            if mine is not None:
                mine.append(written)
            return
        what = "alias" if kind == "alias" else "name"
        owner = "group" if other.how == "group" else "agency"
        r.err(
            node,
            f"{what} {_q(written)} is already {HOW[other.how]} of {owner} {other.ident!r} "
            f"({place(other.where, r.file)}); references by this {what} would be ambiguous: "
            "change or remove it",
        )

    # - references -

    def lookup(self, raw: str, *, groups: bool = True) -> tuple[str, ...] | None:
        """The agencies ``raw`` names (one, or a group's members), None if unknown."""
        cached = self.cache.get(raw)
        if cached is not None and (groups or cached[1]):
            return cached[0]
        found = self.matcher.match(raw)
        if found.agency is not None:
            self.cache[raw] = ((found.agency,), True)
        if found.agency is not None:
            return (found.agency,)
        if groups and found.group_id is not None:
            if self.complete:
                self.cache[raw] = (found.members, False)
            return found.members
        return None

    def ref(self, r: _FieldReader, node: Scalar, key: str, *, groups: bool = True
            ) -> tuple[str, ...]:
        raw: str = node.value
        found = self.lookup(raw, groups=groups)
        if found is not None:
            return found
        r.err(node, self.unknown(raw, key, groups=groups))
        return ()

    def unknown(self, raw: str, key: str, *, groups: bool = True) -> str:
        if not raw.strip():
            return f"{key}: empty agency name; write an agency id or alias, or remove the item"
        base = f"unknown agency {_q(raw)} in {key}"
        if not groups and self.matcher.match(raw).group_id is not None:
            return f"{base}: it is a group; {key} lists agencies, write them one by one"
        near = [(e, s) for e, s in self.matcher.nearest(raw) if groups or e.how != "group"]
        if near:
            entry = near[0][0]
            if entry.how in ("id", "group") and entry.written == entry.ident:
                best = f"{entry.ident!r}"
            else:
                best = f"{entry.written!r} ({entry.ident})"
            others = ", ".join(repr(e.ident) for e, _score in near[1:])
            return f"{base}; did you mean {best}?" + (f" (or {others})" if others else "")
        if not self.matcher.exact:
            return f"{base}; add the agency under agencies: first"
        return f"{base}; no agency is named like it: add it to agencies (or its name as an alias)"

    def ref_items(self, r: _FieldReader, f: _Fields, key: str, owner: Node) -> list[Scalar]:
        """The agency names listed under ``key`` (shape checked, not yet looked up)."""
        out: list[Scalar] = []
        for item in r.listed(f, key, owner, "a list of agency names"):
            scalar = r.scalar(item, key, "an agency name")
            if scalar is not None:
                out.append(scalar)
        return out

    def resolve(self, r: _FieldReader, items: list[Scalar], key: str, *, groups: bool = True
                ) -> tuple[str, ...]:
        out: list[str] = []
        for scalar in items:
            for agency in self.ref(r, scalar, key, groups=groups):
                if agency not in out:
                    out.append(agency)
        return tuple(out)

    def refs(self, r: _FieldReader, f: _Fields, key: str, owner: Node) -> tuple[str, ...]:
        return self.resolve(r, self.ref_items(r, f, key, owner), key)

    def task_refs(
        self, r: _FieldReader, tasks: list[Task], lead: list[Scalar], support: list[Scalar]
    ) -> tuple[tuple[str, ...], tuple[str, ...], _Late | None]:
        """A task's lead and support now, or a :class:`_Late` to complete with the task's
        index once it is kept: when the directory is not complete and a name is not known
        yet (it may be a group read later)."""
        if self.complete or (
            self.indexed and all(self.lookup(s.value) is not None for s in (*lead, *support))
        ):
            return self.resolve(r, lead, "lead"), self.resolve(r, support, "support"), None
        return (), (), _Late(r, tasks, -1, lead, support)

    def one_ref(self, r: _FieldReader, f: _Fields, key: str) -> str | None:
        pair = f.get(key)
        if pair is None:
            return None
        node = r.scalar(pair[1], key, "one agency id or alias")
        if node is None:
            return None
        if r.null(node):
            r.err(node, f"{key} is empty; write {key}: songoaivu (an agency id) or remove it")
            return None
        found = self.ref(r, node, key, groups=False)
        return found[0] if found else None


def where(r: _FieldReader, node: Node) -> str:
    return f"{r.file}:{node.line}"


def place(location: str, file: str) -> str:
    """``line N`` for a place in ``file``, else ``FILE:N``."""
    if not location:
        return "elsewhere"
    other, line = location.rsplit(":", 1)
    return first_at(other, line, file)
