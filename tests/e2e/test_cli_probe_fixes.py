"""What an outside probe of the command line found, fixed and held here, through the
installed entry points as a user runs them: reads never create a store, `policy show`
honours LEDGER_POLICY, statements and listings escape what came from input (R-8.9) and
show who sent each movement (R-8.6) and its charge id (R-9.2), history keeps an event's
own reason."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.policy import default_catalog
from tests.helpers import ledger_cli, replay_cli

CLOCK = ("--clock", "2031-01-01")
ESC = "\x1b[31m"
OPEN = {"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
        "at": "2030-06-01"}


def card(token: str) -> dict[str, object]:
    return {"type": "add_billing_method", "account_id": "fl-1", "method_id": "m-1",
            "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
            "exp_year": 2033, "token": token, "at": "2030-06-02"}


def _store(tmp_path: Path) -> tuple[str, ...]:
    return ("--store", f"sqlite:///{tmp_path / 'a.db'}", *CLOCK)


def _submit(tmp_path: Path, *commands: dict[str, object]) -> None:
    done = ledger_cli(tmp_path, *_store(tmp_path), "submit",
                      stdin="".join(json.dumps(c) + "\n" for c in commands))
    assert done.returncode in (0, 1), done.stderr


def test_reads_never_create_a_store(tmp_path: Path) -> None:
    missing = ("--store", f"sqlite:///{tmp_path / 'nx.db'}", *CLOCK)
    for read in (("accounts",), ("keys", "list"), ("webhooks", "list"),
                 ("keys", "revoke", "key_x"), ("webhooks", "deliveries", "we_x"),
                 ("webhooks", "deliver", "--once")):
        out = ledger_cli(tmp_path, *missing, *read)
        assert out.returncode == 2, (read, out.stdout, out.stderr)
        assert "store does not exist" in out.stderr, read
        assert "Traceback" not in out.stderr
        assert not (tmp_path / "nx.db").exists(), read
        assert sorted(p.name for p in tmp_path.iterdir()) == [], read


def test_policy_show_prints_the_catalog_that_ledger_policy_names(tmp_path: Path) -> None:
    data = default_catalog().model_dump(mode="json")
    later = json.loads(json.dumps(data["versions"][-1]))
    later.update(name="v2040", effective_from="2040-01-01")
    data["versions"].append(later)
    (tmp_path / "pol.json").write_text(json.dumps(data), encoding="utf-8")
    shown = ledger_cli(tmp_path, "policy", "show", env={"LEDGER_POLICY": "pol.json"})
    assert shown.returncode == 0, shown.stderr
    assert [v["name"] for v in json.loads(shown.stdout)["versions"]][-1] == "v2040"
    bad = ledger_cli(tmp_path, "policy", "show", env={"LEDGER_POLICY": "nowhere.json"})
    assert bad.returncode == 2 and "nowhere.json" in bad.stderr


def test_statements_and_listings_escape_input_and_name_who_r8_9(tmp_path: Path) -> None:
    _submit(tmp_path,
            OPEN,
            {"type": "credit_earnings", "account_id": "fl-1", "amount": "20.00",
             "at": "2030-06-02", "reason": f"bad{ESC}red\x07\nline"},
            card("tok_ok_1"),
            {"type": "purchase_connects", "account_id": "fl-1", "quantity": 10,
             "at": "2030-06-03", "command_id": "buy-1"})
    text = replay_cli(tmp_path, *_store(tmp_path), "statement", "fl-1")
    assert text.returncode == 0, text.stderr
    assert "\x1b" not in text.stdout and "\x07" not in text.stdout
    assert "\\x1b[31m" in text.stdout
    credited = [ln for ln in text.stdout.splitlines() if "EarningsCredited" in ln]
    assert credited and "[by cli:" in credited[0]  # an operation's principal
    charge = json.loads(ledger_cli(tmp_path, *_store(tmp_path), "history", "fl-1",
                                   "--json").stdout.splitlines()[-1])
    purchased = [ln for ln in text.stdout.splitlines() if "ConnectsPurchased" in ln]
    charge_id = charge["data"].get("charge_id")
    assert charge_id and purchased and charge_id in purchased[0]
    table = replay_cli(tmp_path, *_store(tmp_path), "statement", "fl-1", "--csv")
    assert table.returncode == 0 and "EarningsCredited" in table.stdout, table.stderr
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout
    assert "\\x1b[31m" in table.stdout
    both = replay_cli(tmp_path, *_store(tmp_path), "statement", "fl-1", "--csv", "--json")
    assert both.returncode == 2
    for name, actor in ((f"app{ESC}x", "fl-1"), ("app", "bad id!")):
        made = ledger_cli(tmp_path, *_store(tmp_path), "keys", "create", name,
                          "--scope", "accounts:read", "--actor", actor)
        assert made.returncode == 2, (name, actor, made.stdout)
        assert "\x1b" not in made.stderr and "Traceback" not in made.stderr
    hook = ledger_cli(tmp_path, *_store(tmp_path), "webhooks", "create",
                      f"http://127.0.0.1:9/x{ESC}y")
    assert hook.returncode == 2 and "control characters" in hook.stderr


def test_history_keeps_an_events_own_reason(tmp_path: Path) -> None:
    _submit(tmp_path,
            OPEN,
            card("tok_decline_1"),
            {"type": "upgrade_plan", "account_id": "fl-1", "at": "2030-06-03"})
    rows = [json.loads(line) for line in ledger_cli(
        tmp_path, *_store(tmp_path), "history", "fl-1", "--json").stdout.splitlines()]
    [failed] = [r for r in rows if r["name"] == "PaymentFailed"]
    own = failed["data"]["reason"]
    assert own
    text = ledger_cli(tmp_path, *_store(tmp_path), "history", "fl-1").stdout
    assert f"reason={own}" in text
    # the failed payment shows the charge id its result gave
    result = json.loads(ledger_cli(tmp_path, *_store(tmp_path), "submit", stdin=json.dumps(
        {"type": "upgrade_plan", "account_id": "fl-1", "at": "2030-06-04"}) + "\n").stdout)
    assert result["error"]["code"] == "payment_failed" and result["charge_id"]
    rows = [json.loads(line) for line in ledger_cli(
        tmp_path, *_store(tmp_path), "history", "fl-1", "--json").stdout.splitlines()]
    assert rows[-1]["name"] == "PaymentFailed"
    assert rows[-1]["data"]["charge_id"] == result["charge_id"]


def test_a_bad_ledger_clock_is_a_usage_error_naming_the_variable(tmp_path: Path) -> None:
    out = ledger_cli(tmp_path, "--store", f"sqlite:///{tmp_path / 'b.db'}", "submit",
                     stdin="", env={"LEDGER_CLOCK": "bad"})
    assert out.returncode == 2 and "LEDGER_CLOCK" in out.stderr, out.stderr


def test_a_store_in_a_folder_that_does_not_exist_says_so(tmp_path: Path) -> None:
    # `sqlite:///tmp/x.db` is relative to the working directory: here tmp_path/tmp/x.db
    done = ledger_cli(tmp_path, "--store", "sqlite:///tmp/x.db", *CLOCK, "submit",
                      stdin=json.dumps(OPEN) + "\n")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "folder tmp does not exist" in done.stderr
    assert "sqlite:////PATH is absolute" in done.stderr


def test_money_sent_as_a_json_number_is_refused_r6_1(tmp_path: Path) -> None:
    lines = [OPEN, *({"type": "credit_earnings", "account_id": "fl-1", "amount": amount,
                      "at": "2030-06-03"} for amount in (5.5, 5, "5.50"))]
    done = ledger_cli(tmp_path, *_store(tmp_path), "submit",
                      stdin="".join(json.dumps(c) + "\n" for c in lines))
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["ok"] for r in results] == [True, False, False, True], done.stdout
    for refused in results[1:3]:
        assert refused["error"]["code"] == "validation_error"
        assert "decimal string" in refused["error"]["message"]


def test_keys_create_takes_several_scopes_after_one_option(tmp_path: Path) -> None:
    store = _store(tmp_path)
    done = ledger_cli(tmp_path, *store, "keys", "create", "multi", "--scope",
                      "accounts:read", "events:read", "--scope", "metrics,admin", "--json")
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert made["scopes"] == ["accounts:read", "admin", "events:read", "metrics"]
    assert made["created_at"].endswith("Z")
    listed = ledger_cli(tmp_path, *store, "keys", "list", "--json")
    assert made["secret"] not in listed.stdout and made["key_id"] in listed.stdout
    bad = ledger_cli(tmp_path, *store, "keys", "create", "x", "--scope", "accounts:read",
                     "nope")
    assert bad.returncode == 2 and "unknown scope nope" in bad.stderr


def test_json_lines_whose_first_line_is_an_array_get_a_result_each(tmp_path: Path) -> None:
    lines = "[1, 2]\n" + json.dumps(OPEN) + "\n"
    done = ledger_cli(tmp_path, *_store(tmp_path), "submit", stdin=lines)
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 1 and [r["ok"] for r in results] == [False, True], done.stdout
    assert "must be a JSON object" in results[0]["error"]["message"]
    assert [r["line"] for r in results] == [1, 2]
    broken = ledger_cli(tmp_path, *_store(tmp_path), "submit",
                        stdin="[" + json.dumps(OPEN) + ",\n")
    assert broken.returncode == 2 and "not a valid JSON array" in broken.stderr


def test_a_webhook_workers_lock_is_the_file_beside_the_store(tmp_path: Path) -> None:
    """Beside the database, where every process that opens it finds the same file
    (a temporary folder may differ between them); the only lock file left."""
    _submit(tmp_path, OPEN)
    done = ledger_cli(tmp_path, *_store(tmp_path), "webhooks", "deliver", "--once")
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir() if "lock" in p.name] == ["a.db.webhooks-lock"]


def test_an_account_whose_stored_events_were_reordered_is_named_not_a_bug(
        tmp_path: Path) -> None:
    import sqlite3

    from ledger.account import account_uuid

    _submit(tmp_path, OPEN, {"type": "credit_earnings", "account_id": "fl-1",
                             "amount": "5.00", "at": "2030-06-02"})
    stream = account_uuid("fl-1").hex
    with sqlite3.connect(tmp_path / "a.db") as db:  # versions 1 and 2 swapped
        for old, new in ((1, -1), (2, 1), (-1, 2)):
            db.execute("UPDATE stored_events SET originator_version = ? WHERE "
                       "originator_id = ? AND originator_version = ?", (new, stream, old))
    done = ledger_cli(tmp_path, *_store(tmp_path), "submit", stdin=json.dumps(
        {"type": "credit_earnings", "account_id": "fl-1", "amount": "1.00",
         "at": "2030-06-03"}) + "\n")
    assert done.returncode == 2, done.stdout
    assert "stored events of account fl-1 do not replay" in done.stderr
    assert "ledger-replay audit" in done.stderr and "internal error" not in done.stderr


def test_json_lines_led_by_an_array_split_at_newlines_only(tmp_path: Path) -> None:
    credit = {"type": "credit_earnings", "account_id": "fl-1", "amount": "1.00",
              "at": "2030-06-02", "reason": "paid\u2028in full"}
    lines = "[1]\n" + json.dumps(OPEN) + "\n" + json.dumps(credit, ensure_ascii=False) + "\n"
    done = ledger_cli(tmp_path, *_store(tmp_path), "submit", stdin=lines)
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["line"], r["ok"]) for r in results] == [(1, False), (2, True), (3, True)]
