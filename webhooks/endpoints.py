"""Creating, listing and deleting webhook endpoints.

The endpoint itself is a stream of events (ledger.webhook_endpoints); its secret, its
position in the feed and its disabled state are a row of ledger_webhook_endpoints, which
also indexes the endpoints. The row is written before the created event: a process
stopped between the two leaves a row without a stream, which is never listed nor used.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from eventsourcing.application import AggregateNotFoundError

from ledger.results import to_jsonable
from ledger.webhook_endpoints import WebhookEndpoint, endpoint_uuid, new_endpoint
from projections.feed import ACCOUNT_EVENTS
from webhooks.schema import cursor, ensure_tables, sql, values
from webhooks.signing import new_secret

if TYPE_CHECKING:
    from ledger.application import Ledger

MAX_URL = 2000


class EndpointError(Exception):
    """A request about endpoints that cannot be done: `code` is validation_error or
    not_found; the message never holds a secret."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Endpoint:
    endpoint_id: str
    url: str
    types: list[str]
    after: int
    created_at: str
    position: int
    disabled_reason: str | None
    secret: str  # for signing only: never in to_json, logs or errors

    def to_json(self) -> dict[str, Any]:
        return {"id": self.endpoint_id, "url": self.url, "types": self.types,
                "created_at": self.created_at,
                "status": "disabled" if self.disabled_reason else "active",
                "disabled_reason": self.disabled_reason, "position": self.position}

    def wants(self, name: str) -> bool:
        return "*" in self.types or name in self.types

    def __repr__(self) -> str:  # never show the secret
        return f"Endpoint({self.endpoint_id!r}, {self.url!r})"


def check_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip()) if isinstance(url, str) else None
    except ValueError:  # an unclosed "[" of an IPv6 host, say
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or len(url) > MAX_URL):
        raise EndpointError("validation_error", "an endpoint URL must be http:// or https:// "
                            f"with a host (at most {MAX_URL} characters)")
    if any(ord(ch) < 0x21 or 0x7f <= ord(ch) <= 0x9f for ch in url.strip()):
        # RFC 3986 has no room for spaces or control characters (a terminal escape in a
        # URL would reach every `webhooks list`).
        raise EndpointError("validation_error", "an endpoint URL may not hold spaces or "
                            "control characters (percent-encode them)")
    if parts.username is not None or parts.password is not None:
        # A password in the URL would be shown by every listing and delivery error; the
        # receiver authenticates the ledger by the signature (Standard Webhooks).
        raise EndpointError("validation_error", "an endpoint URL may not hold a user name "
                            "or password; receivers verify the webhook signature instead")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise EndpointError("validation_error", "an endpoint URL's port must be a number "
                            "from 0 to 65535") from None
    return url.strip()


def check_types(types: list[str] | None) -> list[str]:
    if types is None:
        return ["*"]  # none named: every event
    if not types:
        # An explicit empty list would be an endpoint that never hears of anything.
        raise EndpointError("validation_error", "types: name at least one event, or \"*\"")
    if not all(isinstance(t, str) for t in types):
        raise EndpointError("validation_error", "types are event names or \"*\"")
    if "*" in types:
        return ["*"]
    unknown = sorted({t for t in types if t not in ACCOUNT_EVENTS})
    if unknown:
        raise EndpointError("validation_error",
                            f"unknown event types: {', '.join(unknown[:10])}")
    return sorted(set(types))


def create_endpoint(app: Ledger, url: str, types: list[str] | None,
                    principal: str) -> tuple[str, str]:
    """A new endpoint: (id, secret). It receives the account events recorded from now."""
    url, kinds = check_url(url), check_types(types)
    ensure_tables(app)
    endpoint_id = "we_" + secrets.token_hex(8)
    secret = new_secret()
    with app.serialised():
        after = app.recorder.max_notification_id() or 0
        with cursor(app, commit=True) as c:
            c.execute(sql(app, "INSERT INTO ledger_webhook_endpoints (endpoint_id, secret,"
                               " position) VALUES (?, ?, ?)"), (endpoint_id, secret, after))
        app.save(new_endpoint(endpoint_id, url, kinds, after, principal, app.clock.now()))
    return endpoint_id, secret


def delete_endpoint(app: Ledger, endpoint_id: str, principal: str) -> None:
    aggregate = _aggregate(app, endpoint_id)
    if aggregate is None or aggregate.deleted:
        raise EndpointError("not_found", f"no webhook endpoint {endpoint_id}")
    aggregate.delete(principal, app.clock.now())
    with app.serialised():
        app.save(aggregate)
    with cursor(app, commit=True) as c:  # the deliveries stay, for the record
        c.execute(sql(app, "DELETE FROM ledger_webhook_pending WHERE endpoint_id = ?"),
                  (endpoint_id,))
        # A worker in the middle of this endpoint's task stops at its next attempt.
        c.execute(sql(app, "UPDATE ledger_webhook_endpoints SET disabled_reason = ?"
                           " WHERE endpoint_id = ?"), ("deleted", endpoint_id))


def _aggregate(app: Ledger, endpoint_id: str) -> WebhookEndpoint | None:
    if not endpoint_id.startswith("we_") or len(endpoint_id) > 64:
        return None
    try:
        return cast(WebhookEndpoint, app.repository.get(endpoint_uuid(endpoint_id)))
    except AggregateNotFoundError:
        return None


def list_endpoints(app: Ledger) -> list[Endpoint]:
    """Every endpoint not deleted, oldest first."""
    ensure_tables(app)
    with cursor(app, commit=False) as c:
        c.execute("SELECT endpoint_id, secret, position, disabled_reason"
                  " FROM ledger_webhook_endpoints")
        rows = [values(r) for r in c.fetchall()]
    found = []
    for endpoint_id, secret, position, reason in rows:
        aggregate = _aggregate(app, str(endpoint_id))
        if aggregate is None or aggregate.deleted:
            continue  # a row whose created event never landed, or a deleted endpoint
        found.append(Endpoint(aggregate.endpoint_id, aggregate.url, list(aggregate.types),
                              aggregate.after, to_jsonable(aggregate.created_on),
                              int(position), reason, str(secret)))
    return sorted(found, key=lambda e: (e.after, e.endpoint_id))


def get_endpoint(app: Ledger, endpoint_id: str) -> Endpoint:
    for endpoint in list_endpoints(app):
        if endpoint.endpoint_id == endpoint_id:
            return endpoint
    raise EndpointError("not_found", f"no webhook endpoint {endpoint_id}")
