"""The audit split by account over worker processes (`--workers N`) finds exactly what
one process finds, in the same order, on a store with tampering of every kind the
single-process audit reports (an edited event, a deleted row, a deleted command
record, an edited history row, an inserted notification at the end, and an anchor the
log no longer extends)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from ledger.account import account_uuid
from replay_tools.anchor import anchor_from, make_anchor
from replay_tools.audit import AuditReport, run_audit
from tests.replay.conftest import TEST_CLOCK, Raw, build_history
from tests.replay.helpers import audit, run
from tests.stores import file_or_postgres_store

TIMING = ("elapsed_s", "events_per_s", "workers")


def _audited(url: str, workers: int, anchors: list[Any]) -> tuple[AuditReport, list[int]]:
    led = Ledger.open(url, clock=TEST_CLOCK)
    pages: list[int] = []
    try:
        return run_audit(led, progress=pages.append, anchors=anchors,
                         workers=workers), pages
    finally:
        led.close()


def _comparable(report: AuditReport) -> dict[str, Any]:
    data = report.to_json()
    data["summary"] = {k: v for k, v in data["summary"].items() if k not in TIMING}
    return data


def _tamper(db: Path, raw: Raw) -> None:
    version = raw.version_of("fl-1", "ConnectsRefilled", nth=2)
    raw.set_state("fl-1", version, {**raw.state("fl-1", version), "quantity": 75})
    raw.delete("fl-4", raw.version_of("fl-4", "MembershipCharged"))
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = (SELECT rowid FROM stored_events"
                     " WHERE topic = 'ledger/CommandAccepted' ORDER BY rowid LIMIT 1 OFFSET 3)")
        conn.execute("UPDATE ledger_view_history SET state = '{}' WHERE account_uuid = ?"
                     " AND version = 2", (account_uuid("fl-2").hex,))
    last = raw.last_notification()
    raw.insert(account_uuid("fl-5").hex, 1000, "ledger/ConnectsGranted", b"{}")
    assert last[0] < raw.last_notification()[0]


@pytest.mark.parametrize("workers", [2, 3])
def test_the_split_audit_finds_what_one_process_finds_in_the_same_order(
        url: str, db: Path, raw: Raw, workers: int) -> None:
    # Given an anchor taken before the store was tampered with in six ways
    led = Ledger.open(url, clock=TEST_CLOCK)
    try:
        kept = make_anchor(led.recorder, led.mapper)
    finally:
        led.close()
    _tamper(db, raw)
    anchors = [anchor_from(kept, "a.json", None)]
    # When audited by one process and by several
    one, one_pages = _audited(url, 1, anchors)
    many, many_pages = _audited(url, workers, anchors)
    # Then the findings, their order and the summary are the same
    assert len(one.findings) >= 6
    assert {f.category for f in one.findings.items} == {"integrity", "rederive", "agreement"}
    assert _comparable(many) == _comparable(one)
    assert many.summary["workers"] == workers
    # and progress was reported for every notification
    assert sum(many_pages) == sum(one_pages) == one.summary["notifications"]


def test_the_command_line_takes_a_number_of_workers(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    raw.delete("fl-1", raw.version_of("fl-1", "EarningsPending"))
    code_one, one = audit(capsys, url, "--workers", "1")
    code_two, two = audit(capsys, url, "--workers", "2")
    assert code_one == code_two == 1
    assert one["findings"] == two["findings"]
    assert (one["summary"]["workers"], two["summary"]["workers"]) == (1, 2)
    code, _, err = run(capsys, "--store", url, "audit", "--workers", "0")
    assert code == 2 and "not a number of workers" in err


def test_the_split_audit_agrees_on_postgresql(tmp_path: Path) -> None:
    # A clean store of the known history on PostgreSQL (skipped when no server answers)
    for url in file_or_postgres_store("postgresql", tmp_path, "workers"):
        build_history(url)
        one, _ = _audited(url, 1, [])
        two, _ = _audited(url, 2, [])
        assert one.clean and two.clean
        assert _comparable(two) == _comparable(one)
        assert json.loads(json.dumps(two.summary))["accounts"] == 6
