"""The account view of INTERFACE.md, from a folded `View` at an instant."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger import connects
from ledger.policy import Catalog
from ledger.results import AccountView, Earnings, MethodView
from ledger.state import View

HORIZON = timedelta(days=30)


def expiring_within_30_days(view: View, as_of: datetime, catalog: Catalog) -> int:
    """Connects that scheduled facts will expire in the next 30 days, the plan as it stands:
    lots expiring by age, and the rollover of the next billing date if it falls in the
    window (under the plan then in force: Basic after a pending downgrade)."""
    if view.status == "closed":
        return 0
    horizon = (as_of + HORIZON).date()
    lots = [connects.Lot(lot.lot_id, lot.source, lot.issued_on, lot.expires_on, lot.remaining)
            for lot in view.lots if lot.remaining]
    expiring = 0

    def expire(takes: list[connects.Take]) -> None:
        nonlocal expiring
        expiring += sum(n for _, n in takes)
        connects.apply_takes(lots, takes)

    nbd = view.next_billing_date
    if nbd is not None and nbd <= horizon and view.plan is not None:
        expire(connects.expired_by_age(lots, nbd))
        terms = catalog.version_on(nbd).terms(
            view.kind, "basic" if view.downgrade_pending else view.plan)
        expire(connects.expired_by_rollover(lots, terms.rollover, terms.rollover_cap))
    expire(connects.expired_by_age(lots, horizon))
    return expiring


def render_view(view: View, version: int, as_of: datetime, known_at: datetime | None,
                catalog: Catalog) -> AccountView:
    nbd = view.next_billing_date
    return AccountView(
        account_id=view.account_id,
        kind=view.kind,
        status=view.status,
        plan=view.plan,
        downgrade_pending=view.downgrade_pending,
        policy_version=view.policy_version,
        billing_day=view.billing_day,
        cycle_start=view.cycle_start,
        next_billing_date=nbd,
        connects=view.connects,
        connects_expiring_30d=expiring_within_30_days(view, as_of, catalog),
        earnings=Earnings(pending=view.earnings_pending, available=view.earnings_available),
        billing_methods=[
            MethodView(method_id=m.method_id, method=m.method, brand=m.brand, last4=m.last4,
                       primary=m.method_id == view.primary_method_id, suspended=m.suspended)
            for m in sorted(view.methods.values(), key=lambda m: m.seq)
        ],
        as_of=as_of,
        known_at=known_at,
        version=version,
        billing_due=nbd if nbd is not None and nbd <= as_of.date() and view.status != "closed"
        else None,
    )
