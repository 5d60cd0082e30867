"""Money moves exactly once (R-3.4): idempotent gateway keys, crash recovery, reconcile.

The processes are real: `ledger submit` and `ledger run-billing` are killed right after a
random capture (LEDGER_GATEWAY_FAIL_AFTER), rerun, and `ledger-replay reconcile` must
then find every capture recorded exactly once. `-s` prints the tallies.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from ledger.gateway import CAPTURE, SUCCEEDED, VOID, SimulatedGateway, SqliteJournal
from ledger.payments import GatewayKeyConflict, charge_id_of, command_payment_key
from ledger.state import Method
from tests.helpers import CARD, child_env
from tests.stores import file_or_postgres_store

CLOCK = "2017-06-01"


def run(args: list[str], module: str = "ledger.cli", stdin: str | None = None,
        **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], input=stdin, text=True,
                          capture_output=True, env=child_env(**env), timeout=300, check=False)


def reconcile(url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    done = run(["--store", url, "--clock", CLOCK, "reconcile", "--json", *extra],
               module="replay_tools.cli")
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def setup_commands(n: int, prefix: str = "fl") -> list[dict[str, Any]]:
    """Freelancers with a card, each upgraded in March: every one renews monthly."""
    commands: list[dict[str, Any]] = []
    for i in range(n):
        a = f"{prefix}-{i}"
        commands += [
            {"type": "open_account", "account_id": a, "kind": "freelancer",
             "at": "2016-03-01", "command_id": f"open-{a}"},
            {"type": "add_billing_method", "account_id": a, "method_id": "m-1",
             "token": f"tok_ok_{i}", "at": "2016-03-02", "command_id": f"card-{a}", **CARD},
            {"type": "upgrade_plan", "account_id": a, "at": "2016-03-03",
             "command_id": f"up-{a}"},
        ]
    return commands


def purchases(n: int, prefix: str = "fl") -> list[dict[str, Any]]:
    return [{"type": "purchase_connects", "account_id": f"{prefix}-{i}", "quantity": 10,
             "at": "2016-03-04", "command_id": f"buy-{prefix}-{i}"} for i in range(n)]


def jsonl(commands: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(c) + "\n" for c in commands)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from file_or_postgres_store(request.param, tmp_path, "money.db")


# -- the gateway port -------------------------------------------------------------------

def test_r3_4_the_same_key_answers_as_the_first_time_and_captures_once() -> None:
    gateway = SimulatedGateway(SqliteJournal(":memory:"))
    card = Method("m-1", "card", 1, token="tok_ok")
    key = command_payment_key("c-1", "purchase")
    assert gateway.charge(key, "fl-1", card, Decimal("1.50"))
    assert gateway.charge(key, "fl-1", card, Decimal("1.50"))
    captures = [e for e in gateway.journal.entries() if e.kind == CAPTURE]
    assert len(captures) == 1 and captures[0].status == SUCCEEDED
    with pytest.raises(GatewayKeyConflict):
        gateway.charge(key, "fl-1", card, Decimal("3.00"))
    with pytest.raises(GatewayKeyConflict):
        gateway.charge(key, "fl-1", Method("m-2", "card", 2, token="tok_ok"), Decimal("1.50"))
    gateway.void(key)
    assert [e.kind for e in gateway.journal.entries()] == [CAPTURE, VOID]
    assert not gateway.charge(key, "fl-1", card, Decimal("1.50")), "a voided capture stays void"


def test_r9_2_charge_ids_derive_from_the_key_in_any_store(tmp_path: Path) -> None:
    ids = []
    for url in ("memory:", f"sqlite:///{tmp_path / 'a.db'}"):
        led = Ledger.open(url, clock=CLOCK)
        results = led.submit_many(setup_commands(1))
        ids.append(results[-1].charge_id)
        again = led.submit(setup_commands(1)[-1])
        assert again.duplicate and again.charge_id == results[-1].charge_id
        led.close()
    assert ids[0] == ids[1] == charge_id_of(command_payment_key("up-fl-0", "upgrade"))
    assert ids[0] is not None and len(ids[0]) == 27 and ids[0].startswith("ch_")


# -- crashes after a capture ------------------------------------------------------------

def _captures_equal_recorded(url: str) -> dict[str, Any]:
    code, report = reconcile(url)
    assert code == 0 and report["differences"] == [], report
    assert report["captures"] == report["recorded"]
    return report


@pytest.mark.slow
def test_r3_4_submit_killed_after_a_random_capture_then_rerun_charges_once(store: str) -> None:
    rounds = 10 if store.startswith("sqlite") else 4
    rng = random.Random(34)
    n = 12
    kills = 0
    for r in range(rounds):
        prefix = f"s{r}"
        commands = setup_commands(n, prefix) + purchases(n, prefix)
        fail_after = rng.randint(1, 2 * n - 1)
        first = run(["--store", store, "--clock", CLOCK, "submit"], stdin=jsonl(commands),
                    LEDGER_GATEWAY_FAIL_AFTER=str(fail_after))
        kills += first.returncode == -9
        assert first.returncode == -9, (fail_after, first.stderr)
        again = run(["--store", store, "--clock", CLOCK, "submit"], stdin=jsonl(commands))
        assert again.returncode == 0, again.stdout + again.stderr
        _captures_equal_recorded(store)
    print(f"submit killed {kills} times; every rerun reconciled clean")


@pytest.mark.slow
def test_r3_4_run_billing_killed_after_a_random_capture_then_rerun_bills_once(
        store: str) -> None:
    rounds = 10 if store.startswith("sqlite") else 4
    rng = random.Random(35)
    n = 30
    done = run(["--store", store, "--clock", CLOCK, "submit"], stdin=jsonl(setup_commands(n)))
    assert done.returncode == 0, done.stderr
    months = [f"{2016 + (3 + m) // 12}-{(3 + m) % 12 + 1:02d}-03" for m in range(rounds)]
    for through in months:  # one billing date a round, killed after a random capture
        fail_after = rng.randint(1, n - 1)
        killed = run(["--store", store, "--clock", CLOCK, "run-billing", "--through", through],
                     LEDGER_GATEWAY_FAIL_AFTER=str(fail_after))
        assert killed.returncode == -9, (through, fail_after, killed.stdout, killed.stderr)
        rerun = run(["--store", store, "--clock", CLOCK, "run-billing", "--through", through,
                     "--json"])
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        report = _captures_equal_recorded(store)
    assert report["recorded"] == n * (1 + len(months))  # upgrades + one renewal a month


# -- under load -------------------------------------------------------------------------

@pytest.mark.slow
def test_r3_4_four_writers_and_a_billing_run_capture_exactly_what_is_recorded(
        store: str) -> None:
    n = 16
    done = run(["--store", store, "--clock", CLOCK, "submit"], stdin=jsonl(setup_commands(n)))
    assert done.returncode == 0, done.stderr

    def writer(w: int) -> subprocess.CompletedProcess[str]:
        # Overlapping accounts: every writer buys on every account, in its own order.
        commands = [{"type": "purchase_connects", "account_id": f"fl-{i}", "quantity": 10,
                     "at": "2016-04-10", "command_id": f"w{w}-buy-{i}"} for i in range(n)]
        random.Random(w).shuffle(commands)
        return run(["--store", store, "--clock", CLOCK, "submit"], stdin=jsonl(commands))

    def billing() -> subprocess.CompletedProcess[str]:
        return run(["--store", store, "--clock", CLOCK, "run-billing", "--through",
                    "2016-04-03", "--json"])

    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(writer, w) for w in range(4)] + [pool.submit(billing)]
        outcomes = [f.result() for f in futures]
    for o in outcomes:
        assert o.returncode in (0, 1), o.stderr
    report = _captures_equal_recorded(store)
    calls = _gateway_requests(store)
    print(f"{store.split(':')[0]}: {report['captures']} captures, {report['recorded']} "
          f"recorded charges ({report['captures'] / report['recorded']:.2f} captures per "
          f"charge; {calls} first-time gateway requests, replays answered from the journal)")
    assert report["recorded"] >= n  # every upgrade at least; purchases up to the limit


def _gateway_requests(url: str) -> int:
    """Captures are 1 per key by construction; the journal's rows are the calls that
    reached the processor for the first time (replays answer from it)."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///"):] + ".gateway") as conn:
            return int(conn.execute("SELECT count(*) FROM gateway_journal").fetchone()[0])
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM ledger_gateway_journal").fetchone()
        return int(row[0]) if row else 0


