"""Who paid (R-3.1) and what the gateway was asked (R-2.5, R-2.6, R-3.3), from the prior
state and the gateway's recorded answers (`attempts`); replay never calls a gateway."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from replay_tools.checks.context import Check, discounted
from replay_tools.reference import (
    backup_card,
    charge_id_of,
    paying_source,
    percent_off,
    primary,
)

ZERO = Decimal("0")


def expected_source(c: Check, amount: Decimal) -> str:
    return paying_source(c.view, amount)


def check_paid(c: Check, amount: Decimal) -> None:
    """A charge recorded as paid: the source R-3.1 gives, and approved attempts if a method."""
    e = c.event
    source = expected_source(c, amount)
    if e.source != source:
        c.fail("R-3.1", f"{amount} was paid from {e.source}; available earnings "
               f"{c.view.earnings_available} give {source}", source, e.source)
        return
    if source != "method":
        if e.attempts or e.method_id is not None:
            c.fail("R-3.1", f"paid from {source}, yet a billing method was charged",
                   [], e.attempts)
        return
    check_attempts(c, e.attempts, approved=True)
    if e.attempts and e.method_id != e.attempts[-1][0]:
        c.fail("R-2.5", "the method recorded is not the one whose charge was approved",
               e.attempts[-1][0], e.method_id)


def check_attempts(c: Check, attempts: list[list[Any]], approved: bool) -> None:
    """The waterfall: the primary first; a declined PayPal falls back once to the oldest
    active card; the recorded answers must give the recorded outcome."""
    first = primary(c.view)
    if first is None:
        c.fail("R-3.2", "a billing method was charged, but the account has no primary method")
        return
    if first.suspended:
        c.fail("R-2.6", f"the suspended primary method {first.method_id} was charged")
    expected = [first.method_id]
    backup = backup_card(c.view)
    declined_first = bool(attempts) and not attempts[0][1]
    if declined_first and first.method == "paypal" and backup is not None:
        expected.append(backup.method_id)
    found = [a[0] for a in attempts]
    if found != expected:
        c.fail("R-2.5", "the methods charged are not the primary then (for a declined "
               "PayPal) the oldest active card", expected, found)
    answers = [bool(a[1]) for a in attempts]
    if approved and (not answers or not answers[-1]):
        c.fail("R-3.3", "recorded as paid, but the gateway declined every attempt",
               True, answers)
    if not approved and any(answers):
        c.fail("R-3.3", "recorded as failed, but the gateway approved an attempt",
               False, answers)
    if any(answers[:-1]):
        c.fail("R-2.5", "a method was charged again after an approved attempt", None, answers)


def check_discount(c: Check) -> None:
    """A membership charge is its list price after the first live promo benefit, or after
    the code redeemed with the same upgrade: its own charge is the first it covers (R-4.8)."""
    amount, code, percent = discounted(c.event.list_price, c.state)
    redeemed = c.stream.redeemed
    if redeemed is not None and redeemed[1] == c.event.command_id:
        benefit = next((b for b in c.state.promo_benefits if b.code == redeemed[0]), None)
        if benefit is not None:
            code, percent = benefit.code, benefit.percent_off
            amount = percent_off(c.event.list_price, percent)
    c.same("promo_code", code, "R-4.8")
    c.same("percent_off", percent, "R-4.8")
    c.same("amount", amount, "R-4.8")


BACKUP = ":backup"  # a declined PayPal charge's second request, to the backup card


def check_charge_id(c: Check, key: str) -> None:
    """A charge's id comes from its idempotency key (R-9.2), is this account's only charge
    of that id, and a method's capture names the request that took the money (R-3.4).
    Charges stored before charge ids existed carry none."""
    e = c.event
    if e.charge_id is None:
        return
    c.same("charge_id", charge_id_of(key), "R-9.2")
    if e.charge_id in c.state.charges:
        c.fail("R-9.2", f"a second charge with the id {e.charge_id}")
    captured = key if len(e.attempts) <= 1 else key + BACKUP
    c.same("gateway_key", captured if e.source == "method" else None, "R-3.4")
