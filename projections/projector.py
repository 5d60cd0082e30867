"""The projection that keeps every view, and its pull loop.

`AccountViewsProjection` is an eventsourcing `Projection`: `process_event` applies one
event with its tracking record. Pages of events are applied in one transaction with
their tracking record either inline, inside the transaction that stores the events
(ledger.recorders), or by the pull loop (`catch_up`), which reads pages of
notifications after the views' tracking position: that works on every store (SQLite
has no subscriptions), resumes where it stopped, and rebuilds dropped views.
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
from projections.views import CHECKPOINT_EVERY, HistoryRow, Row, ViewRecorderMixin, instant_key

PAGE = 500
Progress = Callable[[int], None]
Page = Sequence[tuple[int, Any]]  # (notification id, domain event)


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
        """One event, one transaction (a runner's path); the ledger batches instead."""
        with self.view._cursor(commit=True) as c:
            apply_page_in(self.view, c, [(tracking.notification_id, domain_event)], tracking,
                          self.view.tracking_position_in(c))


def apply_page_in(views: ViewRecorderMixin, c: Any, page: Page, tracking: Tracking,
                  previous_id: int) -> None:
    """Fold a page of events into the views and the log chain, with its tracking record.
    `previous_id` is the last notification already applied (ids may have gaps: a
    PostgreSQL sequence value taken by a rolled-back insert is never used)."""
    account_ids = sorted({e.originator_id for _, e in page if isinstance(e, Account.Event)},
                         key=str)
    touched: dict[UUID, Row] = views.rows_for_in(c, account_ids)
    history: list[HistoryRow] = []
    checkpoints: list[tuple[int, str]] = []
    head = views.chain_at_in(c, previous_id)
    for notification_id, event in page:
        head = chain(head, digest_of(event))
        if notification_id % CHECKPOINT_EVERY == 0:
            checkpoints.append((notification_id, head))
        if isinstance(event, Account.Event):
            row = fold_event(touched.get(event.originator_id), event)
            touched[event.originator_id] = row
            history.append(HistoryRow(event.originator_id, row.version, row.at_max,
                                      row.recorded_max, view_to_json(row.view)))
    if page[-1][0] % CHECKPOINT_EVERY:
        checkpoints.append((page[-1][0], head))
    views.write_batch_in(c, touched, history, checkpoints, tracking)


def apply_inline(views: ViewRecorderMixin, c: Any, page: Page) -> None:
    """Apply events inside the transaction that stores them, when the views have applied
    every notification before them; otherwise leave them to the pull loop."""
    position = views.tracking_position_in(c)
    if views.notifications_between_in(c, position, page[0][0]):
        return
    apply_page_in(views, c, page, Tracking(views.application_name, page[-1][0]), position)


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
            with views._cursor(commit=True) as c:
                apply_page_in(views, c, page, Tracking(views.application_name, page[-1][0]),
                              position)
        except IntegrityError:
            continue
        applied += len(page)
        if progress is not None:
            progress(len(page))
