"""The audit's own reference: every formula it re-derives, and the fold of the events.

Written from the rules (R-x.y), not from `ledger/`: a second opinion that shares the
ledger's arithmetic would agree with its mistakes. Nothing here imports the ledger's
decision code (tests/replay/test_reference_independent.py walks the imports and runs an
audit with the ledger's formulas and fold sabotaged); tests/properties/
test_reference_agrees.py checks on generated inputs that the two opinions agree.

What the audit does share with the ledger, on purpose (they are contracts, not
decisions): the stored events as eventsourcing decodes them (topics, field names), the
policy catalog's data model (`ledger.policy`: the figures are data), and the views'
JSON codec. The content hash below is written again from its definition (R-8.1).
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
CONNECTS_KINDS = ("freelancer", "agency")
ACCOUNT_STREAMS = uuid5(NAMESPACE_URL, "urn:subscription-ledger:account")
COMMAND_STREAMS = uuid5(NAMESPACE_URL, "urn:subscription-ledger:command")
KEY_RING = uuid5(NAMESPACE_URL, "urn:subscription-ledger:api-keys")  # the API keys' stream
COMMON_FIELDS = ("originator_id", "originator_version", "timestamp")


# -- identities and the content hash (R-8.1, R-8.3) -----------------------------------


def account_stream(account_id: str) -> UUID:
    return uuid5(ACCOUNT_STREAMS, account_id)


def command_stream(command_id: str) -> UUID:
    return uuid5(COMMAND_STREAMS, command_id)


_NAMES: dict[type, str] = {}


def event_name(event: Any) -> str:
    """An event's name: its topic's last part (topics are explicit, `ledger/Name`).
    Remembered per class (called about ten times an event)."""
    kind = type(event)
    name = _NAMES.get(kind)
    if name is None:
        name = _NAMES[kind] = str(getattr(kind, "TOPIC", kind.__name__)).rpartition("/")[2]
    return name


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot canonicalise {type(value).__name__}")


def event_hash(event: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces) of the topic, the stream id
    as hex, and every field of the event, prev_hash and both times included."""
    fields = dict(vars(event))
    fields["originator_id"] = fields["originator_id"].hex
    data = {"topic": type(event).TOPIC, **fields}
    body = _orjson_form(data)
    if body is None:
        body = canonical(data).encode()
    return hashlib.sha256(body).hexdigest()


def canonical(data: Any) -> str:
    """The canonical JSON, by its definition: the standard library's sorted, compact,
    ASCII-escaped form."""
    return json.dumps(data, default=_plain, sort_keys=True, separators=(",", ":"))


# orjson writes the same bytes as `canonical` for the JSON both write alike; what it
# writes otherwise is refused below, and takes the definition's path. orjson's form of a
# date, and of a datetime naive or in UTC, is its isoformat (tests hold it to that).
_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS \
    | orjson.OPT_PASSTHROUGH_SUBCLASS
_SAME = frozenset({str, int, bool, type(None), Decimal, UUID, date})


def _orjson_form(data: dict[str, Any]) -> bytes | None:
    """orjson's bytes when they are certain to be `canonical`'s: nothing but strings,
    integers, booleans, None, decimals, UUIDs, dates, datetimes naive or in UTC (exact
    types), in
    lists, tuples, sets and string-keyed dicts (no float: its forms differ); integers
    orjson takes (64 bits); an ASCII result without DEL (the standard library escapes
    every other character as \\uXXXX). None: use the definition."""
    stack: list[Any] = [data]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind in _SAME:
            continue
        if kind is datetime:
            if value.tzinfo is not None and value.tzinfo is not UTC:
                return None
        elif kind is dict:
            stack.extend(value.values())
        elif kind is list or kind is tuple or kind is set or kind is frozenset:
            stack.extend(value)
        else:
            return None
    try:
        body = orjson.dumps(data, default=_plain, option=_ORJSON)
    except TypeError:  # orjson.JSONEncodeError: a key that is not a string, a big int
        return None
    return body if body.isascii() and b"\x7f" not in body else None


def chained(previous: str, digest: str) -> str:
    """The running hash of the log: each notification's digest after the previous head."""
    return hashlib.sha256(f"{previous}:{digest}".encode()).hexdigest()


