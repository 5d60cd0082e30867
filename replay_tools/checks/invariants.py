"""Invariants that hold after every event (R-5.1, R-6.1, R-2.3) and over billing dates
(R-4.5, R-3.3, R-4.9), and no back-dating within an account (R-8.2)."""

from __future__ import annotations

from typing import Any

from replay_tools.findings import Reporter
from replay_tools.reference import ZERO, event_name
from replay_tools.stream import Stream


def before_event(s: Stream, event: Any, r: Reporter) -> None:
    name = event_name(event)
    last = s.state.last_at
    if last is not None and event.at < last:
        r.fail("invariant", "R-8.2", f"{name} is dated before the account's previous event",
               last, event.at)
    purpose = getattr(event, "purpose", None)
    day = getattr(event, "billing_date", None)
    if name == "MembershipCharged" and purpose == "renewal":
        if s.charged_on == day:
            r.fail("invariant", "R-4.5", f"a second membership charge for the billing date {day}")
        if s.failed_on == day:
            r.fail("invariant", "R-3.3", f"a charge after PaymentFailed for the billing date {day}")
        s.charged_on = day
    elif name == "PaymentFailed" and purpose == "renewal":
        if s.charged_on == day or s.failed_on == day:
            r.fail("invariant", "R-3.3", f"a second charge attempt for the billing date {day}")
        s.failed_on = day
    elif name in ("CycleRenewed", "PlanDowngraded") and getattr(
            event, "reason", None) != "refunded":  # a refund's downgrade is no outcome
        if s.outcome_on == day:
            r.fail("invariant", "R-4.9", f"a second outcome for the billing date {day}")
        s.outcome_on = day


def after_event(s: Stream, change: int, r: Reporter) -> None:
    """State invariants; each is reported when it breaks, not again while it stays broken."""
    view = s.state.view
    s.balance += change
    held = 0
    negative = None
    for lot in view.lots:
        held += lot.remaining
        if lot.remaining < 0 and negative is None:
            negative = lot
    _hold(s, r, "lot", "R-5.1", negative is not None,
          f"lot {negative.lot_id} holds {negative.remaining} Connects" if negative else "",
          0, held)
    if held != s.balance:
        r.fail("invariant", "R-5.1", "the lots do not sum to the balance the events' "
               "quantities give", s.balance, held)
        s.balance = held
    _hold(s, r, "pending", "R-6.1", view.earnings_pending < ZERO,
          "pending earnings are negative", ZERO, view.earnings_pending)
    _hold(s, r, "available", "R-6.1", view.earnings_available < ZERO,
          "available earnings are negative", ZERO, view.earnings_available)
    no_primary = bool(view.methods) and view.primary_method_id not in view.methods
    stray = not view.methods and view.primary_method_id is not None
    _hold(s, r, "primary", "R-2.3", no_primary or stray,
          "billing methods are on file but none of them is primary" if no_primary
          else "a primary method is named but none is on file",
          sorted(view.methods), view.primary_method_id)


def _hold(s: Stream, r: Reporter, key: str, rule: str, broken: bool, message: str,
          expected: Any, found: Any) -> None:
    if broken and key not in s.broken:
        s.broken.add(key)
        r.fail("invariant", rule, message, expected, found)
    elif not broken:
        s.broken.discard(key)
