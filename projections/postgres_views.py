"""The view recorder on PostgreSQL: the same statements, `%s` placeholders, and the
library's tracking table for this application (`ledger_tracking`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresTrackingRecorder

from projections.views import ViewRecorderMixin


class PostgresViewRecorder(ViewRecorderMixin, PostgresTrackingRecorder):
    placeholder = "%s"

    events_table = "ledger_events"
    notification_column = "notification_id"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tracking_table = self.tracking_table_name

    def stream_key(self, uid: UUID) -> Any:
        return uid

