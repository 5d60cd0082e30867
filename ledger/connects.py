"""Connects lots (R-5): grant, spend oldest-first, expire by age and by rollover. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass
class Lot:
    lot_id: int
    source: str  # refill, proration, purchase, refund, promotion
    issued_on: date
    expires_on: date | None
    remaining: int


Take = tuple[int, int]  # (lot_id, count)


def balance(lots: list[Lot]) -> int:
    return sum(lot.remaining for lot in lots)


def live_lots(lots: list[Lot]) -> list[Lot]:
    """Lots with Connects left, oldest first (lots are kept in issue order)."""
    return [lot for lot in lots if lot.remaining > 0]


def take_oldest_first(lots: list[Lot], count: int) -> list[Take]:
    """Which lots a spend (or an expiry above a cap) draws from: the first issued first."""
    takes: list[Take] = []
    left = count
    for lot in live_lots(lots):
        if left == 0:
            break
        n = min(lot.remaining, left)
        takes.append((lot.lot_id, n))
        left -= n
    if left:
        raise ValueError(f"only {count - left} of {count} Connects held")
    return takes


def expired_by_age(lots: list[Lot], on: date) -> list[Take]:
    """Lots whose expiry date is on or before `on` (they expire at its start)."""
    return [
        (lot.lot_id, lot.remaining)
        for lot in live_lots(lots)
        if lot.expires_on is not None and lot.expires_on <= on
    ]


def expired_by_rollover(lots: list[Lot], rollover: str, cap: int | None) -> list[Take]:
    """What a billing date expires before its refill (R-5.2)."""
    if rollover == "none":
        return [(lot.lot_id, lot.remaining) for lot in live_lots(lots) if lot.source == "refill"]
    if rollover == "cap":
        assert cap is not None
        surplus = balance(lots) - cap
        return take_oldest_first(lots, surplus) if surplus > 0 else []
    return []


def earliest_expiry(lots: list[Lot]) -> date | None:
    dates = [lot.expires_on for lot in live_lots(lots) if lot.expires_on is not None]
    return min(dates) if dates else None


def apply_takes(lots: list[Lot], takes: list[Take] | list[list[int]]) -> None:
    by_id = {lot.lot_id: lot for lot in lots}
    for lot_id, n in takes:
        by_id[lot_id].remaining -= n


def proration_connects(days: int, basic_monthly: int, plus_monthly: int) -> int:
    """R-5.3: the Plus minus Basic monthly Connects plus floor(days x Basic monthly / 30)."""
    return max(plus_monthly - basic_monthly, 0) + (max(days, 0) * basic_monthly) // 30
