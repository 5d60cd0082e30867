"""`balance`: the view at a point in time rebuilt from the account's events alone equals
the ledger's indexed answer (`ledger.account(id, as_of=..., known_at=...)`)."""

from __future__ import annotations

import json

import pytest

from ledger import Ledger
from ledger.clock import parse_instant
from replay_tools.balance import balance_at
from tests.replay.helpers import run

INSTANTS = [
    ("fl-1", "2016-03-05", None),
    ("fl-1", "2016-03-06T09:00:00Z", None),
    ("fl-1", "2016-03-30", None),
    ("fl-1", "2016-04-12T12:00:00Z", None),
    ("fl-1", "2016-05-01", None),
    ("fl-1", "2016-06-15", None),
    ("fl-1", "2030-01-01", None),
    ("fl-1", "2016-06-15", "2016-04-02T12:00:00Z"),  # recorded then: no billing run yet
    ("fl-1", "2016-06-15", "2016-04-21T23:59:59Z"),
    ("fl-1", "2016-04-30", "2031-01-01"),
    ("fl-2", "2016-04-10", None),
    ("fl-3", "2016-03-16T12:00:00Z", None),
    ("fl-4", "2016-04-20", None),
    ("fl-5", "2016-04-12T12:00:00Z", None),
    ("fl-5", "2016-05-01", "2016-04-12T12:00:00Z"),
    ("ag-1", "2016-07-01", None),
]


@pytest.mark.parametrize(("account", "as_of", "known_at"), INSTANTS)
def test_balance_from_events_equals_the_ledgers_point_in_time_view(
        ledger: Ledger, account: str, as_of: str, known_at: str | None) -> None:
    rebuilt = balance_at(ledger, account, parse_instant(as_of),
                         parse_instant(known_at) if known_at else None)
    indexed = ledger.account(account, as_of=as_of, known_at=known_at)
    assert rebuilt.to_json() == indexed.to_json()


def test_known_at_keeps_what_the_ledger_knew_then(ledger: Ledger) -> None:
    # fl-1's refill of 2016-05-01 was recorded by the billing run (clock 2031)
    before = balance_at(ledger, "fl-1", parse_instant("2016-06-15"),
                        parse_instant("2016-05-04"))
    after = balance_at(ledger, "fl-1", parse_instant("2016-06-15"), None)
    assert before.version < after.version
    assert before.billing_due is not None  # the billing date was not recorded then


def test_the_balance_command_prints_the_same_json_as_ledger_show(
        capsys: pytest.CaptureFixture[str], url: str, ledger: Ledger) -> None:
    code, out, _ = run(capsys, "--store", url, "balance", "fl-1", "--as-of", "2016-04-21",
                       "--known-at", "2016-04-25", "--json")
    assert code == 0
    expected = ledger.account("fl-1", as_of="2016-04-21", known_at="2016-04-25").to_json()
    assert json.loads(out) == json.loads(json.dumps(expected))


def test_balance_of_an_unknown_account_or_before_its_opening(
        capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, _, err = run(capsys, "--store", url, "balance", "nobody", "--as-of", "2016-04-21")
    assert code == 1 and "unknown_account" in err
    code, _, err = run(capsys, "--store", url, "balance", "fl-1", "--as-of", "2016-01-01")
    assert code == 1 and "did not exist yet" in err
    code, _, err = run(capsys, "--store", url, "balance", "fl-1", "--as-of", "soon")
    assert code == 2 and "--as-of" in err and "Traceback" not in err
