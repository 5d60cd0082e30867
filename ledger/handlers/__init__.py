"""Command handlers: each checks its own rules, then records its events.

The shared checks that precede every handler (existence, authorization, time,
suspension: R-8.5's order) live in `ledger.application`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger.account import Account
from ledger.handlers import (
    closing,
    connects_cmds,
    corrections,
    earnings,
    methods,
    plans,
    teams,
    work,
)
from ledger.handlers.context import Context

Handler = Callable[[Context, Account, Any, datetime], None]

HANDLERS: dict[str, Handler] = {
    "add_billing_method": methods.add_billing_method,
    "make_primary_method": methods.make_primary_method,
    "remove_billing_method": methods.remove_billing_method,
    "suspend_billing_method": methods.suspend_billing_method,
    "reinstate_billing_method": methods.reinstate_billing_method,
    "upgrade_plan": plans.upgrade_plan,
    "downgrade_plan": plans.downgrade_plan,
    "redeem_promo_code": plans.redeem_promo_code,
    "suspend_account": plans.suspend_account,
    "reinstate_account": plans.reinstate_account,
    "record_pending_earnings": earnings.record_pending_earnings,
    "release_earnings": earnings.release_earnings,
    "credit_earnings": earnings.credit_earnings,
    "withdraw_earnings": earnings.withdraw_earnings,
    "purchase_connects": connects_cmds.purchase_connects,
    "submit_proposal": connects_cmds.submit_proposal,
    "withdraw_proposal": connects_cmds.withdraw_proposal,
    "cancel_job": connects_cmds.cancel_job,
    "open_contract": work.open_contract,
    "close_contract": work.close_contract,
    "post_job": work.post_job,
    "close_job": work.close_job,
    "record_invoice": work.record_invoice,
    "pay_invoice": work.pay_invoice,
    "add_team_member": teams.add_team_member,
    "remove_team_member": teams.remove_team_member,
    "leave_team": teams.leave_team,
    "close_account": closing.close_account,
    "grant_connects": corrections.grant_connects,
    "refund_charge": corrections.refund_charge,
}

# what a suspended account may not do.
BLOCKED_WHEN_SUSPENDED = frozenset({"upgrade_plan", "purchase_connects", "submit_proposal"})
