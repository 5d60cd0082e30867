"""The projection that keeps every view, and its pull loop.

`AccountViewsProjection` is an eventsourcing `Projection`: `process_event` applies one
event with its tracking record. Pages of events are applied in one transaction with
their tracking record either inline, inside the transaction that stores the events
(ledger.recorders), or by the pull loop (`catch_up`), which reads pages of
notifications after the views' tracking position: that works on every store (SQLite
has no subscriptions), resumes where it stopped, and rebuilds dropped views.

Only a writer certifies (R-8.8): the log chain's checkpoints are written by the inline
path, inside the transaction that stores the events they cover. The pull loop is what
readers run (`ledger show`, queries, the billing run's read path, rebuilds): it folds
the views and moves the tracking position but never adds a checkpoint, so a row
inserted behind the ledger's back stays uncertified however often it is read. A writer
whose events follow uncertified notifications does not chain over them either: it
starts from the last checkpoint it can find at its position ("" when there is none),
so the audit's recomputed chain disagrees there and names the segment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Mapper,
    Tracking,
)
from eventsourcing.projection import Projection

from ledger.account import Account, digest_of
from ledger.integrity import chain
from ledger.state import View
from projections.codec import view_to_json
from projections.memory import CommittedRow
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
        try:
            with self.view.write_transaction() as c:
                apply_page_in(self.view, c, [(tracking.notification_id, domain_event)],
                              tracking, self.view.tracking_position_in(c), certify=False)
        except BaseException:
            self.view.memory.discard()
            raise
        self.view.memory.committed()


def apply_page_in(views: ViewRecorderMixin, c: Any, page: Page, tracking: Tracking,
                  previous_id: int, head: str | None = None, *, certify: bool) -> None:
    """Fold a page of events into the views, with its tracking record, and (`certify`:
    the writer's own events, in their own transaction) into the log chain.
    `previous_id` is the last notification already applied (ids may have gaps: a
    PostgreSQL sequence value taken by a rolled-back insert is never used), `head` the
    log chain there when known."""
    touched = _rows_before(views, c, page)
    history: list[HistoryRow] = []
    checkpoints: list[tuple[int, str]] = []
    if certify and head is None:
        head = views.chain_at_in(c, previous_id)
    for notification_id, event in page:
        if head is not None:
            head = chain(head, digest_of(event))
            if notification_id % CHECKPOINT_EVERY == 0:
                checkpoints.append((notification_id, head))
        if isinstance(event, Account.Event):
            row = fold_event(touched.get(event.originator_id), event)
            touched[event.originator_id] = row
            history.append(HistoryRow(event.originator_id, row.version, row.at_max,
                                      row.recorded_max, view_to_json(row.view)))
    if head is not None and page[-1][0] % CHECKPOINT_EVERY:
        checkpoints.append((page[-1][0], head))
    latest = {h.account_uuid: h for h in history}  # the last row of each account
    views.write_batch_in(c, touched, history, checkpoints, tracking,
                         {uid: h.state for uid, h in latest.items()})
    # A reader's page leaves the remembered head behind: the next writer reads it back.
    views.memory.stage((page[-1][0], head) if head is not None else None, {
        uid: CommittedRow(h.version, h.at_max, h.recorded_max, h.state)
        for uid, h in latest.items()})


def _rows_before(views: ViewRecorderMixin, c: Any, page: Page) -> dict[UUID, Row]:
    """Each account's row before its first event in the page: from memory, else read."""
    first: dict[UUID, int] = {}
    for _, event in page:
        if isinstance(event, Account.Event):
            first.setdefault(event.originator_id, event.originator_version)
    rows: dict[UUID, Row] = {}
    unknown = []
    for uid, version in first.items():
        row = views.memory.row_before(uid, version) if version > 1 else None
        if row is not None:
            rows[uid] = row
        elif version > 1:
            unknown.append(uid)
    rows.update(views.rows_for_in(c, sorted(unknown, key=str)))
    return rows


def apply_inline(views: ViewRecorderMixin, c: Any, page: Page) -> None:
    """Apply events inside the transaction that stores them, when the views have applied
    every notification before them; otherwise leave them to the pull loop."""
    position = views.tracking_position_in(c)
    tracking = Tracking(views.application_name, page[-1][0])
    known = views.memory.head
    if known is not None and known[0] == position == page[0][0] - 1:
        apply_page_in(views, c, page, tracking, position, known[1], certify=True)
        return
    if views.notifications_between_in(c, position, page[0][0]):
        return
    apply_page_in(views, c, page, tracking, position, certify=True)


def catch_up(views: ViewRecorderMixin, recorder: ApplicationRecorder, mapper: Mapper[UUID],
             progress: Progress | None = None, page_size: int = PAGE, *,
             lock: bool = True) -> int:
    """Apply every notification after the views' position; returns how many were applied.

    Whether there is anything to apply is asked without a lock (the usual answer: no,
    the writers fold inline). A page is applied in a transaction that first takes the
    writers' lock (`lock_writers_in`), then reads the position and the page in that
    transaction: it is in the writers' lock order (events, then the views' rows, then
    the tracking row) and nothing can commit between the read and the write. `lock`
    False: tables no writer touches (a rebuild's shadow), folded without stopping them
    (on PostgreSQL; SQLite has one write lock, held for one page).
    """
    applied = 0
    while True:
        position = views.tracking_position()
        if not recorder.select_notifications(position, 1, inclusive_of_start=False):
            return applied
        try:
            with views.write_transaction() as c:
                if lock:
                    views.lock_writers_in(c)
                else:
                    views.begin_write_in(c)
                count = apply_next_page_in(views, c, mapper, page_size)
        except IntegrityError:  # an unlocked pull racing another (lock=False only)
            views.memory.discard()
            continue
        except BaseException:
            views.memory.discard()
            raise
        views.memory.committed()
        if not count:
            return applied
        applied += count
        if progress is not None:
            progress(count)


def apply_next_page_in(views: ViewRecorderMixin, c: Any, mapper: Mapper[UUID],
                       page_size: int = PAGE) -> int:
    """Fold the page after the views' position, read in this transaction; its size."""
    position = views.tracking_position_in(c)
    notifications = views.notifications_after_in(c, position, page_size)
    if not notifications:
        return 0
    page = [(n.id, mapper.to_domain_event(n)) for n in notifications]
    apply_page_in(views, c, page, Tracking(views.application_name, page[-1][0]), position,
                  certify=False)
    return len(page)
