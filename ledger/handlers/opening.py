"""Opening accounts (R-1.1, R-4.4, R-7.4)."""

from __future__ import annotations

from datetime import datetime

from ledger import cycles
from ledger.account import Account, account_uuid
from ledger.commands import OpenAccount
from ledger.errors import LedgerError, a_kind
from ledger.handlers.context import Context
from ledger.pricing import expiry_date
from ledger.state import CONNECTS_KINDS, PERSON_KINDS


def check_opening(ctx: Context, cmd: OpenAccount) -> None:
    """Who may open it and whether its owner can own it: R-8.5 puts these (unknown or
    closed owner, not_authorized) before the checks of time."""
    owner = ctx.load(cmd.owner_id) if cmd.kind in ("agency", "company") and cmd.owner_id else None
    if cmd.kind in ("agency", "company") and owner is None:
        raise LedgerError("unknown_account", f"owner {cmd.owner_id} does not exist; open it first",
                          rule="R-1.1")
    if owner is not None and owner.state.view.status == "closed":
        raise LedgerError("account_closed", f"owner {cmd.owner_id} is closed", rule="R-1.3")
    # an agency or company is opened by its owner, never by itself; any other
    # account is opened by itself (or, for an enterprise with an owner, by the owner).
    allowed = ((cmd.owner_id,) if cmd.kind in ("agency", "company")
               else (cmd.account_id, cmd.owner_id) if cmd.owner_id else (cmd.account_id,))
    if cmd.actor is not None and cmd.actor not in allowed:
        whose = f" for {cmd.owner_id}" if cmd.owner_id else ""
        raise LedgerError("not_authorized", f"{cmd.actor} may not open {cmd.account_id}{whose}",
                          rule="R-1.5" if cmd.actor == cmd.account_id else "R-1.2")
    if owner is None:
        return
    kinds = ("freelancer",) if cmd.kind == "agency" else PERSON_KINDS
    if owner.state.view.kind not in kinds:
        raise LedgerError(
            "not_authorized",
            f"{a_kind(cmd.kind)} is owned by {' or '.join(a_kind(k) for k in kinds)}; "
            f"{cmd.owner_id} is {a_kind(owner.state.view.kind)}",
            rule="R-1.1",
        )


def open_account(ctx: Context, cmd: OpenAccount, at: datetime) -> Account:
    """After check_opening and the checks of time: the new stream's events first, then
    the owner learns of it on its own stream."""
    version = ctx.version_on(at)
    _check_one_agency(ctx, cmd)
    day = at.date()
    plan_fields: dict[str, object] = dict(
        plan=None, policy_version=None, billing_day=None, cycle_start=None,
        next_billing_date=None)
    if cmd.kind in CONNECTS_KINDS:
        billing_day = cycles.billing_day_for(day, version.last_billable_day)
        plan_fields = dict(plan="basic", policy_version=version.name, billing_day=billing_day,
                           cycle_start=day,
                           next_billing_date=cycles.next_billing_date(day, billing_day))
    acct: Account = Account._create(
        Account.AccountOpened,
        id=account_uuid(cmd.account_id),
        timestamp=ctx.recorded_at,
        at=at,
        command_id=ctx.command_id,
        prev_hash="",
        **ctx.provenance(),
        account_id=cmd.account_id,
        kind=cmd.kind,
        owner_id=cmd.owner_id,
        **plan_fields,
    )
    ctx.touch(acct, mark=0)
    if cmd.kind in CONNECTS_KINDS:
        # the first cycle's Connects, on the opening day (recorded even when the
        # policy grants none, so that every cycle has its refill).
        ctx.emit(acct, Account.ConnectsRefilled, at, lot_id=1,
                 quantity=version.terms(cmd.kind, "basic").monthly_connects,
                 expires_on=expiry_date(version, day), plan="basic",
                 policy_version=version.name)
    if cmd.kind in ("agency", "company") and cmd.owner_id is not None:
        owner = ctx.require_other(cmd.owner_id, at, "owner")
        ctx.emit(owner, Account.OwnedAccountOpened, at, owned_id=cmd.account_id, kind=cmd.kind)
    return acct


def _check_one_agency(ctx: Context, cmd: OpenAccount) -> None:
    if cmd.kind != "agency" or cmd.owner_id is None:
        return
    owner = ctx.load(cmd.owner_id)
    if owner is None or owner.state.owned_agency is None:
        return
    agency = ctx.load(owner.state.owned_agency)
    if agency is not None and agency.state.view.status != "closed":
        raise LedgerError(
            "agency_exists",
            f"{cmd.owner_id} already owns agency {owner.state.owned_agency}; a person owns at "
            "most one agency",
            rule="R-7.4",
        )
