"""The simulated payment gateway and its journal (R-3.4).

A real processor keeps its own records of what it captured, voided and refunded, by
idempotency key, whatever happens to the ledger's transactions. So does this one: the
journal lives beside the store (a second SQLite file next to a SQLite store, an
in-process database for `memory:` stores, its own table on PostgreSQL) and every entry
is committed on its own, before the gateway answers. A request under a key already in
the journal gets the first answer back and moves no money; the same key with another
amount or method is refused (GatewayKeyConflict), as processors do.

`LEDGER_GATEWAY_FAIL_AFTER=N` is a test hook: the process kills itself right after its
N-th new capture (replays not counted), before the ledger can record it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from ledger.payments import GatewayKeyConflict, approves, approves_refund
from ledger.state import Method
from ledger.stores import StoreSpec

CAPTURE, VOID, REFUND = "capture", "void", "refund"
SUCCEEDED, FAILED = "succeeded", "failed"
FAIL_AFTER_ENV = "LEDGER_GATEWAY_FAIL_AFTER"

_COLUMNS = "key, kind, account_id, method_id, amount, status, at"
_SQLITE_TABLE = (
    "CREATE TABLE IF NOT EXISTS gateway_journal (key TEXT NOT NULL, kind TEXT NOT NULL, "
    "account_id TEXT NOT NULL, method_id TEXT, amount TEXT NOT NULL, status TEXT NOT NULL, "
    "at TEXT NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT, UNIQUE (key, kind))")
_PG_TABLE = (
    "CREATE TABLE IF NOT EXISTS ledger_gateway_journal (key TEXT NOT NULL, kind TEXT NOT NULL, "
    "account_id TEXT NOT NULL, method_id TEXT, amount TEXT NOT NULL, status TEXT NOT NULL, "
    "at TEXT NOT NULL, seq BIGSERIAL PRIMARY KEY, UNIQUE (key, kind))")


@dataclass(frozen=True)
class Entry:
    """One line of the processor's records."""

    key: str
    kind: str  # capture | void | refund
    account_id: str
    method_id: str | None
    amount: Decimal
    status: str  # succeeded | failed
    at: str

    def as_row(self) -> tuple[Any, ...]:
        return (self.key, self.kind, self.account_id, self.method_id, str(self.amount),
                self.status, self.at)


def _entry(row: Any) -> Entry:
    return Entry(row[0], row[1], row[2], row[3], Decimal(row[4]), row[5], row[6])


class Journal(Protocol):
    def find(self, key: str, kind: str) -> Entry | None: ...

    def add(self, entry: Entry) -> Entry:
        """Commit `entry` unless one with its key and kind is there; answer the kept one."""

    def entries(self) -> list[Entry]: ...


class SqliteJournal:
    """A journal in its own SQLite database, committed independently of the store."""

    def __init__(self, target: str) -> None:
        self._target = target
        self._conn: sqlite3.Connection | None = None  # opened on first use: reads of
        self._lock = threading.Lock()                 # the store never create it

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._target, check_same_thread=False,
                                   isolation_level=None, timeout=30)
            for attempt in range(50):  # processes starting at once race for the new file
                try:
                    if self._target != ":memory:":
                        conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute(_SQLITE_TABLE)
                    break
                except sqlite3.OperationalError:
                    if attempt == 49:
                        raise
                    time.sleep(0.05)
            self._conn = conn
        return self._conn

    def exists(self) -> bool:
        return self._target == ":memory:" or os.path.exists(self._target)

    def find(self, key: str, kind: str) -> Entry | None:
        with self._lock:
            row = self._db().execute(
                f"SELECT {_COLUMNS} FROM gateway_journal WHERE key = ? AND kind = ?",
                (key, kind)).fetchone()
        return _entry(row) if row else None

    def add(self, entry: Entry) -> Entry:
        with self._lock:
            self._db().execute(
                f"INSERT OR IGNORE INTO gateway_journal ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                entry.as_row())
        kept = self.find(entry.key, entry.kind)
        assert kept is not None
        return kept

    def entries(self) -> list[Entry]:
        if not self.exists():
            return []
        with self._lock:
            rows = self._db().execute(
                f"SELECT {_COLUMNS} FROM gateway_journal ORDER BY seq").fetchall()
        return [_entry(r) for r in rows]


class PostgresJournal:
    """A journal table on the store's server, written on its own autocommit connection."""

    def __init__(self, store: StoreSpec) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._conn: Any = None
        self._ready = False

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        import psycopg

        with self._lock:
            if self._conn is None or self._conn.closed:
                env = self._store.env
                self._conn = psycopg.connect(
                    dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                    port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                    password=env["POSTGRES_PASSWORD"] or None,
                    connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", "5")),
                    autocommit=True)
            with self._conn.cursor() as cur:
                if not self._ready:
                    cur.execute("SELECT to_regclass('ledger_gateway_journal')")
                    if cur.fetchone()[0] is None:
                        import psycopg.errors

                        # Another process may make it at the same moment.
                        with suppress(psycopg.errors.UniqueViolation,
                                      psycopg.errors.DuplicateTable):
                            cur.execute(_PG_TABLE)
                    self._ready = True
                yield cur

    def find(self, key: str, kind: str) -> Entry | None:
        with self._cursor() as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM ledger_gateway_journal "
                        "WHERE key = %s AND kind = %s", (key, kind))
            row = cur.fetchone()
        return _entry(row) if row else None

    def add(self, entry: Entry) -> Entry:
        with self._cursor() as cur:
            cur.execute(f"INSERT INTO ledger_gateway_journal ({_COLUMNS}) VALUES "
                        "(%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key, kind) DO NOTHING",
                        entry.as_row())
        kept = self.find(entry.key, entry.kind)
        assert kept is not None
        return kept

    def entries(self) -> list[Entry]:
        with self._cursor() as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM ledger_gateway_journal ORDER BY seq")
            rows = cur.fetchall()
        return [_entry(r) for r in rows]


