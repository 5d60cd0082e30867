"""Who may act on an account (R-1.2).

An account acting on itself (the default actor) has the owner's authority. On an
agency, company or enterprise the owner may do anything; team roles are
hierarchical: an admin may do all a manager may, a manager all a member may.
On a person's account only that person acts.
"""

from __future__ import annotations

from ledger.commands import Command
from ledger.errors import LedgerError
from ledger.state import AccountState

MEMBER_MAY = frozenset({"submit_proposal", "withdraw_proposal"})
MANAGER_MAY = MEMBER_MAY | {"post_job", "close_job", "open_contract", "close_contract"}
ADMIN_MAY = MANAGER_MAY | {"purchase_connects", "add_team_member", "remove_team_member"}
ROLE_MAY = {"member": MEMBER_MAY, "manager": MANAGER_MAY, "admin": ADMIN_MAY}


def authorize(state: AccountState, command: Command) -> None:
    actor = command.acting
    view = state.view
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
