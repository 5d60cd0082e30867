"""Pricing: what a Plus charge costs after a promo benefit (R-4.8) and when a lot of
Connects issued on a day expires (R-5.1). Pure functions over the policy version and
the account's state; the one home of these formulas."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ledger.policy import PolicyVersion
from ledger.state import AccountState


def expiry_date(version: PolicyVersion, issued: date) -> date | None:
    days = version.connects_expire_after_days
    return issued + timedelta(days=days) if days else None


def discounted(price: Decimal, state: AccountState) -> tuple[Decimal, str | None, int]:
    """The next Plus charge after the first live promo benefit (R-4.8)."""
    benefit = next((b for b in state.promo_benefits if b.charges_left > 0), None)
    if benefit is None:
        return price, None, 0
    factor = Decimal(100 - benefit.percent_off) / 100
    amount = (price * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return amount, benefit.code, benefit.percent_off
