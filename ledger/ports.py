"""The small interfaces the Ledger hands to the code that decides beside it.

`ledger/application.py` is the one place that wires the write side: the billing run
(ledger/billing_run.py) and the preview (ledger/preview.py) never see the `Ledger`,
only a session that lets them load accounts, decide in a context and save, with the
ledger's memory of accounts kept right behind these methods. The session is
`ledger.application.LedgerSession`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from ledger.account import Account
    from ledger.commands import Command
    from ledger.deciding import Decision
    from ledger.handlers.context import Context
    from ledger.policy import Catalog
    from ledger.results import Result


class AccountStore(Protocol):
    """Accounts as the ledger holds them: its memory of decided accounts in front of
    the store, trusted only while the log ends where this process last saw it."""

    def sync(self) -> None:
        """Start a decision: forget the memory if another writer appended to the log."""

    def load(self, uid: UUID) -> Account | None:
        """The account of stream `uid`, from memory or the store; None if none."""

    def preload(self, uids: Sequence[UUID]) -> None:
        """Load the accounts of `uids` not in memory yet, in one query."""

    def save(self, accounts: Sequence[Account]) -> None:
        """Record the accounts' pending events in one transaction. When it fails, the
        accounts are forgotten (their state went beyond the store) and it raises."""

    def forget(self, accounts: Iterable[Account]) -> None:
        """Accounts whose in-memory state went beyond what was stored."""

    def drop(self) -> None:
        """Forget every account (after a concurrent writer got there first)."""


class DecisionSession(AccountStore, Protocol):
    """What a decision needs besides the accounts: now, the catalog, a context."""

    @property
    def catalog(self) -> Catalog: ...

    def now(self) -> datetime:
        """The ledger clock's now: every event's recorded time."""

    def context(self, now: datetime, *, principal: str | None = None,
                command_id: str | None = None, command: Command | None = None) -> Context:
        """A decision's context, with R-8.6's provenance of `command` (None for the
        scheduled facts alone); the principal defaults to the ledger's."""


class PreviewSession(DecisionSession, Protocol):
    """The preview decides a command as `submit` would, so it answers as `submit`."""

    def idempotent_answer(self, command: Command) -> tuple[str, Result | None]:
        """R-8.3: the command's id, and the answer already given to it, if any."""

    def result(self, command: Command, command_id: str, decision: Decision,
               names: list[str], ctx: Context) -> Result:
        """The result `submit` would return for this decision."""


class BillingSession(DecisionSession, Protocol):
    """The billing run's way to the due accounts and the gateway's count."""

    def refresh_views(self) -> None:
        """Bring the views up to the end of the log."""

    def due_accounts(self, through: date, after: str, limit: int) -> list[str]:
        """Streams with a scheduled fact on or before `through` (the due-date index)."""

    def captures(self) -> int:
        """Captures whose recording committed (R-3.4), counted by the gateway."""
