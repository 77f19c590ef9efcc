"""The agency index of the plans loader, and the lookup of references to agencies in it.

Tasks, occasions, agreements and plans name agencies (``lead``, ``support``,
``coordinator``) by id, alias or name, written however the office writes them. Once the
agencies are read, :class:`_AgencyIndex` indexes every way of naming each one (each way
may name only one agency) and looks the references up in the index, with a suggestion
for a name it does not know. References read before the agencies (tasks read early)
wait in ``late`` until the index is built.

Internal to the plans loader (whose public entry point is :mod:`reminderd.plans.loader`),
except :func:`resolve_agency`: an agency given on the command line, by id or alias, in
loaded plans.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import replace

from reminderd.core.model import Agency, Plans, Task
from reminderd.plans.fields import _FieldReader, _Fields, _Ident, _q
from reminderd.plans.nodes import Node, Scalar

# an agency read but not yet indexed: node, id, name, name node, aliases, e-mails
_PendingAgency = tuple[Node, _Ident | None, str, Node, list[tuple[Node, str]], tuple[str, ...]]


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


class _AgencyIndex(_FieldReader):
    """The agencies read, indexed by id, alias and name; references are looked up here."""

    def __init__(self, filename: str, budget: int) -> None:
        super().__init__(filename, budget)
        # normalised id/alias/name -> (agency id, as written, "id"|"alias"|"name", line)
        self.keys: dict[str, tuple[str, str, str, int]] = {}
        self.key_list: list[str] = []
        self.ref_cache: dict[str, str] = {}
        self.pending: list[_PendingAgency] = []
        self.agencies: list[Agency] = []
        # tasks read before the agencies were indexed, whose references wait for them:
        # (tasks list, index of the task in it or -1 if not kept, lead, support)
        self.late: list[tuple[list[Task], int, list[Scalar], list[Scalar]]] = []

    # - indexing -

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


# --- the command line's lookup, in loaded plans ----------------------------------------

def normalise_name(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def resolve_agency(plans: Plans, ref: str) -> str:
    """The agency id for ``ref`` (id or alias); ValueError with a suggestion otherwise."""
    names: dict[str, str] = {}
    for agency in plans.agencies:
        names[normalise_name(agency.id)] = agency.id
        for alias in (agency.name, *agency.aliases):
            names.setdefault(normalise_name(alias), agency.id)
    key = normalise_name(ref)
    if key in names:
        return names[key]
    close = difflib.get_close_matches(key, list(names), n=1)
    hint = f"; did you mean {names[close[0]]!r}?" if close else "; `reminderd check` lists agencies"
    raise ValueError(f"unknown agency {ref!r}{hint}")
