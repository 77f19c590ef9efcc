"""HTTP Basic authentication for the admin listener, with a scrypt password hash.

The hash comes from the environment variable that ``http.admin_password_hash_env`` names
(never from YAML), in the PHC string format for scrypt::

    $scrypt$ln=15,r=8,p=1$<salt, base64>$<key, base64>

(``ln`` is log2 of scrypt's N; base64 without padding; a 32-byte key; RFC 7914). Make one
with ``reminderd hash-password`` (it reads the password from the terminal or stdin).
Verification costs ~0.1 s of CPU and runs off the event loop; a password that verified is
remembered (by its HMAC under a per-process key) so the page does not pay that per request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

LOG2_N = 15
R, P = 8, 1
KEY_BYTES = 32
_MAXMEM = 256 * 1024 * 1024
_PHC = re.compile(r"\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$"
                  r"([A-Za-z0-9+/]+)")


class HashFormatError(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, log2_n: int = LOG2_N) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=1 << log2_n, r=R, p=P,
                         dklen=KEY_BYTES, maxmem=_MAXMEM)
    return f"$scrypt$ln={log2_n},r={R},p={P}${_b64(salt)}${_b64(key)}"


def parse_hash(text: str) -> tuple[int, int, int, bytes, bytes]:
    """(n, r, p, salt, key); HashFormatError (without echoing the value) otherwise."""
    match = _PHC.fullmatch(text.strip())
    if match is None:
        raise HashFormatError("not a scrypt hash in PHC format ($scrypt$ln=..,r=..,p=..$salt"
                              "$key); make one with `reminderd hash-password`")
    ln, r, p = int(match[1]), int(match[2]), int(match[3])
    if not (10 <= ln <= 20 and 1 <= r <= 32 and 1 <= p <= 4):
        raise HashFormatError("scrypt parameters out of range (ln 10-20, r 1-32, p 1-4)")
    try:
        salt, key = _unb64(match[4]), _unb64(match[5])
    except (binascii.Error, ValueError):
        raise HashFormatError("the salt or key is not valid base64") from None
    if len(salt) < 8 or len(key) < 16:
        raise HashFormatError("the salt or key is too short")
    return 1 << ln, r, p, salt, key


def verify_password(password: str, encoded: str) -> bool:
    n, r, p, salt, key = parse_hash(encoded)
    got = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(key),
                         maxmem=_MAXMEM)
    return hmac.compare_digest(got, key)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AdminAuth:
    """Basic auth for one user; ``middleware`` goes on the admin app."""

    def __init__(self, user: str, encoded_hash: str) -> None:
        parse_hash(encoded_hash)  # fail at start-up, not at the first request
        self.user = user
        self._hash = encoded_hash
        self._key = secrets.token_bytes(32)
        self._good: set[bytes] = set()  # HMACs of credentials that verified

    def _challenge(self) -> web.Response:
        return web.Response(status=401, text="Cần đăng nhập (HTTP Basic).\n", headers={
            hdrs.WWW_AUTHENTICATE: 'Basic realm="reminderd admin", charset="UTF-8"',
            hdrs.CACHE_CONTROL: "no-store"})

    async def check(self, header: str | None) -> bool:
        if not header or header[:6].lower() != "basic ":
            return False
        try:
            user, sep, password = base64.b64decode(header[6:].strip(), validate=True) \
                .decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if not sep or not hmac.compare_digest(user.encode(), self.user.encode()):
            return False
        mark = hmac.digest(self._key, password.encode("utf-8"), "sha256")
        if mark in self._good:
            return True
        ok = await asyncio.to_thread(verify_password, password, self._hash)
        if ok:
            if len(self._good) > 64:
                self._good.clear()
            self._good.add(mark)
        return ok

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not await self.check(request.headers.get(hdrs.AUTHORIZATION)):
            return self._challenge()
        return await handler(request)
