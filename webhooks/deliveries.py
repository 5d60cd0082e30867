"""An endpoint's recent attempts, newest first: event id, attempt number, status code or
error, and when the next try is (none once delivered or given up)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from webhooks.endpoints import EndpointError, get_endpoint
from webhooks.schema import cursor, sql, values

if TYPE_CHECKING:
    from ledger.application import Ledger

MAX_LIMIT = 1000


def _instant(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(float(seconds), UTC).isoformat().replace("+00:00", "Z")


def list_deliveries(app: Ledger, endpoint_id: str, limit: int = 100) -> list[dict[str, Any]]:
    if not 1 <= limit <= MAX_LIMIT:
        raise EndpointError("validation_error", f"limit must be 1 to {MAX_LIMIT}")
    get_endpoint(app, endpoint_id)
    with cursor(app, commit=False) as c:
        c.execute(sql(app, "SELECT notification_id, attempt, at, status, error, next_at"
                           " FROM ledger_webhook_attempts WHERE endpoint_id = ?"
                           " ORDER BY at DESC, notification_id DESC, attempt DESC LIMIT ?"),
                  (endpoint_id, limit))
        rows = [values(r) for r in c.fetchall()]
    return [{"event_id": int(nid), "attempt": int(attempt), "at": _instant(at),
             "status": int(status) if status is not None else None, "error": error,
             "delivered": status is not None and 200 <= int(status) < 300,
             "next_try": _instant(next_at)}
            for nid, attempt, at, status, error, next_at in rows]
