"""Re-derivation of the events commands record, from the account's prior state and the
policy version in force on the event's date (R-0): cycles, prices, proration, lots,
bundles, purchases, proposals and refunds (the rest: checks/accounts.py, records.py;
which check each event type gets: checks/registry.py)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from replay_tools import reference
from replay_tools.checks.context import Check, discounted, expiry_date
from replay_tools.checks.corrections import goodwill
from replay_tools.checks.funding import (
    check_attempts,
    check_charge_id,
    check_discount,
    check_paid,
)
from replay_tools.reference import CONNECTS_KINDS
from replay_tools.stream import Expect, Upgrade

ZERO = Decimal("0")


def opened(c: Check) -> None:
    e, d = c.event, c.day
    version = c.version_on(d)
    if version is None:
        return
    if e.kind not in CONNECTS_KINDS:
        for field in ("plan", "policy_version", "billing_day", "cycle_start",
                      "next_billing_date"):
            c.same(field, None, "R-4.1")
        return
    billing_day = reference.billing_day(d, version.last_billable_day)
    c.same("plan", "basic", "R-4.4")
    c.same("policy_version", version.name, "R-0")
    c.same("billing_day", billing_day, "R-4.3")
    c.same("cycle_start", d, "R-4.4")
    c.same("next_billing_date", reference.next_billing_date(d, billing_day), "R-4.3")
    # A refill is recorded on the opening day even when it grants 0.
    c.stream.pending.append(Expect(("ConnectsRefilled",), "R-4.4",
                                   "the first cycle's Connects"))


def refilled(c: Check) -> None:
    """Outside a billing date only the opening day's refill is recorded (R-4.4)."""
    if not c.stream.opening:
        c.fail("R-4.4", "a refill recorded outside a billing date and the opening day")
        return
    version = c.version_on(c.day)
    if version is None:
        return
    c.same("quantity", version.terms(c.view.kind, "basic").monthly_connects, "R-4.4")
    c.same("plan", "basic", "R-4.4")
    c.same("lot_id", c.view.next_lot_id, "R-5.1")
    c.same("policy_version", version.name, "R-0")
    c.same("expires_on", expiry_date(version, c.day), "R-5.2")


def upgraded(c: Check) -> None:
    view, d = c.view, c.day
    if view.status == "suspended":
        c.fail("R-1.3", "a suspended account was upgraded")
    if view.plan != "basic":
        c.fail("R-4.6", f"an upgrade recorded on plan {view.plan}", "basic", view.plan)
    if not view.methods:
        c.fail("R-3.2", "an upgrade without a billing method on file")
    version = c.version_on(d)
    if version is None or view.kind not in CONNECTS_KINDS:
        return
    billing_day = reference.billing_day(d, version.last_billable_day)
    c.same("cycle_start", d, "R-4.2")
    c.same("billing_day", billing_day, "R-4.3")
    c.same("next_billing_date", reference.next_billing_date(d, billing_day), "R-4.3")
    c.same("policy_version", version.name, "R-0")
    redeemed = c.stream.redeemed
    if redeemed is not None and redeemed[1] == c.event.command_id:
        c.same("promo_code", redeemed[0], "R-4.8")
    else:
        c.same("promo_code", discounted(Decimal(1), c.state)[1], "R-4.8")
    basic, plus = version.terms(view.kind, "basic"), version.terms(view.kind, "plus")
    days = (d - (view.last_refill_on or view.cycle_start or d)).days
    granted = reference.proration(days, basic.monthly_connects, plus.monthly_connects)
    c.stream.upgrade = Upgrade(d, version, days, granted)
    c.stream.pending.append(Expect(("MembershipCharged",), "R-4.2", "the upgrade's charge"))
    if granted:
        c.stream.pending.append(Expect(("ConnectsGranted",), "R-5.3",
                                       f"the upgrade's proration ({granted} Connects)"))


def charged(c: Check) -> None:
    e, upgrade = c.event, c.stream.upgrade
    if e.purpose != "upgrade" or upgrade is None:
        c.fail("R-4.2", f"a {e.purpose} charge recorded by a command, not with an upgrade")
        return
    c.same("list_price", upgrade.version.terms(c.view.kind, "plus").price, "R-4.2")
    c.same("billing_date", upgrade.day, "R-4.2")
    c.same("policy_version", upgrade.version.name, "R-0")
    check_discount(c)
    check_paid(c, e.amount)
    if e.command_id is not None:
        check_charge_id(c, reference.command_charge_key(e.command_id, "upgrade"))


