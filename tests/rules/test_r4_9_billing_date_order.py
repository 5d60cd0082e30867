"""R-4.9: the order of a billing date's facts (the plan change, then rollover and expiry,
then the refill), a second pending downgrade refused; the billing run records the same
facts as the catch-up (R-8.2).

Figures come from the default catalog (RULES.md R-0): v2016 from 2016-01-01 (last billable
day 27, Plus freelancer 10.00, agency 20.00, Basic 60 Connects, Plus 70 / 80, Plus rollover
cap 140), v2019 from 2019-05-01 (last billable day 28, Plus freelancer 14.99, Basic 10).
Split out of the R-4 file; the dated steps (`plus_account`, `paid`, ...) are in tests/helpers.py.
"""

from __future__ import annotations

from ledger import Ledger
from tests.helpers import (
    D,
    M,
    act,
    add_card_on,
    billing_names_on,
    day,
    downgrade,
    events_named,
    history_of,
    paid,
    plus_account,
)


def test_a_requested_downgrade_falls_due_before_basic_expiry_and_refill(ledger: Ledger) -> None:
    #
    # Given a Plus freelancer upgraded on 8 March 2016 (76), renewed on 8 April
    # (cap 140 keeps 76, +70 = 146) and asking to downgrade on 10 April
    plus_account(ledger, "2016-03-05", "2016-03-08")
    ledger.run_billing(through="2016-04-08")
    assert ledger.account("fl-1", as_of="2016-04-08").connects == 146
    assert downgrade(ledger, "2016-04-10").ok
    # When 8 May is billed
    ledger.run_billing(through="2016-05-08")
    # Then the order is downgrade, then Basic's expiry, then Basic's refill, with no charge
    assert billing_names_on(ledger, "2016-05-08") == [
        "PlanDowngraded",
        "ConnectsExpired",
        "ConnectsRefilled",
    ]
    # And Basic's rollover (none) expired both refill lots (60, 70), proration (16) stayed
    assert ledger.account("fl-1", as_of="2016-05-08").connects == 16 + 60


def test_a_failed_renewal_orders_payment_failed_downgrade_expiry_then_refill(
    ledger: Ledger,
) -> None:
    #
    # Given a Plus freelancer whose primary card is declined at renewal
    plus_account(ledger, "2016-03-05", "2016-03-08")
    add_card_on(ledger, "2016-03-20", method_id="m-2", token="tok_decline_2")
    act(ledger, "make_primary_method", "2016-03-20", method_id="m-2")
    # When 8 April is billed
    ledger.run_billing(through="2016-04-08")
    # Then the history of 8 April is in R-4.9's order
    assert billing_names_on(ledger, "2016-04-08") == [
        "PaymentFailed",
        "PlanDowngraded",
        "ConnectsExpired",
        "ConnectsRefilled",
    ]


def test_a_suspension_downgrade_comes_before_basic_expiry_and_refill(ledger: Ledger) -> None:
    #
    # Given a Plus freelancer (76 Connects after the 8 March upgrade) suspended on 1 April
    plus_account(ledger, "2016-03-05", "2016-03-08")
    act(ledger, "suspend_account", "2016-04-01")
    # When 8 April is billed
    ledger.run_billing(through="2016-04-08")
    # Then downgrade, expiry and refill come in that order, and the refill is Basic's
    assert billing_names_on(ledger, "2016-04-08") == [
        "PlanDowngraded",
        "ConnectsExpired",
        "ConnectsRefilled",
    ]
    assert ledger.account("fl-1", as_of="2016-04-08").connects == 16 + 60


def test_a_successful_renewal_charges_before_the_rollover_expiry_and_refill(
    ledger: Ledger,
) -> None:
    #
    # Given a Plus freelancer upgraded on 5 March 2016, holding 210 after 5 May
    plus_account(ledger, "2016-03-05", "2016-03-05")
    # When 5 April (no surplus) and 5 June (70 above the cap of 140) are billed
    ledger.run_billing(through="2016-06-05")
    # Then the charge comes first, then any expiry, then the refill
    assert billing_names_on(ledger, "2016-04-05") == ["MembershipCharged", "ConnectsRefilled"]
    assert billing_names_on(ledger, "2016-06-05") == [
        "MembershipCharged",
        "ConnectsExpired",
        "ConnectsRefilled",
    ]


