"""Deciding one command against loaded accounts, in R-8.5's order of checks.

validation (done by the parser) -> idempotency (by the caller) -> unknown / closed
account -> authorization -> back-dating, future dating, policy in force -> catch-up
of scheduled facts (R-8.2) -> suspension -> the command's own rules (its handler).
The decision is left as pending events on the touched accounts; the caller saves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.account import Account
from ledger.commands import Command, OpenAccount
from ledger.errors import LedgerError, PaymentDeclined
from ledger.handlers import BLOCKED_WHEN_SUSPENDED, HANDLERS
from ledger.handlers.authorization import authorize
from ledger.handlers.context import Context
from ledger.handlers.opening import check_opening, open_account
from ledger.policy import Catalog
from ledger.schedule import catch_up


@dataclass
class Decision:
    error: LedgerError | None = None
    time_checked: bool = False  # the scheduled facts before `at` may be recorded

    @property
    def payment_failed(self) -> bool:
        return isinstance(self.error, PaymentDeclined)


def decide(ctx: Context, command: Command, at: datetime, now: datetime) -> Decision:
    decision = Decision()
    try:
        acct = ctx.load(command.account_id)
        if isinstance(command, OpenAccount):
            if acct is not None:
                raise LedgerError("account_exists", f"{command.account_id} already exists",
                                  rule="R-1.1")
            check_opening(ctx, command)
            check_time(ctx.catalog, None, at, now)
            decision.time_checked = True
            open_account(ctx, command, at)
            return decision
        acct = _existing(acct, command)
        authorize(acct.state, command)
        check_time(ctx.catalog, acct.state.last_at, at, now)
        decision.time_checked = True
        ctx.touch(acct)
        catch_up(ctx, acct, at)
        if acct.state.view.status == "suspended" and command.type in BLOCKED_WHEN_SUSPENDED:
            raise LedgerError("account_suspended",
                              f"{command.account_id} is suspended; reinstate it first",
                              rule="R-1.3")
        HANDLERS[type(command)](ctx, acct, command, at)
    except LedgerError as exc:
        decision.error = exc
    return decision


def check_time(catalog: Catalog, last_at: datetime | None, at: datetime, now: datetime) -> None:
    if last_at is not None and at < last_at:
        raise LedgerError(
            "backdated",
            f"the command is dated {at.isoformat()}, before the account's latest event "
            f"({last_at.isoformat()}); record a correction dated now instead", rule="R-8.2")
    if at > now:
        raise LedgerError("future_dated",
                          f"the command is dated {at.isoformat()}, after the ledger's clock "
                          f"({now.isoformat()})", rule="R-8.2")
    catalog.version_on(at.date())


def _existing(acct: Account | None, command: Command) -> Account:
    if acct is None:
        raise LedgerError("unknown_account",
                          f"{command.account_id} does not exist; open it first", rule="R-1.1")
    if acct.state.view.status == "closed":
        raise LedgerError("account_closed", f"{command.account_id} is closed", rule="R-1.3")
    return acct
