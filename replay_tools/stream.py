"""One account's replay state (never its events) and how one event folds into it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.policy import PolicyVersion
from replay_tools.reference import RefCharge, RefState, event_name
from replay_tools.reference import fold as reference_fold

GRANTS = ("ConnectsRefilled", "ConnectsGranted", "ConnectsPurchased", "ConnectsRefunded")
TAKES = ("ConnectsSpent", "ConnectsExpired", "ConnectsRevoked")


@dataclass
class Expect:
    """An event the rules say must come next in this account's stream."""

    names: tuple[str, ...]
    rule: str
    what: str
    category: str = "rederive"


@dataclass
class Block:
    """A billing date being recorded: charge, outcome, rollover, refill (R-4.9)."""

    day: date
    version: PolicyVersion | None
    phase: str  # charge | outcome | rollover | refill | done
    outcome: tuple[str, str] | None = None  # ("CycleRenewed", plan) | ("PlanDowngraded", reason)
    amount: Decimal | None = None
    promo: tuple[str | None, int] = (None, 0)
    price: Decimal | None = None
    rollover: list[list[int]] = field(default_factory=list)
    monthly: int | None = None  # None: no refill is expected


@dataclass
class Upgrade:
    """A Plus upgrade being recorded: its charge and its proration (R-4.2, R-5.3)."""

    day: date
    version: PolicyVersion
    days: int
    granted: int


@dataclass
class Refund:
    """A refund being recorded: the charge, and the command that refunds it (R-9.2)."""

    command_id: str | None
    charge: RefCharge
    failed: bool = False  # RefundFailed: the gateway declined it


@dataclass
class Stream:
    uid: UUID
    account_id: str = ""
    state: RefState = field(default_factory=RefState)
    version: int = 0  # last version seen
    folded: int = 0  # last version folded into `state`
    last_digest: str | None = ""  # None: unknown (the previous row did not decode)
    closed_at: int | None = None
    tainted: bool = False  # an event is missing or unusable: replay checks stop here
    stopped: bool = False  # --through reached
    balance: int = 0  # Connects by the events' own quantities
    pending: list[Expect] = field(default_factory=list)
    block: Block | None = None
    upgrade: Upgrade | None = None
    opening: bool = False
    redeemed: tuple[str, str | None] | None = None  # (code, command_id) of the last redeem
    refund: Refund | None = None  # a ChargeRefunded whose follow-up is due
    charged_on: date | None = None
    failed_on: date | None = None
    outcome_on: date | None = None
    due_reported: date | None = None
    broken: set[str] = field(default_factory=set)  # invariants reported and still broken

    @property
    def label(self) -> str:
        return self.account_id or self.uid.hex


def fold(state: RefState, event: Any) -> None:
    """The audit's own fold (replay_tools.reference), never the events' methods."""
    reference_fold(state, event)


def quantity_change(event: Any) -> int:
    name = event_name(event)
    if name in GRANTS:
        return int(event.quantity)
    if name in TAKES:
        return -int(event.quantity)
    return 0
