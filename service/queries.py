"""The read queries behind both the HTTP API (/v1) and the support console (/console).

One implementation each: a page of the console and the endpoint that answers the same
question call the same function here, so they cannot disagree. Everything reads the SQL
views (indexed lookups) or one account's event stream by version range, never a replay of
the whole log; the only full-stream fold is the statement (replay_tools.statement), which
is asked for a date range on its own page.
"""

from __future__ import annotations

import base64
import json
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.account import account_uuid, with_failed_charge_id
from ledger.errors import LedgerError
from ledger.results import AccountView
from projections.codec import view_from_json
from projections.queries import account_view
from projections.render import render_view
from replay_tools.statement import Bound, Movement, bounds_in_order, statement

if TYPE_CHECKING:
    from ledger.application import Ledger

MAX_LIMIT = 1000
# Events drawn on the chart, by what a support person looks for.
MARKED = {
    "MembershipCharged": "charge", "ConnectsPurchased": "charge",
    "PaymentFailed": "failed payment", "ChargeRefunded": "refund",
    "ConnectsExpired": "expiry",
}
# `originator_topic` is the event library's bookkeeping on a stream's first event.
HIDDEN_DATA = frozenset({"at", "prev_hash", "token", "email", "originator_topic"})


@dataclass
class Page:
    """A page of results: `{"data", "has_more", "next_cursor"}` on the wire."""

    data: list[Any]
    has_more: bool
    next_cursor: str | None

    def to_json(self) -> dict[str, Any]:
        return {"data": self.data, "has_more": self.has_more, "next_cursor": self.next_cursor}


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


# The values the list's filters can match (the view's kind, plan and status).
KINDS = ("freelancer", "member", "agency", "company", "enterprise")
PLANS = ("basic", "plus")
STATUSES = ("active", "suspended", "closed")


def decode_cursor(cursor: str | None) -> str:
    if not cursor:
        return ""
    try:
        # validate: characters outside the alphabet are an error, not skipped (a cursor
        # of "!!!" would otherwise decode to nothing and restart the list silently).
        return base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_",
                                validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise LedgerError("validation_error", "the cursor is not one this server gave",
                          rule="R-0") from None


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise LedgerError("validation_error", f"limit must be 1 to {MAX_LIMIT}", rule="R-0")
    return limit


def _col(row: Any, i: int) -> Any:
    """Column i of a sqlite3.Row or a psycopg dict row (the views' two recorders)."""
    return list(row.values())[i] if isinstance(row, dict) else row[i]


def list_accounts(app: Ledger, *, kind: str | None = None, plan: str | None = None,
                  status: str | None = None, prefix: str | None = None, limit: int = 100,
                  cursor: str | None = None) -> Page:
    """Current account views in account-id order, filtered, a page at a time. One query:
    the filters are columns of the accounts view, each indexed with the account id
    ((kind, account_id), (plan, account_id), (status, account_id), and (account_id)
    alone), so a filter, the prefix range and the keyset cursor are one index range,
    never a scan of the other accounts (`accounts_query`)."""
    limit = _limit(limit)
    for name, value, allowed in (("kind", kind, KINDS), ("plan", plan, PLANS),
                                 ("status", status, STATUSES)):
        if value and value not in allowed:
            # A value no account can have is a mistake, not an empty page.
            raise LedgerError("validation_error",
                              f"{name}: one of {', '.join(allowed)}", rule="R-8.4")
    app.refresh_views()
    sql, args = accounts_query(kind=kind, plan=plan, status=status, prefix=prefix,
                               after=decode_cursor(cursor), limit=limit + 1)
    with app.views.read_transaction() as c:
        c.execute(app.views.sql(sql), args)
        rows = c.fetchall()
    more = len(rows) > limit
    now = app.clock.now()
    found = [render_view(view_from_json(_col(r, 1)), int(_col(r, 2)), now, None, app.catalog)
             for r in rows[:limit]]
    last = str(_col(rows[limit - 1], 0)) if more else None
    return Page([v.to_json() for v in found], more, encode_cursor(last) if last else None)


