"""The Account aggregate and its events.

Events are facts with both times: `at` (effective, business time) and the library's
`timestamp` (recorded time, from the ledger's clock). Their bodies only assign state:
every guard runs before an event is triggered (ledger/handlers), because event
bodies run again on every replay. Topics are explicit, so renaming code never
orphans history. Each event folds into the read-side `View` (`on_view`) and, where
decisions need more, into the full `AccountState` (`on_domain`).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.connects import Lot, apply_takes
from ledger.integrity import event_digest
from ledger.payments import charge_id_of
from ledger.state import AccountState, Charge, Method, PromoBenefit, Proposal, View

ACCOUNT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:subscription-ledger:account")
COMMON_FIELDS = ("originator_id", "originator_version", "timestamp")
# Fields added in the second round: events stored before them read None.
OPTIONAL_LATER_FIELDS = frozenset({"principal", "actor", "command_reason", "charge_id",
                                   "gateway_key"})


@lru_cache(maxsize=65_536)
def account_uuid(account_id: str) -> UUID:
    # uuid5 is a SHA-1 and an object in Python (about 5 us): asked several times per
    # command for the same few accounts, so remembered.
    return uuid5(ACCOUNT_NAMESPACE, account_id)


def event_data(event: Any) -> dict[str, Any]:
    """The event's own fields."""
    return {k: v for k, v in vars(event).items() if k not in COMMON_FIELDS}


# Fields `history` and previews show beside the data (or never: gateway tokens stay
# with the gateway, R-8.9).
NOT_IN_DATA = frozenset({"at", "prev_hash", "principal", "actor", "command_reason", "token",
                         "originator_topic"})


def shown_data(event: Any) -> dict[str, Any]:
    """What `history`, previews and the feed show as an event's data. A failed payment
    shows the charge id it was tried under (R-9.2: the one its result gave)."""
    return with_failed_charge_id(
        event, {k: v for k, v in event_data(event).items() if k not in NOT_IN_DATA})


