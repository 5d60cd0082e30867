"""An endpoint's recent attempts, newest first: event id, attempt number, status code or
error, and when the next try is (none once delivered or given up)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.stores import MAX_POSITION
from webhooks.endpoints import EndpointError, get_endpoint
from webhooks.schema import cursor, sql, values

if TYPE_CHECKING:
    from ledger.application import Ledger

MAX_LIMIT = 1000


def _instant(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(float(seconds), UTC).isoformat().replace("+00:00", "Z")


def list_deliveries(app: Ledger, endpoint_id: str, limit: int = 100,
                    cursor_text: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The most recent attempts first, a page of `limit`, and the cursor of the next page
    (None at the end). The cursor is the last row's key (time, event id, attempt), so a
    page never repeats or skips a row, even while new attempts are written."""
    if not 1 <= limit <= MAX_LIMIT:
        raise EndpointError("validation_error", f"limit must be 1 to {MAX_LIMIT}")
    get_endpoint(app, endpoint_id)
    after = _after(cursor_text)
    where = "endpoint_id = ?"
    params: list[Any] = [endpoint_id]
    if after is not None:
        at, nid, attempt = after
        where += (" AND (at < ? OR (at = ? AND (notification_id < ? OR"
                  " (notification_id = ? AND attempt < ?))))")
        params += [at, at, nid, nid, attempt]
    with cursor(app, commit=False) as c:
        c.execute(sql(app, "SELECT notification_id, attempt, at, status, error, next_at"
                           f" FROM ledger_webhook_attempts WHERE {where}"
                           " ORDER BY at DESC, notification_id DESC, attempt DESC LIMIT ?"),
                  (*params, limit + 1))
        rows = [values(r) for r in c.fetchall()]
    more, rows = len(rows) > limit, rows[:limit]
    following = f"{float(rows[-1][2])!r}~{int(rows[-1][0])}~{int(rows[-1][1])}" if more else None
    return [{"event_id": int(nid), "attempt": int(attempt), "at": _instant(at),
             "status": int(status) if status is not None else None, "error": error,
             "delivered": status is not None and 200 <= int(status) < 300,
             "next_try": _instant(next_at)}
            for nid, attempt, at, status, error, next_at in rows], following


def _after(cursor_text: str | None) -> tuple[float, int, int] | None:
    if cursor_text is None:
        return None
    try:
        at_text, nid_text, attempt_text = cursor_text.split("~")
        at, nid, attempt = float(at_text), int(nid_text), int(attempt_text)
    except ValueError:
        at, nid, attempt = math.nan, -1, -1
    # A time is a finite number and the others 64-bit counts (the store's columns): any
    # other value was never given, and would overflow the driver.
    if not math.isfinite(at) or not 0 <= nid <= MAX_POSITION or not 0 <= attempt <= MAX_POSITION:
        raise EndpointError("validation_error", "cursor: not a cursor this list gave")
    return at, nid, attempt
