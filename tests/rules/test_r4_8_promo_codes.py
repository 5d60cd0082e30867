"""R-4.8: promo codes (PLUSMONTH, HALFOFF3): redeemed at upgrade or on active Plus, valid
through 2030-12-31, once per account, for the plans and kinds they name.

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
    downgrade,
    downgrades,
    history_of,
    open_on,
    paid,
    plus_account,
    redeem,
    upgrade,
)


def test_plusmonth_at_upgrade_makes_the_upgrade_charge_free_and_the_renewal_full(
    ledger: Ledger,
) -> None:
    # R-4.8 (PLUSMONTH: the next Plus charge is free; at upgrade, the upgrade's own charge)
    # Given a Basic freelancer with a card
    open_on(ledger, "2016-03-01")
    add_card_on(ledger, "2016-03-01")
    # When it upgrades on 5 March 2016 with PLUSMONTH
    result = upgrade(ledger, "2016-03-05", promo="PLUSMONTH")
    # Then it is Plus for free, and 5 April costs the full 10.00
    assert result.ok, result.error
    assert ledger.account("fl-1", as_of="2016-03-05").plan == "plus"
    assert paid(ledger) == []
    ledger.run_billing(through="2016-05-05")
    assert paid(ledger) == [("2016-04-05", M("10.00")), ("2016-05-05", M("10.00"))]


def test_halfoff3_at_upgrade_halves_the_upgrade_and_the_next_two_renewals(ledger: Ledger) -> None:
    # R-4.8 (HALFOFF3: 50% off the next three Plus charges)
    # Given a Basic freelancer with a card
    open_on(ledger, "2016-03-01")
    add_card_on(ledger, "2016-03-01")
    # When it upgrades on 5 March 2016 with HALFOFF3 and four more months pass
    assert upgrade(ledger, "2016-03-05", promo="HALFOFF3").ok
    ledger.run_billing(through="2016-07-05")
    # Then three charges are 5.00 and the later ones 10.00
    assert paid(ledger) == [
        ("2016-03-05", M("5.00")),
        ("2016-04-05", M("5.00")),
        ("2016-05-05", M("5.00")),
        ("2016-06-05", M("10.00")),
        ("2016-07-05", M("10.00")),
    ]


def test_plusmonth_redeemed_on_active_plus_makes_the_next_renewal_free(ledger: Ledger) -> None:
    # R-4.8 (redeemed on an active subscription: the next renewal is covered)
    # Given a Plus freelancer upgraded on 5 March 2016
    plus_account(ledger, "2016-03-05", "2016-03-05")
    # When it redeems PLUSMONTH on 20 March
    result = redeem(ledger, "2016-03-20", "PLUSMONTH")
    # Then 5 April is free and still renews; 5 May costs 10.00
    assert result.ok, result.error
    assert "PromoCodeRedeemed" in result.events
    ledger.run_billing(through="2016-05-05")
    assert paid(ledger) == [("2016-03-05", M("10.00")), ("2016-05-05", M("10.00"))]
    view = ledger.account("fl-1", as_of="2016-04-05")
    assert (view.plan, view.cycle_start) == ("plus", D("2016-04-05"))
    assert downgrades(ledger) == []


def test_halfoff3_redeemed_on_active_plus_halves_the_next_three_renewals(ledger: Ledger) -> None:
    #
    # Given a Plus freelancer upgraded on 5 March 2016
    plus_account(ledger, "2016-03-05", "2016-03-05")
    # When it redeems HALFOFF3 on 20 March and the billing run reaches 5 July
    assert redeem(ledger, "2016-03-20", "HALFOFF3").ok
    ledger.run_billing(through="2016-07-05")
    # Then the renewals of April, May and June are 5.00, July's 10.00
    assert paid(ledger) == [
        ("2016-03-05", M("10.00")),
        ("2016-04-05", M("5.00")),
        ("2016-05-05", M("5.00")),
        ("2016-06-05", M("5.00")),
        ("2016-07-05", M("10.00")),
    ]


def test_an_unknown_promo_code_is_refused_and_the_upgrade_does_not_happen(ledger: Ledger) -> None:
    # R-4.8 (promo_unknown)
    # Given a Basic freelancer with a card
    open_on(ledger, "2016-03-01")
    add_card_on(ledger, "2016-03-01")
    before = len(history_of(ledger))
    # When it upgrades with a code the catalog does not list, or redeems one
    up = upgrade(ledger, "2016-03-05", promo="NOSUCHCODE")
    # Then it is refused with promo_unknown and nothing is recorded
    assert not up.ok and up.error.code == "promo_unknown"
    assert len(history_of(ledger)) == before
    assert ledger.account("fl-1", as_of="2016-03-05").plan == "basic"
    assert upgrade(ledger, "2016-03-06").ok
    bad = redeem(ledger, "2016-03-07", "NOSUCHCODE")
    assert not bad.ok and bad.error.code == "promo_unknown"


def test_a_promo_code_is_valid_through_31_december_2030_and_expired_after(ledger: Ledger) -> None:
    # R-4.8 (promo_expired; window 2016-01-01 to 2030-12-31)
    # Given two Basic freelancers with cards
    for account_id in ("fl-1", "fl-2"):
        open_on(ledger, "2030-12-01", account_id)
        add_card_on(ledger, "2030-12-01", account_id)
    # When one upgrades with PLUSMONTH on 31 December 2030, the other with HALFOFF3 on 1 January
    last_day = upgrade(ledger, "2030-12-31", "fl-1", promo="PLUSMONTH")
    too_late = upgrade(ledger, "2031-01-01", "fl-2", promo="HALFOFF3")
    # Then the first is free, the second refused with promo_expired and not upgraded
    assert last_day.ok, last_day.error
    assert paid(ledger, "fl-1") == []
    assert not too_late.ok and too_late.error.code == "promo_expired"
    assert ledger.account("fl-2", as_of="2031-01-01").plan == "basic"
    assert paid(ledger, "fl-2") == []
    # And redeeming on the active Plus account after the window is refused too
    late_redeem = redeem(ledger, "2031-01-01", "HALFOFF3", "fl-1")
    assert not late_redeem.ok and late_redeem.error.code == "promo_expired"


def test_a_promo_code_can_be_redeemed_once_per_account(ledger: Ledger) -> None:
    # R-4.8 (promo_already_redeemed)
    # Given a freelancer upgraded with PLUSMONTH on 5 March 2016
    open_on(ledger, "2016-03-01")
    add_card_on(ledger, "2016-03-01")
    assert upgrade(ledger, "2016-03-05", promo="PLUSMONTH").ok
    # When it redeems PLUSMONTH again on its active subscription
    again = redeem(ledger, "2016-03-20", "PLUSMONTH")
    # Then it is refused with promo_already_redeemed
    assert not again.ok and again.error.code == "promo_already_redeemed"
    # And after a downgrade, re-upgrading with the same code is refused as well
    assert downgrade(ledger, "2016-03-21").ok
    ledger.run_billing(through="2016-04-05")
    assert ledger.account("fl-1", as_of="2016-04-05").plan == "basic"
    reup = upgrade(ledger, "2016-04-20", promo="PLUSMONTH")
    assert not reup.ok and reup.error.code == "promo_already_redeemed"
    assert ledger.account("fl-1", as_of="2016-04-20").plan == "basic"
    assert paid(ledger) == []


def test_a_promo_code_redeemed_on_basic_without_an_upgrade_is_not_applicable(
    ledger: Ledger,
) -> None:
    # R-4.8 (promo_not_applicable: redeemed on Basic without an upgrade)
    # Given a Basic freelancer with a card
    open_on(ledger, "2016-03-01")
    add_card_on(ledger, "2016-03-01")
    # When it redeems HALFOFF3 without upgrading
    result = redeem(ledger, "2016-03-03", "HALFOFF3")
    # Then it is refused, and the code is still unused: an upgrade with it is halved
    assert not result.ok and result.error.code == "promo_not_applicable"
    assert upgrade(ledger, "2016-03-05", promo="HALFOFF3").ok
    assert paid(ledger) == [("2016-03-05", M("5.00"))]


def test_a_freelancer_promo_code_is_not_applicable_to_an_agency(ledger: Ledger) -> None:
    # R-4.8 (promo_not_applicable: wrong account kind; sample codes are for freelancers)
    # Given an agency with a card
    open_on(ledger, "2016-03-01", "fl-1")
    open_on(ledger, "2016-03-01", "ag-1", kind="agency", owner_id="fl-1")
    add_card_on(ledger, "2016-03-01", "ag-1", actor="fl-1")
    # When it upgrades with PLUSMONTH
    result = upgrade(ledger, "2016-03-05", "ag-1", promo="PLUSMONTH", actor="fl-1")
    # Then it is refused and the agency stays Basic, uncharged
    assert not result.ok and result.error.code == "promo_not_applicable"
    assert ledger.account("ag-1", as_of="2016-03-05").plan == "basic"
    assert paid(ledger, "ag-1") == []


def test_a_declined_upgrade_does_not_use_up_the_promo_code(ledger: Ledger) -> None:
    # R-3.3 (PaymentFailed and nothing else of the attempted change)
    # Given a Basic freelancer whose card is declined
    open_on(ledger, "2016-03-01")
    add_card_on(ledger, "2016-03-01", token="tok_decline_1")
    # When it upgrades with HALFOFF3 and the payment fails
    failed = upgrade(ledger, "2016-03-05", promo="HALFOFF3")
    assert not failed.ok and failed.error.code == "payment_failed"
    assert failed.events == ["PaymentFailed"]
    # Then with a good card the same code still halves the upgrade
    add_card_on(ledger, "2016-03-06", method_id="m-2")
    act(ledger, "make_primary_method", "2016-03-06", method_id="m-2")
    assert upgrade(ledger, "2016-03-07", promo="HALFOFF3").ok
    assert paid(ledger) == [("2016-03-07", M("5.00"))]
