"""What agencies and the operator do besides receiving reminders, kept in the store so that
every replica knows: tasks closed from the mail (``completions``), other mail sent once
under a permanent key (``notices``: change notices, the weekly mail), and when each
operator alert last went out (``operator_alerts``). Written once for both SQL backends,
in the style of :mod:`reminderd.store.sqlbase`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from typing import Any

from reminderd.store.base import Completion, Notice
from reminderd.store.sqlbase import SqlStore


class ActionStore(SqlStore):
    """SqlStore with the completions, notices and operator alerts (migration 0005)."""

    @abstractmethod
    def atomic(self) -> AbstractContextManager[None]:
        """Writes of this thread inside the block form one transaction."""

    @staticmethod
    def _day(value: date) -> Any:
        """A date as the backend stores it (SQLite: ISO text)."""
        return value.isoformat()

    # -- done from the mail ---------------------------------------------------------------

    def record_done(self, occurrence_key: str, occurrence_date: date, agency: str,
                    now: datetime, note: str = "") -> Completion:
        """Record the item as done (the first record stands); the record that holds."""
        self._update(
            self._sql("INSERT INTO completions (occurrence_key, occurrence_date, agency,"
                      " done_at, note) VALUES ({key}, {day}, {agency}, {now}, {note})"
                      " ON CONFLICT (occurrence_key) DO NOTHING"),
            {"key": occurrence_key, "day": self._day(occurrence_date), "agency": agency,
             "now": self._stamp(now), "note": note},
        )
        found = self.completions([occurrence_key])
        return found[occurrence_key]

    def undo_done(self, occurrence_key: str) -> bool:
        return self._update(
            self._sql("DELETE FROM completions WHERE occurrence_key = {key}"),
            {"key": occurrence_key}) > 0

    def completions(self, keys: Sequence[str] | None = None) -> dict[str, Completion]:
        query = ("SELECT occurrence_key, occurrence_date, agency, done_at, note"
                 " FROM completions")
        params: dict[str, Any] = {}
        if keys is not None:
            query += " WHERE " + self.IN_KEYS.replace("key", "occurrence_key", 1)
            params["keys"] = self._keys(keys)
        rows = self._read(self._sql(query), params)
        return {r["occurrence_key"]: Completion(
            r["occurrence_key"], self._from_date(r["occurrence_date"]), r["agency"],
            self._from_stamp(r["done_at"]), r["note"]) for r in rows}

    # -- notices sent once -----------------------------------------------------------------

    def claim_notices(self, notices: Sequence[Notice], now: datetime) -> set[str]:
        """The keys among ``notices`` that nobody had taken: this caller sends those."""
        taken: set[str] = set()
        with self.atomic():
            for n in notices:
                rows = self._write_rows(
                    self._sql("INSERT INTO notices (key, kind, agency, created_at, status)"
                              " VALUES ({key}, {kind}, {agency}, {now}, 'sending')"
                              " ON CONFLICT (key) DO NOTHING RETURNING key"),
                    {"key": n.key, "kind": n.kind, "agency": n.agency,
                     "now": self._stamp(now)})
                taken.update(r["key"] for r in rows)
        return taken

    def finish_notices(self, keys: Sequence[str], now: datetime, *, message_id: str = "",
                       error: str = "") -> int:
        """Sent (with its Message-ID) or failed (with the error)."""
        if not keys:
            return 0
        status = "failed" if error else "sent"
        return self._update(
            self._sql("UPDATE notices SET status = {status}, sent_at = {now},"
                      " message_id = {message_id}, error = {error} WHERE " + self.IN_KEYS),
            {"keys": self._keys(keys), "status": status, "now": self._stamp(now),
             "message_id": message_id or None, "error": error or None})

    def notice_counts(self) -> dict[tuple[str, str], int]:
        """(kind, status) -> notices, for the status page."""
        rows = self._read("SELECT kind, status, count(*) AS n FROM notices GROUP BY kind, status")
        return {(r["kind"], r["status"]): r["n"] for r in rows}

    # -- operator alerts ----------------------------------------------------------------

    def alert_due(self, name: str, now: datetime, quiet: timedelta) -> bool:
        """Whether the alert ``name`` may go out now (none within ``quiet``); if so, it is
        recorded as sent in the same statement, so one replica sends it."""
        rows = self._write_rows(
            self._sql("INSERT INTO operator_alerts (name, last_sent) VALUES ({name}, {now})"
                      " ON CONFLICT (name) DO UPDATE SET last_sent = excluded.last_sent"
                      " WHERE operator_alerts.last_sent <= {cutoff} RETURNING name"),
            {"name": name, "now": self._stamp(now), "cutoff": self._stamp(now - quiet)})
        return bool(rows)

    def undelivered(self, now: datetime) -> tuple[int, datetime | None]:
        """Reminders due by ``now`` and not delivered yet (waiting, retrying or being
        sent), and the oldest one's due time."""
        rows = self._read(
            self._sql("SELECT count(*) AS n, min(due) AS oldest FROM deliveries"
                      " WHERE status IN ('pending', 'retrying', 'sending') AND due <= {now}"),
            {"now": self._stamp(now)})
        oldest = rows[0]["oldest"]
        return int(rows[0]["n"]), (None if oldest is None else self._from_stamp(oldest))