def granted(c: Check) -> None:
    e, upgrade = c.event, c.stream.upgrade
    c.same("lot_id", c.view.next_lot_id, "R-5.1")
    if e.source == "goodwill":
        goodwill(c)
        return
    if e.source != "proration":
        c.fail("R-5.1", f"a grant with source {e.source}; commands grant proration "
               "(R-5.3) and goodwill (R-9.1)")
        return
    if upgrade is None:
        c.fail("R-5.3", "a proration grant without an upgrade")
        return
    c.same("days", upgrade.days, "R-5.3")
    c.same("quantity", upgrade.granted, "R-5.3")
    c.same("policy_version", upgrade.version.name, "R-0")
    c.same("expires_on", expiry_date(upgrade.version, upgrade.day), "R-5.2")
    c.stream.upgrade = None


def payment_failed(c: Check) -> None:
    e = c.event
    if e.purpose == "renewal":
        c.fail("R-4.5", "a renewal failure recorded by a command, not on a billing date")
        return
    c.same("billing_date", None, "R-3.3")
    check_attempts(c, e.attempts, approved=False)
    version = c.version_on(c.day)
    if version is None or c.view.kind not in CONNECTS_KINDS:
        return
    if e.purpose == "purchase":
        quantity = e.amount / version.connect_price if version.connect_price else ZERO
        bundles = version.bundles[c.view.kind]  # type: ignore[index]
        if quantity != int(quantity) or not reference.sells(bundles, int(quantity)):
            c.fail("R-5.4", f"a failed purchase of {e.amount} USD is no bundle on sale at "
                   f"{version.connect_price} a Connect")
        return
    price = version.terms(c.view.kind, "plus").price
    allowed = {discounted(price, c.state)[0]} | {
        reference.percent_off(price, p.percent_off) for p in c.catalog.promo_codes}
    if e.amount not in allowed:
        c.fail("R-4.2", "a failed upgrade charge is not the Plus price (after a promo code)",
               price, e.amount)


def purchased(c: Check) -> None:
    e, view = c.event, c.view
    if view.status == "suspended":
        c.fail("R-1.3", "a suspended account bought Connects")
    version = c.version_on(c.day)
    if version is None:
        return
    if view.kind not in CONNECTS_KINDS:
        c.fail("R-5.4", f"a {view.kind} account holds no Connects")
        return
    terms = version.terms(view.kind, view.plan or "basic")
    if not terms.may_buy_connects:
        c.fail("R-5.4", f"under {version.name} a {view.kind} on {view.plan} may not buy Connects")
    if not reference.sells(version.bundles[view.kind], e.quantity):  # type: ignore[index]
        c.fail("R-5.4", f"{e.quantity} Connects is no bundle on sale under {version.name}")
    if terms.max_held is not None and view.connects + e.quantity > terms.max_held:
        c.fail("R-5.4", f"{view.connects} held + {e.quantity} passes the most held at once",
               terms.max_held, view.connects + e.quantity)
    c.same("unit_price", version.connect_price, "R-5.4")
    c.same("amount", e.unit_price * e.quantity, "R-5.4")
    c.same("policy_version", version.name, "R-0")
    c.same("expires_on", expiry_date(version, c.day), "R-5.2")
    c.same("lot_id", view.next_lot_id, "R-5.1")
    check_paid(c, e.amount)
    if e.command_id is not None:
        check_charge_id(c, reference.command_charge_key(e.command_id, "purchase"))


def submitted(c: Check) -> None:
    e, view = c.event, c.view
    if view.status == "suspended":
        c.fail("R-1.3", "a suspended account submitted a proposal")
    if e.proposal_id in c.state.proposals:
        c.fail("R-6.1", f"proposal {e.proposal_id} already exists")
    version = c.version_on(c.day)
    if version is not None:
        cost = version.proposal_cost
        if e.invited and e.connects != 0:
            c.fail("R-5.5", "an invited proposal costs 0 Connects", 0, e.connects)
        elif not e.invited and not cost.min <= e.connects <= cost.max:
            c.fail("R-5.5", f"a proposal costs {cost.min} to {cost.max} Connects", None,
                   e.connects)
    if e.connects > view.connects:
        c.fail("R-5.1", f"the proposal costs {e.connects} Connects; {view.connects} held")
    if e.connects:
        c.stream.pending.append(Expect(("ConnectsSpent",), "R-5.1", "the proposal's Connects"))


