"""Standard Webhooks signatures: `whsec_` secrets and `v1,<base64 HMAC-SHA256>`.

The secret is `whsec_` followed by the base64 of 32 random bytes; the HMAC key is those
bytes (the base64 after the prefix, decoded). The signed content is
`{webhook-id}.{webhook-timestamp}.{body}`; the signature header may carry several
space-separated `v1,<sig>` entries (during a secret rotation), any one of which verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, webhook_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any `v1,` signature in the header is the body's (constant-time compare)."""
    expected = sign(secret, webhook_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split()
               if candidate.startswith("v1,"))
