"""Unguessable per-agency feed tokens: HMAC-SHA256 of the agency id with a server secret.

The secret comes from REMINDERD_FEED_SECRET or var/feed-secret, created once from 32 random
bytes (written to a temporary file, fsynced, linked into place, mode 0600; var/ is 0700);
replicas share it (same environment or same file), so their links agree. A secret shorter
than 32 bytes (an empty file left by a failed write, a short variable) stops start-up with
:class:`SecretError`: every token would be an HMAC under a guessable key. Bumping an
agency's version (config ``feeds.token_rotation: ["vhttdl=2"]``) revokes its old link. The
whole calendar, when ``feeds.public_calendar`` serves it publicly, has a token of its own:
the pseudo-agency ``all`` (``token_rotation: ["all=2"]`` renews it).
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

SECRET_ENV = "REMINDERD_FEED_SECRET"  # read by the config (feeds.secret); named in messages
SECRET_FILE = "feed-secret"
MIN_SECRET_BYTES = 32
ALL = "all"  # the pseudo-agency of the whole calendar on the public listener


class SecretError(ValueError):
    """The feed secret is missing, too short or cannot be written: start-up stops."""


def _checked(secret: bytes, where: str, remedy: str) -> bytes:
    if len(secret) < MIN_SECRET_BYTES:
        state = "empty" if not secret else f"only {len(secret)} bytes long"
        raise SecretError(f"{where}: the feed secret is {state}; it must be at least "
                          f"{MIN_SECRET_BYTES} bytes, or anyone can forge every agency's "
                          f"feed link. {remedy}")
    return secret


def private_dir(folder: Path) -> None:
    """Create ``folder`` (and its parents) mode 0700 if missing."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def _create_secret(path: Path) -> None:
    """32 random bytes (hex) into ``path``: temporary file, fsync, then a hard link into
    place, which (unlike a rename) never replaces a secret another replica wrote first."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_hex(32).encode("ascii") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise SecretError(f"{path}: cannot write the feed secret: {exc.strerror or exc}; "
                          "free some space or fix the permissions of the folder, then "
                          "start again (nothing was left half-written)") from None
    finally:
        tmp.unlink(missing_ok=True)


def load_secret(var_dir: Path, from_env: str | None = None) -> bytes:
    """The server secret: ``from_env`` (the setting ``feeds.secret``: REMINDERD_FEED_SECRET,
    read by the config) when set, else var/feed-secret (created if missing). SecretError
    when it is shorter than MIN_SECRET_BYTES or cannot be written."""
    if from_env is not None:
        return _checked(from_env.strip().encode("utf-8"), SECRET_ENV,
                        "Set it to 32 random bytes or more, e.g. the output of "
                        "`python3 -c 'import secrets; print(secrets.token_hex(32))'`, "
                        "or unset it to use var/feed-secret.")
    path = var_dir / SECRET_FILE
    try:
        private_dir(var_dir)
        if not path.exists():
            _create_secret(path)
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise SecretError(f"{path}: cannot read the feed secret: {exc.strerror or exc}") from None
    return _checked(secret, str(path),
                    "Restore it from a backup or another replica; or delete the file to have "
                    "a new one made (every agency's feed link then changes: send the new "
                    "links from the status page).")


def check_secret(var_dir: Path, from_env: str | None = None) -> str | None:
    """For `reminderd check`: what is wrong with the secret that exists (the environment's,
    or var/feed-secret), without creating one; None when fine or not made yet."""
    path = var_dir / SECRET_FILE
    if from_env is None and not path.exists():
        return None
    try:
        load_secret(var_dir, from_env)
    except SecretError as exc:
        return str(exc)
    return None


class FeedTokens:
    """Maps agency ids to their tokens and back (constant-time comparison on bytes)."""

    def __init__(self, secret: bytes, agency_ids: Iterable[str],
                 versions: Mapping[str, int] | None = None) -> None:
        self._by_agency = {
            agency: self._token(secret, agency, (versions or {}).get(agency, 1))
            for agency in agency_ids
        }
        # "*" never occurs in an agency id, so this token cannot equal an agency's
        self._all = self._token(secret, "*" + ALL, (versions or {}).get(ALL, 1))
        self._secret = secret

    def derive(self, label: bytes) -> bytes:
        """A key for another use of the secret (the done links), independent of the feed
        tokens: HMAC-SHA256 of ``label`` under the secret."""
        return hmac.new(self._secret, label, hashlib.sha256).digest()

    @staticmethod
    def _token(secret: bytes, agency: str, version: int) -> str:
        digest = hmac.new(secret, f"{agency}:{version}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:20]).decode("ascii").lower()

    def token(self, agency: str) -> str:
        return self._by_agency[agency]

    @property
    def all_token(self) -> str:
        """The whole calendar's token (served publicly only with feeds.public_calendar)."""
        return self._all

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
    feeds = ws.settings.feeds
    versions = parse_rotation(feeds.token_rotation)
    return FeedTokens(load_secret(ws.settings.var_dir, feeds.secret), ws.agencies(), versions)


def public_calendar_url(ws: Workspace, tokens: FeedTokens) -> str:
    return f"{ws.settings.http.public_url}/feeds/{tokens.all_token}.ics"


def agency_feed_url(ws: Workspace, tokens: FeedTokens, agency: str) -> str:
    return f"{ws.settings.http.public_url}/feeds/{tokens.token(agency)}.ics"
