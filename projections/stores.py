"""The view recorder for the ledger's store (same database as the events)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from projections.views import SQLiteViewRecorder, ViewRecorderMixin

if TYPE_CHECKING:
    from ledger.application import Ledger


def make_view_recorder(app: Ledger) -> ViewRecorderMixin:
    if app.store.kind == "postgresql":
        from projections.postgres_views import PostgresViewRecorder

        return cast(ViewRecorderMixin, app.factory.tracking_recorder(PostgresViewRecorder))
    return cast(ViewRecorderMixin, app.factory.tracking_recorder(SQLiteViewRecorder))
