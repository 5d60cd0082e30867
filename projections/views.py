"""The SQL views, beside the events in the same database, and their tracking.

Tables (one row per account, one row per account event, the log's hash chain):
  ledger_view_accounts   current view, version, running maxima of both times, next due date
  ledger_view_history    the view after every event, keyed (account, version), indexed by
                         effective and recorded time: point-in-time answers are one lookup
  ledger_log_chain       checkpoints of the running hash of the whole log (tamper evidence)
A batch of notifications is applied in one transaction together with the tracking
record, so each event is applied exactly once and a restart resumes where it stopped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

from ledger.state import View
from projections.codec import view_from_json, view_to_json

if TYPE_CHECKING:
    from projections.memory import ViewMemory

TABLES = ("ledger_view_accounts", "ledger_view_history")
CHAIN_TABLES = ("ledger_log_chain",)
CHECKPOINT_EVERY = 1000

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ledger_view_accounts ("
    " account_uuid TEXT PRIMARY KEY, account_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " at_max TEXT NOT NULL, recorded_max TEXT NOT NULL, next_due TEXT, state TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ledger_view_accounts_due ON ledger_view_accounts (next_due)",
    "CREATE TABLE IF NOT EXISTS ledger_view_history ("
    " account_uuid TEXT NOT NULL, version INTEGER NOT NULL, at_max TEXT NOT NULL,"
    " recorded_max TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (account_uuid, version))",
    "CREATE INDEX IF NOT EXISTS ledger_view_history_at"
    " ON ledger_view_history (account_uuid, at_max, version)",
    "CREATE INDEX IF NOT EXISTS ledger_view_history_recorded"
    " ON ledger_view_history (account_uuid, recorded_max, version)",
    "CREATE TABLE IF NOT EXISTS ledger_log_chain ("
    " notification_id BIGINT PRIMARY KEY, chain TEXT NOT NULL)",
)


def instant_key(moment: datetime) -> str:
    """A UTC instant as a fixed-width string, so text order is time order."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Row:
    """One account's folded state as the views hold it."""

    view: View
    version: int
    at_max: str
    recorded_max: str


@dataclass
class HistoryRow:
    """The view right after one event, already serialised."""

    account_uuid: UUID
    version: int
    at_max: str
    recorded_max: str
    state: str


class ViewSQL:
    """The statements, written with `?` placeholders; dialects translate them."""

    placeholder = "?"

    def sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)


