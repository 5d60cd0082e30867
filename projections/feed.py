"""The event feed: every account event in notification order, as `GET /v1/events` serves
it and webhooks deliver it. Command records, keys and webhook endpoints are not in it:
the notifications are selected by the account events' topics.

An event in the feed is `{"id", "account_id", "version", "name", "at", "recorded_at",
"principal", "data"}`; `data` is the event's own fields without the chain hash, the
principal, payment tokens and the event library's `originator_topic`; a failed payment
carries the charge id it was tried under. Only notifications the views have applied are read, so
every account id is known.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.account import Account, event_data, with_failed_charge_id

if TYPE_CHECKING:
    from ledger.application import Ledger

# `originator_topic` is the event library's own bookkeeping on a stream's first event.
LEFT_OUT = frozenset({"at", "prev_hash", "principal", "token", "originator_topic"})


def _account_event_classes() -> dict[str, str]:
    """Event name -> topic, for every concrete account event type."""
    found: dict[str, str] = {}
    for value in vars(Account).values():
        if (isinstance(value, type) and issubclass(value, Account.Event)
                and value is not Account.Event and "TOPIC" in value.__dict__):
            found[value.__name__] = value.__dict__["TOPIC"]
    return found


ACCOUNT_EVENTS: dict[str, str] = _account_event_classes()


@dataclass
class FeedPage:
    events: list[dict[str, Any]]
    has_more: bool
    last_id: int  # the last notification id in the page (the `after` of the next one)
    scanned_to: int  # every notification up to here was read or does not match


def topics_for(types: Sequence[str] | None) -> list[str]:
    """The topics of the named account event types (all of them for None or "*");
    unknown names select nothing."""
    if not types or "*" in types:
        return list(ACCOUNT_EVENTS.values())
    return [ACCOUNT_EVENTS[t] for t in types if t in ACCOUNT_EVENTS]


def read_feed(app: Ledger, after: int = 0, limit: int = 100,
              types: Sequence[str] | None = None, *, refresh: bool = True) -> FeedPage:
    """Up to `limit` account events after notification `after`, oldest first."""
    if refresh:
        app.refresh_views()
    topics = topics_for(types)
    stop = app.views.tracking_position()
    if not topics or stop <= after:
        return FeedPage([], False, after, max(after, stop))
    notifications = app.recorder.select_notifications(
        after, limit + 1, stop=stop, topics=topics, inclusive_of_start=False)
    more = len(notifications) > limit
    notifications = list(notifications[:limit])
    events = [(n.id, app.mapper.to_domain_event(n)) for n in notifications]
    ids = account_ids(app, {e.originator_id for _, e in events})
    rows = [feed_event(nid, e, ids.get(e.originator_id)) for nid, e in events]
    last = notifications[-1].id if notifications else after
    return FeedPage(rows, more, last, last if more else stop)


def feed_event(notification_id: int, event: Any, account_id: str | None) -> dict[str, Any]:
    data = with_failed_charge_id(
        event, {k: v for k, v in event_data(event).items() if k not in LEFT_OUT})
    return {
        "id": notification_id,
        "account_id": account_id,
        "version": event.originator_version,
        "name": type(event).__name__,
        "at": event.at,
        "recorded_at": event.timestamp,
        "principal": getattr(event, "principal", None),
        "data": data,
    }


def account_ids(app: Ledger, uids: set[UUID]) -> dict[UUID, str]:
    """Account ids by stream id, from the views (one query per 500)."""
    wanted = sorted(uids, key=str)
    found: dict[UUID, str] = {}
    views = app.views
    with views.read_transaction() as c:
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            marks = ", ".join("?" for _ in part)
            c.execute(views.sql("SELECT account_uuid, account_id FROM ledger_view_accounts"
                                f" WHERE account_uuid IN ({marks})"), [u.hex for u in part])
            for row in c.fetchall():
                values = list(row.values()) if isinstance(row, dict) else [row[0], row[1]]
                found[UUID(str(values[0]))] = str(values[1])
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def feed_json(event: dict[str, Any]) -> str:
    """The event as compact JSON (the exact bytes a webhook signs and sends)."""
    return json.dumps(event, default=_plain, separators=(",", ":"), ensure_ascii=False)
