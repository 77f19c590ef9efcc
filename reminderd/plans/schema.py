"""The plans.yaml schema: its sections read from YAML nodes into the model.

What plans.yaml may hold, section by section (the top level, agencies, groups, occasions,
agreements, plans and their tasks): the keys each allows and requires, with examples for
the messages, and how each value is read and checked.

Each section is a function of a field reader (:class:`~reminderd.plans.fields._FieldReader`:
the file being read, its problems, its node budget), of what is gathered so far
(:class:`Gathered`: the agency :class:`~reminderd.plans.agencies.Directory`, the items
read, the ids seen, across every file of a plans folder) and, for a task, of its plan's
context (:class:`PlanContext`: the year its phrases are read in, the tasks kept, their
ids). :func:`walk` reads one composed file; the loader (:mod:`reminderd.plans.loader`, the
public entry point) calls the phases one by one over the files of a folder, and reads
tasks while composing.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from functools import partial

from reminderd.core.model import Agreement, Contact, Occasion, OccasionKind, Plan, Plans, Task
from reminderd.core.timeexpr import parse_date, parse_time, parse_yearly
from reminderd.core.timing import Timing
from reminderd.plans.agencies import Directory, _Pending
from reminderd.plans.fields import _FieldReader, _Fields, _Ident, _kind, _q, first_at
from reminderd.plans.nodes import Mapping, Node, Sequence

_AGENCY_ID = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+\Z"
)
_MAX_REMIND = 3660  # days: ten years ahead is plenty

_TOP_KEYS = (
    "version", "coordinator", "agencies", "groups", "occasions", "agreements", "plans",
)  # fmt: skip
_AGENCY_KEYS = ("id", "name", "emails", "aliases")
_GROUP_KEYS = ("id", "name", "aliases", "members")
_COMMON = ("lead", "support", "remind", "notes")
_OCCASION_KEYS = ("id", "title", "date", "kind", "since", *_COMMON)
_AGREEMENT_KEYS = (
    "id", "title", "parties", "signed", "valid_years", "review_every_years", "reference",
    *_COMMON,
)  # fmt: skip
_PLAN_KEYS = ("id", "title", "reference", "year", "end_year", "coordinator", "notes", "tasks",
              "contact")
_TASK_KEYS = ("id", "title", "when", "lead", "support", "inclusive", "done", "remind", "notes",
              "contact")
_CONTACT_KEYS = ("name", "phone", "email")

_EXAMPLES = {
    ("agency", "id"): "id: songoaivu",
    ("agency", "name"): "name: Sở Ngoại vụ tỉnh Đắk Lắk",
    ("group", "id"): "id: cac-so-nganh",
    ("group", "name"): 'name: "Các sở, ban, ngành"',
    ("group", "members"): "members: [songoaivu, sovhttdl]",
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
    "group": ("id", "name", "members"),
    "occasion": ("id", "title", "date"),
    "agreement": ("id", "title", "signed"),
    "plan": ("id", "title", "year"),
    "task": ("id", "title", "when"),
}



_Seen = dict[str, tuple[str, int]]  # id -> (file, line) of its first definition


@dataclass(eq=False)
class PlanContext:
    """One plan's tasks being read: the year its phrases are read in, the tasks kept and
    their ids; ``node`` is the tasks list when its tasks were read while composing."""

    year: int | None
    tasks: list[Task] = field(default_factory=list)
    ids: _Seen = field(default_factory=dict)
    node: Sequence | None = None


@dataclass(eq=False)
class Gathered:
    """What is read so far, from one file or every file of a plans folder."""

    directory: Directory = field(default_factory=Directory)
    coordinator: str | None = None
    coordinator_at: str = ""  # FILE:LINE of the top-level coordinator
    occasions: list[Occasion] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    seen: dict[str, _Seen] = field(
        default_factory=lambda: {"occasion": {}, "agreement": {}, "plan": {}}
    )
    prefilled: dict[int, PlanContext] = field(default_factory=dict)  # id(tasks list) -> read

    def result(self, source: str) -> Plans:
        d = self.directory
        return Plans(
            agencies=tuple(d.agencies),
            occasions=tuple(self.occasions),
            agreements=tuple(self.agreements),
            plans=tuple(self.plans),
            source=source,
            groups=tuple(d.groups),
        )


def reader(filename: str, budget: int) -> _FieldReader:
    """A field reader for one file, with this schema's required keys and examples."""
    return _FieldReader(filename, budget, _REQUIRED, _EXAMPLES)


