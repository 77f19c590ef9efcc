"""The "đã hoàn thành" link of a task in a reminder mail: ``{public_url}/done/{token}``.

The token names one item (its occurrence key) and one agency, and carries the last day it
is good for (the item's last reminder, its escalation, plus the catch-up days); it is
signed with HMAC-SHA256 under a key derived from the feed secret, which replicas share, so
any replica accepts a link another one mailed. Following the link only shows a page; the
page's button (a POST) records the item as done (:mod:`reminderd.server.done`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

_LABEL = b"reminderd done link v1"
_SIG_BYTES = 16


class BadDoneLink(ValueError):
    """A token that is malformed, forged or expired; ``reason`` is Vietnamese for the page."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


@dataclass(frozen=True)
class DoneClaim:
    """What a valid token says."""

    key: str  # the occurrence key
    agency: str
    expires: date  # good through this day (local)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DoneLinks:
    """Makes and checks done links."""

    def __init__(self, secret: bytes, public_url: str) -> None:
        self._key = hmac.new(secret, _LABEL, hashlib.sha256).digest()
        self.public_url = public_url.rstrip("/")

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIG_BYTES]

    def token(self, key: str, agency: str, expires: date) -> str:
        payload = "\n".join((key, agency, expires.isoformat())).encode("utf-8")
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def url(self, key: str, agency: str, expires: date) -> str:
        return f"{self.public_url}/done/{self.token(key, agency, expires)}"

    def verify(self, token: str, today: date) -> DoneClaim:
        """The claim of a good token; BadDoneLink for anything else."""
        bad = BadDoneLink("Đường dẫn không hợp lệ (có thể bị cắt mất một phần khi sao chép).")
        head, dot, sig = token.partition(".")
        if not dot or len(token) > 2048:
            raise bad
        try:
            payload, given = _unb64(head), _unb64(sig)
        except (ValueError, TypeError):
            raise bad from None
        if not hmac.compare_digest(given, self._sign(payload)):
            raise bad
        try:
            key, agency, day = payload.decode("utf-8").split("\n")
            expires = date.fromisoformat(day)
        except ValueError:
            raise bad from None
        if today > expires:
            raise BadDoneLink(f"Đường dẫn đã hết hạn (dùng được đến hết ngày "
                              f"{expires:%d/%m/%Y}).", expired=True)
        return DoneClaim(key, agency, expires)
