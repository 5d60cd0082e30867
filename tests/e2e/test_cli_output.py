"""What `ledger history`, `show` and `run-billing` print (R-8.6, R-8.9), as a user sees it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from ledger.cli_output import history_lines

CLOCK = "2016-06-01"
CARD = {"type": "add_billing_method", "account_id": "fl-1", "method_id": "m-1",
        "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
        "exp_year": 2030, "token": "tok_secret_abc", "at": "2016-03-03"}


def ledger(cwd: Path, *args: str, stdin: str | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", "--clock", CLOCK, *args],
                          input=stdin, capture_output=True, text=True, cwd=cwd, timeout=300,
                          check=False, env={**os.environ, **(env or {})})


def submit(cwd: Path, *commands: dict[str, object]) -> None:
    done = ledger(cwd, "submit", stdin="\n".join(json.dumps(c) for c in commands))
    assert done.returncode in (0, 1), done.stderr


def test_history_shows_both_times_in_100_columns_and_no_token(tmp_path: Path) -> None:
    submit(tmp_path, {"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
                      "at": "2016-03-01"}, CARD,
           {"type": "upgrade_plan", "account_id": "fl-1", "at": "2016-03-26"})
    text = ledger(tmp_path, "history", "fl-1")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert any("2016-03-03 00:00  recorded 2016-06-01 00:00  MethodAdded" in line
               for line in lines)
    as_json = ledger(tmp_path, "history", "fl-1", "--json").stdout
    assert "tok_secret_abc" not in text.stdout and "tok_secret_abc" not in as_json
    assert "token" not in as_json
    added = [json.loads(line) for line in as_json.splitlines()
             if json.loads(line)["name"] == "MethodAdded"]
    assert added[0]["data"]["last4"] == "4242"


def test_history_names_who_sent_a_command_and_why() -> None:
    row = {"version": 3, "name": "AccountSuspended",
           "at": datetime(2016, 3, 4, tzinfo=UTC), "recorded_at": datetime(2016, 3, 5, 9, 30,
                                                                         tzinfo=UTC),
           "principal": "cli:ops", "actor": "support-7", "reason": "chargeback\x1b[2J review",
           "data": {"command_id": "c-9", "principal": "cli:ops", "actor": "support-7",
                    "command_reason": "chargeback review"}}
    lines = history_lines(row)
    assert lines[0] == "     3  2016-03-04 00:00  recorded 2016-03-05 09:30  AccountSuspended"
    assert lines[1].strip() == r"by cli:ops as support-7: chargeback\x1b[2J review"
    assert len(lines) == 2  # who and why are not repeated among the data


def test_a_scheduled_fact_names_no_one() -> None:
    row = {"version": 4, "name": "ConnectsRefilled", "at": datetime(2016, 4, 1, tzinfo=UTC),
           "recorded_at": datetime(2016, 6, 1, tzinfo=UTC), "data": {"command_id": None,
                                                                     "granted": 60}}
    assert history_lines(row)[1:] == ["        granted=60"]


def test_a_closed_account_shows_no_next_billing_none(tmp_path: Path) -> None:
    submit(tmp_path, {"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
                      "at": "2016-03-01"},
           {"type": "close_account", "account_id": "fl-1", "at": "2016-03-02"})
    shown = ledger(tmp_path, "show", "fl-1")
    assert shown.returncode == 0, shown.stderr
    assert "None" not in shown.stdout and "closed" in shown.stdout


def test_run_billing_ends_its_progress_line_and_names_failed_payments(tmp_path: Path) -> None:
    # Given a Plus account whose card on file declines by its renewal date
    submit(tmp_path, {"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
                      "at": "2016-03-01"}, CARD,
           {"type": "upgrade_plan", "account_id": "fl-1", "at": "2016-03-03"},
           {**CARD, "method_id": "m-2", "token": "tok_decline_1", "at": "2016-03-04"},
           {"type": "make_primary_method", "account_id": "fl-1", "method_id": "m-2",
            "at": "2016-03-04"},
           {"type": "remove_billing_method", "account_id": "fl-1", "method_id": "m-1",
            "at": "2016-03-04"})
    done = ledger(tmp_path, "run-billing", "--through", "2016-04-05",
                  env={"LEDGER_PROGRESS": "1"})
    assert done.returncode == 0, done.stderr
    assert "billing 1 " in done.stderr and done.stderr.endswith("\n")  # line ended
    assert "payment failed (1, downgraded to basic): fl-1" in done.stdout
    report = json.loads(ledger(tmp_path, "run-billing", "--through", "2016-04-05",
                               "--json").stdout)
    assert report["payment_failed"] == []  # already billed: nothing due again
