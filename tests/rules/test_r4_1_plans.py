"""R-4.1: plans. Basic (free) and Plus (a monthly price) for freelancers and agencies;
companies have no plan.

Figures come from the default catalog (RULES.md R-0): v2016 from 2016-01-01 (last billable
day 27, Plus freelancer 10.00, agency 20.00, Basic 60 Connects, Plus 70 / 80, Plus rollover
cap 140), v2019 from 2019-05-01 (last billable day 28, Plus freelancer 14.99, Basic 10).
Split out of the R-4 file; the dated steps (`plus_account`, `paid`, ...) are in tests/helpers.py.
"""

from __future__ import annotations

from ledger import Ledger
from tests.helpers import (
    M,
    add_card_on,
    downgrade,
    history_of,
    open_on,
    paid,
    plus_account,
    upgrade,
)


def test_a_new_freelancer_or_agency_is_on_basic_and_a_company_has_no_plan(ledger: Ledger) -> None:
    #
    # Given a freelancer, the agency it owns, a member and the company the member owns
    open_on(ledger, "2016-03-05", "fl-1")
    open_on(ledger, "2016-03-05", "ag-1", kind="agency", owner_id="fl-1")
    open_on(ledger, "2016-03-05", "mb-1", kind="member")
    open_on(ledger, "2016-03-05", "co-1", kind="company", owner_id="mb-1")
    # When they are viewed
    ids = ("fl-1", "ag-1", "mb-1", "co-1")
    fl, ag, mb, co = (ledger.account(a, as_of="2016-03-05") for a in ids)
    # Then freelancer and agency are Basic with a cycle; member and company have none
    assert (fl.plan, ag.plan) == ("basic", "basic")
    assert (fl.billing_day, ag.billing_day) == (5, 5)
    for view in (mb, co):
        assert view.plan is None
        assert view.billing_day is None
        assert view.cycle_start is None
        assert view.next_billing_date is None


def test_upgrading_or_downgrading_a_company_or_a_member_is_refused_with_no_plan(
    ledger: Ledger,
) -> None:
    #
    # Given a member owning a company, both with a card on file
    open_on(ledger, "2016-03-05", "mb-1", kind="member")
    open_on(ledger, "2016-03-05", "co-1", kind="company", owner_id="mb-1")
    add_card_on(ledger, "2016-03-05", "mb-1")
    add_card_on(ledger, "2016-03-05", "co-1", actor="mb-1")
    for account_id in ("mb-1", "co-1"):
        before = len(history_of(ledger, account_id))
        # When either is upgraded or downgraded
        up = upgrade(ledger, "2016-03-10", account_id, actor="mb-1")
        down = downgrade(ledger, "2016-03-10", account_id, actor="mb-1")
        # Then both are refused with no_plan and nothing is recorded
        assert not up.ok and up.error.code == "no_plan"
        assert not down.ok and down.error.code == "no_plan"
        assert len(history_of(ledger, account_id)) == before
        assert paid(ledger, account_id) == []


def test_plus_for_a_freelancer_costs_10_00_under_v2016_and_14_99_under_v2019(
    ledger: Ledger,
) -> None:
    # R-0 (Plus price per month, freelancer)
    # Given one freelancer upgrading in 2016 and one in 2019
    plus_account(ledger, "2016-03-05", "2016-03-05", "fl-1")
    plus_account(ledger, "2019-06-10", "2019-06-10", "fl-2")
    # Then each was charged the price of the version in force at once
    assert paid(ledger, "fl-1") == [("2016-03-05", M("10.00"))]
    assert paid(ledger, "fl-2") == [("2019-06-10", M("14.99"))]
    assert ledger.account("fl-1", as_of="2016-03-05").plan == "plus"
    assert ledger.account("fl-2", as_of="2019-06-10").plan == "plus"


def test_plus_for_an_agency_costs_20_00_and_brings_80_connects_under_v2016(ledger: Ledger) -> None:
    # R-0 (agency price 20.00, Plus agency 80, Basic agency 60)
    # Given an agency opened on 5 March 2016 by its owner, with a card
    open_on(ledger, "2016-03-05", "fl-1")
    open_on(ledger, "2016-03-05", "ag-1", kind="agency", owner_id="fl-1")
    add_card_on(ledger, "2016-03-05", "ag-1", actor="fl-1")
    assert ledger.account("ag-1", as_of="2016-03-05").connects == 60
    # When it upgrades the same day
    result = upgrade(ledger, "2016-03-05", "ag-1", actor="fl-1")
    # Then it pays 20.00 and holds 60 + (80 - 60) + 0 days of proration = 80
    assert result.ok, result.error
    assert paid(ledger, "ag-1") == [("2016-03-05", M("20.00"))]
    view = ledger.account("ag-1", as_of="2016-03-05")
    assert view.plan == "plus"
    assert view.connects == 80


def test_upgrading_an_account_already_on_plus_is_refused_with_already_plus(ledger: Ledger) -> None:
    #
    # Given a Plus account with no downgrade pending
    plus_account(ledger, "2016-03-05", "2016-03-05")
    before = len(history_of(ledger))
    # When it asks to upgrade again
    result = upgrade(ledger, "2016-03-20")
    # Then it is refused, nothing charged, nothing recorded, billing day unchanged
    assert not result.ok and result.error.code == "already_plus"
    assert len(history_of(ledger)) == before
    assert paid(ledger) == [("2016-03-05", M("10.00"))]
    assert ledger.account("fl-1", as_of="2016-03-20").billing_day == 5


def test_downgrading_a_basic_account_is_refused_with_not_plus(ledger: Ledger) -> None:
    #
    # Given a Basic freelancer
    open_on(ledger, "2016-03-05")
    before = len(history_of(ledger))
    # When it asks to downgrade
    result = downgrade(ledger, "2016-03-10")
    # Then it is refused with not_plus and nothing is recorded
    assert not result.ok and result.error.code == "not_plus"
    assert len(history_of(ledger)) == before
    assert ledger.account("fl-1", as_of="2016-03-10").downgrade_pending is False
