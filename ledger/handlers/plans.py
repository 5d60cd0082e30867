"""Plans, promo codes and account suspension (R-4, R-1.3)."""

from __future__ import annotations

from datetime import datetime

from ledger import connects, cycles
from ledger.account import Account
from ledger.commands import (
    DowngradePlan,
    RedeemPromoCode,
    ReinstateAccount,
    SuspendAccount,
    UpgradePlan,
)
from ledger.errors import LedgerError, a_kind
from ledger.handlers.context import Context, charge_or_fail
from ledger.policy import PromoCode
from ledger.pricing import discounted, expiry_date
from ledger.state import AccountState, PromoBenefit, View


def _require_plan(view: View) -> None:
    if not view.has_plan:
        raise LedgerError("no_plan", f"{a_kind(view.kind)} account has no membership plan",
                          rule="R-4.1")


def _check_promo(ctx: Context, acct: Account, code: str, at: datetime,
                 upgrading: bool) -> PromoCode:
    promo = ctx.catalog.promo(code)
    view = acct.state.view
    if promo is None:
        raise LedgerError("promo_unknown", f"there is no promo code {code}", rule="R-4.8")
    if not promo.valid_from <= at.date() <= promo.valid_to:
        raise LedgerError("promo_expired",
                          f"{code} is valid from {promo.valid_from} to {promo.valid_to}",
                          rule="R-4.8")
    if code in acct.state.promos_redeemed:
        raise LedgerError("promo_already_redeemed",
                          f"{code} was already redeemed on {view.account_id}", rule="R-4.8")
    if view.kind not in promo.kinds:
        raise LedgerError("promo_not_applicable",
                          f"{code} applies to {', '.join(promo.kinds)} accounts", rule="R-4.8")
    if "plus" not in promo.plans or (view.plan != "plus" and not upgrading):
        raise LedgerError("promo_not_applicable",
                          f"{code} applies to a Plus membership: redeem it with the upgrade",
                          rule="R-4.8")
    return promo


def _redeem(ctx: Context, acct: Account, promo: PromoCode, at: datetime) -> None:
    ctx.emit(acct, Account.PromoCodeRedeemed, at, code=promo.code,
             percent_off=promo.percent_off, charges=promo.charges)


def upgrade_plan(ctx: Context, acct: Account, cmd: UpgradePlan, at: datetime) -> None:
    view = acct.state.view
    _require_plan(view)
    if view.plan == "plus":
        if not view.downgrade_pending:
            raise LedgerError("already_plus", f"{cmd.account_id} is already on Plus",
                              rule="R-4.6")
        promo = _check_promo(ctx, acct, cmd.promo_code, at, False) if cmd.promo_code else None
        assert view.next_billing_date is not None
        # inside the paid cycle an upgrade only cancels the downgrade.
        ctx.emit(acct, Account.DowngradeCancelled, at, billing_date=view.next_billing_date)
        if promo:
            _redeem(ctx, acct, promo, at)
        return
    promo = _check_promo(ctx, acct, cmd.promo_code, at, True) if cmd.promo_code else None
    if not view.methods:
        raise LedgerError("billing_method_required",
                          "a membership needs a billing method on file, even when earnings "
                          "pay; add one first", rule="R-3.2")
    version = ctx.version_on(at)
    price = version.terms(view.kind, "plus").price
    # A code redeemed with the upgrade pays for the upgrade's own charge first.
    amount, code, percent = discounted(price, _preview(promo) if promo else acct.state)
    funding = charge_or_fail(ctx, acct, at, "upgrade", amount,
                             f"the upgrade charge of {amount} USD was declined; the account "
                             "stays on Basic")
    day = at.date()
    basic = version.terms(view.kind, "basic")
    plus = version.terms(view.kind, "plus")
    days = (day - (view.last_refill_on or view.cycle_start or day)).days
    granted = connects.proration_connects(days, basic.monthly_connects, plus.monthly_connects)
    if promo is not None:
        _redeem(ctx, acct, promo, at)
    billing_day = cycles.billing_day_for(day, version.last_billable_day)
    ctx.emit(acct, Account.PlanUpgraded, at, cycle_start=day, billing_day=billing_day,
             next_billing_date=cycles.next_billing_date(day, billing_day),
             policy_version=version.name, promo_code=code)
    ctx.emit(acct, Account.MembershipCharged, at, purpose="upgrade", billing_date=day,
             list_price=price, amount=amount, promo_code=code, percent_off=percent,
             policy_version=version.name, **funding.charge_fields())
    if granted:
        ctx.emit(acct, Account.ConnectsGranted, at, lot_id=view.next_lot_id, quantity=granted,
                 expires_on=expiry_date(version, day), source="proration", days=days,
                 policy_version=version.name)


def _preview(promo: PromoCode) -> AccountState:
    """Promo state holding just `promo`, to price the upgrade it is redeemed with."""
    preview = AccountState()
    preview.promo_benefits = [PromoBenefit(promo.code, promo.percent_off, promo.charges)]
    return preview


def downgrade_plan(ctx: Context, acct: Account, cmd: DowngradePlan, at: datetime) -> None:
    view = acct.state.view
    _require_plan(view)
    if view.plan != "plus":
        raise LedgerError("not_plus", f"{cmd.account_id} is on Basic already", rule="R-4.6")
    if view.downgrade_pending:
        raise LedgerError("downgrade_pending",
                          f"a downgrade is already scheduled for {view.next_billing_date}",
                          rule="R-4.9")
    assert view.next_billing_date is not None
    ctx.emit(acct, Account.DowngradeScheduled, at, effective_on=view.next_billing_date)


def redeem_promo_code(ctx: Context, acct: Account, cmd: RedeemPromoCode, at: datetime) -> None:
    # A kind without a plan is a promo that does not apply, found by _check_promo.
    _redeem(ctx, acct, _check_promo(ctx, acct, cmd.code, at, False), at)


def suspend_account(ctx: Context, acct: Account, cmd: SuspendAccount, at: datetime) -> None:
    if acct.state.view.status != "suspended":
        ctx.emit(acct, Account.AccountSuspended, at, reason=cmd.reason)


def reinstate_account(ctx: Context, acct: Account, cmd: ReinstateAccount, at: datetime) -> None:
    if acct.state.view.status == "suspended":
        ctx.emit(acct, Account.AccountReinstated, at, reason=cmd.reason)
