"""The state an account's events fold into.

`View` is what the read side needs (balances, plan, cycle, methods) and is all the
projections fold; `AccountState` adds what only decisions need (proposals, jobs,
contracts, teams, promo benefits), which can grow with an account's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from ledger.connects import Lot

ZERO = Decimal("0.00")
CONNECTS_KINDS = ("freelancer", "agency")
PERSON_KINDS = ("freelancer", "member")
TEAM_KINDS = ("agency", "company", "enterprise")


@dataclass
class Method:
    method_id: str
    method: str  # card | paypal
    seq: int  # order added: "the oldest active card" is the backup
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    token: str | None = None
    prepaid: bool = False
    email: str | None = None
    suspended: bool = False


@dataclass
class View:
    account_id: str = ""
    kind: str = ""
    owner_id: str | None = None
    status: str = "active"  # active | suspended | closed
    plan: str | None = None  # basic | plus; None for kinds without a plan
    downgrade_pending: bool = False
    policy_version: str | None = None
    billing_day: int | None = None
    cycle_start: date | None = None
    next_billing_date: date | None = None
    lots: list[Lot] = field(default_factory=list)
    next_lot_id: int = 1
    earnings_pending: Decimal = ZERO
    earnings_available: Decimal = ZERO
    methods: dict[str, Method] = field(default_factory=dict)
    primary_method_id: str | None = None
    last_refill_on: date | None = None

    @property
    def connects(self) -> int:
        return sum(lot.remaining for lot in self.lots)

    @property
    def has_plan(self) -> bool:
        return self.kind in CONNECTS_KINDS


@dataclass
class Proposal:
    job_id: str
    connects: int
    takes: list[list[int]]
    status: str = "active"  # active | withdrawn | refunded


@dataclass
class PromoBenefit:
    code: str
    percent_off: int
    charges_left: int


@dataclass
class Charge:
    """A recorded charge (R-9.2), what refund_charge needs to give it back."""

    charge_id: str
    kind: str  # membership | purchase
    amount: Decimal
    source: str  # earnings | method | promo
    method_id: str | None
    billing_date: date | None  # membership: the cycle it paid for
    lot_id: int | None  # purchase: the lot it bought
    quantity: int = 0  # purchase: the Connects it bought
    refunded: bool = False


@dataclass
class AccountState:
    view: View = field(default_factory=View)
    last_at: datetime | None = None
    last_event: object | None = None  # the latest event; its digest chains the next one
    proposals: dict[str, Proposal] = field(default_factory=dict)
    cancelled_jobs: set[str] = field(default_factory=set)
    posted_jobs: dict[str, bool] = field(default_factory=dict)  # job_id -> open
    contracts: dict[str, tuple[bool, str, bool]] = field(default_factory=dict)  # hourly, role, open
    hourly_week_ends: datetime | None = None
    invoices: dict[str, tuple[Decimal, bool]] = field(default_factory=dict)  # amount, paid
    pending_refs: dict[str, Decimal] = field(default_factory=dict)
    used_refs: set[str] = field(default_factory=set)
    team: dict[str, str] = field(default_factory=dict)  # member_id -> role (on a team account)
    teams: dict[str, str] = field(default_factory=dict)  # team_id -> role (on a person)
    owned_agency: str | None = None
    owned_companies: list[str] = field(default_factory=list)
    promos_redeemed: set[str] = field(default_factory=set)
    promo_benefits: list[PromoBenefit] = field(default_factory=list)
    seen_method_ids: set[str] = field(default_factory=set)
    charges: dict[str, Charge] = field(default_factory=dict)  # charge_id -> charge
    captured_keys: set[str] = field(default_factory=set)  # gateway keys recorded
