"""A worker killed (SIGKILL) at random moments resumes without skipping an event and
without resending a delivered one; a slow receiver does not hold back the others."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.webhooks.conftest import cli_args, create, feed_after, ledger, ok, open_accounts
from tests.webhooks.receiver import Receiver

KILLS = 10
EVENTS = 2000


def _worker(url: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(cli_args(url, "webhooks", "deliver"), text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_a_worker_killed_ten_times_skips_nothing_and_resends_only_lost_answers(
        url: str) -> None:
    rng = random.Random(12)
    with Receiver() as receiver:
        _, receiver.secret = create(url, receiver.url)
        open_accounts(url, 0, EVENTS // 2)  # 2 events each
        expected = [str(e["id"]) for e in feed_after(url)]
        assert len(expected) == EVENTS
        # When a worker is killed at random moments while it delivers, and restarted
        kills = 0
        while kills < KILLS:
            worker = _worker(url)
            before = sum(receiver.attempts.values())
            # once it is sending (its start-up takes a while), at a random moment
            _wait_for(lambda b=before: sum(receiver.attempts.values()) > b, 30)
            time.sleep(rng.uniform(0.0, 0.4))
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            kills += 1
        received_while_killing = len(receiver.events)
        # And a last pass finishes the job
        ok(ledger(url, "webhooks", "deliver", "--once"))
        # Then every event arrived, in feed order of first arrival, signatures valid,
        # and copies beyond the first only for attempts whose answer was lost in a kill
        assert receiver.order == expected
        assert receiver.bad_signatures == 0
        duplicates = sum(n - 1 for n in receiver.copies.values())
        print(f"\n{KILLS} kills, {received_while_killing} events delivered before the last "
              f"pass, {duplicates} duplicate deliveries (answers lost in a kill)")
        assert duplicates <= KILLS
        assert received_while_killing > 0  # the kills really happened mid-stream


def test_a_slow_receiver_does_not_hold_back_the_others(url: str) -> None:
    with Receiver() as slow, Receiver() as fast:
        slow.secret = create(url, slow.url)[1]
        fast.secret = create(url, fast.url)[1]
        slow.slow = 30.0
        open_accounts(url, 0, 10)
        # When a worker delivers with a 20 s timeout, the slow receiver answering nothing
        worker = _worker(url, {"LEDGER_WEBHOOK_TIMEOUT": "20"})
        try:
            # Then the fast receiver has every event long before the slow one times out
            assert _wait_for(lambda: len(fast.events) == 20, 15), len(fast.events)
            assert slow.events == {}
        finally:
            worker.kill()
            worker.wait(timeout=30)
        assert fast.bad_signatures == 0


def test_a_second_worker_waits_while_one_delivers(url: str) -> None:
    with Receiver() as receiver:
        receiver.secret = create(url, receiver.url)[1]
        worker = _worker(url)
        try:
            time.sleep(1.5)  # let it take the lock
            done = ledger(url, "webhooks", "deliver", "--once",
                          env={"LEDGER_WEBHOOK_LOCK_WAIT": "1"})
            assert done.returncode == 0 and "another worker" in done.stderr
            started = time.monotonic()  # by default it waits about 10 s, then says so
            done = ledger(url, "webhooks", "deliver", "--once")
            assert done.returncode == 0 and "another worker" in done.stderr
            assert 8 < time.monotonic() - started < 25
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        assert json.loads(ok(ledger(url, "webhooks", "deliver", "--once")))["failed"] == 0


def test_a_worker_under_a_fixed_clock_still_retries_about_5_s_later(url: str) -> None:
    """`--clock T` fixes the ledger's "now"; a long-running worker adds the real time
    since it started to it, so a failed delivery is retried on the first step of the
    schedule (about 5 s) instead of never."""
    with Receiver() as receiver:
        _, receiver.secret = create(url, receiver.url)
        open_accounts(url, 0, 1)
        first = str(feed_after(url)[0]["id"])
        receiver.fail_first[first] = 1
        worker = _worker(url)
        try:
            assert _wait_for(lambda: receiver.attempts[first] >= 1, 30)
            tried = time.monotonic()
            assert _wait_for(lambda: first in receiver.events, 30), receiver.attempts
            waited = time.monotonic() - tried
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert receiver.attempts[first] == 2 and 3 <= waited <= 20, (receiver.attempts, waited)


def test_a_restarted_worker_under_a_fixed_clock_keeps_the_retry_schedule(url: str) -> None:
    """The worker's time under `--clock T` goes on from its last attempt after a restart,
    so a retry due about 5 s after a failure is not pushed back by the last run's length."""
    with Receiver() as receiver:
        _, receiver.secret = create(url, receiver.url)
        worker = _worker(url)
        try:
            time.sleep(14)  # the worker's time is now about T + 14 s
            open_accounts(url, 0, 1)
            first = str(feed_after(url)[0]["id"])
            receiver.fail_first[first] = 1
            assert _wait_for(lambda: receiver.attempts[first] >= 1, 30)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        restarted = time.monotonic()
        worker = _worker(url)
        try:
            assert _wait_for(lambda: first in receiver.events, 30), receiver.attempts
            waited = time.monotonic() - restarted
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    # Due about 5 s after the failure (plus the new worker's start): well before the
    # 14 s the first run had lasted, which a restart from T would add.
    assert waited < 12, waited
