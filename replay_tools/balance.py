"""`ledger-replay balance`: an account's view at a point in time, rebuilt from that
account's events alone (not from the views), as `ledger show --json` renders it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ledger.errors import LedgerError
from ledger.results import AccountView
from replay_tools.history import account_events
from replay_tools.reference import RefState, account_view
from replay_tools.stream import fold

if TYPE_CHECKING:
    from ledger.application import Ledger


def balance_at(app: Ledger, account_id: str, as_of: datetime,
               known_at: datetime | None = None) -> AccountView:
    """Fold the prefix of events effective at or before `as_of` and recorded at or before
    `known_at`: the first event outside ends it (what the ledger knew, in its order)."""
    state = RefState()
    version = 0
    for event in account_events(app, account_id):
        if event.at > as_of or (known_at is not None and event.timestamp > known_at):
            break
        fold(state, event)
        version = event.originator_version
    if not version:
        raise LedgerError("unknown_account",
                          f"{account_id} did not exist yet at that point in time", rule="R-1.1")
    return AccountView.model_validate(account_view(state.view, version, as_of, known_at,
                                                   app.catalog))
