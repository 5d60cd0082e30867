"""Earnings: pending, released, credited, withdrawn (R-6.1)."""

from __future__ import annotations

from datetime import datetime

from ledger.account import Account
from ledger.commands import CreditEarnings, RecordPendingEarnings, ReleaseEarnings, WithdrawEarnings
from ledger.errors import LedgerError
from ledger.handlers.context import Context


def _new_reference(acct: Account, reference: str | None) -> None:
    if reference is not None and reference in acct.state.used_refs:
        raise LedgerError("duplicate_id",
                          f"earnings reference {reference} is already used", rule="R-6.1")


def record_pending_earnings(ctx: Context, acct: Account, cmd: RecordPendingEarnings,
                            at: datetime) -> None:
    _new_reference(acct, cmd.reference)
    ctx.emit(acct, Account.EarningsPending, at, reference=cmd.reference, amount=cmd.amount)


def release_earnings(ctx: Context, acct: Account, cmd: ReleaseEarnings, at: datetime) -> None:
    amount = acct.state.pending_refs.get(cmd.reference)
    if amount is None:
        raise LedgerError("unknown_reference",
                          f"no pending earnings with reference {cmd.reference}", rule="R-6.1")
    ctx.emit(acct, Account.EarningsReleased, at, reference=cmd.reference, amount=amount)


def credit_earnings(ctx: Context, acct: Account, cmd: CreditEarnings, at: datetime) -> None:
    _new_reference(acct, cmd.reference)
    ctx.emit(acct, Account.EarningsCredited, at, amount=cmd.amount, reference=cmd.reference)


def withdraw_earnings(ctx: Context, acct: Account, cmd: WithdrawEarnings, at: datetime) -> None:
    available = acct.state.view.earnings_available
    if cmd.amount > available:
        raise LedgerError("insufficient_earnings",
                          f"{cmd.amount} asked, {available} available", rule="R-6.1")
    ctx.emit(acct, Account.EarningsWithdrawn, at, amount=cmd.amount)
