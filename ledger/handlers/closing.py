"""Closing accounts (R-7): every blocker at once, and the person and company together."""

from __future__ import annotations

from datetime import datetime

from ledger.account import Account
from ledger.commands import CloseAccount
from ledger.errors import LedgerError
from ledger.handlers.context import Context
from ledger.state import ZERO, AccountState


def _activity(state: AccountState) -> list[str]:
    blockers = []
    if any(open_ for _, _, open_ in state.contracts.values()):
        blockers.append("open_contracts")
    if any(p.status == "active" and p.job_id not in state.cancelled_jobs
           for p in state.proposals.values()):
        blockers.append("active_proposals")
    return blockers


def _money(state: AccountState) -> list[str]:
    blockers = []
    if state.view.earnings_pending > ZERO:
        blockers.append("pending_earnings")
    if state.view.earnings_available > ZERO:
        blockers.append("available_earnings")
    return blockers


def person_blockers(ctx: Context, state: AccountState) -> list[str]:
    blockers = _activity(state) + _money(state)
    if state.owned_agency is not None:
        agency = ctx.load(state.owned_agency)
        if agency is not None and agency.state.view.status != "closed":
            blockers.append("open_agency")
    return blockers


def company_blockers(state: AccountState, at: datetime) -> list[str]:
    blockers = []
    if state.team:
        blockers.append("team_members")
    blockers += [b for b in _activity(state) if b == "open_contracts"]
    if any(open_ for open_ in state.posted_jobs.values()):
        blockers.append("open_jobs")
    if any(not paid for _, paid in state.invoices.values()):
        blockers.append("unpaid_invoices")
    if state.hourly_week_ends is not None and at < state.hourly_week_ends:
        blockers.append("hourly_billing_week")
    return blockers


def agency_blockers(state: AccountState) -> list[str]:
    return (["team_members"] if state.team else []) + _activity(state) + _money(state)


ORDER = ("open_contracts", "active_proposals", "open_jobs", "pending_earnings",
         "available_earnings", "open_agency", "team_members", "unpaid_invoices",
         "hourly_billing_week")


def close_account(ctx: Context, acct: Account, cmd: CloseAccount, at: datetime) -> None:
    view = acct.state.view
    if view.kind == "enterprise":
        raise LedgerError("contact_account_team",
                          "an enterprise account is closed by its account team; contact them",
                          rule="R-7.6")
    group = _closing_group(ctx, acct, at)
    blockers: set[str] = set()
    for member in group:
        state = member.state
        kind = state.view.kind
        if kind == "company":
            blockers.update(company_blockers(state, at))
        elif kind == "agency":
            blockers.update(agency_blockers(state))
        else:
            blockers.update(person_blockers(ctx, state))
    if blockers:
        ordered = [b for b in ORDER if b in blockers]
        raise LedgerError("closure_blocked",
                          f"clear these first: {', '.join(ordered)}", rule="R-7.1",
                          blockers=ordered)
    for member in group:
        reason = "requested" if member is acct else "closed_with_" + view.kind
        if member.state.view.kind == "agency" and member.state.view.connects:
            lots = [[lot.lot_id, lot.remaining] for lot in member.state.view.lots
                    if lot.remaining]
            # an agency's Connects are forfeited when it closes.
            ctx.emit(member, Account.ConnectsExpired, at, reason="forfeited",
                     quantity=sum(n for _, n in lots), lots=lots, policy_version=None)
        ctx.emit(member, Account.AccountClosed, at, reason=reason)


def _closing_group(ctx: Context, acct: Account, at: datetime) -> list[Account]:
    """R-7.2: a person and the companies it owns close together."""
    view = acct.state.view
    if view.kind == "company" and view.owner_id is not None:
        owner = ctx.load(view.owner_id)
        if owner is None or owner.state.view.status == "closed":
            return [acct]
        owner = ctx.require_other(view.owner_id, at, "owner")
        others = [c for c in owner.state.owned_companies if c != view.account_id]
        return [acct, owner, *_open_accounts(ctx, others, at)]
    if view.kind in ("freelancer", "member"):
        return [acct, *_open_accounts(ctx, acct.state.owned_companies, at)]
    return [acct]


def _open_accounts(ctx: Context, ids: list[str], at: datetime) -> list[Account]:
    found = []
    for account_id in ids:
        other = ctx.load(account_id)
        if other is not None and other.state.view.status != "closed":
            found.append(ctx.require_other(account_id, at, "company"))
    return found
