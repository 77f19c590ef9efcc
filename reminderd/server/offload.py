"""Blocking work off the event loop, in a daemon thread of its own.

The daemon's store calls (SQLite's fsync, a PostgreSQL that hangs in a network partition)
and its long CPU work (a feed rebuild) must never stall the loop that serves the feeds.
Not ``asyncio.to_thread``: its pool threads are joined at interpreter exit, so a store call
stuck on a dead network would hold up ``SIGTERM`` for the TCP timeout; a daemon thread
does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_thread(work: Callable[[], T], name: str) -> T:
    """``work()``'s result (or exception), computed in a new daemon thread."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():  # done: the awaiting task was cancelled
            outcome()

    def run() -> None:
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting task
            outcome = functools.partial(future.set_exception, exc)
        else:
            outcome = functools.partial(future.set_result, result)
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future