# --- one file, and its phases ---------------------------------------------------------------


def walk(r: _FieldReader, g: Gathered, root: Node) -> Plans | None:
    """Read one composed file into :class:`Plans`."""
    top = top_fields(r, root)
    if top is None:
        return None
    read_directory(r, g, root, top)
    index_directory(g)
    read_coordinator(r, g, top)
    read_items(r, g, root, top)
    return g.result(r.file)


def top_fields(r: _FieldReader, root: Node) -> _Fields | None:
    if type(root) is not Mapping:
        r.err(
            root,
            "the file must be a mapping with agencies, occasions, agreements and plans "
            f"(each written as 'plans:' at the start of a line), got {_kind(root)}",
        )
        return None
    top = r.fields(root, _TOP_KEYS, "the top level")
    if top is None:
        return None
    version = top.get("version")
    if version is not None:
        node = r.scalar(version[1], "version", "1")
        if node is not None and node.value.strip() != "1":
            r.err(node, f"version: {_q(node.value)} is not supported; write version: 1")
    return top


def read_directory(r: _FieldReader, g: Gathered, root: Node, top: _Fields) -> None:
    """The agencies (unless read while composing) and groups, to be indexed."""
    if not g.directory.indexed:
        r.section(root, top, "agencies", "agencies", partial(agency, r, g))
    r.section(root, top, "groups", "groups", partial(group, r, g))


def index_directory(g: Gathered) -> None:
    """Once every file's agencies and groups are read: index them, look up what waited."""
    if not g.directory.indexed:
        g.directory.index_agencies()
    g.directory.index_groups()


def read_coordinator(r: _FieldReader, g: Gathered, top: _Fields) -> None:
    pair = top.get("coordinator")
    if pair is None:
        return
    if g.coordinator_at:
        other, line = g.coordinator_at.rsplit(":", 1)
        r.err(
            pair[0],
            f"coordinator is already given ({first_at(other, line, r.file)}); give the "
            "plans' coordinator in one file only, or per plan",
        )
        return
    g.coordinator_at = f"{r.file}:{pair[0].line}"
    g.coordinator = g.directory.one_ref(r, top, "coordinator")


def read_items(r: _FieldReader, g: Gathered, root: Node, top: _Fields) -> None:
    r.section(root, top, "occasions", "occasions", partial(occasion, r, g))
    r.section(root, top, "agreements", "agreements", partial(agreement, r, g))
    r.section(root, top, "plans", "plans", partial(plan, r, g))


# --- shapes -----------------------------------------------------------------------------------


def ident(r: _FieldReader, f: _Fields, what: str) -> _Ident | None:
    pair = f.get("id")
    if pair is None:
        return None
    node = pair[1]
    value = r.text(f, "id", what)
    if not value:
        return None
    pattern = _AGENCY_ID if what in ("agency", "group") else _ID
    if pattern.match(value):
        return value, node
    allowed = "a-z" if what in ("agency", "group") else "letters"
    hint = ""
    if what in ("agency", "group") and _AGENCY_ID.match(value.lower()):
        hint = f" (did you mean {value.lower()!r}?)"
    r.err(
        node,
        f"id: {_q(value)} is not a valid {what} id: use {allowed}, digits, '.', '_' and "
        f"'-', starting with a letter or digit{hint}; e.g. {_EXAMPLES[what, 'id']}",
    )
    return value, node  # reported; still returned so references to it do not cascade


def remind(r: _FieldReader, f: _Fields, owner: Node) -> tuple[int, ...] | None:
    if "remind" not in f:
        return None
    empty = (
        "remind is empty; write remind: [] for no reminders, or remove the line for the "
        "default reminders"
    )
    items = r.listed(f, "remind", owner, "a list of days such as [30, 7, 1]", empty)
    days: set[int] = set()
    for item in items:
        scalar = r.scalar(item, "remind", "a number of days")
        if scalar is None:
            continue
        value: str = scalar.value
        digits = value.strip()
        if digits.isascii() and digits.isdigit() and len(digits) <= 5:
            number = int(digits)
            if number <= _MAX_REMIND:
                days.add(number)
                continue
        r.err(
            item,
            f"remind: {_q(value)} is not a number of days between 0 and {_MAX_REMIND}; "
            "write days before the date, e.g. remind: [30, 7, 1]",
        )
    return tuple(sorted(days, reverse=True))


