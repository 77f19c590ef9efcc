"""Fixtures of the fault suite: a relay, replica processes cleaned up after each test, and
the ledgers of every scenario printed again at the end of the run (no ``-s`` needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import LEDGERS, FastRecorder, ReplicaPool, ThreadedSmtpServer


@pytest.fixture
def relay() -> Iterator[ThreadedSmtpServer]:
    """An aiosmtpd relay on a free port that remembers (Message-ID, recipients)."""
    server = ThreadedSmtpServer(FastRecorder())
    with server:
        yield server


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[ReplicaPool]:
    pool = ReplicaPool(tmp_path)
    yield pool
    for replica in pool.made:
        replica.kill9()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if LEDGERS:
        terminalreporter.section("reliability ledgers")
        for ledger in LEDGERS:
            terminalreporter.write_line(str(ledger))
