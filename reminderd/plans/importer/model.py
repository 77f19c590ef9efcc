"""What the extraction finds in a document, before agencies and times are looked up."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RawTask:
    """One task as the document writes it."""

    number: str
    title: str
    lead_text: str = ""
    support_text: str = ""
    when: str = ""
    source: str = "table"  # "table" | "prose" | "text" (a deadline in running text)
    notes: list[str] = field(default_factory=list)


@dataclass
class PlanInfo:
    """The document's own particulars."""

    title: str = ""
    reference: str = ""  # "34/KH-UBND"
    issued: str = ""  # ISO date, or "" when the document leaves the day blank
    issued_text: str = ""  # "ngày 22 tháng 02 năm 2024" as written
    issuer: str = ""
    issuer_derived: bool = False  # read from the number and the place, not written out
    year: int | None = None
