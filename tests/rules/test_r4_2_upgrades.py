"""R-4.2: an upgrade to Plus is charged at once and starts a new billing cycle on its date.

Figures come from the default catalog (RULES.md R-0): v2016 from 2016-01-01 (last billable
day 27, Plus freelancer 10.00, agency 20.00, Basic 60 Connects, Plus 70 / 80, Plus rollover
cap 140), v2019 from 2019-05-01 (last billable day 28, Plus freelancer 14.99, Basic 10).
Split out of the R-4 file; the dated steps (`plus_account`, `paid`, ...) are in tests/helpers.py.
"""

from __future__ import annotations

from ledger import Ledger
from tests.helpers import D, M, add_card_on, open_on, paid, upgrade


def test_an_upgrade_is_charged_at_once_and_moves_the_billing_date_to_the_upgrade_date(
    ledger: Ledger,
) -> None:
    #
    # Given a Basic freelancer opened on 5 March 2016 with a card
    open_on(ledger, "2016-03-05")
    add_card_on(ledger, "2016-03-05")
    assert ledger.account("fl-1", as_of="2016-03-19").billing_day == 5
    # When it upgrades on 20 March
    result = upgrade(ledger, "2016-03-20")
    # Then the charge is recorded at once and a cycle starts on the 20th
    assert result.ok, result.error
    assert "PlanUpgraded" in result.events and "MembershipCharged" in result.events
    assert paid(ledger) == [("2016-03-20", M("10.00"))]
    view = ledger.account("fl-1", as_of="2016-03-20")
    assert view.plan == "plus"
    assert view.billing_day == 20
    assert view.cycle_start == D("2016-03-20")
    assert view.next_billing_date == D("2016-04-20")


def test_an_upgrade_without_a_billing_method_is_refused_and_the_cycle_is_unchanged(
    ledger: Ledger,
) -> None:
    #
    # Given a Basic freelancer with no billing method
    open_on(ledger, "2016-03-05")
    # When it upgrades on 20 March
    result = upgrade(ledger, "2016-03-20")
    # Then it is refused and still Basic on the 5th
    assert not result.ok and result.error.code == "billing_method_required"
    view = ledger.account("fl-1", as_of="2016-03-20")
    assert (view.plan, view.billing_day, view.next_billing_date) == ("basic", 5, D("2016-04-05"))


def test_a_declined_upgrade_records_only_payment_failed_and_keeps_the_basic_cycle(
    ledger: Ledger,
) -> None:
    #
    # Given a Basic freelancer whose only card is declined by the gateway
    open_on(ledger, "2016-03-05")
    add_card_on(ledger, "2016-03-05", token="tok_decline_1")
    # When it upgrades on 20 March
    result = upgrade(ledger, "2016-03-20")
    # Then the attempt leaves PaymentFailed only and the Basic cycle on the 5th
    assert not result.ok and result.error.code == "payment_failed"
    assert result.events == ["PaymentFailed"]
    assert paid(ledger) == []
    view = ledger.account("fl-1", as_of="2016-03-20")
    assert (view.plan, view.billing_day, view.cycle_start) == ("basic", 5, D("2016-03-05"))


def test_an_upgrade_on_the_28th_under_v2016_moves_the_billing_day_to_the_1st(
    ledger: Ledger,
) -> None:
    # R-4.3 (v2016: the 27th is the last billable day)
    # Given a Basic freelancer opened on 1 March 2016
    open_on(ledger, "2016-03-01")
    add_card_on(ledger, "2016-03-01")
    # When it upgrades on 28 March
    assert upgrade(ledger, "2016-03-28").ok
    # Then its billing day is the 1st and the first renewal is one full month later, 1 May
    view = ledger.account("fl-1", as_of="2016-03-28")
    assert (view.billing_day, view.next_billing_date) == (1, D("2016-05-01"))
    ledger.run_billing(through="2016-06-01")
    assert paid(ledger) == [
        ("2016-03-28", M("10.00")),
        ("2016-05-01", M("10.00")),
        ("2016-06-01", M("10.00")),
    ]


def test_an_upgrade_on_the_28th_under_v2019_keeps_the_28th_as_billing_day(ledger: Ledger) -> None:
    # R-4.3 (v2019: the 28th is the last billable day)
    # Given a Basic freelancer opened on 1 June 2019
    open_on(ledger, "2019-06-01")
    add_card_on(ledger, "2019-06-01")
    # When it upgrades on 28 June
    assert upgrade(ledger, "2019-06-28").ok
    # Then it renews on the 28th at 14.99
    view = ledger.account("fl-1", as_of="2019-06-28")
    assert (view.billing_day, view.next_billing_date) == (28, D("2019-07-28"))
    ledger.run_billing(through="2019-08-28")
    assert paid(ledger) == [
        ("2019-06-28", M("14.99")),
        ("2019-07-28", M("14.99")),
        ("2019-08-28", M("14.99")),
    ]
