"""`statement`: every movement of Connects and money with its event, rule and balances."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from ledger import Ledger
from replay_tools.statement import statement
from tests.replay.helpers import run


def test_the_statement_lists_the_expected_movements_with_their_rules(ledger: Ledger) -> None:
    rows = statement(ledger, "fl-1")
    got = [(r.event, r.rule, r.connects, r.available, r.charged, r.paid_by) for r in rows]
    assert got[:12] == [
        ("ConnectsRefilled", "R-4.4/R-5.2", 60, 0, None, None),
        ("ConnectsSpent", "R-5.1", -5, 0, None, None),
        ("MembershipCharged", "R-4.2", 0, 0, Decimal("10.00"), "visa *4242"),  # brand, last 4
        ("ConnectsGranted", "R-5.3", 60, 0, None, None),
        ("EarningsPending", "R-6.1", 0, 0, None, None),
        ("EarningsReleased", "R-6.1", 0, Decimal("50.00"), None, None),
        ("EarningsCredited", "R-6.1", 0, Decimal("20.00"), None, None),
        ("ConnectsPurchased", "R-5.4", 10, Decimal("-10.00"), Decimal("10.00"), "earnings"),
        ("EarningsWithdrawn", "R-6.1", 0, Decimal("-30.00"), None, None),
        ("ConnectsRefunded", "R-5.5", 5, 0, None, None),
        ("MembershipCharged", "R-4.5", 0, Decimal("-5.00"), Decimal("5.00"), "earnings"),
        ("ConnectsRefilled", "R-4.4/R-5.2", 70, 0, None, None),
    ]
    assert [r.event for r in rows[12:]] == [
        "ConnectsSpent", "MembershipCharged", "ConnectsExpired", "ConnectsRefilled",
        "MembershipCharged", "ConnectsExpired", "ConnectsRefilled"]
    assert rows[14].rule == "R-5.2" and rows[14].connects == -54
    assert rows[4].pending == Decimal("50.00") and rows[5].pending == Decimal("-50.00")


def test_running_balances_match_the_ledgers_view_at_each_instant(ledger: Ledger) -> None:
    rows = statement(ledger, "fl-1")
    for i, row in enumerate(rows):
        if i + 1 < len(rows) and rows[i + 1].at == row.at:
            continue  # several movements at one instant: the last one shows the sum
        view = ledger.account("fl-1", as_of=row.at)
        assert row.connects_balance == view.connects, row
        assert row.available_balance == view.earnings.available, row
        assert row.pending_balance == view.earnings.pending, row


def test_the_statement_can_be_limited_to_dates(ledger: Ledger) -> None:
    rows = statement(ledger, "fl-1")
    window = statement(ledger, "fl-1", start=rows[5].at.date(), end=rows[9].at.date())
    assert window == rows[5:10]


def test_the_statement_command_writes_csv(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, _ = run(capsys, "--store", url, "statement", "fl-2", "--csv",
                       "--from", "2016-04-01", "--to", "2016-05-31")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert [(r["event"], r["rule"], r["connects"], r["connects_balance"]) for r in table] == [
        ("ConnectsExpired", "R-5.2", "-56", "0"), ("ConnectsRefilled", "R-4.4/R-5.2", "60", "60"),
        ("ConnectsExpired", "R-5.2", "-60", "0"), ("ConnectsRefilled", "R-4.4/R-5.2", "60", "60"),
    ]
    code, out, _ = run(capsys, "--store", url, "statement", "fl-1")
    assert code == 0 and "R-5.3" in out and "HALFOFF3" in out


def test_the_csv_cannot_carry_a_spreadsheet_formula_and_keeps_negative_numbers(
        ledger: Ledger) -> None:
    from replay_tools.statement import render_csv

    for command in (
            {"type": "open_account", "account_id": "fl-csv", "kind": "freelancer",
             "at": "2020-03-01"},
            {"type": "credit_earnings", "account_id": "fl-csv", "amount": "20.00",
             "at": "2020-03-02", "reason": '=HYPERLINK("http://evil.example","x")'},
            {"type": "withdraw_earnings", "account_id": "fl-csv", "amount": "5.00",
             "at": "2020-03-03", "reason": "@SUM(A1:A9)"}):
        assert ledger.submit(command).ok
    rows = list(csv.DictReader(io.StringIO(render_csv(statement(ledger, "fl-csv")))))
    cells = [cell for row in rows for cell in row.values()]
    assert not [c for c in cells if c[:1] in ("=", "@", "+")], cells
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in cells
    assert "'@SUM(A1:A9)" in cells
    assert "-5.00" in cells  # a withdrawal stays a number
