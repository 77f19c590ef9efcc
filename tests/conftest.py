"""Shared fixtures."""

from __future__ import annotations

# --- PostgreSQL (delivery store contract, replicas) -------------------------------------------
# Tests use REMINDERD_TEST_POSTGRES_URL or the local default, each in a schema of its own that
# is dropped at the end. Without a reachable server the PostgreSQL tests skip with the reason,
# except under REMINDERD_REQUIRE_POSTGRES=1 (set by .ci/run): then they fail.
import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from hypothesis import settings

# --- Hypothesis profiles --------------------------------------------------------------------
# dev: fresh examples each run, and the blob to reproduce a failure printed with it; ci: the
# same examples every run (derandomized: seeded from each test), for a gate that does not
# flake. HYPOTHESIS_PROFILE chooses; CI=true means ci. Tests that set max_examples keep it.
settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI") == "true" else "dev"))

POSTGRES_DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
_POSTGRES_FIXTURES = {"postgres_url", "postgres_schema_url"}
_RELIABILITY = Path(__file__).parent / "reliability"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers that follow from where a test is or what it uses (the others are written on
    the tests): the fault suite in reliability/ is slow; the postgres fixtures mean postgres."""
    for item in items:
        if _RELIABILITY in item.path.parents:
            item.add_marker(pytest.mark.slow)
        if _POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """The seed of a random test: REMINDERD_TEST_SEED when set (to replay a failure), else
    a fresh one. It is shown in the test's report and should go into its ledger."""
    raw = os.environ.get("REMINDERD_TEST_SEED")
    value = int(raw) if raw else secrets.randbelow(2**32)
    request.node.user_properties.append(("seed", value))
    print(f"seed: REMINDERD_TEST_SEED={value}")
    return value


def _postgres_unusable(reason: str) -> None:
    if os.environ.get("REMINDERD_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (REMINDERD_REQUIRE_POSTGRES=1: PostgreSQL tests may not skip)")
    pytest.skip(reason)


def postgres_url_with(url: str, **params: str) -> str:
    """The URL with query parameters added or replaced (e.g. schema=…)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL server's URL, or skip (fail under REMINDERD_REQUIRE_POSTGRES=1)."""
    url = os.environ.get("REMINDERD_TEST_POSTGRES_URL") or POSTGRES_DEFAULT_URL
    try:
        import psycopg
    except ImportError:
        _postgres_unusable("psycopg is not installed (pip install reminderd[postgres])")
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        parts = urlsplit(url)  # say where, without the password
        where = parts._replace(netloc=f"{parts.hostname}:{parts.port or 5432}").geturl()
        _postgres_unusable(f"no PostgreSQL reachable at {where}: {' '.join(str(exc).split())}")
    return url


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """The server's URL with ``?schema=`` set to a fresh schema, dropped (CASCADE) afterwards."""
    import psycopg
    from psycopg import sql

    schema = f"reminderd_test_{uuid.uuid4().hex[:12]}"
    yield postgres_url_with(postgres_url, schema=schema)
    with psycopg.connect(postgres_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
