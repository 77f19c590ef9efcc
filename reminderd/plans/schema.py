"""The plans.yaml schema: its sections read from YAML nodes into the model.

What plans.yaml may hold, section by section (the top level, agencies, occasions,
agreements, plans and their tasks): the keys each allows and requires, with examples for
the messages, and how each value is read and checked. :class:`_Walker` walks a composed
document through them, built on the generic readers of :mod:`reminderd.plans.fields` and
the agency index of :mod:`reminderd.plans.agencies`; the composing, and the reading of
tasks while composing, stay in :mod:`reminderd.plans.loader`, the public entry point.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace

from reminderd.core.model import Agreement, Contact, Occasion, OccasionKind, Plan, Plans, Task
from reminderd.core.timeexpr import parse_date, parse_time, parse_yearly
from reminderd.core.timing import Timing
from reminderd.plans.agencies import _AgencyIndex
from reminderd.plans.fields import _Fields, _Ident, _kind, _q
from reminderd.plans.nodes import Mapping, Node, Sequence

_AGENCY_ID = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+\Z"
)
_MAX_REMIND = 3660  # days: ten years ahead is plenty

_TOP_KEYS = ("version", "coordinator", "agencies", "occasions", "agreements", "plans")
_AGENCY_KEYS = ("id", "name", "emails", "aliases")
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


class _EarlyTasks:
    """The tasks of one plan's tasks list read while composing: a prefix of the list."""

    __slots__ = ("ids", "node", "tasks", "year")

    def __init__(self, node: Sequence, year: int | None) -> None:
        self.node = node
        self.year = year
        self.tasks: list[Task] = []
        self.ids: dict[str, int] = {}


class _Walker(_AgencyIndex):
    """Reads a composed plans.yaml into :class:`Plans`, section by section."""

    required_keys = _REQUIRED
    key_examples = _EXAMPLES

    def __init__(self, filename: str, budget: int) -> None:
        super().__init__(filename, budget)
        self.coordinator: str | None = None
        self.occasions: list[Occasion] = []
        self.agreements: list[Agreement] = []
        self.plans: list[Plan] = []
        self.seen: dict[str, dict[str, int]] = {"occasion": {}, "agreement": {}, "plan": {}}
        self.tasks: list[Task] = []
        self.task_ids: dict[str, int] = {}
        self.year: int | None = None
        self.agencies_done = False  # indexed (early, see loader._Eager, or by the walk)
        self.prefilled: dict[int, _EarlyTasks] = {}  # id(tasks list) -> its tasks read early

    # - reading early (see loader._Eager) -

    def early_agencies(self, key: Node, node: Node) -> None:
        # as walk() would; the budget cannot run out while composing, so no trail is needed
        self.section(node, {"agencies": (key, node)}, "agencies", "agencies", self.agency)
        self.register_agencies()
        self.agencies_done = True

    def early_task(self, tasks: _EarlyTasks, node: Node) -> None:
        self.year, self.tasks, self.task_ids = tasks.year, tasks.tasks, tasks.ids
        self.task(node)

    # - shapes -

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

    def contact(self, f: _Fields) -> Contact | None:
        """``contact: {name: …, phone: …, email: …}``: whom an agency may ask (issue 14)."""
        pair = f.get("contact")
        if pair is None:
            return None
        c = self.fields(pair[1], _CONTACT_KEYS, "contact")
        if c is None:
            return None
        name, phone, email = (self.text(c, k, "contact") for k in _CONTACT_KEYS)
        if email and _EMAIL.match(email) is None:
            self.err(c["email"][1], f"email: {_q(email)} is not a plain e-mail address; write "
                     "only the address, e.g. email: nhung@bng.example")
            email = ""
        if not (name or phone or email):
            self.err(pair[1], "contact is empty; write e.g. contact: {name: Nguyễn Văn A, "
                     "phone: 0262 3 123 456, email: a@songoaivu.example}")
            return None
        return Contact(name=name, phone=phone, email=email)

    # - sections -

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
        contact = self.contact(f)
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
                    contact=contact,
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
        contact = self.contact(f)
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
                    contact=contact,
                )
            )
        if late and (lead_items or support_items):
            index = kept if len(self.tasks) > kept else -1
            self.late.append((self.tasks, index, lead_items, support_items))
