"""The view recorder on PostgreSQL: the same statements, `%s` placeholders, and the
library's tracking table for this application (`ledger_tracking`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresTrackingRecorder

from projections.views import ViewRecorderMixin


class PostgresViewRecorder(ViewRecorderMixin, PostgresTrackingRecorder):
    placeholder = "%s"

    events_table = "ledger_events"
    notification_column = "notification_id"
    json_text = "({column})::jsonb ->> '{key}'"
    least = "LEAST"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tracking_table = self.tracking_table_name

    @contextmanager
    def read_statement(self) -> Iterator[Any]:
        # The datastore's connections are in autocommit: one statement, no BEGIN.
        with self.datastore.cursor() as c:
            yield c

    def stream_key(self, uid: UUID) -> Any:
        return uid

    def lock_writers_in(self, c: Any) -> None:
        """The writers' first lock: eventsourcing's insert takes `LOCK TABLE <events> IN
        EXCLUSIVE MODE` before it writes anything, then the views fold inline (rows of
        the views' tables, then the tracking row). Taking it first here puts us in that
        same order: no cycle with a writer is possible. EXCLUSIVE does not block reads."""
        c.execute(f"LOCK TABLE {self.events_table} IN EXCLUSIVE MODE")

    def begin_write_in(self, c: Any) -> None:
        pass

    def _column_names_in(self, c: Any, table: str) -> set[str]:
        c.execute("SELECT column_name FROM information_schema.columns"
                  " WHERE table_schema = current_schema() AND table_name = %s", (table,))
        return {str(r["column_name"]) for r in c.fetchall()}
