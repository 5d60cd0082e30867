"""R-5: Connects held in lots, rollover and expiry, proration, buying, proposals, refunds.

Figures come from the default catalog table in RULES.md R-0:
v2016 (from 2016-01-01): Basic 60 / agency 60, Plus 70 / agency 80, Plus 10.00 / 20.00,
rollover Basic none, Plus cap 140 / 160, most held (Plus) 350 / 400, no expiry by age,
only Plus may buy, 1.00 a Connect, bundles any multiple of 5, a proposal costs 1..6.
v2019 (from 2019-05-01): Basic 10 / agency 0, Plus 70 / agency 0, Plus 14.99 / 20.00,
Plus cap 200 / 400, no most-held limit, expiry 365 days after issue, freelancers on any
plan and agencies on Plus may buy, 0.15 a Connect, bundles 10,20,40,60,80 (agencies also
150, 300), a proposal costs 1..6.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledger import Ledger
from tests.helpers import accept, add_card, day, open_account, refuse

# --------------------------------------------------------------------------- helpers


def propose(ledger: Ledger, account_id: str, proposal_id: str, job_id: str, connects: int,
            at: str, invited: bool = False, actor: str | None = None) -> Any:
    fields: dict[str, Any] = {"proposal_id": proposal_id, "job_id": job_id,
                              "connects": connects, "invited": invited}
    if actor is not None:
        fields["actor"] = actor
    return accept(ledger, "submit_proposal", account_id, at, **fields)


def connects(ledger: Ledger, account_id: str, as_of: str) -> int:
    return ledger.account(account_id, as_of=as_of).connects


def expiries(ledger: Ledger, account_id: str) -> list[tuple[str, int]]:
    """(date, quantity) of every ConnectsExpired event, in history order."""
    return [(day(e["at"]), int(e["data"]["quantity"]))
            for e in ledger.history(account_id) if e["name"] == "ConnectsExpired"]


def expired_on(ledger: Ledger, account_id: str, date: str) -> int:
    return sum(q for d, q in expiries(ledger, account_id) if d == date)


def plus_freelancer_2016(ledger: Ledger, account_id: str = "fl-1") -> None:
    """Given a v2016 freelancer opened and upgraded on 2016-03-05: 60 + 10 + 0 = 70."""
    open_account(ledger, account_id, "freelancer", "2016-03-05")
    add_card(ledger, account_id, "2016-03-05")
    accept(ledger, "upgrade_plan", account_id, "2016-03-05")
    assert connects(ledger, account_id, "2016-03-05") == 70


def plus_agency_2016(ledger: Ledger) -> None:
    """Given fl-1 and its agency ag-1 (v2016), ag-1 upgraded on opening: 60 + 20 + 0 = 80."""
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")
    add_card(ledger, "ag-1", "2016-03-05", actor="fl-1")
    accept(ledger, "upgrade_plan", "ag-1", "2016-03-05", actor="fl-1")
    assert connects(ledger, "ag-1", "2016-03-05") == 80


def basic_freelancer_2019(ledger: Ledger, account_id: str = "fl-1",
                          credit: str = "50.00") -> None:
    """Given a v2019 Basic freelancer opened 2019-06-01 (10 Connects) with earnings to buy."""
    open_account(ledger, account_id, "freelancer", "2019-06-01")
    accept(ledger, "credit_earnings", account_id, "2019-06-01", amount=credit)
    assert connects(ledger, account_id, "2019-06-01") == 10


# ---------------------------------------------------------------------------


def test_r5_1_a_proposal_spends_the_refill_lot_before_a_later_purchase(ledger: Ledger) -> None:
    # R-5.1 oldest first, seen through R-5.2's Basic rollover (only refill lots expire)
    # Given a v2019 Basic freelancer with the opening refill (10, 06-01) and 20 bought on 06-02
    basic_freelancer_2019(ledger)
    accept(ledger, "purchase_connects", "fl-1", "2019-06-02", quantity=20)
    # When a proposal costing 6 is submitted
    propose(ledger, "fl-1", "p-1", "j-1", 6, "2019-06-03")
    assert connects(ledger, "fl-1", "2019-06-03") == 24
    # Then at the billing date only the refill's remaining 4 expire, the purchase is intact
    ledger.run_billing(through="2019-07-01")
    assert expired_on(ledger, "fl-1", "2019-07-01") == 4
    assert connects(ledger, "fl-1", "2019-07-01") == 20 + 10


def test_r5_1_oldest_first_spending_shows_in_the_age_expiry_of_two_purchased_lots(
        ledger: Ledger) -> None:
    # lots P1 (06-10, 20), P2 (06-20, 20), refill R (07-01, 10)
    basic_freelancer_2019(ledger)
    accept(ledger, "purchase_connects", "fl-1", "2019-06-10", quantity=20)
    accept(ledger, "purchase_connects", "fl-1", "2019-06-20", quantity=20)
    # When 18 Connects are spent on 2019-07-02 (after the 07-01 refill)
    for i in range(3):
        propose(ledger, "fl-1", f"p-{i}", f"j-{i}", 6, "2019-07-02")
    assert connects(ledger, "fl-1", "2019-07-02") == 20 + 20 + 10 - 18
    # Then they came from P1 (the oldest): the newest refill (10) expires untouched on 08-01
    ledger.run_billing(through="2020-06-20")
    assert expired_on(ledger, "fl-1", "2019-08-01") == 10
    assert connects(ledger, "fl-1", "2019-08-01") == 2 + 20 + 10
    # and by age (365 days, 2020 is a leap year) P1 expires with 2 left, P2 with 20
    assert expired_on(ledger, "fl-1", "2020-06-09") == 2
    assert expired_on(ledger, "fl-1", "2020-06-19") == 20


def test_r5_1_a_proposal_costing_more_than_the_balance_is_refused_and_the_balance_stays(
        ledger: Ledger) -> None:
    # the balance is never negative
    # Given a v2019 Basic freelancer with 10 Connects who spent 6
    basic_freelancer_2019(ledger)
    propose(ledger, "fl-1", "p-1", "j-1", 6, "2019-06-02")
    # When a proposal costing 5 is submitted with 4 left
    refuse(ledger, "insufficient_connects", "submit_proposal", "fl-1", "2019-06-03",
           proposal_id="p-2", job_id="j-2", connects=5)
    # Then the balance is still 4, and exactly 4 can be spent, then nothing more
    assert connects(ledger, "fl-1", "2019-06-03") == 4
    propose(ledger, "fl-1", "p-3", "j-3", 4, "2019-06-03")
    assert connects(ledger, "fl-1", "2019-06-03") == 0
    refuse(ledger, "insufficient_connects", "submit_proposal", "fl-1", "2019-06-04",
           proposal_id="p-4", job_id="j-4", connects=1)


def test_r5_1_the_balance_is_the_sum_of_refill_upgrade_and_purchased_lots_less_spending(
        ledger: Ledger) -> None:
    # Given a v2016 Plus freelancer (60 refill + 10 upgrade)
    plus_freelancer_2016(ledger)
    # When 25 are bought and 6 + 3 spent
    r = accept(ledger, "purchase_connects", "fl-1", "2016-03-06", quantity=25)
    assert "ConnectsPurchased" in r.events
    r = propose(ledger, "fl-1", "p-1", "j-1", 6, "2016-03-07")
    assert "ConnectsSpent" in r.events
    propose(ledger, "fl-1", "p-2", "j-2", 3, "2016-03-07")
    # Then the balance is 60 + 10 + 25 - 9 = 86
    assert connects(ledger, "fl-1", "2016-03-07") == 86


# ---------------------------------------------------------------------------


def test_r5_2_basic_v2016_unused_refill_connects_expire_at_the_billing_date(
        ledger: Ledger) -> None:
    # Given a v2016 Basic freelancer opened 2016-03-05 (60) who spent 6
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 6, "2016-03-10")
    # When the billing date 2016-04-05 is recorded
    ledger.run_billing(through="2016-04-05")
    # Then the 54 left expire (rollover none) and 60 are refilled
    assert connects(ledger, "fl-1", "2016-04-04") == 54
    assert expiries(ledger, "fl-1") == [("2016-04-05", 54)]
    assert connects(ledger, "fl-1", "2016-04-05") == 60
    names = [e["name"] for e in ledger.history("fl-1") if day(e["at"]) == "2016-04-05"]
    assert names.index("ConnectsExpired") < names.index("ConnectsRefilled")


def test_r5_2_basic_v2019_unused_refill_connects_expire_at_the_billing_date(
        ledger: Ledger) -> None:
    # Given a v2019 Basic freelancer (10) who spent 3
    open_account(ledger, "fl-1", "freelancer", "2019-06-01")
    propose(ledger, "fl-1", "p-1", "j-1", 3, "2019-06-15")
    # When a command dated on the billing date catches up
    r = accept(ledger, "credit_earnings", "fl-1", "2019-07-01", amount="1.00")
    # Then 7 expired and 10 were refilled
    assert "ConnectsExpired" in r.events and "ConnectsRefilled" in r.events
    assert expiries(ledger, "fl-1") == [("2019-07-01", 7)]
    assert connects(ledger, "fl-1", "2019-07-01") == 10


def test_r5_2_plus_v2016_rolls_over_up_to_140_and_expires_the_surplus_oldest_first(
        ledger: Ledger) -> None:
    # Given a v2016 Plus freelancer with 70 on 2016-03-05 (billing day 5)
    plus_freelancer_2016(ledger)
    # When three billing dates pass
    ledger.run_billing(through="2016-06-05")
    # Then 70 -> 140 (kept) -> 210 (140 kept) -> 70 above the cap expire, then +70
    assert connects(ledger, "fl-1", "2016-04-05") == 140
    assert connects(ledger, "fl-1", "2016-05-05") == 210
    assert connects(ledger, "fl-1", "2016-06-05") == 210
    assert expiries(ledger, "fl-1") == [("2016-06-05", 70)]
    expired = [e for e in ledger.history("fl-1") if e["name"] == "ConnectsExpired"]
    assert expired[0]["data"]["lots"], "every expiry names its lots"


def test_r5_2_purchased_connects_above_the_plus_cap_expire_at_the_billing_date(
        ledger: Ledger) -> None:
    # Given a v2016 Plus freelancer with 70 who bought 200 (270, under the 350 limit)
    plus_freelancer_2016(ledger)
    accept(ledger, "purchase_connects", "fl-1", "2016-03-06", quantity=200)
    assert connects(ledger, "fl-1", "2016-03-06") == 270
    # When the billing date passes
    ledger.run_billing(through="2016-04-05")
    # Then 130 above the cap of 140 expire, purchased ones included (60 + 10 + 60 of them)
    assert expiries(ledger, "fl-1") == [("2016-04-05", 130)]
    assert connects(ledger, "fl-1", "2016-04-05") == 140 + 70


def test_r5_2_plus_agency_v2016_rolls_over_up_to_160(ledger: Ledger) -> None:
    # Given a v2016 Plus agency with 80 on 2016-03-05
    plus_agency_2016(ledger)
    # When three billing dates pass
    ledger.run_billing(through="2016-06-05")
    # Then 80 -> 160 -> 240 -> 80 above 160 expire, then +80
    assert connects(ledger, "ag-1", "2016-04-05") == 160
    assert connects(ledger, "ag-1", "2016-05-05") == 240
    assert expiries(ledger, "ag-1") == [("2016-06-05", 80)]
    assert connects(ledger, "ag-1", "2016-06-05") == 240


def test_r5_2_plus_freelancer_v2019_rolls_over_up_to_200(ledger: Ledger) -> None:
    # Given a v2019 freelancer opened and upgraded on 2019-06-01: 10 + 60 + 0 = 70
    open_account(ledger, "fl-1", "freelancer", "2019-06-01")
    add_card(ledger, "fl-1", "2019-06-01")
    accept(ledger, "upgrade_plan", "fl-1", "2019-06-01")
    assert connects(ledger, "fl-1", "2019-06-01") == 70
    # When three billing dates pass
    ledger.run_billing(through="2019-09-01")
    # Then 140, 210, and on 09-01 10 above the cap of 200 expire, then +70
    assert connects(ledger, "fl-1", "2019-07-01") == 140
    assert connects(ledger, "fl-1", "2019-08-01") == 210
    assert expiries(ledger, "fl-1") == [("2019-09-01", 10)]
    assert connects(ledger, "fl-1", "2019-09-01") == 270


def test_r5_2_plus_agency_v2019_expires_purchased_connects_above_400(ledger: Ledger) -> None:
    # Given a v2019 Plus agency (0 monthly) that bought 300 and 150 (no most-held limit)
    open_account(ledger, "fl-1", "freelancer", "2019-06-01")
    open_account(ledger, "ag-1", "agency", "2019-06-01", owner_id="fl-1")
    add_card(ledger, "ag-1", "2019-06-01", actor="fl-1")
    accept(ledger, "upgrade_plan", "ag-1", "2019-06-01", actor="fl-1")
    accept(ledger, "purchase_connects", "ag-1", "2019-06-02", quantity=300, actor="fl-1")
    accept(ledger, "purchase_connects", "ag-1", "2019-06-03", quantity=150, actor="fl-1")
    assert connects(ledger, "ag-1", "2019-06-03") == 450
    # When the billing date passes
    ledger.run_billing(through="2019-07-01")
    # Then the 50 above 400 expire and the refill adds 0
    assert expiries(ledger, "ag-1") == [("2019-07-01", 50)]
    assert connects(ledger, "ag-1", "2019-07-01") == 400


def test_r5_2_a_v2019_lot_expires_365_days_after_issue_counting_the_leap_day(
        ledger: Ledger) -> None:
    # Given 20 Connects bought on 2019-06-10 by a v2019 Basic freelancer
    basic_freelancer_2019(ledger)
    accept(ledger, "purchase_connects", "fl-1", "2019-06-10", quantity=20)
    # When the billing run passes 2020-06-09 (365 days later, 29 Feb 2020 in between)
    ledger.run_billing(through="2020-06-20")
    # Then the lot is held through 2020-06-08 and expires at the start of 2020-06-09
    assert connects(ledger, "fl-1", "2020-06-08T23:59:59Z") == 20 + 10
    assert connects(ledger, "fl-1", "2020-06-09") == 10
    assert expired_on(ledger, "fl-1", "2020-06-09") == 20
    assert expired_on(ledger, "fl-1", "2020-06-10") == 0


def test_r5_2_a_v2019_lot_issued_after_a_leap_day_expires_on_the_same_calendar_day(
        ledger: Ledger) -> None:
    # Given 20 Connects bought on 2020-06-10 (no 29 February in the next 365 days)
    open_account(ledger, "fl-1", "freelancer", "2020-06-01")
    accept(ledger, "credit_earnings", "fl-1", "2020-06-01", amount="10.00")
    accept(ledger, "purchase_connects", "fl-1", "2020-06-10", quantity=20)
    # When the billing run passes 2021-06-10
    ledger.run_billing(through="2021-06-15")
    # Then the lot expires on 2021-06-10, not a day earlier
    assert connects(ledger, "fl-1", "2021-06-09") == 30
    assert connects(ledger, "fl-1", "2021-06-10") == 10
    assert expired_on(ledger, "fl-1", "2021-06-09") == 0
    assert expired_on(ledger, "fl-1", "2021-06-10") == 20


def test_r5_2_an_expired_lot_cannot_be_spent_on_its_expiry_date(ledger: Ledger) -> None:
    # Given 20 Connects bought 2019-06-10, expiring 2020-06-09, and the monthly 10
    basic_freelancer_2019(ledger)
    accept(ledger, "purchase_connects", "fl-1", "2019-06-10", quantity=20)
    # When proposals are submitted on the expiry date (the command catches up first)
    r = propose(ledger, "fl-1", "p-1", "j-1", 6, "2020-06-09")
    # Then the expiry was recorded before, only the 10 refilled on 2020-06-01 can be spent
    assert "ConnectsExpired" in r.events
    assert connects(ledger, "fl-1", "2020-06-09") == 4
    refuse(ledger, "insufficient_connects", "submit_proposal", "fl-1", "2020-06-09",
           proposal_id="p-2", job_id="j-2", connects=6)


def test_r5_2_v2016_connects_never_expire_by_age(ledger: Ledger) -> None:
    # Given a v2016 Basic freelancer with a refund lot of 4 issued 2016-03-10
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 4, "2016-03-06")
    accept(ledger, "cancel_job", "fl-1", "2016-03-10", job_id="j-1",
           reason="cancelled_without_hire")
    # When more than a year of billing dates pass (still under v2016)
    ledger.run_billing(through="2017-04-10")
    # Then the refund lot is still there beside the monthly 60: only refill lots expired
    assert connects(ledger, "fl-1", "2017-04-10") == 64
    assert all(q == 60 for d, q in expiries(ledger, "fl-1") if d != "2016-04-05")
    assert expired_on(ledger, "fl-1", "2016-04-05") == 56


# ---------------------------------------------------------------------------


def test_r5_3_seed_004_upgrade_with_45_connects_25_days_after_the_refill_gives_105(
        ledger: Ledger) -> None:
    # Given a v2016 freelancer opened 2016-03-05 (60) who spent 15 on proposals, with a card
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 6, "2016-03-08")
    propose(ledger, "fl-1", "p-2", "j-2", 6, "2016-03-09")
    propose(ledger, "fl-1", "p-3", "j-3", 3, "2016-03-10")
    add_card(ledger, "fl-1", "2016-03-11")
    assert connects(ledger, "fl-1", "2016-03-29") == 45
    # When upgrading 25 days after the refill
    r = accept(ledger, "upgrade_plan", "fl-1", "2016-03-30")
    # Then 45 + 10 + 25 x 2 = 105
    assert {"PlanUpgraded", "MembershipCharged", "ConnectsGranted"} <= set(r.events)
    view = ledger.account("fl-1", as_of="2016-03-30")
    assert view.plan == "plus"
    assert view.connects == 105


def test_r5_3_an_agency_upgrade_adds_20_plus_2_a_day_under_v2016(ledger: Ledger) -> None:
    # Given a v2016 agency opened 2016-03-05 with 60 and a card
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")
    add_card(ledger, "ag-1", "2016-03-05", actor="fl-1")
    # When it upgrades 10 days after the refill
    accept(ledger, "upgrade_plan", "ag-1", "2016-03-15", actor="fl-1")
    # Then 60 + 20 + floor(10 x 60 / 30) = 100
    assert connects(ledger, "ag-1", "2016-03-15") == 100


@pytest.mark.parametrize(("upgrade_on", "expected"), [
    ("2019-06-15", 10 + 60 + 4),   # 14 days: floor(140 / 30) = 4
    ("2019-06-16", 10 + 60 + 5),   # 15 days: floor(150 / 30) = 5
    ("2019-06-04", 10 + 60 + 1),   # 3 days: floor(30 / 30) = 1
    ("2019-06-03", 10 + 60 + 0),   # 2 days: floor(20 / 30) = 0
])
def test_r5_3_v2019_proration_is_60_plus_the_floor_of_days_times_10_over_30(
        ledger: Ledger, upgrade_on: str, expected: int) -> None:
    # Given a v2019 freelancer opened 2019-06-01 (10) with a card
    open_account(ledger, "fl-1", "freelancer", "2019-06-01")
    add_card(ledger, "fl-1", "2019-06-01")
    # When it upgrades some days later
    accept(ledger, "upgrade_plan", "fl-1", upgrade_on)
    # Then it keeps its 10 and gets 70 - 10 plus floor(days x 10 / 30)
    assert connects(ledger, "fl-1", upgrade_on) == expected


def test_r5_3_an_upgrade_on_the_refill_day_adds_only_the_plan_difference(
        ledger: Ledger) -> None:
    # Given a v2016 freelancer opened 2016-03-05 with a card
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    add_card(ledger, "fl-1", "2016-03-05")
    # When it upgrades the same day
    accept(ledger, "upgrade_plan", "fl-1", "2016-03-05")
    # Then 60 + 10 + 0
    assert connects(ledger, "fl-1", "2016-03-05") == 70


def test_r5_3_days_are_counted_from_the_last_refill_not_from_opening(ledger: Ledger) -> None:
    # Given a v2016 freelancer opened 2016-03-05, refilled to 60 on 2016-04-05
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    add_card(ledger, "fl-1", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 6, "2016-04-10")
    assert connects(ledger, "fl-1", "2016-04-10") == 54
    # When it upgrades on 2016-04-15 (10 days after the refill, 41 after opening)
    accept(ledger, "upgrade_plan", "fl-1", "2016-04-15")
    # Then 54 + 10 + 20 = 84
    assert connects(ledger, "fl-1", "2016-04-15") == 84


# ---------------------------------------------------------------------------


def test_r5_4_a_basic_freelancer_may_not_buy_under_v2016(ledger: Ledger) -> None:
    # Given a v2016 Basic freelancer with enough earnings and a card
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    add_card(ledger, "fl-1", "2016-03-05")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-05", amount="50.00")
    # When it buys 10, Then purchase_not_allowed and nothing changes
    r = refuse(ledger, "purchase_not_allowed", "purchase_connects", "fl-1", "2016-03-06",
               quantity=10)
    assert r.error.rule == "R-5.4"
    assert connects(ledger, "fl-1", "2016-03-06") == 60
    assert ledger.account("fl-1", as_of="2016-03-06").earnings.available == Decimal("50.00")


def test_r5_4_a_basic_agency_may_not_buy_under_v2016(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")
    add_card(ledger, "ag-1", "2016-03-05", actor="fl-1")
    refuse(ledger, "purchase_not_allowed", "purchase_connects", "ag-1", "2016-03-06",
           quantity=10, actor="fl-1")
    assert connects(ledger, "ag-1", "2016-03-06") == 60


def test_r5_4_a_plus_freelancer_buys_under_v2016_at_1_00_a_connect(ledger: Ledger) -> None:
    # Given a v2016 Plus freelancer with 70 and 20.00 of earnings
    plus_freelancer_2016(ledger)
    accept(ledger, "credit_earnings", "fl-1", "2016-03-06", amount="20.00")
    # When it buys 15
    r = accept(ledger, "purchase_connects", "fl-1", "2016-03-06", quantity=15)
    # Then it has 85 and the earnings paid 15.00
    assert "ConnectsPurchased" in r.events
    view = ledger.account("fl-1", as_of="2016-03-06")
    assert view.connects == 85
    assert view.earnings.available == Decimal("5.00")


def test_r5_4_a_basic_freelancer_buys_under_v2019_at_0_15_a_connect(ledger: Ledger) -> None:
    # Given a v2019 Basic freelancer with 10.00 of earnings
    basic_freelancer_2019(ledger, credit="10.00")
    # When it buys 20
    accept(ledger, "purchase_connects", "fl-1", "2019-06-02", quantity=20)
    # Then it has 30 and paid 3.00
    view = ledger.account("fl-1", as_of="2019-06-02")
    assert view.connects == 30
    assert view.earnings.available == Decimal("7.00")


def test_r5_4_a_basic_agency_may_not_buy_under_v2019_but_a_plus_agency_may(
        ledger: Ledger) -> None:
    # Given a v2019 Basic agency with a card
    open_account(ledger, "fl-1", "freelancer", "2019-06-01")
    open_account(ledger, "ag-1", "agency", "2019-06-01", owner_id="fl-1")
    add_card(ledger, "ag-1", "2019-06-01", actor="fl-1")
    # When it buys on Basic, Then purchase_not_allowed
    refuse(ledger, "purchase_not_allowed", "purchase_connects", "ag-1", "2019-06-02",
           quantity=10, actor="fl-1")
    # When it upgrades and buys 150, Then it holds 150 (agency monthly 0)
    accept(ledger, "upgrade_plan", "ag-1", "2019-06-03", actor="fl-1")
    accept(ledger, "purchase_connects", "ag-1", "2019-06-04", quantity=150, actor="fl-1")
    assert connects(ledger, "ag-1", "2019-06-04") == 150


def test_r5_4_who_may_buy_follows_the_version_in_force_on_the_purchase_date(
        ledger: Ledger) -> None:
    # Given a Basic freelancer opened under v2016 on 2019-04-10 (60), with earnings
    open_account(ledger, "fl-1", "freelancer", "2019-04-10")
    accept(ledger, "credit_earnings", "fl-1", "2019-04-10", amount="10.00")
    # When it buys on 2019-04-20 (v2016), Then purchase_not_allowed
    refuse(ledger, "purchase_not_allowed", "purchase_connects", "fl-1", "2019-04-20",
           quantity=10)
    # When it buys 10 on 2019-05-02 (v2019 in force), Then it is sold at 0.15 each
    accept(ledger, "purchase_connects", "fl-1", "2019-05-02", quantity=10)
    view = ledger.account("fl-1", as_of="2019-05-02")
    assert view.connects == 70
    assert view.earnings.available == Decimal("8.50")


@pytest.mark.parametrize("quantity", [5, 10, 15, 35])
def test_r5_4_v2016_sells_any_multiple_of_5(ledger: Ledger, quantity: int) -> None:
    plus_freelancer_2016(ledger)
    accept(ledger, "purchase_connects", "fl-1", "2016-03-06", quantity=quantity)
    assert connects(ledger, "fl-1", "2016-03-06") == 70 + quantity


@pytest.mark.parametrize("quantity", [1, 4, 7, 12, 33])
def test_r5_4_v2016_refuses_a_quantity_that_is_not_a_multiple_of_5(
        ledger: Ledger, quantity: int) -> None:
    plus_freelancer_2016(ledger)
    refuse(ledger, "invalid_bundle", "purchase_connects", "fl-1", "2016-03-06",
           quantity=quantity)
    assert connects(ledger, "fl-1", "2016-03-06") == 70


def test_r5_4_v2019_sells_a_freelancer_bundles_of_10_20_40_60_80(ledger: Ledger) -> None:
    # Given a v2019 freelancer with 100.00 of earnings
    basic_freelancer_2019(ledger, credit="100.00")
    # When it buys each bundle, Then each is sold: 10 + 210 Connects for 31.50
    for q in (10, 20, 40, 60, 80):
        accept(ledger, "purchase_connects", "fl-1", "2019-06-02", quantity=q)
    view = ledger.account("fl-1", as_of="2019-06-02")
    assert view.connects == 220
    assert view.earnings.available == Decimal("68.50")


@pytest.mark.parametrize("quantity", [5, 15, 30, 50, 100, 150, 300])
def test_r5_4_v2019_refuses_other_freelancer_bundles(ledger: Ledger, quantity: int) -> None:
    basic_freelancer_2019(ledger, credit="100.00")
    refuse(ledger, "invalid_bundle", "purchase_connects", "fl-1", "2019-06-02",
           quantity=quantity)


@pytest.mark.parametrize(("quantity", "sold"), [
    (10, True), (80, True), (150, True), (300, True),
    (30, False), (100, False), (200, False), (450, False),
])
def test_r5_4_v2019_sells_agencies_also_150_and_300(ledger: Ledger, quantity: int,
                                                    sold: bool) -> None:
    open_account(ledger, "fl-1", "freelancer", "2019-06-01")
    open_account(ledger, "ag-1", "agency", "2019-06-01", owner_id="fl-1")
    add_card(ledger, "ag-1", "2019-06-01", actor="fl-1")
    accept(ledger, "upgrade_plan", "ag-1", "2019-06-01", actor="fl-1")
    if sold:
        accept(ledger, "purchase_connects", "ag-1", "2019-06-02", quantity=quantity, actor="fl-1")
        assert connects(ledger, "ag-1", "2019-06-02") == quantity
    else:
        refuse(ledger, "invalid_bundle", "purchase_connects", "ag-1", "2019-06-02",
               quantity=quantity, actor="fl-1")


def test_r5_4_a_v2016_plus_freelancer_may_hold_350_and_no_more(ledger: Ledger) -> None:
    # Given a v2016 Plus freelancer with 70
    plus_freelancer_2016(ledger)
    # When it buys up to exactly 350, Then that is accepted
    accept(ledger, "purchase_connects", "fl-1", "2016-03-06", quantity=280)
    assert connects(ledger, "fl-1", "2016-03-06") == 350
    # When it buys 5 more, Then connects_limit_exceeded
    r = refuse(ledger, "connects_limit_exceeded", "purchase_connects", "fl-1", "2016-03-07",
               quantity=5)
    assert r.error.rule == "R-5.4"
    assert connects(ledger, "fl-1", "2016-03-07") == 350


def test_r5_4_a_purchase_that_would_pass_350_is_refused_whole(ledger: Ledger) -> None:
    plus_freelancer_2016(ledger)
    propose(ledger, "fl-1", "p-1", "j-1", 6, "2016-03-06")
    # 64 + 290 = 354 > 350; 64 + 285 = 349
    refuse(ledger, "connects_limit_exceeded", "purchase_connects", "fl-1", "2016-03-07",
           quantity=290)
    accept(ledger, "purchase_connects", "fl-1", "2016-03-07", quantity=285)
    assert connects(ledger, "fl-1", "2016-03-07") == 349


def test_r5_4_a_v2016_plus_agency_may_hold_400_and_no_more(ledger: Ledger) -> None:
    plus_agency_2016(ledger)
    accept(ledger, "purchase_connects", "ag-1", "2016-03-06", quantity=320, actor="fl-1")
    assert connects(ledger, "ag-1", "2016-03-06") == 400
    refuse(ledger, "connects_limit_exceeded", "purchase_connects", "ag-1", "2016-03-07",
           quantity=5, actor="fl-1")


def test_r5_4_v2019_has_no_limit_on_connects_held(ledger: Ledger) -> None:
    # Given a v2019 Basic freelancer with earnings
    basic_freelancer_2019(ledger, credit="100.00")
    # When it buys 80 five times, Then it holds 410 (more than any v2016 limit)
    for _ in range(5):
        accept(ledger, "purchase_connects", "fl-1", "2019-06-02", quantity=80)
    assert connects(ledger, "fl-1", "2019-06-02") == 410


# ---------------------------------------------------------------------------


def test_r5_5_proposals_costing_1_and_6_are_accepted(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 1, "2016-03-06")
    propose(ledger, "fl-1", "p-2", "j-2", 6, "2016-03-06")
    assert connects(ledger, "fl-1", "2016-03-06") == 53


@pytest.mark.parametrize(("cost", "invited"), [(0, False), (7, False), (2, True), (6, True)])
def test_r5_5_a_cost_outside_1_to_6_or_non_zero_for_an_invitation_is_refused(
        ledger: Ledger, cost: int, invited: bool) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    r = refuse(ledger, "invalid_connects_cost", "submit_proposal", "fl-1", "2016-03-06",
               proposal_id="p-1", job_id="j-1", connects=cost, invited=invited)
    assert r.error.rule == "R-5.5"
    assert connects(ledger, "fl-1", "2016-03-06") == 60


def test_r5_5_an_invited_proposal_saying_0_costs_nothing(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    r = propose(ledger, "fl-1", "p-1", "j-1", 0, "2016-03-06", invited=True)
    assert "ProposalSubmitted" in r.events
    assert connects(ledger, "fl-1", "2016-03-06") == 60


def test_r5_5_cancelling_a_job_refunds_what_was_spent_as_a_new_lot(ledger: Ledger) -> None:
    # Given a v2016 Basic freelancer who spent 4 on job j-1 and 5 on job j-2
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 4, "2016-03-06")
    propose(ledger, "fl-1", "p-2", "j-2", 5, "2016-03-07")
    # When j-1 is cancelled without a hire
    r = accept(ledger, "cancel_job", "fl-1", "2016-03-10", job_id="j-1",
               reason="cancelled_without_hire")
    # Then the 4 come back (not a fixed 2)
    assert r.events == ["JobCancelled", "ConnectsRefunded"]
    assert connects(ledger, "fl-1", "2016-03-10") == 55
    # and as a lot of its own: Basic's rollover expires only the refill's 51
    ledger.run_billing(through="2016-04-05")
    assert expiries(ledger, "fl-1") == [("2016-04-05", 51)]
    assert connects(ledger, "fl-1", "2016-04-05") == 64


def test_r5_5_a_job_removed_by_the_marketplace_refunds_too(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 6, "2016-03-06")
    r = accept(ledger, "cancel_job", "fl-1", "2016-03-07", job_id="j-1",
               reason="removed_by_marketplace")
    assert "ConnectsRefunded" in r.events
    assert connects(ledger, "fl-1", "2016-03-07") == 60


def test_r5_5_a_withdrawn_proposal_gets_nothing_back(ledger: Ledger) -> None:
    # Given a proposal costing 4 to j-1, withdrawn
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 4, "2016-03-06")
    r = accept(ledger, "withdraw_proposal", "fl-1", "2016-03-07", proposal_id="p-1")
    assert r.events == ["ProposalWithdrawn"]
    assert connects(ledger, "fl-1", "2016-03-07") == 56
    # When j-1 is cancelled
    r = accept(ledger, "cancel_job", "fl-1", "2016-03-08", job_id="j-1",
               reason="cancelled_without_hire")
    # Then the job is cancelled but nothing comes back
    assert r.events == ["JobCancelled"]
    assert connects(ledger, "fl-1", "2016-03-08") == 56


def test_r5_5_a_job_is_cancelled_once(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 4, "2016-03-06")
    accept(ledger, "cancel_job", "fl-1", "2016-03-07", job_id="j-1",
           reason="cancelled_without_hire")
    refuse(ledger, "job_already_cancelled", "cancel_job", "fl-1", "2016-03-08",
           job_id="j-1", reason="removed_by_marketplace")
    assert connects(ledger, "fl-1", "2016-03-08") == 60


def test_r5_5_cancelling_a_job_the_account_never_proposed_to_is_unknown_job(
        ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 4, "2016-03-06")
    refuse(ledger, "unknown_job", "cancel_job", "fl-1", "2016-03-07", job_id="j-9",
           reason="cancelled_without_hire")
    assert connects(ledger, "fl-1", "2016-03-07") == 56


def test_r5_5_withdrawing_an_unknown_proposal_is_unknown_proposal(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 4, "2016-03-06")
    refuse(ledger, "unknown_proposal", "withdraw_proposal", "fl-1", "2016-03-07",
           proposal_id="p-9")


def test_r5_5_a_proposal_is_withdrawn_once(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 4, "2016-03-06")
    accept(ledger, "withdraw_proposal", "fl-1", "2016-03-07", proposal_id="p-1")
    refuse(ledger, "proposal_not_active", "withdraw_proposal", "fl-1", "2016-03-08",
           proposal_id="p-1")


def test_r5_5_a_proposal_to_a_cancelled_job_is_no_longer_active(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 4, "2016-03-06")
    accept(ledger, "cancel_job", "fl-1", "2016-03-07", job_id="j-1",
           reason="cancelled_without_hire")
    refuse(ledger, "proposal_not_active", "withdraw_proposal", "fl-1", "2016-03-08",
           proposal_id="p-1")
    assert connects(ledger, "fl-1", "2016-03-08") == 60


def test_r5_5_each_active_proposal_to_a_cancelled_job_gets_its_own_refund(
        ledger: Ledger) -> None:
    # Given an agency whose two members proposed to j-1 (3 and 5) and whose owner's
    # proposal to j-1 (2) was withdrawn
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    open_account(ledger, "fl-3", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")
    accept(ledger, "add_team_member", "ag-1", "2016-03-05", member_id="fl-2", role="member",
           actor="fl-1")
    accept(ledger, "add_team_member", "ag-1", "2016-03-05", member_id="fl-3", role="member",
           actor="fl-1")
    propose(ledger, "ag-1", "p-1", "j-1", 3, "2016-03-06", actor="fl-2")
    propose(ledger, "ag-1", "p-2", "j-1", 5, "2016-03-06", actor="fl-3")
    propose(ledger, "ag-1", "p-3", "j-1", 2, "2016-03-06", actor="fl-1")
    accept(ledger, "withdraw_proposal", "ag-1", "2016-03-07", proposal_id="p-3", actor="fl-1")
    assert connects(ledger, "ag-1", "2016-03-07") == 50
    # When j-1 is cancelled
    r = accept(ledger, "cancel_job", "ag-1", "2016-03-08", job_id="j-1",
               reason="cancelled_without_hire")
    # Then two refunds, 3 + 5, nothing for the withdrawn one
    assert r.events.count("ConnectsRefunded") == 2
    assert r.events.count("JobCancelled") == 1
    assert connects(ledger, "ag-1", "2016-03-08") == 58


# ---------------------------------------------------------------------------


def test_r5_6_an_agency_proposal_spends_the_agency_pool_not_the_owners(ledger: Ledger) -> None:
    # Given fl-1 (60) and its agency ag-1 (60) under v2016
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")
    # When the agency proposes for 6 and the owner for 2
    propose(ledger, "ag-1", "p-1", "j-1", 6, "2016-03-06", actor="fl-1")
    propose(ledger, "fl-1", "p-1", "j-2", 2, "2016-03-06")
    # Then each pool paid its own
    assert connects(ledger, "ag-1", "2016-03-06") == 54
    assert connects(ledger, "fl-1", "2016-03-06") == 58


def test_r5_6_a_member_proposing_for_the_agency_spends_the_shared_pool(ledger: Ledger) -> None:
    # Given ag-1 (60) owned by fl-1, with members fl-2 and fl-3, each with 60 of their own
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    open_account(ledger, "fl-3", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")
    accept(ledger, "add_team_member", "ag-1", "2016-03-05", member_id="fl-2", role="member",
           actor="fl-1")
    accept(ledger, "add_team_member", "ag-1", "2016-03-05", member_id="fl-3", role="manager",
           actor="fl-1")
    # When both members propose for the agency
    propose(ledger, "ag-1", "p-1", "j-1", 5, "2016-03-06", actor="fl-2")
    propose(ledger, "ag-1", "p-2", "j-2", 4, "2016-03-06", actor="fl-3")
    # Then the one agency pool paid 9; the members' own Connects are untouched
    assert connects(ledger, "ag-1", "2016-03-06") == 51
    assert connects(ledger, "fl-2", "2016-03-06") == 60
    assert connects(ledger, "fl-3", "2016-03-06") == 60
    assert connects(ledger, "fl-1", "2016-03-06") == 60


def test_r5_6_an_empty_agency_pool_is_not_topped_up_by_the_owner(ledger: Ledger) -> None:
    # Given a v2019 agency (0 monthly Connects) whose owner holds 10
    open_account(ledger, "fl-1", "freelancer", "2019-06-01")
    open_account(ledger, "ag-1", "agency", "2019-06-01", owner_id="fl-1")
    assert connects(ledger, "fl-1", "2019-06-01") == 10
    # When the agency proposes for 1, Then insufficient_connects; the owner keeps 10
    refuse(ledger, "insufficient_connects", "submit_proposal", "ag-1", "2019-06-02",
           proposal_id="p-1", job_id="j-1", connects=1, actor="fl-1")
    assert connects(ledger, "ag-1", "2019-06-02") == 0
    assert connects(ledger, "fl-1", "2019-06-02") == 10


def test_r5_6_a_refund_on_an_agency_job_returns_to_the_agency_pool(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")
    propose(ledger, "ag-1", "p-1", "j-1", 6, "2016-03-06", actor="fl-1")
    propose(ledger, "fl-1", "p-1", "j-1", 3, "2016-03-06")
    accept(ledger, "cancel_job", "ag-1", "2016-03-07", job_id="j-1",
           reason="cancelled_without_hire")
    assert connects(ledger, "ag-1", "2016-03-07") == 60
    assert connects(ledger, "fl-1", "2016-03-07") == 57


def test_r5_5_a_v2019_refund_lot_survives_the_basic_rollover_and_expires_by_age(
        ledger: Ledger) -> None:
    # Given a v2019 Basic freelancer (10) who spent 6 on j-1, refunded on 2019-06-20
    open_account(ledger, "fl-1", "freelancer", "2019-06-01")
    propose(ledger, "fl-1", "p-1", "j-1", 6, "2019-06-02")
    accept(ledger, "cancel_job", "fl-1", "2019-06-20", job_id="j-1",
           reason="cancelled_without_hire")
    assert connects(ledger, "fl-1", "2019-06-20") == 10
    # When billing runs for a year
    ledger.run_billing(through="2020-06-25")
    # Then on 07-01 only the refill's 4 expire; the refund lot (6) is kept until
    # 365 days after its own issue date (2020-06-19, 2020 being a leap year)
    assert expired_on(ledger, "fl-1", "2019-07-01") == 4
    assert connects(ledger, "fl-1", "2019-07-01") == 16
    assert connects(ledger, "fl-1", "2020-06-18") == 16
    assert expired_on(ledger, "fl-1", "2020-06-19") == 6
    assert connects(ledger, "fl-1", "2020-06-19") == 10


def test_r5_5_a_cancel_reason_outside_the_two_named_is_a_validation_error(
        ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    propose(ledger, "fl-1", "p-1", "j-1", 4, "2016-03-06")
    r = refuse(ledger, "validation_error", "cancel_job", "fl-1", "2016-03-07", job_id="j-1",
               reason="client_changed_mind")
    assert "reason" in r.error.message
    assert connects(ledger, "fl-1", "2016-03-07") == 56


def test_r5_2_a_basic_agency_v2016_loses_unused_refill_connects_at_the_billing_date(
        ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")
    propose(ledger, "ag-1", "p-1", "j-1", 5, "2016-03-06", actor="fl-1")
    ledger.run_billing(through="2016-04-05")
    assert expiries(ledger, "ag-1") == [("2016-04-05", 55)]
    assert connects(ledger, "ag-1", "2016-04-05") == 60
