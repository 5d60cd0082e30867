"""The projection that keeps every view, and its pull loop.

`AccountViewsProjection` is an eventsourcing `Projection`: `process_event` applies one
event with its tracking record. The pull loop (`catch_up`) reads pages of
notifications after the view's tracking position and applies each page in one
transaction, which works on every store (SQLite has no subscriptions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Mapper,
    Notification,
    Tracking,
)
from eventsourcing.projection import Projection

from ledger.account import Account, digest_of
from ledger.integrity import chain
from ledger.state import View
from projections.codec import view_to_json
from projections.views import (
    CHECKPOINT_EVERY,
    HistoryRow,
    Row,
    ViewRecorderMixin,
    instant_key,
)

PAGE = 500
Progress = Callable[[int], None]


def fold_event(row: Row | None, event: Account.Event) -> Row:
    """The next Row of an account after one of its events."""
    if row is None:
        row = Row(View(), 0, "", "")
    event.on_view(row.view)
    row.version = event.originator_version
    row.at_max = max(row.at_max, instant_key(event.at))
    row.recorded_max = max(row.recorded_max, instant_key(event.timestamp))
    return row


class AccountViewsProjection(Projection[ViewRecorderMixin]):  # type: ignore[type-var]
    name = "ledger_views"
    topics = ()

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """One event, one transaction (the runner's path); the pull loop batches instead."""
        apply_page(self.view, [(tracking.notification_id, domain_event)], tracking)


def apply_page(views: ViewRecorderMixin, page: Sequence[tuple[int, Any]],
               tracking: Tracking) -> None:
    touched: dict[UUID, Row] = {}
    history: list[HistoryRow] = []
    previous_id = page[0][0] - 1
    head = _chain_at(views, previous_id)
    checkpoints: list[tuple[int, str]] = []
    account_ids = {e.originator_id for _, e in page if isinstance(e, Account.Event)}
    touched.update(views.rows_for(sorted(account_ids, key=str)))
    for notification_id, event in page:
        head = chain(head, digest_of(event))
        if notification_id % CHECKPOINT_EVERY == 0:
            checkpoints.append((notification_id, head))
        if not isinstance(event, Account.Event):
            continue
        uid = event.originator_id
        row = fold_event(touched.get(uid), event)
        touched[uid] = row
        history.append(HistoryRow(uid, row.version, row.at_max, row.recorded_max,
                                  view_to_json(row.view)))
    last_id = page[-1][0]
    if last_id % CHECKPOINT_EVERY:
        checkpoints.append((last_id, head))
    views.write_batch(touched, history, checkpoints, tracking)


def _chain_at(views: ViewRecorderMixin, notification_id: int) -> str:
    if notification_id <= 0:
        return ""
    return views.log_checkpoints_at(notification_id)


def catch_up(views: ViewRecorderMixin, recorder: ApplicationRecorder, mapper: Mapper[UUID],
             progress: Progress | None = None, page_size: int = PAGE) -> int:
    """Apply every notification after the views' position; returns how many were applied.

    Another process applying the same page first makes our tracking insert fail: we
    then re-read the position and carry on from there.
    """
    applied = 0
    while True:
        position = views.tracking_position()
        notifications: Sequence[Notification] = recorder.select_notifications(
            position, page_size, inclusive_of_start=False)
        if not notifications:
            return applied
        page = [(n.id, mapper.to_domain_event(n)) for n in notifications]
        try:
            apply_page(views, page, Tracking(views.application_name, page[-1][0]))
        except IntegrityError:
            continue
        applied += len(page)
        if progress is not None:
            progress(len(page))

