"""Unguessable per-agency feed tokens: HMAC-SHA256 of the agency id with a server secret.

The secret comes from REMINDERD_FEED_SECRET or a file under var/ created once with mode
0600; replicas share it (same environment or same file), so their links agree. Bumping an
agency's version (config ``feeds.token_rotation: ["vhttdl=2"]``) revokes its old link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from reminderd.config import parse_rotation
from reminderd.workspace import Workspace

SECRET_ENV = "REMINDERD_FEED_SECRET"
SECRET_FILE = "feed-secret"


def load_secret(var_dir: Path) -> bytes:
    """The server secret: from the environment, else var/feed-secret (created if missing)."""
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env.encode("utf-8")
    path = var_dir / SECRET_FILE
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_hex(32).encode("ascii"))
    return path.read_bytes().strip()


class FeedTokens:
    """Maps agency ids to their tokens and back (constant-time comparison on bytes)."""

    def __init__(self, secret: bytes, agency_ids: Iterable[str],
                 versions: Mapping[str, int] | None = None) -> None:
        self._by_agency = {
            agency: self._token(secret, agency, (versions or {}).get(agency, 1))
            for agency in agency_ids
        }

    @staticmethod
    def _token(secret: bytes, agency: str, version: int) -> str:
        digest = hmac.new(secret, f"{agency}:{version}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:20]).decode("ascii").lower()

    def token(self, agency: str) -> str:
        return self._by_agency[agency]

    def agency_for(self, token: str) -> str | None:
        """The agency whose token this is; every candidate is compared, in constant time."""
        given = token.encode("utf-8", "surrogateescape")
        found = None
        for agency, expected in self._by_agency.items():
            if hmac.compare_digest(given, expected.encode("ascii")):
                found = agency
        return found


def feed_tokens(ws: Workspace) -> FeedTokens:
    """The tokens of the workspace's agencies (secret from var/, versions from the config)."""
    versions = parse_rotation(ws.settings.feeds["token_rotation"])
    return FeedTokens(load_secret(ws.settings.var_dir), ws.agencies(), versions)


def agency_feed_url(ws: Workspace, tokens: FeedTokens, agency: str) -> str:
    return f"{ws.settings.public_url}/feeds/{tokens.token(agency)}.ics"