def spent(c: Check) -> None:
    e = c.event
    proposal = c.state.proposals.get(e.proposal_id)
    if proposal is None:
        c.fail("R-5.1", f"Connects spent on an unknown proposal {e.proposal_id}")
    else:
        c.same("quantity", proposal.connects, "R-5.5")
    try:
        takes = reference.spend_oldest_first(c.view.lots, e.quantity)
    except ValueError as exc:
        c.fail("R-5.1", f"spends more Connects than held: {exc}")
        return
    c.same("lots", takes, "R-5.1")


def job_cancelled(c: Check) -> None:
    e, state = c.event, c.state
    if e.job_id in state.cancelled_jobs:
        c.fail("R-5.5", f"job {e.job_id} was already cancelled")
    to_job = [p for p in state.proposals.values() if p.job_id == e.job_id]
    if not to_job:
        c.fail("R-5.5", f"no proposal to job {e.job_id}")
    for p in to_job:
        if p.status == "active" and p.connects > 0:
            c.stream.pending.append(Expect(("ConnectsRefunded",), "R-5.5",
                                           f"the refund of {p.connects} Connects"))


def refunded(c: Check) -> None:
    e, state = c.event, c.state
    proposal = state.proposals.get(e.proposal_id)
    if proposal is None or proposal.job_id != e.job_id or e.job_id not in state.cancelled_jobs:
        c.fail("R-5.5", f"a refund for proposal {e.proposal_id} to a job not cancelled")
        return
    if proposal.status != "active":
        c.fail("R-5.5", f"a refund for a {proposal.status} proposal")
    c.same("quantity", proposal.connects, "R-5.5")
    c.same("lot_id", c.view.next_lot_id, "R-5.1")
    version = c.version_on(c.day)
    if version is not None:
        c.same("expires_on", expiry_date(version, c.day), "R-5.2")


def expired(c: Check) -> None:
    """By a command, only an agency's forfeit on closing (R-7.5)."""
    e, view = c.event, c.view
    if e.reason != "forfeited":
        c.fail("R-5.2", f"an expiry ({e.reason}) recorded by a command, not on its date")
        return
    if view.kind != "agency":
        c.fail("R-7.5", f"a {view.kind}'s Connects were forfeited")
    c.same("lots", [[lot.lot_id, lot.remaining] for lot in view.lots if lot.remaining],
           "R-7.5")
    c.same("quantity", sum(n for _, n in e.lots), "R-7.5")
    c.stream.pending.append(Expect(("AccountClosed",), "R-7.5", "the agency's closing"))


def downgrade_scheduled(c: Check) -> None:
    if c.view.plan != "plus" or c.view.downgrade_pending:
        c.fail("R-4.6", "a downgrade scheduled on Basic or while one is pending")
    c.same("effective_on", c.view.next_billing_date, "R-4.6")


def downgrade_cancelled(c: Check) -> None:
    if c.view.plan != "plus" or not c.view.downgrade_pending:
        c.fail("R-4.6", "a downgrade cancelled where none is pending")
    c.same("billing_date", c.view.next_billing_date, "R-4.6")


DERIVE_CHECKS: dict[str, Callable[[Check], None]] = {
    "AccountOpened": opened,
    "ConnectsRefilled": refilled,
    "PlanUpgraded": upgraded,
    "MembershipCharged": charged,
    "ConnectsGranted": granted,
    "PaymentFailed": payment_failed,
    "ConnectsPurchased": purchased,
    "ProposalSubmitted": submitted,
    "ConnectsSpent": spent,
    "JobCancelled": job_cancelled,
    "ConnectsRefunded": refunded,
    "ConnectsExpired": expired,
    "DowngradeScheduled": downgrade_scheduled,
    "DowngradeCancelled": downgrade_cancelled,
}

