"""Errors the core raises. Adapters turn them into `FILE:LINE:COL: message` lines."""

from __future__ import annotations

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
