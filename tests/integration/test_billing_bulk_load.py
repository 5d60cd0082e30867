"""The billing run loads a chunk of due accounts with one query: a process that starts
cold (nothing in memory) must record exactly what the process that wrote them does."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from replay_tools.audit import run_audit
from tests.helpers import TEST_CLOCK

START = "2021-01-04"


def _populate(led: Ledger, accounts: int) -> list[str]:
    ids = [f"fl-{i}" for i in range(accounts)]
    cmds: list[dict[str, Any]] = []
    for i, acct in enumerate(ids):
        cmds.append({"type": "open_account", "account_id": acct, "kind": "freelancer",
                     "at": START})
        if i % 3 == 0:
            cmds.append({"type": "add_billing_method", "account_id": acct, "method_id": "m1",
                         "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
                         "exp_year": 2030, "token": f"tok_{i}", "at": START})
            cmds.append({"type": "upgrade_plan", "account_id": acct, "at": "2021-01-05"})
        if i % 2 == 0:
            cmds.append({"type": "submit_proposal", "account_id": acct, "proposal_id": "p1",
                         "job_id": "j1", "connects": 2, "at": "2021-01-06"})
    assert all(r.ok for r in led.submit_many(cmds))
    return ids


def _histories(led: Ledger, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    return {a: led.history(a) for a in ids}


def test_a_cold_billing_run_records_what_the_writer_would(tmp_path: Path) -> None:
    warm_url, cold_path = f"sqlite:///{tmp_path / 'warm.db'}", tmp_path / "cold.db"
    writer = Ledger.open(warm_url, clock=TEST_CLOCK)
    ids = _populate(writer, 1200)  # more than one chunk of the billing run
    with sqlite3.connect(tmp_path / "warm.db") as src, sqlite3.connect(cold_path) as dst:
        src.backup(dst)
    warm = writer.run_billing(through="2021-04-10")
    cold_ledger = Ledger.open(f"sqlite:///{cold_path}", clock=TEST_CLOCK)
    cold = cold_ledger.run_billing(through="2021-04-10")
    assert cold == warm and warm["accounts"] == len(ids)
    assert _histories(cold_ledger, ids) == _histories(writer, ids)
    assert [cold_ledger.account(a) for a in ids] == [writer.account(a) for a in ids]


@pytest.mark.parametrize("accounts", [40])
def test_a_cold_billing_run_audits_clean_on_every_store(store: str, accounts: int) -> None:
    writer = Ledger.open(store, clock=TEST_CLOCK)  # kept open: a memory store lives with it
    ids = _populate(writer, accounts)
    cold = Ledger.open(store, clock=TEST_CLOCK)
    report = cold.run_billing(through="2021-04-10")
    assert report["accounts"] == len(ids)
    assert not run_audit(cold).findings.items
