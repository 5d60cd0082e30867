"""A store written only by the ledger audits clean: every check, every category."""

from __future__ import annotations

import gc
import os
import sqlite3
import weakref
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from ledger.account import digest_of
from replay_tools.audit import run_audit
from replay_tools.log import digest
from tests.replay.helpers import audit, run
from tests.replay.scenario import build


def test_a_clean_store_audits_clean_with_exit_0(capsys: pytest.CaptureFixture[str],
                                                 url: str) -> None:
    code, report = audit(capsys, url)
    summary = report["summary"]
    assert report["findings"] == []
    assert code == 0
    assert summary["findings"] == 0
    assert set(summary["by_category"]) == {"integrity", "rederive", "invariant", "agreement"}
    assert summary["accounts"] == 6
    assert summary["views_compared"] == 6
    assert summary["notifications"] == (summary["account_events"] + summary["command_records"]
                                        + summary["policy_adoptions"])
    assert summary["policy_adoptions"] == 1  # the history is dated under v2016 only
    assert summary["checkpoints_checked"] > 0
    assert summary["events_per_s"] > 0


def test_the_human_report_has_a_summary_table(capsys: pytest.CaptureFixture[str],
                                              url: str) -> None:
    code, out, _ = run(capsys, "--store", url, "audit")
    assert code == 0
    for label in ("events read", "accounts", "integrity", "rederive", "invariant",
                  "agreement", "events/s"):
        assert label in out
    assert "clean" in out


def test_audit_through_an_instant_is_clean_on_a_clean_store(
        capsys: pytest.CaptureFixture[str], url: str) -> None:
    for through in ("2016-03-31", "2016-04-05T00:00:00Z", "2016-05-15"):
        code, report = audit(capsys, url, "--through", through)
        assert (code, report["findings"]) == (0, []), through
        assert report["summary"]["through"].startswith(through[:10])


def test_the_progress_bar_draws_on_stderr_when_forced(
        capsys: pytest.CaptureFixture[str], url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_PROGRESS", "1")
    code, _, err = run(capsys, "--store", url, "audit", "--json")
    assert code == 0
    assert "audit" in err and "/s" in err


def test_a_simulated_history_across_both_policy_versions_audits_clean(tmp_path: Path) -> None:
    # Given many kinds of accounts over the v2016 -> v2019 change, expiries by age included
    ledger = build(f"sqlite:///{tmp_path}/sim.db", 18, start="2019-02-01", days=470, seed=3)
    try:
        report = run_audit(ledger)
    finally:
        ledger.close()
    # Then nothing is found
    assert [f.line() for f in report.findings.items] == []
    assert report.summary["account_events"] > 500


@pytest.mark.skipif(not os.environ.get("REPLAY_SOAK"), reason="set REPLAY_SOAK=1 (slow)")
@pytest.mark.parametrize("seed", range(5))
def test_random_histories_audit_clean(tmp_path: Path, seed: int) -> None:
    ledger = build(f"sqlite:///{tmp_path}/sim.db", 40, start="2018-10-01", days=640, seed=seed)
    try:
        report = run_audit(ledger)
    finally:
        ledger.close()
    assert [f.line() for f in report.findings.items] == []


def test_the_audits_digest_is_the_ledgers(ledger: Ledger) -> None:
    # The audit hashes without the ledger's identity cache; the hash must be the same.
    notifications = ledger.recorder.select_notifications(0, 1000, inclusive_of_start=False)
    events = [ledger.mapper.to_domain_event(n) for n in notifications]
    assert len(events) > 100
    assert [digest(e) for e in events] == [digest_of(e) for e in events]


def test_the_audit_keeps_no_event_once_its_page_is_checked(ledger: Ledger,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Given every event the audit decodes is watched through a weak reference
    decode = ledger.mapper.to_domain_event
    watched: list[weakref.ref[Any]] = []

    def watching(notification: Any) -> Any:
        event = decode(notification)
        watched.append(weakref.ref(event))
        return event

    monkeypatch.setattr(ledger.mapper, "to_domain_event", watching)
    monkeypatch.setattr("replay_tools.log.PAGE", 50)
    # When the whole log is audited
    report = run_audit(ledger)
    gc.collect()
    # Then every event was read, and none is still alive (memory does not grow with the log)
    # (the history rows' check decodes each account's events once more)
    assert report.summary["notifications"] > 100
    assert len(watched) >= report.summary["notifications"]
    assert sum(ref() is not None for ref in watched) == 0


def test_a_notification_id_gap_is_not_tampering(capsys: pytest.CaptureFixture[str], url: str,
                                                db: Path) -> None:
    # Given a notification id consumed by an insert that did not last (as a PostgreSQL
    # sequence does for a failed insert) before a command's events: the command's rows,
    # its checkpoint and the tracking position moved one id up, leaving a hole
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0]
    ledger = Ledger.open(url, clock="2031-01-01T00:00:00Z")
    assert ledger.submit({"type": "credit_earnings", "account_id": "fl-2", "amount": "5.00",
                          "at": "2016-07-20"}).ok
    ledger.close()
    with sqlite3.connect(db) as conn:
        moved = [r[0] for r in conn.execute(
            "SELECT rowid FROM stored_events WHERE rowid > ? ORDER BY rowid DESC", (before,))]
        for rowid in moved:
            conn.execute("UPDATE stored_events SET rowid = rowid + 1 WHERE rowid = ?", (rowid,))
        conn.execute("UPDATE ledger_log_chain SET notification_id = notification_id + 1"
                     " WHERE notification_id > ?", (before,))
        conn.execute("UPDATE tracking SET notification_id = notification_id + 1")
    # and a writer after the hole
    ledger = Ledger.open(url, clock="2031-01-01T00:00:00Z")
    assert ledger.submit({"type": "credit_earnings", "account_id": "fl-2", "amount": "6.00",
                          "at": "2016-07-21"}).ok
    ledger.close()
    # When audited, Then it is clean: the chain runs over the ids that exist
    code, report = audit(capsys, url)
    assert (code, report["findings"], report["notes"]) == (0, [], [])
