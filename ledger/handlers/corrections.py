"""Corrections (R-9): goodwill grants and refunds, each a new event (R-8.1).

Both are marketplace operations (R-1.4) with a required reason. A refund gives the
money back whole to where it came from: available earnings again, or a gateway refund
keyed by the charge id (R-3.4), which the gateway may decline (RefundFailed, nothing
else changes).
"""

from __future__ import annotations

from datetime import datetime

from ledger.account import Account
from ledger.commands import GrantConnects, RefundCharge
from ledger.errors import LedgerError, RefundDeclined, a_kind
from ledger.handlers.context import Context
from ledger.payments import refund_key
from ledger.pricing import expiry_date
from ledger.screening import contains_pan
from ledger.state import CONNECTS_KINDS, Charge, Method, View


def grant_connects(ctx: Context, acct: Account, cmd: GrantConnects, at: datetime) -> None:
    """R-9.1: a new lot with source `goodwill`, under the most-held limit."""
    view = acct.state.view
    if view.kind not in CONNECTS_KINDS:
        raise LedgerError("not_authorized", f"{a_kind(view.kind)} account holds no Connects",
                          rule="R-9.1")
    version = ctx.version_on(at)
    expires_on = cmd.expires_on or expiry_date(version, at.date())
    if expires_on is not None and expires_on <= at.date():
        raise LedgerError("validation_error",
                          "expires_on: must be after the day of the grant", rule="R-9.1")
    terms = version.terms(view.kind, view.plan or "basic")
    if terms.max_held is not None and view.connects + cmd.quantity > terms.max_held:
        raise LedgerError(
            "connects_limit_exceeded",
            f"{view.connects} held + {cmd.quantity} granted would pass the most held at once "
            f"({terms.max_held})", rule="R-9.1")
    ctx.emit(acct, Account.ConnectsGranted, at, lot_id=view.next_lot_id,
             quantity=cmd.quantity, expires_on=expires_on, source="goodwill", days=0,
             policy_version=version.name)


def refund_charge(ctx: Context, acct: Account, cmd: RefundCharge, at: datetime) -> None:
    """R-9.2: a charge refunded once, whole; a purchase only while its lot is unspent,
    a membership only for the current cycle (the account goes to Basic at once)."""
    state = acct.state
    charge = state.charges.get(cmd.charge_id)
    if charge is None:
        # Not a charge the ledger derived, so its digits may be anything: not echoed
        # when they could be a card number (see ledger/screening.py CHARGE_ID).
        named = "the charge id sent" if contains_pan(cmd.charge_id) else cmd.charge_id
        raise LedgerError("unknown_charge",
                          f"{named} is not a charge of {cmd.account_id}", rule="R-9.2")
    if charge.refunded:
        raise LedgerError("charge_already_refunded", f"{cmd.charge_id} was already refunded",
                          rule="R-9.2")
    view = state.view
    _check_refundable(view, charge)
    key = None
    if charge.source == "method" and charge.amount > 0:
        key = refund_key(charge.charge_id)
        method = view.methods.get(charge.method_id or "") or Method(
            charge.method_id or "", "card", 0)  # removed since: the processor still refunds
        if not ctx.gateway.refund(key, view.account_id, method, charge.amount):
            ctx.emit(acct, Account.RefundFailed, at, charge_id=charge.charge_id,
                     amount=charge.amount, method_id=charge.method_id,
                     reason="declined by the payment gateway", gateway_key=key)
            raise RefundDeclined(f"the refund of {charge.amount} USD for {charge.charge_id} "
                                 "was declined by the payment gateway; nothing changed")
    ctx.emit(acct, Account.ChargeRefunded, at, charge_id=charge.charge_id, kind=charge.kind,
             amount=charge.amount, source=charge.source, method_id=charge.method_id,
             gateway_key=key)
    if charge.kind == "purchase":
        assert charge.lot_id is not None
        ctx.emit(acct, Account.ConnectsRevoked, at, lot_id=charge.lot_id,
                 quantity=charge.quantity, charge_id=charge.charge_id)
        return
    assert view.cycle_start is not None and view.billing_day is not None
    assert view.next_billing_date is not None and view.policy_version is not None
    ctx.emit(acct, Account.PlanDowngraded, at, reason="refunded", billing_date=at.date(),
             cycle_start=view.cycle_start, billing_day=view.billing_day,
             next_billing_date=view.next_billing_date, policy_version=view.policy_version)


def _check_refundable(view: View, charge: Charge) -> None:
    if charge.kind == "purchase":
        lot = next((lot for lot in view.lots if lot.lot_id == charge.lot_id), None)
        left = lot.remaining if lot is not None else 0
        if left < charge.quantity:
            raise LedgerError(
                "charge_not_refundable",
                f"{charge.quantity - left} of the {charge.quantity} Connects bought with "
                f"{charge.charge_id} were spent or expired; only a wholly unspent purchase "
                "is refunded", rule="R-9.2")
        return
    if view.plan != "plus" or charge.billing_date != view.cycle_start:
        raise LedgerError(
            "charge_not_refundable",
            f"{charge.charge_id} paid for the cycle from {charge.billing_date}; only the "
            "current cycle's membership charge is refunded", rule="R-9.2")


__all__ = ["grant_connects", "refund_charge"]
