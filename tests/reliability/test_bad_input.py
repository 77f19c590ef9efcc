"""Hostile input (corpus_gen.CASES): broken plans.yaml, config and templates, header
injection, alias bombs, a file over the 50 MB limit, deep nesting, runaway templates.

- `reminderd check` on each: exit 1 (0 where the input is legal and bounded) within a few
  seconds, FILE:LINE:COL naming the broken file, never a traceback. The cases run in
  parallel once (module fixture); each is reported as its own test.
- A running daemon fed a representative subset one after another keeps serving its last
  good feed (the same bytes, the same ETag), /healthz answers 503 naming the place, and it
  recovers (200, same feed) once the good file is back.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from .corpus_gen import CASES, Case, apply, make_workspace, target_path, write_atomic
from .harness import Replica, ReplicaPool, free_port, wait_for

CHECK_SECONDS = 10.0  # "within a few seconds", with the other cases running alongside


@dataclass(frozen=True)
class Outcome:
    code: int | None  # None: timed out
    output: str
    seconds: float
    path: Path


def _check(root: Path, case: Case) -> Outcome:
    config = make_workspace(root)
    path = apply(root, case)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "reminderd.cli", "check", "--config", str(config)],
            capture_output=True, text=True, timeout=30, cwd=root)
    except subprocess.TimeoutExpired as exc:
        return Outcome(None, f"{exc.stdout!r} {exc.stderr!r}", time.monotonic() - started, path)
    return Outcome(done.returncode, done.stdout + done.stderr, time.monotonic() - started, path)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    base = tmp_path_factory.mktemp("corpus")
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {case.name: pool.submit(_check, base / case.name, case) for case in CASES}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_gives_a_clean_error(case: Case, outcomes: dict[str, Outcome]) -> None:
    got = outcomes[case.name]
    assert got.code is not None, f"{case.name}: `reminderd check` hung: {got.output[-2000:]}"
    assert "Traceback" not in got.output, got.output[-4000:]
    assert got.code == case.exit, f"{case.name}: exit {got.code}\n{got.output[-3000:]}"
    assert got.seconds < CHECK_SECONDS, f"{case.name}: {got.seconds:.1f} s"
    assert case.expect in got.output, got.output[-3000:]
    if case.exit == 1:
        place = re.compile(rf"^{re.escape(str(got.path))}:\d+:\d+: \S", re.MULTILINE)
        assert place.search(got.output), f"no {got.path}:LINE:COL line:\n{got.output[-3000:]}"


def _healthz(daemon: Replica) -> tuple[int, list[str]]:
    status, _, body = daemon.get("/healthz")
    return status, list(json.loads(body).get("problems", []))


def test_running_daemon_keeps_the_last_good_version(
    tmp_path: Path, replicas: ReplicaPool,
) -> None:
    port = free_port()
    config = make_workspace(tmp_path, port)
    daemon = replicas.adopt(Replica.with_config(tmp_path, "corpus", config, port))
    daemon.start(None)
    status, headers, good_feed = daemon.get("/calendar.ics")
    assert status == 200 and _healthz(daemon)[0] == 200, daemon.output()[-3000:]
    etag = headers["ETag"]
    subset = [case for case in CASES if case.daemon]
    assert len(subset) >= 8
    try:
        for case in subset:
            path = target_path(tmp_path, case)
            good = path.read_bytes()
            apply(tmp_path, case)
            assert wait_for(lambda: _healthz(daemon)[0] == 503, timeout=8), \
                f"{case.name}: /healthz stayed 200\n{daemon.output()[-3000:]}"
            problems = _healthz(daemon)[1]
            assert any(p.startswith(f"{path}:") for p in problems), (case.name, problems)
            status, headers, feed = daemon.get("/calendar.ics")
            assert status == 200 and feed == good_feed and headers["ETag"] == etag, case.name
            write_atomic(path, good)
            assert wait_for(lambda: _healthz(daemon)[0] == 200, timeout=8), \
                f"{case.name}: no recovery: {_healthz(daemon)}\n{daemon.output()[-3000:]}"
            assert daemon.get("/calendar.ics")[2] == good_feed, case.name
    finally:
        code = daemon.stop()
    assert code == 0
    assert "Traceback" not in daemon.output(), daemon.output()[-5000:]
