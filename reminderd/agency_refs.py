"""Resolve an agency given on the command line by id or alias."""

from __future__ import annotations

import difflib
import unicodedata

from reminderd.core.model import Plans


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
