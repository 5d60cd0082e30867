"""R-4.5: a Plus renewal charges the price (R-3); success renews and refills, failure
downgrades to Basic at once (reason `payment_failed`) with Basic's refill.

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
    downgrades,
    events_named,
    paid,
    plus_account,
)


def test_a_plus_renewal_charges_the_price_and_renews_the_plan(ledger: Ledger) -> None:
    #
    # Given a Plus freelancer upgraded on 5 March 2016
    plus_account(ledger, "2016-03-05", "2016-03-05")
    # When the billing run reaches 5 May
    ledger.run_billing(through="2016-05-05")
    # Then each billing date charged 10.00 and the plan stays Plus, never downgraded
    assert paid(ledger) == [
        ("2016-03-05", M("10.00")),
        ("2016-04-05", M("10.00")),
        ("2016-05-05", M("10.00")),
    ]
    view = ledger.account("fl-1", as_of="2016-05-05")
    assert (view.plan, view.cycle_start, view.billing_day) == ("plus", D("2016-05-05"), 5)
    assert downgrades(ledger) == []


def test_a_renewal_charges_the_plus_price_of_the_version_in_force_on_the_billing_date(
    ledger: Ledger,
) -> None:
    # R-0 (v2016 10.00 until 2019-04-30, v2019 14.99 from 2019-05-01)
    # Given a Plus freelancer upgraded on 10 March 2019 under v2016
    plus_account(ledger, "2019-03-01", "2019-03-10")
    # When the billing run reaches 10 June 2019
    ledger.run_billing(through="2019-06-10")
    # Then renewals before 1 May cost 10.00, after it 14.99; the billing day stays the 10th
    assert paid(ledger) == [
        ("2019-03-10", M("10.00")),
        ("2019-04-10", M("10.00")),
        ("2019-05-10", M("14.99")),
        ("2019-06-10", M("14.99")),
    ]
    view = ledger.account("fl-1", as_of="2019-05-10")
    assert (view.billing_day, view.policy_version) == (10, "v2019")
    assert ledger.account("fl-1", as_of="2019-05-09").policy_version == "v2016"


def test_a_renewal_is_paid_from_available_earnings_when_they_cover_the_price(
    ledger: Ledger,
) -> None:
    #
    # Given a Plus freelancer (upgraded 5 March 2016) with 25.00 available earnings
    plus_account(ledger, "2016-03-05", "2016-03-05")
    act(ledger, "record_pending_earnings", "2016-03-10", reference="e-1", amount="25.00")
    act(ledger, "release_earnings", "2016-03-20", reference="e-1")
    # When the renewal of 5 April is billed
    ledger.run_billing(through="2016-04-05")
    # Then 10.00 came out of the earnings
    assert paid(ledger)[-1] == ("2016-04-05", M("10.00"))
    assert ledger.account("fl-1", as_of="2016-04-05").earnings.available == M("15.00")


def test_a_failed_renewal_downgrades_to_basic_at_once_with_reason_payment_failed(
    ledger: Ledger,
) -> None:
    #
    # Given a Plus freelancer (upgraded 8 March 2016) whose primary card is now declined
    plus_account(ledger, "2016-03-05", "2016-03-08")
    add_card_on(ledger, "2016-03-20", method_id="m-2", token="tok_decline_2")
    act(ledger, "make_primary_method", "2016-03-20", method_id="m-2")
    # When the billing date of 8 April arrives
    ledger.run_billing(through="2016-04-08")
    # Then the charge failed, the account is Basic from that date, reason payment_failed
    assert [day(e["at"]) for e in events_named(ledger, "PaymentFailed")] == ["2016-04-08"]
    assert downgrades(ledger) == [("2016-04-08", "payment_failed")]
    assert paid(ledger) == [("2016-03-08", M("10.00"))]
    view = ledger.account("fl-1", as_of="2016-04-08")
    assert view.plan == "basic"
    assert (view.cycle_start, view.next_billing_date) == (D("2016-04-08"), D("2016-05-08"))
    assert ledger.account("fl-1", as_of="2016-04-07").plan == "plus"


def test_a_failed_renewal_gets_basic_refill_and_is_never_attempted_again(ledger: Ledger) -> None:
    #
    # Given a Plus freelancer upgraded on 8 March 2016 (60 + 10 + floor(3 x 60 / 30) = 76)
    plus_account(ledger, "2016-03-05", "2016-03-08")
    assert ledger.account("fl-1", as_of="2016-03-08").connects == 76
    add_card_on(ledger, "2016-03-20", method_id="m-2", token="tok_decline_2")
    act(ledger, "make_primary_method", "2016-03-20", method_id="m-2")
    # When the renewal of 8 April fails and the next billing date passes
    ledger.run_billing(through="2016-05-08")
    # Then 8 April's refill is Basic's: the 60 refill lot expires (rollover none),
    # the 16 of proration stay, 60 are granted: 76; not Plus's 70
    assert ledger.account("fl-1", as_of="2016-04-08").connects == 76
    # And 8 May is a plain Basic date: no charge, no second attempt
    assert [day(e["at"]) for e in events_named(ledger, "PaymentFailed")] == ["2016-04-08"]
    assert billing_names_on(ledger, "2016-05-08") == ["ConnectsExpired", "ConnectsRefilled"]
    assert ledger.account("fl-1", as_of="2016-05-08").connects == 76


def test_a_renewal_failure_recorded_by_catch_up_leaves_the_later_command_accepted(
    ledger: Ledger,
) -> None:
    #
    # Given a Plus freelancer whose only card is declined after the upgrade
    plus_account(ledger, "2016-03-05", "2016-03-05")
    add_card_on(ledger, "2016-03-20", method_id="m-2", token="tok_decline_2")
    act(ledger, "make_primary_method", "2016-03-20", method_id="m-2")
    # When a command dated 20 April arrives with no billing run before it
    result = act(ledger, "remove_billing_method", "2016-04-20", method_id="m-1")
    # Then the failure and downgrade of 5 April were recorded first, and the command stands
    assert result.events[-1] == "MethodRemoved"
    assert result.events.index("PaymentFailed") < result.events.index("PlanDowngraded")
    assert downgrades(ledger) == [("2016-04-05", "payment_failed")]
    assert ledger.account("fl-1", as_of="2016-04-20").plan == "basic"
