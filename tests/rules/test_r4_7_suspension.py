"""R-4.7: an account or primary method suspended on a billing date is downgraded to Basic
(reason `suspended`) and not charged; reinstated before the date, it renews normally.

Figures come from the default catalog (RULES.md R-0): v2016 from 2016-01-01 (last billable
day 27, Plus freelancer 10.00, agency 20.00, Basic 60 Connects, Plus 70 / 80, Plus rollover
cap 140), v2019 from 2019-05-01 (last billable day 28, Plus freelancer 14.99, Basic 10).
Split out of the R-4 file; the dated steps (`plus_account`, `paid`, ...) are in tests/helpers.py.
"""

from __future__ import annotations

from ledger import Ledger
from tests.helpers import (
    M,
    act,
    add_card_on,
    downgrades,
    events_named,
    open_on,
    paid,
    plus_account,
    upgrade,
)


def test_an_account_suspended_on_its_billing_date_is_downgraded_and_not_charged(
    ledger: Ledger,
) -> None:
    #
    # Given a Plus freelancer billed on the 5th, suspended on 1 April 2016
    plus_account(ledger, "2016-03-05", "2016-03-05")
    act(ledger, "suspend_account", "2016-04-01")
    # When the billing date of 5 April passes
    ledger.run_billing(through="2016-04-05")
    # Then nothing is charged or attempted, and it is Basic with reason suspended
    assert paid(ledger) == [("2016-03-05", M("10.00"))]
    assert events_named(ledger, "PaymentFailed") == []
    assert downgrades(ledger) == [("2016-04-05", "suspended")]
    assert ledger.account("fl-1", as_of="2016-04-05").plan == "basic"


def test_a_suspended_primary_method_on_the_billing_date_downgrades_without_a_charge(
    ledger: Ledger,
) -> None:
    #
    # Given a Plus freelancer billed on the 5th whose primary card is suspended on 1 April
    plus_account(ledger, "2016-03-05", "2016-03-05")
    act(ledger, "suspend_billing_method", "2016-04-01", method_id="m-1")
    # When a command dated 6 April arrives (catch-up)
    result = add_card_on(ledger, "2016-04-06", method_id="m-2")
    # Then 5 April charged nothing and downgraded with reason suspended
    assert "MembershipCharged" not in result.events and "PaymentFailed" not in result.events
    assert "PlanDowngraded" in result.events
    assert paid(ledger) == [("2016-03-05", M("10.00"))]
    assert downgrades(ledger) == [("2016-04-05", "suspended")]
    assert ledger.account("fl-1", as_of="2016-04-06").plan == "basic"


def test_an_account_reinstated_before_the_billing_date_renews_normally(ledger: Ledger) -> None:
    #
    # Given a Plus freelancer suspended on 1 April and reinstated on 4 April
    plus_account(ledger, "2016-03-05", "2016-03-05")
    act(ledger, "suspend_account", "2016-04-01")
    act(ledger, "reinstate_account", "2016-04-04")
    # When 5 April is billed
    ledger.run_billing(through="2016-04-05")
    # Then it is charged and stays Plus
    assert paid(ledger) == [("2016-03-05", M("10.00")), ("2016-04-05", M("10.00"))]
    assert downgrades(ledger) == []
    assert ledger.account("fl-1", as_of="2016-04-05").plan == "plus"


def test_a_method_reinstated_before_the_billing_date_is_charged_normally(ledger: Ledger) -> None:
    #
    # Given a Plus freelancer whose primary card was suspended 1 April, reinstated 4 April
    plus_account(ledger, "2016-03-05", "2016-03-05")
    act(ledger, "suspend_billing_method", "2016-04-01", method_id="m-1")
    act(ledger, "reinstate_billing_method", "2016-04-04", method_id="m-1")
    # When 5 April is billed
    ledger.run_billing(through="2016-04-05")
    # Then the renewal is charged
    assert paid(ledger) == [("2016-03-05", M("10.00")), ("2016-04-05", M("10.00"))]
    assert ledger.account("fl-1", as_of="2016-04-05").plan == "plus"


def test_an_account_reinstated_on_the_billing_date_itself_is_still_downgraded(
    ledger: Ledger,
) -> None:
    # R-4.7 ("reinstated before the date"), R-8.2 (the date's facts are recorded first)
    # Given a Plus freelancer suspended on 1 April
    plus_account(ledger, "2016-03-05", "2016-03-05")
    act(ledger, "suspend_account", "2016-04-01")
    # When it is reinstated at 00:00 on 5 April, its billing date
    result = act(ledger, "reinstate_account", "2016-04-05")
    # Then the billing date came first: downgraded (suspended), not charged
    assert result.events.index("PlanDowngraded") < result.events.index("AccountReinstated")
    assert downgrades(ledger) == [("2016-04-05", "suspended")]
    assert paid(ledger) == [("2016-03-05", M("10.00"))]
    view = ledger.account("fl-1", as_of="2016-04-05")
    assert (view.plan, view.status) == ("basic", "active")


def test_a_suspended_method_that_is_not_primary_does_not_stop_the_renewal(ledger: Ledger) -> None:
    # R-4.7 (only the account or its primary method count)
    # Given a Plus freelancer with a second, suspended card m-2 (m-1 stays primary)
    plus_account(ledger, "2016-03-05", "2016-03-05")
    add_card_on(ledger, "2016-03-10", method_id="m-2")
    act(ledger, "suspend_billing_method", "2016-04-01", method_id="m-2")
    # When 5 April is billed
    ledger.run_billing(through="2016-04-05")
    # Then it renews normally
    assert paid(ledger) == [("2016-03-05", M("10.00")), ("2016-04-05", M("10.00"))]
    assert downgrades(ledger) == []


def test_a_suspended_account_cannot_upgrade(ledger: Ledger) -> None:
    #
    # Given a suspended Basic freelancer with a card
    open_on(ledger, "2016-03-05")
    add_card_on(ledger, "2016-03-05")
    act(ledger, "suspend_account", "2016-03-10")
    # When it upgrades
    result = upgrade(ledger, "2016-03-12")
    # Then it is refused and nothing is charged
    assert not result.ok and result.error.code == "account_suspended"
    assert paid(ledger) == []
