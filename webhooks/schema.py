"""The webhooks' tables, beside the views in the ledger's database (SQLite or PostgreSQL):

  ledger_webhook_endpoints  one row per endpoint: its signing secret, its position in the
                            feed (the last notification given its first try), and why it
                            was disabled, if it was
  ledger_webhook_pending    the events still to retry, per endpoint, with when
  ledger_webhook_attempts   every attempt: status or error, and when the next try is

Each attempt's row, the position and the pending retry change in one transaction, so a
worker stopped at any moment resumes without skipping and without resending a delivered
event (an attempt whose answer was lost is sent again, with the same webhook-id).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ledger.stores import schema_lock

if TYPE_CHECKING:
    from ledger.application import Ledger

TABLES = ("ledger_webhook_endpoints", "ledger_webhook_pending", "ledger_webhook_attempts")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ledger_webhook_endpoints ("
    " endpoint_id TEXT PRIMARY KEY, secret TEXT NOT NULL, position BIGINT NOT NULL,"
    " disabled_reason TEXT, disabled_at DOUBLE PRECISION)",
    "CREATE TABLE IF NOT EXISTS ledger_webhook_pending ("
    " endpoint_id TEXT NOT NULL, notification_id BIGINT NOT NULL, attempts INTEGER NOT NULL,"
    " first_failed_at DOUBLE PRECISION NOT NULL, next_at DOUBLE PRECISION NOT NULL,"
    " PRIMARY KEY (endpoint_id, notification_id))",
    "CREATE INDEX IF NOT EXISTS ledger_webhook_pending_due"
    " ON ledger_webhook_pending (endpoint_id, next_at)",
    "CREATE TABLE IF NOT EXISTS ledger_webhook_attempts ("
    " endpoint_id TEXT NOT NULL, notification_id BIGINT NOT NULL, attempt INTEGER NOT NULL,"
    " at DOUBLE PRECISION NOT NULL, status INTEGER, error TEXT, next_at DOUBLE PRECISION,"
    " PRIMARY KEY (endpoint_id, notification_id, attempt))",
    "CREATE INDEX IF NOT EXISTS ledger_webhook_attempts_at"
    " ON ledger_webhook_attempts (endpoint_id, at)",
)

_ready: set[int] = set()


def ensure_tables(app: Ledger) -> None:
    """Create the tables once per store; no DDL when they exist (running writers on
    PostgreSQL are not made to wait for a schema lock)."""
    if id(app) in _ready:
        return
    if not _missing(app):
        _ready.add(id(app))
        return
    with schema_lock(app.store), cursor(app, commit=True) as c:
        for statement in SCHEMA:
            c.execute(statement)
    _ready.add(id(app))


def _missing(app: Ledger) -> bool:
    with cursor(app, commit=False) as c:
        for table in TABLES:
            if app.store.kind == "postgresql":
                c.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (table,))
            else:
                c.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                          " AND name = ?", (table,))
            if not first(c.fetchone()):
                return True
    return False


@contextmanager
def cursor(app: Ledger, commit: bool) -> Iterator[Any]:
    """A transaction on the views' datastore (the ledger's database)."""
    views = app.views
    with views.write_transaction() if commit else views.read_transaction() as c:
        yield c


def sql(app: Ledger, statement: str) -> str:
    return app.views.sql(statement)


def values(row: Any) -> list[Any]:
    """sqlite3.Row or a psycopg dict row, as a list in column order."""
    return list(row.values()) if isinstance(row, dict) else list(row)


def first(row: Any) -> Any:
    return values(row)[0] if row is not None else None
