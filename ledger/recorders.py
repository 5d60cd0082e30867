"""Application recorders that apply the views in the same transaction as the events.

The application passes the domain events it saves through `save(**kwargs)` down to
the recorder (eventsourcing forwards save kwargs to `insert_events`). Once the store
has assigned their notification ids, the views fold them inside the same transaction,
with the tracking record: one commit per command instead of two, and a view can never
lag its events. When the views are not exactly at the position before these events
(dropped for a rebuild, or created later), the inline path stands aside and the
projection's pull loop catches up from the notification log instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

if TYPE_CHECKING:
    from projections.views import ViewRecorderMixin

DOMAIN_EVENTS = "ledger_domain_events"


class InlineViews:
    views: ViewRecorderMixin | None = None

    @contextmanager
    def views_kept_on_commit(self) -> Iterator[None]:
        """Around a transaction: what the views staged in memory holds only once it has
        committed."""
        try:
            yield
        except BaseException:
            if self.views is not None:
                self.views.memory.discard()
            raise
        if self.views is not None:
            self.views.memory.committed()

    def apply_views_inline(self, cursor: Any, ids: Sequence[int] | None,
                           kwargs: dict[str, Any]) -> None:
        from projections.projector import apply_inline

        events = kwargs.get(DOMAIN_EVENTS)
        if self.views is None or not events or not ids or len(ids) != len(events):
            return
        apply_inline(self.views, cursor, list(zip(ids, events, strict=True)))


class LedgerSQLiteRecorder(InlineViews, SQLiteApplicationRecorder):
    def select_events_of_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """Every event of these streams in one query, by stream then version (the
        billing run loads a chunk of due accounts this way, not one query each)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT * FROM {self.events_table_name} WHERE originator_id IN "
                      f"({marks}) ORDER BY originator_id, originator_version",
                      [i.hex for i in ids])
            return [StoredEvent(originator_id=self.convert_originator_id(row["originator_id"]),
                                originator_version=row["originator_version"],
                                topic=row["topic"], state=row["state"])
                    for row in c.fetchall()]

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        with self.views_kept_on_commit():
            return super().insert_events(stored_events, **kwargs)

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        self.apply_views_inline(c, ids, kwargs)
        return ids


class LedgerPostgresRecorder(InlineViews, PostgresApplicationRecorder):
    def select_events_of_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """Every event of these streams in one query, by stream then version."""
        if not ids:
            return []
        wanted = list(ids) if self.datastore.originator_id_type == "uuid" else [
            str(i) for i in ids]
        statement = SQL("SELECT * FROM {schema}.{table} WHERE originator_id = ANY(%s) "
                        "ORDER BY originator_id, originator_version").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, [wanted])
            return [StoredEvent(originator_id=row["originator_id"],
                                originator_version=row["originator_version"],
                                topic=row["topic"], state=bytes(row["state"]))
                    for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """The library's insert without its pipeline, whose error handling defers an
        exception raised after the insert (here: by the views) until after COMMIT."""
        with self.views_kept_on_commit(), self.datastore.get_connection() as conn, (
                conn.transaction()):
            with conn.cursor() as curs:
                self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return None
            with conn.cursor() as curs:
                self._insert_stored_events(curs, stored_events, **kwargs)
                return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent],
                                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        self.apply_views_inline(curs, ids, kwargs)
        return ids
