"""Jobs, contracts and invoices: the activity that blocks closure (R-7)."""

from __future__ import annotations

from datetime import datetime

from ledger import cycles
from ledger.account import Account
from ledger.commands import (
    CloseContract,
    CloseJob,
    OpenContract,
    PayInvoice,
    PostJob,
    RecordInvoice,
)
from ledger.errors import LedgerError
from ledger.handlers.context import Context


def _duplicate(what: str, ident: str) -> LedgerError:
    return LedgerError("duplicate_id", f"{what} {ident} already exists", rule="R-6.1")


def open_contract(ctx: Context, acct: Account, cmd: OpenContract, at: datetime) -> None:
    if cmd.contract_id in acct.state.contracts:
        raise _duplicate("contract", cmd.contract_id)
    ctx.emit(acct, Account.ContractOpened, at, contract_id=cmd.contract_id, hourly=cmd.hourly,
             role=cmd.role)


def close_contract(ctx: Context, acct: Account, cmd: CloseContract, at: datetime) -> None:
    contract = acct.state.contracts.get(cmd.contract_id)
    if contract is None or not contract[2]:
        raise LedgerError("unknown_contract", f"no open contract {cmd.contract_id}",
                          rule="R-7.1")
    hourly = contract[0]
    ctx.emit(acct, Account.ContractClosed, at, contract_id=cmd.contract_id, hourly=hourly,
             billing_week_ends=cycles.week_end_after(at) if hourly else None)


def post_job(ctx: Context, acct: Account, cmd: PostJob, at: datetime) -> None:
    if cmd.job_id in acct.state.posted_jobs:
        raise _duplicate("job", cmd.job_id)
    ctx.emit(acct, Account.JobPosted, at, job_id=cmd.job_id)


def close_job(ctx: Context, acct: Account, cmd: CloseJob, at: datetime) -> None:
    if not acct.state.posted_jobs.get(cmd.job_id):
        raise LedgerError("unknown_job", f"no open job {cmd.job_id}", rule="R-7.3")
    ctx.emit(acct, Account.JobClosed, at, job_id=cmd.job_id)


def record_invoice(ctx: Context, acct: Account, cmd: RecordInvoice, at: datetime) -> None:
    if cmd.invoice_id in acct.state.invoices:
        raise _duplicate("invoice", cmd.invoice_id)
    ctx.emit(acct, Account.InvoiceRecorded, at, invoice_id=cmd.invoice_id, amount=cmd.amount)


def pay_invoice(ctx: Context, acct: Account, cmd: PayInvoice, at: datetime) -> None:
    invoice = acct.state.invoices.get(cmd.invoice_id)
    if invoice is None or invoice[1]:
        raise LedgerError("unknown_invoice", f"no unpaid invoice {cmd.invoice_id}",
                          rule="R-7.3")
    ctx.emit(acct, Account.InvoicePaid, at, invoice_id=cmd.invoice_id, amount=invoice[0])
