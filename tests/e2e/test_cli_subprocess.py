"""The command line of INTERFACE.md, run as a real subprocess (R-8.3, R-8.4, R-2.2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CLOCK = "2016-06-01"


def ledger(tmp_path: Path, *args: str, stdin: str | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli", *args], input=stdin, capture_output=True,
        text=True, cwd=tmp_path, env={**os.environ, **(env or {})}, timeout=120, check=False)


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


COMMANDS = [
    {"type": "open_account", "account_id": "fl-1", "kind": "freelancer", "at": "2016-03-01",
     "command_id": "c-1"},
    {"type": "submit_proposal", "account_id": "fl-1", "proposal_id": "p-1", "job_id": "j-1",
     "connects": 6, "at": "2016-03-02", "command_id": "c-2"},
    {"type": "add_billing_method", "account_id": "fl-1", "method_id": "m-1", "method": "card",
     "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "token": "tok_v1",
     "prepaid": False, "at": "2016-03-03", "command_id": "c-3"},
    {"type": "upgrade_plan", "account_id": "fl-1", "at": "2016-03-26", "command_id": "c-4"},
    {"type": "remove_billing_method", "account_id": "fl-1", "method_id": "m-1",
     "at": "2016-03-27", "command_id": "c-5"},
]


def test_submit_show_history_and_billing_as_a_user_would(tmp_path: Path) -> None:
    # Given a file of JSON lines with one rejected command and one line that is not JSON
    path = tmp_path / "cmds.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in COMMANDS) + "\nnot json at all\n")
    # When it is submitted to the default store (sqlite:///ledger.db in the working folder)
    done = ledger(tmp_path, "--clock", CLOCK, "submit", str(path))
    # Then there is one result per line, the rejections carry stable codes, exit code 1
    results = lines(done.stdout)
    assert done.returncode == 1, done.stderr
    assert [r["ok"] for r in results] == [True, True, True, True, False, False]
    assert results[3]["events"] == ["PlanUpgraded", "MembershipCharged", "ConnectsGranted"]
    assert results[4]["error"]["code"] == "cannot_remove_primary"
    assert results[4]["error"]["rule"] == "R-2.4"
    assert results[5]["error"]["code"] == "validation_error"
    assert "Traceback" not in done.stderr and (tmp_path / "ledger.db").exists()
    # And sending the same file again applies nothing twice
    again = lines(ledger(tmp_path, "--clock", CLOCK, "submit", str(path)).stdout)
    assert [r["duplicate"] for r in again[:4]] == [True] * 4
    assert again[3]["events"] == results[3]["events"]
    # And show --json gives the account view: 54 + 10 + 25 days x 2 = 114
    view = json.loads(ledger(tmp_path, "--clock", CLOCK, "show", "fl-1", "--json").stdout)
    assert (view["plan"], view["billing_day"], view["next_billing_date"]) == (
        "plus", 26, "2016-04-26")
    assert view["billing_due"] == "2016-04-26"  # not recorded yet at the clock's now
    assert view["connects"] == 114 and view["version"] == 8
    # And as-of answers the past (R-4.4: Basic, first refill less one proposal)
    past = json.loads(ledger(tmp_path, "--clock", CLOCK, "show", "fl-1", "--as-of",
                             "2016-03-20", "--json").stdout)
    assert (past["plan"], past["connects"], past["version"]) == ("basic", 54, 5)
    # And run-billing records the renewals; the billing date is then no longer due
    billed = json.loads(ledger(tmp_path, "--clock", CLOCK, "run-billing", "--through",
                               "2016-05-31", "--json").stdout)
    assert billed["by_event"]["MembershipCharged"] == 2
    after = json.loads(ledger(tmp_path, "--clock", CLOCK, "show", "fl-1", "--json").stdout)
    assert "billing_due" not in after and after["next_billing_date"] == "2016-06-26"
    # And history lists every event with both times
    history = lines(ledger(tmp_path, "history", "fl-1", "--json").stdout)
    assert [h["version"] for h in history] == list(range(1, len(history) + 1))
    assert {"version", "name", "at", "recorded_at", "data"} <= set(history[0])
    assert history[0]["name"] == "AccountOpened"


def test_known_at_shows_what_the_ledger_knew_then(tmp_path: Path) -> None:
    # Given a command recorded on 2016-03-10 and one recorded on 2016-04-10, both about March
    first = json.dumps(COMMANDS[0])
    late = json.dumps({"type": "credit_earnings", "account_id": "fl-1", "amount": "12.50",
                       "at": "2016-03-15"})
    assert ledger(tmp_path, "--clock", "2016-03-10", "submit", stdin=first).returncode == 0
    assert ledger(tmp_path, "--clock", "2016-04-10", "submit", stdin=late).returncode == 0
    # When March 20 is asked as known on April 1 and as known now
    known = json.loads(ledger(tmp_path, "--clock", CLOCK, "show", "fl-1", "--as-of",
                              "2016-03-20", "--known-at", "2016-04-01", "--json").stdout)
    now = json.loads(ledger(tmp_path, "--clock", CLOCK, "show", "fl-1", "--as-of",
                            "2016-03-20", "--json").stdout)
    # Then only the later answer holds the late-recorded earnings
    assert known["earnings"]["available"] == "0.00" and known["known_at"] is not None
    assert now["earnings"]["available"] == "12.50"


def test_a_card_number_is_refused_and_never_printed(tmp_path: Path) -> None:
    bad = dict(COMMANDS[2], token="4111 1111 1111 1111", command_id="c-9")
    done = ledger(tmp_path, "--clock", CLOCK, "submit",
                  stdin=json.dumps(COMMANDS[0]) + "\n" + json.dumps(bad) + "\n")
    assert lines(done.stdout)[1]["error"]["code"] == "pan_not_allowed"
    assert "4111" not in done.stdout + done.stderr
    assert b"4111" not in (tmp_path / "ledger.db").read_bytes()


@pytest.mark.parametrize("args", [
    ["show"],  # missing ACCOUNT
    ["--store", "mysql://nope", "show", "fl-1"],
    ["submit", "/no/such/file.jsonl"],
    ["--policy", "/no/such/policy.json", "show", "fl-1"],
])
def test_bad_usage_exits_2_with_one_line(tmp_path: Path, args: list[str]) -> None:
    done = ledger(tmp_path, *args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.strip()


def test_policy_show_and_check(tmp_path: Path) -> None:
    shown = ledger(tmp_path, "policy", "show")
    catalog = json.loads(shown.stdout)
    assert [v["name"] for v in catalog["versions"]] == ["v2016", "v2019"]
    good = tmp_path / "p.json"
    good.write_text(shown.stdout)
    assert ledger(tmp_path, "policy", "check", str(good)).returncode == 0
    catalog["versions"][0]["last_billable_day"] = 31
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(catalog))
    refused = ledger(tmp_path, "policy", "check", str(bad))
    assert refused.returncode == 2 and "last_billable_day" in refused.stderr


def test_environment_variables_stand_in_for_the_options(tmp_path: Path) -> None:
    env = {"LEDGER_STORE": f"sqlite:///{tmp_path / 'env.db'}", "LEDGER_CLOCK": CLOCK}
    done = ledger(tmp_path, "submit", stdin=json.dumps(COMMANDS[0]), env=env)
    assert done.returncode == 0 and (tmp_path / "env.db").exists()
    future = dict(COMMANDS[1], at="2016-07-01")
    refused = lines(ledger(tmp_path, "submit", stdin=json.dumps(future), env=env).stdout)
    assert refused[0]["error"]["code"] == "future_dated"