def accounts_query(*, kind: str | None = None, plan: str | None = None,
                   status: str | None = None, prefix: str | None = None, after: str = "",
                   limit: int = 101) -> tuple[str, list[Any]]:
    """The list's SQL (`?` placeholders) and its arguments."""
    sql = ("SELECT account_id, state, version FROM ledger_view_accounts"
           " WHERE account_id > ?")
    args: list[Any] = [after]
    if prefix:
        sql += " AND account_id >= ? AND account_id < ?"
        args += [prefix, prefix + "\U0010ffff"]
    for column, value in (("kind", kind), ("plan", plan), ("status", status)):
        if value:
            sql += f" AND {column} = ?"
            args.append(value)
    return sql + " ORDER BY account_id LIMIT ?", [*args, limit]


def get_account(app: Ledger, account_id: str, as_of: datetime | str | None = None,
                known_at: datetime | str | None = None) -> AccountView:
    """The account view at a point in time (both times); unknown_account when absent."""
    return account_view(app, account_id, as_of, known_at)


def _event_row(app: Ledger, event: Any) -> dict[str, Any]:
    data = with_failed_charge_id(event, {
        k: v for k, v in vars(event).items()
        if not k.startswith("_") and k not in HIDDEN_DATA
        and k not in ("originator_id", "originator_version", "timestamp")})
    return {
        "version": event.originator_version,
        "name": type(event).__name__,
        "at": event.at,
        "recorded_at": event.timestamp,
        "principal": data.pop("principal", None),
        "actor": data.pop("actor", None),
        # Why the command was sent; a suspension's own `reason` otherwise.
        "reason": data.pop("command_reason", None) or data.get("reason"),
        "data": data,
    }


def account_events(app: Ledger, account_id: str, *, after_version: int = 0,
                   limit: int = 100, upto_version: int | None = None) -> Page:
    """A page of the account's history in version order (one range read of its stream)."""
    limit = _limit(limit)
    uid = account_uuid(account_id)
    stored = list(app.recorder.select_events(uid, gt=after_version, limit=limit + 1,
                                             lte=upto_version))
    if not stored and after_version == 0:
        raise LedgerError("unknown_account", f"{account_id} does not exist", rule="R-1.1")
    more = len(stored) > limit
    rows = [_event_row(app, app.mapper.to_domain_event(s)) for s in stored[:limit]]
    cursor = str(rows[-1]["version"]) if more and rows else None
    return Page(rows, more, cursor)


def account_statement(app: Ledger, account_id: str, start: Bound | None = None,
                      end: Bound | None = None) -> list[Movement]:
    """Every movement of Connects and money in the range, with rules and running balances
    (a date bound is that whole day, a datetime that instant)."""
    if not bounds_in_order(start, end):
        raise LedgerError("validation_error", f"from {start} is after to {end}", rule="R-8.4")
    return statement(app, account_id, start, end)


@dataclass
class Point:
    at: datetime
    version: int
    connects: int
    available: Decimal


@dataclass
class Marker:
    at: datetime
    version: int
    kind: str
    label: str


class _AccountMemo:
    """What one process has read of one account's immutable past: an account's events at
    versions up to V never change (the log only grows), so the chart's sampled points and
    its markers are read once and then only the versions after them."""

    def __init__(self) -> None:
        self.points: dict[int, Point] = {}
        self.markers: list[Marker] = []
        self.markers_through = 0


_MEMO_ACCOUNTS = 512
_memos: weakref.WeakKeyDictionary[Any, OrderedDict[str, _AccountMemo]] = \
    weakref.WeakKeyDictionary()


def _memo(app: Ledger, account_id: str) -> _AccountMemo:
    per_app = _memos.setdefault(app, OrderedDict())
    memo = per_app.pop(account_id, None) or _AccountMemo()
    per_app[account_id] = memo  # most recently used last
    while len(per_app) > _MEMO_ACCOUNTS:
        per_app.popitem(last=False)
    return memo


