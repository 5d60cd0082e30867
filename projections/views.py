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

import copy
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Notification, Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

from ledger.state import View
from projections.codec import view_from_json, view_to_json

if TYPE_CHECKING:
    from projections.memory import ViewMemory

ACCOUNTS = "ledger_view_accounts"
HISTORY = "ledger_view_history"
TABLES = (ACCOUNTS, HISTORY)
CHAIN_TABLES = ("ledger_log_chain",)
CHECKPOINT_EVERY = 1000
# A rebuild folds the log into these, then copies them over the live tables in one
# transaction that holds the writers' lock (projections/rebuild.py).
SHADOW_ACCOUNTS = "ledger_view_accounts_rebuild"
SHADOW_HISTORY = "ledger_view_history_rebuild"
SHADOW_APPLICATION = "ledger_rebuild"
# The list filters (service.queries.list_accounts): columns of their own, so that each
# filter with the keyset on account_id is one index range (issue 11).
FILTERS = ("kind", "plan", "status")
ACCOUNT_COLUMNS = ("account_uuid, account_id, version, at_max, recorded_max, next_due,"
                   " kind, plan, status, state")
HISTORY_COLUMNS = "account_uuid, version, at_max, recorded_max, state"

ACCOUNTS_TABLE = (
    "CREATE TABLE IF NOT EXISTS ledger_view_accounts ("
    " account_uuid TEXT PRIMARY KEY, account_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " at_max TEXT NOT NULL, recorded_max TEXT NOT NULL, next_due TEXT, state TEXT NOT NULL,"
    " kind TEXT, plan TEXT, status TEXT)")
HISTORY_TABLE = (
    "CREATE TABLE IF NOT EXISTS ledger_view_history ("
    " account_uuid TEXT NOT NULL, version INTEGER NOT NULL, at_max TEXT NOT NULL,"
    " recorded_max TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (account_uuid, version))")
SCHEMA = (
    ACCOUNTS_TABLE,
    "CREATE INDEX IF NOT EXISTS ledger_view_accounts_due ON ledger_view_accounts (next_due)",
    "CREATE INDEX IF NOT EXISTS ledger_view_accounts_id ON ledger_view_accounts (account_id)",
    *(f"CREATE INDEX IF NOT EXISTS ledger_view_accounts_{f} ON ledger_view_accounts"
      f" ({f}, account_id)" for f in FILTERS),
    HISTORY_TABLE,
    "CREATE INDEX IF NOT EXISTS ledger_view_history_at"
    " ON ledger_view_history (account_uuid, at_max, version)",
    "CREATE INDEX IF NOT EXISTS ledger_view_history_recorded"
    " ON ledger_view_history (account_uuid, recorded_max, version)",
    "CREATE TABLE IF NOT EXISTS ledger_log_chain ("
    " notification_id BIGINT PRIMARY KEY, chain TEXT NOT NULL)",
)


