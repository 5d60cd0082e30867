"""Found by trying the command line from outside (2026-12-06): what an audit, a statement
and the error lines may show, and what they must not."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.helpers import ledger_cli, replay_cli

CARD = {"type": "add_billing_method", "account_id": "rf", "method_id": "good",
        "method": "card", "brand": "visa", "last4": "4242", "exp_month": 8,
        "exp_year": 2028, "token": "tok_secret_good", "at": "2021-03-10"}


def _store_with_a_card(tmp_path: Path) -> tuple[str, Path]:
    db = tmp_path / "s.db"
    url = f"sqlite:///{db}"
    lines = [{"type": "open_account", "account_id": "rf", "kind": "freelancer",
              "at": "2021-03-10"}, CARD]
    done = ledger_cli(tmp_path, "--store", url, "--clock", "2021-06-01", "submit",
                      stdin="".join(json.dumps(c) + "\n" for c in lines))
    assert done.returncode == 0, done.stderr
    return url, db


def _audit_both_ways(tmp_path: Path, url: str) -> tuple[str, dict[str, object]]:
    text = replay_cli(tmp_path, "--store", url, "--clock", "2021-06-01", "audit")
    as_json = replay_cli(tmp_path, "--store", url, "--clock", "2021-06-01", "audit", "--json")
    assert text.returncode == 1 and as_json.returncode == 1, (text.stderr, as_json.stderr)
    return text.stdout + text.stderr, json.loads(as_json.stdout)


def test_an_audit_never_shows_a_gateway_token_even_when_the_token_is_what_differs(
        tmp_path: Path) -> None:
    # a view whose method token was edited behind the ledger's back
    url, db = _store_with_a_card(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE ledger_view_accounts SET state ="
                     " replace(state, 'tok_secret_good', 'tok_secret_goox')")
    text, report = _audit_both_ways(tmp_path, url)
    # Then the finding names the methods and says a token differs, and shows neither token
    assert "methods (a gateway token)" in text
    found = [f for f in report["findings"] if f["category"] == "agreement"]  # type: ignore[attr-defined]
    assert found and "methods (a gateway token)" in found[0]["message"]
    everything = text + json.dumps(report)
    assert "tok_secret" not in everything


def test_an_audit_of_an_edited_method_event_shows_no_token(tmp_path: Path) -> None:
    url, db = _store_with_a_card(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT),"
                     " 'tok_secret_good', 'tok_secret_bad1') AS BLOB)"
                     " WHERE topic = 'ledger/MethodAdded'")
        assert conn.total_changes == 1
    text, report = _audit_both_ways(tmp_path, url)
    assert report["findings"]
    assert "tok_secret" not in text + json.dumps(report)
