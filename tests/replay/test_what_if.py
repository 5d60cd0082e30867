"""`ledger-replay what-if` (issue 14): the accepted commands decided again under another
catalog in a scratch store; the unchanged catalog gives no difference at all, also on a
store not billed up to its last day: both sides are compared on one day (`through`), with
every scheduled fact due by then recorded on each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from ledger.policy import default_catalog
from tests.helpers import CARD


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return subprocess.run([sys.executable, "-m", *args], text=True, capture_output=True,
                          cwd=tmp_path, env=env, timeout=600, check=False)


def write_catalog(path: Path, plus_price: str | None = None) -> Path:
    data: dict[str, Any] = default_catalog().model_dump(mode="json")
    if plus_price is not None:
        for version in data["versions"]:
            version["plans"]["freelancer"]["plus"]["price"] = plus_price
    path.write_text(json.dumps(data))
    return path


@pytest.mark.slow
def test_the_unchanged_catalog_gives_no_difference_on_the_demo_store(tmp_path: Path) -> None:
    demo = cli(tmp_path, "ledger.cli", "demo", "--accounts", "120", "--months", "8")
    assert demo.returncode == 0, demo.stderr
    same = write_catalog(tmp_path / "same.json")
    done = cli(tmp_path, "replay_tools.cli", "what-if", "--policy", str(same), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["commands"] > 300 and report["commands_without_body"] == 0
    assert report["same"] is True, {k: report[k] for k in ("refused", "accounts")}
    assert report["accounts"] == [] and report["refused"] == {}


def test_a_higher_plus_price_gives_the_hand_checked_revenue_difference(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    led = Ledger.open(url, clock="2016-06-10")
    card = {"method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
            "exp_year": 2030, "prepaid": False}
    for i in (1, 2):
        a = f"fl-{i}"
        for cmd in ({"type": "open_account", "kind": "freelancer", "at": "2016-03-01"},
                    {"type": "add_billing_method", "method_id": "m-1", "token": f"tok_{i}",
                     "at": "2016-03-02", **card},
                    {"type": "upgrade_plan", "at": "2016-03-03"}):
            assert led.submit({**cmd, "account_id": a, "command_id": f"{a}-{cmd['type']}"}).ok
    led.run_billing(through="2016-06-03")  # renewals on 04-03, 05-03, 06-03
    led.close()
    # Under v2016 Plus is 10.00: 2 accounts x (upgrade + 3 renewals) = 80.00 recorded.
    pricier = write_catalog(tmp_path / "pricier.json", plus_price="12.50")
    done = cli(tmp_path, "replay_tools.cli", "--store", url, "--clock", "2016-06-10",
               "what-if", "--policy", str(pricier), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    method = report["totals"]["revenue"]["method"]
    assert (method["recorded"], method["what_if"], method["difference"]) == (
        "80.00", "100.00", "20.00")
    assert {r["account_id"]: r["charged"] for r in report["accounts"]} == {
        "fl-1": {"recorded": "40.00", "what_if": "50.00"},
        "fl-2": {"recorded": "40.00", "what_if": "50.00"}}
    # From May on only: the two June renewals... and May's: 4 charges x 2.50.
    done = cli(tmp_path, "replay_tools.cli", "--store", url, "--clock", "2016-06-10",
               "what-if", "--policy", str(pricier), "--from", "2016-05-01", "--json")
    report = json.loads(done.stdout)
    assert report["totals"]["revenue"]["method"]["difference"] == "10.00"
    text = cli(tmp_path, "replay_tools.cli", "--store", url, "--clock", "2016-06-10",
               "what-if", "--policy", str(pricier))
    assert "difference" in text.stdout and "fl-1" in text.stdout


# ------------------------------------------------- the comparison day (not billed stores)


def submit_file(tmp_path: Path, url: str, clock: str, commands: list[dict[str, Any]],
                name: str = "cmds.jsonl") -> None:
    """`ledger submit` as an operator runs it; no billing run."""
    path = tmp_path / name
    path.write_text("".join(json.dumps(c) + "\n" for c in commands))
    done = cli(tmp_path, "ledger.cli", "--store", url, "--clock", clock, "submit", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def what_if_json(tmp_path: Path, url: str, clock: str, policy: Path,
                 *extra: str) -> dict[str, Any]:
    done = cli(tmp_path, "replay_tools.cli", "--store", url, "--clock", clock, "what-if",
               "--policy", str(policy), "--json", *extra)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def history_rows(tmp_path: Path, url: str, account_id: str) -> list[str]:
    done = cli(tmp_path, "ledger.cli", "--store", url, "--clock", "2016-06-15", "history",
               account_id, "--json")
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


# fl-1 goes Plus on 2016-03-26 (renewal due 2016-04-26); the last command is fl-2's on
# 2016-05-02. Nothing bills fl-1 after its upgrade: its renewal is due but not recorded.
NOT_BILLED: list[dict[str, Any]] = [
    {"type": "open_account", "account_id": "fl-1", "kind": "freelancer", "at": "2016-03-01"},
    {"type": "add_billing_method", "account_id": "fl-1", "method_id": "m-1",
     "token": "tok_visa_1", "at": "2016-03-03", **CARD},
    {"type": "upgrade_plan", "account_id": "fl-1", "at": "2016-03-26"},
    {"type": "open_account", "account_id": "fl-2", "kind": "freelancer", "at": "2016-05-01"},
    {"type": "submit_proposal", "account_id": "fl-2", "proposal_id": "p-1", "job_id": "j-1",
     "connects": 6, "at": "2016-05-02"},
]


def test_the_unchanged_catalog_gives_no_difference_on_a_store_not_billed_to_its_last_day(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nb.db'}"
    submit_file(tmp_path, url, "2016-06-15", NOT_BILLED)
    before = history_rows(tmp_path, url, "fl-1")
    same = write_catalog(tmp_path / "same.json")
    report = what_if_json(tmp_path, url, "2016-06-15", same)
    assert report["same"] is True, {k: report[k] for k in ("refused", "accounts", "totals")}
    assert report["accounts"] == [] and report["refused"] == {}
    # Compared on the log's last effective day; fl-1's renewal of 2016-04-26 was due
    # there, not recorded in the store: caught up on a copy, on both sides alike.
    assert report["through"] == "2016-05-02" and report["recorded_caught_up"] == 1
    assert report["totals"]["revenue"]["method"] == {
        "recorded": "20.00", "what_if": "20.00", "difference": "0.00"}
    assert history_rows(tmp_path, url, "fl-1") == before  # the store was not written
    # A later comparison day, named: the same, both sides billed through it.
    later = what_if_json(tmp_path, url, "2016-06-15", same, "--through", "2016-06-15")
    assert later["same"] is True and later["through"] == "2016-06-15"
    assert later["totals"]["revenue"]["method"]["recorded"] == "30.00"  # + 2016-05-26
    text = cli(tmp_path, "replay_tools.cli", "--store", url, "--clock", "2016-06-15",
               "what-if", "--policy", str(same))
    assert text.returncode == 0, text.stderr
    assert "compared on 2016-05-02" in text.stdout and "no difference" in text.stdout
    # A comparison day before the log's last day, or after the clock: usage errors.
    for day, words in (("2016-05-01", "before the last effective day"),
                       ("2016-06-16", "after the clock")):
        done = cli(tmp_path, "replay_tools.cli", "--store", url, "--clock", "2016-06-15",
                   "what-if", "--policy", str(same), "--through", day)
        assert done.returncode == 2 and words in done.stderr, done.stderr


def test_a_changed_catalog_on_a_store_not_billed_shows_only_the_real_difference(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nb.db'}"
    submit_file(tmp_path, url, "2016-06-15", NOT_BILLED)
    pricier = write_catalog(tmp_path / "pricier.json", plus_price="12.50")
    report = what_if_json(tmp_path, url, "2016-06-15", pricier)
    # Through 2016-05-02 fl-1 pays its upgrade and its 2016-04-26 renewal on both sides:
    # 2 x 10.00 recorded (the renewal caught up), 2 x 12.50 what-if.
    assert report["totals"]["revenue"]["method"] == {
        "recorded": "20.00", "what_if": "25.00", "difference": "5.00"}
    assert report["accounts"] == [
        {"account_id": "fl-1", "charged": {"recorded": "20.00", "what_if": "25.00"}}]
    assert report["totals"]["connects"]["granted"]["difference"] == 0


def test_commands_without_at_and_out_of_day_order_are_decided_as_the_store_decided_them(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ooo.db'}"
    # Sent without `at` on 2016-03-01: each was decided at the clock's time then.
    submit_file(tmp_path, url, "2016-03-01T10:00:00Z", [
        {"type": "open_account", "account_id": "fl-b", "kind": "freelancer"},
        {"type": "add_billing_method", "account_id": "fl-b", "method_id": "m-1",
         "token": "tok_visa_b", **CARD},
        {"type": "upgrade_plan", "account_id": "fl-b"}], name="early.jsonl")
    # fl-a's day comes before fl-b's later proposal in the file, not in time: a billing
    # run of every account through 2016-05-10 before deciding it would make the
    # proposal (2016-04-15, after fl-b's 2016-04-01 renewal) look back-dated.
    submit_file(tmp_path, url, "2016-06-15", [
        {"type": "open_account", "account_id": "fl-a", "kind": "freelancer",
         "at": "2016-05-10"},
        {"type": "submit_proposal", "account_id": "fl-b", "proposal_id": "p-1",
         "job_id": "j-1", "connects": 6, "at": "2016-04-15"}], name="late.jsonl")
    same = write_catalog(tmp_path / "same.json")
    # This tool's clock is far ahead of the store's last day, and of its last billing.
    report = what_if_json(tmp_path, url, "2020-01-01", same)
    assert report["same"] is True, {k: report[k] for k in ("refused", "accounts", "totals")}
    assert report["refused"] == {} and report["through"] == "2016-05-10"
    assert report["totals"]["connects"]["spent"]["recorded"] == 6


def test_a_store_without_charges_prints_its_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'free.db'}"
    submit_file(tmp_path, url, "2016-06-15", NOT_BILLED[3:])
    same = write_catalog(tmp_path / "same.json")
    done = cli(tmp_path, "replay_tools.cli", "--store", url, "--clock", "2016-06-15",
               "what-if", "--policy", str(same))
    assert done.returncode == 0, done.stderr
    assert "no difference" in done.stdout