def contact(r: _FieldReader, f: _Fields) -> Contact | None:
    """``contact: {name: …, phone: …, email: …}``: whom an agency may ask (issue 14)."""
    pair = f.get("contact")
    if pair is None:
        return None
    c = r.fields(pair[1], _CONTACT_KEYS, "contact")
    if c is None:
        return None
    name, phone, email = (r.text(c, k, "contact") for k in _CONTACT_KEYS)
    if email and _EMAIL.match(email) is None:
        r.err(c["email"][1], f"email: {_q(email)} is not a plain e-mail address; write "
              "only the address, e.g. email: nhung@bng.example")
        email = ""
    if not (name or phone or email):
        r.err(pair[1], "contact is empty; write e.g. contact: {name: Nguyễn Văn A, "
              "phone: 0262 3 123 456, email: a@songoaivu.example}")
        return None
    return Contact(name=name, phone=phone, email=email)


# --- agencies and groups ------------------------------------------------------------------------


def agency(r: _FieldReader, g: Gathered, node: Node) -> None:
    f = r.fields(node, _AGENCY_KEYS, "agency")
    if f is None:
        return
    agency_id = ident(r, f, "agency")
    name = r.text(f, "name", "agency")
    emails: list[str] = []
    for item, address in r.strings(f, "emails", node, "an e-mail address"):
        if _EMAIL.match(address) is None:
            r.err(
                item,
                f"emails: {_q(address)} is not a plain e-mail address; write only the "
                "address, e.g. lich@songoaivu.example (no name, no <>)",
            )
        elif address not in emails:
            emails.append(address)
    aliases = r.strings(f, "aliases", node, "a name")
    name_node = f["name"][1] if "name" in f else node
    g.directory.pending.append(
        _Pending(r, node, agency_id, name, name_node, aliases, tuple(emails))
    )


def group(r: _FieldReader, g: Gathered, node: Node) -> None:
    f = r.fields(node, _GROUP_KEYS, "group")
    if f is None:
        return
    group_id = ident(r, f, "group")
    name = r.text(f, "name", "group")
    aliases = r.strings(f, "aliases", node, "a name")
    members = g.directory.ref_items(r, f, "members", node)
    if "members" in f and not members:
        r.err(f["members"][1], "members is empty; list the group's agencies, e.g. "
              + _EXAMPLES["group", "members"])
    name_node = f["name"][1] if "name" in f else node
    g.directory.groups_pending.append(
        _Pending(r, node, group_id, name, name_node, aliases, members=members)
    )


# --- occasions and agreements ------------------------------------------------------------


