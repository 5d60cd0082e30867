"""R-9 corrections: goodwill grants (R-9.1) and refunds (R-9.2), on every store; previews
(`Ledger.preview`, `submit --preview`) that record nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Ledger
from ledger.results import to_jsonable
from tests.helpers import CARD, accept, add_card, open_account, refuse, submit


def plus_freelancer(ledger: Ledger, token: str = "tok_ok_1") -> tuple[str, str]:
    """fl-1 on Plus from 2016-03-03 with a card; a 10-Connects purchase on 2016-03-04.
    Answers the charge ids of the upgrade and of the purchase."""
    open_account(ledger, "fl-1", "freelancer", "2016-03-01")
    add_card(ledger, "fl-1", "2016-03-02", token=token)
    up = accept(ledger, "upgrade_plan", "fl-1", "2016-03-03")
    buy = accept(ledger, "purchase_connects", "fl-1", "2016-03-04", quantity=10)
    assert up.charge_id and buy.charge_id and up.charge_id != buy.charge_id
    return up.charge_id, buy.charge_id


# -- R-9.1 --------------------------------------------------------------------------------

def test_r9_1_a_goodwill_grant_is_a_new_lot_with_its_reason(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-01")
    before = ledger.account("fl-1").connects
    accept(ledger, "grant_connects", "fl-1", "2016-03-05", quantity=7,
           reason="outage on 2016-03-04", expires_on="2016-12-31")
    assert ledger.account("fl-1").connects == before + 7
    last = ledger.history("fl-1")[-1]
    assert last["name"] == "ConnectsGranted" and last["data"]["source"] == "goodwill"
    assert str(last["data"]["expires_on"]) == "2016-12-31"
    assert last["reason"] == "outage on 2016-03-04" and last["principal"].startswith("python:")


def test_r9_1_a_grant_needs_a_reason_and_respects_the_most_held_limit(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-01")
    result = submit(ledger, "grant_connects", "fl-1", "2016-03-05", quantity=7)
    assert result.error.code == "validation_error" and "reason" in result.error.message
    add_card(ledger, "fl-1", "2016-03-02")
    accept(ledger, "upgrade_plan", "fl-1", "2016-03-03")  # Plus under v2016 holds 350
    held = ledger.account("fl-1").connects
    refuse(ledger, "connects_limit_exceeded", "grant_connects", "fl-1", "2016-03-05",
           quantity=350 - held + 1, reason="too generous")
    accept(ledger, "grant_connects", "fl-1", "2016-03-05", quantity=350 - held,
           reason="up to the limit")


def test_r9_1_a_grant_on_an_account_without_connects_is_refused(ledger: Ledger) -> None:
    open_account(ledger, "boss", "member", "2016-03-01")
    open_account(ledger, "co-1", "company", "2016-03-01", owner_id="boss")
    refuse(ledger, "not_authorized", "grant_connects", "co-1", "2016-03-05", quantity=5,
           reason="x")


# -- R-9.2 --------------------------------------------------------------------------------

def test_r9_2_refunding_an_unspent_purchase_paid_by_card_revokes_its_lot(
        ledger: Ledger) -> None:
    _, buy = plus_freelancer(ledger)
    before = ledger.account("fl-1").connects
    result = accept(ledger, "refund_charge", "fl-1", "2016-03-05", charge_id=buy,
                    reason="bought by mistake")
    assert result.events == ["ChargeRefunded", "ConnectsRevoked"]
    assert ledger.account("fl-1").connects == before - 10
    refunded = ledger.history("fl-1")[-2]
    assert refunded["data"]["charge_id"] == buy and refunded["data"]["source"] == "method"
    refuse(ledger, "charge_already_refunded", "refund_charge", "fl-1", "2016-03-06",
           charge_id=buy, reason="again")


def test_r9_2_a_purchase_paid_by_earnings_goes_back_to_the_earnings(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-01")
    add_card(ledger, "fl-1", "2016-03-02")
    accept(ledger, "upgrade_plan", "fl-1", "2016-03-03")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-03", amount="50.00")
    available = ledger.account("fl-1").earnings.available
    buy = accept(ledger, "purchase_connects", "fl-1", "2016-03-04", quantity=10)
    assert ledger.account("fl-1").earnings.available < available
    accept(ledger, "refund_charge", "fl-1", "2016-03-05", charge_id=buy.charge_id,
           reason="goodwill")
    assert ledger.account("fl-1").earnings.available == available


def test_r9_2_a_partly_spent_purchase_is_not_refundable(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-01")
    add_card(ledger, "fl-1", "2016-03-02")
    accept(ledger, "upgrade_plan", "fl-1", "2016-03-03")
    # Spend everything but the purchase's lot, then some of it (oldest first).
    buy = accept(ledger, "purchase_connects", "fl-1", "2016-03-04", quantity=10)
    n = 0
    while (left := ledger.account("fl-1").connects - 7) > 0:  # proposals cost 1 to 6
        n += 1
        accept(ledger, "submit_proposal", "fl-1", "2016-03-05", proposal_id=f"p-{n}",
               job_id=f"j-{n}", connects=min(6, left))
    result = refuse(ledger, "charge_not_refundable", "refund_charge", "fl-1", "2016-03-06",
                    charge_id=buy.charge_id, reason="asked")
    assert "3 of the 10" in result.error.message and result.error.rule == "R-9.2"


def test_r9_2_refunding_the_current_membership_goes_to_basic_at_once_keeping_connects(
        ledger: Ledger) -> None:
    up, _ = plus_freelancer(ledger)
    connects = ledger.account("fl-1").connects
    result = accept(ledger, "refund_charge", "fl-1", "2016-03-10", charge_id=up,
                    reason="did not mean to upgrade")
    assert result.events == ["ChargeRefunded", "PlanDowngraded"]
    view = ledger.account("fl-1")
    assert view.plan == "basic" and view.connects == connects
    assert ledger.history("fl-1")[-1]["data"]["reason"] == "refunded"


def test_r9_2_an_earlier_cycles_membership_charge_is_not_refundable(ledger: Ledger) -> None:
    up, _ = plus_freelancer(ledger)
    accept(ledger, "submit_proposal", "fl-1", "2016-04-05", proposal_id="p-1", job_id="j-1",
           connects=1)  # past the 2016-04-03 renewal: a new cycle
    refuse(ledger, "charge_not_refundable", "refund_charge", "fl-1", "2016-04-06",
           charge_id=up, reason="late")


def test_r9_2_an_unknown_charge_is_refused(ledger: Ledger) -> None:
    plus_freelancer(ledger)
    refuse(ledger, "unknown_charge", "refund_charge", "fl-1", "2016-03-05",
           charge_id="ch_" + "ab" * 12, reason="x")


def test_r9_2_a_declined_refund_records_refund_failed_and_nothing_else(
        ledger: Ledger) -> None:
    _, buy = plus_freelancer(ledger, token="tok_norefund_1")
    before = ledger.account("fl-1")
    result = submit(ledger, "refund_charge", "fl-1", "2016-03-05", charge_id=buy, reason="x")
    assert not result.ok and result.error.code == "refund_failed"
    assert result.events == ["RefundFailed"]
    after = ledger.account("fl-1")
    assert after.connects == before.connects and after.version == before.version + 1


def _cli(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return subprocess.run([sys.executable, "-m", *args], input=stdin, text=True,
                          capture_output=True, cwd=tmp_path, env=env, timeout=120,
                          check=False)


def test_r9_2_a_card_refund_reconciles(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    led = Ledger.open(url, clock="2016-06-01")
    _, buy = plus_freelancer(led)
    accept(led, "refund_charge", "fl-1", "2016-03-05", charge_id=buy, reason="asked")
    accept(led, "grant_connects", "fl-1", "2016-03-06", quantity=3, reason="goodwill")
    up = led.history("fl-1")
    membership = next(h["data"]["charge_id"] for h in up if h["name"] == "MembershipCharged")
    accept(led, "refund_charge", "fl-1", "2016-03-07", charge_id=membership, reason="asked")
    led.close()
    done = _cli(tmp_path, "replay_tools.cli", "--store", url, "reconcile", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["refunds"] == report["recorded_refunds"] == 2
    audit = _cli(tmp_path, "replay_tools.cli", "--store", url, "--clock", "2016-06-01", "audit")
    assert audit.returncode == 0, audit.stdout[-2000:]  # refunds, revoked lots: all clean


# -- previews -----------------------------------------------------------------------------

def _store_bytes(path: Path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(FULL)")
    return path.read_bytes()


COMMANDS = st.sampled_from([
    {"type": "purchase_connects", "quantity": 10},
    {"type": "upgrade_plan"},
    {"type": "downgrade_plan"},
    {"type": "submit_proposal", "proposal_id": "p-9", "job_id": "j-9", "connects": 4},
    {"type": "grant_connects", "quantity": 3, "reason": "sorry"},
    {"type": "withdraw_earnings", "amount": "1.00"},
])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command=COMMANDS, day=st.sampled_from(["2016-03-20", "2016-04-10", "2016-05-04"]))
def test_a_preview_then_submit_gives_the_same_events_and_view_and_changes_no_byte(
        tmp_path_factory: Any, command: dict[str, Any], day: str) -> None:
    folder = tmp_path_factory.mktemp("preview")
    path = folder / "p.db"
    led = Ledger.open(f"sqlite:///{path}", clock="2016-06-01")
    open_account(led, "fl-1", "freelancer", "2016-03-01")
    add_card(led, "fl-1", "2016-03-02")
    cmd = {**command, "account_id": "fl-1", "at": day, "command_id": "c-preview"}
    before = _store_bytes(path)
    journal = Path(str(path) + ".gateway")
    journal_before = journal.read_bytes() if journal.exists() else None
    seen = led.preview(cmd)
    assert seen["preview"] is True and "no gateway" in seen["note"]
    assert _store_bytes(path) == before, "a preview wrote to the store"
    assert (journal.read_bytes() if journal.exists() else None) == journal_before
    done = led.submit(cmd)
    assert done.ok == seen["ok"] and done.events == [e["name"] for e in seen["events"]]
    if done.ok:
        assert led.account("fl-1", as_of=day).to_json() == seen["view"] | {
            "connects_expiring_30d": seen["view"]["connects_expiring_30d"]}
        recorded = led.history("fl-1")[-len(done.events):]
        assert [r["name"] for r in recorded] == [e["name"] for e in seen["events"]]
        assert [r["version"] for r in recorded] == [e["version"] for e in seen["events"]]
        for r, e in zip(recorded, seen["events"], strict=True):
            assert to_jsonable(r["data"]) == e["data"]
    led.close()


def test_submit_preview_on_the_command_line_records_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    led = Ledger.open(url, clock="2016-06-01")
    plus_freelancer(led)
    version = led.account("fl-1").version
    led.close()
    cmd = {"type": "purchase_connects", "account_id": "fl-1", "quantity": 10,
           "at": "2016-05-10"}
    done = _cli(tmp_path, "ledger.cli", "--store", url, "--clock", "2016-06-01", "submit",
                "--preview", stdin=json.dumps(cmd) + "\n")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["charge"]["source"] == "method" and answer["charge"]["amount"]
    assert "CycleRenewed" in [e["name"] for e in answer["events"]]  # the catch-up first
    assert "token" not in done.stdout
    led = Ledger.open(url, clock="2016-06-01")
    assert led.account("fl-1").version == version
    led.close()


def test_a_preview_of_a_command_already_accepted_answers_as_submit_would_r8_3(
        tmp_path: Path) -> None:
    led = Ledger.open(f"sqlite:///{tmp_path / 'd.db'}", clock="2016-06-01")
    plus_freelancer(led)
    buy = {"type": "purchase_connects", "account_id": "fl-1", "quantity": 10,
           "at": "2016-05-10", "command_id": "buy-once"}
    first = led.submit(buy)
    assert first.ok, first
    seen = led.preview(buy)
    assert seen["duplicate"] is True and seen["ok"] is True and seen["events"] == []
    assert seen["recorded_events"] == first.events and seen["charge_id"] == first.charge_id
    assert seen["view"]["version"] == led.account("fl-1").version
    assert seen["view"]["connects"] == led.account("fl-1").connects
    led.close()


def _purchase_whose_charge_id_passes_luhn() -> tuple[str, str]:
    """A command id whose purchase's charge id holds 13+ digits in a row passing Luhn
    (about one charge in three hundred does), and that charge id."""
    from ledger.payments import charge_id_of, command_payment_key
    from ledger.screening import contains_pan

    for n in range(20_000):
        charge_id = charge_id_of(command_payment_key(f"buy-{n}", "purchase"))
        if contains_pan(charge_id):
            return f"buy-{n}", charge_id
    raise AssertionError("no charge id with a Luhn-valid run in 20,000 tries")


def test_r9_2_a_charge_id_whose_digits_pass_luhn_can_still_be_refunded(
        tmp_path: Path) -> None:
    """R-9.2 against R-2.2: the ledger's own charge id is not a card number, through the
    CLI; a made-up id in that form naming no charge is refused without being echoed, and
    the same digits in free text are still refused as a card number."""
    command_id, charge_id = _purchase_whose_charge_id_passes_luhn()
    url = f"sqlite:///{tmp_path / 'l.db'}"
    lines = [
        {"type": "open_account", "account_id": "fl-9", "kind": "freelancer",
         "at": "2016-03-01"},
        {"type": "add_billing_method", "account_id": "fl-9", "method_id": "m-1",
         "token": "tok_ok_1", "at": "2016-03-02", **CARD},
        {"type": "upgrade_plan", "account_id": "fl-9", "at": "2016-03-03"},
        {"type": "purchase_connects", "account_id": "fl-9", "quantity": 10,
         "at": "2016-03-04", "command_id": command_id},
        {"type": "refund_charge", "account_id": "fl-9", "charge_id": charge_id,
         "reason": "asked", "at": "2016-03-05"},
        {"type": "refund_charge", "account_id": "fl-9", "reason": "asked",
         "charge_id": "ch_4111111111111111aaaaaaaa", "at": "2016-03-05"},
        {"type": "refund_charge", "account_id": "fl-9", "charge_id": charge_id,
         "reason": f"again {charge_id}", "at": "2016-03-05"},
    ]
    done = _cli(tmp_path, "ledger.cli", "--store", url, "--clock", "2016-06-01", "submit",
                stdin="".join(json.dumps(c) + "\n" for c in lines))
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(lines), done.stdout + done.stderr
    purchase, refund, made_up, in_text = results[3:]
    assert purchase["ok"] and purchase["charge_id"] == charge_id
    assert refund["ok"], refund
    assert "ChargeRefunded" in json.dumps(refund["events"])
    assert made_up["error"]["code"] == "unknown_charge"
    assert "4111111111111111" not in json.dumps(made_up)
    assert in_text["error"]["code"] == "pan_not_allowed"
    stored = (tmp_path / "l.db").read_bytes()
    assert b"4111111111111111" not in stored
