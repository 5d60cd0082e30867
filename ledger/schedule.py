"""Scheduled facts (R-8.2): billing dates and lot expiries, recorded in date order.

Before any command dated t, and in the billing run, every fact of an account that
falls on or before t is recorded first, each effective at 00:00 UTC of its date.
On one date, age expiries come first, then the billing date in the order of R-4.9:
the plan change that falls due, then rollover and expiry, then the refill.
"""

from __future__ import annotations

from datetime import date, datetime

from ledger import connects, cycles
from ledger.account import Account
from ledger.handlers.context import Context
from ledger.payments import pay, primary_method, renewal_blocker, renewal_payment_key
from ledger.policy import PolicyVersion
from ledger.pricing import discounted, expiry_date
from ledger.state import View


def next_fact_date(view: View) -> date | None:
    """The earliest scheduled fact of an account, or None (closed, or nothing due)."""
    if view.status == "closed":
        return None
    dates = [d for d in (connects.earliest_expiry(view.lots), view.next_billing_date) if d]
    return min(dates) if dates else None


def catch_up(ctx: Context, acct: Account, through: datetime) -> None:
    """Record every scheduled fact dated on or before `through`."""
    previously = ctx.scheduled
    ctx.scheduled = True
    try:
        while (day := next_fact_date(acct.state.view)) is not None and (
            cycles.start_of(day) <= through
        ):
            expire_by_age(ctx, acct, day)
            if acct.state.view.next_billing_date == day:
                billing_date(ctx, acct, day)
            following = next_fact_date(acct.state.view)
            if following is not None and following <= day:
                # A fact that does not move the schedule on would repeat forever.
                raise RuntimeError(f"{acct.state.view.account_id}: the scheduled facts of "
                                   f"{day} left the next one at {following}")
    finally:
        ctx.scheduled = previously


def expire_by_age(ctx: Context, acct: Account, day: date) -> None:
    takes = connects.expired_by_age(acct.state.view.lots, day)
    if takes:
        ctx.emit(acct, Account.ConnectsExpired, cycles.start_of(day), reason="age",
                 quantity=sum(n for _, n in takes), lots=[list(t) for t in takes],
                 policy_version=None)


def billing_date(ctx: Context, acct: Account, day: date) -> None:
    view = acct.state.view
    version = ctx.catalog.version_on(day)
    at = cycles.start_of(day)
    if view.plan == "plus":
        renew_plus(ctx, acct, day, version)
    else:
        start_cycle(ctx, acct, day, version, "basic", downgrade_reason=None)
    terms = version.terms(view.kind, view.plan or "basic")
    takes = connects.expired_by_rollover(view.lots, terms.rollover, terms.rollover_cap)
    if takes:
        ctx.emit(acct, Account.ConnectsExpired, at, reason=f"rollover_{terms.rollover}",
                 quantity=sum(n for _, n in takes), lots=[list(t) for t in takes],
                 policy_version=version.name)
    # every billing date refills, even by 0 under a policy granting none.
    ctx.emit(acct, Account.ConnectsRefilled, at, lot_id=view.next_lot_id,
             quantity=terms.monthly_connects, expires_on=expiry_date(version, day),
             plan=view.plan or "basic", policy_version=version.name)


def renew_plus(ctx: Context, acct: Account, day: date, version: PolicyVersion) -> None:
    view = acct.state.view
    primary = primary_method(view)
    if view.downgrade_pending:
        start_cycle(ctx, acct, day, version, "basic", downgrade_reason="requested")
        return
    if view.status == "suspended" or (primary is not None and primary.suspended):
        start_cycle(ctx, acct, day, version, "basic", downgrade_reason="suspended")
        return
    price = version.terms(view.kind, "plus").price
    amount, code, percent = discounted(price, acct.state)
    at = cycles.start_of(day)
    blocker = renewal_blocker(view, amount)
    key = renewal_payment_key(view.account_id, day)
    funding = None if blocker else pay(view, amount, ctx.gateway, key)
    if funding is None or not funding.approved:
        ctx.emit(acct, Account.PaymentFailed, at, purpose="renewal", amount=amount,
                 reason=blocker or (funding.reason if funding else ""),
                 method_id=funding.method_id if funding else view.primary_method_id,
                 attempts=funding.attempts if funding else [], billing_date=day,
                 gateway_key=key)
        start_cycle(ctx, acct, day, version, "basic", downgrade_reason="payment_failed")
        return
    ctx.emit(acct, Account.MembershipCharged, at, purpose="renewal", billing_date=day,
             list_price=price, amount=amount, promo_code=code, percent_off=percent,
             policy_version=version.name, **funding.charge_fields())
    start_cycle(ctx, acct, day, version, "plus", downgrade_reason=None)


def start_cycle(ctx: Context, acct: Account, day: date, version: PolicyVersion, plan: str,
                downgrade_reason: str | None) -> None:
    """The billing date's one outcome: CycleRenewed, or PlanDowngraded with its reason."""
    billing_day = cycles.billing_day_for(day, version.last_billable_day)
    fields = dict(billing_date=day, cycle_start=day, billing_day=billing_day,
                  next_billing_date=cycles.next_billing_date(day, billing_day),
                  policy_version=version.name)
    at = cycles.start_of(day)
    if downgrade_reason is None:
        ctx.emit(acct, Account.CycleRenewed, at, plan=plan, **fields)
    else:
        ctx.emit(acct, Account.PlanDowngraded, at, reason=downgrade_reason, **fields)
