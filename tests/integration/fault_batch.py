"""One batch of commands touching every kind of stream and several at once (team
commands, owned accounts), dated across months so that scheduled facts (renewals,
refills, a requested downgrade) are caught up inside it. In a clean run every command
is accepted."""

from __future__ import annotations

from typing import Any


def _card(account_id: str, method_id: str, at: str, token: str) -> dict[str, Any]:
    return {"type": "add_billing_method", "account_id": account_id, "method_id": method_id,
            "method": "card", "brand": "visa", "last4": "4242", "exp_month": 11,
            "exp_year": 2034, "token": token, "at": at}


STEPS: list[dict[str, Any]] = [
    {"type": "open_account", "account_id": "fl-1", "kind": "freelancer", "at": "2030-06-01"},
    {"type": "open_account", "account_id": "fl-2", "kind": "freelancer", "at": "2030-06-01"},
    {"type": "open_account", "account_id": "mb-1", "kind": "member", "at": "2030-06-01"},
    {"type": "open_account", "account_id": "co-1", "kind": "company", "owner_id": "mb-1",
     "at": "2030-06-02"},
    {"type": "open_account", "account_id": "ag-1", "kind": "agency", "owner_id": "fl-1",
     "at": "2030-06-02"},
    _card("fl-1", "m-1", "2030-06-03", "tok_ok_fl1"),
    {"type": "upgrade_plan", "account_id": "fl-1", "at": "2030-06-03"},
    {"type": "credit_earnings", "account_id": "fl-1", "amount": "50.00", "at": "2030-06-04"},
    {"type": "purchase_connects", "account_id": "fl-1", "quantity": 20, "at": "2030-06-05"},
    {"type": "submit_proposal", "account_id": "fl-1", "proposal_id": "p-1", "job_id": "j-1",
     "connects": 4, "at": "2030-06-06"},
    {"type": "add_team_member", "account_id": "ag-1", "actor": "fl-1", "member_id": "fl-2",
     "role": "member", "at": "2030-06-07"},
    {"type": "record_pending_earnings", "account_id": "fl-2", "reference": "r-1",
     "amount": "30.00", "at": "2030-06-08"},
    {"type": "release_earnings", "account_id": "fl-2", "reference": "r-1", "at": "2030-06-20"},
    {"type": "withdraw_earnings", "account_id": "fl-2", "amount": "10.00", "at": "2030-07-01"},
    {"type": "post_job", "account_id": "co-1", "actor": "mb-1", "job_id": "job-1",
     "at": "2030-07-02"},
    {"type": "add_team_member", "account_id": "co-1", "actor": "mb-1", "member_id": "fl-2",
     "role": "manager", "at": "2030-07-03"},
    {"type": "open_contract", "account_id": "co-1", "actor": "fl-2", "contract_id": "c-1",
     "hourly": True, "role": "client", "at": "2030-07-04"},
    {"type": "record_invoice", "account_id": "co-1", "invoice_id": "inv-1", "amount": "120.00",
     "at": "2030-07-05"},
    {"type": "pay_invoice", "account_id": "co-1", "actor": "mb-1", "invoice_id": "inv-1",
     "at": "2030-07-10"},
    {"type": "close_contract", "account_id": "co-1", "actor": "fl-2", "contract_id": "c-1",
     "at": "2030-08-01"},
    {"type": "close_job", "account_id": "co-1", "actor": "mb-1", "job_id": "job-1",
     "at": "2030-08-02"},
    {"type": "submit_proposal", "account_id": "fl-1", "proposal_id": "p-2", "job_id": "j-2",
     "connects": 6, "at": "2030-08-03"},
    {"type": "cancel_job", "account_id": "fl-1", "job_id": "j-2",
     "reason": "cancelled_without_hire", "at": "2030-08-10"},
    {"type": "withdraw_proposal", "account_id": "fl-1", "proposal_id": "p-1",
     "at": "2030-08-11"},
    {"type": "downgrade_plan", "account_id": "fl-1", "at": "2030-08-12"},
    {"type": "credit_earnings", "account_id": "fl-2", "amount": "5.00", "at": "2030-09-10"},
    {"type": "purchase_connects", "account_id": "fl-2", "quantity": 10, "at": "2030-09-11"},
    {"type": "suspend_account", "account_id": "fl-2", "reason": "review", "at": "2030-09-12"},
    {"type": "reinstate_account", "account_id": "fl-2", "at": "2030-09-13"},
    _card("fl-2", "m-1", "2030-09-14", "tok_ok_fl2a"),
    _card("fl-2", "m-2", "2030-09-14", "tok_ok_fl2b"),
    {"type": "make_primary_method", "account_id": "fl-2", "method_id": "m-2",
     "at": "2030-09-15"},
    {"type": "remove_billing_method", "account_id": "fl-2", "method_id": "m-1",
     "at": "2030-09-16"},
    {"type": "upgrade_plan", "account_id": "fl-2", "promo_code": "PLUSMONTH",
     "at": "2030-10-01"},
    {"type": "remove_team_member", "account_id": "ag-1", "actor": "fl-1", "member_id": "fl-2",
     "at": "2030-10-05"},
    {"type": "leave_team", "account_id": "fl-2", "team_id": "co-1", "at": "2030-10-06"},
    {"type": "withdraw_earnings", "account_id": "fl-1", "amount": "10.00", "at": "2030-11-01"},
    {"type": "suspend_billing_method", "account_id": "fl-1", "method_id": "m-1",
     "at": "2030-11-02"},
    {"type": "reinstate_billing_method", "account_id": "fl-1", "method_id": "m-1",
     "at": "2030-11-03"},
    {"type": "credit_earnings", "account_id": "fl-2", "amount": "1.00", "at": "2030-12-20"},
]
ACCOUNTS = ["fl-1", "fl-2", "mb-1", "co-1", "ag-1"]
POINTS = ["2030-06-05", "2030-07-03T12:00:00Z", "2030-09-03", "2030-12-31"]


def batch(prefix: str = "k") -> list[dict[str, Any]]:
    return [{**step, "command_id": f"{prefix}-{n:02d}"} for n, step in enumerate(STEPS)]
