"""Billing-day and billing-date arithmetic (R-4.3, R-4.4, R-0), as tables.

The pure functions of `ledger.cycles` are exercised through the public API only: an
account opened on a date starts a Basic cycle that day (R-4.4), an upgrade starts a Plus
cycle (R-4.2), and the account view shows `billing_day`, `cycle_start`,
`next_billing_date` and `policy_version`. Expected dates are worked out by hand from
R-4.3: billing day `d` when `d` <= the last billable day (v2016: 27, v2019: 28), else 1;
the next billing date is the first date on or after `start + 1 month` (clamped at the end
of the month) whose day is the billing day.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from ledger import Ledger


def _accept(ledger: Ledger, cmd: dict[str, Any]) -> None:
    result = ledger.submit(cmd)
    assert result.ok, f"{cmd['type']} at {cmd.get('at')} refused: {result.error}"


def _open(ledger: Ledger, at: str, account_id: str = "fl-1") -> None:
    _accept(
        ledger,
        {"type": "open_account", "account_id": account_id, "kind": "freelancer", "at": at},
    )


def _add_card(ledger: Ledger, at: str, account_id: str = "fl-1") -> None:
    _accept(
        ledger,
        {
            "type": "add_billing_method",
            "account_id": account_id,
            "method_id": "m-1",
            "method": "card",
            "brand": "visa",
            "last4": "4242",
            "exp_month": 12,
            "exp_year": 2035,
            "token": "tok_ok_1",
            "prepaid": False,
            "at": at,
        },
    )


def _d(text: str) -> date:
    return date.fromisoformat(text)


# (cycle start, policy version in force that day, billing day, next billing date)
OPENING_TABLE = [
    # an ordinary day keeps its day of the month (R-4.3's "5 March renews 5 April")
    ("2016-03-05", "v2016", 5, "2016-04-05"),
    ("2016-01-01", "v2016", 1, "2016-02-01"),
    ("2016-12-15", "v2016", 15, "2017-01-15"),
    # v2016: the 27th is the last billable day (seed 004)
    ("2016-01-27", "v2016", 27, "2016-02-27"),
    ("2016-02-27", "v2016", 27, "2016-03-27"),
    ("2016-01-28", "v2016", 1, "2016-03-01"),
    ("2016-02-28", "v2016", 1, "2016-04-01"),
    # leap year 2016: start + 1 month clamps to 29 February, then the next 1st
    ("2016-01-29", "v2016", 1, "2016-03-01"),
    ("2016-01-30", "v2016", 1, "2016-03-01"),
    ("2016-01-31", "v2016", 1, "2016-03-01"),
    ("2016-02-29", "v2016", 1, "2016-04-01"),
    # non-leap year: 31 January + 1 month clamps to 28 February, then 1 March
    ("2017-01-31", "v2016", 1, "2017-03-01"),
    ("2016-12-31", "v2016", 1, "2017-02-01"),
    ("2016-04-30", "v2016", 1, "2016-06-01"),
    # the billing day is fixed under the version in force when the cycle starts:
    # 28 April 2019 is still v2016, so day 1 although v2019 allows the 28th
    ("2019-04-27", "v2016", 27, "2019-05-27"),
    ("2019-04-28", "v2016", 1, "2019-06-01"),
    ("2019-04-30", "v2016", 1, "2019-06-01"),
    # v2019 from 2019-05-01: the 28th is the last billable day (seed 001)
    ("2019-05-01", "v2019", 1, "2019-06-01"),
    ("2019-05-28", "v2019", 28, "2019-06-28"),
    ("2019-05-29", "v2019", 1, "2019-07-01"),
    ("2019-06-30", "v2019", 1, "2019-08-01"),
    ("2020-01-28", "v2019", 28, "2020-02-28"),
    ("2020-02-28", "v2019", 28, "2020-03-28"),
    # leap year 2020 under v2019
    ("2020-01-29", "v2019", 1, "2020-03-01"),
    ("2020-01-30", "v2019", 1, "2020-03-01"),
    ("2020-01-31", "v2019", 1, "2020-03-01"),
    ("2020-02-29", "v2019", 1, "2020-04-01"),
    ("2020-12-29", "v2019", 1, "2021-02-01"),
    # non-leap 2021 under v2019: "30 January renews 1 March"
    ("2021-01-28", "v2019", 28, "2021-02-28"),
    ("2021-01-30", "v2019", 1, "2021-03-01"),
    ("2021-01-31", "v2019", 1, "2021-03-01"),
]


@pytest.mark.parametrize(("start", "version", "billing_day", "next_date"), OPENING_TABLE)
def test_a_cycle_opened_on_a_date_has_the_billing_day_and_next_date_of_the_table(
    ledger: Ledger, start: str, version: str, billing_day: int, next_date: str
) -> None:
    #
    # Given a freelancer account opened on `start` (a Basic cycle starts that day)
    _open(ledger, start)
    # When it is viewed on its opening day
    view = ledger.account("fl-1", as_of=start)
    # Then the cycle's dates are the table's
    assert view.plan == "basic"
    assert view.policy_version == version
    assert view.billing_day == billing_day
    assert view.cycle_start == _d(start)
    assert view.next_billing_date == _d(next_date)


# (account opened, upgrade date, policy version, billing day, next billing date)
UPGRADE_TABLE = [
    ("2016-03-01", "2016-03-27", "v2016", 27, "2016-04-27"),
    ("2016-03-01", "2016-03-28", "v2016", 1, "2016-05-01"),
    ("2016-03-01", "2016-03-31", "v2016", 1, "2016-05-01"),
    ("2016-02-01", "2016-02-29", "v2016", 1, "2016-04-01"),
    ("2017-01-02", "2017-01-31", "v2016", 1, "2017-03-01"),
    ("2019-06-01", "2019-06-28", "v2019", 28, "2019-07-28"),
    ("2019-06-01", "2019-06-29", "v2019", 1, "2019-08-01"),
    ("2020-01-02", "2020-01-30", "v2019", 1, "2020-03-01"),
    ("2021-01-02", "2021-01-30", "v2019", 1, "2021-03-01"),
    ("2016-03-01", "2016-03-20", "v2016", 20, "2016-04-20"),
]


@pytest.mark.parametrize(
    ("opened", "upgraded", "version", "billing_day", "next_date"), UPGRADE_TABLE
)
def test_an_upgrade_starts_a_plus_cycle_with_the_dates_of_the_table(
    ledger: Ledger, opened: str, upgraded: str, version: str, billing_day: int, next_date: str
) -> None:
    #
    # Given a Basic account with a card
    _open(ledger, opened)
    _add_card(ledger, opened)
    # When it upgrades to Plus
    _accept(ledger, {"type": "upgrade_plan", "account_id": "fl-1", "at": upgraded})
    # Then the upgrade date starts a cycle with the table's dates
    view = ledger.account("fl-1", as_of=upgraded)
    assert view.plan == "plus"
    assert view.policy_version == version
    assert view.billing_day == billing_day
    assert view.cycle_start == _d(upgraded)
    assert view.next_billing_date == _d(next_date)


# (opening date, successive billing dates, policy version of each new cycle)
CHAIN_TABLE = [
    ("2016-03-05", ["2016-04-05", "2016-05-05", "2016-06-05"], ["v2016"] * 3),
    ("2016-01-27", ["2016-02-27", "2016-03-27", "2016-04-27"], ["v2016"] * 3),
    ("2016-01-30", ["2016-03-01", "2016-04-01", "2016-05-01"], ["v2016"] * 3),
    ("2017-01-31", ["2017-03-01", "2017-04-01", "2017-05-01"], ["v2016"] * 3),
    (
        "2019-01-28",
        ["2019-03-01", "2019-04-01", "2019-05-01", "2019-06-01"],
        ["v2016", "v2016", "v2019", "v2019"],
    ),
    ("2019-04-27", ["2019-05-27", "2019-06-27"], ["v2019", "v2019"]),
    ("2019-04-28", ["2019-06-01", "2019-07-01"], ["v2019", "v2019"]),
    ("2019-11-28", ["2019-12-28", "2020-01-28", "2020-02-28", "2020-03-28"], ["v2019"] * 4),
    ("2020-01-31", ["2020-03-01", "2020-04-01"], ["v2019", "v2019"]),
]


@pytest.mark.parametrize(("opened", "billing_dates", "versions"), CHAIN_TABLE)
def test_successive_billing_dates_follow_the_table_and_start_new_cycles(
    ledger: Ledger, opened: str, billing_dates: list[str], versions: list[str]
) -> None:
    # R-0 (policy_version is the version the current cycle started under)
    # Given an account opened on `opened`
    _open(ledger, opened)
    # When the billing run reaches the last billing date of the table
    ledger.run_billing(through=billing_dates[-1])
    # Then each billing date starts a new cycle whose next date is the following one,
    # and the day before each billing date still belongs to the old cycle
    starts = [opened, *billing_dates]
    for i, billing_date in enumerate(billing_dates):
        on_the_day = ledger.account("fl-1", as_of=billing_date)
        assert on_the_day.cycle_start == _d(billing_date)
        assert on_the_day.policy_version == versions[i]
        assert on_the_day.billing_day == _d(billing_date).day
        if i + 1 < len(billing_dates):
            assert on_the_day.next_billing_date == _d(billing_dates[i + 1])
        last_day_of_old = (_d(billing_date) - timedelta(days=1)).isoformat() + "T23:59:59Z"
        before = ledger.account("fl-1", as_of=last_day_of_old)
        assert before.cycle_start == _d(starts[i])
        assert before.next_billing_date == _d(billing_date)


def test_every_command_type_but_opening_has_a_handler_keyed_by_its_class() -> None:
    from ledger.commands import COMMAND_MODELS, OpenAccount
    from ledger.handlers import HANDLERS

    assert set(HANDLERS) == set(COMMAND_MODELS) - {OpenAccount}
