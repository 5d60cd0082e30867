"""A store written only by the ledger audits clean: every check, every category."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from replay_tools.audit import run_audit
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
    assert summary["notifications"] == summary["account_events"] + summary["command_records"]
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
