"""The event feed (`GET /v1/events`): every account event in notification order.

An event is `{"id": <notification id>, "account_id", "version", "name", "at",
"recorded_at", "principal", "data"}`; `after` is the last id a consumer saw, so one that
stores it resumes exactly where it stopped. Command records, API keys and anything else
that is not an account's event is left out (the ids simply skip them); so are gateway
tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.account import Account, shown_data
from ledger.results import to_jsonable

if TYPE_CHECKING:
    from ledger.application import Ledger

READ_PAGE = 500


@dataclass
class FeedPage:
    data: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None

    def to_json(self) -> dict[str, Any]:
        return {"data": self.data, "has_more": self.has_more, "next_cursor": self.next_cursor}


def read_feed(app: Ledger, after: int = 0, limit: int = 100,
              types: set[str] | None = None) -> FeedPage:
    found: list[dict[str, Any]] = []
    position = after
    head = app.recorder.max_notification_id() or 0
    names: dict[Any, str] = {}
    while len(found) < limit and position < head:
        notifications = app.recorder.select_notifications(
            position, READ_PAGE, inclusive_of_start=False)
        if not notifications:
            break
        for n in notifications:
            if len(found) == limit:
                break
            position = n.id
            if not n.topic.startswith("ledger/") or n.topic.startswith(("ledger/Command",
                                                                          "ledger/ApiKey",
                                                                          "ledger/Webhook")):
                continue
            event = app.mapper.to_domain_event(n)
            if not isinstance(event, Account.Event):
                continue
            name = type(event).__name__
            if types and name not in types:
                continue
            found.append(_feed_event(app, n.id, event, name, names))
    more = position < head
    return FeedPage(found, more, str(position) if more else None)


def _feed_event(app: Ledger, notification_id: int, event: Any, name: str,
                names: dict[Any, str]) -> dict[str, Any]:
    uid = event.originator_id
    if uid not in names:
        names[uid] = _account_id(app, event)
    return dict(to_jsonable({
        "id": notification_id, "account_id": names[uid], "version": event.originator_version,
        "name": name, "at": event.at, "recorded_at": event.timestamp,
        "principal": event.principal, "data": shown_data(event)}))


def _account_id(app: Ledger, event: Any) -> str:
    if type(event).__name__ == "AccountOpened":
        return str(event.account_id)
    first = app.events.get(event.originator_id, lte=1)
    opened = next(iter(first), None)
    return str(getattr(opened, "account_id", event.originator_id))
