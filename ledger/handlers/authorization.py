"""Who may act on an account (R-1.2, R-1.4, R-1.5).

Marketplace operations (R-1.4) are not checked here: their actor is recorded only.
An account action on an agency or company must name the person acting (R-1.5); the
account itself never acts with its owner's authority by default (an enterprise, which
may have no owner, still may). The owner may do anything; team roles are hierarchical:
an admin may do all a manager may, a manager all a member may. On a person's account
only that person acts.
"""

from __future__ import annotations

from ledger.commands import MARKETPLACE_OPERATION, Command, command_kind
from ledger.errors import LedgerError, a_kind
from ledger.state import CONNECTS_KINDS, TEAM_KINDS, AccountState

MEMBER_MAY = frozenset({"submit_proposal", "withdraw_proposal"})
MANAGER_MAY = MEMBER_MAY | {"post_job", "close_job", "open_contract", "close_contract"}
ADMIN_MAY = MANAGER_MAY | {"purchase_connects", "add_team_member", "remove_team_member"}
ROLE_MAY = {"member": MEMBER_MAY, "manager": MANAGER_MAY, "admin": ADMIN_MAY}


# accounts that never act with their own (the owner's) authority by default.
NAMED_ACTOR_KINDS = frozenset({"agency", "company"})


def authorize(state: AccountState, command: Command) -> None:
    # a marketplace operation's actor is recorded, not checked.
    if command_kind(command.type) != MARKETPLACE_OPERATION:
        _check_actor(state, command)
    _check_kind(state, command)


def _check_kind(state: AccountState, command: Command) -> None:
    """Commands this kind of account has no part in: refused before the checks of time
    (R-8.5 puts not_authorized there)."""
    kind = state.view.kind
    if command.type in ("submit_proposal", "withdraw_proposal") and kind not in CONNECTS_KINDS:
        raise LedgerError("not_authorized", f"{a_kind(kind)} account does not submit proposals",
                          rule="R-1.1")
    if command.type in ("add_team_member", "remove_team_member") and kind not in TEAM_KINDS:
        raise LedgerError("not_authorized", f"{a_kind(kind)} account has no team", rule="R-1.2")
    if command.type == "close_account" and kind == "member" and not state.owned_companies:
        raise LedgerError("not_authorized",
                          "a team member without a freelancer profile or company closes the "
                          "account by leaving the last team", rule="R-7.4")


def _check_actor(state: AccountState, command: Command) -> None:
    actor = command.acting
    view = state.view
    if view.kind in NAMED_ACTOR_KINDS and actor == command.account_id:
        raise LedgerError(
            "not_authorized",
            f"an action on {view.kind} {command.account_id} must name the person acting "
            "(`actor`): the owner or a team member", rule="R-1.5")
    if actor == command.account_id or (view.owner_id is not None and actor == view.owner_id):
        return
    role = state.team.get(actor)
    if role is not None and command.type in ROLE_MAY[role]:
        return
    whose = "a person's account" if view.kind in ("freelancer", "member") else view.kind
    what = f"as {role}" if role else "without a role on it"
    raise LedgerError(
        "not_authorized",
        f"{actor} may not {command.type.replace('_', ' ')} on {whose} "
        f"{command.account_id} {what}",
        rule="R-1.2",
    )
