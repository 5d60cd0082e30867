"""Paying (R-2.5, R-2.6, R-3): the funding waterfall and the payment gateway port.

An amount is paid whole from the available earnings when they cover it, else whole
by the primary method; a declined PayPal charge falls back once, in the same
attempt, to the oldest active card. The gateway's answers are recorded in the event
(`attempts`), so replay and audit never call a gateway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from ledger.errors import LedgerError
from ledger.state import Method, View

ZERO = Decimal("0.00")


class Gateway(Protocol):
    def charge(self, method: Method, amount: Decimal) -> bool:
        """True when the charge is approved."""


class SimulatedGateway:
    """Declines cards whose token starts with `tok_decline` and PayPal emails starting `decline`."""

    def charge(self, method: Method, amount: Decimal) -> bool:
        if method.method == "card":
            return not (method.token or "").startswith("tok_decline")
        return not (method.email or "").startswith("decline")


@dataclass
class Funding:
    """How an amount was (or was not) paid."""

    source: str  # earnings | method | promo
    method_id: str | None = None
    attempts: list[list[Any]] = field(default_factory=list)  # [method_id, approved]
    approved: bool = True
    reason: str = ""


def oldest_active_card(view: View) -> Method | None:
    cards = [m for m in view.methods.values() if m.method == "card" and not m.suspended]
    return min(cards, key=lambda m: m.seq) if cards else None


def primary_method(view: View) -> Method | None:
    if view.primary_method_id is None:
        return None
    return view.methods.get(view.primary_method_id)


def check_method_can_pay(view: View, amount: Decimal) -> Method | None:
    """Refuse before any charge what the rules forbid; None when the earnings pay."""
    if amount == ZERO or view.earnings_available >= amount:
        return None
    primary = primary_method(view)
    if primary is None:
        raise LedgerError(
            "billing_method_required",
            f"available earnings ({view.earnings_available}) do not cover {amount}; "
            "add a billing method",
            rule="R-3.2",
        )
    if primary.suspended:
        raise LedgerError(
            "method_suspended",
            f"primary billing method {primary.method_id} is suspended; reinstate it or "
            "make another method primary",
            rule="R-2.6",
        )
    if primary.method == "paypal" and oldest_active_card(view) is None:
        raise LedgerError(
            "backup_card_required",
            "PayPal pays only while a card is on file as backup; add a card",
            rule="R-2.5",
        )
    return primary


def pay(view: View, amount: Decimal, gateway: Gateway) -> Funding:
    """Decide the source and ask the gateway; checks of check_method_can_pay must pass first."""
    if amount == ZERO:
        return Funding("promo")
    primary = check_method_can_pay(view, amount)
    if primary is None:
        return Funding("earnings")
    attempts: list[list[Any]] = []
    approved = gateway.charge(primary, amount)
    attempts.append([primary.method_id, approved])
    if approved:
        return Funding("method", primary.method_id, attempts)
    if primary.method == "paypal":
        backup = oldest_active_card(view)
        assert backup is not None
        approved = gateway.charge(backup, amount)
        attempts.append([backup.method_id, approved])
        if approved:
            return Funding("method", backup.method_id, attempts)
    return Funding("method", primary.method_id, attempts, approved=False,
                   reason="declined by the payment gateway")


def renewal_blocker(view: View, amount: Decimal) -> str | None:
    """Why a renewal cannot even be attempted (it then fails, R-4.5), or None."""
    try:
        check_method_can_pay(view, amount)
    except LedgerError as exc:
        return exc.code
    if not view.methods:
        return "billing_method_required"
    return None
