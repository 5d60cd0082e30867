"""The console's read queries on every store (the browser tests use SQLite only)."""

from __future__ import annotations

from collections.abc import Callable

from ledger.application import Ledger
from service import queries

OPENED = "2021-01-02T10:00:00Z"


def test_lists_chart_points_and_markers_read_the_same_on_every_store(
        make_ledger: Callable[..., Ledger]) -> None:
    led = make_ledger(clock="2021-03-01")
    ids = [f"fl-{i}" for i in range(5)]
    led.submit_many([{"type": "open_account", "account_id": a, "kind": "freelancer",
                      "at": OPENED} for a in ids])
    led.submit_many([{"type": "credit_earnings", "account_id": "fl-1", "amount": "5.00",
                      "at": f"2021-01-{d:02d}T10:00:00Z"} for d in range(3, 20)])
    assert led.submit({"type": "purchase_connects", "account_id": "fl-1", "quantity": 10,
                       "at": "2021-01-25T10:00:00Z"}).ok

    first = queries.list_accounts(led, limit=3)
    rest = queries.list_accounts(led, limit=3, cursor=first.next_cursor)
    assert first.has_more and not rest.has_more
    assert [a["account_id"] for a in first.data + rest.data] == sorted(ids)
    assert [a["account_id"] for a in queries.list_accounts(led, prefix="fl-1").data] == ["fl-1"]
    assert queries.list_accounts(led, kind="agency").data == []

    view = queries.get_account(led, "fl-1")
    points = queries.account_series(led, "fl-1", view.version)
    assert points[-1].available == view.earnings.available
    assert points[-1].connects == view.connects
    markers = queries.account_markers(led, "fl-1", view.version)
    assert [m.kind for m in markers] == ["charge"]
    # a point in time before the purchase: no marker, and the points end there
    assert queries.account_markers(led, "fl-1", markers[0].version - 1) == []
    page = queries.account_events(led, "fl-1", after_version=2, limit=5)
    assert [e["version"] for e in page.data] == [3, 4, 5, 6, 7] and page.has_more


def test_the_power_of_two_grid_keeps_the_sampled_versions_as_the_account_grows() -> None:
    small, grown = queries.sample_versions(1000, 200), queries.sample_versions(1010, 200)
    assert len(small) <= 202 and small[0] == 1 and small[-1] == 1000
    assert set(small) - {1000} <= set(grown)


def test_the_charts_time_axis_never_repeats_a_label() -> None:
    """An account whose events all fall on one day gets hours on its axis, not one date
    six times; a longer one gets dates."""
    import re
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from service.console.chart import render_chart
    from service.queries import Point

    for span in (timedelta(hours=3), timedelta(days=2), timedelta(days=400)):
        start = datetime(2026, 12, 4, 20, tzinfo=UTC)
        points = [Point(start, 1, 10, Decimal("0.00")),
                  Point(start + span, 2, 20, Decimal("5.00"))]
        svg = render_chart("fl-1", points, [])
        labels = re.findall(r'fill="#222">([0-9][0-9:\- ]+)</text>', svg)
        assert len(labels) == 6 and len(set(labels)) == 6, (span, labels)
