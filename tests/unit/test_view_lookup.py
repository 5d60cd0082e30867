"""The one-statement view read (issue 16's as-of path on PostgreSQL): `views.lookup`
answers what `current` and `at_point` answer, for every pair of times, and says when
the views lag the log, so that a read catches them up before it answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

from ledger.account import account_uuid
from ledger.application import Ledger
from tests.helpers import accept, add_card, open_account


def _build(ledger: Ledger) -> list[datetime]:
    """fl-1 with events at several effective times, recorded on several days; the
    instants around and between them."""
    ledger.set_clock("2030-12-10T09:00:00Z")
    open_account(ledger, "fl-1", "freelancer", "2030-12-01")
    add_card(ledger, "fl-1", "2030-12-02")
    ledger.set_clock("2030-12-12T09:00:00Z")
    accept(ledger, "purchase_connects", "fl-1", "2030-12-11", quantity=10)
    ledger.set_clock("2030-12-14T09:00:00Z")
    accept(ledger, "credit_earnings", "fl-1", "2030-12-13", amount="12.50")
    start = datetime(2030, 11, 30, 12, tzinfo=UTC)
    return [start + timedelta(days=d) for d in range(0, 16, 1)]


def test_lookup_answers_as_current_and_at_point_do(ledger: Ledger) -> None:
    instants = _build(ledger)
    uid, views = account_uuid("fl-1"), ledger.views
    behind, row = views.lookup(uid, None, None)
    assert not behind and row is not None
    assert row == views.current(uid)
    answered = set()
    for as_of, known in product(instants, [None, *instants]):
        behind, row = views.lookup(uid, as_of, known)
        assert not behind
        assert row == views.at_point(uid, as_of, known), (as_of, known)
        answered.add(row.version if row else 0)
    # Known-at alone (as of now) too
    for known in instants:
        assert views.lookup(uid, None, known)[1] == views.at_point(
            uid, ledger.clock.now(), known)
    assert len(answered) >= 4, "the grid must reach several versions and none"
    assert 0 in answered


def test_lookup_says_when_the_views_lag_and_a_read_catches_them_up(ledger: Ledger) -> None:
    _build(ledger)
    uid = account_uuid("fl-1")
    before = ledger.account("fl-1", as_of="2030-12-12T00:00:00Z")
    ledger.views.drop_views()  # the views now hold nothing, the log everything
    assert ledger.views.lookup(uid, None, None) == (True, None)
    assert ledger.account("fl-1", as_of="2030-12-12T00:00:00Z") == before
    assert ledger.views.lookup(uid, None, None)[0] is False
    assert ledger.views.tracking_position() == ledger.recorder.max_notification_id()
