"""R-4: plans and billing cycles (seeds 001, 002, 004), through the public API.

Figures come from the default catalog (RULES.md R-0): v2016 from 2016-01-01 (last billable
day 27, Plus freelancer 10.00, agency 20.00, Basic 60 Connects, Plus 70 / 80, Plus rollover
cap 140), v2019 from 2019-05-01 (last billable day 28, Plus freelancer 14.99, Basic 10).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledger import Ledger

# ---------------------------------------------------------------------------- helpers

BILLING_NAMES = {
    "MembershipCharged",
    "PaymentFailed",
    "PlanDowngraded",
    "ConnectsExpired",
    "ConnectsRefilled",
}


def accept(ledger: Ledger, cmd: dict[str, Any]) -> Any:
    result = ledger.submit(cmd)
    assert result.ok, f"{cmd['type']} at {cmd.get('at')} refused: {result.error}"
    return result


def act(ledger: Ledger, type_: str, at: str, account_id: str = "fl-1", **fields: Any) -> Any:
    """Submit command `type_` for `account_id` dated `at`; it must be accepted."""
    return accept(ledger, {"type": type_, "account_id": account_id, "at": at, **fields})


def open_account(
    ledger: Ledger, at: str, account_id: str = "fl-1", kind: str = "freelancer", **extra: Any
) -> Any:
    return accept(
        ledger, {"type": "open_account", "account_id": account_id, "kind": kind, "at": at, **extra}
    )


def add_card(
    ledger: Ledger,
    at: str,
    account_id: str = "fl-1",
    method_id: str = "m-1",
    token: str = "tok_ok_1",
    actor: str | None = None,
) -> Any:
    return accept(
        ledger,
        {
            "type": "add_billing_method",
            "account_id": account_id,
            **acting(actor),
            "method_id": method_id,
            "method": "card",
            "brand": "visa",
            "last4": "4242",
            "exp_month": 12,
            "exp_year": 2035,
            "token": token,
            "prepaid": False,
            "at": at,
        },
    )


def acting(actor: str | None) -> dict[str, str]:
    """The `actor` field when one is named (R-1.5: needed on an agency or company)."""
    return {} if actor is None else {"actor": actor}


def upgrade(ledger: Ledger, at: str, account_id: str = "fl-1", promo: str | None = None,
            actor: str | None = None) -> Any:
    cmd: dict[str, Any] = {"type": "upgrade_plan", "account_id": account_id, "at": at,
                           **acting(actor)}
    if promo is not None:
        cmd["promo_code"] = promo
    return ledger.submit(cmd)


def downgrade(ledger: Ledger, at: str, account_id: str = "fl-1",
              actor: str | None = None) -> Any:
    return ledger.submit({"type": "downgrade_plan", "account_id": account_id, "at": at,
                          **acting(actor)})


def redeem(ledger: Ledger, at: str, code: str, account_id: str = "fl-1") -> Any:
    return ledger.submit(
        {"type": "redeem_promo_code", "account_id": account_id, "code": code, "at": at}
    )


def plus_account(
    ledger: Ledger, opened: str, upgraded: str, account_id: str = "fl-1", promo: str | None = None
) -> None:
    """A freelancer opened on `opened` with card m-1, upgraded to Plus on `upgraded`."""
    open_account(ledger, opened, account_id)
    add_card(ledger, opened, account_id)
    result = upgrade(ledger, upgraded, account_id, promo)
    assert result.ok, f"upgrade refused: {result.error}"


def day(at: Any) -> str:
    return str(at)[:10]


def history(ledger: Ledger, account_id: str = "fl-1") -> list[dict[str, Any]]:
    return list(ledger.history(account_id))


def named(ledger: Ledger, name: str, account_id: str = "fl-1") -> list[dict[str, Any]]:
    return [e for e in history(ledger, account_id) if e["name"] == name]


def paid(ledger: Ledger, account_id: str = "fl-1") -> list[tuple[str, Decimal]]:
    """Every non-zero membership charge as (date, amount)."""
    out = []
    for e in named(ledger, "MembershipCharged", account_id):
        amount = Decimal(str(e["data"]["amount"]))
        if amount != 0:
            out.append((day(e["at"]), amount))
    return out


def billing_names_on(ledger: Ledger, on: str, account_id: str = "fl-1") -> list[str]:
    """The billing-relevant event names effective on date `on`, consecutive repeats merged."""
    out: list[str] = []
    for e in history(ledger, account_id):
        if day(e["at"]) == on and e["name"] in BILLING_NAMES and (not out or out[-1] != e["name"]):
            out.append(e["name"])
    return out


def downgrades(ledger: Ledger, account_id: str = "fl-1") -> list[tuple[str, str]]:
    events = named(ledger, "PlanDowngraded", account_id)
    return [(day(e["at"]), e["data"]["reason"]) for e in events]


def D(text: str) -> date:
    return date.fromisoformat(text)


def M(text: str) -> Decimal:
    return Decimal(text)


# ----------------------------------------------------------------------------


def test_a_new_freelancer_or_agency_is_on_basic_and_a_company_has_no_plan(ledger: Ledger) -> None:
    #
    # Given a freelancer, the agency it owns, a member and the company the member owns
    open_account(ledger, "2016-03-05", "fl-1")
    open_account(ledger, "2016-03-05", "ag-1", kind="agency", owner_id="fl-1")
    open_account(ledger, "2016-03-05", "mb-1", kind="member")
    open_account(ledger, "2016-03-05", "co-1", kind="company", owner_id="mb-1")
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
    open_account(ledger, "2016-03-05", "mb-1", kind="member")
    open_account(ledger, "2016-03-05", "co-1", kind="company", owner_id="mb-1")
    add_card(ledger, "2016-03-05", "mb-1")
    add_card(ledger, "2016-03-05", "co-1", actor="mb-1")
    for account_id in ("mb-1", "co-1"):
        before = len(history(ledger, account_id))
        # When either is upgraded or downgraded
        up = upgrade(ledger, "2016-03-10", account_id, actor="mb-1")
        down = downgrade(ledger, "2016-03-10", account_id, actor="mb-1")
        # Then both are refused with no_plan and nothing is recorded
        assert not up.ok and up.error.code == "no_plan"
        assert not down.ok and down.error.code == "no_plan"
        assert len(history(ledger, account_id)) == before
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
    open_account(ledger, "2016-03-05", "fl-1")
    open_account(ledger, "2016-03-05", "ag-1", kind="agency", owner_id="fl-1")
    add_card(ledger, "2016-03-05", "ag-1", actor="fl-1")
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
    before = len(history(ledger))
    # When it asks to upgrade again
    result = upgrade(ledger, "2016-03-20")
    # Then it is refused, nothing charged, nothing recorded, billing day unchanged
    assert not result.ok and result.error.code == "already_plus"
    assert len(history(ledger)) == before
    assert paid(ledger) == [("2016-03-05", M("10.00"))]
    assert ledger.account("fl-1", as_of="2016-03-20").billing_day == 5


def test_downgrading_a_basic_account_is_refused_with_not_plus(ledger: Ledger) -> None:
    #
    # Given a Basic freelancer
    open_account(ledger, "2016-03-05")
    before = len(history(ledger))
    # When it asks to downgrade
    result = downgrade(ledger, "2016-03-10")
    # Then it is refused with not_plus and nothing is recorded
    assert not result.ok and result.error.code == "not_plus"
    assert len(history(ledger)) == before
    assert ledger.account("fl-1", as_of="2016-03-10").downgrade_pending is False


# ----------------------------------------------------------------------------


def test_an_upgrade_is_charged_at_once_and_moves_the_billing_date_to_the_upgrade_date(
    ledger: Ledger,
) -> None:
    #
    # Given a Basic freelancer opened on 5 March 2016 with a card
    open_account(ledger, "2016-03-05")
    add_card(ledger, "2016-03-05")
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
    open_account(ledger, "2016-03-05")
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
    open_account(ledger, "2016-03-05")
    add_card(ledger, "2016-03-05", token="tok_decline_1")
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
    open_account(ledger, "2016-03-01")
    add_card(ledger, "2016-03-01")
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
    open_account(ledger, "2019-06-01")
    add_card(ledger, "2019-06-01")
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


# ----------------------------------------------------------------------------


def test_a_cycle_started_on_5_march_renews_on_5_april(ledger: Ledger) -> None:
    #
    # Given a Plus cycle started on 5 March 2016
    plus_account(ledger, "2016-03-05", "2016-03-05")
    # When the billing run passes 5 April
    ledger.run_billing(through="2016-04-10")
    # Then the renewal was charged on 5 April, not before
    assert paid(ledger) == [("2016-03-05", M("10.00")), ("2016-04-05", M("10.00"))]
    view = ledger.account("fl-1", as_of="2016-04-05")
    assert (view.cycle_start, view.next_billing_date) == (D("2016-04-05"), D("2016-05-05"))


def test_a_cycle_started_on_30_january_renews_on_1_march_then_on_every_1st(ledger: Ledger) -> None:
    # R-4.3 (non-leap 2021, v2019: 30 January + 1 month = 28 February -> 1 March)
    # Given a freelancer upgraded to Plus on 30 January 2021
    plus_account(ledger, "2021-01-02", "2021-01-30")
    view = ledger.account("fl-1", as_of="2021-01-30")
    assert (view.billing_day, view.next_billing_date) == (1, D("2021-03-01"))
    # When the billing run reaches 1 May
    ledger.run_billing(through="2021-05-01")
    # Then no charge fell on 1 February; renewals came on 1 March, 1 April, 1 May
    assert paid(ledger) == [
        ("2021-01-30", M("14.99")),
        ("2021-03-01", M("14.99")),
        ("2021-04-01", M("14.99")),
        ("2021-05-01", M("14.99")),
    ]
    assert ledger.account("fl-1", as_of="2021-05-01").next_billing_date == D("2021-06-01")


def test_a_cycle_started_on_31_january_is_clamped_and_renews_on_1_march(ledger: Ledger) -> None:
    # R-4.3 (end-of-month clamping, non-leap 2017, v2016)
    # Given a Plus cycle started on 31 January 2017
    plus_account(ledger, "2017-01-02", "2017-01-31")
    # When the billing run reaches 1 April
    ledger.run_billing(through="2017-04-01")
    # Then renewals are 1 March and 1 April, none at the end of February
    assert paid(ledger) == [
        ("2017-01-31", M("10.00")),
        ("2017-03-01", M("10.00")),
        ("2017-04-01", M("10.00")),
    ]


def test_in_a_leap_year_a_cycle_started_on_29_february_renews_on_1_april(ledger: Ledger) -> None:
    # R-4.3 (leap 2016: 29 February + 1 month = 29 March -> first 1st after is 1 April)
    # Given a Plus cycle started on 29 February 2016
    plus_account(ledger, "2016-02-01", "2016-02-29")
    view = ledger.account("fl-1", as_of="2016-02-29")
    assert (view.billing_day, view.next_billing_date) == (1, D("2016-04-01"))
    # When the billing run reaches 1 May
    ledger.run_billing(through="2016-05-01")
    # Then nothing was charged on 1 March
    assert paid(ledger) == [
        ("2016-02-29", M("10.00")),
        ("2016-04-01", M("10.00")),
        ("2016-05-01", M("10.00")),
    ]


def test_in_a_leap_year_a_billing_day_of_28_renews_on_28_february(ledger: Ledger) -> None:
    # R-4.3 (v2019, leap 2020)
    # Given a Plus cycle started on 28 January 2020
    plus_account(ledger, "2020-01-02", "2020-01-28")
    # When the billing run reaches 28 March
    ledger.run_billing(through="2020-03-28")
    # Then the renewals are on the 28th, 29 February playing no part
    assert paid(ledger) == [
        ("2020-01-28", M("14.99")),
        ("2020-02-28", M("14.99")),
        ("2020-03-28", M("14.99")),
    ]


def test_the_billing_day_keeps_the_version_in_force_when_its_cycle_started(ledger: Ledger) -> None:
    # R-0 (28 April 2019 is v2016: day 1, although v2019 allows the 28th)
    # Given a Plus cycle started on 28 April 2019
    plus_account(ledger, "2019-04-01", "2019-04-28")
    view = ledger.account("fl-1", as_of="2019-04-28")
    assert (view.policy_version, view.billing_day) == ("v2016", 1)
    assert view.next_billing_date == D("2019-06-01")
    # When the billing run passes 28 May and 1 June
    ledger.run_billing(through="2019-06-01")
    # Then nothing was charged on 28 May or 1 May; the renewal on 1 June is at v2019's price
    assert paid(ledger) == [("2019-04-28", M("10.00")), ("2019-06-01", M("14.99"))]
    assert ledger.account("fl-1", as_of="2019-06-01").policy_version == "v2019"


def test_a_billing_date_takes_effect_at_midnight_utc(ledger: Ledger) -> None:
    # R-4.3 ("Billing dates and expiries take effect at 00:00 UTC")
    # Given a Plus cycle started on 5 March 2016, billed through 5 April
    plus_account(ledger, "2016-03-05", "2016-03-05")
    ledger.run_billing(through="2016-04-05")
    # Then one second before midnight the old cycle holds, at midnight the new one
    before = ledger.account("fl-1", as_of="2016-04-04T23:59:59Z")
    at_midnight = ledger.account("fl-1", as_of="2016-04-05T00:00:00Z")
    assert before.cycle_start == D("2016-03-05")
    assert at_midnight.cycle_start == D("2016-04-05")
    assert at_midnight.next_billing_date == D("2016-05-05")
    (charge,) = [e for e in named(ledger, "MembershipCharged") if day(e["at"]) == "2016-04-05"]
    assert "00:00:00" in str(charge["at"])


# ----------------------------------------------------------------------------


def test_a_new_account_starts_a_basic_cycle_on_its_opening_date_with_its_first_refill(
    ledger: Ledger,
) -> None:
    # R-0 (Basic freelancer 60 under v2016, 10 under v2019)
    # Given / When freelancers open in 2016 and in 2019
    r2016 = open_account(ledger, "2016-03-05", "fl-1")
    r2019 = open_account(ledger, "2019-06-10", "fl-2")
    # Then each starts a Basic cycle on its opening day, refilled at once
    assert "ConnectsRefilled" in r2016.events and "ConnectsRefilled" in r2019.events
    v16 = ledger.account("fl-1", as_of="2016-03-05")
    v19 = ledger.account("fl-2", as_of="2019-06-10")
    assert (v16.plan, v16.cycle_start, v16.billing_day, v16.connects) == (
        "basic",
        D("2016-03-05"),
        5,
        60,
    )
    assert v16.next_billing_date == D("2016-04-05")
    assert (v19.plan, v19.cycle_start, v19.billing_day, v19.connects) == (
        "basic",
        D("2019-06-10"),
        10,
        10,
    )
    assert (v16.policy_version, v19.policy_version) == ("v2016", "v2019")


def test_seed_002_the_day_before_the_billing_date_is_the_last_day_of_the_old_cycle(
    ledger: Ledger,
) -> None:
    # R-4.4 (seed 002: "December 4th is your last day ... connects will be awarded tomorrow")
    # Given a Basic freelancer opened on 5 November 2018 who spent 2 Connects
    open_account(ledger, "2018-11-05")
    act(ledger, "submit_proposal", "2018-11-20", proposal_id="p-1", job_id="j-1", connects=2)
    # When the billing run goes through 4 December
    ledger.run_billing(through="2018-12-04")
    # Then all of 4 December is still the old cycle, with no refill yet and none due
    last_day = ledger.account("fl-1", as_of="2018-12-04T23:59:59Z")
    assert last_day.connects == 58
    assert last_day.cycle_start == D("2018-11-05")
    assert last_day.next_billing_date == D("2018-12-05")
    assert last_day.billing_due is None
    # And when it goes through 5 December, the Connects are awarded on the 5th
    ledger.run_billing(through="2018-12-05")
    awarded = ledger.account("fl-1", as_of="2018-12-05")
    assert awarded.connects == 60
    assert awarded.cycle_start == D("2018-12-05")
    assert awarded.next_billing_date == D("2019-01-05")


def test_seed_002_refill_is_due_on_the_billing_date_and_recorded_by_the_next_command(
    ledger: Ledger,
) -> None:
    #
    # Given a Basic freelancer opened on 5 November 2018 who spent 2 Connects
    open_account(ledger, "2018-11-05")
    act(ledger, "submit_proposal", "2018-11-20", proposal_id="p-1", job_id="j-1", connects=2)
    # Then before anything is recorded on 5 December, the view says the billing is due
    assert ledger.account("fl-1", as_of="2018-12-04").billing_due is None
    assert ledger.account("fl-1", as_of="2018-12-05").billing_due == D("2018-12-05")
    # When a command dated 5 December arrives
    result = add_card(ledger, "2018-12-05")
    # Then the refill is recorded first, then the command's own event
    assert "ConnectsRefilled" in result.events
    assert result.events.index("ConnectsRefilled") < result.events.index("MethodAdded")
    assert ledger.account("fl-1", as_of="2018-12-04T23:59:59Z").connects == 58
    after = ledger.account("fl-1", as_of="2018-12-05")
    assert (after.connects, after.billing_due) == (60, None)


def test_basic_connects_are_refilled_on_every_billing_date_without_rollover(
    ledger: Ledger,
) -> None:
    # R-0 (Basic v2019: 10 a month, rollover none)
    # Given a Basic freelancer opened on 10 June 2019 who spent 3 Connects
    open_account(ledger, "2019-06-10")
    act(ledger, "submit_proposal", "2019-06-12", proposal_id="p-1", job_id="j-1", connects=3)
    # When two billing dates pass
    ledger.run_billing(through="2019-08-10")
    # Then each billing date refills to 10, the unused ones not rolling over
    assert ledger.account("fl-1", as_of="2019-07-09").connects == 7
    assert ledger.account("fl-1", as_of="2019-07-10").connects == 10
    assert ledger.account("fl-1", as_of="2019-08-10").connects == 10
    refills = [day(e["at"]) for e in named(ledger, "ConnectsRefilled")]
    assert refills == ["2019-06-10", "2019-07-10", "2019-08-10"]


def test_plus_connects_are_refilled_on_every_billing_date_and_roll_over_to_the_cap(
    ledger: Ledger,
) -> None:
    # R-0 (Plus v2016: 70 a month, rollover capped at 140)
    # Given a freelancer opened and upgraded on 5 March 2016: 60 + 10 + 0 = 70
    plus_account(ledger, "2016-03-05", "2016-03-05")
    assert ledger.account("fl-1", as_of="2016-03-05").connects == 70
    # When three renewals pass
    ledger.run_billing(through="2016-06-05")
    # Then 70 + 70; 140 + 70; (210 capped to 140) + 70
    assert ledger.account("fl-1", as_of="2016-04-05").connects == 140
    assert ledger.account("fl-1", as_of="2016-05-05").connects == 210
    assert ledger.account("fl-1", as_of="2016-06-05").connects == 210


# ----------------------------------------------------------------------------


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
    add_card(ledger, "2016-03-20", method_id="m-2", token="tok_decline_2")
    act(ledger, "make_primary_method", "2016-03-20", method_id="m-2")
    # When the billing date of 8 April arrives
    ledger.run_billing(through="2016-04-08")
    # Then the charge failed, the account is Basic from that date, reason payment_failed
    assert [day(e["at"]) for e in named(ledger, "PaymentFailed")] == ["2016-04-08"]
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
    add_card(ledger, "2016-03-20", method_id="m-2", token="tok_decline_2")
    act(ledger, "make_primary_method", "2016-03-20", method_id="m-2")
    # When the renewal of 8 April fails and the next billing date passes
    ledger.run_billing(through="2016-05-08")
    # Then 8 April's refill is Basic's: the 60 refill lot expires (rollover none),
    # the 16 of proration stay, 60 are granted: 76; not Plus's 70
    assert ledger.account("fl-1", as_of="2016-04-08").connects == 76
    # And 8 May is a plain Basic date: no charge, no second attempt
    assert [day(e["at"]) for e in named(ledger, "PaymentFailed")] == ["2016-04-08"]
    assert billing_names_on(ledger, "2016-05-08") == ["ConnectsExpired", "ConnectsRefilled"]
    assert ledger.account("fl-1", as_of="2016-05-08").connects == 76


def test_a_renewal_failure_recorded_by_catch_up_leaves_the_later_command_accepted(
    ledger: Ledger,
) -> None:
    #
    # Given a Plus freelancer whose only card is declined after the upgrade
    plus_account(ledger, "2016-03-05", "2016-03-05")
    add_card(ledger, "2016-03-20", method_id="m-2", token="tok_decline_2")
    act(ledger, "make_primary_method", "2016-03-20", method_id="m-2")
    # When a command dated 20 April arrives with no billing run before it
    result = act(ledger, "remove_billing_method", "2016-04-20", method_id="m-1")
    # Then the failure and downgrade of 5 April were recorded first, and the command stands
    assert result.events[-1] == "MethodRemoved"
    assert result.events.index("PaymentFailed") < result.events.index("PlanDowngraded")
    assert downgrades(ledger) == [("2016-04-05", "payment_failed")]
    assert ledger.account("fl-1", as_of="2016-04-20").plan == "basic"


# ----------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------


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
    assert named(ledger, "PaymentFailed") == []
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
    result = add_card(ledger, "2016-04-06", method_id="m-2")
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
    add_card(ledger, "2016-03-10", method_id="m-2")
    act(ledger, "suspend_billing_method", "2016-04-01", method_id="m-2")
    # When 5 April is billed
    ledger.run_billing(through="2016-04-05")
    # Then it renews normally
    assert paid(ledger) == [("2016-03-05", M("10.00")), ("2016-04-05", M("10.00"))]
    assert downgrades(ledger) == []


def test_a_suspended_account_cannot_upgrade(ledger: Ledger) -> None:
    #
    # Given a suspended Basic freelancer with a card
    open_account(ledger, "2016-03-05")
    add_card(ledger, "2016-03-05")
    act(ledger, "suspend_account", "2016-03-10")
    # When it upgrades
    result = upgrade(ledger, "2016-03-12")
    # Then it is refused and nothing is charged
    assert not result.ok and result.error.code == "account_suspended"
    assert paid(ledger) == []


# ----------------------------------------------------------------------------


def test_plusmonth_at_upgrade_makes_the_upgrade_charge_free_and_the_renewal_full(
    ledger: Ledger,
) -> None:
    # R-4.8 (PLUSMONTH: the next Plus charge is free; at upgrade, the upgrade's own charge)
    # Given a Basic freelancer with a card
    open_account(ledger, "2016-03-01")
    add_card(ledger, "2016-03-01")
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
    open_account(ledger, "2016-03-01")
    add_card(ledger, "2016-03-01")
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
    open_account(ledger, "2016-03-01")
    add_card(ledger, "2016-03-01")
    before = len(history(ledger))
    # When it upgrades with a code the catalog does not list, or redeems one
    up = upgrade(ledger, "2016-03-05", promo="NOSUCHCODE")
    # Then it is refused with promo_unknown and nothing is recorded
    assert not up.ok and up.error.code == "promo_unknown"
    assert len(history(ledger)) == before
    assert ledger.account("fl-1", as_of="2016-03-05").plan == "basic"
    assert upgrade(ledger, "2016-03-06").ok
    bad = redeem(ledger, "2016-03-07", "NOSUCHCODE")
    assert not bad.ok and bad.error.code == "promo_unknown"


def test_a_promo_code_is_valid_through_31_december_2030_and_expired_after(ledger: Ledger) -> None:
    # R-4.8 (promo_expired; window 2016-01-01 to 2030-12-31)
    # Given two Basic freelancers with cards
    for account_id in ("fl-1", "fl-2"):
        open_account(ledger, "2030-12-01", account_id)
        add_card(ledger, "2030-12-01", account_id)
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
    open_account(ledger, "2016-03-01")
    add_card(ledger, "2016-03-01")
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
    open_account(ledger, "2016-03-01")
    add_card(ledger, "2016-03-01")
    # When it redeems HALFOFF3 without upgrading
    result = redeem(ledger, "2016-03-03", "HALFOFF3")
    # Then it is refused, and the code is still unused: an upgrade with it is halved
    assert not result.ok and result.error.code == "promo_not_applicable"
    assert upgrade(ledger, "2016-03-05", promo="HALFOFF3").ok
    assert paid(ledger) == [("2016-03-05", M("5.00"))]


def test_a_freelancer_promo_code_is_not_applicable_to_an_agency(ledger: Ledger) -> None:
    # R-4.8 (promo_not_applicable: wrong account kind; sample codes are for freelancers)
    # Given an agency with a card
    open_account(ledger, "2016-03-01", "fl-1")
    open_account(ledger, "2016-03-01", "ag-1", kind="agency", owner_id="fl-1")
    add_card(ledger, "2016-03-01", "ag-1", actor="fl-1")
    # When it upgrades with PLUSMONTH
    result = upgrade(ledger, "2016-03-05", "ag-1", promo="PLUSMONTH", actor="fl-1")
    # Then it is refused and the agency stays Basic, uncharged
    assert not result.ok and result.error.code == "promo_not_applicable"
    assert ledger.account("ag-1", as_of="2016-03-05").plan == "basic"
    assert paid(ledger, "ag-1") == []


def test_a_declined_upgrade_does_not_use_up_the_promo_code(ledger: Ledger) -> None:
    # R-3.3 (PaymentFailed and nothing else of the attempted change)
    # Given a Basic freelancer whose card is declined
    open_account(ledger, "2016-03-01")
    add_card(ledger, "2016-03-01", token="tok_decline_1")
    # When it upgrades with HALFOFF3 and the payment fails
    failed = upgrade(ledger, "2016-03-05", promo="HALFOFF3")
    assert not failed.ok and failed.error.code == "payment_failed"
    assert failed.events == ["PaymentFailed"]
    # Then with a good card the same code still halves the upgrade
    add_card(ledger, "2016-03-06", method_id="m-2")
    act(ledger, "make_primary_method", "2016-03-06", method_id="m-2")
    assert upgrade(ledger, "2016-03-07", promo="HALFOFF3").ok
    assert paid(ledger) == [("2016-03-07", M("5.00"))]


# ----------------------------------------------------------------------------


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
    add_card(ledger, "2016-03-20", method_id="m-2", token="tok_decline_2")
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
    before = len(history(ledger))
    # When it asks again on 12 March
    second = downgrade(ledger, "2016-03-12")
    # Then it is refused with downgrade_pending under and nothing is recorded
    assert not second.ok
    assert second.error.code == "downgrade_pending"
    assert second.error.rule == "R-4.9"
    assert len(history(ledger)) == before
    assert len(named(ledger, "DowngradeScheduled")) == 1


def test_billing_facts_are_the_same_whether_recorded_by_catch_up_or_by_the_billing_run(
    ledger: Ledger,
) -> None:
    # R-8.2 (catch-up before a later command, and run_billing, record the same facts)
    # Given two identical Plus freelancers upgraded on 5 March 2016
    plus_account(ledger, "2016-03-05", "2016-03-05", "fl-a")
    plus_account(ledger, "2016-03-05", "2016-03-05", "fl-b")
    # When fl-b acts on 20 April (catch-up) and the billing run then goes through 20 April
    result = add_card(ledger, "2016-04-20", "fl-b", method_id="m-2")
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
    count = len(history(ledger))
    ledger.run_billing(through="2016-04-05")
    # Then 5 April is recorded exactly once
    assert len(history(ledger)) == count
    assert paid(ledger) == [("2016-03-05", M("10.00")), ("2016-04-05", M("10.00"))]
    assert ledger.account("fl-1", as_of="2016-04-05").billing_due is None


def test_catch_up_over_several_billing_dates_records_them_in_date_order(ledger: Ledger) -> None:
    # R-8.2 (in date order)
    # Given a Plus freelancer upgraded on 5 March 2016 and left alone
    plus_account(ledger, "2016-03-05", "2016-03-05")
    # When a command dated 20 June arrives
    result = add_card(ledger, "2016-06-20", method_id="m-2")
    # Then the renewals of April, May and June were recorded first, in date order
    assert result.events.count("MembershipCharged") == 3
    assert paid(ledger) == [
        ("2016-03-05", M("10.00")),
        ("2016-04-05", M("10.00")),
        ("2016-05-05", M("10.00")),
        ("2016-06-05", M("10.00")),
    ]
    dates = [day(e["at"]) for e in history(ledger)]
    assert dates == sorted(dates)
    assert ledger.account("fl-1", as_of="2016-06-20").connects == 210
