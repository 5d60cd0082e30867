"""R-4.3: the billing day (the cycle's start day, or the 1st past the last billable day)
and the next billing date; billing dates take effect at 00:00 UTC.

Figures come from the default catalog (RULES.md R-0): v2016 from 2016-01-01 (last billable
day 27, Plus freelancer 10.00, agency 20.00, Basic 60 Connects, Plus 70 / 80, Plus rollover
cap 140), v2019 from 2019-05-01 (last billable day 28, Plus freelancer 14.99, Basic 10).
Split out of the R-4 file; the dated steps (`plus_account`, `paid`, ...) are in tests/helpers.py.
"""

from __future__ import annotations

from ledger import Ledger
from tests.helpers import D, M, day, events_named, paid, plus_account


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
    (charge,) = [e for e in events_named(ledger, "MembershipCharged")
                 if day(e["at"]) == "2016-04-05"]
    assert "00:00:00" in str(charge["at"])
