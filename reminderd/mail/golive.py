"""What `reminderd check` says before going live: links nobody can open, placeholder
addresses, a CA file that does not load. Warnings (``FILE:LINE:COL: warning: ...``) unless
the setting cannot work at all (errors)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from reminderd.config import Settings
from reminderd.workspace import Workspace

# RFC 2606 / RFC 6761: never delivered to anyone
RESERVED_SUFFIXES = (".example", ".invalid", ".test", ".localhost")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org", "localhost")


def reserved(address: str) -> bool:
    domain = address.rpartition("@")[2].rstrip(">").strip().lower().rstrip(".")
    return domain in RESERVED_DOMAINS or any(
        domain.endswith(suffix) or domain == suffix[1:] for suffix in RESERVED_SUFFIXES) or any(
        domain.endswith("." + d) for d in RESERVED_DOMAINS)


def loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _place(path: Path | None, needle: str) -> str:
    """``FILE:LINE:COL`` of the first occurrence of ``needle`` in the file (else line 1)."""
    if path is None:
        return "<defaults>:1:1"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for number, line in enumerate(lines, 1):
        col = line.find(needle)
        if col >= 0 and not line.lstrip().startswith("#"):
            return f"{path}:{number}:{col + 1}"
    return f"{path}:1:1"


def _where(settings: Settings, key: str) -> str:
    """``FILE:LINE:COL`` of the setting ``key`` (where its value was written)."""
    problem = settings.problem(key, "")
    return f"{problem.file}:{problem.line}:{problem.col}"


def going_live(ws: Workspace) -> tuple[list[str], list[str]]:
    """(errors, warnings) about what would make the live service useless or unsafe."""
    settings = ws.settings
    errors: list[str] = []
    warnings: list[str] = []
    smtp = settings.mail.smtp
    if smtp is None:
        return errors, warnings  # mail stays in the local Maildir: nobody outside reads it
    # a CA file that does not load is the mailer's problem (mail.setup.smtp_problems)
    recipients = [(agency, address) for agency in ws.plans.agencies
                  for address in agency.emails]
    outside = [a for _, a in recipients if not reserved(a)]
    public_url = settings.http.public_url
    if outside and loopback(public_url):
        warnings.append(
            f"{_where(settings, 'http.public_url')}: warning: http.public_url is "
            f"{public_url}, a loopback address, while mail goes to "
            f"{len(outside)} outside address(es) (e.g. {outside[0]}): every feed link in the "
            "mail opens nothing for them; write the address subscribers reach, e.g. "
            "https://lich.songoaivu.gov.vn")
    if reserved(settings.mail.sender):
        warnings.append(
            f"{_where(settings, 'mail.from')}: warning: mail.from {settings.mail.sender!r} "
            "uses a reserved domain (.example, .invalid, .test, .localhost) while mail.smtp "
            "is configured: servers refuse or drop such mail; write the office's real "
            "sender address")
    for agency, address in recipients:
        if reserved(address):
            warnings.append(
                f"{_place(settings.plans, address)}: warning: agency '{agency.id}': "
                f"{address} uses a reserved domain while mail.smtp is configured: it will "
                "never arrive; write the agency's real address")
    return errors, warnings