def occasion(r: _FieldReader, g: Gathered, node: Node) -> None:
    f = r.fields(node, _OCCASION_KEYS, "occasion")
    if f is None:
        return
    item_id = ident(r, f, "occasion")
    title = r.text(f, "title", "occasion")
    rule = r.parse(f, "date", "occasion", parse_yearly)
    kind = OccasionKind.OTHER
    pair = f.get("kind")
    if pair is not None:
        scalar = r.scalar(pair[1], "kind", "an occasion kind")
        if scalar is not None:
            value: str = scalar.value
            try:
                kind = OccasionKind(value.strip())
            except ValueError:
                kinds = [k.value for k in OccasionKind]
                close = difflib.get_close_matches(value.strip(), kinds, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "write one of them"
                r.err(pair[1], f"kind: {_q(value)} is not one of {', '.join(kinds)}; {hint}")
    since = r.integer(f, "since", 1800, 2100, "a year", "since: 1992")
    lead = g.directory.refs(r, f, "lead", node)
    support = g.directory.refs(r, f, "support", node)
    days = remind(r, f, node)
    notes = r.text(f, "notes", "occasion", header=False)
    if r.unique("occasion", item_id, g.seen["occasion"]) and item_id and title and rule:
        g.occasions.append(
            Occasion(
                id=item_id[0],
                title=title,
                rule=rule[1],
                date_text=rule[0],
                kind=kind,
                since=since,
                lead=lead,
                support=support,
                remind=days,
                notes=notes,
                origin=r.origin(node),
            )
        )


def agreement(r: _FieldReader, g: Gathered, node: Node) -> None:
    f = r.fields(node, _AGREEMENT_KEYS, "agreement")
    if f is None:
        return
    item_id = ident(r, f, "agreement")
    title = r.text(f, "title", "agreement")
    parties = tuple(text for _node, text in r.strings(f, "parties", node, "a party name"))
    signed = r.parse(f, "signed", "agreement", parse_date)
    valid = r.integer(f, "valid_years", 1, 100, "a number of years", "valid_years: 5")
    review = r.integer(
        f, "review_every_years", 1, 100, "a number of years", "review_every_years: 2"
    )
    reference = r.text(f, "reference", "agreement")
    lead = g.directory.refs(r, f, "lead", node)
    support = g.directory.refs(r, f, "support", node)
    days = remind(r, f, node)
    notes = r.text(f, "notes", "agreement", header=False)
    if r.unique("agreement", item_id, g.seen["agreement"]) and item_id and title and signed:
        g.agreements.append(
            Agreement(
                id=item_id[0],
                title=title,
                signed=signed[1],
                parties=parties,
                valid_years=valid,
                review_every_years=review,
                lead=lead,
                support=support,
                reference=reference,
                remind=days,
                notes=notes,
                origin=r.origin(node),
            )
        )


# --- plans and tasks ------------------------------------------------------------------------


def plan(r: _FieldReader, g: Gathered, node: Node) -> None:
    f = r.fields(node, _PLAN_KEYS, "plan")
    if f is None:
        return
    plan_id = ident(r, f, "plan")
    title = r.text(f, "title", "plan")
    reference = r.text(f, "reference", "plan")
    year = plan_year(r, f)
    end_year = r.integer(f, "end_year", 1900, 2100, "a year", "end_year: 2025")
    if year is not None and end_year is not None and end_year < year:
        r.err(
            f["end_year"][1],
            f"end_year: {end_year} is before year {year}; write an end_year of {year} or "
            "later, or remove it",
        )
    coordinator = g.directory.one_ref(r, f, "coordinator") if "coordinator" in f else g.coordinator
    notes = r.text(f, "notes", "plan", header=False)
    plan_contact = contact(r, f)
    pair = f.get("tasks")
    early = g.prefilled.get(id(pair[1])) if pair is not None else None
    if early is not None and pair is not None and early.node is pair[1]:
        ctx = PlanContext(year, early.tasks, early.ids)  # tasks read while composing
    else:
        ctx = PlanContext(year)
    r.section(node, f, "tasks", "tasks", partial(task, r, g, ctx))
    if r.unique("plan", plan_id, g.seen["plan"]) and plan_id and title and year:
        g.plans.append(
            Plan(
                id=plan_id[0],
                title=title,
                year=year,
                reference=reference,
                coordinator=coordinator,
                end_year=end_year,
                tasks=tuple(ctx.tasks),
                notes=notes,
                origin=r.origin(node),
                contact=plan_contact,
            )
        )


def plan_year(r: _FieldReader, f: _Fields, *, quiet: bool = False) -> int | None:
    if not quiet:
        return r.integer(f, "year", 1900, 2100, "a year", "year: 2024")
    problems, r.problems = r.problems, []
    try:
        return r.integer(f, "year", 1900, 2100, "a year", "year: 2024")
    finally:
        r.problems = problems


def task(r: _FieldReader, g: Gathered, ctx: PlanContext, node: Node) -> None:
    f = r.fields(node, _TASK_KEYS, "task")
    if f is None:
        return
    task_id = ident(r, f, "task")
    title = r.text(f, "title", "task")
    year = ctx.year
    when: tuple[str, Timing] | None = None
    if year is not None:  # without the plan's year, phrases cannot be read
        when = r.parse(f, "when", "task", lambda text: parse_time(text, year))
    lead_items = g.directory.ref_items(r, f, "lead", node)
    support_items = g.directory.ref_items(r, f, "support", node)
    lead, support, late = g.directory.task_refs(r, ctx.tasks, lead_items, support_items)
    inclusive = r.boolean(f, "inclusive")
    done = r.parse(f, "done", "task", parse_date)
    days = remind(r, f, node)
    notes = r.text(f, "notes", "task", header=False)
    task_contact = contact(r, f)
    kept = len(ctx.tasks)
    if r.unique("task", task_id, ctx.ids) and task_id and title and when:
        timing = when[1]
        if timing.text != when[0]:
            timing = replace(timing, text=when[0])
        ctx.tasks.append(
            Task(
                id=task_id[0],
                title=title,
                when=timing,
                lead=lead,
                support=support,
                inclusive=inclusive,
                done=None if done is None else done[1],
                remind=days,
                notes=notes,
                origin=r.origin(node),
                contact=task_contact,
            )
        )
    if late is not None and (lead_items or support_items):
        late.index = kept if len(ctx.tasks) > kept else -1
        g.directory.late.append(late)
