"""Assemble what a send pass needs from the settings: renderer, transport, links, .ics."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from reminderd.core.model import Contact
from reminderd.core.occurrence import Occurrence
from reminderd.core.reminders import Reminder
from reminderd.feeds.build import feed_options
from reminderd.feeds.ics import FeedBuilder
from reminderd.feeds.tokens import agency_feed_url, feed_tokens, load_secret
from reminderd.mail.donelink import DoneLinks
from reminderd.mail.message import envelope_address
from reminderd.mail.render import Renderer
from reminderd.mail.transport import MaildirTransport, Security, SmtpTransport, Transport
from reminderd.workspace import Workspace


class MailSetupError(Exception):
    """A setting the mail cannot go out without (e.g. a credential variable that is unset)."""


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


def transport_factory(ws: Workspace) -> Callable[[], Transport]:
    """A zero-argument callable making a fresh transport for one pass."""
    smtp = ws.settings.smtp
    if smtp is None:
        maildir = ws.settings.maildir
        return lambda: MaildirTransport(maildir)
    security = cast(Security, smtp.security)
    username = password = None
    for name in (smtp.username_env, smtp.password_env):
        if name and name not in os.environ:
            raise MailSetupError(f"mail.smtp names the environment variable {name}, "
                                 "which is not set")
    if smtp.username_env:
        username = os.environ[smtp.username_env]
    if smtp.password_env:
        password = os.environ[smtp.password_env]
    return lambda: SmtpTransport(smtp.host, smtp.port, security=security, username=username,
                                 password=password, timeout=float(smtp.timeout_seconds))


def build_mailer(ws: Workspace) -> Mailer:
    tokens = feed_tokens(ws)
    builder = FeedBuilder(feed_options(ws), ws.agencies())

    def attachment(agency: str, items: Sequence[Occurrence], now: datetime) -> bytes:
        today = ws.local_today(now)
        unique = list({o.key: o for o in items}.values())
        return builder.build(unique, {}, today=today,
                             is_working=ws.calendar(today, today).is_working, agency=agency)

    sender = ws.settings.mail_from
    links = DoneLinks(load_secret(ws.settings.var_dir), ws.settings.public_url)
    policy = ws.policy()
    grace = timedelta(days=int(ws.settings.reminders["catch_up_days"]))

    def done_url(reminder: Reminder) -> str:
        """Good until the item's last reminder (its escalation) has gone out, late or not."""
        occ = reminder.occurrence
        last = ws.calendar(occ.date, occ.date).add_working_days(
            occ.date, policy.escalate_after_workdays)
        return links.url(occ.key, reminder.agency, last + grace)

    return Mailer(
        renderer=Renderer(ws.settings.templates / "mail", zone=ws.settings.timezone),
        transport=transport_factory(ws),
        sender=sender,
        domain=envelope_address(sender).rpartition("@")[2] or "reminderd.local",
        feed_url=lambda agency: agency_feed_url(ws, tokens, agency),
        attachment=attachment,
        done_links=links,
        done_url=done_url,
        reply_to=ws.settings.reply_to or "",
        contact=ws.settings.contact,
        operator=ws.settings.operator or "",
    )
