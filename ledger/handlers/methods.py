"""Billing methods (R-2)."""

from __future__ import annotations

from datetime import datetime

from ledger.account import Account
from ledger.commands import (
    AddBillingMethod,
    MakePrimaryMethod,
    MethodCommand,
    ReinstateBillingMethod,
    RemoveBillingMethod,
    SuspendBillingMethod,
)
from ledger.errors import LedgerError
from ledger.handlers.context import Context
from ledger.state import Method


def _method(acct: Account, cmd: MethodCommand) -> Method:
    method = acct.state.view.methods.get(cmd.method_id)
    if method is None:
        raise LedgerError("unknown_method",
                          f"{cmd.account_id} has no billing method {cmd.method_id}", rule="R-2.3")
    return method


def add_billing_method(ctx: Context, acct: Account, cmd: AddBillingMethod, at: datetime) -> None:
    if cmd.method_id in acct.state.seen_method_ids:
        raise LedgerError("method_exists",
                          f"method id {cmd.method_id} is already used on {cmd.account_id}",
                          rule="R-6.1")
    if cmd.method == "paypal" and not cmd.verified:
        raise LedgerError("paypal_not_verified",
                          "verify the PayPal account before adding it as a billing method",
                          rule="R-2.1")
    brand = "american_express" if cmd.brand == "amex" else cmd.brand
    ctx.emit(acct, Account.MethodAdded, at, method_id=cmd.method_id, method=cmd.method,
             brand=brand, last4=cmd.last4, exp_month=cmd.exp_month, exp_year=cmd.exp_year,
             token=cmd.token, prepaid=cmd.prepaid, email=cmd.email,
             primary=not acct.state.view.methods)


def make_primary_method(ctx: Context, acct: Account, cmd: MakePrimaryMethod,
                        at: datetime) -> None:
    _method(acct, cmd)
    previous = acct.state.view.primary_method_id
    if previous != cmd.method_id:
        ctx.emit(acct, Account.PrimaryMethodChanged, at, method_id=cmd.method_id,
                 previous=previous)


def remove_billing_method(ctx: Context, acct: Account, cmd: RemoveBillingMethod,
                          at: datetime) -> None:
    _method(acct, cmd)
    if acct.state.view.primary_method_id == cmd.method_id:
        others = len(acct.state.view.methods) - 1
        hint = ("make another method primary first" if others
                else "add another method and make it primary first")
        raise LedgerError("cannot_remove_primary",
                          f"{cmd.method_id} is the primary billing method; {hint}", rule="R-2.4")
    ctx.emit(acct, Account.MethodRemoved, at, method_id=cmd.method_id)


def suspend_billing_method(ctx: Context, acct: Account, cmd: SuspendBillingMethod,
                           at: datetime) -> None:
    if not _method(acct, cmd).suspended:
        ctx.emit(acct, Account.MethodSuspended, at, method_id=cmd.method_id)


def reinstate_billing_method(ctx: Context, acct: Account, cmd: ReinstateBillingMethod,
                             at: datetime) -> None:
    if _method(acct, cmd).suspended:
        ctx.emit(acct, Account.MethodReinstated, at, method_id=cmd.method_id)
