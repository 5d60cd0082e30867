"""R-6.1: earnings pending -> available -> withdrawn or spent; positive amounts; unique ids."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledger import Ledger
from tests.helpers import accept, add_card, open_account, refuse

# --------------------------------------------------------------------------- helpers


def earnings(ledger: Ledger, account_id: str, as_of: str) -> tuple[Decimal, Decimal]:
    view = ledger.account(account_id, as_of=as_of)
    return Decimal(view.earnings.pending), Decimal(view.earnings.available)


# --------------------------------------------------------------------------- flow


def test_r6_1_earnings_arrive_pending_are_released_then_withdrawn(ledger: Ledger) -> None:
    # Given a freelancer
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    # When 100.00 arrive pending
    r = accept(ledger, "record_pending_earnings", "fl-1", "2016-03-06", reference="e-1",
               amount="100.00")
    # Then they are pending, not available
    assert r.events == ["EarningsPending"]
    assert earnings(ledger, "fl-1", "2016-03-06") == (Decimal("100.00"), Decimal("0.00"))
    # When released, Then available
    r = accept(ledger, "release_earnings", "fl-1", "2016-03-07", reference="e-1")
    assert r.events == ["EarningsReleased"]
    assert earnings(ledger, "fl-1", "2016-03-07") == (Decimal("0.00"), Decimal("100.00"))
    # When 40.00 are withdrawn, Then 60.00 remain
    r = accept(ledger, "withdraw_earnings", "fl-1", "2016-03-08", amount="40.00")
    assert r.events == ["EarningsWithdrawn"]
    assert earnings(ledger, "fl-1", "2016-03-08") == (Decimal("0.00"), Decimal("60.00"))
    # and the past is still answered as it was
    assert earnings(ledger, "fl-1", "2016-03-06") == (Decimal("100.00"), Decimal("0.00"))


def test_r6_1_releasing_one_reference_moves_only_its_amount(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "record_pending_earnings", "fl-1", "2016-03-06", reference="e-1",
           amount="100.00")
    accept(ledger, "record_pending_earnings", "fl-1", "2016-03-06", reference="e-2",
           amount="50.25")
    assert earnings(ledger, "fl-1", "2016-03-06") == (Decimal("150.25"), Decimal("0.00"))
    accept(ledger, "release_earnings", "fl-1", "2016-03-07", reference="e-2")
    assert earnings(ledger, "fl-1", "2016-03-07") == (Decimal("100.00"), Decimal("50.25"))


def test_r6_1_credit_earnings_makes_an_amount_available_at_once(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    r = accept(ledger, "credit_earnings", "fl-1", "2016-03-06", amount="12.50")
    assert r.events == ["EarningsCredited"]
    assert earnings(ledger, "fl-1", "2016-03-06") == (Decimal("0.00"), Decimal("12.50"))


def test_r6_1_pending_earnings_cannot_be_withdrawn(ledger: Ledger) -> None:
    # Given 100.00 pending and nothing available
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "record_pending_earnings", "fl-1", "2016-03-06", reference="e-1",
           amount="100.00")
    # When 50.00 are withdrawn, Then insufficient_earnings and nothing moves
    r = refuse(ledger, "insufficient_earnings", "withdraw_earnings", "fl-1", "2016-03-07",
               amount="50.00")
    assert r.error.rule == "R-6.1"
    assert earnings(ledger, "fl-1", "2016-03-07") == (Decimal("100.00"), Decimal("0.00"))


def test_r6_1_withdrawing_a_cent_more_than_available_is_refused(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-06", amount="60.00")
    refuse(ledger, "insufficient_earnings", "withdraw_earnings", "fl-1", "2016-03-07",
           amount="60.01")
    accept(ledger, "withdraw_earnings", "fl-1", "2016-03-07", amount="60.00")
    assert earnings(ledger, "fl-1", "2016-03-07") == (Decimal("0.00"), Decimal("0.00"))
    refuse(ledger, "insufficient_earnings", "withdraw_earnings", "fl-1", "2016-03-08",
           amount="0.01")


def test_r6_1_earnings_leave_by_paying_for_connects(ledger: Ledger) -> None:
    # Given a v2019 freelancer with 10.00 available
    open_account(ledger, "fl-1", "freelancer", "2019-06-01")
    accept(ledger, "credit_earnings", "fl-1", "2019-06-01", amount="10.00")
    # When it buys 20 Connects at 0.15, Then 3.00 leave the earnings
    accept(ledger, "purchase_connects", "fl-1", "2019-06-02", quantity=20)
    assert earnings(ledger, "fl-1", "2019-06-02") == (Decimal("0.00"), Decimal("7.00"))


def test_r6_1_earnings_too_small_to_pay_stay_untouched_when_the_card_pays(
        ledger: Ledger) -> None:
    # Given a v2016 Plus freelancer (card on file) with 5.00 available
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    add_card(ledger, "fl-1", "2016-03-05")
    accept(ledger, "upgrade_plan", "fl-1", "2016-03-05")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-06", amount="5.00")
    # When it buys 10 Connects for 10.00, Then the card pays it whole; earnings never negative
    accept(ledger, "purchase_connects", "fl-1", "2016-03-07", quantity=10)
    assert earnings(ledger, "fl-1", "2016-03-07") == (Decimal("0.00"), Decimal("5.00"))


def test_r6_1_releasing_an_unknown_reference_is_refused(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "record_pending_earnings", "fl-1", "2016-03-06", reference="e-1",
           amount="100.00")
    r = refuse(ledger, "unknown_reference", "release_earnings", "fl-1", "2016-03-07",
               reference="e-9")
    assert r.error.message
    assert earnings(ledger, "fl-1", "2016-03-07") == (Decimal("100.00"), Decimal("0.00"))


def test_r6_1_a_reference_of_another_account_is_unknown_here(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    accept(ledger, "record_pending_earnings", "fl-1", "2016-03-06", reference="e-1",
           amount="100.00")
    refuse(ledger, "unknown_reference", "release_earnings", "fl-2", "2016-03-07",
           reference="e-1")
    assert earnings(ledger, "fl-1", "2016-03-07") == (Decimal("100.00"), Decimal("0.00"))


# --------------------------------------------------------------------------- positive amounts


@pytest.mark.parametrize(("type_", "fields", "bad_field"), [
    ("record_pending_earnings", {"reference": "e-1", "amount": "0.00"}, "amount"),
    ("record_pending_earnings", {"reference": "e-1", "amount": "-5.00"}, "amount"),
    ("record_pending_earnings", {"reference": "e-1", "amount": "1.005"}, "amount"),
    ("credit_earnings", {"amount": "0"}, "amount"),
    ("withdraw_earnings", {"amount": "-0.01"}, "amount"),
    ("purchase_connects", {"quantity": 0}, "quantity"),
    ("purchase_connects", {"quantity": -5}, "quantity"),
    ("record_invoice", {"invoice_id": "i-1", "amount": "0.00"}, "amount"),
    # Money is a decimal string (INTERFACE.md): a JSON number is a wrong type
    ("credit_earnings", {"amount": 5.25}, "amount"),
    ("credit_earnings", {"amount": 5}, "amount"),
    ("withdraw_earnings", {"amount": 1.0}, "amount"),
])
def test_r6_1_an_amount_or_quantity_not_positive_or_of_the_wrong_type_is_refused(
        ledger: Ledger, type_: str, fields: dict[str, Any], bad_field: str) -> None:
    # Given a v2016 Plus freelancer with earnings (so only the figure can be wrong)
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    add_card(ledger, "fl-1", "2016-03-05")
    accept(ledger, "upgrade_plan", "fl-1", "2016-03-05")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-05", amount="20.00")
    # When the command carries a non-positive figure
    r = refuse(ledger, "validation_error", type_, "fl-1", "2016-03-06", **fields)
    # Then the message names the field
    assert bad_field in r.error.message
    assert earnings(ledger, "fl-1", "2016-03-06") == (Decimal("0.00"), Decimal("20.00"))


# --------------------------------------------------------------------------- duplicate ids


def test_r6_1_an_earnings_reference_is_unique_within_its_account(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    accept(ledger, "record_pending_earnings", "fl-1", "2016-03-06", reference="e-1",
           amount="100.00")
    # the same reference again, even for another amount, is duplicate_id
    r = refuse(ledger, "duplicate_id", "record_pending_earnings", "fl-1", "2016-03-07",
               reference="e-1", amount="30.00")
    assert r.error.rule == "R-6.1"
    assert earnings(ledger, "fl-1", "2016-03-07") == (Decimal("100.00"), Decimal("0.00"))
    # and it stays taken after release
    accept(ledger, "release_earnings", "fl-1", "2016-03-08", reference="e-1")
    refuse(ledger, "duplicate_id", "record_pending_earnings", "fl-1", "2016-03-09",
           reference="e-1", amount="30.00")
    # another account may use it
    accept(ledger, "record_pending_earnings", "fl-2", "2016-03-09", reference="e-1",
           amount="30.00")
    assert earnings(ledger, "fl-2", "2016-03-09") == (Decimal("30.00"), Decimal("0.00"))


def test_r6_1_a_proposal_id_is_unique_within_its_account_even_after_withdrawal(
        ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "submit_proposal", "fl-1", "2016-03-06", proposal_id="p-1", job_id="j-1",
           connects=2)
    refuse(ledger, "duplicate_id", "submit_proposal", "fl-1", "2016-03-06", proposal_id="p-1",
           job_id="j-2", connects=2)
    accept(ledger, "withdraw_proposal", "fl-1", "2016-03-07", proposal_id="p-1")
    refuse(ledger, "duplicate_id", "submit_proposal", "fl-1", "2016-03-08", proposal_id="p-1",
           job_id="j-3", connects=2)
    assert ledger.account("fl-1", as_of="2016-03-08").connects == 58


def test_r6_1_a_contract_id_is_unique_within_its_account(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "open_contract", "fl-1", "2016-03-06", contract_id="c-1", hourly=False,
           role="freelancer")
    refuse(ledger, "duplicate_id", "open_contract", "fl-1", "2016-03-07", contract_id="c-1",
           hourly=True, role="freelancer")
    accept(ledger, "close_contract", "fl-1", "2016-03-08", contract_id="c-1")
    refuse(ledger, "duplicate_id", "open_contract", "fl-1", "2016-03-09", contract_id="c-1",
           hourly=False, role="freelancer")


def test_r6_1_a_job_id_and_an_invoice_id_are_unique_within_the_company(ledger: Ledger) -> None:
    open_account(ledger, "mb-1", "member", "2016-03-05")
    open_account(ledger, "co-1", "company", "2016-03-05", owner_id="mb-1")
    open_account(ledger, "mb-2", "member", "2016-03-05")
    open_account(ledger, "co-2", "company", "2016-03-05", owner_id="mb-2")
    accept(ledger, "post_job", "co-1", "2016-03-06", job_id="j-1", actor="mb-1")
    refuse(ledger, "duplicate_id", "post_job", "co-1", "2016-03-07", job_id="j-1", actor="mb-1")
    accept(ledger, "record_invoice", "co-1", "2016-03-07", invoice_id="i-1", amount="50.00")
    refuse(ledger, "duplicate_id", "record_invoice", "co-1", "2016-03-08", invoice_id="i-1",
           amount="75.00")
    # the same ids in another company are new things there
    accept(ledger, "post_job", "co-2", "2016-03-08", job_id="j-1", actor="mb-2")
    accept(ledger, "record_invoice", "co-2", "2016-03-08", invoice_id="i-1", amount="75.00")
