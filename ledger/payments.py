"""Paying (R-2.5, R-2.6, R-3): the funding waterfall and the payment gateway port.

An amount is paid whole from the available earnings when they cover it, else whole
by the primary method; a declined PayPal charge falls back once, in the same
attempt, to the oldest active card. The gateway's answers are recorded in the event
(`attempts`), so replay and audit never call a gateway.

R-3.4: every request carries an idempotency key fixed by what is paid (`payment_key`),
never by the attempt, so deciding again (a write conflict, a batch fallback, a rerun
after a crash) asks the gateway for the same key and gets the first answer back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from ledger.errors import LedgerError
from ledger.state import Method, View

ZERO = Decimal("0.00")


class Gateway(Protocol):
    """The payment processor's port. Every call is idempotent by `key`: the same key
    answers as the first time without moving money again; the same key with another
    amount or method raises GatewayKeyConflict."""

    def charge(self, key: str, account_id: str, method: Method, amount: Decimal) -> bool:
        """Capture `amount` from `method`; True when approved."""

    def refund(self, key: str, account_id: str, method: Method, amount: Decimal) -> bool:
        """Give back a captured amount; True when the processor accepted the refund."""

    def void(self, key: str) -> None:
        """Cancel the capture made under `key` (a capture no decision recorded)."""


KEY_REUSED = "the gateway refused a repeated payment key for another amount"


class GatewayKeyConflict(Exception):
    """The same idempotency key was sent for a different amount or method."""


def approves(method: Method) -> bool:
    """The simulated processor's answer: declines cards whose token starts with
    `tok_decline` and PayPal accounts whose email starts with `decline`."""
    if method.method == "card":
        return not (method.token or "").startswith("tok_decline")
    return not (method.email or "").startswith("decline")


def approves_refund(method: Method) -> bool:
    """The simulated processor refuses refunds to a card whose token starts with
    `tok_norefund` and to a PayPal account whose email starts with `norefund`."""
    if method.method == "card":
        return not (method.token or "").startswith("tok_norefund")
    return not (method.email or "").startswith("norefund")


def command_payment_key(command_id: str, purpose: str) -> str:
    return f"cmd:{command_id}:{purpose}"


def renewal_payment_key(account_id: str, billing_date: object) -> str:
    return f"renewal:{account_id}:{billing_date}"


def refund_key(charge_id: str) -> str:
    return f"refund:{charge_id}"


BACKUP_SUFFIX = ":backup"  # the same payment's second request, to the backup card


def charge_id_of(key: str) -> str:
    """R-9.2: `ch_` and the first 24 hex characters of the SHA-256 of the payment key."""
    return "ch_" + hashlib.sha256(key.encode()).hexdigest()[:24]


@dataclass
class Funding:
    """How an amount was (or was not) paid."""

    source: str  # earnings | method | promo
    method_id: str | None = None
    attempts: list[list[Any]] = field(default_factory=list)  # [method_id, approved]
    approved: bool = True
    reason: str = ""
    key: str = ""  # the payment's idempotency key
    captured_key: str | None = None  # the gateway request that captured the money

    @property
    def charge_id(self) -> str:
        return charge_id_of(self.key)

    def charge_fields(self) -> dict[str, Any]:
        """What a charge event records of how it was paid."""
        return {"source": self.source, "method_id": self.method_id,
                "attempts": self.attempts, "charge_id": self.charge_id,
                "gateway_key": self.captured_key}


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


def pay(view: View, amount: Decimal, gateway: Gateway, key: str) -> Funding:
    """Decide the source and ask the gateway under `key`; checks of check_method_can_pay
    must pass first."""
    if amount == ZERO:
        return Funding("promo", key=key)
    primary = check_method_can_pay(view, amount)
    if primary is None:
        return Funding("earnings", key=key)
    attempts: list[list[Any]] = []
    try:
        approved = gateway.charge(key, view.account_id, primary, amount)
    except GatewayKeyConflict:
        # The key was first sent for another amount or method (the account changed
        # between two decisions of one payment): the processor refuses, nothing moved.
        return Funding("method", primary.method_id, [[primary.method_id, False]],
                       approved=False, key=key,
                       reason=KEY_REUSED)
    attempts.append([primary.method_id, approved])
    if approved:
        return Funding("method", primary.method_id, attempts, key=key, captured_key=key)
    if primary.method == "paypal":
        backup = oldest_active_card(view)
        assert backup is not None
        backup_key = key + BACKUP_SUFFIX
        try:
            approved = gateway.charge(backup_key, view.account_id, backup, amount)
        except GatewayKeyConflict:
            approved = False
        attempts.append([backup.method_id, approved])
        if approved:
            return Funding("method", backup.method_id, attempts, key=key,
                           captured_key=backup_key)
    return Funding("method", primary.method_id, attempts, approved=False,
                   reason="declined by the payment gateway", key=key)


def renewal_blocker(view: View, amount: Decimal) -> str | None:
    """Why a renewal cannot even be attempted (it then fails, R-4.5), or None."""
    try:
        check_method_can_pay(view, amount)
    except LedgerError as exc:
        return exc.code
    if not view.methods:
        return "billing_method_required"
    return None