def with_failed_charge_id(event: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The data, with a failed payment's charge id (from its gateway key) added."""
    key = data.get("gateway_key")
    if type(event).__name__ == "PaymentFailed" and key and "charge_id" not in data:
        data["charge_id"] = charge_id_of(key)
    return data


_DIGESTS: OrderedDict[int, tuple[Any, str]] = OrderedDict()
_DIGESTS_KEPT = 20_000


def digest_of(event: Any) -> str:
    """The event's content hash. The aggregate (on apply) and the projection (on save)
    ask for the same event objects: remember recent answers by identity."""
    kept = _DIGESTS.get(id(event))
    if kept is not None and kept[0] is event:
        return kept[1]
    fields = dict(vars(event))
    fields["originator_id"] = fields["originator_id"].hex
    digest = event_digest(type(event).TOPIC, fields)
    _DIGESTS[id(event)] = (event, digest)
    if len(_DIGESTS) > _DIGESTS_KEPT:
        _DIGESTS.popitem(last=False)
    return digest


class Account(Aggregate):
    TOPIC = "ledger/Account"

    def __init__(self) -> None:
        self.state = AccountState()

    class Event(Aggregate.Event):
        TOPIC = "ledger/Account.Event"
        at: datetime
        command_id: str | None
        prev_hash: str
        # who sent the command (an API key id, `cli:<user>`, `python:<user>`), the
        # person acting, and why. Events of stores written before these fields read None.
        principal: str | None
        actor: str | None
        command_reason: str | None

        def __getattr__(self, name: str) -> Any:
            if name in OPTIONAL_LATER_FIELDS:
                return None
            raise AttributeError(name)

        def apply(self, aggregate: Any) -> None:
            state: AccountState = aggregate.state
            self.on_view(state.view)
            self.on_domain(state)
            state.last_at = self.at
            state.last_event = self  # hashed only when the next event needs prev_hash

        def on_view(self, v: View) -> None:
            """Fold into the read-side view; most events change something here."""

        def on_domain(self, s: AccountState) -> None:
            """Fold into decision-only state."""

    class AccountOpened(Event, Aggregate.Created):
        TOPIC = "ledger/AccountOpened"
        account_id: str
        kind: str
        owner_id: str | None
        plan: str | None
        policy_version: str | None
        billing_day: int | None
        cycle_start: date | None
        next_billing_date: date | None

        def on_view(self, v: View) -> None:
            v.account_id, v.kind, v.owner_id, v.plan = (
                self.account_id, self.kind, self.owner_id, self.plan)
            v.policy_version, v.billing_day = self.policy_version, self.billing_day
            v.cycle_start, v.next_billing_date = self.cycle_start, self.next_billing_date

    # -- Connects lots -------------------------------------------------------------

    class ConnectsRefilled(Event):
        """The monthly Connects of a billing date (or of the opening day)."""

        TOPIC = "ledger/ConnectsRefilled"
        lot_id: int
        quantity: int
        expires_on: date | None
        plan: str
        policy_version: str

        def on_view(self, v: View) -> None:
            _grant(v, self.lot_id, "refill", self.at.date(), self.expires_on, self.quantity)
            v.last_refill_on = self.at.date()

    class ConnectsGranted(Event):
        """Upgrade proration (R-5.3) or a promotion."""

        TOPIC = "ledger/ConnectsGranted"
        lot_id: int
        quantity: int
        expires_on: date | None
        source: str
        days: int
        policy_version: str

        def on_view(self, v: View) -> None:
            _grant(v, self.lot_id, self.source, self.at.date(), self.expires_on, self.quantity)

    class ConnectsPurchased(Event):
        TOPIC = "ledger/ConnectsPurchased"
        lot_id: int
        quantity: int
        expires_on: date | None
        amount: Decimal
        unit_price: Decimal
        source: str  # earnings | method
        method_id: str | None
        attempts: list[list[Any]]
        policy_version: str
        charge_id: str | None
        gateway_key: str | None  # the gateway request that captured it

        def on_view(self, v: View) -> None:
            _grant(v, self.lot_id, "purchase", self.at.date(), self.expires_on, self.quantity)
            if self.source == "earnings":
                v.earnings_available -= self.amount

        def on_domain(self, s: AccountState) -> None:
            _note_charge(s, self, "purchase", None, self.lot_id, self.quantity)

    class ConnectsSpent(Event):
        TOPIC = "ledger/ConnectsSpent"
        proposal_id: str
        quantity: int
        lots: list[list[int]]

        def on_view(self, v: View) -> None:
            apply_takes(v.lots, self.lots)

    class ConnectsRefunded(Event):
        TOPIC = "ledger/ConnectsRefunded"
        proposal_id: str
        job_id: str
        lot_id: int
        quantity: int
        expires_on: date | None

        def on_view(self, v: View) -> None:
            _grant(v, self.lot_id, "refund", self.at.date(), self.expires_on, self.quantity)

        def on_domain(self, s: AccountState) -> None:
            s.proposals[self.proposal_id].status = "refunded"

    class ConnectsExpired(Event):
        TOPIC = "ledger/ConnectsExpired"
        reason: str  # age | rollover_none | rollover_cap | forfeited
        quantity: int
        lots: list[list[int]]
        policy_version: str | None

        def on_view(self, v: View) -> None:
            apply_takes(v.lots, self.lots)
            v.lots = [lot for lot in v.lots if lot.remaining > 0]

    # -- Billing methods (R-2) -----------------------------------------------------

    class MethodAdded(Event):
        TOPIC = "ledger/MethodAdded"
        method_id: str
        method: str
        brand: str | None
        last4: str | None
        exp_month: int | None
        exp_year: int | None
        token: str | None
        prepaid: bool
        email: str | None
        primary: bool

        def on_view(self, v: View) -> None:
            seq = max((m.seq for m in v.methods.values()), default=0) + 1
            v.methods[self.method_id] = Method(
                self.method_id, self.method, seq, self.brand, self.last4, self.exp_month,
                self.exp_year, self.token, self.prepaid, self.email)
            if self.primary:
                v.primary_method_id = self.method_id

        def on_domain(self, s: AccountState) -> None:
            s.seen_method_ids.add(self.method_id)

    class PrimaryMethodChanged(Event):
        TOPIC = "ledger/PrimaryMethodChanged"
        method_id: str
        previous: str | None

        def on_view(self, v: View) -> None:
            v.primary_method_id = self.method_id

    class MethodRemoved(Event):
        TOPIC = "ledger/MethodRemoved"
        method_id: str

        def on_view(self, v: View) -> None:
            del v.methods[self.method_id]

    class MethodSuspended(Event):
        TOPIC = "ledger/MethodSuspended"
        method_id: str

        def on_view(self, v: View) -> None:
            v.methods[self.method_id].suspended = True

    class MethodReinstated(Event):
        TOPIC = "ledger/MethodReinstated"
        method_id: str

        def on_view(self, v: View) -> None:
            v.methods[self.method_id].suspended = False

    # -- Plans and cycles (R-4) ----------------------------------------------------

    class PlanUpgraded(Event):
        TOPIC = "ledger/PlanUpgraded"
        cycle_start: date
        billing_day: int
        next_billing_date: date
        policy_version: str
        promo_code: str | None

        def on_view(self, v: View) -> None:
            _start_cycle(v, "plus", self.cycle_start, self.billing_day,
                         self.next_billing_date, self.policy_version)

    class MembershipCharged(Event):
        TOPIC = "ledger/MembershipCharged"
        purpose: str  # upgrade | renewal
        billing_date: date
        list_price: Decimal
        amount: Decimal
        promo_code: str | None
        percent_off: int
        source: str  # earnings | method | promo
        method_id: str | None
        attempts: list[list[Any]]
        policy_version: str
        charge_id: str | None
        gateway_key: str | None  # the gateway request that captured it

        def on_view(self, v: View) -> None:
            if self.source == "earnings":
                v.earnings_available -= self.amount

        def on_domain(self, s: AccountState) -> None:
            if self.promo_code is not None:
                _use_promo_charge(s, self.promo_code)
            _note_charge(s, self, "membership", self.billing_date, None)

    class PaymentFailed(Event):
        TOPIC = "ledger/PaymentFailed"
        purpose: str  # upgrade | renewal | purchase
        amount: Decimal
        reason: str
        method_id: str | None
        attempts: list[list[Any]]
        billing_date: date | None
        gateway_key: str | None  # the payment's idempotency key

    class DowngradeScheduled(Event):
        TOPIC = "ledger/DowngradeScheduled"
        effective_on: date

        def on_view(self, v: View) -> None:
            v.downgrade_pending = True

    class DowngradeCancelled(Event):
        TOPIC = "ledger/DowngradeCancelled"
        billing_date: date

        def on_view(self, v: View) -> None:
            v.downgrade_pending = False

    class PlanDowngraded(Event):
        """A billing date's outcome when the account leaves Plus (R-4.5 to R-4.7)."""

        TOPIC = "ledger/PlanDowngraded"
        reason: str  # requested | payment_failed | suspended
        billing_date: date
        cycle_start: date
        billing_day: int
        next_billing_date: date
        policy_version: str

        def on_view(self, v: View) -> None:
            _start_cycle(v, "basic", self.cycle_start, self.billing_day,
                         self.next_billing_date, self.policy_version)

    class CycleRenewed(Event):
        """A billing date's outcome when the plan carries on (Basic, or Plus paid)."""

        TOPIC = "ledger/CycleRenewed"
        plan: str
        billing_date: date
        cycle_start: date
        billing_day: int
        next_billing_date: date
        policy_version: str

        def on_view(self, v: View) -> None:
            _start_cycle(v, self.plan, self.cycle_start, self.billing_day,
                         self.next_billing_date, self.policy_version)

    class PromoCodeRedeemed(Event):
        TOPIC = "ledger/PromoCodeRedeemed"
        code: str
        percent_off: int
        charges: int

        def on_domain(self, s: AccountState) -> None:
            s.promos_redeemed.add(self.code)
            s.promo_benefits.append(PromoBenefit(self.code, self.percent_off, self.charges))

    # -- Corrections (R-9) -----------------------------------------------------------

    class ChargeRefunded(Event):
        """A charge given back whole to where it came from (R-9.2)."""

        TOPIC = "ledger/ChargeRefunded"
        charge_id: str
        kind: str  # membership | purchase
        amount: Decimal
        source: str  # earnings | method | promo
        method_id: str | None
        gateway_key: str | None  # the refund's request (None when no money moved by card)

        def on_view(self, v: View) -> None:
            if self.source == "earnings":
                v.earnings_available += self.amount

        def on_domain(self, s: AccountState) -> None:
            charge = s.charges.get(self.charge_id)
            if charge is not None:
                charge.refunded = True
            if self.gateway_key:
                s.captured_keys.add(self.gateway_key)

    class RefundFailed(Event):
        """The gateway declined a refund; nothing else changed (R-9.2)."""

        TOPIC = "ledger/RefundFailed"
        charge_id: str
        amount: Decimal
        method_id: str | None
        reason: str
        gateway_key: str

    class ConnectsRevoked(Event):
        """A refunded purchase's lot taken back (R-9.2): it was wholly unspent."""

        TOPIC = "ledger/ConnectsRevoked"
        lot_id: int
        quantity: int
        charge_id: str

        def on_view(self, v: View) -> None:
            v.lots = [lot for lot in v.lots if lot.lot_id != self.lot_id]

    # -- Account status ------------------------------------------------------------

    class AccountSuspended(Event):
        TOPIC = "ledger/AccountSuspended"
        reason: str | None

        def on_view(self, v: View) -> None:
            v.status = "suspended"

    class AccountReinstated(Event):
        TOPIC = "ledger/AccountReinstated"
        reason: str | None

        def on_view(self, v: View) -> None:
            v.status = "active"

    class AccountClosed(Event):
        TOPIC = "ledger/AccountClosed"
        reason: str  # requested | with_owner | with_company | left_last_team

        def on_view(self, v: View) -> None:
            v.status = "closed"
            v.next_billing_date = None
            v.downgrade_pending = False

    # -- Earnings (R-6) ------------------------------------------------------------

    class EarningsPending(Event):
        TOPIC = "ledger/EarningsPending"
        reference: str
        amount: Decimal

        def on_view(self, v: View) -> None:
            v.earnings_pending += self.amount

        def on_domain(self, s: AccountState) -> None:
            s.pending_refs[self.reference] = self.amount
            s.used_refs.add(self.reference)

    class EarningsReleased(Event):
        TOPIC = "ledger/EarningsReleased"
        reference: str
        amount: Decimal

        def on_view(self, v: View) -> None:
            v.earnings_pending -= self.amount
            v.earnings_available += self.amount

        def on_domain(self, s: AccountState) -> None:
            del s.pending_refs[self.reference]

    class EarningsCredited(Event):
        TOPIC = "ledger/EarningsCredited"
        amount: Decimal
        reference: str | None

        def on_view(self, v: View) -> None:
            v.earnings_available += self.amount

        def on_domain(self, s: AccountState) -> None:
            if self.reference is not None:
                s.used_refs.add(self.reference)

    class EarningsWithdrawn(Event):
        TOPIC = "ledger/EarningsWithdrawn"
        amount: Decimal

        def on_view(self, v: View) -> None:
            v.earnings_available -= self.amount

    # -- Proposals, jobs, contracts, invoices --------------------------------------

    class ProposalSubmitted(Event):
        TOPIC = "ledger/ProposalSubmitted"
        proposal_id: str
        job_id: str
        connects: int
        invited: bool

        def on_domain(self, s: AccountState) -> None:
            s.proposals[self.proposal_id] = Proposal(self.job_id, self.connects, [])

    class ProposalWithdrawn(Event):
        TOPIC = "ledger/ProposalWithdrawn"
        proposal_id: str

        def on_domain(self, s: AccountState) -> None:
            s.proposals[self.proposal_id].status = "withdrawn"

    class JobCancelled(Event):
        TOPIC = "ledger/JobCancelled"
        job_id: str
        reason: str

        def on_domain(self, s: AccountState) -> None:
            s.cancelled_jobs.add(self.job_id)

    class JobPosted(Event):
        TOPIC = "ledger/JobPosted"
        job_id: str

        def on_domain(self, s: AccountState) -> None:
            s.posted_jobs[self.job_id] = True

    class JobClosed(Event):
        TOPIC = "ledger/JobClosed"
        job_id: str

        def on_domain(self, s: AccountState) -> None:
            s.posted_jobs[self.job_id] = False

    class ContractOpened(Event):
        TOPIC = "ledger/ContractOpened"
        contract_id: str
        hourly: bool
        role: str

        def on_domain(self, s: AccountState) -> None:
            s.contracts[self.contract_id] = (self.hourly, self.role, True)

    class ContractClosed(Event):
        TOPIC = "ledger/ContractClosed"
        contract_id: str
        hourly: bool
        billing_week_ends: datetime | None

        def on_domain(self, s: AccountState) -> None:
            hourly, role, _ = s.contracts[self.contract_id]
            s.contracts[self.contract_id] = (hourly, role, False)
            if self.billing_week_ends is not None:
                s.hourly_week_ends = max(s.hourly_week_ends or self.billing_week_ends,
                                         self.billing_week_ends)

    class InvoiceRecorded(Event):
        TOPIC = "ledger/InvoiceRecorded"
        invoice_id: str
        amount: Decimal

        def on_domain(self, s: AccountState) -> None:
            s.invoices[self.invoice_id] = (self.amount, False)

    class InvoicePaid(Event):
        TOPIC = "ledger/InvoicePaid"
        invoice_id: str
        amount: Decimal

        def on_domain(self, s: AccountState) -> None:
            s.invoices[self.invoice_id] = (self.amount, True)

    # -- Teams and ownership (R-1, R-7) --------------------------------------------

    class TeamMemberAdded(Event):
        TOPIC = "ledger/TeamMemberAdded"
        member_id: str
        role: str

        def on_domain(self, s: AccountState) -> None:
            s.team[self.member_id] = self.role

    class TeamMemberRemoved(Event):
        TOPIC = "ledger/TeamMemberRemoved"
        member_id: str
        reason: str  # removed | left

        def on_domain(self, s: AccountState) -> None:
            s.team.pop(self.member_id, None)

    class TeamJoined(Event):
        TOPIC = "ledger/TeamJoined"
        team_id: str
        role: str

        def on_domain(self, s: AccountState) -> None:
            s.teams[self.team_id] = self.role

    class TeamLeft(Event):
        TOPIC = "ledger/TeamLeft"
        team_id: str
        reason: str  # left | removed

        def on_domain(self, s: AccountState) -> None:
            s.teams.pop(self.team_id, None)

    class OwnedAccountOpened(Event):
        """On a person's stream: the agency or company it now owns (R-7.2, R-7.4)."""

        TOPIC = "ledger/OwnedAccountOpened"
        owned_id: str
        kind: str

        def on_domain(self, s: AccountState) -> None:
            if self.kind == "agency":
                s.owned_agency = self.owned_id
            else:
                s.owned_companies.append(self.owned_id)


def _note_charge(s: AccountState, event: Any, kind: str, billing_date: date | None,
                 lot_id: int | None, quantity: int = 0) -> None:
    if event.charge_id is None:  # recorded before charge ids existed
        return
    s.charges[event.charge_id] = Charge(event.charge_id, kind, event.amount, event.source,
                                        event.method_id, billing_date, lot_id, quantity)
    if event.gateway_key:
        s.captured_keys.add(event.gateway_key)


def _grant(v: View, lot_id: int, source: str, issued: date, expires: date | None, n: int) -> None:
    v.lots.append(Lot(lot_id, source, issued, expires, n))
    v.next_lot_id = max(v.next_lot_id, lot_id + 1)


def _start_cycle(
    v: View, plan: str, start: date, day: int, next_date: date, version: str
) -> None:
    v.plan, v.cycle_start, v.billing_day = plan, start, day
    v.next_billing_date, v.policy_version = next_date, version
    v.downgrade_pending = False


def _use_promo_charge(s: AccountState, code: str) -> None:
    for benefit in s.promo_benefits:
        if benefit.code == code and benefit.charges_left > 0:
            benefit.charges_left -= 1
            break
    s.promo_benefits = [b for b in s.promo_benefits if b.charges_left > 0]
