"""The demo's figures, read back from the ledger: account views and event histories,
never what the simulator meant to do."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger.application import Ledger

# -- what the ledger says, summed from its events -------------------------------------


@dataclass
class LedgerFigures:
    by_kind: Counter[str] = field(default_factory=Counter)
    by_plan: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    granted: Counter[str] = field(default_factory=Counter)  # refills, proration, ...
    spent: int = 0
    expired: Counter[str] = field(default_factory=Counter)  # by reason
    held: int = 0  # the views' Connects balances, summed
    charges: Counter[str] = field(default_factory=Counter)  # channel -> count
    charged: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    failed: Counter[str] = field(default_factory=Counter)  # by purpose
    events: int = 0


# -- reading the figures back from the ledger -----------------------------------------


def measure(ledger: Ledger, account_ids: Iterable[str]) -> LedgerFigures:
    figures = LedgerFigures()
    for account_id in account_ids:
        view = ledger.account(account_id)
        figures.by_kind[view.kind] += 1
        figures.by_plan[view.plan or "none"] += 1
        figures.by_status[view.status] += 1
        figures.held += view.connects
        history = ledger.history(account_id)
        figures.events += len(history)
        _fold(figures, history)
    return figures


def _fold(figures: LedgerFigures, history: list[dict[str, Any]]) -> None:
    method_kinds: dict[str, str] = {}
    for event in history:
        name, data = event["name"], event["data"]
        if name == "MethodAdded":
            method_kinds[data["method_id"]] = data["method"]
        elif name == "ConnectsRefilled":
            figures.granted["refills"] += data["quantity"]
        elif name == "ConnectsGranted":
            figures.granted[data["source"]] += data["quantity"]
        elif name == "ConnectsPurchased":
            figures.granted["purchases"] += data["quantity"]
            _charge(figures, data, method_kinds)
        elif name == "ConnectsRefunded":
            figures.granted["refunds"] += data["quantity"]
        elif name == "ConnectsSpent":
            figures.spent += data["quantity"]
        elif name == "ConnectsExpired":
            figures.expired[data["reason"]] += data["quantity"]
        elif name == "MembershipCharged":
            _charge(figures, data, method_kinds)
        elif name == "PaymentFailed":
            figures.failed[data["purpose"]] += 1


def _charge(figures: LedgerFigures, data: dict[str, Any], method_kinds: dict[str, str]) -> None:
    # `method_id` is the method that paid: a PayPal decline's backup card counts as card.
    channel = data["source"]
    if channel == "method":
        channel = method_kinds.get(data["method_id"] or "", "card")
    figures.charges[channel] += 1
    figures.charged[channel] += Decimal(data["amount"])
