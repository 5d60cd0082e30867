"""API keys (HTTP.md "Keys and scopes"), kept as events in the store.

All keys live on one stream, the key ring: `ApiKeyCreated` and `ApiKeyRevoked`, so who
could do what, and since when, is in the log like everything else. A secret is shown
once, when made (`lk_` and 32 random bytes, url-safe base64); the ring keeps only its
SHA-256 (a secret of 256 random bits needs no slow hash), compared in constant time.
Every request asks the store for the ring's last version (one indexed read of one
row) and rebuilds the ring only when that moved, so a revocation is seen by every
worker at its next request without each request folding the whole ring.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from ledger.commands import ID_PATTERN
from ledger.results import to_jsonable

if TYPE_CHECKING:
    from ledger.application import Ledger

KEY_RING_ID = uuid5(NAMESPACE_URL, "urn:subscription-ledger:api-keys")
SCOPES = ("accounts:write", "operations:write", "accounts:read", "events:read",
          "billing:run", "audit:run", "admin", "metrics")
KEY_EVENT_TOPICS = ("ledger/ApiKeyRing", "ledger/ApiKeyRingStarted", "ledger/ApiKeyCreated",
                    "ledger/ApiKeyRevoked")


@dataclass
class ApiKey:
    key_id: str
    name: str
    scopes: frozenset[str]
    actor: str | None
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def listing(self) -> dict[str, Any]:
        """What `keys list` shows: never the secret, nor its hash."""
        return {"key_id": self.key_id, "name": self.name, "scopes": sorted(self.scopes),
                "actor": self.actor, "state": "active" if self.active else "revoked",
                "created_at": to_jsonable(self.created_at),
                "revoked_at": to_jsonable(self.revoked_at)}


class ApiKeyRing(Aggregate):
    TOPIC = "ledger/ApiKeyRing"

    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}

    class Event(Aggregate.Event):
        TOPIC = "ledger/ApiKeyRing.Event"

    class Started(Event, Aggregate.Created):
        TOPIC = "ledger/ApiKeyRingStarted"

    class ApiKeyCreated(Event):
        TOPIC = "ledger/ApiKeyCreated"
        key_id: str
        name: str
        scopes: list[str]
        actor: str | None
        secret_hash: str

        def apply(self, aggregate: Any) -> None:
            aggregate.keys[self.key_id] = ApiKey(self.key_id, self.name, frozenset(self.scopes),
                                                 self.actor, self.secret_hash, self.timestamp)

    class ApiKeyRevoked(Event):
        TOPIC = "ledger/ApiKeyRevoked"
        key_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.keys[self.key_id].revoked_at = self.timestamp


class KeyError_(ValueError):
    """A key request that cannot be done (unknown scope, unknown key)."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _ring(app: Ledger) -> ApiKeyRing | None:
    try:
        ring: ApiKeyRing = app.repository.get(KEY_RING_ID)
    except AggregateNotFoundError:
        return None
    return ring


def _change(app: Ledger, change: Any) -> Any:
    """Apply `change(ring)` and save, again from fresh state when another writer won."""
    for _ in range(20):
        ring = _ring(app)
        if ring is None:
            ring = ApiKeyRing._create(ApiKeyRing.Started, id=KEY_RING_ID,
                                      timestamp=app.clock.now())
        answer = change(ring)
        try:
            app.save(ring)
        except IntegrityError:
            continue
        return answer
    raise RuntimeError("the key ring kept changing under concurrent writers; try again")


def create_key(app: Ledger, name: str, scopes: list[str],
               actor: str | None = None) -> tuple[ApiKey, str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise KeyError_(f"unknown scope {', '.join(unknown)}; scopes are {', '.join(SCOPES)}"
                        if unknown else "a key needs at least one --scope")
    if actor is not None and not re.fullmatch(ID_PATTERN, actor):
        raise KeyError_(f"--actor: not an account id ({ID_PATTERN[1:-1]})")
    if not name.strip() or len(name) > 200 or any(
            ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f for ch in name):
        raise KeyError_("a key's name is 1 to 200 characters, without control characters")
    secret = "lk_" + secrets.token_urlsafe(32)
    key_id = "key_" + secrets.token_hex(8)

    def add(ring: ApiKeyRing) -> ApiKey:
        ring.trigger_event(ApiKeyRing.ApiKeyCreated, timestamp=app.clock.now(), key_id=key_id,
                           name=name, scopes=sorted(set(scopes)), actor=actor,
                           secret_hash=_hash(secret))
        return ring.keys[key_id]

    return _change(app, add), secret


def revoke_key(app: Ledger, key_id: str) -> ApiKey:
    def revoke(ring: ApiKeyRing) -> ApiKey:
        key = ring.keys.get(key_id)
        if key is None:
            raise KeyError_(f"no key {key_id}")
        if key.active:
            ring.trigger_event(ApiKeyRing.ApiKeyRevoked, timestamp=app.clock.now(),
                               key_id=key_id)
        return ring.keys[key_id]

    answer: ApiKey = _change(app, revoke)
    return answer


def list_keys(app: Ledger) -> list[ApiKey]:
    ring = _ring(app)
    return list(ring.keys.values()) if ring else []


class StoreKeys:
    """The key directory of the service and the console over one open Ledger, as the
    store holds it now. The ring's last stored version is read on every lookup; the ring
    is folded again only when that version differs from the one kept, so a key revoked
    by any process is refused here at the very next lookup."""

    def __init__(self, app: Ledger) -> None:
        self.app = app
        self._known: tuple[int, list[ApiKey]] | None = None  # a ring version, its keys

    def current(self) -> list[ApiKey]:
        last = self.app.recorder.select_events(KEY_RING_ID, desc=True, limit=1)
        version = last[0].originator_version if last else 0
        if self._known is not None and self._known[0] == version:
            return self._known[1]
        ring = _ring(self.app)
        keys = list(ring.keys.values()) if ring else []
        # The ring's own version: a change stored between the two reads is kept.
        self._known = (ring.version if ring else 0, keys)
        return keys

    def by_secret(self, secret: str) -> ApiKey | None:
        digest = _hash(secret)
        found = None
        for key in self.current():
            # Compare with every key, in constant time each: no early exit to time.
            if hmac.compare_digest(key.secret_hash, digest) and key.active:
                found = key
        return found

    def by_id(self, key_id: str) -> ApiKey | None:
        key = next((k for k in self.current() if k.key_id == key_id), None)
        return key if key is not None and key.active else None


def is_key_stream(originator_id: UUID) -> bool:
    return originator_id == KEY_RING_ID
