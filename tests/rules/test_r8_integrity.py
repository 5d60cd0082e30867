"""R-8: append-only history, no back-dating, catch-up of scheduled facts, idempotency,
rejections that record nothing of their own, and the order in which errors are given."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ledger import Ledger
from tests.helpers import accept, add_card, day, names, open_account, refuse, submit

# --------------------------------------------------------------------------- helpers


def rejected(result: Any, code: str) -> Any:
    assert not result.ok, f"accepted, expected {code}"
    assert result.error.code == code, (result.error.code, result.error.message)
    assert result.events == []
    return result


def facts_on(ledger: Ledger, account_id: str, date: str) -> list[str]:
    return [e["name"] for e in ledger.history(account_id) if day(e["at"]) == date]


# ---------------------------------------------------------------------------


def test_r8_1_history_only_grows_and_earlier_events_never_change(ledger: Ledger) -> None:
    # Given a freelancer with a few facts
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "record_pending_earnings", "fl-1", "2016-03-06", reference="e-1",
           amount="100.00")
    accept(ledger, "submit_proposal", "fl-1", "2016-03-06", proposal_id="p-1", job_id="j-1",
           connects=3)
    before = ledger.history("fl-1")
    # When more happens, corrections and rejections included
    accept(ledger, "withdraw_proposal", "fl-1", "2016-03-07", proposal_id="p-1")
    accept(ledger, "release_earnings", "fl-1", "2016-03-08", reference="e-1")
    submit(ledger, "withdraw_earnings", "fl-1", "2016-03-09", amount="500.00")
    ledger.run_billing(through="2016-04-05")
    after = ledger.history("fl-1")
    # Then the old events are still there, unchanged, and versions run 1..n
    assert after[: len(before)] == before
    assert [e["version"] for e in after] == list(range(1, len(after) + 1))
    assert ledger.account("fl-1").version == len(after)


def test_r8_1_a_correction_is_a_new_event_beside_the_original(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "submit_proposal", "fl-1", "2016-03-06", proposal_id="p-1", job_id="j-1",
           connects=3)
    accept(ledger, "withdraw_proposal", "fl-1", "2016-03-07", proposal_id="p-1")
    history = names(ledger, "fl-1")
    assert history.count("ProposalSubmitted") == 1
    assert history.count("ProposalWithdrawn") == 1
    assert history.index("ProposalSubmitted") < history.index("ProposalWithdrawn")
    # and the past view still shows the proposal's Connects spent
    assert ledger.account("fl-1", as_of="2016-03-06").connects == 57


# --------------------------------------------------------------------------- dating


def test_r8_2_a_command_dated_before_the_accounts_latest_fact_is_backdated(
        ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-12T10:00:00Z", amount="5.00")
    r = refuse(ledger, "backdated", "credit_earnings", "fl-1", "2016-03-10", amount="5.00")
    assert r.error.rule == "R-8.2"
    refuse(ledger, "backdated", "credit_earnings", "fl-1", "2016-03-12T09:59:59Z",
           amount="5.00")
    # the same instant is not earlier
    accept(ledger, "credit_earnings", "fl-1", "2016-03-12T10:00:00Z", amount="5.00")


def test_r8_2_backdating_is_judged_per_account(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-12", amount="5.00")
    open_account(ledger, "fl-2", "freelancer", "2016-03-01")
    accept(ledger, "credit_earnings", "fl-2", "2016-03-02", amount="5.00")


def test_r8_2_a_recorded_billing_date_counts_as_the_latest_fact(ledger: Ledger) -> None:
    # Given the billing run recorded fl-1's 2016-04-05 refill
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    ledger.run_billing(through="2016-04-05")
    assert "ConnectsRefilled" in facts_on(ledger, "fl-1", "2016-04-05")
    # When a command is dated the day before, Then it is backdated
    refuse(ledger, "backdated", "credit_earnings", "fl-1", "2016-04-04", amount="5.00")


def test_r8_2_a_command_dated_after_the_clock_is_future_dated(
        make_ledger: Callable[..., Ledger]) -> None:
    led = make_ledger(clock="2016-05-01T00:00:00Z")
    open_account(led, "fl-1", "freelancer", "2016-03-05")
    r = refuse(led, "future_dated", "credit_earnings", "fl-1", "2016-05-02", amount="5.00")
    assert r.error.rule == "R-8.2"
    refuse(led, "future_dated", "credit_earnings", "fl-1", "2016-05-01T00:00:01Z",
           amount="5.00")
    rejected(submit(led, "open_account", "fl-2", "2016-06-01", kind="freelancer"),
             "future_dated")
    # exactly the clock's now is allowed
    accept(led, "credit_earnings", "fl-1", "2016-05-01T00:00:00Z", amount="5.00")


def test_r8_2_a_command_without_a_date_is_dated_the_clocks_now(
        make_ledger: Callable[..., Ledger]) -> None:
    led = make_ledger(clock="2016-05-01T00:00:00Z")
    accept(led, "open_account", "fl-1", None, kind="freelancer")
    view = led.account("fl-1")
    assert day(view.cycle_start) == "2016-05-01"
    assert day(view.next_billing_date) == "2016-06-01"
    assert day(led.history("fl-1")[0]["at"]) == "2016-05-01"


@pytest.mark.parametrize("at", ["2015-12-31", "2015-12-31T23:59:59Z", "2010-06-01"])
def test_r8_2_a_command_dated_before_the_first_policy_version_is_refused(
        ledger: Ledger, at: str) -> None:
    r = rejected(submit(ledger, "open_account", "fl-1", at, kind="freelancer"),
                 "no_policy_in_force")
    assert r.error.message
    # nothing was opened: the same account opens on 2016-01-01 (not account_exists)
    r = accept(ledger, "open_account", "fl-1", "2016-01-01", kind="freelancer")
    assert "AccountOpened" in r.events
    assert ledger.account("fl-1", as_of="2016-01-01").connects == 60


# --------------------------------------------------------------------------- catch-up


def test_r8_2_a_late_command_first_records_every_billing_date_in_order(ledger: Ledger) -> None:
    # Given a v2016 Basic freelancer opened 2016-03-05 who spent 6
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "submit_proposal", "fl-1", "2016-03-06", proposal_id="p-1", job_id="j-1",
           connects=6)
    # When its next command is dated 2016-06-10
    r = accept(ledger, "record_pending_earnings", "fl-1", "2016-06-10", reference="e-1",
               amount="10.00")
    # Then the three billing dates were recorded first, in date order, then the command
    assert r.events.count("ConnectsRefilled") == 3
    assert r.events.count("ConnectsExpired") == 3
    assert r.events[-1] == "EarningsPending"
    new = ledger.history("fl-1")[-len(r.events):]
    assert [e["name"] for e in new] == r.events
    days = [day(e["at"]) for e in new]
    assert days == sorted(days)
    assert {d for d, e in zip(days, new, strict=True) if e["name"] == "ConnectsRefilled"} == {
        "2016-04-05", "2016-05-05", "2016-06-05"}
    expired = [int(e["data"]["quantity"]) for e in new if e["name"] == "ConnectsExpired"]
    assert expired == [54, 60, 60]
    assert ledger.account("fl-1", as_of="2016-06-10").connects == 60


def test_r8_2_a_view_says_a_billing_date_is_due_until_it_is_recorded(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    due = ledger.account("fl-1", as_of="2016-04-05")
    assert day(due.billing_due) == "2016-04-05"
    assert getattr(ledger.account("fl-1", as_of="2016-04-04"), "billing_due", None) is None
    ledger.run_billing(through="2016-04-05")
    assert getattr(ledger.account("fl-1", as_of="2016-04-05"), "billing_due", None) is None


def test_r8_2_a_plus_renewal_is_recorded_by_the_catch_up(ledger: Ledger) -> None:
    # Given a v2016 Plus freelancer, billing day 5
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    add_card(ledger, "fl-1", "2016-03-05")
    accept(ledger, "upgrade_plan", "fl-1", "2016-03-05")
    # When a command is dated the day after the billing date
    r = accept(ledger, "credit_earnings", "fl-1", "2016-04-06", amount="1.00")
    # Then the renewal charge and refill come first
    assert r.events.index("MembershipCharged") < r.events.index("ConnectsRefilled")
    assert r.events[-1] == "EarningsCredited"
    view = ledger.account("fl-1", as_of="2016-04-06")
    assert view.plan == "plus"
    assert view.connects == 140
    assert day(view.next_billing_date) == "2016-05-05"


def test_r8_2_the_billing_run_records_the_same_facts_as_the_catch_up(ledger: Ledger) -> None:
    # Given two identical accounts
    for account in ("fl-1", "fl-2"):
        open_account(ledger, account, "freelancer", "2016-03-05")
        accept(ledger, "submit_proposal", account, "2016-03-06", proposal_id="p-1",
               job_id="j-1", connects=5)
    # When fl-1 is caught up by a command and fl-2 by the billing run
    accept(ledger, "credit_earnings", "fl-1", "2016-04-05", amount="1.00")
    ledger.run_billing(through="2016-04-05")
    # Then both recorded the same facts of 2016-04-05
    fl1 = [n for n in facts_on(ledger, "fl-1", "2016-04-05") if n != "EarningsCredited"]
    assert fl1 == facts_on(ledger, "fl-2", "2016-04-05")
    assert "ConnectsRefilled" in fl1
    assert ledger.account("fl-2", as_of="2016-04-05").connects == 60
    # and a second run records nothing more
    version = ledger.account("fl-2").version
    ledger.run_billing(through="2016-04-05")
    assert ledger.account("fl-2").version == version


# ---------------------------------------------------------------------------


def test_r8_3_the_same_command_id_and_content_returns_the_first_result(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    command = {"type": "submit_proposal", "command_id": "c-1", "account_id": "fl-1",
               "proposal_id": "p-1", "job_id": "j-1", "connects": 4, "at": "2016-03-06"}
    first = ledger.submit(dict(command))
    assert first.ok and first.duplicate is False
    version = ledger.account("fl-1").version
    # When sent again
    again = ledger.submit(dict(command))
    # Then the first result, marked duplicate, and nothing new recorded
    assert again.ok is True
    assert again.duplicate is True
    assert again.command_id == "c-1"
    assert again.events == first.events
    assert ledger.account("fl-1").version == version
    assert ledger.account("fl-1", as_of="2016-03-06").connects == 56


def test_r8_3_a_repeated_open_account_is_a_duplicate_not_account_exists(ledger: Ledger) -> None:
    command = {"type": "open_account", "command_id": "c-open", "account_id": "fl-1",
               "kind": "freelancer", "at": "2016-03-05"}
    assert ledger.submit(dict(command)).ok
    again = ledger.submit(dict(command))
    assert again.ok and again.duplicate is True
    assert again.events == ["AccountOpened", "ConnectsRefilled"]
    assert ledger.account("fl-1").version == 2


def test_r8_3_the_same_command_id_with_other_content_is_a_conflict(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-06", amount="10.00", command_id="c-1")
    r = refuse(ledger, "idempotency_conflict", "credit_earnings", "fl-1", "2016-03-06",
               amount="11.00", command_id="c-1")
    assert r.error.rule == "R-8.3"
    assert r.duplicate is False
    assert ledger.account("fl-1").earnings.available == Decimal("10.00")


def test_r8_3_naming_the_default_actor_is_the_same_content(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2020-03-05")  # v2019: basic may buy
    add_card(ledger, "fl-1", "2020-03-05")
    buy = {"type": "purchase_connects", "account_id": "fl-1", "quantity": 10,
           "command_id": "c-buy", "at": "2020-03-06"}
    before = ledger.account("fl-1").connects
    first = ledger.submit(dict(buy))
    assert first.ok
    # The same command naming fl-1 as its actor (who acts by default): a replay
    again = ledger.submit({**buy, "actor": "fl-1"})
    assert again.ok and again.duplicate is True and again.events == first.events
    # And in the other order, in one batch
    both = ledger.submit_many([{**buy, "command_id": "c-buy-2", "actor": "fl-1"},
                               {**buy, "command_id": "c-buy-2"}])
    assert [r.duplicate for r in both] == [False, True]
    assert ledger.account("fl-1").connects == before + 20  # two purchases, not four
    # Another actor is other content
    r = ledger.submit({**buy, "actor": "fl-2"})
    assert r.error is not None and r.error.code == "idempotency_conflict"


def test_r8_3_command_ids_are_unique_across_the_whole_ledger(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-06", amount="10.00", command_id="c-1")
    refuse(ledger, "idempotency_conflict", "credit_earnings", "fl-2", "2016-03-06",
           amount="10.00", command_id="c-1")
    assert ledger.account("fl-2").earnings.available == Decimal("0.00")


def test_r8_3_a_rejected_commands_id_may_be_used_again(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    # Given c-9 was rejected
    refuse(ledger, "invalid_connects_cost", "submit_proposal", "fl-1", "2016-03-06",
           command_id="c-9", proposal_id="p-1", job_id="j-1", connects=9)
    # When c-9 is sent with other content, Then it is accepted (not a conflict)
    r = accept(ledger, "submit_proposal", "fl-1", "2016-03-06", command_id="c-9",
               proposal_id="p-1", job_id="j-1", connects=2)
    assert r.duplicate is False
    # and from now on it is remembered
    again = submit(ledger, "submit_proposal", "fl-1", "2016-03-06", command_id="c-9",
                   proposal_id="p-1", job_id="j-1", connects=2)
    assert again.ok and again.duplicate is True
    assert ledger.account("fl-1", as_of="2016-03-06").connects == 58


def test_r8_3_a_rejected_command_sent_again_is_decided_again(ledger: Ledger) -> None:
    # Given c-5 (withdraw 50.00) rejected for lack of earnings
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    refuse(ledger, "insufficient_earnings", "withdraw_earnings", "fl-1", "2016-03-06",
           command_id="c-5", amount="50.00")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-06", amount="80.00")
    # When the same c-5 is sent again, Then it is applied now
    r = accept(ledger, "withdraw_earnings", "fl-1", "2016-03-06", command_id="c-5",
               amount="50.00")
    assert r.duplicate is False
    assert r.events == ["EarningsWithdrawn"]
    assert ledger.account("fl-1").earnings.available == Decimal("30.00")


# ---------------------------------------------------------------------------


def test_r8_4_a_rejection_records_nothing_and_says_why(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    history = ledger.history("fl-1")
    r = submit(ledger, "withdraw_earnings", "fl-1", "2016-03-06", amount="5.00")
    assert r.ok is False
    assert r.events == []
    assert r.error.code == "insufficient_earnings"
    assert re.fullmatch(r"R-\d+\.\d+", r.error.rule)
    assert isinstance(r.error.message, str) and len(r.error.message) > 10
    assert ledger.history("fl-1") == history


def test_r8_4_catch_up_facts_are_recorded_even_when_the_command_is_rejected(
        ledger: Ledger) -> None:
    # Given a v2016 Basic freelancer opened 2016-03-05 who spent 6 (54 left)
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "submit_proposal", "fl-1", "2016-03-06", proposal_id="p-1", job_id="j-1",
           connects=6)
    # When a proposal with a bad cost is dated after the 2016-04-05 billing date
    r = submit(ledger, "submit_proposal", "fl-1", "2016-04-06", proposal_id="p-2",
               job_id="j-2", connects=9)
    # Then it is rejected, but the billing date's expiry and refill were recorded
    assert r.ok is False
    assert r.error.code == "invalid_connects_cost"
    assert "ConnectsExpired" in r.events and "ConnectsRefilled" in r.events
    assert "ProposalSubmitted" not in r.events and "ConnectsSpent" not in r.events
    on_billing_date = facts_on(ledger, "fl-1", "2016-04-05")
    assert on_billing_date.index("ConnectsExpired") < on_billing_date.index("ConnectsRefilled")
    assert facts_on(ledger, "fl-1", "2016-04-06") == []
    assert ledger.account("fl-1", as_of="2016-04-06").connects == 60
    assert getattr(ledger.account("fl-1", as_of="2016-04-06"), "billing_due", None) is None


def test_r8_4_a_rejected_catch_up_still_blocks_backdating_to_before_the_billing_date(
        ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    r = submit(ledger, "withdraw_earnings", "fl-1", "2016-04-06", amount="5.00")
    assert r.error.code == "insufficient_earnings"
    refuse(ledger, "backdated", "credit_earnings", "fl-1", "2016-04-04", amount="5.00")


def test_r8_4_a_failed_payment_leaves_only_payment_failed(ledger: Ledger) -> None:
    # Given a v2016 freelancer whose only card declines
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    add_card(ledger, "fl-1", "2016-03-05", token="tok_decline_1")
    version = ledger.account("fl-1").version
    # When it upgrades
    r = submit(ledger, "upgrade_plan", "fl-1", "2016-03-10")
    # Then payment_failed, one PaymentFailed event, and still Basic with 60
    assert r.ok is False
    assert r.error.code == "payment_failed"
    assert r.events == ["PaymentFailed"]
    assert names(ledger, "fl-1")[-1] == "PaymentFailed"
    assert ledger.account("fl-1").version == version + 1
    view = ledger.account("fl-1", as_of="2016-03-10")
    assert view.plan == "basic"
    assert view.connects == 60


# ---------------------------------------------------------------------------


def test_r8_5_an_unknown_field_on_an_unknown_account_is_a_validation_error(
        ledger: Ledger) -> None:
    r = ledger.submit({"type": "credit_earnings", "account_id": "nobody", "amount": "5.00",
                       "colour": "red", "at": "2016-03-05"})
    rejected(r, "validation_error")
    assert "colour" in r.error.message


def test_r8_5_validation_comes_before_an_idempotency_conflict(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-06", amount="10.00", command_id="c-1")
    r = refuse(ledger, "validation_error", "credit_earnings", "fl-1", "2016-03-06",
               amount="-10.00", command_id="c-1")
    assert "amount" in r.error.message


def test_r8_5_an_idempotency_conflict_comes_before_an_unknown_account(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-06", amount="10.00", command_id="c-1")
    r = submit(ledger, "credit_earnings", "nobody", "2016-03-06", amount="10.00",
               command_id="c-1")
    rejected(r, "idempotency_conflict")


def test_r8_5_an_unknown_account_comes_before_not_authorized(ledger: Ledger) -> None:
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    r = submit(ledger, "credit_earnings", "nobody", "2016-03-06", amount="10.00", actor="fl-2")
    rejected(r, "unknown_account")


def test_r8_5_a_closed_account_comes_before_a_foreign_actor(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    accept(ledger, "close_account", "fl-1", "2016-03-06")
    refuse(ledger, "account_closed", "credit_earnings", "fl-1", "2016-03-07", amount="10.00",
           actor="fl-2")
    # and before back-dating
    refuse(ledger, "account_closed", "credit_earnings", "fl-1", "2016-03-05", amount="10.00")


def test_r8_5_not_authorized_comes_before_backdated(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    accept(ledger, "credit_earnings", "fl-1", "2016-03-12", amount="10.00")
    refuse(ledger, "not_authorized", "withdraw_earnings", "fl-1", "2016-03-10",
           amount="10.00", actor="fl-2")


def test_r8_5_not_authorized_comes_before_the_commands_own_rules(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    open_account(ledger, "fl-2", "freelancer", "2016-03-05")
    refuse(ledger, "not_authorized", "withdraw_proposal", "fl-1", "2016-03-06",
           proposal_id="p-9", actor="fl-2")


def test_r8_5_backdated_comes_before_account_suspended(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "suspend_account", "fl-1", "2016-03-12")
    refuse(ledger, "backdated", "submit_proposal", "fl-1", "2016-03-10", proposal_id="p-1",
           job_id="j-1", connects=2)


def test_r8_5_future_dated_comes_before_account_suspended(
        make_ledger: Callable[..., Ledger]) -> None:
    led = make_ledger(clock="2016-05-01T00:00:00Z")
    open_account(led, "fl-1", "freelancer", "2016-03-05")
    accept(led, "suspend_account", "fl-1", "2016-03-12")
    refuse(led, "future_dated", "submit_proposal", "fl-1", "2016-05-02", proposal_id="p-1",
           job_id="j-1", connects=2)


def test_r8_5_account_suspended_comes_before_the_commands_own_rules(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    accept(ledger, "suspend_account", "fl-1", "2016-03-06")
    refuse(ledger, "account_suspended", "submit_proposal", "fl-1", "2016-03-07",
           proposal_id="p-1", job_id="j-1", connects=9)
    refuse(ledger, "account_suspended", "purchase_connects", "fl-1", "2016-03-07", quantity=7)


def test_r8_5_a_command_dated_before_2016_on_an_existing_account_is_refused_by_date(
        ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    r = submit(ledger, "credit_earnings", "fl-1", "2015-12-31", amount="5.00")
    assert r.ok is False
    assert r.error.code in ("backdated", "no_policy_in_force")


def test_r8_5_a_validation_error_names_every_bad_field(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    r = refuse(ledger, "validation_error", "submit_proposal", "fl-1", "2016-03-06",
               proposal_id="bad id!", job_id="j" * 65, connects="two", colour="red")
    for field in ("proposal_id", "job_id", "connects", "colour"):
        assert field in r.error.message, f"{field} not named in: {r.error.message}"


def test_r8_5_a_validation_error_names_bad_common_and_own_fields_together(
        ledger: Ledger) -> None:
    r = ledger.submit({"type": "purchase_connects", "account_id": "fl 1", "quantity": 0,
                       "at": "yesterday", "actor": "a/b"})
    rejected(r, "validation_error")
    for field in ("account_id", "quantity", "at", "actor"):
        assert field in r.error.message, f"{field} not named in: {r.error.message}"


def test_r8_5_a_validation_error_names_bad_earnings_fields(ledger: Ledger) -> None:
    r = ledger.submit({"type": "record_pending_earnings", "account_id": "fl-1",
                       "reference": "", "amount": "-1.00", "invited": True})
    rejected(r, "validation_error")
    for field in ("reference", "amount", "invited"):
        assert field in r.error.message, f"{field} not named in: {r.error.message}"


def test_r8_2_the_billing_run_records_nothing_after_its_through_date(ledger: Ledger) -> None:
    # Given a v2016 Basic freelancer whose first billing date is 2016-04-05
    open_account(ledger, "fl-1", "freelancer", "2016-03-05")
    version = ledger.account("fl-1").version
    # When billing runs through the day before
    ledger.run_billing(through="2016-04-04")
    # Then nothing is recorded, and a command dated 2016-04-04 is still in time
    assert ledger.account("fl-1").version == version
    r = accept(ledger, "credit_earnings", "fl-1", "2016-04-04T23:59:59Z", amount="1.00")
    assert r.events == ["EarningsCredited"]
