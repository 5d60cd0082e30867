"""R-3: paying. Earnings pay whole or not at all; a membership needs a billing
method; a failed charge leaves only PaymentFailed and is never retried."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledger import Ledger
from tests.helpers import assert_rejected, submit_ok

DAY = "2016-03-05"  # v2016: Plus costs 10.00 for a freelancer
DAY19 = "2019-06-03"  # v2019: a Basic freelancer may buy 10 Connects for 1.50

# -- helpers ------------------------------------------------------------------------


def open_freelancer(ledger: Ledger, at: str = DAY) -> None:
    submit_ok(ledger, {"type": "open_account", "account_id": "fl-1",
                       "kind": "freelancer", "at": at})


def add_card(ledger: Ledger, at: str = DAY, method_id: str = "m-1",
             token: str = "tok_ok_1") -> None:
    submit_ok(ledger, {"type": "add_billing_method", "account_id": "fl-1",
                       "method_id": method_id, "method": "card", "brand": "visa",
                       "last4": "4242", "exp_month": 12, "exp_year": 2035, "token": token,
                       "prepaid": False, "at": at})


def credit(ledger: Ledger, amount: str, at: str = DAY) -> None:
    submit_ok(ledger, {"type": "credit_earnings", "account_id": "fl-1", "amount": amount,
                       "at": at})


def cmd(type_: str, at: str = DAY, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "account_id": "fl-1", "at": at, **fields}


def names(ledger: Ledger) -> list[str]:
    return [e["name"] for e in ledger.history("fl-1")]


def charges(ledger: Ledger) -> list[dict[str, Any]]:
    return [e["data"] for e in ledger.history("fl-1") if e["name"] == "MembershipCharged"]


# -- earnings pay whole, or the primary method does -------------------------------------


@pytest.mark.parametrize(("earnings", "left"), [("25.00", "15.00"), ("10.00", "0.00")])
def test_plus_is_paid_whole_from_earnings_that_cover_it(ledger: Ledger, earnings: str,
                                                        left: str) -> None:
    # Given a freelancer with a card and earnings of at least 10.00
    open_freelancer(ledger)
    add_card(ledger)
    credit(ledger, earnings)
    # When they upgrade
    result = submit_ok(ledger, cmd("upgrade_plan"))
    # Then 10.00 came from earnings, nothing from the card
    assert sorted(result.events) == sorted(["PlanUpgraded", "MembershipCharged",
                                            "ConnectsGranted"])
    assert ledger.account("fl-1", as_of=DAY).earnings.available == Decimal(left)
    [charge] = charges(ledger)
    assert charge["method_id"] is None


def test_earnings_short_of_the_price_are_left_whole_and_the_card_pays_all(
        ledger: Ledger) -> None:
    # Given 9.99 of earnings, one cent short of 10.00
    open_freelancer(ledger)
    add_card(ledger)
    credit(ledger, "9.99")
    # When they upgrade
    submit_ok(ledger, cmd("upgrade_plan"))
    # Then the card paid the whole 10.00 and the earnings are untouched: never split
    view = ledger.account("fl-1", as_of=DAY)
    assert view.plan == "plus"
    assert view.earnings.available == Decimal("9.99")
    [charge] = charges(ledger)
    assert charge["method_id"] == "m-1"
    assert Decimal(str(charge["amount"])) == Decimal("10.00")


def test_a_declining_card_does_not_matter_when_earnings_cover(ledger: Ledger) -> None:
    # Given a card that would decline and 10.00 of earnings
    open_freelancer(ledger)
    add_card(ledger, token="tok_decline_1")
    credit(ledger, "10.00")
    # When they upgrade
    submit_ok(ledger, cmd("upgrade_plan"))
    # Then the earnings paid and the card was never tried
    assert ledger.account("fl-1", as_of=DAY).plan == "plus"
    assert "PaymentFailed" not in names(ledger)


def test_pending_earnings_do_not_pay(ledger: Ledger) -> None:
    # Given 50.00 of pending (not yet available) earnings and a card
    open_freelancer(ledger)
    add_card(ledger)
    submit_ok(ledger, cmd("record_pending_earnings", reference="e-1", amount="50.00"))
    # When they upgrade
    submit_ok(ledger, cmd("upgrade_plan"))
    # Then the card paid and the pending earnings are untouched
    view = ledger.account("fl-1", as_of=DAY)
    assert view.earnings.pending == Decimal("50.00")
    assert view.earnings.available == Decimal("0.00")
    [charge] = charges(ledger)
    assert charge["method_id"] == "m-1"


def test_released_earnings_pay(ledger: Ledger) -> None:
    # Given 12.50 pending, then released
    open_freelancer(ledger)
    add_card(ledger, token="tok_decline_1")
    submit_ok(ledger, cmd("record_pending_earnings", reference="e-1", amount="12.50"))
    submit_ok(ledger, cmd("release_earnings", reference="e-1"))
    # When they upgrade
    submit_ok(ledger, cmd("upgrade_plan"))
    # Then the released earnings paid 10.00
    view = ledger.account("fl-1", as_of=DAY)
    assert (view.earnings.pending, view.earnings.available) == (Decimal("0.00"),
                                                                Decimal("2.50"))


@pytest.mark.parametrize(("earnings", "left"), [("1.50", "0.00"), ("1.49", "1.49"),
                                                ("3.00", "1.50")])
def test_a_connects_purchase_is_paid_whole_by_earnings_or_by_the_card(
        ledger: Ledger, earnings: str, left: str) -> None:
    # Given a Basic freelancer in 2019 with a card and some earnings
    open_freelancer(ledger, at=DAY19)
    add_card(ledger, at=DAY19)
    credit(ledger, earnings, at=DAY19)
    # When they buy 10 Connects at 0.15
    result = submit_ok(ledger, cmd("purchase_connects", at=DAY19, quantity=10))
    # Then 1.50 is paid from earnings when they cover it, else wholly by the card
    assert result.events == ["ConnectsPurchased"]
    view = ledger.account("fl-1", as_of=DAY19)
    assert view.connects == 20
    assert view.earnings.available == Decimal(left)


def test_a_renewal_is_paid_from_earnings_that_cover_it(ledger: Ledger) -> None:
    # Given a Plus freelancer (card paid the upgrade) who has 10.00 of earnings by renewal
    open_freelancer(ledger)
    add_card(ledger)
    submit_ok(ledger, cmd("upgrade_plan"))
    credit(ledger, "10.00", at="2016-03-20")
    # When the renewal of 2016-04-05 is recorded
    ledger.run_billing(through="2016-04-05")
    # Then the earnings paid it whole
    view = ledger.account("fl-1", as_of="2016-04-05")
    assert view.plan == "plus"
    assert view.earnings.available == Decimal("0.00")
    assert [c["method_id"] for c in charges(ledger)] == ["m-1", None]


def test_a_renewal_with_short_earnings_is_charged_to_the_card(ledger: Ledger) -> None:
    open_freelancer(ledger)
    add_card(ledger)
    submit_ok(ledger, cmd("upgrade_plan"))
    credit(ledger, "9.99", at="2016-03-20")
    ledger.run_billing(through="2016-04-05")
    view = ledger.account("fl-1", as_of="2016-04-05")
    assert view.plan == "plus"
    assert view.earnings.available == Decimal("9.99")
    assert [c["method_id"] for c in charges(ledger)] == ["m-1", "m-1"]


# -- a membership needs a billing method ----------------------------------------------


def test_an_upgrade_needs_a_billing_method_even_when_earnings_cover_it(
        ledger: Ledger) -> None:
    # Given a freelancer with 50.00 of earnings and no billing method
    open_freelancer(ledger)
    credit(ledger, "50.00")
    # When they upgrade
    result = assert_rejected(ledger, cmd("upgrade_plan"), "billing_method_required",
                             rule="R-3.2")
    # Then nothing changed and the message is there to act on
    assert result.error.message
    view = ledger.account("fl-1", as_of=DAY)
    assert (view.plan, view.earnings.available, view.connects) == ("basic",
                                                                   Decimal("50.00"), 60)


def test_with_a_card_on_file_the_earnings_pay_the_upgrade(ledger: Ledger) -> None:
    # Given the same freelancer adds a card
    open_freelancer(ledger)
    credit(ledger, "50.00")
    assert_rejected(ledger, cmd("upgrade_plan"), "billing_method_required")
    add_card(ledger, at="2016-03-06")
    # When they upgrade again
    submit_ok(ledger, cmd("upgrade_plan", at="2016-03-06"))
    # Then the earnings paid it
    view = ledger.account("fl-1", as_of="2016-03-06")
    assert (view.plan, view.earnings.available) == ("plus", Decimal("40.00"))


def test_buying_connects_with_enough_earnings_needs_no_method(ledger: Ledger) -> None:
    # Given a Basic freelancer in 2019 with 2.00 of earnings and no method
    open_freelancer(ledger, at=DAY19)
    credit(ledger, "2.00", at=DAY19)
    # When they buy 10 Connects
    submit_ok(ledger, cmd("purchase_connects", at=DAY19, quantity=10))
    # Then 1.50 came from earnings
    view = ledger.account("fl-1", as_of=DAY19)
    assert view.connects == 20
    assert view.earnings.available == Decimal("0.50")
    assert view.billing_methods == []


def test_buying_connects_without_enough_earnings_needs_a_method(ledger: Ledger) -> None:
    # Given 1.49 of earnings, short of 1.50, and no method
    open_freelancer(ledger, at=DAY19)
    credit(ledger, "1.49", at=DAY19)
    # When they buy 10 Connects
    assert_rejected(ledger, cmd("purchase_connects", at=DAY19, quantity=10),
                    "billing_method_required")
    # Then nothing was bought or spent
    view = ledger.account("fl-1", as_of=DAY19)
    assert (view.connects, view.earnings.available) == (10, Decimal("1.49"))


# -- a failed charge ----------------------------------------------------------------------


def test_a_failed_upgrade_charge_records_only_payment_failed(ledger: Ledger) -> None:
    # Given a freelancer whose card declines, no earnings
    open_freelancer(ledger)
    add_card(ledger, token="tok_decline_1")
    before_view = ledger.account("fl-1", as_of=DAY).model_dump(mode="json")
    before = ledger.account("fl-1").version
    # When they upgrade
    result = ledger.submit(cmd("upgrade_plan"))
    # Then the result is payment_failed with exactly one PaymentFailed event
    assert not result.ok
    assert result.error.code == "payment_failed"
    assert result.error.rule == "R-3.3"
    assert result.events == ["PaymentFailed"]
    dumped = result.model_dump(mode="json")
    assert dumped["ok"] is False and dumped["events"] == ["PaymentFailed"]
    assert ledger.account("fl-1").version == before + 1
    last = ledger.history("fl-1")[-1]
    assert last["name"] == "PaymentFailed"
    assert last["data"]["reason"]
    # And nothing of the upgrade: same plan, cycle, Connects and earnings
    after_view = ledger.account("fl-1", as_of=DAY).model_dump(mode="json")
    for field in ("plan", "billing_day", "cycle_start", "next_billing_date", "connects",
                  "earnings", "policy_version", "billing_methods"):
        assert after_view[field] == before_view[field], field
    assert after_view["plan"] == "basic"
    assert after_view["connects"] == 60


def test_a_failed_purchase_charge_records_only_payment_failed(ledger: Ledger) -> None:
    # Given a Basic freelancer in 2019 whose card declines, earnings 1.00
    open_freelancer(ledger, at=DAY19)
    add_card(ledger, at=DAY19, token="tok_decline_1")
    credit(ledger, "1.00", at=DAY19)
    before = len(ledger.history("fl-1"))
    # When they buy 10 Connects (1.50)
    result = ledger.submit(cmd("purchase_connects", at=DAY19, quantity=10))
    # Then only PaymentFailed; no Connects; earnings untouched
    assert result.error is not None and result.error.code == "payment_failed"
    assert result.events == ["PaymentFailed"]
    assert names(ledger)[before:] == ["PaymentFailed"]
    view = ledger.account("fl-1", as_of=DAY19)
    assert (view.connects, view.earnings.available) == (10, Decimal("1.00"))


def test_a_failed_upgrade_is_never_retried_later(ledger: Ledger) -> None:
    # Given an upgrade whose charge failed on 2016-03-05
    open_freelancer(ledger)
    add_card(ledger, token="tok_decline_1")
    assert not ledger.submit(cmd("upgrade_plan")).ok
    # When three months of billing run
    ledger.run_billing(through="2016-06-05")
    # Then there was one attempt only and the account stayed Basic
    assert names(ledger).count("PaymentFailed") == 1
    assert "MembershipCharged" not in names(ledger)
    assert ledger.account("fl-1", as_of="2016-06-05").plan == "basic"


def test_a_failed_renewal_is_never_retried_later(ledger: Ledger) -> None:
    # Given a Plus freelancer whose upgrade earnings paid, with a declining card
    open_freelancer(ledger)
    add_card(ledger, token="tok_decline_1")
    credit(ledger, "10.00")
    submit_ok(ledger, cmd("upgrade_plan"))
    # When the renewal of 2016-04-05 fails and billing runs on to 2016-07-05
    ledger.run_billing(through="2016-07-05")
    # Then one PaymentFailed (on 2016-04-05), one charge (the upgrade), and Basic since
    failed = [e for e in ledger.history("fl-1") if e["name"] == "PaymentFailed"]
    assert len(failed) == 1
    assert str(failed[0]["at"]).startswith("2016-04-05")
    assert failed[0]["data"]["reason"]
    assert len(charges(ledger)) == 1
    assert ledger.account("fl-1", as_of="2016-04-05").plan == "basic"
    assert ledger.account("fl-1", as_of="2016-04-04").plan == "plus"


def test_a_new_upgrade_after_a_failure_is_a_new_attempt(ledger: Ledger) -> None:
    # Given a failed upgrade on 2016-03-05
    open_freelancer(ledger)
    add_card(ledger, token="tok_decline_1")
    assert not ledger.submit(cmd("upgrade_plan")).ok
    # When the freelancer fixes the method and upgrades again
    add_card(ledger, at="2016-03-08", method_id="m-2", token="tok_ok_2")
    submit_ok(ledger, cmd("make_primary_method", at="2016-03-08", method_id="m-2"))
    submit_ok(ledger, cmd("upgrade_plan", at="2016-03-08"))
    # Then the new card paid 10.00 and the cycle starts that day
    view = ledger.account("fl-1", as_of="2016-03-08")
    assert view.plan == "plus"
    assert view.billing_day == 8
    [charge] = charges(ledger)
    assert charge["method_id"] == "m-2"
