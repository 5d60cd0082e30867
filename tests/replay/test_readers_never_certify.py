"""R-8.8: only a writer certifies what it wrote. A forged event with a correct prev_hash,
read by `ledger show` and `run-billing` afterwards, is still found by the audit (the
readers fold it into the views but add no checkpoint over it). Real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledger import Ledger
from ledger.account import account_uuid
from replay_tools.reference import event_hash
from tests.helpers import ledger_cli, replay_cli
from tests.replay.conftest import TEST_CLOCK, Raw


def forge_a_credit(url: str, raw: Raw, amount: str = "1000.00") -> int:
    """fl-1 gets a credit no command asked for, chained correctly to its last event."""
    app = Ledger.open(url, clock=TEST_CLOCK)
    try:
        stored = list(app.recorder.select_events(account_uuid("fl-1")))
        last = app.mapper.to_domain_event(stored[-1])
    finally:
        app.close()
    template = next(r for r in raw.rows("fl-1") if r[2] == "ledger/EarningsCredited")
    state: dict[str, Any] = json.loads(template[3])
    state["prev_hash"] = event_hash(last)
    state["at"]["_data_"] = last.at.isoformat()
    state["timestamp"]["_data_"] = "2030-12-31T00:00:00+00:00"
    state["amount"]["_data_"] = amount
    raw.insert(account_uuid("fl-1").hex, last.originator_version + 1,
               "ledger/EarningsCredited", json.dumps(state, separators=(",", ":")).encode())
    return last.originator_version + 1


def chain_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["category"] == "integrity"
            and ("checkpoint" in f["message"] or "log chain" in f["message"])]


def test_a_forged_event_read_by_show_and_run_billing_is_still_found(
        tmp_path: Path, url: str, raw: Raw) -> None:
    before = raw.table("ledger_log_chain")
    version = forge_a_credit(url, raw)
    shown = ledger_cli(tmp_path, "--store", url, "show", "fl-1", "--json")
    assert shown.returncode == 0, shown.stderr
    assert float(json.loads(shown.stdout)["earnings"]["available"]) > 1000  # folded, read
    assert raw.table("ledger_log_chain") == before  # ... and not certified
    billed = ledger_cli(tmp_path, "--store", url, "--clock", "2026-01-01", "run-billing",
                        "--through", "2016-12-01")
    assert billed.returncode in (0, 1), billed.stderr
    audit = replay_cli(tmp_path, "--store", url, "audit", "--json")
    assert audit.returncode == 1, audit.stderr
    report = json.loads(audit.stdout)
    assert chain_findings(report), report["findings"]
    assert any("fl-1" in f["message"] for f in chain_findings(report))  # names where to look
    del version


def test_reads_alone_leave_the_forgery_after_the_last_checkpoint(
        tmp_path: Path, url: str, raw: Raw) -> None:
    forge_a_credit(url, raw)
    for _ in range(2):
        assert ledger_cli(tmp_path, "--store", url, "show", "fl-1").returncode == 0
    report = json.loads(replay_cli(tmp_path, "--store", url, "audit", "--json").stdout)
    assert any("after the last checkpoint" in f["message"] for f in report["findings"])


def test_writers_still_certify_their_own_events(tmp_path: Path, url: str) -> None:
    # Given reads, then new commands, then more reads: the audit stays clean
    assert ledger_cli(tmp_path, "--store", url, "show", "fl-2").returncode == 0
    command = {"type": "credit_earnings", "account_id": "fl-2", "amount": "5.00",
               "at": "2026-01-01"}
    sent = ledger_cli(tmp_path, "--store", url, "--clock", "2026-01-02", "submit",
                      stdin=json.dumps(command))
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert ledger_cli(tmp_path, "--store", url, "show", "fl-2").returncode == 0
    audit = replay_cli(tmp_path, "--store", url, "audit", "--json")
    assert audit.returncode == 0, audit.stdout
