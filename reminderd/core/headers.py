"""What may go into an e-mail header, and the address inside a mailbox: each rule written
once, because plans.yaml, the config, the templates and the transports all apply it and the
copies had come to disagree (the config accepted a ``mail.from`` with U+2028 that the
mailer then refused).

Pure: standard library only.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Anything that can end a header line for some parser (str.splitlines() breaks on all of
# these), other control characters, and "=?" which starts an encoded word that could decode
# to one (header injection: docs/library-pitfalls.md). Tab is allowed: it is header white space.
_UNSAFE_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]|=\?")
_NOT_IN_ADDRESS = frozenset(' <>,;"()[]\\')
# one mailbox: "Name <address>" or a bare address; never a list of them
_MAILBOX = re.compile(r"\s*(?:([^<>@,;]*?)\s*<([^<>]+)>|([^<>\s]+))\s*")


def unsafe_header(value: str) -> str | None:
    """The first piece of ``value`` that must not reach a mail header (a line break, a
    control character or ``=?``), or None when the value is safe."""
    found = _UNSAFE_HEADER.search(value)
    return found.group() if found is not None else None


def describe_unsafe(found: str) -> tuple[str, str]:
    """(what was found, what to write instead), for a message about ``unsafe_header``'s
    result."""
    if found == "=?":
        return "'=?', which mail clients decode as an encoded word", "write it without '=?'"
    if found in "\r\n":
        return "a line break, which would start a new header", "write it on one line"
    return f"the control character U+{ord(found):04X}", "remove it"


@lru_cache(maxsize=65_536)  # an agency's addresses recur in every pass
def envelope_address(mailbox: str) -> str:
    """``"Sở Ngoại vụ <lich@x.example>"`` -> ``"lich@x.example"`` (for MAIL FROM / RCPT TO).

    ValueError when there is no usable address: unsafe header text, no ``@``, non-ASCII
    or characters that do not belong in a bare address."""
    found = unsafe_header(mailbox)
    if found is not None:
        what, _ = describe_unsafe(found)
        raise ValueError(f"{mailbox!r} contains {what} (e-mail header injection)")
    match = _MAILBOX.fullmatch(mailbox)
    address = (match[2] or match[3]) if match else ""
    local, _, domain = address.partition("@")
    if (not local or not domain or "@" in domain or not address.isascii()
            or any(c in _NOT_IN_ADDRESS for c in address)):
        raise ValueError(f"not a usable e-mail address: {mailbox!r}; write a name and an "
                         "address, e.g. Sở Ngoại vụ <lich@songoaivu.example>")
    return address
