"""Re-derivation of the other recorded decisions: promo codes (R-4.8), billing methods
(R-2.3, R-2.4), earnings (R-6.1), proposals, contracts, invoices and closing (R-5.5, R-7)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from replay_tools import reference
from replay_tools.checks.context import Check

ZERO = Decimal("0")


def promo_redeemed(c: Check) -> None:
    e = c.event
    promo = c.catalog.promo(e.code)
    if promo is None:
        c.fail("R-4.8", f"there is no promo code {e.code} in the catalog")
        return
    if not promo.valid_from <= c.day <= promo.valid_to:
        c.fail("R-4.8", f"{e.code} is valid from {promo.valid_from} to {promo.valid_to}")
    if e.code in c.state.promos_redeemed:
        c.fail("R-4.8", f"{e.code} was already redeemed")
    if c.view.kind not in promo.kinds:
        c.fail("R-4.8", f"{e.code} does not apply to a {c.view.kind}")
    c.same("percent_off", promo.percent_off, "R-4.8")
    c.same("charges", promo.charges, "R-4.8")
    c.stream.redeemed = (e.code, e.command_id)


def method_added(c: Check) -> None:
    if c.event.method_id in c.state.seen_method_ids:
        c.fail("R-6.1", f"method id {c.event.method_id} was used before")
    c.same("primary", not c.view.methods, "R-2.3")


def method_removed(c: Check) -> None:
    if c.event.method_id == c.view.primary_method_id:
        c.fail("R-2.4", f"the primary method {c.event.method_id} was removed")
    known_method(c)


def primary_changed(c: Check) -> None:
    known_method(c)
    c.same("previous", c.view.primary_method_id, "R-2.3")


def known_method(c: Check) -> None:
    if c.event.method_id not in c.view.methods:
        c.fail("R-2.3", f"no billing method {c.event.method_id} on file")


def released(c: Check) -> None:
    amount = c.state.pending_refs.get(c.event.reference)
    if amount is None:
        c.fail("R-6.1", f"no pending earnings with reference {c.event.reference}")
    else:
        c.same("amount", amount, "R-6.1")


def new_money(c: Check) -> None:
    e = c.event
    if e.amount <= ZERO:
        c.fail("R-6.1", "an amount that is not positive", None, e.amount)
    reference = getattr(e, "reference", None)
    if c.name != "EarningsWithdrawn" and reference in c.state.used_refs:
        c.fail("R-6.1", f"earnings reference {reference} was used before")


def closed(c: Check) -> None:
    state, kind = c.state, c.view.kind
    if kind == "enterprise":
        c.fail("R-7.6", "an enterprise account was closed by a command")
        return
    if kind == "company":
        blockers = reference.company_blockers(state, c.event.at)
    elif kind == "agency":
        blockers = reference.agency_blockers(state)
        if c.view.connects:
            c.fail("R-7.5", f"the agency closed holding {c.view.connects} Connects")
    else:
        blockers = reference.person_blockers(state)
    if blockers:
        c.fail("R-7.1", f"closed with activity not cleared: {', '.join(blockers)}")


def proposal_withdrawn(c: Check) -> None:
    proposal = c.state.proposals.get(c.event.proposal_id)
    if proposal is None or proposal.status != "active" \
            or proposal.job_id in c.state.cancelled_jobs:
        c.fail("R-5.5", f"proposal {c.event.proposal_id} was not active when withdrawn")


def contract_closed(c: Check) -> None:
    contract = c.state.contracts.get(c.event.contract_id)
    if contract is None or not contract.open:
        c.fail("R-7.1", f"no open contract {c.event.contract_id}")
        return
    c.same("hourly", contract.hourly, "R-7.3")
    c.same("billing_week_ends", reference.week_end(c.event.at) if contract.hourly else None,
           "R-7.3")


def invoice_paid(c: Check) -> None:
    invoice = c.state.invoices.get(c.event.invoice_id)
    if invoice is None or invoice[1]:
        c.fail("R-7.3", f"no unpaid invoice {c.event.invoice_id}")
        return
    c.same("amount", invoice[0], "R-7.3")


ACCOUNT_CHECKS: dict[str, Callable[[Check], None]] = {
    "ProposalWithdrawn": proposal_withdrawn,
    "ContractClosed": contract_closed,
    "InvoicePaid": invoice_paid,
    "PromoCodeRedeemed": promo_redeemed,
    "MethodAdded": method_added,
    "MethodRemoved": method_removed,
    "PrimaryMethodChanged": primary_changed,
    "MethodSuspended": known_method,
    "MethodReinstated": known_method,
    "EarningsReleased": released,
    "EarningsPending": new_money,
    "EarningsCredited": new_money,
    "EarningsWithdrawn": new_money,
    "AccountClosed": closed,
}
