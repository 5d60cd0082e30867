"""R-4.6: a requested downgrade takes effect at the end of the paid cycle; an upgrade
before then cancels it and keeps the billing date (seed 004).

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
    downgrade,
    downgrades,
    paid,
    plus_account,
    upgrade,
)


def _plus_on_the_15th(ledger: Ledger) -> None:
    """Seed 004's account: Plus with billing date the 15th (upgraded 15 October 2016)."""
    plus_account(ledger, "2016-10-01", "2016-10-15")
    view = ledger.account("fl-1", as_of="2016-10-15")
    assert (view.billing_day, view.next_billing_date) == (15, D("2016-11-15"))


def test_seed_004_downgrade_on_10_november_then_upgrade_on_1_december_moves_to_the_1st(
    ledger: Ledger,
) -> None:
    # R-4.6 (seed 004)
    # Given a Plus account billed on the 15th that asks to downgrade on 10 November
    _plus_on_the_15th(ledger)
    assert downgrade(ledger, "2016-11-10").ok
    pending = ledger.account("fl-1", as_of="2016-11-10")
    assert (pending.plan, pending.downgrade_pending) == ("plus", True)
    assert pending.next_billing_date == D("2016-11-15")
    # When it upgrades again on 1 December
    result = upgrade(ledger, "2016-12-01")
    # Then the downgrade took effect on 15 November (recorded first), uncharged,
    # and the new upgrade is charged and moves the billing date to the 1st
    assert result.ok, result.error
    assert result.events.index("PlanDowngraded") < result.events.index("PlanUpgraded")
    assert downgrades(ledger) == [("2016-11-15", "requested")]
    assert ledger.account("fl-1", as_of="2016-11-15").plan == "basic"
    assert paid(ledger) == [("2016-10-15", M("10.00")), ("2016-12-01", M("10.00"))]
    view = ledger.account("fl-1", as_of="2016-12-01")
    assert (view.plan, view.downgrade_pending, view.billing_day) == ("plus", False, 1)
    assert (view.cycle_start, view.next_billing_date) == (D("2016-12-01"), D("2017-01-01"))


def test_seed_004_downgrade_on_16_november_keeps_plus_until_15_december(ledger: Ledger) -> None:
    # R-4.6 (seed 004)
    # Given a Plus account billed on the 15th
    _plus_on_the_15th(ledger)
    # When it asks to downgrade on 16 November (after the 15 November renewal)
    result = downgrade(ledger, "2016-11-16")
    # Then 15 November renewed and was charged, and Plus lasts until 15 December
    assert result.ok, result.error
    assert result.events.index("MembershipCharged") < result.events.index("DowngradeScheduled")
    assert paid(ledger) == [("2016-10-15", M("10.00")), ("2016-11-15", M("10.00"))]
    view = ledger.account("fl-1", as_of="2016-12-14T23:59:59Z")
    assert (view.plan, view.downgrade_pending) == ("plus", True)
    assert view.next_billing_date == D("2016-12-15")
    ledger.run_billing(through="2016-12-15")
    assert downgrades(ledger) == [("2016-12-15", "requested")]
    after = ledger.account("fl-1", as_of="2016-12-15")
    assert (after.plan, after.downgrade_pending, after.billing_day) == ("basic", False, 15)
    assert paid(ledger)[-1] == ("2016-11-15", M("10.00"))


def test_seed_004_an_upgrade_on_1_december_cancels_the_pending_downgrade_and_keeps_the_15th(
    ledger: Ledger,
) -> None:
    # R-4.6 (seed 004)
    # Given a Plus account billed on the 15th that asked to downgrade on 16 November
    _plus_on_the_15th(ledger)
    assert downgrade(ledger, "2016-11-16").ok
    # When it upgrades on 1 December
    result = upgrade(ledger, "2016-12-01")
    # Then the downgrade is cancelled, nothing is charged, the billing date stays the 15th
    assert result.ok, result.error
    assert result.events == ["DowngradeCancelled"]
    view = ledger.account("fl-1", as_of="2016-12-01")
    assert (view.plan, view.downgrade_pending, view.billing_day) == ("plus", False, 15)
    assert (view.cycle_start, view.next_billing_date) == (D("2016-11-15"), D("2016-12-15"))
    # And 15 December renews normally
    ledger.run_billing(through="2016-12-15")
    assert paid(ledger) == [
        ("2016-10-15", M("10.00")),
        ("2016-11-15", M("10.00")),
        ("2016-12-15", M("10.00")),
    ]
    assert downgrades(ledger) == []


