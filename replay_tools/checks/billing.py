"""Scheduled facts (R-8.2, R-4.3 to R-4.9, R-5.2): each billing date's charge, its one
outcome, the rollover and the refill, and expiries by age, re-derived from the prior state
and the policy version in force on the date."""

from __future__ import annotations

from typing import Any

from replay_tools import reference
from replay_tools.checks.context import Check, discounted, expiry_date
from replay_tools.checks.funding import (
    check_attempts,
    check_charge_id,
    check_discount,
    check_paid,
)
from replay_tools.findings import Reporter
from replay_tools.stream import Block, Stream

SCHEDULED = frozenset({"ConnectsExpired", "MembershipCharged", "PaymentFailed", "CycleRenewed",
                       "PlanDowngraded", "ConnectsRefilled"})
OUTCOMES = ("CycleRenewed", "PlanDowngraded")
REASON_RULE = {"requested": "R-4.6", "suspended": "R-4.7", "payment_failed": "R-4.5"}


def is_scheduled(event: Any) -> bool:
    """Scheduled facts are the events recorded without a command (R-8.2)."""
    return getattr(event, "command_id", "") is None


def in_block(s: Stream, event: Any) -> bool:
    """Is the event one of the facts of the billing date being recorded?"""
    return s.block is not None and is_scheduled(event) and event.at.date() == s.block.day


def check_due(c: Check) -> None:
    """A command's event: every scheduled fact due at or before it is already recorded."""
    due = reference.next_scheduled(c.view)
    if due is None or reference.midnight(due) > c.event.at or c.stream.due_reported == due:
        return
    c.stream.due_reported = due
    what = "billing date" if due == c.view.next_billing_date else "expiry by age"
    c.fail("R-8.2", f"the {what} of {due} has no recorded facts before this {c.name} "
           f"dated {c.event.at.isoformat()}", category="invariant")


def scheduled(c: Check) -> None:
    e, d = c.event, c.day
    if e.at != reference.midnight(d):
        c.fail("R-4.3", "a scheduled fact does not take effect at 00:00 UTC",
               reference.midnight(d), e.at)
    if c.name not in SCHEDULED:
        c.fail("R-8.2", f"{c.name} was recorded without a command")
        return
    if c.name == "ConnectsExpired" and e.reason == "age":
        _age_expiry(c)
        return
    if c.stream.block is None or c.stream.block.day != d:
        _start_block(c)
    _step(c)


def _age_expiry(c: Check) -> None:
    d = c.day
    block = c.stream.block
    if block is not None and block.day == d:
        c.fail("R-4.9", "an expiry by age recorded after the billing date's facts of that day")
    due = reference.next_scheduled(c.view)
    if due != d:
        c.fail("R-8.2", f"an expiry by age recorded on {d}; the next scheduled fact is on "
               f"{due}", due, d)
    c.same("lots", reference.age_expiries(c.view.lots, d), "R-5.2")
    c.same("quantity", sum(n for _, n in c.event.lots), "R-5.2")


def _start_block(c: Check) -> None:
    d, view, state = c.day, c.view, c.state
    if view.next_billing_date != d:
        c.fail("R-4.3", f"billing-date facts recorded on {d}; the account's next billing date "
               f"is {view.next_billing_date}", view.next_billing_date, d)
    else:
        due = reference.next_scheduled(view)
        if due is not None and due < d:
            c.fail("R-5.2", f"Connects due to expire on {due} were not expired before the "
                   f"billing date {d}", due, d)
    version = c.version_on(d)
    block = Block(d, version, "outcome", outcome=("CycleRenewed", view.plan or "basic"))
    if view.plan == "plus":
        primary = reference.primary(view)
        if view.downgrade_pending:
            block.outcome = ("PlanDowngraded", "requested")
        elif view.status == "suspended" or (primary is not None and primary.suspended):
            block.outcome = ("PlanDowngraded", "suspended")
        elif version is not None:
            block.phase, block.outcome = "charge", None
            block.price = version.terms(view.kind, "plus").price
            block.amount, code, percent = discounted(block.price, state)
            block.promo = (code, percent)
    c.stream.block = block


