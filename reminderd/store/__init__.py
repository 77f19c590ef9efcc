"""The delivery store: open one from the config's ``store:`` URL.

``sqlite:///relative/path.db`` (relative to ``base_dir``, the config folder),
``sqlite:////absolute/path.db``, or ``postgresql://user@host:5432/db[?schema=NAME]`` (also
``postgres://``). The PostgreSQL module is imported only when asked for, so psycopg stays the
optional ``postgres`` extra.
"""

from __future__ import annotations

from pathlib import Path

from reminderd.store.base import (
    Claim,
    Delivery,
    DeliveryStore,
    Planned,
    Status,
    StoreConfigError,
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
)

__all__ = [
    "Claim",
    "Delivery",
    "DeliveryStore",
    "Planned",
    "Status",
    "StoreConfigError",
    "StoreError",
    "StoreLockedError",
    "StoreUnavailableError",
    "open_store",
    "sqlite_path",
]

SQLITE_PREFIX = "sqlite:///"


def sqlite_path(url: str, base_dir: Path | None = None) -> Path:
    """The file of a ``sqlite:///`` URL: four slashes absolute, three relative to base_dir."""
    rest = url[len(SQLITE_PREFIX):]
    if not url.startswith(SQLITE_PREFIX) or not rest or "?" in rest or rest == ":memory:":
        raise StoreConfigError(
            f"store {url!r}: write sqlite:///relative/path.db or sqlite:////absolute/path.db"
        )
    path = Path(rest)
    if not path.is_absolute():
        path = (base_dir if base_dir is not None else Path.cwd()) / path
    return path.resolve()


def open_store(url: str, *, base_dir: Path | None = None, lock: bool = True) -> DeliveryStore:
    """Open (not migrate) the store at ``url``.

    SQLite: ``lock=True`` takes the one-writer-process lock and raises StoreLockedError when
    another process holds it; ``lock=False`` is for read-only commands (the outbox listing).
    PostgreSQL connects lazily: an unreachable server shows up as StoreUnavailableError on
    the first call, so a daemon can start and serve feeds while the database is down.
    """
    if url.startswith(SQLITE_PREFIX):
        from reminderd.store.sqlite import SqliteStore

        return SqliteStore(sqlite_path(url, base_dir), lock=lock)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from reminderd.store.postgres import PostgresStore
        except ImportError as exc:
            raise StoreConfigError(
                f"store {url.split('://')[0]}://…: the PostgreSQL driver is missing ({exc}); "
                "install reminderd[postgres]"
            ) from exc
        return PostgresStore(url)
    raise StoreConfigError(
        f"store {url!r}: write sqlite:///relative/path.db, sqlite:////absolute/path.db "
        "or postgresql://user@host:5432/db"
    )
