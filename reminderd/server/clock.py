"""The daemon's clock: the system clock, or one started at a chosen instant (--clock-start)
that advances in real time, for rehearsing a day and for end-to-end tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        real = datetime.now(UTC)
        self._offset = (start.astimezone(UTC) - real) if start is not None else timedelta(0)
        self._mono_base = time.monotonic()
        self._real_base = real

    def now(self) -> datetime:
        """The daemon's present instant (UTC); monotonic, so NTP steps do not jump it."""
        elapsed = timedelta(seconds=time.monotonic() - self._mono_base)
        return self._real_base + elapsed + self._offset

    def to_real(self, instant: datetime) -> datetime:
        """The system-clock instant at which the daemon's clock shows ``instant``."""
        elapsed = instant.astimezone(UTC) - self.now()
        return datetime.now(UTC) + elapsed