def _step(c: Check) -> None:
    block = c.stream.block
    assert block is not None
    name, e = c.name, c.event
    charge = name in ("MembershipCharged", "PaymentFailed")
    if block.phase == "charge":
        if charge and e.purpose == "renewal":
            _renewal_charge(c, block)
            block.phase = "outcome"
            return
        c.fail("R-4.5", f"the Plus billing date {block.day} recorded no charge attempt "
               f"before {name}")
        block.phase = "outcome"
    if block.phase == "outcome":
        if name in OUTCOMES:
            _outcome(c, block)
            block.phase = "folding"  # the rollover is planned once the outcome is folded
            return
        if charge:  # a second charge is an invariant's finding; one where none is due:
            if block.outcome is not None and block.outcome[1] in ("requested", "suspended"):
                reason = block.outcome[1]
                c.fail(REASON_RULE[reason], f"a charge on the billing date {block.day}, where "
                       f"the rules downgrade without one ({reason})")
            return
        c.fail("R-4.9", f"the billing date {block.day} has no outcome (CycleRenewed or "
               f"PlanDowngraded) before {name}", category="invariant")
        plan_rollover(c.stream, block)
    if block.phase == "rollover":
        if name == "ConnectsExpired" and e.reason.startswith("rollover"):
            _rollover(c, block)
            block.phase = "refill"
            return
        if block.rollover:
            c.fail("R-5.2", f"the rollover expiry of the billing date {block.day} is missing",
                   block.rollover, None)
        block.phase = "refill"
    if block.phase == "refill":
        if name == "ConnectsRefilled":
            _refill(c, block)
            block.phase = "done"
            return
        if block.monthly is not None:
            c.fail("R-4.4", f"the refill of the billing date {block.day} is missing",
                   block.monthly, None)
        block.phase = "done"
    if not (charge or name in OUTCOMES):  # repeated charges and outcomes: invariants
        c.fail("R-4.9", f"{name} recorded on the billing date {block.day} after its refill")


def _renewal_charge(c: Check, block: Block) -> None:
    e, version = c.event, block.version
    c.same("billing_date", block.day, "R-4.5")
    if c.name == "MembershipCharged":
        c.same("list_price", block.price, "R-4.5")
        if version is not None:
            c.same("policy_version", version.name, "R-0")
        check_discount(c)
        check_paid(c, e.amount)
        check_charge_id(c, reference.renewal_charge_key(c.view.account_id, block.day))
        block.outcome = ("CycleRenewed", "plus")
        return
    c.same("amount", block.amount, "R-4.8")
    blocker = reference.cannot_attempt(c.view, e.amount)
    if blocker is not None:
        c.same("reason", blocker, "R-4.5")
        c.same("attempts", [], "R-4.5")
    else:
        check_attempts(c, e.attempts, approved=False)
    block.outcome = ("PlanDowngraded", "payment_failed")


def _outcome(c: Check, block: Block) -> None:
    d, version = block.day, block.version
    if block.outcome is not None:
        expected, detail = block.outcome
        rule = "R-4.5" if expected == "CycleRenewed" else REASON_RULE.get(detail, "R-4.5")
        if c.name != expected:
            c.fail(rule, f"the outcome of the billing date {d} is {c.name}; the rules give "
                   f"{expected} ({detail})", expected, c.name)
        elif expected == "CycleRenewed":
            c.same("plan", detail, rule)
        else:
            c.same("reason", detail, rule)
    c.same("billing_date", d, "R-4.9")
    c.same("cycle_start", d, "R-4.3")
    if version is not None:
        billing_day = reference.billing_day(d, version.last_billable_day)
        c.same("billing_day", billing_day, "R-4.3")
        c.same("next_billing_date", reference.next_billing_date(d, billing_day), "R-4.3")
        c.same("policy_version", version.name, "R-0")


def plan_rollover(s: Stream, block: Block) -> None:
    """What the plan now in force expires and grants on the billing date (R-4.9, R-5.2)."""
    view = s.state.view
    block.phase = "rollover"
    if block.version is None or view.kind not in ("freelancer", "agency"):
        return
    terms = block.version.terms(view.kind, view.plan or "basic")
    block.rollover = reference.rollover_expiries(view.lots, terms.rollover, terms.rollover_cap)
    block.monthly = terms.monthly_connects


def _rollover(c: Check, block: Block) -> None:
    c.same("lots", block.rollover, "R-5.2")
    c.same("quantity", sum(n for _, n in c.event.lots), "R-5.2")
    if block.version is not None:
        terms = block.version.terms(c.view.kind, c.view.plan or "basic")
        c.same("reason", f"rollover_{terms.rollover}", "R-5.2")
        c.same("policy_version", block.version.name, "R-0")


def _refill(c: Check, block: Block) -> None:
    c.same("quantity", block.monthly, "R-4.4")
    c.same("plan", c.view.plan or "basic", "R-4.4")
    c.same("lot_id", c.view.next_lot_id, "R-5.1")
    if block.version is not None:
        c.same("policy_version", block.version.name, "R-0")
        c.same("expires_on", expiry_date(block.version, block.day), "R-5.2")


def finish_block(s: Stream, r: Reporter) -> None:
    """The billing date's facts are over: report what the rules wanted and is missing."""
    block, s.block = s.block, None
    if block is None or block.phase == "done":
        return
    if block.phase in ("charge", "outcome"):
        r.fail("invariant", "R-4.9", f"the billing date {block.day} has no outcome "
               "(CycleRenewed or PlanDowngraded)")
        return
    if block.phase == "rollover" and block.rollover:
        r.fail("rederive", "R-5.2", f"the rollover expiry of the billing date {block.day} is "
               "missing", block.rollover, None)
    if block.phase in ("rollover", "refill") and block.monthly is not None:
        r.fail("rederive", "R-4.4", f"the refill of the billing date {block.day} is missing",
               block.monthly, None)
