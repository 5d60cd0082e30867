"""One account's events, read from the store and folded in order (balance, statement, plot)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ledger.errors import LedgerError
from replay_tools.checks.integrity import is_account_event
from replay_tools.reference import account_stream

if TYPE_CHECKING:
    from ledger.application import Ledger


class ReplayError(Exception):
    """The account's stream cannot be replayed (a row that does not decode)."""


def account_events(app: Ledger, account_id: str) -> Iterator[Any]:
    """Every event of the account, decoded one by one; unknown_account when there is none."""
    uid = account_stream(account_id)
    found = False
    for stored in app.recorder.select_events(uid):
        found = True
        try:
            event = app.mapper.to_domain_event(stored)
        except Exception as exc:
            raise ReplayError(f"{account_id} v{stored.originator_version} ({stored.topic}) "
                              f"does not decode: {type(exc).__name__}") from None
        if not is_account_event(event):
            raise ReplayError(f"{account_id} v{stored.originator_version} is not an account "
                              "event")
        yield event
    if not found:
        raise LedgerError("unknown_account", f"{account_id} does not exist", rule="R-1.1")
