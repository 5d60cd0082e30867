"""Team membership of agencies and companies (R-1.2, R-7.4)."""

from __future__ import annotations

from datetime import datetime

from ledger.account import Account
from ledger.commands import AddTeamMember, LeaveTeam, RemoveTeamMember
from ledger.errors import LedgerError
from ledger.handlers.closing import person_blockers
from ledger.handlers.context import Context


def _member_account(ctx: Context, member_id: str, at: datetime) -> Account | None:
    """The member's own stream, when the ledger has it (it learns of its teams)."""
    member = ctx.load(member_id)
    if member is None or member.state.view.status == "closed":
        return None
    return ctx.require_other(member_id, at, "member")


def add_team_member(ctx: Context, acct: Account, cmd: AddTeamMember, at: datetime) -> None:
    view = acct.state.view
    if cmd.member_id in acct.state.team or cmd.member_id in (view.owner_id, view.account_id):
        raise LedgerError("duplicate_id",
                          f"{cmd.member_id} is already on the team of {cmd.account_id}",
                          rule="R-6.1")
    member = _member_account(ctx, cmd.member_id, at)  # may refuse: before any event
    ctx.emit(acct, Account.TeamMemberAdded, at, member_id=cmd.member_id, role=cmd.role)
    if member is not None:
        ctx.emit(member, Account.TeamJoined, at, team_id=cmd.account_id, role=cmd.role)


def remove_team_member(ctx: Context, acct: Account, cmd: RemoveTeamMember,
                       at: datetime) -> None:
    if cmd.member_id not in acct.state.team:
        raise LedgerError("not_a_team_member",
                          f"{cmd.member_id} is not on the team of {cmd.account_id}",
                          rule="R-7.4")
    member = _member_account(ctx, cmd.member_id, at)
    ctx.emit(acct, Account.TeamMemberRemoved, at, member_id=cmd.member_id, reason="removed")
    if member is not None and cmd.account_id in member.state.teams:
        ctx.emit(member, Account.TeamLeft, at, team_id=cmd.account_id, reason="removed")


def leave_team(ctx: Context, acct: Account, cmd: LeaveTeam, at: datetime) -> None:
    state = acct.state
    if cmd.team_id not in state.teams:
        raise LedgerError("not_a_team_member",
                          f"{cmd.account_id} is not on the team of {cmd.team_id}", rule="R-7.4")
    closes = _leaving_closes(acct, cmd.team_id)
    if closes:
        blockers = person_blockers(ctx, state)
        if blockers:
            # the account would close with activity still open: clear it first.
            raise LedgerError("closure_blocked",
                              f"leaving the last team closes {cmd.account_id}; clear these "
                              f"first: {', '.join(blockers)}", rule="R-7.1", blockers=blockers)
    team = ctx.load(cmd.team_id)
    if team is not None and team.state.view.status != "closed":
        team = ctx.require_other(cmd.team_id, at, "team")
    ctx.emit(acct, Account.TeamLeft, at, team_id=cmd.team_id, reason="left")
    if team is not None and cmd.account_id in team.state.team and (
            team.state.view.status != "closed"):
        ctx.emit(team, Account.TeamMemberRemoved, at, member_id=cmd.account_id, reason="left")
    # an admin or manager with no other standing leaves by leaving the last team.
    if closes:
        ctx.emit(acct, Account.AccountClosed, at, reason="left_last_team")


def _leaving_closes(acct: Account, team_id: str) -> bool:
    state = acct.state
    return (state.view.kind == "member" and set(state.teams) == {team_id}
            and not state.owned_companies)