# -- billing dates (R-4.3) ------------------------------------------------------------


def add_one_month(day: date) -> date:
    """The same day next month, clamped to the month's last day (31 Jan -> 28/29 Feb)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def billing_day(cycle_start: date, last_billable_day: int) -> int:
    return cycle_start.day if cycle_start.day <= last_billable_day else 1


def next_billing_date(cycle_start: date, day_of_month: int) -> date:
    """The first date on or after cycle_start + 1 month whose day is the billing day,
    found by walking forward (at most a month and a few days)."""
    candidate = add_one_month(cycle_start)
    while candidate.day != day_of_month:
        candidate += timedelta(days=1)
    return candidate


def midnight(day: date) -> datetime:
    """Billing dates and expiries take effect at 00:00 UTC (R-4.3)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def week_end(moment: datetime) -> datetime:
    """Sunday 24:00 UTC of the Monday-to-Sunday week holding `moment` (R-7.3)."""
    monday = moment.date() - timedelta(days=moment.weekday())
    return datetime.combine(monday + timedelta(days=7), time(0), tzinfo=UTC)


# -- prices and proration (R-4.8, R-5.3) ------------------------------------------------


def percent_off(price: Decimal, percent: int) -> Decimal:
    """A price after a percentage off, to the cent, halves rounded up (R-4.8)."""
    return (price * (100 - percent) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def live_benefit(state: RefState) -> RefPromo | None:
    """The first redeemed promo benefit with charges left (it covers the next charge)."""
    return next((b for b in state.promo_benefits if b.charges_left > 0), None)


def promo_price(price: Decimal, state: RefState) -> tuple[Decimal, str | None, int]:
    benefit = live_benefit(state)
    if benefit is None:
        return price, None, 0
    return percent_off(price, benefit.percent_off), benefit.code, benefit.percent_off


def proration(days: int, basic_monthly: int, plus_monthly: int) -> int:
    """R-5.3: Plus minus Basic monthly, plus floor(days x Basic monthly / 30)."""
    extra = plus_monthly - basic_monthly if plus_monthly > basic_monthly else 0
    return extra + (days * basic_monthly // 30 if days > 0 else 0)


def expiry_on(expire_after_days: int | None, issued: date) -> date | None:
    """A lot issued on `issued` expires that many exact days later (never when 0/None)."""
    return issued + timedelta(days=expire_after_days) if expire_after_days else None


def sells(bundles: Any, quantity: int) -> bool:
    """Is `quantity` a bundle on sale (a list of sizes, or any multiple of a number)?"""
    if bundles.sizes is not None:
        return quantity in bundles.sizes
    return bool(bundles.multiple_of) and quantity % bundles.multiple_of == 0


def version_in_force(catalog: Any, day: date) -> Any | None:
    """The catalog version with the latest effective_from on or before `day` (R-0)."""
    found = None
    for version in catalog.versions:
        if version.effective_from <= day and (
                found is None or version.effective_from > found.effective_from):
            found = version
    return found


# -- charges and refunds (R-3.4, R-9.2) --------------------------------------------------


def charge_id_of(key: str) -> str:
    """A charge's id: `ch_` and the first 24 hex characters of the SHA-256 of its
    idempotency key (R-9.2)."""
    return "ch_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def command_charge_key(command_id: str, purpose: str) -> str:
    """The idempotency key of a command's own charge: its id and the purpose (R-3.4)."""
    return f"cmd:{command_id}:{purpose}"


def renewal_charge_key(account_id: str, day: date) -> str:
    """The idempotency key of a renewal: the account and the billing date (R-3.4)."""
    return f"renewal:{account_id}:{day.isoformat()}"


def refund_request_key(charge_id: str) -> str:
    """The idempotency key of a refund: the charge id (R-3.4)."""
    return f"refund:{charge_id}"


@dataclass
class RefCharge:
    """A charge the account paid, as its event recorded it."""

    charge_id: str
    kind: str  # membership | purchase
    amount: Decimal
    source: str  # earnings | method | promo
    method_id: str | None
    billing_date: date | None  # a membership's: the cycle it paid for
    lot_id: int | None  # a purchase's lot
    quantity: int = 0
    refunded: bool = False


def not_refundable(view: RefView, charge: RefCharge) -> str | None:
    """Why R-9.2 refuses to refund `charge` now (None: it may be refunded). A purchase
    only while its lot is wholly unspent (nothing spent, nothing expired); a membership
    only for the cycle the account is in, on Plus."""
    if charge.kind == "purchase":
        lot = next((lot for lot in view.lots if lot.lot_id == charge.lot_id), None)
        left = lot.remaining if lot is not None and lot.remaining > 0 else 0
        if left != charge.quantity:
            return (f"{charge.quantity - left} of the {charge.quantity} Connects bought "
                    "were spent or expired")
        return None
    if charge.kind != "membership":
        return f"a {charge.kind} charge is not refundable"
    if view.plan != "plus":
        return f"the account is on {view.plan}, not Plus"
    if charge.billing_date != view.cycle_start:
        return (f"it paid for the cycle from {charge.billing_date}; the current cycle "
                f"started on {view.cycle_start}")
    return None


# -- lots (R-5.1, R-5.2) ----------------------------------------------------------------


@dataclass
class RefLot:
    lot_id: int
    source: str
    issued_on: date
    expires_on: date | None
    remaining: int


def held(lots: Iterable[RefLot]) -> int:
    return sum(lot.remaining for lot in lots if lot.remaining > 0)


def spend_oldest_first(lots: list[RefLot], count: int) -> list[list[int]]:
    """[lot_id, n] drawn from the lots issued first; ValueError past the balance."""
    if count > held(lots):
        raise ValueError(f"{count} Connects asked, {held(lots)} held")
    takes: list[list[int]] = []
    for lot in sorted((lot for lot in lots if lot.remaining > 0),
                      key=lambda lot: (lot.issued_on, lot.lot_id)):
        if count <= 0:
            break
        n = lot.remaining if lot.remaining < count else count
        takes.append([lot.lot_id, n])
        count -= n
    return takes


def age_expiries(lots: list[RefLot], day: date) -> list[list[int]]:
    """Lots that expire at the start of `day` or before, with what remains of them."""
    return [[lot.lot_id, lot.remaining] for lot in lots
            if lot.remaining > 0 and lot.expires_on is not None and lot.expires_on <= day]


def rollover_expiries(lots: list[RefLot], rollover: str, cap: int | None) -> list[list[int]]:
    """A billing date's expiry before its refill: every refill lot (`none`), or what
    passes the cap, oldest first whatever the source (`cap`)."""
    if rollover == "none":
        return [[lot.lot_id, lot.remaining] for lot in lots
                if lot.remaining > 0 and lot.source == "refill"]
    if rollover == "cap" and cap is not None and held(lots) > cap:
        return spend_oldest_first(lots, held(lots) - cap)
    return []


def next_scheduled(view: RefView) -> date | None:
    """The earliest scheduled fact (an expiry by age or the billing date), or None."""
    if view.status == "closed":
        return None
    dates = [lot.expires_on for lot in view.lots
             if lot.remaining > 0 and lot.expires_on is not None]
    if view.next_billing_date is not None:
        dates.append(view.next_billing_date)
    return min(dates) if dates else None


def expiring_soon(view: RefView, as_of: datetime, catalog: Any, days: int = 30) -> int:
    """Connects the schedule will expire within `days` of `as_of`, the plan as it stands."""
    if view.status == "closed":
        return 0
    horizon = (as_of + timedelta(days=days)).date()
    lots = [RefLot(lot.lot_id, lot.source, lot.issued_on, lot.expires_on, lot.remaining)
            for lot in view.lots if lot.remaining > 0]
    gone = 0

    def expire(takes: list[list[int]]) -> None:
        nonlocal gone
        by_id = {lot.lot_id: lot for lot in lots}
        for lot_id, n in takes:
            by_id[lot_id].remaining -= n
            gone += n

    nbd = view.next_billing_date
    if nbd is not None and nbd <= horizon and view.plan is not None:
        expire(age_expiries(lots, nbd))
        version = version_in_force(catalog, nbd)
        if version is not None:
            terms = version.terms(view.kind, "basic" if view.downgrade_pending else view.plan)
            expire(rollover_expiries(lots, terms.rollover, terms.rollover_cap))
    expire(age_expiries(lots, horizon))
    return gone


# -- paying (R-2.5, R-3) ----------------------------------------------------------------


@dataclass
class RefMethod:
    method_id: str
    method: str
    seq: int
    brand: str | None = None
    last4: str | None = None
    token: str | None = None
    email: str | None = None
    suspended: bool = False


def primary(view: RefView) -> RefMethod | None:
    return view.methods.get(view.primary_method_id) if view.primary_method_id else None


def backup_card(view: RefView) -> RefMethod | None:
    """The oldest card on file that is not suspended (R-2.5)."""
    cards = sorted((m for m in view.methods.values()
                    if m.method == "card" and not m.suspended), key=lambda m: m.seq)
    return cards[0] if cards else None


def paying_source(view: RefView, amount: Decimal) -> str:
    """R-3.1: whole from the earnings when they cover it, else whole by the method."""
    if amount == 0:
        return "promo"
    return "earnings" if view.earnings_available >= amount else "method"


def cannot_attempt(view: RefView, amount: Decimal) -> str | None:
    """Why a renewal is not even sent to the gateway (it fails at once), or None. A
    membership needs a method on file even when the earnings pay (R-3.2)."""
    if not view.methods:
        return "billing_method_required"
    if amount == 0 or view.earnings_available >= amount:
        return None
    method = primary(view)
    if method is None:
        return "billing_method_required"
    if method.suspended:
        return "method_suspended"
    if method.method == "paypal" and backup_card(view) is None:
        return "backup_card_required"
    return None


# -- closing (R-7) ----------------------------------------------------------------------


def open_activity(state: RefState) -> list[str]:
    found = []
    if any(c.open for c in state.contracts.values()):
        found.append("open_contracts")
    if any(p.status == "active" and p.job_id not in state.cancelled_jobs
           for p in state.proposals.values()):
        found.append("active_proposals")
    return found


def money_left(state: RefState) -> list[str]:
    found = []
    if state.view.earnings_pending > 0:
        found.append("pending_earnings")
    if state.view.earnings_available > 0:
        found.append("available_earnings")
    return found


def person_blockers(state: RefState) -> list[str]:
    return open_activity(state) + money_left(state)


def agency_blockers(state: RefState) -> list[str]:
    return (["team_members"] if state.team else []) + open_activity(state) + money_left(state)


def company_blockers(state: RefState, at: datetime) -> list[str]:
    found = ["team_members"] if state.team else []
    if any(c.open for c in state.contracts.values()):
        found.append("open_contracts")
    if any(state.posted_jobs.values()):
        found.append("open_jobs")
    if any(not paid for _, paid in state.invoices.values()):
        found.append("unpaid_invoices")
    if state.hourly_week_ends is not None and at < state.hourly_week_ends:
        found.append("hourly_billing_week")
    return found


# -- the state the events fold into -------------------------------------------------------


@dataclass
class RefView:
    account_id: str = ""
    kind: str = ""
    owner_id: str | None = None
    status: str = "active"
    plan: str | None = None
    downgrade_pending: bool = False
    policy_version: str | None = None
    billing_day: int | None = None
    cycle_start: date | None = None
    next_billing_date: date | None = None
    lots: list[RefLot] = field(default_factory=list)
    next_lot_id: int = 1
    earnings_pending: Decimal = ZERO
    earnings_available: Decimal = ZERO
    methods: dict[str, RefMethod] = field(default_factory=dict)
    primary_method_id: str | None = None
    last_refill_on: date | None = None

    @property
    def connects(self) -> int:
        return held(self.lots)


@dataclass
class RefProposal:
    job_id: str
    connects: int
    status: str = "active"  # active | withdrawn | refunded


@dataclass
class RefContract:
    hourly: bool
    role: str
    open: bool = True


@dataclass
class RefPromo:
    code: str
    percent_off: int
    charges_left: int


@dataclass
class RefState:
    view: RefView = field(default_factory=RefView)
    last_at: datetime | None = None
    proposals: dict[str, RefProposal] = field(default_factory=dict)
    cancelled_jobs: set[str] = field(default_factory=set)
    posted_jobs: dict[str, bool] = field(default_factory=dict)
    contracts: dict[str, RefContract] = field(default_factory=dict)
    hourly_week_ends: datetime | None = None
    invoices: dict[str, tuple[Decimal, bool]] = field(default_factory=dict)
    pending_refs: dict[str, Decimal] = field(default_factory=dict)
    used_refs: set[str] = field(default_factory=set)
    team: dict[str, str] = field(default_factory=dict)
    teams: dict[str, str] = field(default_factory=dict)
    owned_agency: str | None = None
    owned_companies: list[str] = field(default_factory=list)
    promos_redeemed: set[str] = field(default_factory=set)
    promo_benefits: list[RefPromo] = field(default_factory=list)
    seen_method_ids: set[str] = field(default_factory=set)
    charges: dict[str, RefCharge] = field(default_factory=dict)  # by charge id


def view_json(v: RefView) -> dict[str, Any]:
    """The view as the projections serialise it (projections/codec.py's row format)."""
    def day(d: date | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "account_id": v.account_id, "kind": v.kind, "owner_id": v.owner_id,
        "status": v.status, "plan": v.plan, "downgrade_pending": v.downgrade_pending,
        "policy_version": v.policy_version, "billing_day": v.billing_day,
        "cycle_start": day(v.cycle_start), "next_billing_date": day(v.next_billing_date),
        "lots": [[lot.lot_id, lot.source, lot.issued_on.isoformat(), day(lot.expires_on),
                  lot.remaining] for lot in v.lots if lot.remaining],
        "next_lot_id": v.next_lot_id,
        "earnings_pending": str(v.earnings_pending),
        "earnings_available": str(v.earnings_available),
        "methods": [[m.method_id, m.method, m.seq, m.brand, m.last4, m.suspended, m.token,
                     m.email] for m in v.methods.values()],
        "primary_method_id": v.primary_method_id,
        "last_refill_on": day(v.last_refill_on),
    }


# -- the fold: what each event changes ----------------------------------------------------

Fold = Callable[[RefState, Any], None]


def _grant(s: RefState, e: Any, source: str) -> None:
    v = s.view
    v.lots.append(RefLot(e.lot_id, source, e.at.date(), e.expires_on, e.quantity))
    v.next_lot_id = max(v.next_lot_id, e.lot_id + 1)


def _take(s: RefState, takes: list[list[int]], drop_empty: bool) -> None:
    by_id = {lot.lot_id: lot for lot in s.view.lots}
    for lot_id, n in takes:
        by_id[lot_id].remaining -= n
    if drop_empty:
        s.view.lots = [lot for lot in s.view.lots if lot.remaining > 0]


def _cycle(s: RefState, e: Any, plan: str) -> None:
    v = s.view
    v.plan, v.cycle_start, v.billing_day = plan, e.cycle_start, e.billing_day
    v.next_billing_date, v.policy_version = e.next_billing_date, e.policy_version
    v.downgrade_pending = False


def _opened(s: RefState, e: Any) -> None:
    v = s.view
    v.account_id, v.kind, v.owner_id, v.plan = e.account_id, e.kind, e.owner_id, e.plan
    v.policy_version, v.billing_day = e.policy_version, e.billing_day
    v.cycle_start, v.next_billing_date = e.cycle_start, e.next_billing_date


def _refilled(s: RefState, e: Any) -> None:
    _grant(s, e, "refill")
    s.view.last_refill_on = e.at.date()


def _purchased(s: RefState, e: Any) -> None:
    _grant(s, e, "purchase")
    if e.source == "earnings":
        s.view.earnings_available -= e.amount
    _note_charge(s, e, "purchase", None, e.lot_id, e.quantity)


def _note_charge(s: RefState, e: Any, kind: str, billing_date: date | None,
                 lot_id: int | None, quantity: int = 0) -> None:
    """Remember a charge by its id (events stored before charge ids existed have none)."""
    charge_id = getattr(e, "charge_id", None)
    if charge_id is not None:
        s.charges[charge_id] = RefCharge(charge_id, kind, e.amount, e.source, e.method_id,
                                         billing_date, lot_id, quantity)


def _refunded(s: RefState, e: Any) -> None:
    _grant(s, e, "refund")
    s.proposals[e.proposal_id].status = "refunded"


def _method_added(s: RefState, e: Any) -> None:
    v = s.view
    seq = 1 + max((m.seq for m in v.methods.values()), default=0)
    v.methods[e.method_id] = RefMethod(e.method_id, e.method, seq, e.brand, e.last4, e.token,
                                       e.email)
    if e.primary:
        v.primary_method_id = e.method_id
    s.seen_method_ids.add(e.method_id)


def _set_suspended(flag: bool) -> Fold:
    def fold(s: RefState, e: Any) -> None:
        s.view.methods[e.method_id].suspended = flag
    return fold


def _charged(s: RefState, e: Any) -> None:
    if e.source == "earnings":
        s.view.earnings_available -= e.amount
    _note_charge(s, e, "membership", e.billing_date, None)
    if e.promo_code is None:
        return
    for benefit in s.promo_benefits:
        if benefit.code == e.promo_code and benefit.charges_left > 0:
            benefit.charges_left -= 1
            break
    s.promo_benefits = [b for b in s.promo_benefits if b.charges_left > 0]


def _redeemed(s: RefState, e: Any) -> None:
    s.promos_redeemed.add(e.code)
    s.promo_benefits.append(RefPromo(e.code, e.percent_off, e.charges))


def _status(status: str) -> Fold:
    def fold(s: RefState, e: Any) -> None:
        s.view.status = status
    return fold


def _closed(s: RefState, e: Any) -> None:
    s.view.status = "closed"
    s.view.next_billing_date = None
    s.view.downgrade_pending = False


def _pending(s: RefState, e: Any) -> None:
    s.view.earnings_pending += e.amount
    s.pending_refs[e.reference] = e.amount
    s.used_refs.add(e.reference)


def _released(s: RefState, e: Any) -> None:
    s.view.earnings_pending -= e.amount
    s.view.earnings_available += e.amount
    del s.pending_refs[e.reference]


def _credited(s: RefState, e: Any) -> None:
    s.view.earnings_available += e.amount
    if e.reference is not None:
        s.used_refs.add(e.reference)


def _withdrawn(s: RefState, e: Any) -> None:
    s.view.earnings_available -= e.amount


def _charge_refunded(s: RefState, e: Any) -> None:
    """R-9.2: the money goes back whole to where it came from."""
    if e.source == "earnings":
        s.view.earnings_available += e.amount
    charge = s.charges.get(e.charge_id)
    if charge is not None:
        charge.refunded = True


def _connects_revoked(s: RefState, e: Any) -> None:
    """R-9.2: a refunded purchase's lot leaves the account."""
    s.view.lots = [lot for lot in s.view.lots if lot.lot_id != e.lot_id]


def _contract_closed(s: RefState, e: Any) -> None:
    s.contracts[e.contract_id].open = False
    if e.billing_week_ends is not None and (
            s.hourly_week_ends is None or e.billing_week_ends > s.hourly_week_ends):
        s.hourly_week_ends = e.billing_week_ends


def _owned(s: RefState, e: Any) -> None:
    if e.kind == "agency":
        s.owned_agency = e.owned_id
    else:
        s.owned_companies.append(e.owned_id)


def _nothing(s: RefState, e: Any) -> None:
    """The event changes no state (it is a record of an attempt)."""


def _forget(mapping: dict[str, Any], key: str) -> None:
    mapping.pop(key, None)


def _set(attr: str, value: Any) -> Fold:
    def fold(s: RefState, e: Any) -> None:
        setattr(s.view, attr, value)
    return fold


FOLDS: dict[str, Fold] = {
    "AccountOpened": _opened,
    "ConnectsRefilled": _refilled,
    "ConnectsGranted": lambda s, e: _grant(s, e, e.source),
    "ConnectsPurchased": _purchased,
    "ConnectsSpent": lambda s, e: _take(s, e.lots, drop_empty=False),
    "ConnectsRefunded": _refunded,
    "ConnectsExpired": lambda s, e: _take(s, e.lots, drop_empty=True),
    "MethodAdded": _method_added,
    "PrimaryMethodChanged": lambda s, e: setattr(s.view, "primary_method_id", e.method_id),
    "MethodRemoved": lambda s, e: s.view.methods.__delitem__(e.method_id),
    "MethodSuspended": _set_suspended(True),
    "MethodReinstated": _set_suspended(False),
    "PlanUpgraded": lambda s, e: _cycle(s, e, "plus"),
    "MembershipCharged": _charged,
    "PaymentFailed": _nothing,
    "RefundFailed": _nothing,
    "ChargeRefunded": _charge_refunded,
    "ConnectsRevoked": _connects_revoked,
    "DowngradeScheduled": _set("downgrade_pending", True),
    "DowngradeCancelled": _set("downgrade_pending", False),
    "PlanDowngraded": lambda s, e: _cycle(s, e, "basic"),
    "CycleRenewed": lambda s, e: _cycle(s, e, e.plan),
    "PromoCodeRedeemed": _redeemed,
    "AccountSuspended": _status("suspended"),
    "AccountReinstated": _status("active"),
    "AccountClosed": _closed,
    "EarningsPending": _pending,
    "EarningsReleased": _released,
    "EarningsCredited": _credited,
    "EarningsWithdrawn": _withdrawn,
    "ProposalSubmitted": lambda s, e: s.proposals.__setitem__(
        e.proposal_id, RefProposal(e.job_id, e.connects)),
    "ProposalWithdrawn": lambda s, e: setattr(s.proposals[e.proposal_id], "status",
                                              "withdrawn"),
    "JobCancelled": lambda s, e: s.cancelled_jobs.add(e.job_id),
    "JobPosted": lambda s, e: s.posted_jobs.__setitem__(e.job_id, True),
    "JobClosed": lambda s, e: s.posted_jobs.__setitem__(e.job_id, False),
    "ContractOpened": lambda s, e: s.contracts.__setitem__(
        e.contract_id, RefContract(e.hourly, e.role)),
    "ContractClosed": _contract_closed,
    "InvoiceRecorded": lambda s, e: s.invoices.__setitem__(e.invoice_id, (e.amount, False)),
    "InvoicePaid": lambda s, e: s.invoices.__setitem__(e.invoice_id, (e.amount, True)),
    "TeamMemberAdded": lambda s, e: s.team.__setitem__(e.member_id, e.role),
    "TeamMemberRemoved": lambda s, e: _forget(s.team, e.member_id),
    "TeamJoined": lambda s, e: s.teams.__setitem__(e.team_id, e.role),
    "TeamLeft": lambda s, e: _forget(s.teams, e.team_id),
    "OwnedAccountOpened": _owned,
}


class UnknownEvent(Exception):
    """An event type the reference does not know how to fold."""


def fold(state: RefState, event: Any) -> None:
    """Apply one decoded account event to the reference state."""
    name = event_name(event)
    step = FOLDS.get(name)
    if step is None:
        raise UnknownEvent(f"the audit's reference has no fold for {name}")
    step(state, event)
    state.last_at = event.at


def account_view(view: RefView, version: int, as_of: datetime, known_at: datetime | None,
                 catalog: Any) -> dict[str, Any]:
    """The account view of `ledger show --json`, from the reference state."""
    nbd = view.next_billing_date
    found: dict[str, Any] = {
        "account_id": view.account_id, "kind": view.kind, "status": view.status,
        "plan": view.plan, "downgrade_pending": view.downgrade_pending,
        "policy_version": view.policy_version, "billing_day": view.billing_day,
        "cycle_start": view.cycle_start, "next_billing_date": nbd,
        "connects": view.connects,
        "connects_expiring_30d": expiring_soon(view, as_of, catalog),
        "earnings": {"pending": view.earnings_pending, "available": view.earnings_available},
        "billing_methods": [
            {"method_id": m.method_id, "method": m.method, "brand": m.brand,
             "last4": m.last4, "primary": m.method_id == view.primary_method_id,
             "suspended": m.suspended}
            for m in sorted(view.methods.values(), key=lambda m: m.seq)],
        "as_of": as_of, "known_at": known_at, "version": version,
        "billing_due": nbd if nbd is not None and nbd <= as_of.date()
        and view.status != "closed" else None,
    }
    return found
