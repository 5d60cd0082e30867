"""Webhook endpoints as a stream of their own (like command records): created and deleted
by events with explicit topics, so who registered which receiver, and when, is in the
log like everything else. They are not account events: the feed and the account views
skip them, and the audit only chains them.

The signing secret is not in these events (events are never secret): it is kept in the
webhooks' table beside the views (webhooks.store), written before the created event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

ENDPOINT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:subscription-ledger:webhook-endpoint")
TOPIC_PREFIX = "ledger/WebhookEndpoint"


def endpoint_uuid(endpoint_id: str) -> UUID:
    return uuid5(ENDPOINT_NAMESPACE, endpoint_id)


class WebhookEndpoint(Aggregate):
    TOPIC = "ledger/WebhookEndpoint"

    def __init__(self) -> None:
        self.endpoint_id = ""
        self.url = ""
        self.types: list[str] = []
        self.after = 0
        self.principal = ""
        self.deleted = False

    class Event(Aggregate.Event):
        TOPIC = "ledger/WebhookEndpoint.Event"

    class WebhookEndpointCreated(Event, Aggregate.Created):
        """`after`: the log's last notification id when it was made; it receives the
        account events recorded after that."""

        TOPIC = "ledger/WebhookEndpointCreated"
        endpoint_id: str
        url: str
        types: list[str]
        after: int
        principal: str

        def apply(self, aggregate: Any) -> None:
            aggregate.endpoint_id, aggregate.url = self.endpoint_id, self.url
            aggregate.types, aggregate.after = list(self.types), self.after
            aggregate.principal = self.principal

    class WebhookEndpointDeleted(Event):
        TOPIC = "ledger/WebhookEndpointDeleted"
        principal: str

        def apply(self, aggregate: Any) -> None:
            aggregate.deleted = True

    def delete(self, principal: str, recorded_at: datetime) -> None:
        self.trigger_event(self.WebhookEndpointDeleted, timestamp=recorded_at,
                           principal=principal)


def new_endpoint(endpoint_id: str, url: str, types: list[str], after: int,
                 principal: str, recorded_at: datetime) -> WebhookEndpoint:
    endpoint: WebhookEndpoint = WebhookEndpoint._create(
        WebhookEndpoint.WebhookEndpointCreated, id=endpoint_uuid(endpoint_id),
        timestamp=recorded_at,
        endpoint_id=endpoint_id, url=url, types=types, after=after, principal=principal)
    return endpoint
