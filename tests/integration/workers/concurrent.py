"""Worker bodies for tests/integration/test_concurrency.py, run in `spawn` processes.

Each worker opens its own Ledger (never shares one with its parent), waits at a barrier
so that all start at once, does its part, and puts a JSON-able report on a queue.
"""

from __future__ import annotations

import traceback
from typing import Any

CLOCK = "2031-01-01T00:00:00Z"


def _report(queue: Any, worker: int, **fields: Any) -> None:
    queue.put({"worker": worker, **fields})


def submit_all(url: str, worker: int, payload: dict[str, Any], barrier: Any,
               queue: Any) -> None:
    """Open the ledger, wait for the others, submit every command in order: one at a
    time, or through the batch path (`submit_many`) in chunks when payload["chunk"]."""
    try:
        from ledger import Ledger

        commands: list[dict[str, Any]] = payload["commands"]
        chunk: int = payload.get("chunk", 0)
        led = Ledger.open(url, clock=CLOCK)
        barrier.wait(timeout=60)
        results: list[dict[str, Any]] = []
        step = chunk or 1
        for start in range(0, len(commands), step):
            part = commands[start:start + step]
            try:
                if chunk:
                    results += [r.to_json() for r in led.submit_many(part)]
                else:
                    results.append(led.submit(part[0]).to_json())
            except Exception as exc:  # reported, and the test fails on it
                results += [{"command_id": c.get("command_id"), "exception":
                             f"{type(exc).__module__}.{type(exc).__name__}: {exc}"}
                            for c in part]
        led.close()
        _report(queue, worker, results=results)
    except BaseException:
        _report(queue, worker, crash=traceback.format_exc())


def bill(url: str, worker: int, through: str, barrier: Any, queue: Any) -> None:
    try:
        from ledger import Ledger

        led = Ledger.open(url, clock=CLOCK)
        barrier.wait(timeout=60)
        report = led.run_billing(through=through)
        led.close()
        _report(queue, worker, report=report)
    except BaseException:
        _report(queue, worker, crash=traceback.format_exc())


def open_then_submit(urls: list[str], worker: int, command: dict[str, Any], barrier: Any,
                     queue: Any) -> None:
    """Round after round, start at once with the others on a store with no tables yet."""
    try:
        from ledger import Ledger  # imported before the barrier: only the opening races
    except BaseException:
        _report(queue, worker, crash=traceback.format_exc())
        return
    outcomes: list[Any] = []
    for url in urls:
        barrier.wait(timeout=120)  # the parent has emptied the store
        try:
            led = Ledger.open(url, clock=CLOCK)
            outcomes.append(led.submit(command).to_json())
            led.close()
        except BaseException as exc:
            outcomes.append({"crash": f"{type(exc).__module__}.{type(exc).__name__}: {exc}"})
        barrier.wait(timeout=120)  # the parent checks the round
    _report(queue, worker, outcomes=outcomes)
