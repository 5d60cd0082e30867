"""Re-derivation of the corrections (R-9), from the account's prior state, the charges
its events recorded (replay_tools/reference.py folds them by charge id) and the policy
version in force: goodwill grants (R-9.1), refunds and what follows them, declined
refunds (R-9.2). Each is a marketplace operation with a required reason (R-1.4, R-8.6:
checks/provenance.py)."""

from __future__ import annotations

from collections.abc import Callable

from replay_tools import reference
from replay_tools.checks.context import Check, expiry_date
from replay_tools.checks.provenance import check_operation
from replay_tools.reference import CONNECTS_KINDS, RefCharge
from replay_tools.stream import Expect, Refund


def goodwill(c: Check) -> None:
    """R-9.1: a new lot with source `goodwill`, within the most held at once, expiring
    when the command said or, without a date, as the policy says for the grant's day."""
    e, view, day = c.event, c.view, c.day
    if view.kind not in CONNECTS_KINDS:
        c.fail("R-9.1", f"Connects granted to a {view.kind} account, which holds none")
        return
    if e.quantity <= 0:
        c.fail("R-6.1", "a grant of a quantity that is not positive", None, e.quantity)
    c.same("days", 0, "R-9.1")
    version = c.version_on(day)
    if version is not None:
        terms = version.terms(view.kind, view.plan or "basic")
        if terms.max_held is not None and view.connects + e.quantity > terms.max_held:
            c.fail("R-9.1", f"{view.connects} held + {e.quantity} granted passes the most "
                   f"held at once under {version.name}", terms.max_held,
                   view.connects + e.quantity)
        c.same("policy_version", version.name, "R-0")
        if e.expires_on is None and expiry_date(version, day) is not None:
            c.fail("R-9.1", "a grant that never expires; without a date the policy's "
                   "expiry applies", expiry_date(version, day), None)
    if e.expires_on is not None and e.expires_on <= day:
        c.fail("R-9.1", f"a grant expiring on {e.expires_on}, not after its day {day}")
    check_operation(c, "R-9.1", "a goodwill grant")


def _charge(c: Check, what: str) -> RefCharge | None:
    """The charge the event names, or a finding: it must be one this account made and
    has not had refunded (R-9.2)."""
    charge = c.state.charges.get(c.event.charge_id)
    if charge is None:
        c.fail("R-9.2", f"{what} of {c.event.charge_id}, which is no charge of this account")
        return None
    if charge.refunded:
        c.fail("R-9.2", f"{what} of {charge.charge_id}, which was already refunded")
    return charge


def _refund_key(charge: RefCharge) -> str | None:
    """A card or PayPal charge is refunded at the gateway, keyed by its charge id (R-3.4);
    money from the earnings (or a free charge) moves without it."""
    if charge.source == "method" and charge.amount > 0:
        return reference.refund_request_key(charge.charge_id)
    return None


def refund(c: Check) -> None:
    """R-9.2: a charge of this account, refunded once, whole, to where it came from, while
    it is refundable; its lot revoked (a purchase) or the account on Basic at once (a
    membership) in the same command."""
    e, s = c.event, c.stream
    check_operation(c, "R-9.2", "a refund")
    before, s.refund = s.refund, None
    if before is not None and before.failed and before.command_id == e.command_id:
        c.fail("R-9.2", f"a refund recorded by the command whose refund of "
               f"{before.charge.charge_id} the gateway declined; a declined refund changes "
               "nothing else")
    charge = _charge(c, "a refund")
    if charge is None:
        return
    c.same("kind", charge.kind, "R-9.2")
    c.same("amount", charge.amount, "R-9.2")  # whole
    c.same("source", charge.source, "R-9.2")  # back to where it came from
    c.same("method_id", charge.method_id, "R-9.2")
    c.same("gateway_key", _refund_key(charge), "R-3.4")
    why = reference.not_refundable(c.view, charge)
    if why is not None:
        c.fail("R-9.2", f"{charge.charge_id} was refunded, but {why}")
    s.refund = Refund(e.command_id, charge)
    if charge.kind == "purchase":
        s.pending.append(Expect(("ConnectsRevoked",), "R-9.2",
                                f"the revocation of the lot bought with {charge.charge_id}"))
    else:
        s.pending.append(Expect(("PlanDowngraded",), "R-9.2",
                                f"the downgrade to Basic of the refunded {charge.charge_id}"))


def _follows_refund(c: Check, kind: str, what: str) -> RefCharge | None:
    """The refund of this command that `what` completes, or a finding."""
    before, c.stream.refund = c.stream.refund, None
    if before is None or before.command_id != c.event.command_id:
        c.fail("R-9.2", f"{what} without the refund of a {kind} in the same command")
        return None
    if before.failed:
        c.fail("R-9.2", f"{what} after the gateway declined the refund of "
               f"{before.charge.charge_id}; a declined refund changes nothing else")
        return None
    if before.charge.kind != kind:
        c.fail("R-9.2", f"{what} after the refund of a {before.charge.kind} charge",
               kind, before.charge.kind)
        return None
    return before.charge


def revoked(c: Check) -> None:
    """R-9.2: the refunded purchase's lot leaves the account, all of it."""
    charge = _follows_refund(c, "purchase", "Connects revoked")
    if charge is None:
        return
    c.same("charge_id", charge.charge_id, "R-9.2")
    c.same("lot_id", charge.lot_id, "R-9.2")
    c.same("quantity", charge.quantity, "R-9.2")


def refund_downgrade(c: Check) -> None:
    """R-9.2: a refunded membership puts the account on Basic at once, keeping its Connects
    and its billing dates (the cycle goes on, unpaid)."""
    charge = _follows_refund(c, "membership", "a downgrade for a refund")
    if charge is None:
        return
    view = c.view
    c.same("billing_date", c.day, "R-9.2")
    c.same("cycle_start", view.cycle_start, "R-9.2")
    c.same("billing_day", view.billing_day, "R-9.2")
    c.same("next_billing_date", view.next_billing_date, "R-9.2")
    c.same("policy_version", view.policy_version, "R-9.2")


def refund_failed(c: Check) -> None:
    """R-9.2: only a refundable card or PayPal charge goes to the gateway, keyed by its
    charge id; its decline is recorded and changes nothing else (the fold changes nothing;
    the command leaves no record and no other event: checks/commands.py)."""
    e, s = c.event, c.stream
    check_operation(c, "R-9.2", "a declined refund")
    s.refund = None
    charge = _charge(c, "a declined refund")
    if charge is None:
        return
    if _refund_key(charge) is None:
        c.fail("R-9.2", f"a declined refund of {charge.charge_id}, paid from {charge.source}: "
               "no gateway was asked")
    c.same("amount", charge.amount, "R-9.2")
    c.same("method_id", charge.method_id, "R-9.2")
    c.same("gateway_key", reference.refund_request_key(charge.charge_id), "R-3.4")
    why = reference.not_refundable(c.view, charge)
    if why is not None:
        c.fail("R-9.2", f"the gateway was asked to refund {charge.charge_id}, but {why}")
    s.refund = Refund(e.command_id, charge, failed=True)


CORRECTION_CHECKS: dict[str, Callable[[Check], None]] = {
    "ChargeRefunded": refund,
    "ConnectsRevoked": revoked,
    "RefundFailed": refund_failed,
}
