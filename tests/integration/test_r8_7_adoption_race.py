"""R-8.7 under concurrent writers: two processes deciding at once under versions nobody
adopted yet record each adoption once, and neither fails (the loser of the race on the
adoption stream retries like any write conflict). On a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ledger import Ledger
from tests.integration.checks import CLOCK, audit_exit, check_log, decoded_log
from tests.integration.test_concurrency import run_workers
from tests.integration.workers import concurrent as workers

pytestmark = pytest.mark.slow


def adopted_names(led: Ledger) -> list[str]:
    return [e.name for _, e in decoded_log(led) if type(e).__name__ == "PolicyVersionAdopted"]


@pytest.fixture
def ledger_on(url: str) -> Iterator[Ledger]:
    led = Ledger.open(url, clock=CLOCK)  # the tables exist before the race
    yield led
    led.close()


def opens(worker: int, n: int, at: str) -> list[dict[str, Any]]:
    return [{"type": "open_account", "account_id": f"fl-{worker}-{i}", "kind": "freelancer",
             "at": at, "command_id": f"c-{worker}-{i}"} for i in range(n)]


def test_r8_7_two_writers_adopting_at_once_record_each_version_once(
        url: str, ledger_on: Ledger) -> None:
    # Given an empty store, when a one-at-a-time writer and a batch writer decide at once
    payloads = [{"commands": opens(0, 6, "2020-03-01")},
                {"commands": opens(1, 6, "2020-03-01"), "chunk": 3}]
    reports = run_workers(workers.submit_all, url, payloads)
    # Then every command is accepted and the one version they were decided under
    # (v2019, in force in 2020) is adopted exactly once
    results = [r for rep in reports for r in rep["results"]]
    assert [r["ok"] for r in results] == [True] * 12, [r for r in results if not r["ok"]]
    led = Ledger.open(url, clock=CLOCK)
    try:
        assert adopted_names(led) == ["v2019"]
        check_log(led)
    finally:
        led.close()
    assert audit_exit(url) in (0, None)


def test_r8_7_two_billing_runs_adopting_an_old_store_at_once_record_each_version_once(
        url: str, ledger_on: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a store written before adoptions were recorded (accounts opened in 2019)
    with monkeypatch.context() as m:
        m.setattr(Ledger, "_adopting", lambda self, aggregates: None)
        for command in opens(9, 20, "2019-01-05"):
            assert ledger_on.submit(command).ok
    assert adopted_names(ledger_on) == []
    # When two billing runs bill it through v2019 at once
    reports = run_workers(workers.bill, url, ["2019-06-01", "2019-06-01"])
    # Then neither fails, and v2016 and v2019 are adopted once each
    assert all(rep["report"]["failed"] == [] for rep in reports), reports
    led = Ledger.open(url, clock=CLOCK)
    try:
        assert adopted_names(led) == ["v2016", "v2019"]
        check_log(led)
    finally:
        led.close()
    assert audit_exit(url) in (0, None)