_MEMORY_JOURNALS: dict[str, SqliteJournal] = {}
_MEMORY_LOCK = threading.Lock()


def journal_for(store: StoreSpec) -> Journal:
    """The journal that belongs beside `store`."""
    if store.kind == "sqlite":
        return SqliteJournal(journal_path(store))
    if store.kind == "postgresql":
        return PostgresJournal(store)
    name = store.env["SQLITE_DBNAME"]  # one journal per memory store, like its database
    with _MEMORY_LOCK:
        if name not in _MEMORY_JOURNALS:
            _MEMORY_JOURNALS[name] = SqliteJournal(":memory:")
        return _MEMORY_JOURNALS[name]


def journal_path(store: StoreSpec) -> str:
    return store.env["SQLITE_DBNAME"] + ".gateway"


class SimulatedGateway:
    """Approves everything but cards with a `tok_decline…` token and PayPal accounts with
    a `decline…` email; remembers every answer by key in its journal."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.journal: Journal = journal if journal is not None else SqliteJournal(":memory:")
        fail_after = os.environ.get(FAIL_AFTER_ENV, "").strip()
        self._fail_after = int(fail_after) if fail_after.isdigit() else None
        self._new_captures = 0
        self.requests = 0  # every charge request, replays included (for the load figures)

    def charge(self, key: str, account_id: str, method: Method, amount: Decimal) -> bool:
        self.requests += 1
        first = self.journal.find(key, CAPTURE)
        if first is not None:
            return self._replayed(first, method, amount)
        status = SUCCEEDED if approves(method) else FAILED
        kept = self.journal.add(Entry(key, CAPTURE, account_id, method.method_id, amount,
                                      status, _now()))
        if (kept.method_id, kept.amount) != (method.method_id, amount):
            raise GatewayKeyConflict(key)  # another process's request under the same key
        if kept.status == SUCCEEDED and self.journal.find(key, VOID) is None:
            self._count_capture()
            return True
        return False

    def _replayed(self, first: Entry, method: Method, amount: Decimal) -> bool:
        if (first.method_id, first.amount) != (method.method_id, amount):
            raise GatewayKeyConflict(first.key)
        # A voided capture stays voided: the money was given back.
        return first.status == SUCCEEDED and self.journal.find(first.key, VOID) is None

    def void(self, key: str) -> None:
        capture = self.journal.find(key, CAPTURE)
        if capture is None or capture.status != SUCCEEDED:
            return
        self.journal.add(Entry(key, VOID, capture.account_id, capture.method_id,
                               capture.amount, SUCCEEDED, _now()))

    def refund(self, key: str, account_id: str, method: Method, amount: Decimal) -> bool:
        first = self.journal.find(key, REFUND)
        if first is None:
            status = SUCCEEDED if approves_refund(method) else FAILED
            first = self.journal.add(Entry(key, REFUND, account_id, method.method_id, amount,
                                           status, _now()))
        return first.status == SUCCEEDED

    def _count_capture(self) -> None:
        self._new_captures += 1
        if self._fail_after is not None and self._new_captures >= self._fail_after:
            os.kill(os.getpid(), signal.SIGKILL)  # die before the ledger records it


class ApprovingGateway:
    """For previews: approves every card charge, moves no money, journals nothing."""

    def charge(self, key: str, account_id: str, method: Method, amount: Decimal) -> bool:
        return True

    def refund(self, key: str, account_id: str, method: Method, amount: Decimal) -> bool:
        return True

    def void(self, key: str) -> None:
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
