"""Console sessions: an HMAC-signed cookie naming the API key id, never the secret.

The cookie is `<key id>.<expiry unix>.<nonce>.<signature>`; it is HttpOnly and
SameSite=Strict, so page scripts cannot read it and other sites cannot send it. Each
request checks the signature and the expiry, then asks the key directory whether the key
still exists and is not revoked (so a revoked key stops working at its next request) and
has the scope. The CSRF token of a session is an HMAC of its nonce: every POST form
carries it in a hidden field and the server compares it in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from typing import Protocol

COOKIE = "ledger_console"
LIFETIME_S = 8 * 3600


class ConsoleKey(Protocol):
    """What the console needs to know of an API key."""

    @property
    def key_id(self) -> str: ...

    @property
    def scopes(self) -> frozenset[str]: ...

    @property
    def actor(self) -> str | None:
        """The only person its account actions may name (R-1.5), or None."""


class KeyDirectory(Protocol):
    """The service's keys: both lookups answer None for unknown and revoked keys."""

    def by_secret(self, secret: str) -> ConsoleKey | None: ...

    def by_id(self, key_id: str) -> ConsoleKey | None: ...


@dataclass(frozen=True)
class Session:
    key_id: str
    expires: int
    nonce: str
    csrf: str


class Signer:
    """Signs and checks session cookies. The signing secret comes from
    LEDGER_CONSOLE_SECRET (set it to the same value on every worker) or, absent that, is
    drawn once per process (sessions then end with the process)."""

    def __init__(self, secret: bytes | None = None, lifetime_s: int = LIFETIME_S) -> None:
        configured = os.environ.get("LEDGER_CONSOLE_SECRET", "")
        self._secret = secret or (configured.encode() if configured else
                                  secrets.token_bytes(32))
        self.lifetime_s = lifetime_s

    def _mac(self, message: str) -> str:
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    def issue(self, key_id: str) -> tuple[str, Session]:
        expires = int(time.time()) + self.lifetime_s
        nonce = secrets.token_urlsafe(16)
        body = f"{key_id}.{expires}.{nonce}"
        return f"{body}.{self._mac(body)}", self._session(key_id, expires, nonce)

    def csrf_for(self, nonce: str) -> str:
        return self._mac(f"csrf:{nonce}")

    def _session(self, key_id: str, expires: int, nonce: str) -> Session:
        return Session(key_id, expires, nonce, self.csrf_for(nonce))

    def check(self, cookie: str | None) -> Session | None:
        if not cookie or cookie.count(".") < 3:
            return None
        body, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(self._mac(body), signature):
            return None
        key_id, expires_text, nonce = body.rsplit(".", 2)
        if not expires_text.isdigit() or int(expires_text) < time.time():
            return None
        return self._session(key_id, int(expires_text), nonce)


def csrf_ok(session: Session, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(session.csrf, token or "")
