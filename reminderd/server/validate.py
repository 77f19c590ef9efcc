"""The one validation path: :func:`validate` loads a version of the inputs and collects
every problem (config and environment settings, plans.yaml, the mail templates, the mailer
and its transport, the feed secret, the admin password hash, the status page template),
each located ``FILE:LINE:COL``.

``reminderd check``, ``reminderd send-due``, the daemon's start-up and every reload call
it, so what ``check`` passes, ``run`` runs; and what it returns is what they use.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Template

from reminderd.config import Settings
from reminderd.core.errors import Problem, ProblemsError
from reminderd.feeds.tokens import SECRET_ENV, FeedTokens, SecretError, check_secret, feed_tokens
from reminderd.mail.render import TemplateProblem
from reminderd.mail.setup import Mailer, MailSetupError, build_mailer
from reminderd.server.auth import AdminAuth, HashFormatError
from reminderd.server.statuspage import load_status_template
from reminderd.workspace import LoadError, Workspace, load_workspace


class ValidationError(ProblemsError):
    """The inputs have problems; nothing was started or switched."""


@dataclass(frozen=True)
class Version:
    """A validated version of the inputs and what was built from it."""

    ws: Workspace
    mailer: Mailer
    tokens: FeedTokens
    status_template: Template
    auth: AdminAuth | None  # HTTP Basic auth on the admin listener, when configured


def _secret_problem(settings: Settings, message: str) -> Problem:
    """A SecretError's ``WHERE: text`` as a located problem."""
    where, _, text = message.partition(": ")
    if where == SECRET_ENV:
        return settings.problem("feeds.secret", text)
    return Problem(where, 1, 1, text)


def _tokens(ws: Workspace, create: bool) -> FeedTokens | Problem:
    """The feed tokens; with ``create`` False (check), the secret is only checked, never
    made, and the tokens are a stand-in when there is none yet."""
    settings = ws.settings
    if not create:
        problem = check_secret(settings.var_dir, settings.feeds.secret)
        if problem is not None:
            return _secret_problem(settings, problem)
        return FeedTokens(secrets.token_bytes(32), ws.agencies())
    try:
        return feed_tokens(ws)
    except SecretError as exc:
        return _secret_problem(settings, str(exc))


def _auth(settings: Settings, environ: Mapping[str, str]) -> AdminAuth | Problem | None:
    name = settings.http.admin_password_hash_env
    if name is None:
        return None
    value = environ.get(name)
    if not value:
        return settings.problem("http.admin_password_hash_env", (
            f"http.admin_password_hash_env names {name}, which is not set (or empty); put "
            "the output of `reminderd hash-password` in it, or remove the setting to serve "
            "the admin listener without a password"))
    try:
        return AdminAuth(settings.http.admin_user, value)
    except HashFormatError as exc:
        return settings.problem("http.admin_password_hash_env", f"the value of {name}: {exc}")


def validate(config_path: Path | None, environ: Mapping[str, str] | None = None, *,
             create_secret: bool = True) -> Version:
    """Load and check everything; ValidationError with every problem found.
    ``create_secret``: make var/feed-secret when there is none (``check`` only looks)."""
    env = os.environ if environ is None else environ
    try:
        ws = load_workspace(config_path, env)
    except LoadError as exc:
        raise ValidationError(exc.problems) from None
    problems: list[Problem] = []
    try:
        status_template = load_status_template(ws.settings.templates)
    except TemplateProblem as exc:
        problems.append(exc.problem)
    tokens = _tokens(ws, create_secret)
    auth = _auth(ws.settings, env)
    for found in (tokens, auth):
        if isinstance(found, Problem):
            problems.append(found)
    mailer = None
    if isinstance(tokens, FeedTokens):
        try:
            mailer = build_mailer(ws, tokens, env)
        except MailSetupError as exc:
            problems += exc.problems
    if problems:
        raise ValidationError(problems)
    assert mailer is not None and isinstance(tokens, FeedTokens)
    assert not isinstance(auth, Problem)
    return Version(ws, mailer, tokens, status_template, auth)