def sample_versions(upto_version: int, points: int) -> list[int]:
    """About `points` versions from 1 to `upto_version`, on a power-of-two grid so that the
    same versions are sampled as the account grows (and can be remembered)."""
    step = 1
    while upto_version // step > points:
        step *= 2
    return sorted({1, *range(step, upto_version + 1, step), upto_version} - {0})


def account_series(app: Ledger, account_id: str, upto_version: int,
                   points: int = 200) -> list[Point]:
    """Connects and available earnings after evenly spaced versions up to `upto_version`
    (the views keep the state after every event: a bounded number of indexed reads however
    long the history, so a 100,000-event account draws as fast as a 10-event one)."""
    uid = account_uuid(account_id).hex
    memo = _memo(app, account_id)
    wanted = sample_versions(upto_version, points)
    missing = [v for v in wanted if v not in memo.points]
    with app.views.read_transaction() as c:
        for start in range(0, len(missing), 500):
            part = missing[start:start + 500]
            marks = ", ".join("?" * len(part))
            c.execute(app.views.sql(
                "SELECT version, at_max, state FROM ledger_view_history WHERE account_uuid = ?"
                f" AND version IN ({marks})"), [uid, *part])
            for row in c.fetchall():
                d = json.loads(_col(row, 2))
                held = sum(int(lot[4]) for lot in d["lots"])
                version = int(_col(row, 0))
                memo.points[version] = Point(_instant(_col(row, 1)), version, held,
                                             Decimal(d["earnings_available"]))
    if len(memo.points) > 8 * points:
        memo.points = {v: memo.points[v] for v in wanted if v in memo.points}
    return [memo.points[v] for v in wanted if v in memo.points]


def _instant(key: str) -> datetime:
    return datetime.fromisoformat(key.replace("Z", "+00:00"))


def account_markers(app: Ledger, account_id: str, upto_version: int,
                    most: int = 400) -> list[Marker]:
    """The newest charges, failed payments, refunds and expiries up to `upto_version`."""
    uid = account_uuid(account_id)
    memo = _memo(app, account_id)
    if upto_version > memo.markers_through:
        memo.markers.extend(_markers_between(app, uid, memo.markers_through, upto_version))
        memo.markers_through = upto_version
        del memo.markers[:-4 * most]
    shown = [m for m in memo.markers if m.version <= upto_version]
    return shown[-most:]


def _markers_between(app: Ledger, uid: UUID, after: int, upto: int) -> list[Marker]:
    views = app.views
    topics = [f"ledger/{name}" for name in MARKED]
    marks = ", ".join("?" * len(topics))
    with app.views.read_transaction() as c:
        c.execute(views.sql(
            f"SELECT originator_version, topic, state FROM {views.events_table}"
            " WHERE originator_id = ? AND originator_version > ? AND originator_version <= ?"
            f" AND topic IN ({marks}) ORDER BY originator_version"),
            [views.stream_key(uid), after, upto, *topics])
        rows = c.fetchall()
    out = []
    for row in rows:
        version, topic, state = _col(row, 0), _col(row, 1), _col(row, 2)
        event: Any = app.mapper.to_domain_event(
            StoredEvent(uid, int(version), topic, bytes(state)))
        name = type(event).__name__
        amount = getattr(event, "amount", None)
        label = f"{name} v{version}" + (f" {amount} USD" if amount is not None else "")
        out.append(Marker(event.at, int(version), MARKED[name], label))
    return out


def preview(app: Ledger, raw: dict[str, Any], principal: str) -> dict[str, Any]:
    """What the command would do, recording nothing (Ledger.preview)."""
    previewing = getattr(app, "preview", None)
    if previewing is None:
        return {"ok": False, "error": {"code": "unavailable", "rule": "",
                                       "message": "this ledger has no preview yet"},
                "events": [], "view": None, "charge": None, "note": ""}
    result: dict[str, Any] = previewing(raw, principal=principal)
    return result


def run_audit_report(app: Ledger, through: datetime | None = None) -> dict[str, Any]:
    """The audit's summary and findings (`POST /v1/audits`, the console's audit page)."""
    from replay_tools.audit import run_audit

    return run_audit(app, through).to_json()
