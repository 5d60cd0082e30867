"""Running the delivery worker: `ledger webhooks deliver [--once]` and the loop that
`ledger serve` starts in its lifespan (`start_delivery_loop`). Every process may run it;
one at a time per store delivers (webhooks.lock), the others wait for the lock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from webhooks.delivery import Deliverer, Tally
from webhooks.lock import WorkerLock

if TYPE_CHECKING:
    from ledger.application import Ledger

LOCK_RETRY_S = 1.0
ERROR_PAUSE_S = 5.0
log = logging.getLogger("ledger.webhooks")
LedgerSource = Callable[[], "Ledger"] | str | None


def _opener(source: LedgerSource) -> Callable[[], Ledger]:
    if callable(source):
        return source
    from ledger.application import Ledger

    return lambda: Ledger.open(source)


def deliver_once(app: Ledger, wait_s: float = 60.0) -> Tally | None:
    """One pass (first tries and due retries) once this process holds the worker lock;
    None when another worker kept it for `wait_s`."""
    lock = WorkerLock(app.store)
    stop = threading.Event()
    waited = 0.0
    while not lock.try_acquire():
        if waited >= wait_s:
            return None
        stop.wait(LOCK_RETRY_S)
        waited += LOCK_RETRY_S
    try:
        return Deliverer(app).run_once()
    finally:
        lock.release()


def deliver_forever(app: Ledger, stop: threading.Event, poll_s: float = 0.25) -> None:
    """Deliver until `stop` is set, taking the worker lock when it is free."""
    lock = WorkerLock(app.store)
    try:
        while not stop.is_set():
            try:
                if lock.try_acquire():
                    Deliverer(app).run_forever(stop, poll_s, still_allowed=lock.still_held)
                else:
                    stop.wait(LOCK_RETRY_S)
            except Exception as exc:  # the store went away for a while: try again later
                log.warning("webhook delivery paused: %s", type(exc).__name__)
                lock.release()
                stop.wait(ERROR_PAUSE_S)
    finally:
        lock.release()


def start_delivery_loop(source: LedgerSource, stop: threading.Event) -> threading.Thread:
    """For `ledger serve`: a daemon thread delivering with a Ledger of its own (a store
    URL, or a function that opens one) until `stop` is set; join it after setting."""

    def run() -> None:
        try:
            app = _opener(source)()
        except Exception as exc:
            log.error("webhook delivery cannot open the store: %s", type(exc).__name__)
            return
        try:
            deliver_forever(app, stop)
        finally:
            app.close()

    thread = threading.Thread(target=run, name="webhook-delivery", daemon=True)
    thread.start()
    return thread
