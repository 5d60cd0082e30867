"""Re-derivation of the record-keeping events: suspension (R-1.3), jobs, contracts and
invoices (R-6.1, R-7.3), teams and ownership (R-1.1, R-7.4), from the prior state."""

from __future__ import annotations

from collections.abc import Callable

from replay_tools.checks.context import Check

TEAM_KINDS = ("agency", "company", "enterprise")
PERSON_KINDS = ("freelancer", "member")


def suspended(c: Check) -> None:
    if c.view.status != "active":
        c.fail("R-1.3", f"a {c.view.status} account was suspended")


def reinstated(c: Check) -> None:
    if c.view.status != "suspended":
        c.fail("R-1.3", f"an account that is {c.view.status}, not suspended, was reinstated")


def job_posted(c: Check) -> None:
    if c.event.job_id in c.state.posted_jobs:
        c.fail("R-6.1", f"job {c.event.job_id} was posted before")


def job_closed(c: Check) -> None:
    if not c.state.posted_jobs.get(c.event.job_id):
        c.fail("R-7.3", f"no open job {c.event.job_id}")


def contract_opened(c: Check) -> None:
    if c.event.contract_id in c.state.contracts:
        c.fail("R-6.1", f"contract {c.event.contract_id} was opened before")


def invoice_recorded(c: Check) -> None:
    if c.event.invoice_id in c.state.invoices:
        c.fail("R-6.1", f"invoice {c.event.invoice_id} was recorded before")
    if c.event.amount <= 0:
        c.fail("R-6.1", "an amount that is not positive", None, c.event.amount)


def member_added(c: Check) -> None:
    e, view = c.event, c.view
    if view.kind not in TEAM_KINDS:
        c.fail("R-1.1", f"a {view.kind} account has no team")
    if e.member_id in c.state.team or e.member_id in (view.owner_id, view.account_id):
        c.fail("R-6.1", f"{e.member_id} was already on the team")


def member_removed(c: Check) -> None:
    if c.event.member_id not in c.state.team:
        c.fail("R-7.4", f"{c.event.member_id} was not on the team")


def team_joined(c: Check) -> None:
    if c.view.kind not in PERSON_KINDS:
        c.fail("R-1.1", f"a {c.view.kind} account joined a team")
    if c.event.team_id in c.state.teams:
        c.fail("R-6.1", f"already on the team of {c.event.team_id}")


def team_left(c: Check) -> None:
    if c.event.team_id not in c.state.teams:
        c.fail("R-7.4", f"not on the team of {c.event.team_id}")


def owned_opened(c: Check) -> None:
    e, state = c.event, c.state
    if c.view.kind not in PERSON_KINDS:
        c.fail("R-1.1", f"a {c.view.kind} account owns {e.owned_id}")
    if e.kind not in ("agency", "company"):
        c.fail("R-1.1", f"a person owns a {e.kind}, not an agency or a company")
    elif e.kind == "agency" and state.owned_agency is not None:
        c.fail("R-7.4", f"a second agency {e.owned_id} (already owns {state.owned_agency})")


RECORD_CHECKS: dict[str, Callable[[Check], None]] = {
    "AccountSuspended": suspended,
    "AccountReinstated": reinstated,
    "JobPosted": job_posted,
    "JobClosed": job_closed,
    "ContractOpened": contract_opened,
    "InvoiceRecorded": invoice_recorded,
    "TeamMemberAdded": member_added,
    "TeamMemberRemoved": member_removed,
    "TeamJoined": team_joined,
    "TeamLeft": team_left,
    "OwnedAccountOpened": owned_opened,
}