# -- reconcile finds what is wrong ------------------------------------------------------

def test_r3_4_reconcile_names_an_orphan_a_missing_capture_and_an_amount_mismatch(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    done = run(["--store", url, "--clock", CLOCK, "submit"],
               stdin=jsonl(setup_commands(3) + purchases(3)))
    assert done.returncode == 0, done.stderr
    _captures_equal_recorded(url)
    journal = url[len("sqlite:///"):] + ".gateway"
    with sqlite3.connect(journal) as conn:
        conn.execute("INSERT INTO gateway_journal (key, kind, account_id, method_id, amount, "
                     "status, at) VALUES ('cmd:ghost:purchase', 'capture', 'fl-9', 'm-1', "
                     "'9.99', 'succeeded', '2016-04-01T00:00:00Z')")
        conn.execute("DELETE FROM gateway_journal WHERE key = 'cmd:buy-fl-1:purchase'")
        conn.execute("UPDATE gateway_journal SET amount = '0.15' "
                     "WHERE key = 'cmd:buy-fl-2:purchase'")
    code, report = reconcile(url)
    assert code == 1
    found = {(d["kind"], d["key"]) for d in report["differences"]}
    assert found == {("orphan_capture", "cmd:ghost:purchase"),
                     ("missing_capture", "cmd:buy-fl-1:purchase"),
                     ("amount_mismatch", "cmd:buy-fl-2:purchase")}, report
    by_kind = {d["kind"]: d for d in report["differences"]}
    assert by_kind["missing_capture"]["account_id"] == "fl-1"
    assert by_kind["orphan_capture"]["amount"] == "9.99"

    code, voided = reconcile(url, "--void-orphans")
    assert [d["key"] for d in voided["voided"]] == ["cmd:ghost:purchase"]
    assert {d["kind"] for d in voided["differences"]} == {"missing_capture", "amount_mismatch"}


def test_r3_4_reconcile_reads_a_processors_csv_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    done = run(["--store", url, "--clock", CLOCK, "submit"], stdin=jsonl(setup_commands(2)))
    assert done.returncode == 0, done.stderr
    led = Ledger.open(url, clock=CLOCK)
    amounts = {a: led.history(a)[-2]["data"]["amount"] for a in ("fl-0", "fl-1")}
    led.close()
    report = tmp_path / "processor.csv"
    report.write_text("key,kind,amount,status,at\n"
                      f"cmd:up-fl-0:upgrade,capture,{amounts['fl-0']},succeeded,2016-03-03\n"
                      f"cmd:up-fl-1:upgrade,capture,{amounts['fl-1']},failed,2016-03-03\n")
    code, out = reconcile(url, "--gateway-report", str(report))
    assert code == 1
    assert [(d["kind"], d["account_id"]) for d in out["differences"]] == [
        ("missing_capture", "fl-1")]
    # A key the processor reports captured twice: money may have moved twice
    twice = tmp_path / "twice.csv"
    line = f"cmd:up-fl-0:upgrade,capture,{amounts['fl-0']},succeeded,2016-03-03\n"
    twice.write_text("key,kind,amount,status,at\n" + line + line)
    code, out = reconcile(url, "--gateway-report", str(twice))
    assert code == 1
    assert [(d["kind"], d["key"], d["count"], d["account_id"]) for d in out["differences"]
            if d["kind"] == "duplicate_capture"] == [("duplicate_capture",
                                                       "cmd:up-fl-0:upgrade", 2, "fl-0")]
    bad = tmp_path / "bad.csv"
    bad.write_text("key,kind\nx,teleport\n")
    done = run(["--store", url, "reconcile", "--gateway-report", str(bad)],
               module="replay_tools.cli")
    assert done.returncode == 2 and "bad.csv" in done.stderr
    assert "line 1" in done.stderr and "amount, status" in done.stderr  # the header


def test_r3_4_a_declined_command_sent_again_after_its_card_changed_names_the_fix(
        tmp_path: Path) -> None:
    """The charge's key is the command id and purpose (R-3.4), so a declined command sent
    again under its id after the primary card changed cannot be paid: the gateway
    refuses the key for another method, nothing moves, and the message says to send
    it under a new id (R-8.3 lets a rejected command be sent again)."""
    url = f"sqlite:///{tmp_path / 'k.db'}"
    card = {"type": "add_billing_method", "account_id": "fl-1", "method": "card",
            "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
    commands = [
        {"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
         "at": "2017-01-02"},
        {**card, "method_id": "m-bad", "token": "tok_decline_k", "at": "2017-01-03"},
        {"type": "upgrade_plan", "account_id": "fl-1", "command_id": "u-1", "at": "2017-01-04"},
        {**card, "method_id": "m-ok", "token": "tok_ok_k", "at": "2017-01-05"},
        {"type": "make_primary_method", "account_id": "fl-1", "method_id": "m-ok",
         "at": "2017-01-05"},
        {"type": "upgrade_plan", "account_id": "fl-1", "command_id": "u-1", "at": "2017-01-06"},
        {"type": "upgrade_plan", "account_id": "fl-1", "command_id": "u-2", "at": "2017-01-06"},
    ]
    done = run(["--store", url, "--clock", CLOCK, "submit"], stdin=jsonl(commands))
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["ok"] for r in results] == [True, True, False, True, True, False, True]
    assert "new command_id" not in results[2]["error"]["message"]
    again = results[5]
    assert again["error"]["code"] == "payment_failed" and again["charge_id"] == results[2][
        "charge_id"]
    assert "send the command again with a new command_id" in again["error"]["message"]
    assert results[6]["charge_id"] == charge_id_of(command_payment_key("u-2", "upgrade"))
    code, out = reconcile(url)
    assert code == 0 and out["differences"] == [], out


def test_r3_4_a_capture_orphaned_by_a_crash_is_voided_when_the_retry_decides_otherwise(
        tmp_path: Path) -> None:
    """Killed right after the capture of an upgrade, then the account's primary card
    changes and the same command is sent again: it cannot be paid under its id (another
    method), so the first capture, which no decision will record, is voided at once
    (R-3.4: never left) and reconcile is clean without `--void-orphans`."""
    url = f"sqlite:///{tmp_path / 'o.db'}"
    card = {"type": "add_billing_method", "account_id": "fl-1", "method": "card",
            "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
    opening = [{"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
                "at": "2017-01-02"},
               {**card, "method_id": "m-a", "token": "tok_ok_a", "at": "2017-01-02"}]
    upgrade = {"type": "upgrade_plan", "account_id": "fl-1", "command_id": "u-1",
               "at": "2017-01-04"}
    assert run(["--store", url, "--clock", CLOCK, "submit"], stdin=jsonl(opening)
               ).returncode == 0
    killed = run(["--store", url, "--clock", CLOCK, "submit"], stdin=jsonl([upgrade]),
                 LEDGER_GATEWAY_FAIL_AFTER="1")
    assert killed.returncode == -9, killed.stderr
    code, out = reconcile(url)
    assert code == 1 and [d["kind"] for d in out["differences"]] == ["orphan_capture"]
    later = [{**card, "method_id": "m-b", "token": "tok_ok_b", "at": "2017-01-05"},
             {"type": "make_primary_method", "account_id": "fl-1", "method_id": "m-b",
              "at": "2017-01-05"}, {**upgrade, "at": "2017-01-06"}]
    done = run(["--store", url, "--clock", CLOCK, "submit"], stdin=jsonl(later))
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert results[2]["error"]["code"] == "payment_failed", results[2]
    code, out = reconcile(url)
    assert code == 0 and out["differences"] == [] and out["captures"] == 0, out


def test_r3_4_a_command_id_sent_again_for_another_account_voids_nothing_recorded(
        tmp_path: Path) -> None:
    """The same command id for a second account meets the first account's capture at the
    gateway (its key is the id and purpose): refused as idempotency_conflict (R-8.3),
    and the first account's recorded capture stays live."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    card = {"type": "add_billing_method", "method": "card", "brand": "visa",
            "last4": "4242", "exp_month": 12, "exp_year": 2030, "at": "2020-01-02"}
    commands = [
        {"type": "open_account", "account_id": "fl-x", "kind": "freelancer", "at": "2020-01-02"},
        {**card, "account_id": "fl-x", "method_id": "m-1", "token": "tok_ok_x"},
        {"type": "open_account", "account_id": "fl-y", "kind": "freelancer", "at": "2020-01-02"},
        {**card, "account_id": "fl-y", "method_id": "m-2", "token": "tok_ok_y"},
    ]
    assert run(["--store", url, "--clock", "2020-06-01", "submit"], stdin=jsonl(commands)
               ).returncode == 0
    buy = {"type": "purchase_connects", "quantity": 10, "command_id": "c1", "at": "2020-01-03"}
    for account in ("fl-x", "fl-y"):
        # One command at a time (an app's POST /v1/commands): its first attempt charges
        # before it looks the id up, so the second meets the first's capture
        led = Ledger.open(url, clock="2020-06-01")
        try:
            result = led.submit({**buy, "account_id": account}).to_json()
        finally:
            led.close()
        assert result["ok"] is (account == "fl-x"), result
    assert result["error"]["code"] == "idempotency_conflict"
    code, out = reconcile(url)
    assert code == 0 and out["differences"] == [] and out["captures"] == 1, out
