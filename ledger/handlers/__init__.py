"""Command handlers: each checks its own rules, then records its events.

The shared checks that precede every handler (existence, authorization, time,
suspension: R-8.5's order) live in `ledger.application`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger import commands
from ledger.account import Account
from ledger.commands import Command
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

Handler = Callable[[Context, Account, Any, datetime], None]  # keyed by command class

HANDLERS: dict[type[Command], Handler] = {
    commands.AddBillingMethod: methods.add_billing_method,
    commands.MakePrimaryMethod: methods.make_primary_method,
    commands.RemoveBillingMethod: methods.remove_billing_method,
    commands.SuspendBillingMethod: methods.suspend_billing_method,
    commands.ReinstateBillingMethod: methods.reinstate_billing_method,
    commands.UpgradePlan: plans.upgrade_plan,
    commands.DowngradePlan: plans.downgrade_plan,
    commands.RedeemPromoCode: plans.redeem_promo_code,
    commands.SuspendAccount: plans.suspend_account,
    commands.ReinstateAccount: plans.reinstate_account,
    commands.RecordPendingEarnings: earnings.record_pending_earnings,
    commands.ReleaseEarnings: earnings.release_earnings,
    commands.CreditEarnings: earnings.credit_earnings,
    commands.WithdrawEarnings: earnings.withdraw_earnings,
    commands.PurchaseConnects: connects_cmds.purchase_connects,
    commands.SubmitProposal: connects_cmds.submit_proposal,
    commands.WithdrawProposal: connects_cmds.withdraw_proposal,
    commands.CancelJob: connects_cmds.cancel_job,
    commands.OpenContract: work.open_contract,
    commands.CloseContract: work.close_contract,
    commands.PostJob: work.post_job,
    commands.CloseJob: work.close_job,
    commands.RecordInvoice: work.record_invoice,
    commands.PayInvoice: work.pay_invoice,
    commands.AddTeamMember: teams.add_team_member,
    commands.RemoveTeamMember: teams.remove_team_member,
    commands.LeaveTeam: teams.leave_team,
    commands.CloseAccount: closing.close_account,
    commands.GrantConnects: corrections.grant_connects,
    commands.RefundCharge: corrections.refund_charge,
}

# what a suspended account may not do.
BLOCKED_WHEN_SUSPENDED = frozenset({"upgrade_plan", "purchase_connects", "submit_proposal"})
