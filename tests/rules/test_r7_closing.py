"""R-7: closing accounts (seed 003): blockers, person + company, agencies, members, enterprise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledger import Ledger
from tests.helpers import accept, add_card, open_account, refuse, submit

# --------------------------------------------------------------------------- helpers


def blocked(ledger: Ledger, account_id: str, at: str, actor: str | None = None) -> list[str]:
    """Try to close; expect closure_blocked; return the blockers (checked to be distinct)."""
    fields = {} if actor is None else {"actor": actor}
    r = refuse(ledger, "closure_blocked", "close_account", account_id, at, **fields)
    blockers = list(r.error.blockers)
    assert len(blockers) == len(set(blockers)), blockers
    assert r.error.message
    return sorted(blockers)


def close(ledger: Ledger, account_id: str, at: str, actor: str | None = None) -> Any:
    fields = {} if actor is None else {"actor": actor}
    r = accept(ledger, "close_account", account_id, at, **fields)
    assert "AccountClosed" in r.events
    return r


def status(ledger: Ledger, account_id: str) -> str:
    return ledger.account(account_id).status


# --------------------------------------------------------------------------- person


PERSON_BLOCKERS: dict[str, Callable[[Ledger], None]] = {
    "open_contracts": lambda led: accept(led, "open_contract", "fl-1", "2016-03-06",
                                         contract_id="c-1", hourly=False, role="freelancer"),
    "active_proposals": lambda led: accept(led, "submit_proposal", "fl-1", "2016-03-06",
                                           proposal_id="p-1", job_id="j-1", connects=2),
    "pending_earnings": lambda led: accept(led, "record_pending_earnings", "fl-1", "2016-03-06",
                                           reference="e-1", amount="100.00"),
    "available_earnings": lambda led: accept(led, "credit_earnings", "fl-1", "2016-03-06",
                                             amount="12.50"),
    "open_agency": lambda led: open_account(led, "ag-1", "agency", "2016-03-06",
                                            owner_id="fl-1"),
}


@pytest.mark.parametrize("blocker", sorted(PERSON_BLOCKERS))
def test_r7_1_each_open_activity_of_a_freelancer_blocks_closing_by_its_name(
        ledger: Ledger, blocker: str) -> None:
    # Given a freelancer with one kind of open activity
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    PERSON_BLOCKERS[blocker](ledger)
    # When it closes, Then closure_blocked names exactly that blocker, and it stays active
    assert blocked(ledger, "fl-1", "2016-03-07") == [blocker]
    assert status(ledger, "fl-1") == "active"


def test_r7_1_a_freelancer_closure_lists_every_blocker_at_once_then_succeeds_when_cleared(
        ledger: Ledger) -> None:
    # Given a freelancer with all five kinds of open activity
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    for setup in PERSON_BLOCKERS.values():
        setup(ledger)
    # When it closes, Then every blocker is listed, not only the first
    assert blocked(ledger, "fl-1", "2016-03-07") == sorted(PERSON_BLOCKERS)
    # When each is cleared
    accept(ledger, "close_contract", "fl-1", "2016-03-08", contract_id="c-1")
    accept(ledger, "withdraw_proposal", "fl-1", "2016-03-08", proposal_id="p-1")
    assert blocked(ledger, "fl-1", "2016-03-08") == [
        "available_earnings", "open_agency", "pending_earnings"]
    accept(ledger, "release_earnings", "fl-1", "2016-03-09", reference="e-1")
    assert blocked(ledger, "fl-1", "2016-03-09") == ["available_earnings", "open_agency"]
    accept(ledger, "withdraw_earnings", "fl-1", "2016-03-09", amount="112.50")
    close(ledger, "ag-1", "2016-03-10", actor="fl-1")
    # Then it closes
    close(ledger, "fl-1", "2016-03-10")
    assert status(ledger, "fl-1") == "closed"


def test_r7_1_a_connects_balance_does_not_block_closing(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    assert ledger.account("fl-1", as_of="2016-03-05").connects == 60
    close(ledger, "fl-1", "2016-03-06")
    assert status(ledger, "fl-1") == "closed"


def test_r7_2_a_proposal_to_a_cancelled_job_does_not_block(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "submit_proposal", "fl-1", "2016-03-06", proposal_id="p-1", job_id="j-1",
           connects=2)
    accept(ledger, "cancel_job", "fl-1", "2016-03-07", job_id="j-1",
           reason="cancelled_without_hire")
    close(ledger, "fl-1", "2016-03-08")


def test_r7_2_a_freelancers_closed_hourly_contract_does_not_block(ledger: Ledger) -> None:
    # Given a freelancer (no company) whose hourly contract closed on Wednesday 2016-03-09
    open_account(ledger, "fl-1", "freelancer", "2016-03-07")
    accept(ledger, "open_contract", "fl-1", "2016-03-07", contract_id="c-1", hourly=True,
           role="freelancer")
    accept(ledger, "close_contract", "fl-1", "2016-03-09", contract_id="c-1")
    # When it closes the same week, Then the weekly cycle is not a person's blocker
    close(ledger, "fl-1", "2016-03-10")


# --------------------------------------------------------------------------- two profiles


def test_r7_2_closing_a_freelancer_closes_the_company_it_owns(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "co-1", "company", "2016-03-05", owner_id="fl-1")
    close(ledger, "fl-1", "2016-03-06")
    assert status(ledger, "fl-1") == "closed"
    assert status(ledger, "co-1") == "closed"
    refuse(ledger, "account_closed", "post_job", "co-1", "2016-03-07", job_id="j-1")


def test_r7_2_closing_the_company_closes_its_owner_too(ledger: Ledger) -> None:
    open_account(ledger, "mb-1", "member", "2016-03-05")
    open_account(ledger, "co-1", "company", "2016-03-05", owner_id="mb-1")
    close(ledger, "co-1", "2016-03-06", actor="mb-1")
    assert status(ledger, "co-1") == "closed"
    assert status(ledger, "mb-1") == "closed"


def test_r7_2_the_companys_blockers_apply_to_closing_the_person(ledger: Ledger) -> None:
    # Given fl-1 owning co-1 with an open job
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "co-1", "company", "2016-03-05", owner_id="fl-1")
    accept(ledger, "post_job", "co-1", "2016-03-06", job_id="j-1", actor="fl-1")
    # When fl-1 closes, Then the company's open job blocks it, and both stay open
    assert blocked(ledger, "fl-1", "2016-03-07") == ["open_jobs"]
    assert status(ledger, "co-1") == "active"
    # When the job is closed, Then closing fl-1 closes both
    accept(ledger, "close_job", "co-1", "2016-03-08", job_id="j-1", actor="fl-1")
    close(ledger, "fl-1", "2016-03-08")
    assert status(ledger, "co-1") == "closed"


def test_r7_2_the_persons_blockers_apply_to_closing_the_company(ledger: Ledger) -> None:
    # Given fl-1 with an active proposal and pending earnings, owning co-1 with an open job
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "co-1", "company", "2016-03-05", owner_id="fl-1")
    accept(ledger, "submit_proposal", "fl-1", "2016-03-06", proposal_id="p-1", job_id="j-9",
           connects=3)
    accept(ledger, "record_pending_earnings", "fl-1", "2016-03-06", reference="e-1",
           amount="10.00")
    accept(ledger, "post_job", "co-1", "2016-03-06", job_id="j-1", actor="fl-1")
    # When the company closes, Then every blocker of both profiles is listed
    assert blocked(ledger, "co-1", "2016-03-07", actor="fl-1") == [
        "active_proposals", "open_jobs", "pending_earnings"]
    assert status(ledger, "fl-1") == "active"


# --------------------------------------------------------------------------- company


def company(ledger: Ledger, at: str = "2016-03-07") -> None:
    """Given member mb-1 owning company co-1 (with a card), and member mb-2."""
    open_account(ledger, "mb-1", "member", at)
    open_account(ledger, "co-1", "company", at, owner_id="mb-1")
    open_account(ledger, "mb-2", "member", at)
    add_card(ledger, "co-1", at, actor="mb-1")


COMPANY_BLOCKERS: dict[str, Callable[[Ledger], None]] = {
    "team_members": lambda led: accept(led, "add_team_member", "co-1", "2016-03-08",
                                       member_id="mb-2", role="admin", actor="mb-1"),
    "open_contracts": lambda led: accept(led, "open_contract", "co-1", "2016-03-08",
                                         contract_id="c-1", hourly=False, role="client",
                                         actor="mb-1"),
    "open_jobs": lambda led: accept(led, "post_job", "co-1", "2016-03-08", job_id="j-1",
                                    actor="mb-1"),
    "unpaid_invoices": lambda led: accept(led, "record_invoice", "co-1", "2016-03-08",
                                          invoice_id="i-1", amount="50.00"),
    "hourly_billing_week": lambda led: (
        accept(led, "open_contract", "co-1", "2016-03-08", contract_id="c-2", hourly=True,
               role="client", actor="mb-1"),
        accept(led, "close_contract", "co-1", "2016-03-09", contract_id="c-2", actor="mb-1")),
}


@pytest.mark.parametrize("blocker", sorted(COMPANY_BLOCKERS))
def test_r7_3_each_open_activity_of_a_company_blocks_closing_by_its_name(
        ledger: Ledger, blocker: str) -> None:
    company(ledger)
    COMPANY_BLOCKERS[blocker](ledger)
    assert blocked(ledger, "co-1", "2016-03-10", actor="mb-1") == [blocker]
    assert status(ledger, "co-1") == "active"


def test_r7_1_a_company_closure_lists_every_blocker_at_once_then_succeeds_when_cleared(
        ledger: Ledger) -> None:
    # Given a company with all five kinds of blocker (week of Monday 2016-03-07)
    company(ledger)
    for setup in COMPANY_BLOCKERS.values():
        setup(ledger)
    # When the owner closes it on Thursday, Then all five are listed
    assert blocked(ledger, "co-1", "2016-03-10", actor="mb-1") == sorted(COMPANY_BLOCKERS)
    # When all but the weekly cycle are cleared
    accept(ledger, "remove_team_member", "co-1", "2016-03-10", member_id="mb-2", actor="mb-1")
    accept(ledger, "close_contract", "co-1", "2016-03-10", contract_id="c-1", actor="mb-1")
    accept(ledger, "close_job", "co-1", "2016-03-10", job_id="j-1", actor="mb-1")
    accept(ledger, "pay_invoice", "co-1", "2016-03-10", invoice_id="i-1", actor="mb-1")
    # Then only the week blocks, until it ends
    assert blocked(ledger, "co-1", "2016-03-11", actor="mb-1") == ["hourly_billing_week"]
    close(ledger, "co-1", "2016-03-14", actor="mb-1")


@pytest.mark.parametrize(("closed_at", "still_blocked_at", "free_at"), [
    # Wednesday: the week ends Sunday 24:00 (Monday 2016-03-14 00:00)
    ("2016-03-09T12:00:00Z", "2016-03-13T23:59:59Z", "2016-03-14T00:00:00Z"),
    # Sunday late: the week still ends an hour later, not seven days later
    ("2016-03-13T23:00:00Z", "2016-03-13T23:30:00Z", "2016-03-14T00:00:00Z"),
    # Monday 00:00: a whole new week
    ("2016-03-14T00:00:00Z", "2016-03-20T23:59:59Z", "2016-03-21T00:00:00Z"),
])
def test_r7_3_a_closed_hourly_contract_blocks_until_its_weekly_cycle_ends(
        ledger: Ledger, closed_at: str, still_blocked_at: str, free_at: str) -> None:
    # Given a company whose hourly contract closed at `closed_at`
    company(ledger)
    accept(ledger, "open_contract", "co-1", "2016-03-08", contract_id="c-1", hourly=True,
           role="client", actor="mb-1")
    accept(ledger, "close_contract", "co-1", closed_at, contract_id="c-1", actor="mb-1")
    # When it closes before the week ends, Then hourly_billing_week
    assert blocked(ledger, "co-1", still_blocked_at, actor="mb-1") == ["hourly_billing_week"]
    # When it closes at Monday 00:00 UTC after, Then it closes
    close(ledger, "co-1", free_at, actor="mb-1")


def test_r7_3_a_closed_fixed_price_contract_does_not_wait_for_the_week(ledger: Ledger) -> None:
    company(ledger)
    accept(ledger, "open_contract", "co-1", "2016-03-08", contract_id="c-1", hourly=False,
           role="client", actor="mb-1")
    accept(ledger, "close_contract", "co-1", "2016-03-09", contract_id="c-1", actor="mb-1")
    close(ledger, "co-1", "2016-03-09T01:00:00Z", actor="mb-1")


def test_r7_3_only_the_owner_closes_a_company(ledger: Ledger) -> None:
    # Given co-1 owned by mb-1 with mb-2 as admin
    company(ledger)
    accept(ledger, "add_team_member", "co-1", "2016-03-08", member_id="mb-2", role="admin",
           actor="mb-1")
    # When the admin closes it, Then not_authorized (before any blocker is looked at)
    r = refuse(ledger, "not_authorized", "close_account", "co-1", "2016-03-09", actor="mb-2")
    assert r.error.blockers in (None, [])
    # When a stranger closes it, Then not_authorized
    open_account(ledger, "fl-9", "freelancer", "2016-03-09")
    refuse(ledger, "not_authorized", "close_account", "co-1", "2016-03-09", actor="fl-9")
    # When the owner removes the admin and closes it, Then it is closed
    accept(ledger, "remove_team_member", "co-1", "2016-03-10", member_id="mb-2", actor="mb-1")
    close(ledger, "co-1", "2016-03-10", actor="mb-1")
    assert status(ledger, "co-1") == "closed"


# --------------------------------------------------------------------------- members


def test_r7_4_a_member_has_no_close_command(ledger: Ledger) -> None:
    open_account(ledger, "mb-1", "member", "2016-03-05")
    r = refuse(ledger, "not_authorized", "close_account", "mb-1", "2016-03-06")
    assert r.error.message
    assert status(ledger, "mb-1") == "active"


def test_r7_4_leaving_the_last_team_closes_a_members_account(ledger: Ledger) -> None:
    # Given mb-1, admin of company co-1 and manager of agency ag-1
    open_account(ledger, "mb-1", "member", "2016-03-05")
    open_account(ledger, "mb-9", "member", "2016-03-05")
    open_account(ledger, "co-1", "company", "2016-03-05", owner_id="mb-9")
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")
    accept(ledger, "add_team_member", "co-1", "2016-03-06", member_id="mb-1", role="admin",
           actor="mb-9")
    accept(ledger, "add_team_member", "ag-1", "2016-03-06", member_id="mb-1", role="manager",
           actor="fl-1")
    # When it leaves the first team, Then it stays open
    r = accept(ledger, "leave_team", "mb-1", "2016-03-07", team_id="co-1")
    assert "TeamLeft" in r.events and "AccountClosed" not in r.events
    assert status(ledger, "mb-1") == "active"
    # When it leaves the last team, Then the account closes
    r = accept(ledger, "leave_team", "mb-1", "2016-03-08", team_id="ag-1")
    assert "TeamLeft" in r.events and "AccountClosed" in r.events
    assert status(ledger, "mb-1") == "closed"
    refuse(ledger, "account_closed", "leave_team", "mb-1", "2016-03-09", team_id="ag-1")
    # and the teams no longer count it: both owners may close without team_members
    close(ledger, "co-1", "2016-03-09", actor="mb-9")
    close(ledger, "ag-1", "2016-03-09", actor="fl-1")


def test_r7_4_leaving_a_team_one_is_not_on_is_refused(ledger: Ledger) -> None:
    open_account(ledger, "mb-1", "member", "2016-03-05")
    open_account(ledger, "mb-9", "member", "2016-03-05")
    open_account(ledger, "co-1", "company", "2016-03-05", owner_id="mb-9")
    refuse(ledger, "not_a_team_member", "leave_team", "mb-1", "2016-03-06", team_id="co-1")
    assert status(ledger, "mb-1") == "active"


def test_r7_4_a_freelancer_leaving_its_last_agency_stays_open(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")
    accept(ledger, "add_team_member", "ag-1", "2016-03-06", member_id="fl-2", role="member",
           actor="fl-1")
    r = accept(ledger, "leave_team", "fl-2", "2016-03-07", team_id="ag-1")
    assert "AccountClosed" not in r.events
    assert status(ledger, "fl-2") == "active"


def test_r7_4_a_person_owns_at_most_one_agency(ledger: Ledger) -> None:
    # Given fl-1 owning ag-1
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")
    # When fl-1 opens a second agency, Then agency_exists and it is not opened
    r = submit(ledger, "open_account", "ag-2", "2016-03-06", kind="agency", owner_id="fl-1")
    assert not r.ok
    assert r.error.code == "agency_exists"
    assert r.events == []
    # When another freelancer opens it, Then it opens
    open_account(ledger, "ag-2", "agency", "2016-03-06", owner_id="fl-2")
    assert ledger.account("ag-2").kind == "agency"


# --------------------------------------------------------------------------- agencies


def agency(ledger: Ledger) -> None:
    """Given fl-1 (60) owning ag-1 (60) and fl-2, all opened 2016-03-05 under v2016."""
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    open_account(ledger, "ag-1", "agency", "2016-03-05", owner_id="fl-1")


def test_r7_5_closing_an_agency_leaves_the_owner_open_and_forfeits_its_connects(
        ledger: Ledger) -> None:
    agency(ledger)
    accept(ledger, "submit_proposal", "fl-1", "2016-03-06", proposal_id="p-1", job_id="j-1",
           connects=4)
    # When the agency closes
    close(ledger, "ag-1", "2016-03-07", actor="fl-1")
    # Then it is closed with no Connects; the owner is open with its own 56
    assert status(ledger, "ag-1") == "closed"
    assert ledger.account("ag-1").connects == 0
    owner = ledger.account("fl-1", as_of="2016-03-07")
    assert owner.status == "active"
    assert owner.connects == 56
    # and the owner no longer has an open agency to block its own closing
    accept(ledger, "withdraw_proposal", "fl-1", "2016-03-08", proposal_id="p-1")
    close(ledger, "fl-1", "2016-03-08")


def test_r7_5_an_agency_closure_lists_every_agency_blocker(ledger: Ledger) -> None:
    agency(ledger)
    accept(ledger, "add_team_member", "ag-1", "2016-03-06", member_id="fl-2", role="member",
           actor="fl-1")
    accept(ledger, "open_contract", "ag-1", "2016-03-06", contract_id="c-1", hourly=False,
           role="freelancer", actor="fl-1")
    accept(ledger, "submit_proposal", "ag-1", "2016-03-06", proposal_id="p-1", job_id="j-1",
           connects=3, actor="fl-1")
    accept(ledger, "record_pending_earnings", "ag-1", "2016-03-06", reference="e-1",
           amount="40.00")
    accept(ledger, "credit_earnings", "ag-1", "2016-03-06", amount="5.00")
    assert blocked(ledger, "ag-1", "2016-03-07", actor="fl-1") == [
        "active_proposals", "available_earnings", "open_contracts", "pending_earnings",
        "team_members"]
    assert status(ledger, "ag-1") == "active"


def test_r7_5_only_the_owner_closes_an_agency(ledger: Ledger) -> None:
    agency(ledger)
    accept(ledger, "add_team_member", "ag-1", "2016-03-06", member_id="fl-2", role="admin",
           actor="fl-1")
    refuse(ledger, "not_authorized", "close_account", "ag-1", "2016-03-07", actor="fl-2")
    accept(ledger, "remove_team_member", "ag-1", "2016-03-08", member_id="fl-2", actor="fl-1")
    close(ledger, "ag-1", "2016-03-08", actor="fl-1")


def test_r7_5_a_closed_plus_agency_is_no_longer_billed(ledger: Ledger) -> None:
    # Given a v2016 Plus agency (billing day 5), closed on 2016-03-20
    agency(ledger)
    add_card(ledger, "ag-1", "2016-03-05", actor="fl-1")
    accept(ledger, "upgrade_plan", "ag-1", "2016-03-05", actor="fl-1")
    close(ledger, "ag-1", "2016-03-20", actor="fl-1")
    closed_version = ledger.account("ag-1").version
    # When billing runs over three months
    ledger.run_billing(through="2016-06-30")
    # Then the agency records nothing more, while its owner keeps being refilled
    assert ledger.account("ag-1").version == closed_version
    assert ledger.history("ag-1")[-1]["name"] == "AccountClosed"
    refills = [e for e in ledger.history("fl-1") if e["name"] == "ConnectsRefilled"]
    assert len(refills) == 4  # opening + 04-05, 05-05, 06-05


def test_r7_5_a_closed_agency_accepts_no_command(ledger: Ledger) -> None:
    agency(ledger)
    close(ledger, "ag-1", "2016-03-06", actor="fl-1")
    refuse(ledger, "account_closed", "submit_proposal", "ag-1", "2016-03-07",
           proposal_id="p-1", job_id="j-1", connects=2)
    refuse(ledger, "account_closed", "close_account", "ag-1", "2016-03-07")


# --------------------------------------------------------------------------- enterprise


def test_r7_6_an_enterprise_account_is_closed_by_its_account_team(ledger: Ledger) -> None:
    open_account(ledger, "ent-1", "enterprise", "2016-03-05")
    r = refuse(ledger, "contact_account_team", "close_account", "ent-1", "2016-03-06")
    assert r.error.rule == "R-7.6"
    assert status(ledger, "ent-1") == "active"


def test_r7_6_an_enterprise_with_a_named_owner_cannot_be_closed_either(ledger: Ledger) -> None:
    open_account(ledger, "mb-1", "member", "2016-03-05")
    open_account(ledger, "ent-1", "enterprise", "2016-03-05", owner_id="mb-1")
    refuse(ledger, "contact_account_team", "close_account", "ent-1", "2016-03-06")
    assert status(ledger, "ent-1") == "active"


def test_r7_4_leaving_the_last_team_with_open_activity_is_refused_and_nothing_closes(
        ledger: Ledger) -> None:
    # Given a member on one company team, with earnings and an open contract
    for command in (
        {"type": "open_account", "account_id": "fl-9", "kind": "freelancer", "at": "2016-03-01"},
        {"type": "open_account", "account_id": "mb-9", "kind": "member", "at": "2016-03-01"},
        {"type": "open_account", "account_id": "co-9", "kind": "company", "owner_id": "fl-9",
         "at": "2016-03-01"},
        {"type": "add_team_member", "account_id": "co-9", "actor": "fl-9", "member_id": "mb-9",
         "role": "admin", "at": "2016-03-02"},
        {"type": "credit_earnings", "account_id": "mb-9", "amount": "5.00", "at": "2016-03-03"},
        {"type": "open_contract", "account_id": "mb-9", "contract_id": "k-1",
         "at": "2016-03-03"},
    ):
        assert ledger.submit(command).ok, command
    version = ledger.account("mb-9").version
    # When the member leaves its last team
    result = ledger.submit({"type": "leave_team", "account_id": "mb-9", "team_id": "co-9",
                            "at": "2016-03-04"})
    # Then leaving (which would close the account) is refused with every blocker
    assert result.error is not None and result.error.code == "closure_blocked"
    assert set(result.error.blockers or []) == {"open_contracts", "available_earnings"}
    assert ledger.account("mb-9").status == "active"
    assert ledger.account("mb-9").version == version
