"""R-2: billing methods (seed 000): cards and PayPal, the primary method, the PayPal
backup card, suspended methods, and no full card numbers anywhere."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest

from ledger import Ledger
from tests.helpers import assert_rejected, submit_ok

DAY = "2016-03-05"
PAN = "4242424242424242"  # Luhn-valid test Visa number
PAN2 = "4111111111111111"

# -- helpers ------------------------------------------------------------------------


def open_freelancer(ledger: Ledger, account_id: str = "fl-1", at: str = DAY) -> None:
    submit_ok(ledger, {"type": "open_account", "account_id": account_id,
                       "kind": "freelancer", "at": at})


def card(method_id: str = "m-1", at: str = DAY, account_id: str = "fl-1",
         token: str = "tok_ok_1", brand: str = "visa", last4: str = "4242",
         prepaid: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": "add_billing_method", "account_id": account_id, "method_id": method_id,
            "method": "card", "brand": brand, "last4": last4, "exp_month": 12,
            "exp_year": 2035, "token": token, "prepaid": prepaid, "at": at, **extra}


def paypal(method_id: str = "pp-1", at: str = DAY, account_id: str = "fl-1",
           email: str = "a@b.c", verified: bool = True) -> dict[str, Any]:
    return {"type": "add_billing_method", "account_id": account_id, "method_id": method_id,
            "method": "paypal", "email": email, "verified": verified, "at": at}


def cmd(type_: str, at: str = DAY, account_id: str = "fl-1", **fields: Any) -> dict[str, Any]:
    return {"type": type_, "account_id": account_id, "at": at, **fields}


def methods(ledger: Ledger, at: str = DAY, account_id: str = "fl-1") -> list[tuple[str, bool]]:
    return [(m.method_id, m.primary)
            for m in ledger.account(account_id, as_of=at).billing_methods]


def primaries(ledger: Ledger, at: str = DAY, account_id: str = "fl-1") -> list[str]:
    return [mid for mid, primary in methods(ledger, at, account_id) if primary]


def charged_events(ledger: Ledger, account_id: str = "fl-1") -> list[dict[str, Any]]:
    return [e for e in ledger.history(account_id) if e["name"] == "MembershipCharged"]


# -- kinds of methods -------------------------------------------------------------


@pytest.mark.parametrize("brand", ["visa", "mastercard", "discover"])
def test_a_card_of_an_accepted_brand_can_be_added(ledger: Ledger, brand: str) -> None:
    # Given a freelancer
    open_freelancer(ledger)
    # When they add a card of an accepted brand
    result = submit_ok(ledger, card(brand=brand, last4="1881"))
    # Then it is on file with its brand and last four digits
    assert result.events == ["MethodAdded"]
    [method] = ledger.account("fl-1", as_of=DAY).billing_methods
    assert (method.method_id, method.method, method.brand, method.last4) == (
        "m-1", "card", brand, "1881")


def test_a_prepaid_card_can_be_added_and_pays_for_plus(ledger: Ledger) -> None:
    # Given a freelancer with a prepaid card
    open_freelancer(ledger)
    submit_ok(ledger, card(prepaid=True))
    # When they upgrade
    submit_ok(ledger, cmd("upgrade_plan"))
    # Then the prepaid card paid
    assert ledger.account("fl-1", as_of=DAY).plan == "plus"


def test_a_verified_paypal_account_can_be_added(ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, paypal())
    [method] = ledger.account("fl-1", as_of=DAY).billing_methods
    assert (method.method_id, method.method, method.primary) == ("pp-1", "paypal", True)


def test_an_unverified_paypal_account_is_refused(ledger: Ledger) -> None:
    # Given a freelancer
    open_freelancer(ledger)
    # When they add an unverified PayPal account
    assert_rejected(ledger, paypal(verified=False), "paypal_not_verified", rule="R-2.1")
    # Then no method is on file
    assert ledger.account("fl-1", as_of=DAY).billing_methods == []


@pytest.mark.parametrize("method", ["bank", "earnings", "crypto"])
def test_only_cards_and_paypal_are_billing_methods(ledger: Ledger, method: str) -> None:
    open_freelancer(ledger)
    bad = card()
    bad["method"] = method
    assert_rejected(ledger, bad, "validation_error")


def test_the_earnings_balance_is_not_a_billing_method(ledger: Ledger) -> None:
    # Given a freelancer with 50.00 of available earnings and no method
    open_freelancer(ledger)
    submit_ok(ledger, cmd("credit_earnings", amount="50.00"))
    # Then no billing method is listed, and a membership still needs one
    view = ledger.account("fl-1", as_of=DAY)
    assert view.billing_methods == []
    assert view.earnings.available == Decimal("50.00")
    assert_rejected(ledger, cmd("upgrade_plan"), "billing_method_required")


# -- what is kept; no full card numbers ---------------------------------------------


def test_the_ledger_keeps_token_brand_last4_and_expiry_month(ledger: Ledger) -> None:
    # Given a card added with token tok_ok_77, mastercard, 5454, expiring 7/2033
    open_freelancer(ledger)
    submit_ok(ledger, {**card(token="tok_ok_77", brand="mastercard", last4="5454"),
                       "exp_month": 7, "exp_year": 2033})
    # Then the stored event keeps the token, but history never shows it
    stored = "\n".join(n.state.decode("utf-8", "replace")
                       for n in ledger.recorder.select_notifications(0, 10**6))
    assert "tok_ok_77" in stored
    [added] = [e for e in ledger.history("fl-1") if e["name"] == "MethodAdded"]
    recorded = json.dumps(added["data"], default=str)
    assert "tok_ok_77" not in recorded
    assert "mastercard" in recorded
    assert "5454" in recorded
    assert added["data"]["exp_month"] == 7
    # And the view shows brand and last4 only
    dumped = ledger.account("fl-1", as_of=DAY).model_dump(mode="json")
    assert dumped["billing_methods"] == [{"method_id": "m-1", "method": "card",
                                          "brand": "mastercard", "last4": "5454",
                                          "primary": True, "suspended": False}]


PAN_COMMANDS = [
    pytest.param(card(token=PAN), id="card-token"),
    pytest.param(card(method_id=PAN), id="method-id"),
    pytest.param(paypal(email=f"{PAN2}@example.com"), id="paypal-email"),
    pytest.param(cmd("suspend_account", reason=f"card {PAN2} reported"), id="reason"),
    pytest.param(cmd("suspend_account", reason="card 4242 4242 4242 4242 reported"),
                 id="reason-spaced"),
    pytest.param(cmd("credit_earnings", amount="5.00", reference=PAN), id="reference"),
]


@pytest.mark.parametrize("command", PAN_COMMANDS)
def test_a_full_card_number_anywhere_in_a_command_is_refused(
        ledger: Ledger, command: dict[str, Any], caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    # Given a freelancer
    open_freelancer(ledger)
    # When a command carries a full card number
    result = assert_rejected(ledger, command, "pan_not_allowed", rule="R-2.2")
    # Then the number is in no result, no event, no error message, no log line
    out = capsys.readouterr()
    for number in (PAN, PAN2, "4242 4242 4242 4242"):
        assert number not in result.model_dump_json()
        assert number not in result.error.message
        assert number not in json.dumps(ledger.history("fl-1"), default=str)
        assert number not in caplog.text
        assert number not in out.out + out.err
        assert number not in ledger.account("fl-1").model_dump_json()
    assert ledger.account("fl-1").billing_methods == []


def test_a_full_card_number_in_a_command_id_is_refused_and_not_echoed(
        ledger: Ledger) -> None:
    open_freelancer(ledger)
    command = {**cmd("credit_earnings", amount="5.00"), "command_id": PAN}
    result = assert_rejected(ledger, command, "pan_not_allowed")
    assert PAN not in result.model_dump_json()


def test_ordinary_digits_are_not_mistaken_for_a_card_number(ledger: Ledger) -> None:
    # A 16-digit string that fails the Luhn check, and a short number, are fine
    open_freelancer(ledger)
    submit_ok(ledger, card(token="tok_1234567812345678"))
    submit_ok(ledger, cmd("suspend_account", at="2016-03-06", reason="ticket 123456"))


# -- several methods, one primary -------------------------------------------------


def test_the_first_method_added_becomes_primary(ledger: Ledger) -> None:
    # Given a freelancer
    open_freelancer(ledger)
    # When they add a card, then a PayPal account, then another card
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, paypal("pp-1"))
    submit_ok(ledger, card("m-2", token="tok_ok_2"))
    # Then all three are on file and only the first is primary
    assert sorted(methods(ledger)) == [("m-1", True), ("m-2", False), ("pp-1", False)]


def test_paypal_added_first_becomes_primary(ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, paypal("pp-1"))
    submit_ok(ledger, card("m-1"))
    assert primaries(ledger) == ["pp-1"]


def test_make_primary_method_switches_the_primary(ledger: Ledger) -> None:
    # Given two cards, m-1 primary
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, card("m-2", token="tok_ok_2"))
    # When m-2 is made primary
    result = submit_ok(ledger, cmd("make_primary_method", at="2016-03-06", method_id="m-2"))
    # Then exactly m-2 is primary
    assert result.events == ["PrimaryMethodChanged"]
    assert primaries(ledger, "2016-03-06") == ["m-2"]
    # And the day before m-1 was
    assert primaries(ledger, DAY) == ["m-1"]


def test_make_primary_of_an_unknown_method_is_refused(ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    assert_rejected(ledger, cmd("make_primary_method", method_id="m-9"), "unknown_method")
    assert primaries(ledger) == ["m-1"]


def test_a_method_id_cannot_be_added_twice(ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    before = len(ledger.history("fl-1"))
    result = ledger.submit(card("m-1", token="tok_ok_2", last4="1111"))
    assert result.error is not None
    assert result.error.code in ("method_exists", "duplicate_id")
    assert len(ledger.history("fl-1")) == before
    assert [m.last4 for m in ledger.account("fl-1").billing_methods] == ["4242"]


def test_removing_a_non_primary_method_keeps_the_primary(ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, card("m-2", token="tok_ok_2"))
    submit_ok(ledger, cmd("remove_billing_method", method_id="m-2"))
    assert methods(ledger) == [("m-1", True)]


# -- the primary cannot be removed -----------------------------------------------------


def test_the_only_method_cannot_be_removed(ledger: Ledger) -> None:
    # Given a single card, primary
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    # When it is removed
    result = assert_rejected(ledger, cmd("remove_billing_method", method_id="m-1"),
                             "cannot_remove_primary", rule="R-2.4")
    # Then it is still on file and the message says what to do
    assert "m-1" in result.error.message
    assert methods(ledger) == [("m-1", True)]


def test_the_primary_cannot_be_removed_even_with_an_alternative(ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, paypal("pp-1"))
    assert_rejected(ledger, cmd("remove_billing_method", method_id="m-1"),
                    "cannot_remove_primary")
    assert sorted(methods(ledger)) == [("m-1", True), ("pp-1", False)]


def test_make_another_primary_then_remove_the_old_primary(ledger: Ledger) -> None:
    # Given m-1 primary and m-2 on file
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, card("m-2", token="tok_ok_2"))
    # When m-2 becomes primary and m-1 is removed
    submit_ok(ledger, cmd("make_primary_method", method_id="m-2"))
    result = submit_ok(ledger, cmd("remove_billing_method", method_id="m-1"))
    # Then only m-2 remains, primary
    assert result.events == ["MethodRemoved"]
    assert methods(ledger) == [("m-2", True)]


def test_removing_an_unknown_method_is_refused(ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    assert_rejected(ledger, cmd("remove_billing_method", method_id="m-9"), "unknown_method")


def test_a_removed_method_cannot_be_made_primary(ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, card("m-2", token="tok_ok_2"))
    submit_ok(ledger, cmd("remove_billing_method", method_id="m-2"))
    assert_rejected(ledger, cmd("make_primary_method", method_id="m-2"), "unknown_method")


# -- PayPal primary needs a backup card -------------------------------------------------


def test_paypal_primary_without_a_card_cannot_pay_for_plus(ledger: Ledger) -> None:
    # Given a freelancer whose only method is PayPal
    open_freelancer(ledger)
    submit_ok(ledger, paypal())
    # When they upgrade with no earnings
    assert_rejected(ledger, cmd("upgrade_plan"), "backup_card_required", rule="R-2.5")
    # Then they stay Basic
    assert ledger.account("fl-1", as_of=DAY).plan == "basic"


def test_paypal_primary_without_a_card_cannot_buy_connects(ledger: Ledger) -> None:
    # Given a Basic freelancer under v2019 whose only method is PayPal
    open_freelancer(ledger, at="2019-06-03")
    submit_ok(ledger, paypal(at="2019-06-03"))
    # When they buy 10 Connects (1.50) with no earnings
    assert_rejected(ledger, cmd("purchase_connects", at="2019-06-03", quantity=10),
                    "backup_card_required")
    assert ledger.account("fl-1", as_of="2019-06-03").connects == 10


def test_paypal_primary_without_a_card_is_fine_when_earnings_pay(ledger: Ledger) -> None:
    # Given PayPal only and 10.00 of earnings
    open_freelancer(ledger)
    submit_ok(ledger, paypal())
    submit_ok(ledger, cmd("credit_earnings", amount="10.00"))
    # When they upgrade
    submit_ok(ledger, cmd("upgrade_plan"))
    # Then the earnings paid it
    view = ledger.account("fl-1", as_of=DAY)
    assert view.plan == "plus"
    assert view.earnings.available == Decimal("0.00")


def test_a_removed_card_is_no_backup_for_paypal(ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, paypal("pp-1"))
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, cmd("remove_billing_method", method_id="m-1"))
    assert_rejected(ledger, cmd("upgrade_plan"), "backup_card_required")


def test_paypal_primary_with_a_backup_card_pays_with_paypal(ledger: Ledger) -> None:
    # Given PayPal primary and a card on file
    open_freelancer(ledger)
    submit_ok(ledger, paypal("pp-1"))
    submit_ok(ledger, card("m-1"))
    # When they upgrade
    submit_ok(ledger, cmd("upgrade_plan"))
    # Then PayPal was charged 10.00
    [charge] = charged_events(ledger)
    assert charge["data"]["method_id"] == "pp-1"
    assert Decimal(str(charge["data"]["amount"])) == Decimal("10.00")


def test_a_declined_paypal_charge_falls_to_the_backup_card_in_the_same_attempt(
        ledger: Ledger) -> None:
    # Given PayPal that declines, and a good backup card
    open_freelancer(ledger)
    submit_ok(ledger, paypal("pp-1", email="declined@b.c"))
    submit_ok(ledger, card("m-1"))
    # When they upgrade
    result = ledger.submit(cmd("upgrade_plan"))
    # Then the same command succeeds, charged to the card
    assert result.ok, result.model_dump(mode="json")
    assert "PlanUpgraded" in result.events
    assert ledger.account("fl-1", as_of=DAY).plan == "plus"
    [charge] = charged_events(ledger)
    assert charge["data"]["method_id"] == "m-1"


def test_paypal_and_backup_card_both_declined_fail_the_payment(ledger: Ledger) -> None:
    # Given PayPal that declines and a backup card that declines
    open_freelancer(ledger)
    submit_ok(ledger, paypal("pp-1", email="declined@b.c"))
    submit_ok(ledger, card("m-1", token="tok_decline_1"))
    before = len(ledger.history("fl-1"))
    # When they upgrade
    result = ledger.submit(cmd("upgrade_plan"))
    # Then the payment failed, once, and they stay Basic
    assert not result.ok
    assert result.error.code == "payment_failed"
    assert result.events == ["PaymentFailed"]
    assert len(ledger.history("fl-1")) == before + 1
    assert ledger.account("fl-1", as_of=DAY).plan == "basic"


def test_only_the_oldest_active_card_backs_paypal(ledger: Ledger) -> None:
    # Given PayPal that declines, an older card that declines, a newer good card
    open_freelancer(ledger)
    submit_ok(ledger, paypal("pp-1", email="declined@b.c"))
    submit_ok(ledger, card("card-old", token="tok_decline_old"))
    submit_ok(ledger, card("card-new", token="tok_ok_new"))
    # When they upgrade
    result = ledger.submit(cmd("upgrade_plan"))
    # Then the newer card was not tried: the payment failed
    assert result.error is not None and result.error.code == "payment_failed"
    assert charged_events(ledger) == []
    assert ledger.account("fl-1", as_of=DAY).plan == "basic"


def test_a_suspended_card_is_skipped_as_paypal_backup(ledger: Ledger) -> None:
    # Given PayPal that declines, an older card suspended, a newer good card
    open_freelancer(ledger)
    submit_ok(ledger, paypal("pp-1", email="declined@b.c"))
    submit_ok(ledger, card("card-old", token="tok_ok_old"))
    submit_ok(ledger, card("card-new", token="tok_ok_new"))
    submit_ok(ledger, cmd("suspend_billing_method", method_id="card-old"))
    # When they upgrade
    result = ledger.submit(cmd("upgrade_plan"))
    # Then the oldest *active* card paid
    assert result.ok, result.model_dump(mode="json")
    [charge] = charged_events(ledger)
    assert charge["data"]["method_id"] == "card-new"


def test_a_declined_primary_card_does_not_fall_back_to_paypal(ledger: Ledger) -> None:
    # Given a primary card that declines, and a good PayPal on file
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1", token="tok_decline_1"))
    submit_ok(ledger, paypal("pp-1"))
    # When they upgrade
    result = ledger.submit(cmd("upgrade_plan"))
    # Then the payment failed: there is no backup for a card
    assert result.error is not None and result.error.code == "payment_failed"
    assert result.events == ["PaymentFailed"]
    assert ledger.account("fl-1", as_of=DAY).plan == "basic"


def test_a_declined_paypal_renewal_is_paid_by_the_backup_card(ledger: Ledger) -> None:
    # Given a Plus freelancer paying by PayPal with a backup card
    open_freelancer(ledger)
    submit_ok(ledger, paypal("pp-1", email="ok@b.c"))
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, cmd("upgrade_plan"))
    # And later a second PayPal that declines becomes primary
    submit_ok(ledger, paypal("pp-2", at="2016-03-10", email="declined@b.c"))
    submit_ok(ledger, cmd("make_primary_method", at="2016-03-10", method_id="pp-2"))
    # When the renewal of 2016-04-05 is recorded
    ledger.run_billing(through="2016-04-05")
    # Then the card paid it and the plan renewed
    view = ledger.account("fl-1", as_of="2016-04-05")
    assert view.plan == "plus"
    charges = charged_events(ledger)
    assert [c["data"]["method_id"] for c in charges] == ["pp-1", "m-1"]


# -- suspended methods --------------------------------------------------------------


def test_a_method_can_be_suspended_and_reinstated(ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    r = submit_ok(ledger, cmd("suspend_billing_method", at="2016-03-06", method_id="m-1"))
    assert r.events == ["MethodSuspended"]
    [m] = ledger.account("fl-1", as_of="2016-03-06").billing_methods
    assert (m.suspended, m.primary) == (True, True)
    r = submit_ok(ledger, cmd("reinstate_billing_method", at="2016-03-07", method_id="m-1"))
    assert r.events == ["MethodReinstated"]
    [m] = ledger.account("fl-1", as_of="2016-03-07").billing_methods
    assert m.suspended is False


def test_suspending_an_unknown_method_is_refused(ledger: Ledger) -> None:
    open_freelancer(ledger)
    assert_rejected(ledger, cmd("suspend_billing_method", method_id="m-9"), "unknown_method")
    assert_rejected(ledger, cmd("reinstate_billing_method", method_id="m-9"), "unknown_method")


def test_an_upgrade_charged_to_a_suspended_primary_is_refused(ledger: Ledger) -> None:
    # Given a freelancer whose only card is suspended
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, cmd("suspend_billing_method", method_id="m-1"))
    # When they upgrade with no earnings
    assert_rejected(ledger, cmd("upgrade_plan"), "method_suspended", rule="R-2.6")
    # Then no charge, no PaymentFailed, still Basic
    assert ledger.account("fl-1", as_of=DAY).plan == "basic"
    assert "PaymentFailed" not in [e["name"] for e in ledger.history("fl-1")]


def test_a_purchase_charged_to_a_suspended_primary_is_refused(ledger: Ledger) -> None:
    open_freelancer(ledger, at="2019-06-03")
    submit_ok(ledger, card("m-1", at="2019-06-03"))
    submit_ok(ledger, cmd("suspend_billing_method", at="2019-06-03", method_id="m-1"))
    assert_rejected(ledger, cmd("purchase_connects", at="2019-06-03", quantity=10),
                    "method_suspended")
    assert ledger.account("fl-1", as_of="2019-06-03").connects == 10


def test_a_reinstated_primary_can_be_charged_again(ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, cmd("suspend_billing_method", method_id="m-1"))
    submit_ok(ledger, cmd("reinstate_billing_method", at="2016-03-06", method_id="m-1"))
    submit_ok(ledger, cmd("upgrade_plan", at="2016-03-06"))
    assert ledger.account("fl-1", as_of="2016-03-06").plan == "plus"


def test_a_suspended_primary_is_not_needed_when_earnings_pay(ledger: Ledger) -> None:
    # Given a suspended primary card and 10.00 of earnings
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, cmd("suspend_billing_method", method_id="m-1"))
    submit_ok(ledger, cmd("credit_earnings", amount="10.00"))
    # When they upgrade
    submit_ok(ledger, cmd("upgrade_plan"))
    # Then the earnings paid, no charge went to the card
    view = ledger.account("fl-1", as_of=DAY)
    assert (view.plan, view.earnings.available) == ("plus", Decimal("0.00"))


def test_a_suspended_backup_card_is_never_charged(ledger: Ledger) -> None:
    # Given PayPal that declines and a single backup card that is suspended
    open_freelancer(ledger)
    submit_ok(ledger, paypal("pp-1", email="declined@b.c"))
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, cmd("suspend_billing_method", method_id="m-1"))
    # When they upgrade
    result = ledger.submit(cmd("upgrade_plan"))
    # Then nothing was charged and they stay Basic
    assert not result.ok
    assert charged_events(ledger) == []
    assert ledger.account("fl-1", as_of=DAY).plan == "basic"


def test_a_suspended_primary_on_the_billing_date_downgrades_without_a_charge(
        ledger: Ledger) -> None:
    # Given a Plus freelancer since 2016-03-05 whose card is suspended on 2016-03-20
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, cmd("upgrade_plan"))
    submit_ok(ledger, cmd("suspend_billing_method", at="2016-03-20", method_id="m-1"))
    # When the billing date 2016-04-05 is recorded
    ledger.run_billing(through="2016-04-05")
    # Then the account is Basic, with no charge and no failed payment that day
    view = ledger.account("fl-1", as_of="2016-04-05")
    assert view.plan == "basic"
    on_date = [e for e in ledger.history("fl-1") if str(e["at"]).startswith("2016-04-05")]
    names = [e["name"] for e in on_date]
    assert "PlanDowngraded" in names
    assert "MembershipCharged" not in names
    assert "PaymentFailed" not in names
    [downgrade] = [e for e in on_date if e["name"] == "PlanDowngraded"]
    assert "suspended" in json.dumps(downgrade["data"], default=str)


def test_a_primary_reinstated_before_the_billing_date_renews_normally(
        ledger: Ledger) -> None:
    open_freelancer(ledger)
    submit_ok(ledger, card("m-1"))
    submit_ok(ledger, cmd("upgrade_plan"))
    submit_ok(ledger, cmd("suspend_billing_method", at="2016-03-20", method_id="m-1"))
    submit_ok(ledger, cmd("reinstate_billing_method", at="2016-04-04", method_id="m-1"))
    ledger.run_billing(through="2016-04-05")
    view = ledger.account("fl-1", as_of="2016-04-05")
    assert view.plan == "plus"
    assert view.next_billing_date.isoformat() == "2016-05-05"
    assert len(charged_events(ledger)) == 2
