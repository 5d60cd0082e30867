"""R-4.4: a new account starts a Basic cycle on its opening date; Connects are refilled on
every billing date; the day before a billing date is the old cycle's last (seed 002).

Figures come from the default catalog (RULES.md R-0): v2016 from 2016-01-01 (last billable
day 27, Plus freelancer 10.00, agency 20.00, Basic 60 Connects, Plus 70 / 80, Plus rollover
cap 140), v2019 from 2019-05-01 (last billable day 28, Plus freelancer 14.99, Basic 10).
Split out of the R-4 file; the dated steps (`plus_account`, `paid`, ...) are in tests/helpers.py.
"""

from __future__ import annotations

from ledger import Ledger
from tests.helpers import (
    D,
    act,
    add_card_on,
    day,
    events_named,
    open_on,
    plus_account,
)


def test_a_new_account_starts_a_basic_cycle_on_its_opening_date_with_its_first_refill(
    ledger: Ledger,
) -> None:
    # R-0 (Basic freelancer 60 under v2016, 10 under v2019)
    # Given / When freelancers open in 2016 and in 2019
    r2016 = open_on(ledger, "2016-03-05", "fl-1")
    r2019 = open_on(ledger, "2019-06-10", "fl-2")
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
    open_on(ledger, "2018-11-05")
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
    open_on(ledger, "2018-11-05")
    act(ledger, "submit_proposal", "2018-11-20", proposal_id="p-1", job_id="j-1", connects=2)
    # Then before anything is recorded on 5 December, the view says the billing is due
    assert ledger.account("fl-1", as_of="2018-12-04").billing_due is None
    assert ledger.account("fl-1", as_of="2018-12-05").billing_due == D("2018-12-05")
    # When a command dated 5 December arrives
    result = add_card_on(ledger, "2018-12-05")
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
    open_on(ledger, "2019-06-10")
    act(ledger, "submit_proposal", "2019-06-12", proposal_id="p-1", job_id="j-1", connects=3)
    # When two billing dates pass
    ledger.run_billing(through="2019-08-10")
    # Then each billing date refills to 10, the unused ones not rolling over
    assert ledger.account("fl-1", as_of="2019-07-09").connects == 7
    assert ledger.account("fl-1", as_of="2019-07-10").connects == 10
    assert ledger.account("fl-1", as_of="2019-08-10").connects == 10
    refills = [day(e["at"]) for e in events_named(ledger, "ConnectsRefilled")]
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