def instant_key(moment: datetime) -> str:
    """A UTC instant as a fixed-width string, so text order is time order.

    The key is `strftime("%Y-%m-%dT%H:%M:%S.%fZ")`; `isoformat` writes the same fields
    in half the time (it runs twice per event folded), and `strftime` stays for years
    before 1000, which it does not pad to four digits."""
    if moment.year >= 1000:
        return moment.isoformat(timespec="microseconds")[:26] + "Z"
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
    accounts_table = ACCOUNTS  # where the write path folds (a rebuild's shadow: its own)
    history_table = HISTORY
    json_text = "json_extract({column}, '$.{key}')"  # a JSON field as text, in SQL

    @contextmanager
    def read_transaction(self) -> Iterator[Any]:
        """A cursor in a transaction that commits nothing: every read of the views, the
        chain and the other tables of the ledger's database goes through here."""
        # Both the SQLite and the PostgreSQL datastore take `transaction(commit=...)`.
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            yield c

    @contextmanager
    def write_transaction(self) -> Iterator[Any]:
        """A cursor in a transaction that commits when the block ends without an error."""
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            yield c

    def _insert_tracking_in(self, c: Any, tracking: Tracking) -> None:
        self._insert_tracking(c, tracking)  # type: ignore[attr-defined]

    def create_views(self) -> None:
        """Create what is missing. When every table and index is already there, no DDL
        runs at all: on PostgreSQL even `CREATE … IF NOT EXISTS` takes locks. When some
        is missing (a new store, or one made before the list filters had their columns
        and indexes), the DDL runs in one transaction that first takes the writers' own
        first lock (`lock_writers_in`), so its locks come in the writers' order and it
        cannot deadlock with them (issue 9): writers wait for it, then carry on."""
        with self.read_transaction() as c:
            if self._schema_present(c):
                return
        with self.write_transaction() as c:
            self.lock_writers_in(c)
            for statement in SCHEMA:
                if statement.startswith("CREATE TABLE"):
                    c.execute(statement)
            self._add_filter_columns_in(c)
            for statement in SCHEMA:
                if not statement.startswith("CREATE TABLE"):
                    c.execute(statement)

    def lock_writers_in(self, c: Any) -> None:
        """Take, first in this transaction, the lock every writer of the events takes
        first: PostgreSQL's EXCLUSIVE lock on the events table (eventsourcing's insert
        takes it before any row is written, so commits follow notification order); on
        SQLite the database's one write lock, taken by a write as the transaction's
        first statement (its snapshot then starts there, so it is never stale). Until
        this transaction ends no event is stored and no other view write runs."""
        c.execute(self.sql(f"UPDATE {self.tracking_table} SET notification_id ="
                           " notification_id WHERE application_name = ?"),
                  (self.application_name,))

    def begin_write_in(self, c: Any) -> None:
        """What a transaction writing only tables no writer touches (a rebuild's shadow)
        takes first. SQLite has one write lock for the whole database: a transaction
        that reads before it writes may find its snapshot stale when it comes to write
        (SQLITE_BUSY at once, no waiting), so the lock is taken first, as above. On
        PostgreSQL nothing: row locks on the shadow tables are all it needs."""
        self.lock_writers_in(c)

    def _add_filter_columns_in(self, c: Any) -> None:
        """The filter columns on an accounts table made before they existed, filled
        from each row's state (kind, plan and status are fields of the view's JSON)."""
        present = self._column_names_in(c, ACCOUNTS)
        missing = [f for f in FILTERS if f not in present]
        if not missing:
            return
        for f in missing:
            c.execute(f"ALTER TABLE {ACCOUNTS} ADD COLUMN {f} TEXT")
        sets = ", ".join(f"{f} = {self.json_text.format(column='state', key=f)}"
                         for f in missing)
        c.execute(f"UPDATE {ACCOUNTS} SET {sets}")

    def _column_names_in(self, c: Any, table: str) -> set[str]:
        c.execute(f"PRAGMA table_info({table})")
        return {str(r["name"] if isinstance(r, dict) else r[1]) for r in c.fetchall()}

    def _schema_present_now(self) -> bool:
        with self.read_transaction() as c:
            return self._schema_present(c)

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

    def shadow(self) -> ViewRecorderMixin:
        """This recorder writing to the rebuild's shadow tables, tracked under its own
        application name (projections/rebuild.py)."""
        twin = copy.copy(self)
        twin.__dict__.pop("_memory", None)
        twin.accounts_table = SHADOW_ACCOUNTS
        twin.history_table = SHADOW_HISTORY
        twin.application_name = SHADOW_APPLICATION
        return twin

    def create_shadow(self) -> None:
        """Empty shadow tables (a crashed rebuild's are dropped first), at position 0.
        Only a rebuild touches them, under the rebuild lock: no writer's lock is taken."""
        with self.write_transaction() as c:
            self.begin_write_in(c)
            for table in (SHADOW_ACCOUNTS, SHADOW_HISTORY):
                c.execute(f"DROP TABLE IF EXISTS {table}")
            c.execute(ACCOUNTS_TABLE.replace(ACCOUNTS, SHADOW_ACCOUNTS))
            c.execute(HISTORY_TABLE.replace(HISTORY, SHADOW_HISTORY))
            c.execute(self.sql(f"DELETE FROM {self.tracking_table} WHERE application_name = ?"),
                      (SHADOW_APPLICATION,))

    def drop_shadow(self) -> None:
        with self.write_transaction() as c:
            self.begin_write_in(c)
            for table in (SHADOW_ACCOUNTS, SHADOW_HISTORY):
                c.execute(f"DROP TABLE IF EXISTS {table}")
            c.execute(self.sql(f"DELETE FROM {self.tracking_table} WHERE application_name = ?"),
                      (SHADOW_APPLICATION,))

    def swap_in(self, c: Any, shadow: ViewRecorderMixin) -> int:
        """Replace the live views by the shadow's, and their position by its position,
        in the caller's transaction (which holds the writers' lock). Plain DELETE and
        INSERT: no DDL on the live tables, so readers are never blocked (they read the
        old rows until this commits) and no lock on them is taken out of order."""
        position = shadow.tracking_position_in(c)
        c.execute(f"DELETE FROM {HISTORY}")
        c.execute(f"DELETE FROM {ACCOUNTS}")
        c.execute(f"INSERT INTO {HISTORY} ({HISTORY_COLUMNS}) SELECT {HISTORY_COLUMNS}"
                  f" FROM {shadow.history_table}")
        c.execute(f"INSERT INTO {ACCOUNTS} ({ACCOUNT_COLUMNS}) SELECT {ACCOUNT_COLUMNS}"
                  f" FROM {shadow.accounts_table}")
        self._reset_tracking(c)
        if position:
            self._insert_tracking_in(c, Tracking(self.application_name, position))
        return position

    def drop_views(self) -> None:
        """Drop every view and the tracking position (the chain is evidence: kept)."""
        self.memory.forget()
        with self.write_transaction() as c:
            for table in TABLES:
                c.execute(f"DROP TABLE IF EXISTS {table}")
            self._reset_tracking(c)
        self.create_views()

    def _reset_tracking(self, c: Any) -> None:
        c.execute(self.sql(f"DELETE FROM {self.tracking_table} WHERE application_name = ?"),
                  (self.application_name,))

    # -- reads ---------------------------------------------------------------------

    def current(self, account_uuid: UUID) -> Row | None:
        with self.read_transaction() as c:
            return self._current_in(c, account_uuid)

    def _current_in(self, c: Any, account_uuid: UUID) -> Row | None:
        c.execute(self.sql(
            f"SELECT state, version, at_max, recorded_max FROM {self.accounts_table}"
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
        with self.read_transaction() as c:
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

    least = "MIN"  # the smaller of two values, in SQL (PostgreSQL: LEAST)

    @contextmanager
    def read_statement(self) -> Iterator[Any]:
        """A cursor for one statement that reads: one statement is its own consistent
        snapshot, so no transaction is opened (PostgreSQL saves BEGIN and ROLLBACK, two
        round trips; SQLite's are in-process and cheap, so it keeps its transaction)."""
        with self.read_transaction() as c:
            yield c

    def lookup(self, account_uuid: UUID, as_of: datetime | None,
               known_at: datetime | None) -> tuple[bool, Row | None]:
        """Whether the views lag the log, and the row asked for (the current one when
        both times are None; else as `at_point`), in one statement: the usual question
        of a view read is one round trip to the server."""
        uid = account_uuid.hex
        params: list[Any] = [self.application_name]
        if as_of is None and known_at is None:
            join = f"{self.accounts_table} v ON v.account_uuid = ?"
            params.append(uid)
        else:
            latest = [("at_max", as_of)] if as_of is not None else []
            latest += [("recorded_max", known_at)] if known_at is not None else []
            picks = []
            for column, moment in latest:
                picks.append(f"COALESCE((SELECT version FROM {HISTORY} WHERE account_uuid = ?"
                             f" AND {column} <= ? ORDER BY {column} DESC, version DESC"
                             " LIMIT 1), 0)")
                params += [uid, instant_key(moment)]
            version = picks[0] if len(picks) == 1 else f"{self.least}({', '.join(picks)})"
            join = f"{HISTORY} v ON v.account_uuid = ? AND v.version = {version}"
            params.insert(1, uid)
        col = self.notification_column
        statement = (
            # Both maxima are one index step (PostgreSQL plans `EXISTS (… id > (SELECT
            # …))` as a scan of the whole log, not knowing the value: 50 ms at 200,000).
            f"SELECT COALESCE((SELECT MAX({col}) FROM {self.events_table}), 0) > COALESCE(("
            f"SELECT MAX(notification_id) FROM {self.tracking_table}"
            " WHERE application_name = ?), 0) AS behind,"
            " v.state, v.version, v.at_max, v.recorded_max"
            f" FROM (SELECT 1 AS one) AS one LEFT JOIN {join}")
        with self.read_statement() as c:
            c.execute(self.sql(statement), params)
            behind, state, version_, at_max, recorded_max = _columns(c.fetchone(), 5)
        if state is None:
            return bool(behind), None
        return bool(behind), Row(view_from_json(state), int(version_), at_max, recorded_max)

    def _last_version(self, c: Any, column: str, uid: str, moment: datetime) -> int:
        c.execute(self.sql(
            f"SELECT version FROM ledger_view_history WHERE account_uuid = ? AND {column} <= ?"
            f" ORDER BY {column} DESC, version DESC LIMIT 1"), (uid, instant_key(moment)))
        found = c.fetchone()
        return int(_columns(found, 1)[0]) if found is not None else 0

    def due_accounts(self, through: date, after: str = "", limit: int = 1000) -> list[str]:
        """Accounts with a scheduled fact on or before `through` (the due-date index)."""
        with self.read_transaction() as c:
            c.execute(self.sql(
                "SELECT account_uuid FROM ledger_view_accounts WHERE next_due <= ?"
                " AND account_uuid > ? ORDER BY account_uuid LIMIT ?"),
                (through.isoformat(), after, limit))
            return [str(_columns(r, 1)[0]) for r in c.fetchall()]

    def holds_accounts(self) -> bool:
        """Whether any account has a view (a store with a history already)."""
        with self.read_transaction() as c:
            c.execute("SELECT 1 FROM ledger_view_accounts LIMIT 1")
            return c.fetchone() is not None

    def latest_fact_day(self) -> date | None:
        """The date of the latest effective time of any account's events (R-8.7: how far
        the store has decided); one pass over the accounts' rows."""
        with self.read_transaction() as c:
            c.execute("SELECT MAX(at_max) FROM ledger_view_accounts")
            found = c.fetchone()
        latest = _columns(found, 1)[0] if found is not None else None
        return date.fromisoformat(str(latest)[:10]) if latest else None

    def all_account_ids(self) -> list[str]:
        with self.read_transaction() as c:
            c.execute("SELECT account_id FROM ledger_view_accounts ORDER BY account_id")
            return [str(_columns(r, 1)[0]) for r in c.fetchall()]

    events_table = "stored_events"

    def existing_streams(self, uids: Sequence[UUID]) -> set[UUID]:
        """Which of these stream ids have events (bulk lookup, in slices)."""
        found: set[UUID] = set()
        with self.read_transaction() as c:
            for start in range(0, len(uids), 500):
                part = uids[start:start + 500]
                marks = ", ".join("?" for _ in part)
                c.execute(self.sql(f"SELECT DISTINCT originator_id FROM {self.events_table}"
                                   f" WHERE originator_id IN ({marks})"),
                          [self.stream_key(u) for u in part])
                found.update(UUID(str(_columns(r, 1)[0])) for r in c.fetchall())
        return found

    notification_column = "rowid"

    def notifications_after_in(self, c: Any, after: int, limit: int) -> list[Notification]:
        """The next notifications after `after`, read in the caller's transaction (under
        the writers' lock nothing can be added meanwhile)."""
        col = self.notification_column
        c.execute(self.sql(
            f"SELECT {col}, originator_id, originator_version, topic, state"
            f" FROM {self.events_table} WHERE {col} > ? ORDER BY {col} LIMIT ?"), (after, limit))
        found = []
        for r in c.fetchall():
            nid, oid, version, topic, state = _columns(r, 5)
            found.append(Notification(id=int(nid), originator_id=oid if isinstance(
                oid, UUID) else UUID(str(oid)), originator_version=int(version), topic=topic,
                state=bytes(state)))
        return found

    def notifications_between_in(self, c: Any, after: int, before: int) -> bool:
        """Whether any event lies strictly between two notification ids."""
        col = self.notification_column
        c.execute(self.sql(f"SELECT 1 FROM {self.events_table} WHERE {col} > ? AND {col} < ?"
                           " LIMIT 1"), (after, before))
        return c.fetchone() is not None

    def stream_key(self, uid: UUID) -> Any:
        return uid.hex

    def log_checkpoints(self) -> dict[int, str]:
        with self.read_transaction() as c:
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
        with self.read_transaction() as c:
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
                f"INSERT INTO {self.history_table} ({HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?)"),
                [(h.account_uuid.hex, h.version, h.at_max, h.recorded_max, h.state)
                 for h in history])
        if touched:
            c.executemany(self.sql(self.upsert_account_sql.format(table=self.accounts_table)), [
                (uid.hex, row.view.account_id, row.version, row.at_max, row.recorded_max,
                 _due(row.view), row.view.kind, row.view.plan, row.view.status,
                 states.get(uid) or view_to_json(row.view))
                for uid, row in touched.items()])
        if chain_rows:
            c.executemany(self.sql(self.insert_chain_sql), list(chain_rows))
        self._insert_tracking_in(c, tracking)

    upsert_account_sql = (
        f"INSERT INTO {{table}} ({ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account_uuid) DO UPDATE SET version = excluded.version,"
        " at_max = excluded.at_max, recorded_max = excluded.recorded_max,"
        " next_due = excluded.next_due, kind = excluded.kind, plan = excluded.plan,"
        " status = excluded.status, state = excluded.state")
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
