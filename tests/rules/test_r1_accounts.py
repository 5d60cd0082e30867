"""R-1: accounts, who may act on them, and closed / suspended accounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledger import Ledger, LedgerError
from tests.helpers import assert_rejected, submit_ok

DAY = "2016-03-05"

# -- helpers ------------------------------------------------------------------------


def open_account(ledger: Ledger, account_id: str, kind: str = "freelancer", at: str = DAY,
                 **extra: Any) -> Any:
    return submit_ok(ledger, {"type": "open_account", "account_id": account_id,
                              "kind": kind, "at": at, **extra})


def card(account_id: str, method_id: str = "m-1", at: str = DAY, **extra: Any) -> dict[str, Any]:
    return {"type": "add_billing_method", "account_id": account_id, "method_id": method_id,
            "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
            "exp_year": 2035, "token": "tok_ok_1", "prepaid": False, "at": at, **extra}


def cmd(type_: str, account_id: str, at: str = DAY, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "account_id": account_id, "at": at, **fields}


# -- kinds ----------------------------------------------------------------------


def test_a_freelancer_opens_on_basic_with_a_first_refill(ledger: Ledger) -> None:
    # When a freelancer account opens on 2016-03-05
    result = open_account(ledger, "fl-1")
    # Then it is a Basic freelancer with v2016's 60 Connects, cycle starting that day
    assert result.events == ["AccountOpened", "ConnectsRefilled"]
    view = ledger.account("fl-1", as_of=DAY)
    assert view.kind == "freelancer"
    assert view.status == "active"
    assert view.plan == "basic"
    assert view.connects == 60
    assert view.cycle_start == date(2016, 3, 5)
    assert view.billing_day == 5
    assert view.next_billing_date == date(2016, 4, 5)


def test_an_agency_owned_by_a_freelancer_opens_on_basic_with_connects(
        ledger: Ledger) -> None:
    # Given a freelancer
    open_account(ledger, "fl-1")
    # When they open an agency
    result = open_account(ledger, "ag-1", kind="agency", owner_id="fl-1")
    # Then the agency has its own Basic plan and Connects (other event names may be added)
    assert "AccountOpened" in result.events
    assert "ConnectsRefilled" in result.events
    view = ledger.account("ag-1", as_of=DAY)
    assert (view.kind, view.plan, view.connects) == ("agency", "basic", 60)


@pytest.mark.parametrize("kind", ["member", "company", "enterprise"])
def test_members_companies_and_enterprises_have_no_plan_and_no_connects(
        ledger: Ledger, kind: str) -> None:
    # Given a person to own the company
    open_account(ledger, "mb-owner", kind="member")
    extra = {"owner_id": "mb-owner"} if kind == "company" else {}
    # When the account opens
    result = open_account(ledger, "acc-1", kind=kind, **extra)
    # Then the account opened without Connects, and there is no plan or cycle
    assert "AccountOpened" in result.events
    assert "ConnectsRefilled" not in result.events
    assert [e["name"] for e in ledger.history("acc-1")] == ["AccountOpened"]
    view = ledger.account("acc-1", as_of=DAY)
    assert view.kind == kind
    assert view.plan is None
    assert view.billing_day is None
    assert view.cycle_start is None
    assert view.next_billing_date is None
    assert view.connects == 0
    dumped = view.model_dump(mode="json")
    assert dumped["plan"] is None and dumped["next_billing_date"] is None


def test_a_freelancer_may_also_own_a_client_company(ledger: Ledger) -> None:
    # Given a freelancer
    open_account(ledger, "fl-1")
    # When they open a company they own
    open_account(ledger, "co-1", kind="company", owner_id="fl-1")
    # Then both accounts exist with their kinds
    assert ledger.account("co-1").kind == "company"
    assert ledger.account("fl-1").kind == "freelancer"


def test_an_unknown_kind_is_a_validation_error(ledger: Ledger) -> None:
    # When an account of kind "robot" is opened
    result = ledger.submit(cmd("open_account", "x-1", kind="robot"))
    # Then it is refused and nothing exists
    assert result.error is not None and result.error.code == "validation_error"
    assert result.events == []
    with pytest.raises(LedgerError) as info:
        ledger.account("x-1")
    assert info.value.code == "unknown_account"


def test_an_account_id_can_be_opened_only_once(ledger: Ledger) -> None:
    # Given fl-1 exists
    open_account(ledger, "fl-1")
    # When it is opened again (as another kind)
    assert_rejected(ledger, cmd("open_account", "fl-1", at="2016-03-06", kind="member"),
                    "account_exists")
    # Then it is still the freelancer
    assert ledger.account("fl-1").kind == "freelancer"


def test_a_person_owns_at_most_one_agency(ledger: Ledger) -> None:
    # Given fl-1 owns ag-1
    open_account(ledger, "fl-1")
    open_account(ledger, "ag-1", kind="agency", owner_id="fl-1")
    # When fl-1 opens a second agency
    result = ledger.submit(cmd("open_account", "ag-2", kind="agency", owner_id="fl-1"))
    # Then it is refused and ag-2 does not exist
    assert result.error is not None and result.error.code == "agency_exists"
    with pytest.raises(LedgerError):
        ledger.account("ag-2")


@pytest.mark.parametrize("kind", ["agency", "company"])
def test_an_agency_or_company_needs_an_owner(ledger: Ledger, kind: str) -> None:
    # When an agency or company is opened without owner_id
    result = ledger.submit(cmd("open_account", "acc-1", kind=kind))
    # Then it is refused as invalid
    assert result.error is not None and result.error.code == "validation_error"
    with pytest.raises(LedgerError):
        ledger.account("acc-1")


def test_querying_an_unknown_account_raises_unknown_account(ledger: Ledger) -> None:
    with pytest.raises(LedgerError) as info:
        ledger.account("nope")
    assert info.value.code == "unknown_account"


# -- actors ---------------------------------------------------------------------


@pytest.fixture
def agency(ledger: Ledger) -> Ledger:
    """ag-1 owned by fl-1; fl-2 admin, fl-3 manager, fl-4 member; fl-5 a stranger.
    The agency has a card, so its plan can be paid."""
    for person in ("fl-1", "fl-2", "fl-3", "fl-4", "fl-5"):
        open_account(ledger, person)
    open_account(ledger, "ag-1", kind="agency", owner_id="fl-1")
    submit_ok(ledger, card("ag-1", actor="fl-1"))
    for member, role in (("fl-2", "admin"), ("fl-3", "manager"), ("fl-4", "member")):
        submit_ok(ledger, cmd("add_team_member", "ag-1", actor="fl-1", member_id=member,
                              role=role))
    return ledger


@pytest.fixture
def company(ledger: Ledger) -> Ledger:
    """co-1 owned by mb-1; mb-2 admin, mb-3 manager, mb-4 member; mb-5 a stranger."""
    for person in ("mb-1", "mb-2", "mb-3", "mb-4", "mb-5"):
        open_account(ledger, person, kind="member")
    open_account(ledger, "co-1", kind="company", owner_id="mb-1")
    for member, role in (("mb-2", "admin"), ("mb-3", "manager"), ("mb-4", "member")):
        submit_ok(ledger, cmd("add_team_member", "co-1", actor="mb-1", member_id=member,
                              role=role))
    return ledger


def test_the_agency_owner_may_change_its_plan(agency: Ledger) -> None:
    # When the owner upgrades the agency
    result = agency.submit(cmd("upgrade_plan", "ag-1", actor="fl-1"))
    # Then it is Plus, paid 20.00 by the agency's card
    assert result.ok, result.model_dump(mode="json")
    assert agency.account("ag-1", as_of=DAY).plan == "plus"


@pytest.mark.parametrize("actor", ["fl-2", "fl-3", "fl-4", "fl-5"])
def test_only_the_owner_may_upgrade_an_agency(agency: Ledger, actor: str) -> None:
    # When an admin, manager, member or stranger upgrades the agency
    assert_rejected(agency, cmd("upgrade_plan", "ag-1", actor=actor), "not_authorized",
                    rule="R-1.2")
    # Then it stays Basic
    assert agency.account("ag-1", as_of=DAY).plan == "basic"


@pytest.mark.parametrize("actor", ["fl-2", "fl-3"])
def test_only_the_owner_may_downgrade_an_agency(agency: Ledger, actor: str) -> None:
    # Given a Plus agency
    submit_ok(agency, cmd("upgrade_plan", "ag-1", actor="fl-1"))
    # When an admin or manager asks for a downgrade
    assert_rejected(agency, cmd("downgrade_plan", "ag-1", at="2016-03-06", actor=actor),
                    "not_authorized")
    # Then no downgrade is pending
    assert agency.account("ag-1", as_of="2016-03-06").downgrade_pending is False


def test_an_agency_admin_may_buy_connects_for_the_agency(agency: Ledger) -> None:
    # Given a Plus agency with 80 Connects (60 Basic + 20 Plus difference, upgraded on day 0)
    submit_ok(agency, cmd("upgrade_plan", "ag-1", actor="fl-1"))
    assert agency.account("ag-1", as_of=DAY).connects == 80
    # When the admin buys 5 Connects
    submit_ok(agency, cmd("purchase_connects", "ag-1", actor="fl-2", quantity=5))
    # Then the agency holds 85
    assert agency.account("ag-1", as_of=DAY).connects == 85


@pytest.mark.parametrize("actor", ["fl-3", "fl-4", "fl-5"])
def test_a_manager_member_or_stranger_may_not_buy_connects_for_an_agency(
        agency: Ledger, actor: str) -> None:
    # Given a Plus agency
    submit_ok(agency, cmd("upgrade_plan", "ag-1", actor="fl-1"))
    # When someone below admin buys Connects for it
    assert_rejected(agency, cmd("purchase_connects", "ag-1", actor=actor, quantity=5),
                    "not_authorized")
    # Then the balance is unchanged
    assert agency.account("ag-1", as_of=DAY).connects == 80


def test_the_agency_owner_may_buy_connects(agency: Ledger) -> None:
    submit_ok(agency, cmd("upgrade_plan", "ag-1", actor="fl-1"))
    submit_ok(agency, cmd("purchase_connects", "ag-1", actor="fl-1", quantity=10))
    assert agency.account("ag-1", as_of=DAY).connects == 90


@pytest.mark.parametrize("actor", ["fl-2", "fl-3", "fl-4", "fl-5"])
def test_only_the_owner_may_close_an_agency(agency: Ledger, actor: str) -> None:
    # When anyone else closes the agency (even though it also has blockers)
    assert_rejected(agency, cmd("close_account", "ag-1", actor=actor), "not_authorized")
    # Then it is still active
    assert agency.account("ag-1").status == "active"


def test_the_agency_owner_passes_authorisation_to_close(agency: Ledger) -> None:
    # When the owner closes the agency that still has members
    result = agency.submit(cmd("close_account", "ag-1", actor="fl-1"))
    # Then the refusal is about blockers, not authority
    assert result.error is not None and result.error.code == "closure_blocked"
    assert "team_members" in (result.error.blockers or [])


@pytest.mark.parametrize("actor", ["fl-1", "fl-2", "fl-3", "fl-4"])
def test_every_team_role_may_submit_and_withdraw_agency_proposals(
        agency: Ledger, actor: str) -> None:
    # When a team member submits a proposal costing 2 Connects
    submit_ok(agency, cmd("submit_proposal", "ag-1", actor=actor, proposal_id="p-1",
                          job_id="job-9", connects=2))
    # Then the agency's pool paid for it
    assert agency.account("ag-1", as_of=DAY).connects == 58
    # And the same role may withdraw it
    submit_ok(agency, cmd("withdraw_proposal", "ag-1", actor=actor, proposal_id="p-1"))


def test_a_stranger_may_not_submit_a_proposal_for_an_agency(agency: Ledger) -> None:
    assert_rejected(agency, cmd("submit_proposal", "ag-1", actor="fl-5", proposal_id="p-1",
                                job_id="job-9", connects=2), "not_authorized")
    assert agency.account("ag-1", as_of=DAY).connects == 60


def test_an_agency_admin_may_add_team_members(agency: Ledger) -> None:
    # When the admin adds the stranger as a member
    submit_ok(agency, cmd("add_team_member", "ag-1", actor="fl-2", member_id="fl-5",
                          role="member"))
    # Then the new member may submit proposals
    submit_ok(agency, cmd("submit_proposal", "ag-1", actor="fl-5", proposal_id="p-1",
                          job_id="job-9", connects=1))


@pytest.mark.parametrize("actor", ["fl-3", "fl-4"])
def test_an_agency_manager_or_member_may_not_add_or_remove_members(
        agency: Ledger, actor: str) -> None:
    assert_rejected(agency, cmd("add_team_member", "ag-1", actor=actor, member_id="fl-5",
                                role="member"), "not_authorized")
    assert_rejected(agency, cmd("remove_team_member", "ag-1", actor=actor,
                                member_id="fl-4"), "not_authorized")


def test_a_removed_member_loses_authority(agency: Ledger) -> None:
    # Given the owner removed the member fl-4
    submit_ok(agency, cmd("remove_team_member", "ag-1", actor="fl-1", member_id="fl-4"))
    # When fl-4 submits a proposal for the agency
    # Then they are not authorised
    assert_rejected(agency, cmd("submit_proposal", "ag-1", actor="fl-4", proposal_id="p-1",
                                job_id="job-9", connects=2), "not_authorized")


@pytest.mark.parametrize("actor", ["mb-1", "mb-2", "mb-3"])
def test_company_owner_admin_and_manager_may_post_and_close_jobs(
        company: Ledger, actor: str) -> None:
    submit_ok(company, cmd("post_job", "co-1", actor=actor, job_id="j-1"))
    submit_ok(company, cmd("close_job", "co-1", actor=actor, job_id="j-1"))


@pytest.mark.parametrize("actor", ["mb-1", "mb-2", "mb-3"])
def test_company_owner_admin_and_manager_may_open_and_close_contracts(
        company: Ledger, actor: str) -> None:
    submit_ok(company, cmd("open_contract", "co-1", actor=actor, contract_id="c-1",
                           hourly=False, role="client"))
    submit_ok(company, cmd("close_contract", "co-1", actor=actor, contract_id="c-1"))


@pytest.mark.parametrize("actor", ["mb-4", "mb-5"])
def test_a_company_member_or_stranger_may_not_post_jobs_or_open_contracts(
        company: Ledger, actor: str) -> None:
    assert_rejected(company, cmd("post_job", "co-1", actor=actor, job_id="j-1"),
                    "not_authorized")
    assert_rejected(company, cmd("open_contract", "co-1", actor=actor, contract_id="c-1",
                                 hourly=False, role="client"), "not_authorized")


def test_a_company_member_may_not_close_a_job_the_owner_posted(
        company: Ledger) -> None:
    # Given the owner posted j-1
    submit_ok(company, cmd("post_job", "co-1", actor="mb-1", job_id="j-1"))
    # When a plain member closes it
    assert_rejected(company, cmd("close_job", "co-1", actor="mb-4", job_id="j-1"),
                    "not_authorized")


def test_a_company_admin_may_remove_members_but_a_manager_may_not(
        company: Ledger) -> None:
    assert_rejected(company, cmd("remove_team_member", "co-1", actor="mb-3",
                                 member_id="mb-4"), "not_authorized")
    submit_ok(company, cmd("remove_team_member", "co-1", actor="mb-2", member_id="mb-4"))


@pytest.mark.parametrize("actor", ["mb-2", "mb-3", "mb-4", "mb-5"])
def test_only_the_owner_may_close_a_company(company: Ledger, actor: str) -> None:
    assert_rejected(company, cmd("close_account", "co-1", actor=actor), "not_authorized")
    assert company.account("co-1").status == "active"


def test_the_company_owner_closes_a_cleared_company(company: Ledger) -> None:
    # Given the owner removed every other member
    for member in ("mb-2", "mb-3", "mb-4"):
        submit_ok(company, cmd("remove_team_member", "co-1", actor="mb-1", member_id=member))
    # When the owner closes the company
    submit_ok(company, cmd("close_account", "co-1", at="2016-03-06", actor="mb-1"))
    # Then it is closed
    assert company.account("co-1").status == "closed"


@pytest.mark.parametrize("command", [
    cmd("withdraw_earnings", "fl-1", actor="fl-2", amount="5.00"),
    card("fl-1", actor="fl-2"),
    cmd("close_account", "fl-1", actor="fl-2"),
    cmd("upgrade_plan", "fl-1", actor="fl-2"),
    cmd("withdraw_earnings", "fl-1", actor="ag-1", amount="5.00"),
])
def test_on_a_persons_own_account_only_that_person_acts(
        agency: Ledger, command: dict[str, Any]) -> None:
    # Given fl-2 is an admin of fl-1's agency
    # When fl-2 (or the agency) acts on fl-1's personal account
    # Then it is refused
    assert_rejected(agency, command, "not_authorized")
    assert agency.account("fl-1").earnings.available == Decimal("0.00")


def test_the_person_acts_on_their_own_account_with_or_without_naming_themselves(
        ledger: Ledger) -> None:
    open_account(ledger, "fl-1")
    submit_ok(ledger, cmd("credit_earnings", "fl-1", actor="fl-1", amount="5.00"))
    submit_ok(ledger, cmd("credit_earnings", "fl-1", amount="2.50"))
    assert ledger.account("fl-1").earnings.available == Decimal("7.50")


# -- closed and suspended accounts ------------------------------------------------


@pytest.fixture
def closed(ledger: Ledger) -> Ledger:
    """fl-1 opened 2016-03-05 with a card, closed 2016-03-06."""
    open_account(ledger, "fl-1")
    submit_ok(ledger, card("fl-1"))
    submit_ok(ledger, cmd("close_account", "fl-1", at="2016-03-06"))
    return ledger


@pytest.mark.parametrize("command", [
    cmd("credit_earnings", "fl-1", at="2016-03-07", amount="5.00"),
    card("fl-1", method_id="m-2", at="2016-03-07"),
    cmd("upgrade_plan", "fl-1", at="2016-03-07"),
    cmd("reinstate_account", "fl-1", at="2016-03-07"),
    cmd("suspend_account", "fl-1", at="2016-03-07"),
    cmd("close_account", "fl-1", at="2016-03-07"),
    cmd("make_primary_method", "fl-1", at="2016-03-07", method_id="m-1"),
])
def test_a_closed_account_accepts_no_command(closed: Ledger,
                                             command: dict[str, Any]) -> None:
    # When any command is sent to the closed account
    # Then it is refused as closed and nothing is recorded
    assert_rejected(closed, command, "account_closed", rule="R-1.3")


def test_a_closed_account_can_still_be_queried(closed: Ledger) -> None:
    # When the closed account is queried now and in the past
    # Then the view and history answer
    assert closed.account("fl-1").status == "closed"
    assert closed.account("fl-1", as_of="2016-03-05").status == "active"
    history = closed.history("fl-1")
    assert history[-1]["name"] == "AccountClosed"
    assert closed.account("fl-1").model_dump(mode="json")["status"] == "closed"


def test_a_closed_account_is_refused_before_authority_is_checked(
        closed: Ledger) -> None:
    open_account(closed, "fl-9", at="2016-03-07")
    assert_rejected(closed, cmd("credit_earnings", "fl-1", at="2016-03-07", actor="fl-9",
                                amount="5.00"), "account_closed")


@pytest.fixture
def suspended(ledger: Ledger) -> Ledger:
    """fl-1 opened 2019-06-03 (v2019) with a card and 20.00, suspended 2019-06-04."""
    open_account(ledger, "fl-1", at="2019-06-03")
    submit_ok(ledger, card("fl-1", at="2019-06-03"))
    submit_ok(ledger, cmd("credit_earnings", "fl-1", at="2019-06-03", amount="20.00"))
    submit_ok(ledger, cmd("suspend_account", "fl-1", at="2019-06-04", reason="review"))
    return ledger


@pytest.mark.parametrize("command", [
    cmd("upgrade_plan", "fl-1", at="2019-06-05"),
    cmd("purchase_connects", "fl-1", at="2019-06-05", quantity=10),
    cmd("submit_proposal", "fl-1", at="2019-06-05", proposal_id="p-1", job_id="j-1",
        connects=2),
])
def test_a_suspended_account_accepts_no_upgrade_purchase_or_proposal(
        suspended: Ledger, command: dict[str, Any]) -> None:
    assert_rejected(suspended, command, "account_suspended", rule="R-1.3")
    view = suspended.account("fl-1", as_of="2019-06-05")
    assert view.status == "suspended"
    assert (view.plan, view.connects, view.earnings.available) == ("basic", 10,
                                                                   Decimal("20.00"))


def test_a_suspended_account_still_accepts_other_commands(suspended: Ledger) -> None:
    # When the suspended account credits earnings, adds a method and makes it primary
    submit_ok(suspended, cmd("credit_earnings", "fl-1", at="2019-06-05", amount="1.00"))
    submit_ok(suspended, card("fl-1", method_id="m-2", at="2019-06-05"))
    submit_ok(suspended, cmd("make_primary_method", "fl-1", at="2019-06-05", method_id="m-2"))
    # Then those were recorded
    view = suspended.account("fl-1", as_of="2019-06-05")
    assert view.earnings.available == Decimal("21.00")
    assert [m.method_id for m in view.billing_methods if m.primary] == ["m-2"]


def test_a_reinstated_account_may_upgrade_again(suspended: Ledger) -> None:
    # Given the account is reinstated
    submit_ok(suspended, cmd("reinstate_account", "fl-1", at="2019-06-05"))
    assert suspended.account("fl-1", as_of="2019-06-05").status == "active"
    # When it upgrades
    submit_ok(suspended, cmd("upgrade_plan", "fl-1", at="2019-06-05"))
    # Then it is Plus, 14.99 paid from earnings
    view = suspended.account("fl-1", as_of="2019-06-05")
    assert view.plan == "plus"
    assert view.earnings.available == Decimal("5.01")


def test_a_suspended_account_can_be_queried(suspended: Ledger) -> None:
    assert suspended.account("fl-1").status == "suspended"
    assert suspended.account("fl-1", as_of="2019-06-03").status == "active"
    assert suspended.history("fl-1")[-1]["name"] == "AccountSuspended"


def test_a_stranger_on_a_suspended_agency_is_refused_for_authority_first(
        agency: Ledger) -> None:
    # Given the agency is suspended
    submit_ok(agency, cmd("suspend_account", "ag-1", at="2016-03-06", actor="fl-1"))
    # When a stranger upgrades it, and then the owner does
    assert_rejected(agency, cmd("upgrade_plan", "ag-1", at="2016-03-06", actor="fl-5"),
                    "not_authorized")
    assert_rejected(agency, cmd("upgrade_plan", "ag-1", at="2016-03-06", actor="fl-1"),
                    "account_suspended")
