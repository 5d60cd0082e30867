"""What a re-derivation check sees: the account's prior state, the event, the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger.policy import Catalog, PolicyVersion
from replay_tools import reference
from replay_tools.findings import Reporter
from replay_tools.reference import RefState, RefView, event_name
from replay_tools.stream import Stream

if TYPE_CHECKING:
    from replay_tools.checks.provenance import KeyScopes

CENT = Decimal("0.01")


@dataclass
class Check:
    stream: Stream
    event: Any
    catalog: Catalog
    r: Reporter
    keys: KeyScopes | None = None  # the key ring's scopes so far

    @property
    def state(self) -> RefState:
        return self.stream.state

    @property
    def view(self) -> RefView:
        return self.stream.state.view

    @property
    def name(self) -> str:
        return event_name(self.event)

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
            # The same text in another type (a date stored as a plain string) says so.
            kind = (f" (a {type(found).__name__}, not a {type(expected).__name__})"
                    if str(found) == str(expected) else "")
            self.r.fail(category, rule, f"{self.name}.{field} is not what the rules give{kind}",
                        expected, found)
            return False
        return True

    def version_on(self, day: date) -> PolicyVersion | None:
        version: PolicyVersion | None = reference.version_in_force(self.catalog, day)
        if version is None:
            self.fail("R-0", f"no policy version is in force on {day}")
        return version


def expiry_date(version: PolicyVersion, issued: date) -> date | None:
    return reference.expiry_on(version.connects_expire_after_days, issued)


def discounted(price: Decimal, state: RefState) -> tuple[Decimal, str | None, int]:
    """The charge after the first promo benefit with charges left (R-4.8)."""
    return reference.promo_price(price, state)
