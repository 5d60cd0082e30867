"""The audit's promo arithmetic is the rules' (R-4.8: halves of a cent round up), so a
failed upgrade at a price whose half ends in half a cent is no finding. Reproduces a
false R-4.2 finding: Plus at 12.45, HALFOFF3 and a declined card gave 6.23 recorded,
6.22 expected (half-even)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledger.policy import default_catalog
from tests.helpers import CARD, ledger_cli, replay_cli


def policy_with_plus_price(tmp_path: Path, price: str) -> Path:
    data: dict[str, Any] = default_catalog().model_dump(mode="json")
    for version in data["versions"]:
        version["plans"]["freelancer"]["plus"]["price"] = price
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data))
    return path


def test_a_declined_half_price_upgrade_at_12_45_is_no_finding(tmp_path: Path) -> None:
    policy = policy_with_plus_price(tmp_path, "12.45")
    store = f"sqlite:///{tmp_path}/l.db"
    commands = [
        {"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
         "at": "2020-03-05"},
        {"type": "add_billing_method", "account_id": "fl-1", "method_id": "m-1",
         "token": "tok_decline_1", "at": "2020-03-05T01:00:00Z", **CARD},
        {"type": "upgrade_plan", "account_id": "fl-1", "promo_code": "HALFOFF3",
         "at": "2020-03-06"},
    ]
    sent = ledger_cli(tmp_path, "--store", store, "--policy", str(policy), "--clock",
                      "2020-03-07", "submit", stdin="\n".join(json.dumps(c) for c in commands))
    results = [json.loads(line) for line in sent.stdout.splitlines()]
    assert results[-1]["error"]["code"] == "payment_failed", results
    history = ledger_cli(tmp_path, "--store", store, "--policy", str(policy), "--clock",
                         "2020-03-07", "history", "fl-1", "--json")
    failed = [e for e in map(json.loads, history.stdout.splitlines())
              if e["name"] == "PaymentFailed"]
    assert failed and failed[0]["data"]["amount"] == "6.23"  # the ledger: half up
    audit = replay_cli(tmp_path, "--store", store, "--policy", str(policy), "--clock",
                       "2020-03-07", "audit", "--json")
    report = json.loads(audit.stdout)
    assert (audit.returncode, report["findings"]) == (0, [])
