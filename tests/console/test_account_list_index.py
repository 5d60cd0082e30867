"""The account list behind `GET /v1/accounts`, `ledger accounts` and the console search
(issue 11): kind, plan and status filter in SQL, each served by an index with the
account id (asked of the database's own planner), paging with filters returns each
match once, and a store made before those columns and indexes gains them at open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.application import Ledger
from service import queries
from service.queries import accounts_query

OPENED = "2021-01-02T10:00:00Z"


def _populate(led: Ledger) -> None:
    commands: list[dict[str, Any]] = []
    for i in range(12):
        commands.append({"type": "open_account", "account_id": f"fl-{i:02d}",
                         "kind": "freelancer", "at": OPENED})
        commands.append({"type": "open_account", "account_id": f"mb-{i:02d}",
                         "kind": "member", "at": OPENED})
    for i in range(4):
        commands.append({"type": "open_account", "account_id": f"co-{i}", "kind": "company",
                         "owner_id": f"mb-{i:02d}", "at": OPENED})
        commands.append({"type": "open_account", "account_id": f"ag-{i}", "kind": "agency",
                         "owner_id": f"fl-{i:02d}", "at": OPENED})
    for i in range(0, 12, 3):
        commands.append({"type": "suspend_account", "account_id": f"fl-{i:02d}",
                         "reason": "review", "at": "2021-01-03T10:00:00Z"})
    results = led.submit_many(commands)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]


def _everything(led: Ledger) -> list[dict[str, Any]]:
    page = queries.list_accounts(led, limit=1000)
    assert not page.has_more
    return page.data


def _paged(led: Ledger, limit: int, **filters: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = queries.list_accounts(led, limit=limit, cursor=cursor, **filters)
        out += page.data
        if not page.has_more:
            assert page.next_cursor is None
            return out
        cursor = page.next_cursor


CASES: list[dict[str, Any]] = [
    {}, {"kind": "freelancer"}, {"kind": "member"}, {"status": "suspended"},
    {"status": "active", "kind": "freelancer"}, {"plan": "basic"},
    {"prefix": "fl-0"}, {"prefix": "fl-", "status": "suspended"}, {"prefix": "co-"},
    {"kind": "agency", "prefix": "fl-"}, {"prefix": "zz"},
]


def _matches(view: dict[str, Any], filters: dict[str, Any]) -> bool:
    return all(view["account_id"].startswith(v) if k == "prefix" else view[k] == v
               for k, v in filters.items())


def test_filters_and_pages_return_each_match_once_in_order(
        make_ledger: Callable[..., Ledger]) -> None:
    led = make_ledger(clock="2021-03-01")
    _populate(led)
    everything = _everything(led)
    assert len(everything) == 32
    for filters in CASES:
        wanted = [v for v in everything if _matches(v, filters)]
        assert queries.list_accounts(led, limit=1000, **filters).data == wanted, filters
        for limit in (1, 2, 5):
            assert _paged(led, limit, **filters) == wanted, (filters, limit)


def _plan(led: Ledger, **filters: Any) -> str:
    sql, args = accounts_query(**filters)
    views = led.views
    with views.read_transaction() as c:
        if views.placeholder == "?":
            c.execute("EXPLAIN QUERY PLAN " + sql, args)
            return "\n".join(str(tuple(r)[-1]) for r in c.fetchall())
        c.execute("SET LOCAL enable_seqscan = off")
        c.execute(views.sql("EXPLAIN " + sql), args)
        return "\n".join(str(next(iter(r.values()))) for r in c.fetchall())


def test_the_database_serves_prefix_and_filters_from_an_index(
        make_ledger: Callable[..., Ledger]) -> None:
    led = make_ledger(clock="2021-03-01")
    _populate(led)
    sqlite = led.views.placeholder == "?"
    for column in ("kind", "plan", "status"):
        plan = _plan(led, prefix="fl-", after="fl-03", **{column: "x"})
        assert "ledger_view_accounts_" in plan, plan
        if sqlite:  # SQLite's planner picks the filter's own index: one range of it
            assert f"INDEX ledger_view_accounts_{column} ({column}=? AND account_id>?" in plan
            assert "SCAN" not in plan, plan
        else:
            assert "Seq Scan" not in plan and "Index" in plan, plan
    plan = _plan(led, prefix="fl-")
    assert "ledger_view_accounts_id" in plan or "ledger_view_accounts_" in plan, plan
    assert ("SCAN" not in plan) if sqlite else ("Seq Scan" not in plan), plan


def test_a_store_made_before_the_filter_columns_gains_them_at_open(
        make_ledger: Callable[..., Ledger]) -> None:
    led = make_ledger(clock="2021-03-01")
    _populate(led)
    wanted = [v for v in _everything(led) if v["status"] == "suspended"]
    with led.views.write_transaction() as c:  # the views as they were before issue 11
        for name in ("id", "kind", "plan", "status"):
            c.execute(f"DROP INDEX ledger_view_accounts_{name}")
        for name in ("kind", "plan", "status"):
            c.execute(f"ALTER TABLE ledger_view_accounts DROP COLUMN {name}")
    reopened = make_ledger(clock="2021-03-01")
    assert queries.list_accounts(reopened, status="suspended", limit=1000).data == wanted
    assert _paged(reopened, 2, kind="freelancer", status="suspended") == wanted
    assert "ledger_view_accounts_status" in _plan(reopened, status="suspended")
