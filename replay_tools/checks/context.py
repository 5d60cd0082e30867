"""What a re-derivation check sees: the account's prior state, the event, the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledger.errors import LedgerError
from ledger.policy import Catalog, PolicyVersion
from ledger.state import AccountState, View
from replay_tools.findings import Reporter
from replay_tools.stream import Stream

CENT = Decimal("0.01")


@dataclass
class Check:
    stream: Stream
    event: Any
    catalog: Catalog
    r: Reporter

    @property
    def state(self) -> AccountState:
        return self.stream.state

    @property
    def view(self) -> View:
        return self.stream.state.view

    @property
    def name(self) -> str:
        return type(self.event).__name__

    @property
    def day(self) -> date:
        return self.event.at.date()  # type: ignore[no-any-return]

    def fail(self, rule: str, message: str, expected: Any = None, found: Any = None,
             category: str = "rederive") -> None:
        self.r.fail(category, rule, message, expected, found)

    def same(self, field: str, expected: Any, rule: str, category: str = "rederive") -> bool:
        """Compare one recorded field with what the rules give."""
        found = getattr(self.event, field, None)
        if found != expected:
            self.r.fail(category, rule, f"{self.name}.{field} is not what the rules give",
                        expected, found)
            return False
        return True

    def version_on(self, day: date) -> PolicyVersion | None:
        try:
            return self.catalog.version_on(day)
        except LedgerError:
            self.fail("R-0", f"no policy version is in force on {day}")
            return None


def expiry_date(version: PolicyVersion, issued: date) -> date | None:
    days = version.connects_expire_after_days
    return issued + timedelta(days=days) if days else None


def discounted(price: Decimal, state: AccountState) -> tuple[Decimal, str | None, int]:
    """The charge after the first promo benefit with charges left (R-4.8)."""
    for benefit in state.promo_benefits:
        if benefit.charges_left > 0:
            amount = (price * (100 - benefit.percent_off) / 100).quantize(
                CENT, rounding=ROUND_HALF_UP)
            return amount, benefit.code, benefit.percent_off
    return price, None, 0
