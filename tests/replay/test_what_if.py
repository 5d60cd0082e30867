"""`ledger-replay what-if` (issue 14): the accepted commands decided again under another
catalog in a scratch store; the unchanged catalog gives no difference at all."""

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
