"""Assemble what a send pass needs from the settings: renderer, transport, links, .ics.

:func:`mailer_problems` is every reason the mail could not go out with these settings (a
template that does not render, an SMTP credential variable that is not set, credentials
without TLS), each located at the setting or template line to fix; :func:`build_mailer`
raises them as :class:`MailSetupError`, so that ``check``, start-up and reload refuse the
same cases the first pass would have failed on.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from reminderd.config import Settings, SmtpSettings
from reminderd.core.errors import Problem, ProblemsError
from reminderd.core.headers import envelope_address
from reminderd.core.model import Contact
from reminderd.core.occurrence import Occurrence
from reminderd.core.reminders import Reminder
from reminderd.feeds.build import feed_options
from reminderd.feeds.ics import FeedBuilder
from reminderd.feeds.tokens import FeedTokens, agency_feed_url, feed_tokens
from reminderd.mail.donelink import DoneLinks
from reminderd.mail.render import Renderer, template_problems
from reminderd.mail.transport import MaildirTransport, Security, SmtpTransport, Transport
from reminderd.workspace import Workspace


class MailSetupError(ProblemsError):
    """Settings the mail cannot go out with; ``problems`` say where to fix them."""


@dataclass
class Mailer:
    """What a pass needs to turn reminders into sent mail."""

    renderer: Renderer
    transport: Callable[[], Transport]
    sender: str
    domain: str  # for Message-IDs
    feed_url: Callable[[str], str]  # agency id -> its feed link
    attachment: Callable[[str, Sequence[Occurrence], datetime], bytes]  # agency, items -> .ics
    # --- answering (issue 14) ---
    done_links: DoneLinks | None = None
    done_url: Callable[[Reminder], str] | None = None  # a task reminder -> its done link
    reply_to: str = ""
    contact: Contact | None = None
    operator: str = ""  # mail.operator


def smtp_problems(settings: Settings, environ: Mapping[str, str]) -> list[Problem]:
    """Why the SMTP transport could not be made: unset credential variables, half a pair of
    credentials, credentials over a connection without TLS."""
    smtp = settings.mail.smtp
    if smtp is None:
        return []
    found = []
    for key in ("username_env", "password_env"):
        name = getattr(smtp, key)
        if name and name not in environ:
            found.append(settings.problem(
                f"mail.smtp.{key}", f"mail.smtp.{key} names the environment variable {name}, "
                "which is not set (set it where reminderd runs, or remove the key)"))
    if (smtp.username_env is None) != (smtp.password_env is None):
        present = "username_env" if smtp.username_env else "password_env"
        missing = "password_env" if smtp.username_env else "username_env"
        found.append(settings.problem(f"mail.smtp.{present}",
                                      f"mail.smtp.{present} needs mail.smtp.{missing} too "
                                      "(give both credentials, or neither)"))
    try:
        _tls_context(smtp)
    except (OSError, ssl.SSLError) as exc:
        found.append(settings.problem("mail.smtp.ca_file", (
            f"mail.smtp.ca_file {smtp.ca_file}: cannot load a CA certificate ({exc}); write "
            "the path of a PEM file with the internal CA's certificate")))
    if smtp.username_env is not None and smtp.security == "none":
        found.append(settings.problem("mail.smtp.security", (
            "mail.smtp.security: none would send the SMTP credentials without TLS; write "
            "starttls or tls, or remove the credentials")))
    return found


def _tls_context(smtp: SmtpSettings) -> ssl.SSLContext | None:
    """An internal CA's context (trusted besides nothing else; always verified), or None for
    the system's. OSError or ssl.SSLError when the file does not load."""
    if smtp.ca_file is None:
        return None
    return ssl.create_default_context(cafile=str(smtp.ca_file))


def _smtp_factory(smtp: SmtpSettings, environ: Mapping[str, str]) -> Callable[[], Transport]:
    security = cast(Security, smtp.security)
    username = environ[smtp.username_env] if smtp.username_env else None
    password = environ[smtp.password_env] if smtp.password_env else None
    context = _tls_context(smtp)
    return lambda: SmtpTransport(smtp.host, smtp.port, security=security, username=username,
                                 password=password, timeout=float(smtp.timeout_seconds),
                                 tls_context=context)


def mailer_problems(ws: Workspace, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem that stops the mail: the templates (rendered against the samples) and
    the transport."""
    settings = ws.settings
    env = os.environ if environ is None else environ
    return (template_problems(settings.templates / "mail", zone=settings.timezone)
            + smtp_problems(settings, env))


def build_mailer(ws: Workspace, tokens: FeedTokens | None = None,
                 environ: Mapping[str, str] | None = None) -> Mailer:
    """The mailer of the workspace (``tokens``: the agencies' feed links, by default from
    the feed secret); MailSetupError with every problem when it cannot be."""
    env = os.environ if environ is None else environ
    problems = mailer_problems(ws, env)
    if problems:
        raise MailSetupError(problems)
    settings = ws.settings
    if tokens is None:
        tokens = feed_tokens(ws)
    builder = FeedBuilder(feed_options(settings), ws.agencies())

    def attachment(agency: str, items: Sequence[Occurrence], now: datetime) -> bytes:
        today = ws.local_today(now)
        unique = list({o.key: o for o in items}.values())
        return builder.build(unique, {}, today=today,
                             is_working=ws.calendar(today, today).is_working, agency=agency)

    smtp, maildir = settings.mail.smtp, settings.mail.maildir
    sender = settings.mail.sender  # the config has checked its address
    # signed under a key derived from the feed secret, which replicas share
    links = DoneLinks(tokens.derive(b"reminderd done links"), settings.http.public_url)
    policy = ws.policy()
    grace = timedelta(days=settings.reminders.catch_up_days)

    def done_url(reminder: Reminder) -> str:
        """Good until the item's last reminder (its escalation) has gone out, late or not."""
        occ = reminder.occurrence
        last = ws.calendar(occ.date, occ.date).add_working_days(
            occ.date, policy.escalate_after_workdays)
        return links.url(occ.key, reminder.agency, last + grace)

    contact = settings.contact
    return Mailer(
        renderer=Renderer(settings.templates / "mail", zone=settings.timezone),
        transport=(_smtp_factory(smtp, env) if smtp is not None
                   else lambda: MaildirTransport(maildir)),
        sender=sender,
        domain=envelope_address(sender).rpartition("@")[2] or "reminderd.local",
        feed_url=lambda agency: agency_feed_url(ws, tokens, agency),
        attachment=attachment,
        done_links=links,
        done_url=done_url,
        reply_to=settings.mail.reply_to or "",
        contact=Contact(contact.name, contact.phone, contact.email) if contact else None,
        operator=settings.mail.operator or "",
    )