def test_a_second_downgrade_while_one_is_pending_is_refused_with_downgrade_pending(
    ledger: Ledger,
) -> None:
    #
    # Given a Plus freelancer that asked to downgrade on 10 March 2016
    plus_account(ledger, "2016-03-05", "2016-03-05")
    first = downgrade(ledger, "2016-03-10")
    assert first.ok and first.events == ["DowngradeScheduled"]
    before = len(history_of(ledger))
    # When it asks again on 12 March
    second = downgrade(ledger, "2016-03-12")
    # Then it is refused with downgrade_pending under and nothing is recorded
    assert not second.ok
    assert second.error.code == "downgrade_pending"
    assert second.error.rule == "R-4.9"
    assert len(history_of(ledger)) == before
    assert len(events_named(ledger, "DowngradeScheduled")) == 1


def test_billing_facts_are_the_same_whether_recorded_by_catch_up_or_by_the_billing_run(
    ledger: Ledger,
) -> None:
    # R-8.2 (catch-up before a later command, and run_billing, record the same facts)
    # Given two identical Plus freelancers upgraded on 5 March 2016
    plus_account(ledger, "2016-03-05", "2016-03-05", "fl-a")
    plus_account(ledger, "2016-03-05", "2016-03-05", "fl-b")
    # When fl-b acts on 20 April (catch-up) and the billing run then goes through 20 April
    result = add_card_on(ledger, "2016-04-20", "fl-b", method_id="m-2")
    ledger.run_billing(through="2016-04-20")
    # Then both hold the same 5 April renewal, recorded once each
    assert result.events[-1] == "MethodAdded"
    assert result.events.index("MembershipCharged") < result.events.index("ConnectsRefilled")
    for account_id in ("fl-a", "fl-b"):
        assert paid(ledger, account_id) == [("2016-03-05", M("10.00")), ("2016-04-05", M("10.00"))]
        assert billing_names_on(ledger, "2016-04-05", account_id) == [
            "MembershipCharged",
            "ConnectsRefilled",
        ]
        view = ledger.account(account_id, as_of="2016-04-20")
        assert (view.plan, view.connects, view.cycle_start) == ("plus", 140, D("2016-04-05"))
        assert view.billing_due is None


def test_the_billing_run_records_nothing_twice_and_nothing_after_its_through_date(
    ledger: Ledger,
) -> None:
    #
    # Given a Plus freelancer upgraded on 5 March 2016
    plus_account(ledger, "2016-03-05", "2016-03-05")
    # When the billing run goes through 4 April, then twice through 5 April
    ledger.run_billing(through="2016-04-04")
    assert paid(ledger) == [("2016-03-05", M("10.00"))]
    assert ledger.account("fl-1", as_of="2016-04-05").billing_due == D("2016-04-05")
    ledger.run_billing(through="2016-04-05")
    count = len(history_of(ledger))
    ledger.run_billing(through="2016-04-05")
    # Then 5 April is recorded exactly once
    assert len(history_of(ledger)) == count
    assert paid(ledger) == [("2016-03-05", M("10.00")), ("2016-04-05", M("10.00"))]
    assert ledger.account("fl-1", as_of="2016-04-05").billing_due is None


def test_catch_up_over_several_billing_dates_records_them_in_date_order(ledger: Ledger) -> None:
    # R-8.2 (in date order)
    # Given a Plus freelancer upgraded on 5 March 2016 and left alone
    plus_account(ledger, "2016-03-05", "2016-03-05")
    # When a command dated 20 June arrives
    result = add_card_on(ledger, "2016-06-20", method_id="m-2")
    # Then the renewals of April, May and June were recorded first, in date order
    assert result.events.count("MembershipCharged") == 3
    assert paid(ledger) == [
        ("2016-03-05", M("10.00")),
        ("2016-04-05", M("10.00")),
        ("2016-05-05", M("10.00")),
        ("2016-06-05", M("10.00")),
    ]
    dates = [day(e["at"]) for e in history_of(ledger)]
    assert dates == sorted(dates)
    assert ledger.account("fl-1", as_of="2016-06-20").connects == 210
