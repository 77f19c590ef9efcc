"""The plans model: frozen dataclasses built by the loader from plans.yaml.

Agency references are already resolved to agency ids here; every item keeps
``origin`` ("plans.yaml:12:5") so later warnings can name the place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from reminderd.core.timing import Recurrence, Timing


class OccasionKind(StrEnum):
    NATIONAL_DAY = "national_day"  # quốc khánh
    RELATIONS = "relations"  # ngày thiết lập quan hệ ngoại giao / hữu nghị
    NEW_YEAR = "new_year"  # Tết, Bun Pi May, Chol Chnam Thmay
    OTHER = "other"


@dataclass(frozen=True)
class Contact:
    """A person to answer about a plan or a task (shown in the mail)."""

    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    emails: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    origin: str = ""


@dataclass(frozen=True)
class Group:
    """A named group of agencies ("các sở, ban, ngành"): a reference to it stands for its
    members."""

    id: str
    name: str
    members: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    origin: str = ""


@dataclass(frozen=True)
class Occasion:
    """A yearly date (solar or lunar); with ``since`` an anniversary with an ordinal."""

    id: str
    title: str
    rule: Recurrence
    date_text: str
    kind: OccasionKind = OccasionKind.OTHER
    since: int | None = None
    lead: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    remind: tuple[int, ...] | None = None
    notes: str = ""
    origin: str = ""


@dataclass(frozen=True)
class Agreement:
    """A signed agreement: reviews every ``review_every_years``, expiry after ``valid_years``."""

    id: str
    title: str
    signed: date
    parties: tuple[str, ...] = ()
    valid_years: int | None = None
    review_every_years: int | None = None
    lead: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    reference: str = ""
    remind: tuple[int, ...] | None = None
    notes: str = ""
    origin: str = ""


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    when: Timing
    lead: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    inclusive: bool | None = None
    done: date | None = None
    remind: tuple[int, ...] | None = None
    notes: str = ""
    origin: str = ""
    contact: Contact | None = None  # else the plan's


@dataclass(frozen=True)
class Plan:
    id: str
    title: str
    year: int
    reference: str = ""
    coordinator: str | None = None  # the office that follows the plan up (Sở Ngoại vụ)
    end_year: int | None = None  # recurring duties run through this year (default: year)
    tasks: tuple[Task, ...] = ()
    notes: str = ""
    origin: str = ""
    contact: Contact | None = None


@dataclass(frozen=True)
class Plans:
    agencies: tuple[Agency, ...] = ()
    occasions: tuple[Occasion, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    plans: tuple[Plan, ...] = ()
    source: str = "plans.yaml"
    groups: tuple[Group, ...] = ()
    _agency_index: dict[str, Agency] = field(default_factory=dict, compare=False, repr=False)

    def agency(self, agency_id: str) -> Agency:
        if not self._agency_index:
            self._agency_index.update({a.id: a for a in self.agencies})
        return self._agency_index[agency_id]
