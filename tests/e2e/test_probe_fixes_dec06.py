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


def test_ids_echoed_in_error_lines_are_escaped(tmp_path: Path) -> None:
    # keys revoke, webhooks delete and webhooks deliveries name the id they lack
    url, _ = _store_with_a_card(tmp_path)
    for args in (["keys", "revoke", "k\x1b[31mey"], ["webhooks", "delete", "w\x1b[31me"],
                 ["webhooks", "deliveries", "w\x1b[31me"]):
        done = ledger_cli(tmp_path, "--store", url, *args)
        assert done.returncode != 0
        assert "\x1b" not in done.stderr and "\\x1b" in done.stderr, (args, done.stderr)


def test_an_endpoint_url_that_does_not_parse_is_a_validation_error(tmp_path: Path) -> None:
    url, _ = _store_with_a_card(tmp_path)
    done = ledger_cli(tmp_path, "--store", url, "webhooks", "create", "http://[bad/")
    assert done.returncode == 2
    assert "validation_error" in done.stderr and "internal error" not in done.stderr


def test_a_command_reason_is_shown_even_when_its_words_occur_in_the_detail(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    lines = [{"type": "open_account", "account_id": "g", "kind": "freelancer",
              "at": "2018-01-05"},
             {"type": "grant_connects", "account_id": "g", "quantity": 4, "reason": "w",
              "at": "2018-01-06"},
             {"type": "grant_connects", "account_id": "g", "quantity": 2,
              "reason": "goodwill", "at": "2018-01-07"}]
    done = ledger_cli(tmp_path, "--store", url, "--clock", "2018-02-01", "submit",
                      stdin="".join(json.dumps(c) + "\n" for c in lines))
    assert done.returncode == 0, done.stdout
    text = replay_cli(tmp_path, "--store", url, "--clock", "2018-02-01", "statement", "g")
    grants = [line for line in text.stdout.splitlines() if "ConnectsGranted" in line]
    assert grants[0].endswith(": w]") and grants[1].endswith(": goodwill]"), grants


def test_a_reason_of_only_spaces_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    lines = [{"type": "open_account", "account_id": "g", "kind": "freelancer",
              "at": "2018-01-05"},
             {"type": "grant_connects", "account_id": "g", "quantity": 4, "reason": "   ",
              "at": "2018-01-06"}]
    done = ledger_cli(tmp_path, "--store", url, "--clock", "2018-02-01", "submit",
                      stdin="".join(json.dumps(c) + "\n" for c in lines))
    second = json.loads(done.stdout.splitlines()[1])
    assert second["ok"] is False and second["error"]["code"] == "validation_error"
    assert second["error"]["message"].startswith("reason:")


def test_a_billing_runs_captures_count_only_approved_charges(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    card = {"type": "add_billing_method", "method": "card", "brand": "visa",
            "last4": "4242", "exp_month": 12, "exp_year": 2030, "method_id": "m"}
    lines = []
    for account, token in (("ok", "tok_fine"), ("bad", "tok_decline_x")):
        lines += [{"type": "open_account", "account_id": account, "kind": "freelancer",
                   "at": "2021-03-10"},
                  {**card, "account_id": account, "token": "tok_fine", "at": "2021-03-10"},
                  {"type": "upgrade_plan", "account_id": account, "at": "2021-03-10"},
                  {**card, "account_id": account, "method_id": "m2", "token": token,
                   "at": "2021-03-11"},
                  {"type": "make_primary_method", "account_id": account, "method_id": "m2",
                   "at": "2021-03-11"}]
    done = ledger_cli(tmp_path, "--store", url, "--clock", "2021-06-01", "submit",
                      stdin="".join(json.dumps(c) + "\n" for c in lines))
    assert '"ok": false' not in done.stdout, done.stdout
    billed = ledger_cli(tmp_path, "--store", url, "--clock", "2021-06-01", "run-billing",
                        "--through", "2021-04-10", "--json")
    report = json.loads(billed.stdout)
    assert report["payment_failures"] == 1 and report["captures"] == 1, report


def test_an_orphan_refund_names_the_account_of_its_charge(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    lines = [{"type": "open_account", "account_id": "fz", "kind": "freelancer",
              "at": "2021-03-10"}, {**CARD, "account_id": "fz", "at": "2021-03-10"},
             {"type": "purchase_connects", "account_id": "fz", "quantity": 10,
              "at": "2021-03-11"}]
    done = ledger_cli(tmp_path, "--store", url, "--clock", "2021-06-01", "submit",
                      stdin="".join(json.dumps(c) + "\n" for c in lines))
    charge_id = json.loads(done.stdout.splitlines()[2])["charge_id"]
    report = tmp_path / "gateway.csv"
    report.write_text("key,kind,amount,status,at\n"
                      f"refund:{charge_id},refund,1.50,succeeded,2021-03-12T00:00:00Z\n"
                      "refund:ch_000000000000000000000000,refund,2.00,succeeded,"
                      "2021-03-12T00:00:00Z\n")
    out = replay_cli(tmp_path, "--store", url, "--clock", "2021-06-01", "reconcile",
                     "--gateway-report", str(report), "--json")
    kinds = {d["key"]: d for d in json.loads(out.stdout)["differences"]
             if d["kind"] == "orphan_refund"}
    assert kinds[f"refund:{charge_id}"]["account_id"] == "fz"
    assert kinds["refund:ch_000000000000000000000000"]["account_id"] is None
