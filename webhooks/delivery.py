"""The delivery worker: first tries in feed order, due retries on their own schedule.

A pass gives each endpoint a task (in threads, so a slow receiver never holds the others
back): its due retries, then the first tries of the events after its position. Each
attempt is sent, then recorded in one transaction with the change it makes: the position
moved past the event (a first try), the retry scheduled, rescheduled or cleared, or the
endpoint disabled. A worker stopped at any moment therefore resumes without skipping an
event and without sending a delivered one again; an attempt whose answer was lost (the
worker died between the POST and the commit) is sent again, with the same webhook-id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.clock import FixedClock
from projections.feed import feed_event, feed_json, read_feed
from webhooks import metrics
from webhooks.endpoints import Endpoint, list_endpoints
from webhooks.retries import next_try
from webhooks.schema import cursor, ensure_tables, sql, values
from webhooks.sender import Answer, post
from webhooks.signing import sign

if TYPE_CHECKING:
    from ledger.application import Ledger

BATCH = 200
# Consecutive first tries that got no answer at all (a timeout, a refused connection):
# the rest waits for the next pass, so a dead receiver costs a few timeouts a pass, not
# one per event. A receiver that answers, even with an error, holds nothing back.
PAUSE_AFTER_FAILURES = 5
PARALLEL = 8
Send = Callable[[str, bytes, dict[str, str]], Answer]


class Superseded(Exception):
    """The row this attempt would change was changed by someone else (another worker,
    a deletion): the attempt is not recorded."""


@dataclass
class Tally:
    delivered: int = 0
    failed: int = 0
    disabled: list[str] = field(default_factory=list)
    lock = threading.Lock()

    def add(self, other: Tally) -> None:
        with self.lock:
            self.delivered += other.delivered
            self.failed += other.failed
            self.disabled += other.disabled

    def to_json(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "failed": self.failed, "disabled": self.disabled}


class Deliverer:
    def __init__(self, app: Ledger, *, send: Send | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.send: Send = send or (lambda url, body, headers: post(url, body, headers))
        self.wall_clock = wall_clock  # webhook-timestamp: what receivers compare with
        self.stopping = threading.Event()  # tasks stop between attempts once set
        self._looping_since: float | None = None  # set by run_forever
        self._resumed_at = 0.0  # the last attempt's time when the loop started
        ensure_tables(app)

    def now(self) -> float:
        """The ledger's clock, which a fixed clock moves (`deliver --once` under a
        later `--clock` fires the retries due by then). A long-running worker under a
        fixed clock (`serve --clock T`, `deliver --clock T`) adds the real time since
        its loop started, so it still retries about 5 s after a failure, not never."""
        moment = self.app.clock.now().timestamp()
        if self._looping_since is not None and isinstance(self.app.clock, FixedClock):
            # A restarted worker goes on from its last attempt, not from T again: the
            # retries scheduled by the last run stay about 5 s (1 min, ...) away.
            moment = max(moment, self._resumed_at) + time.monotonic() - self._looping_since
        return moment

    def _last_attempt_at(self) -> float:
        with cursor(self.app, commit=False) as c:
            c.execute(sql(self.app, "SELECT MAX(at) FROM ledger_webhook_attempts"))
            row = c.fetchone()
        last = values(row)[0] if row is not None else None
        return float(last) if last is not None else 0.0

    # -- passes --------------------------------------------------------------------

    def run_once(self) -> Tally:
        """One pass to the log's end: every first try and every due retry."""
        self.app.refresh_views()
        tally = Tally()
        endpoints = self.active_endpoints()
        with ThreadPoolExecutor(max_workers=max(1, min(PARALLEL, len(endpoints)))) as pool:
            for done in [pool.submit(self.endpoint_pass, e, True) for e in endpoints]:
                tally.add(done.result())
        return tally

    def run_forever(self, stop: threading.Event, poll_s: float = 0.25,
                    still_allowed: Callable[[], bool] = lambda: True) -> None:
        """Until `stop` is set: each endpoint's next task starts when its last one ends."""
        running: dict[str, Future[Tally]] = {}
        self.stopping = stop
        self._resumed_at = self._last_attempt_at()
        self._looping_since = time.monotonic()
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            while not stop.is_set() and still_allowed():
                self.app.refresh_views()
                for endpoint in self.active_endpoints():
                    task = running.get(endpoint.endpoint_id)
                    if task is None or task.done():
                        running[endpoint.endpoint_id] = pool.submit(
                            self.endpoint_pass, endpoint, True)
                stop.wait(poll_s)

    def active_endpoints(self) -> list[Endpoint]:
        return [e for e in list_endpoints(self.app) if not e.disabled_reason]

    def endpoint_pass(self, endpoint: Endpoint, to_end: bool) -> Tally:
        tally = Tally()
        try:
            self._retries(endpoint, tally)
            self._first_tries(endpoint, tally, to_end)
        except Superseded:
            pass
        self._gauges(endpoint)
        return tally

    def _retries(self, endpoint: Endpoint, tally: Tally) -> None:
        # A deletion or a disabling by another task shows as Superseded at the next
        # attempt's record (its rows changed), which ends this task.
        with cursor(self.app, commit=False) as c:
            c.execute(sql(self.app,
                          "SELECT notification_id, attempts, first_failed_at"
                          " FROM ledger_webhook_pending WHERE endpoint_id = ? AND next_at <= ?"
                          " ORDER BY next_at, notification_id LIMIT ?"),
                      (endpoint.endpoint_id, self.now(), BATCH))
            due = [values(r) for r in c.fetchall()]
        for notification_id, attempts, first_failed_at in due:
            if self.stopping.is_set():
                return
            event = self._event(int(notification_id))
            if event is None:  # the event cannot be read any more: nothing to send
                self._drop_pending(endpoint, int(notification_id))
                continue
            self._attempt(endpoint, event, int(attempts) + 1, float(first_failed_at), tally)
            if tally.disabled:
                return

    def _first_tries(self, endpoint: Endpoint, tally: Tally, to_end: bool) -> None:
        state = self._state(endpoint)
        if state is None or state[1]:
            return
        position = state[0]
        failures = 0
        while True:
            page = read_feed(self.app, position, BATCH, endpoint.types, refresh=False)
            for event in page.events:
                if self.stopping.is_set():
                    return
                answer = self._attempt(endpoint, event, 1, None, tally)
                if tally.disabled:
                    return
                failures = failures + 1 if answer.status is None else 0
                if failures >= PAUSE_AFTER_FAILURES:
                    return
            if page.scanned_to > page.last_id or not page.events:
                self._skip_to(endpoint, page.last_id, page.scanned_to)
            position = page.scanned_to
            if not page.has_more or not to_end:
                return

    # -- one attempt ---------------------------------------------------------------

    def _attempt(self, endpoint: Endpoint, event: dict[str, Any], attempt: int,
                 first_failed_at: float | None, tally: Tally) -> Answer:
        notification_id = int(event["id"])
        body = feed_json(event).encode()
        webhook_id, stamp = str(notification_id), int(self.wall_clock())
        answer = self.send(endpoint.url, body, {
            "webhook-id": webhook_id, "webhook-timestamp": str(stamp),
            "webhook-signature": sign(endpoint.secret, webhook_id, stamp, body)})
        now = self.now()
        next_at: float | None = None
        disable: str | None = None
        if not answer.ok:
            first = first_failed_at if first_failed_at is not None else now
            next_at = next_try(attempt, first, now)
            if next_at is None:
                disable = (f"event {notification_id} failed every try for 3 days "
                           f"({attempt} tries, the last: {answer.error})")
        self._record(endpoint, notification_id, attempt, now, answer, next_at,
                     first_failed_at, disable)
        if answer.ok:
            tally.delivered += 1
            metrics.DELIVERED.labels(endpoint.endpoint_id).inc()
            if attempt == 1:
                metrics.LATENCY.observe(max(0.0, time.time() - _recorded(event)))
        else:
            tally.failed += 1
            metrics.FAILED.labels(endpoint.endpoint_id).inc()
        if disable:
            tally.disabled.append(endpoint.endpoint_id)
            metrics.DISABLED.inc()
        return answer

    def _record(self, endpoint: Endpoint, notification_id: int, attempt: int, now: float,
                answer: Answer, next_at: float | None, first_failed_at: float | None,
                disable: str | None) -> None:
        eid = endpoint.endpoint_id
        app = self.app
        with cursor(app, commit=True) as c:
            c.execute(sql(app, "INSERT INTO ledger_webhook_attempts (endpoint_id,"
                               " notification_id, attempt, at, status, error, next_at)"
                               " VALUES (?, ?, ?, ?, ?, ?, ?)"),
                      (eid, notification_id, attempt, now, answer.status, answer.error or None,
                       next_at))
            if attempt == 1:
                c.execute(sql(app, "UPDATE ledger_webhook_endpoints SET position = ?"
                                   " WHERE endpoint_id = ? AND position < ?"
                                   " AND disabled_reason IS NULL"),
                          (notification_id, eid, notification_id))
                _changed_one(c)
                if not answer.ok:
                    c.execute(sql(app, "INSERT INTO ledger_webhook_pending (endpoint_id,"
                                       " notification_id, attempts, first_failed_at, next_at)"
                                       " VALUES (?, ?, 1, ?, ?)"),
                              (eid, notification_id, now, next_at if next_at else now))
            elif answer.ok:
                c.execute(sql(app, "DELETE FROM ledger_webhook_pending WHERE endpoint_id = ?"
                                   " AND notification_id = ? AND attempts = ?"),
                          (eid, notification_id, attempt - 1))
                _changed_one(c)
            else:
                c.execute(sql(app, "UPDATE ledger_webhook_pending SET attempts = ?,"
                                   " next_at = ? WHERE endpoint_id = ? AND notification_id = ?"
                                   " AND attempts = ?"),
                          (attempt, next_at if next_at else now, eid, notification_id,
                           attempt - 1))
                _changed_one(c)
            if disable:
                c.execute(sql(app, "UPDATE ledger_webhook_endpoints SET disabled_reason = ?,"
                                   " disabled_at = ? WHERE endpoint_id = ?"),
                          (disable, now, eid))

    # -- reads and small writes ----------------------------------------------------

    def _state(self, endpoint: Endpoint) -> tuple[int, str | None] | None:
        with cursor(self.app, commit=False) as c:
            c.execute(sql(self.app, "SELECT position, disabled_reason FROM"
                                    " ledger_webhook_endpoints WHERE endpoint_id = ?"),
                      (endpoint.endpoint_id,))
            row = c.fetchone()
        if row is None:
            return None
        position, reason = values(row)
        return int(position), reason

    def _skip_to(self, endpoint: Endpoint, after: int, scanned_to: int) -> None:
        """Move the position over notifications that do not match the endpoint's types."""
        with cursor(self.app, commit=True) as c:
            c.execute(sql(self.app, "UPDATE ledger_webhook_endpoints SET position = ?"
                                    " WHERE endpoint_id = ? AND position = ?"),
                      (scanned_to, endpoint.endpoint_id, after))

    def _drop_pending(self, endpoint: Endpoint, notification_id: int) -> None:
        with cursor(self.app, commit=True) as c:
            c.execute(sql(self.app, "DELETE FROM ledger_webhook_pending WHERE endpoint_id = ?"
                                    " AND notification_id = ?"),
                      (endpoint.endpoint_id, notification_id))

    def _event(self, notification_id: int) -> dict[str, Any] | None:
        found = self.app.recorder.select_notifications(notification_id, 1, stop=notification_id)
        if not found:
            return None
        event = self.app.mapper.to_domain_event(found[0])
        from projections.feed import account_ids

        ids = account_ids(self.app, {event.originator_id})
        return feed_event(notification_id, event, ids.get(event.originator_id))

    def _gauges(self, endpoint: Endpoint) -> None:
        app = self.app
        with cursor(app, commit=False) as c:
            c.execute(sql(app, "SELECT COUNT(*) FROM ledger_webhook_pending"
                               " WHERE endpoint_id = ?"), (endpoint.endpoint_id,))
            pending = int(values(c.fetchone())[0])
        state = self._state(endpoint)
        head = app.views.tracking_position()
        metrics.PENDING.labels(endpoint.endpoint_id).set(pending)
        metrics.LAG.labels(endpoint.endpoint_id).set(
            max(0, head - state[0]) if state is not None else 0)


def _changed_one(c: Any) -> None:
    count = getattr(c, "rowcount", None)
    if count is None:
        count = c.sqlite_cursor.rowcount
    if count != 1:
        raise Superseded


def _recorded(event: dict[str, Any]) -> float:
    recorded = event["recorded_at"]
    return recorded.timestamp() if isinstance(recorded, datetime) else datetime.now(UTC).timestamp()
