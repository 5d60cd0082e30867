"""Buying, spending and refunding Connects (R-5)."""

from __future__ import annotations

from datetime import datetime

from ledger import connects
from ledger.account import Account
from ledger.commands import CancelJob, PurchaseConnects, SubmitProposal, WithdrawProposal
from ledger.errors import LedgerError, a_kind
from ledger.handlers.context import Context, charge_or_fail
from ledger.pricing import expiry_date
from ledger.state import CONNECTS_KINDS


def purchase_connects(ctx: Context, acct: Account, cmd: PurchaseConnects, at: datetime) -> None:
    view = acct.state.view
    version = ctx.version_on(at)
    if view.kind not in CONNECTS_KINDS:
        raise LedgerError("purchase_not_allowed", f"{a_kind(view.kind)} account holds no Connects",
                          rule="R-5.4")
    terms = version.terms(view.kind, view.plan or "basic")
    if not terms.may_buy_connects:
        raise LedgerError(
            "purchase_not_allowed",
            f"under {version.name} a {view.kind} on {view.plan} may not buy Connects; upgrade "
            "to Plus first", rule="R-5.4")
    bundles = version.bundles[view.kind]  # type: ignore[index]
    if not bundles.sells(cmd.quantity):
        raise LedgerError("invalid_bundle",
                          f"{cmd.quantity} is not a bundle on sale ({bundles.describe()})",
                          rule="R-5.4")
    held = view.connects
    if terms.max_held is not None and held + cmd.quantity > terms.max_held:
        raise LedgerError(
            "connects_limit_exceeded",
            f"{held} held + {cmd.quantity} would pass the most held at once "
            f"({terms.max_held})", rule="R-5.4")
    amount = version.connect_price * cmd.quantity
    funding = charge_or_fail(ctx, acct, at, "purchase", amount,
                             f"the charge of {amount} USD for {cmd.quantity} Connects was "
                             "declined")
    ctx.emit(acct, Account.ConnectsPurchased, at, lot_id=view.next_lot_id,
             quantity=cmd.quantity, expires_on=expiry_date(version, at.date()), amount=amount,
             unit_price=version.connect_price, policy_version=version.name,
             **funding.charge_fields())


def submit_proposal(ctx: Context, acct: Account, cmd: SubmitProposal, at: datetime) -> None:
    view = acct.state.view
    if cmd.proposal_id in acct.state.proposals:
        raise LedgerError("duplicate_id",
                          f"proposal {cmd.proposal_id} already exists on {cmd.account_id}",
                          rule="R-6.1")
    cost = ctx.version_on(at).proposal_cost
    if cmd.invited and cmd.connects != 0:
        raise LedgerError("invalid_connects_cost",
                          "a proposal answering an invitation or offer costs 0 Connects",
                          rule="R-5.5")
    if not cmd.invited and not cost.min <= cmd.connects <= cost.max:
        raise LedgerError("invalid_connects_cost",
                          f"a proposal costs {cost.min} to {cost.max} Connects "
                          "(0 only when invited)", rule="R-5.5")
    if cmd.connects > view.connects:
        raise LedgerError("insufficient_connects",
                          f"the proposal costs {cmd.connects} Connects; {view.connects} held",
                          rule="R-5.1")
    ctx.emit(acct, Account.ProposalSubmitted, at, proposal_id=cmd.proposal_id,
             job_id=cmd.job_id, connects=cmd.connects, invited=cmd.invited)
    if cmd.connects:
        takes = connects.take_oldest_first(view.lots, cmd.connects)
        ctx.emit(acct, Account.ConnectsSpent, at, proposal_id=cmd.proposal_id,
                 quantity=cmd.connects, lots=[list(t) for t in takes])


def withdraw_proposal(ctx: Context, acct: Account, cmd: WithdrawProposal, at: datetime) -> None:
    proposal = acct.state.proposals.get(cmd.proposal_id)
    if proposal is None:
        raise LedgerError("unknown_proposal",
                          f"{cmd.account_id} has no proposal {cmd.proposal_id}", rule="R-5.5")
    if proposal.status != "active" or proposal.job_id in acct.state.cancelled_jobs:
        raise LedgerError("proposal_not_active",
                          f"proposal {cmd.proposal_id} is {proposal.status}", rule="R-5.5")
    ctx.emit(acct, Account.ProposalWithdrawn, at, proposal_id=cmd.proposal_id)


def cancel_job(ctx: Context, acct: Account, cmd: CancelJob, at: datetime) -> None:
    state = acct.state
    if cmd.job_id in state.cancelled_jobs:
        raise LedgerError("job_already_cancelled", f"job {cmd.job_id} was already cancelled",
                          rule="R-5.5")
    proposals = [(pid, p) for pid, p in state.proposals.items() if p.job_id == cmd.job_id]
    if not proposals:
        raise LedgerError("unknown_job", f"{cmd.account_id} has no proposal to job {cmd.job_id}",
                          rule="R-5.5")
    ctx.emit(acct, Account.JobCancelled, at, job_id=cmd.job_id, reason=cmd.reason)
    version = ctx.version_on(at)
    for proposal_id, proposal in proposals:
        if proposal.status == "active" and proposal.connects > 0:
            ctx.emit(acct, Account.ConnectsRefunded, at, proposal_id=proposal_id,
                     job_id=cmd.job_id, lot_id=state.view.next_lot_id,
                     quantity=proposal.connects, expires_on=expiry_date(version, at.date()))
