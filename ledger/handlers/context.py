"""What a command handler works with: the catalog, the gateway, the clock's stamp,
and the accounts the command touches (saved together, in one transaction)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from ledger.account import Account, digest_of
from ledger.errors import LedgerError, PaymentDeclined
from ledger.payments import (
    KEY_REUSED,
    Funding,
    Gateway,
    check_method_can_pay,
    command_payment_key,
    pay,
)
from ledger.policy import Catalog, PolicyVersion

Loader = Callable[[str], Account | None]


@dataclass
class Context:
    catalog: Catalog
    gateway: Gateway
    recorded_at: datetime  # the ledger clock's now: every event's recorded timestamp
    command_id: str | None
    loader: Loader
    touched: dict[str, Account] = field(default_factory=dict)
    charge_ids: list[str] = field(default_factory=list)  # charges this decision made
    scheduled: bool = False  # True while recording scheduled facts
    # Pending events each touched account already had (earlier commands of a batch).
    marks: dict[str, int] = field(default_factory=dict)
    principal: str | None = None  # who sent it, recorded on every event
    actor: str | None = None  # the person acting (the command's), None for scheduled facts
    reason: str | None = None  # the command's free-text reason

    def touch(self, acct: Account, mark: int | None = None) -> Account:
        account_id = acct.state.view.account_id
        if account_id not in self.touched:
            self.touched[account_id] = acct
            self.marks[account_id] = len(acct.pending_events) if mark is None else mark
        return acct

    def new_events(self) -> list[Account.Event]:
        """The events this decision added, account by account in the order touched."""
        return [cast(Account.Event, e) for account_id, acct in self.touched.items()
                for e in acct.pending_events[self.marks[account_id]:]]

    def added_own_events(self) -> bool:
        """True when the command itself (not the scheduled facts) recorded something."""
        return any(e.command_id is not None for e in self.new_events())

    def emit(self, acct: Account, event_class: type[Account.Event], at: datetime,
             **fields: Any) -> None:
        self.touch(acct)  # before the event, so that it counts as this decision's
        acct.trigger_event(
            event_class,
            timestamp=self.recorded_at,
            at=at,
            command_id=None if self.scheduled else self.command_id,
            prev_hash=last_hash(acct),
            **self.provenance(),
            **fields,
        )

    def provenance(self) -> dict[str, str | None]:
        """R-8.6's fields of the next event: scheduled facts carry only the principal."""
        if self.scheduled:
            return {"principal": self.principal, "actor": None, "command_reason": None}
        return {"principal": self.principal, "actor": self.actor,
                "command_reason": self.reason}

    def version_on(self, at: datetime) -> PolicyVersion:
        return self.catalog.version_on(at.date())

    def load(self, account_id: str) -> Account | None:
        if account_id in self.touched:
            return self.touched[account_id]
        return self.loader(account_id)

    def require_other(self, account_id: str, at: datetime, role: str) -> Account:
        """Another account this command writes to: it must exist, be open, and be
        caught up to `at` without back-dating its own stream (R-8.2)."""
        from ledger.schedule import catch_up  # the schedule needs handlers' context

        acct = self.load(account_id)
        if acct is None:
            raise LedgerError("unknown_account", f"{role} {account_id} does not exist",
                              rule="R-1.1")
        if acct.state.view.status == "closed":
            raise LedgerError("account_closed", f"{role} {account_id} is closed", rule="R-1.3")
        last = acct.state.last_at
        if last is not None and at < last:
            raise LedgerError(
                "backdated",
                f"{role} {account_id} already has events up to {last.isoformat()}",
                rule="R-8.2",
            )
        self.touch(acct)
        catch_up(self, acct, at)
        return acct


def charge_or_fail(ctx: Context, acct: Account, at: datetime, purpose: str, amount: Decimal,
                   declined: str) -> Funding:
    """Pay `amount` (R-3.1, R-2.5); a declined charge records PaymentFailed, the one fact
    a failed attempt leaves (R-3.3), and refuses the command with `declined`."""
    view = acct.state.view
    check_method_can_pay(view, amount)
    assert ctx.command_id is not None  # a command's own charge
    funding = pay(view, amount, ctx.gateway, command_payment_key(ctx.command_id, purpose))
    if not funding.approved:
        ctx.emit(acct, Account.PaymentFailed, at, purpose=purpose, amount=amount,
                 reason=funding.reason, method_id=funding.method_id,
                 attempts=funding.attempts, billing_date=None, gateway_key=funding.key)
        if funding.reason == KEY_REUSED:
            # keys a command's charge by its id: a command sent again after its
            # method changed cannot be paid under the same id, whatever the new method.
            declined += ("; this command id was first tried with another method or amount: "
                         "send the command again with a new command_id")
        raise PaymentDeclined(declined)
    ctx.charge_ids.append(funding.charge_id)
    return funding


def last_hash(acct: Account) -> str:
    """The digest of the account's latest event ("" before any): the next one's prev_hash."""
    last = acct.state.last_event
    return digest_of(last) if last is not None else ""

