"""Point-in-time questions answered from the views: an indexed lookup, never a replay."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ledger.account import account_uuid
from ledger.clock import parse_instant
from ledger.errors import LedgerError
from ledger.results import AccountView
from projections.render import render_view

if TYPE_CHECKING:
    from ledger.application import Ledger


def account_view(app: Ledger, account_id: str, as_of: datetime | str | None,
                 known_at: datetime | str | None) -> AccountView:
    uid = account_uuid(account_id)
    now = app.clock.now()
    when = parse_instant(as_of) if as_of is not None else now
    known = parse_instant(known_at) if known_at is not None else None
    asked = when if as_of is not None or known is not None else None
    # One statement: the row, and whether the views lag the log (they do not, once
    # writers fold inline: catching up is the rare path, and the row is read again).
    behind, row = app.views.lookup(uid, asked, known)
    if behind:
        app.refresh_views()
        _, row = app.views.lookup(uid, asked, known)
    if row is None:
        if app.views.current(uid) is None:
            raise LedgerError("unknown_account", f"{account_id} does not exist", rule="R-1.1")
        raise LedgerError("unknown_account",
                          f"{account_id} did not exist yet at that point in time", rule="R-1.1")
    return render_view(row.view, row.version, when, known, app.catalog)