class ViewRecorderMixin(ViewSQL):
    """Queries and batch writes shared by the SQLite and PostgreSQL view recorders."""

    application_name = "ledger"
    tracking_table = "tracking"

    @contextmanager
    def _cursor(self, commit: bool) -> Iterator[Any]:
        # Both the SQLite and the PostgreSQL datastore take `transaction(commit=...)`.
        with self.datastore.transaction(commit=commit) as c:  # type: ignore[attr-defined]
            yield c

    def _insert_tracking_in(self, c: Any, tracking: Tracking) -> None:
        self._insert_tracking(c, tracking)  # type: ignore[attr-defined]

    def create_views(self) -> None:
        """Create what is missing. When every table and index is already there, no DDL
        runs at all: on PostgreSQL even `CREATE … IF NOT EXISTS` takes locks, in an
        order opposite to running writers', and could deadlock with them (issue 9)."""
        with self._cursor(commit=False) as c:
            if self._schema_present(c):
                return
        with self._cursor(commit=True) as c:
            for statement in SCHEMA:
                c.execute(statement)

    def _schema_present(self, c: Any) -> bool:
        names = sorted({m.group(1) for s in SCHEMA
                        if (m := re.search(r"(?:TABLE|INDEX) IF NOT EXISTS (\w+)", s))})
        marks = ", ".join([self.placeholder] * len(names))
        if self.placeholder == "?":
            query = f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})"
        else:
            query = (f"SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                     f"c.relnamespace WHERE n.nspname = current_schema() AND c.relname IN "
                     f"({marks})")
        c.execute(query, names)
        row = c.fetchone()
        found = next(iter(row.values())) if isinstance(row, dict) else row[0]  # PG: dict rows
        return int(found) == len(names)

    @property
    def memory(self) -> ViewMemory:
        """What this process last committed here (projections.memory)."""
        from projections.memory import ViewMemory  # it builds on Row, defined here

        kept: ViewMemory | None = self.__dict__.get("_memory")
        if kept is None:
            kept = self.__dict__["_memory"] = ViewMemory()
        return kept

    def drop_views(self) -> None:
        """Drop every view and the tracking position (the chain is evidence: kept)."""
        self.memory.forget()
        with self._cursor(commit=True) as c:
            for table in TABLES:
                c.execute(f"DROP TABLE IF EXISTS {table}")
            self._reset_tracking(c)
        self.create_views()

    def _reset_tracking(self, c: Any) -> None:
        c.execute(self.sql(f"DELETE FROM {self.tracking_table} WHERE application_name = ?"),
                  (self.application_name,))

    # -- reads ---------------------------------------------------------------------

    def current(self, account_uuid: UUID) -> Row | None:
        with self._cursor(commit=False) as c:
            return self._current_in(c, account_uuid)

    def _current_in(self, c: Any, account_uuid: UUID) -> Row | None:
        c.execute(self.sql(
            "SELECT state, version, at_max, recorded_max FROM ledger_view_accounts"
            " WHERE account_uuid = ?"), (account_uuid.hex,))
        found = c.fetchone()
        if found is None:
            return None
        state, version, at_max, recorded_max = _columns(found, 4)
        return Row(view_from_json(state), version, at_max, recorded_max)

    def at_point(self, account_uuid: UUID, as_of: datetime,
                 known_at: datetime | None) -> Row | None:
        """The state after every event effective at or before `as_of` and recorded at or
        before `known_at`: two index lookups (both running maxima grow with the version)."""
        uid = account_uuid.hex
        with self._cursor(commit=False) as c:
            version = self._last_version(c, "at_max", uid, as_of)
            if known_at is not None and version:
                version = min(version, self._last_version(c, "recorded_max", uid, known_at))
            if not version:
                return None
            c.execute(self.sql(
                "SELECT state, at_max, recorded_max FROM ledger_view_history"
                " WHERE account_uuid = ? AND version = ?"), (uid, version))
            state, at_max, recorded_max = _columns(c.fetchone(), 3)
            return Row(view_from_json(state), version, at_max, recorded_max)

    def _last_version(self, c: Any, column: str, uid: str, moment: datetime) -> int:
        c.execute(self.sql(
            f"SELECT version FROM ledger_view_history WHERE account_uuid = ? AND {column} <= ?"
            f" ORDER BY {column} DESC, version DESC LIMIT 1"), (uid, instant_key(moment)))
        found = c.fetchone()
        return int(_columns(found, 1)[0]) if found is not None else 0

    def due_accounts(self, through: date, after: str = "", limit: int = 1000) -> list[str]:
        """Accounts with a scheduled fact on or before `through` (the due-date index)."""
        with self._cursor(commit=False) as c:
            c.execute(self.sql(
                "SELECT account_uuid FROM ledger_view_accounts WHERE next_due <= ?"
                " AND account_uuid > ? ORDER BY account_uuid LIMIT ?"),
                (through.isoformat(), after, limit))
            return [str(_columns(r, 1)[0]) for r in c.fetchall()]

    def all_account_ids(self) -> list[str]:
        with self._cursor(commit=False) as c:
            c.execute("SELECT account_id FROM ledger_view_accounts ORDER BY account_id")
            return [str(_columns(r, 1)[0]) for r in c.fetchall()]

    events_table = "stored_events"

    def existing_streams(self, uids: Sequence[UUID]) -> set[UUID]:
        """Which of these stream ids have events (bulk lookup, in slices)."""
        found: set[UUID] = set()
        with self._cursor(commit=False) as c:
            for start in range(0, len(uids), 500):
                part = uids[start:start + 500]
                marks = ", ".join("?" for _ in part)
                c.execute(self.sql(f"SELECT DISTINCT originator_id FROM {self.events_table}"
                                   f" WHERE originator_id IN ({marks})"),
                          [self.stream_key(u) for u in part])
                found.update(UUID(str(_columns(r, 1)[0])) for r in c.fetchall())
        return found

    notification_column = "rowid"

    def notifications_between_in(self, c: Any, after: int, before: int) -> bool:
        """Whether any event lies strictly between two notification ids."""
        col = self.notification_column
        c.execute(self.sql(f"SELECT 1 FROM {self.events_table} WHERE {col} > ? AND {col} < ?"
                           " LIMIT 1"), (after, before))
        return c.fetchone() is not None

    def stream_key(self, uid: UUID) -> Any:
        return uid.hex

    def log_checkpoints(self) -> dict[int, str]:
        with self._cursor(commit=False) as c:
            c.execute("SELECT notification_id, chain FROM ledger_log_chain")
            return {int(_columns(r, 2)[0]): str(_columns(r, 2)[1]) for r in c.fetchall()}

    def chain_at_in(self, c: Any, notification_id: int) -> str:
        """The log chain up to a notification id ("" before the first)."""
        if notification_id <= 0:
            return ""
        c.execute(self.sql("SELECT chain FROM ledger_log_chain WHERE notification_id = ?"),
                  (notification_id,))
        found = c.fetchone()
        return str(_columns(found, 1)[0]) if found is not None else ""

    def tracking_position(self) -> int:
        with self._cursor(commit=False) as c:
            return self.tracking_position_in(c)

    def tracking_position_in(self, c: Any) -> int:
        c.execute(self.sql(f"SELECT MAX(notification_id) FROM {self.tracking_table}"
                           " WHERE application_name = ?"), (self.application_name,))
        found = c.fetchone()
        value = _columns(found, 1)[0] if found is not None else None
        return int(value or 0)

    # -- writes --------------------------------------------------------------------

    def write_batch_in(self, c: Any, touched: dict[UUID, Row], history: Sequence[HistoryRow],
                       chain_rows: Sequence[tuple[int, str]], tracking: Tracking,
                       states: dict[UUID, str]) -> None:
        if history:
            c.executemany(self.sql(
                "INSERT INTO ledger_view_history (account_uuid, version, at_max, recorded_max,"
                " state) VALUES (?, ?, ?, ?, ?)"),
                [(h.account_uuid.hex, h.version, h.at_max, h.recorded_max, h.state)
                 for h in history])
        if touched:
            c.executemany(self.sql(self.upsert_account_sql), [
                (uid.hex, row.view.account_id, row.version, row.at_max, row.recorded_max,
                 _due(row.view), states.get(uid) or view_to_json(row.view))
                for uid, row in touched.items()])
        if chain_rows:
            c.executemany(self.sql(self.insert_chain_sql), list(chain_rows))
        self._insert_tracking_in(c, tracking)

    upsert_account_sql = (
        "INSERT INTO ledger_view_accounts (account_uuid, account_id, version, at_max,"
        " recorded_max, next_due, state) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account_uuid) DO UPDATE SET version = excluded.version,"
        " at_max = excluded.at_max, recorded_max = excluded.recorded_max,"
        " next_due = excluded.next_due, state = excluded.state")
    insert_chain_sql = (
        "INSERT INTO ledger_log_chain (notification_id, chain) VALUES (?, ?)"
        " ON CONFLICT (notification_id) DO NOTHING")

    def rows_for_in(self, c: Any, uids: Sequence[UUID]) -> dict[UUID, Row]:
        found: dict[UUID, Row] = {}
        for uid in uids:
            row = self._current_in(c, uid)
            if row is not None:
                found[uid] = row
        return found


def _due(view: View) -> str | None:
    from ledger.schedule import next_fact_date

    day = next_fact_date(view)
    return day.isoformat() if day else None


def _columns(row: Any, n: int) -> tuple[Any, ...]:
    """Rows are sqlite3.Row or psycopg dict rows; take the first n columns in order."""
    if isinstance(row, dict):
        return tuple(list(row.values())[:n])
    return tuple(row[i] for i in range(n))


class SQLiteViewRecorder(ViewRecorderMixin, SQLiteTrackingRecorder):
    """The views on SQLite: `?` placeholders, the library's `tracking` table."""
