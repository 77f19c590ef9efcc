"""Errors the core raises. Adapters turn them into `FILE:LINE:COL: message` lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class TimeExprError(ValueError):
    """A time phrase that cannot be read: quotes the phrase and says what to write instead."""

    def __init__(self, text: str, reason: str, hint: str = "") -> None:
        self.text = text
        self.reason = reason
        self.hint = hint
        message = f"cannot read time phrase {text!r}: {reason}"
        if hint:
            message += f"; {hint}"
        super().__init__(message)


class LunarDateError(ValueError):
    """A lunar date that does not exist (e.g. day 30 of a 29-day month, a missing leap month)."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in an input file, with the place it was found."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class ProblemsError(Exception):
    """Problems in the inputs, each located (``FILE:LINE:COL: message``), sorted by place and
    without repeats (an alias in YAML repeats its node's problems).

    The one base of every error that carries located problems (config, plans, templates,
    the mail set-up), so that a caller reports any of them the same way."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]