def test_seed_004_after_a_16_november_downgrade_the_1st_is_reached_by_upgrading_on_1_january(
    ledger: Ledger,
) -> None:
    # R-4.6 (seed 004)
    # Given a Plus account billed on the 15th that downgraded on 16 November
    _plus_on_the_15th(ledger)
    assert downgrade(ledger, "2016-11-16").ok
    # When it upgrades on 1 January
    result = upgrade(ledger, "2017-01-01")
    # Then the 15 December downgrade was recorded first and the upgrade moved the date
    assert result.ok, result.error
    assert downgrades(ledger) == [("2016-12-15", "requested")]
    assert paid(ledger) == [
        ("2016-10-15", M("10.00")),
        ("2016-11-15", M("10.00")),
        ("2017-01-01", M("10.00")),
    ]
    view = ledger.account("fl-1", as_of="2017-01-01")
    assert (view.plan, view.billing_day, view.next_billing_date) == ("plus", 1, D("2017-02-01"))


def test_an_upgrade_inside_the_same_cycle_cannot_change_the_billing_date(ledger: Ledger) -> None:
    # R-4.6 (no changing the billing date inside one cycle)
    # Given a Plus account billed on the 15th that asked to downgrade on 10 November
    _plus_on_the_15th(ledger)
    assert downgrade(ledger, "2016-11-10").ok
    # When it upgrades again on 12 November, before the downgrade falls due
    result = upgrade(ledger, "2016-11-12")
    # Then the downgrade is cancelled uncharged and 15 November renews as usual
    assert result.ok and result.events == ["DowngradeCancelled"]
    assert ledger.account("fl-1", as_of="2016-11-12").billing_day == 15
    ledger.run_billing(through="2016-11-15")
    assert paid(ledger) == [("2016-10-15", M("10.00")), ("2016-11-15", M("10.00"))]
    assert ledger.account("fl-1", as_of="2016-11-15").plan == "plus"


def test_a_downgrade_dated_on_the_billing_date_comes_after_that_dates_renewal(
    ledger: Ledger,
) -> None:
    # R-8.2 (facts on or before the command's date are recorded first)
    # Given a Plus account billed on the 15th
    _plus_on_the_15th(ledger)
    # When it asks to downgrade at 00:00 on 15 November
    result = downgrade(ledger, "2016-11-15")
    # Then 15 November renewed first, and the downgrade waits for 15 December
    assert result.ok, result.error
    assert paid(ledger)[-1] == ("2016-11-15", M("10.00"))
    view = ledger.account("fl-1", as_of="2016-11-15")
    assert (view.plan, view.downgrade_pending, view.next_billing_date) == (
        "plus",
        True,
        D("2016-12-15"),
    )


def test_an_upgrade_on_the_day_the_downgrade_takes_effect_is_charged_and_restarts_the_cycle(
    ledger: Ledger,
) -> None:
    # R-4.6 ("an upgrade after the downgrade took effect is charged")
    # Given a Plus account billed on the 15th that asked to downgrade on 10 November
    _plus_on_the_15th(ledger)
    assert downgrade(ledger, "2016-11-10").ok
    # When it upgrades on 15 November, the day the downgrade takes effect
    result = upgrade(ledger, "2016-11-15")
    # Then the downgrade was recorded first, and the upgrade is a charged new cycle
    assert result.ok, result.error
    assert result.events.index("PlanDowngraded") < result.events.index("PlanUpgraded")
    assert "DowngradeCancelled" not in result.events
    assert downgrades(ledger) == [("2016-11-15", "requested")]
    assert paid(ledger) == [("2016-10-15", M("10.00")), ("2016-11-15", M("10.00"))]
    view = ledger.account("fl-1", as_of="2016-11-15")
    assert (view.plan, view.cycle_start, view.next_billing_date) == (
        "plus",
        D("2016-11-15"),
        D("2016-12-15"),
    )
