"""R-1.4 the two kinds of command, R-1.5 a named person acting on an agency or company,
R-8.6 who sent each command, who acted and why, in history and on the command line."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from ledger.commands import COMMAND_KINDS, command_kind
from tests.helpers import TEST_CLOCK, assert_rejected, submit_ok

DAY = "2016-03-05"

# INTERFACE.md's command table, as written there.
INTERFACE_TYPES = {
    "open_account", "add_billing_method", "make_primary_method", "remove_billing_method",
    "suspend_billing_method", "reinstate_billing_method", "upgrade_plan", "downgrade_plan",
    "redeem_promo_code", "suspend_account", "reinstate_account", "record_pending_earnings",
    "release_earnings", "credit_earnings", "withdraw_earnings", "purchase_connects",
    "submit_proposal", "withdraw_proposal", "cancel_job", "open_contract", "close_contract",
    "post_job", "close_job", "record_invoice", "pay_invoice", "add_team_member",
    "remove_team_member", "leave_team", "close_account", "grant_connects", "refund_charge",
}
# R-1.4's list of marketplace operations, as written there.
R_1_4_OPERATIONS = {
    "suspend_account", "reinstate_account", "suspend_billing_method",
    "reinstate_billing_method", "record_pending_earnings", "release_earnings",
    "credit_earnings", "record_invoice", "cancel_job", "grant_connects", "refund_charge",
}
OWNER = {"agency": "fl-1", "company": "mb-1"}


def cmd(type_: str, account_id: str, at: str = DAY, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "account_id": account_id, "at": at, **fields}


def user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


# -- the table of kinds ----------------------------------------------------------


def test_r1_4_every_command_type_is_classified() -> None:
    assert set(COMMAND_KINDS) == INTERFACE_TYPES
    assert set(COMMAND_KINDS.values()) == {"account_action", "marketplace_operation"}


def test_r1_4_exactly_the_listed_commands_are_marketplace_operations() -> None:
    operations = {t for t, kind in COMMAND_KINDS.items() if kind == "marketplace_operation"}
    assert operations == R_1_4_OPERATIONS
    for type_ in INTERFACE_TYPES:
        expected = ("marketplace_operation" if type_ in R_1_4_OPERATIONS
                    else "account_action")
        assert command_kind(type_) == expected, type_


def test_r1_4_an_unknown_type_has_no_kind() -> None:
    with pytest.raises(KeyError):
        command_kind("make_coffee")


# -- agencies and companies act through a named person -----------------------------


@pytest.fixture(params=["agency", "company"])
def team(request: pytest.FixtureRequest, ledger: Ledger) -> tuple[Ledger, str]:
    """fl-1 owns agency ag-1 (or mb-1 company co-1); fl-2 and fl-3 are people."""
    kind = str(request.param)
    for person, person_kind in (("fl-1", "freelancer"), ("mb-1", "member"),
                                ("fl-2", "freelancer"), ("fl-3", "freelancer")):
        submit_ok(ledger, cmd("open_account", person, kind=person_kind))
    account = "ag-1" if kind == "agency" else "co-1"
    submit_ok(ledger, cmd("open_account", account, kind=kind, owner_id=OWNER[kind],
                          actor=OWNER[kind]))
    return ledger, account


def _kind(account: str) -> str:
    return "agency" if account == "ag-1" else "company"


def test_r1_5_an_account_action_without_an_actor_is_not_authorized(
        team: tuple[Ledger, str]) -> None:
    led, account = team
    for command in (cmd("post_job", account, job_id="j-1"),
                    cmd("add_team_member", account, member_id="fl-2", role="admin"),
                    cmd("close_account", account)):
        result = assert_rejected(led, command, "not_authorized", rule="R-1.5")
        assert "actor" in result.error.message
    assert led.account(account).status == "active"


def test_r1_5_the_account_itself_as_actor_is_not_authorized(
        team: tuple[Ledger, str]) -> None:
    led, account = team
    assert_rejected(led, cmd("post_job", account, job_id="j-1", actor=account),
                    "not_authorized", rule="R-1.5")
    assert_rejected(led, cmd("close_account", account, actor=account),
                    "not_authorized", rule="R-1.5")


def test_r1_5_the_owner_named_as_actor_may_act(team: tuple[Ledger, str]) -> None:
    led, account = team
    owner = OWNER[_kind(account)]
    submit_ok(led, cmd("post_job", account, job_id="j-1", actor=owner))
    submit_ok(led, cmd("close_job", account, job_id="j-1", actor=owner))
    submit_ok(led, cmd("close_account", account, actor=owner))
    assert led.account(account).status == "closed"


def test_r1_5_on_a_persons_own_account_the_actor_defaults_to_that_person(
        ledger: Ledger) -> None:
    submit_ok(ledger, cmd("open_account", "fl-1", kind="freelancer"))
    submit_ok(ledger, cmd("post_job", "fl-1", job_id="j-1"))
    [posted] = [h for h in ledger.history("fl-1") if h["name"] == "JobPosted"]
    assert posted["actor"] in ("fl-1", None)  # recorded as sent: the person itself


@pytest.mark.parametrize("role, allowed, refused", [
    ("member", [], ["post_job", "add_team_member", "close_account"]),
    ("manager", ["post_job"], ["add_team_member", "close_account", "upgrade_plan"]),
    ("admin", ["post_job", "add_team_member"], ["close_account", "upgrade_plan"]),
])
def test_r1_5_team_members_named_as_actor_have_their_r1_2_role(
        team: tuple[Ledger, str], role: str, allowed: list[str], refused: list[str]) -> None:
    led, account = team
    owner = OWNER[_kind(account)]
    submit_ok(led, cmd("add_team_member", account, member_id="fl-2", role=role, actor=owner))
    fields = {"post_job": {"job_id": "j-1"},
              "add_team_member": {"member_id": "fl-3", "role": "member"},
              "close_account": {}, "upgrade_plan": {}}
    for type_ in allowed:
        submit_ok(led, cmd(type_, account, actor="fl-2", **fields[type_]))
    for type_ in refused:
        assert_rejected(led, cmd(type_, account, actor="fl-2", **fields[type_]),
                        "not_authorized")


def test_r1_5_an_agency_member_submits_proposals_for_the_agency(ledger: Ledger) -> None:
    for person in ("fl-1", "fl-2"):
        submit_ok(ledger, cmd("open_account", person, kind="freelancer"))
    submit_ok(ledger, cmd("open_account", "ag-1", kind="agency", owner_id="fl-1"))
    submit_ok(ledger, cmd("add_team_member", "ag-1", member_id="fl-2", role="member",
                          actor="fl-1"))
    proposal = {"proposal_id": "p-1", "job_id": "j-1", "connects": 2}
    assert_rejected(ledger, cmd("submit_proposal", "ag-1", **proposal), "not_authorized",
                    rule="R-1.5")
    submit_ok(ledger, cmd("submit_proposal", "ag-1", actor="fl-2", **proposal))
    [spent] = [h for h in ledger.history("ag-1") if h["name"] == "ProposalSubmitted"]
    assert spent["actor"] == "fl-2"


def test_r1_4_a_marketplace_operation_needs_no_actor_and_records_any_actor_unchecked(
        team: tuple[Ledger, str]) -> None:
    led, account = team
    # no actor at all: the marketplace does it, not the account holder
    submit_ok(led, cmd("credit_earnings", account, amount="5.00"))
    # an actor that is no person on the account (nor any account) is recorded, not checked
    submit_ok(led, cmd("suspend_account", account, actor="ops-desk-7", reason="review"))
    submit_ok(led, cmd("reinstate_account", account, at="2016-03-06"))
    rows = {h["name"]: h for h in led.history(account)}
    assert rows["EarningsCredited"]["actor"] is None
    assert rows["AccountSuspended"]["actor"] == "ops-desk-7"
    assert led.account(account).status == "active"


# -- principal, actor and reason ---------------------------------------------------


def test_r8_6_history_shows_principal_actor_and_reason(ledger: Ledger) -> None:
    submit_ok(ledger, cmd("open_account", "fl-1", kind="freelancer"))
    result = ledger.submit(cmd("open_account", "ag-1", kind="agency", owner_id="fl-1",
                               actor="fl-1", reason="fl-1 starts an agency"),
                           principal="key-ops-1")
    assert result.ok, result.error
    submit_ok(ledger, cmd("post_job", "ag-1", at="2016-03-06", job_id="j-1", actor="fl-1",
                          reason="hiring a designer"))
    rows = ledger.history("ag-1")
    assert {"principal", "actor", "reason"} <= set(rows[0])
    opened = rows[0]
    assert (opened["name"], opened["principal"], opened["actor"], opened["reason"]) == (
        "AccountOpened", "key-ops-1", "fl-1", "fl-1 starts an agency")
    [posted] = [h for h in rows if h["name"] == "JobPosted"]
    assert posted["principal"] == f"python:{user()}"  # the Python API's default principal
    assert (posted["actor"], posted["reason"]) == ("fl-1", "hiring a designer")


def test_r8_6_a_reason_is_at_most_500_characters(ledger: Ledger) -> None:
    submit_ok(ledger, cmd("open_account", "fl-1", kind="freelancer"))
    result = assert_rejected(ledger, cmd("credit_earnings", "fl-1", amount="5.00",
                                         reason="x" * 501), "validation_error")
    assert "reason" in result.error.message and "x" * 50 not in result.error.message
    submit_ok(ledger, cmd("credit_earnings", "fl-1", amount="5.00", reason="y" * 500))
    assert ledger.history("fl-1")[-1]["reason"] == "y" * 500


def test_r8_6_the_command_line_records_principal_cli_user(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    commands = tmp_path / "commands.jsonl"
    commands.write_text("\n".join(json.dumps(c) for c in (
        cmd("open_account", "fl-1", kind="freelancer"),
        cmd("open_account", "ag-1", kind="agency", owner_id="fl-1", actor="fl-1"),
        cmd("post_job", "ag-1", at="2016-03-06", job_id="j-1", actor="fl-1",
            reason="needs a logo"),
        cmd("post_job", "ag-1", at="2016-03-07", job_id="j-2"),  # refused
    )) + "\n", encoding="utf-8")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ledger.cli", "--store", store,
                               "--clock", TEST_CLOCK, *args], cwd=tmp_path,
                              capture_output=True, text=True, check=False, timeout=120)

    sent = cli("submit", str(commands))
    assert sent.returncode == 1, sent.stderr  # one command was refused
    answers = [json.loads(line) for line in sent.stdout.splitlines()]
    assert [a["ok"] for a in answers] == [True, True, True, False]
    assert answers[3]["error"]["code"] == "not_authorized"
    assert answers[3]["error"]["rule"] == "R-1.5"
    shown = cli("history", "ag-1", "--json")
    assert shown.returncode == 0, shown.stderr
    rows = [json.loads(line) for line in shown.stdout.splitlines()]
    assert rows and {r["principal"] for r in rows} == {f"cli:{user()}"}
    [posted] = [r for r in rows if r["name"] == "JobPosted"]
    assert (posted["actor"], posted["reason"]) == ("fl-1", "needs a logo")


def test_r1_5_an_agency_or_company_is_opened_by_its_owner_never_by_itself(
        ledger: Ledger) -> None:
    submit_ok(ledger, cmd("open_account", "fl-1", kind="freelancer"))
    submit_ok(ledger, cmd("open_account", "mb-1", kind="member"))
    # Without an actor, the owner is the one acting (INTERFACE: actor defaults to owner_id)
    submit_ok(ledger, cmd("open_account", "co-1", kind="company", owner_id="mb-1"))
    assert ledger.history("co-1")[0]["actor"] == "mb-1"
    # Naming the new account itself as the actor is refused
    result = ledger.submit(cmd("open_account", "ag-1", kind="agency", owner_id="fl-1",
                               actor="ag-1"))
    assert result.error is not None and result.error.code == "not_authorized"
    assert result.error.rule == "R-1.5"
    # Someone else altogether is refused too, and the message names no placeholder
    refused = ledger.submit(cmd("open_account", "fl-3", kind="freelancer", actor="fl-1"))
    assert refused.error is not None and refused.error.code == "not_authorized"
    assert "None" not in refused.error.message
    submit_ok(ledger, cmd("open_account", "ag-1", kind="agency", owner_id="fl-1"))
    assert ledger.history("ag-1")[0]["actor"] == "fl-1"
    # A person's own account, or an enterprise without an owner, is opened by itself
    submit_ok(ledger, cmd("open_account", "en-1", kind="enterprise", actor="en-1"))
    assert ledger.history("en-1")[0]["actor"] == "en-1"
