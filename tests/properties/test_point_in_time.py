"""Property: the projection's point-in-time answer equals a fold of the account's own
events up to that instant, by effective time and by recorded time (issue 3, R-8.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Ledger, LedgerError
from ledger.account import account_uuid
from ledger.state import View
from projections.render import render_view

UTC = UTC
START = datetime(2018, 11, 3, tzinfo=UTC)  # spans the v2016 -> v2019 policy change
ACCOUNTS = ("fl-a", "fl-b", "ag-c")

command_kinds = st.sampled_from([
    "proposal", "proposal", "purchase", "upgrade", "downgrade", "credit", "withdraw",
    "pending", "release", "cancel", "suspend", "reinstate", "method",
])
steps = st.lists(
    st.tuples(st.sampled_from(ACCOUNTS), command_kinds, st.integers(0, 9 * 24),
              st.integers(0, 5 * 24), st.integers(1, 6)),
    min_size=5, max_size=40,
)


def _command(account: str, kind: str, n: int, i: int) -> dict[str, Any]:
    base: dict[str, Any] = {"account_id": account}
    if kind == "proposal":
        return {**base, "type": "submit_proposal", "proposal_id": f"p{i}", "job_id": f"j{n}",
                "connects": n}
    if kind == "purchase":
        return {**base, "type": "purchase_connects", "quantity": 10 * n}
    if kind in ("upgrade", "downgrade"):
        return {**base, "type": f"{kind}_plan"}
    if kind == "credit":
        return {**base, "type": "credit_earnings", "amount": f"{n * 7}.25"}
    if kind == "withdraw":
        return {**base, "type": "withdraw_earnings", "amount": f"{n}.00"}
    if kind == "pending":
        return {**base, "type": "record_pending_earnings", "reference": f"e{i}", "amount": "9.99"}
    if kind == "release":
        return {**base, "type": "release_earnings", "reference": f"e{i - 1}"}
    if kind == "cancel":
        return {**base, "type": "cancel_job", "job_id": f"j{n}", "reason": "cancelled_without_hire"}
    if kind in ("suspend", "reinstate"):
        return {**base, "type": f"{kind}_account"}
    token = "tok_decline_x" if n == 6 else f"tok_ok_{i}"
    return {**base, "type": "add_billing_method", "method_id": f"m{i}", "method": "card",
            "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "token": token}


def _fold(led: Ledger, account_id: str, as_of: datetime, known_at: datetime | None) -> Any:
    """The view from the account's events alone: the prefix effective by `as_of` and
    recorded by `known_at`."""
    view, version = View(), 0
    for event in led.events.get(account_uuid(account_id)):
        recorded_late = known_at is not None and event.timestamp > known_at  # type: ignore[attr-defined]
        if event.at > as_of or recorded_late:  # type: ignore[attr-defined]
            break
        event.on_view(view)  # type: ignore[attr-defined]
        version = event.originator_version
    if version == 0:
        return None
    return render_view(view, version, as_of, known_at, led.catalog).to_json()


def _answer(led: Ledger, account_id: str, as_of: datetime, known_at: datetime | None) -> Any:
    try:
        return led.account(account_id, as_of=as_of, known_at=known_at).to_json()
    except LedgerError as exc:
        assert exc.code == "unknown_account"
        return None


@pytest.mark.slow
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=steps, probes=st.lists(st.tuples(st.integers(-48, 600 * 24),
                                              st.integers(0, 700 * 24)), min_size=3, max_size=8))
def test_as_of_and_known_at_equal_a_fold_of_the_events(steps: list[Any],
                                                       probes: list[Any]) -> None:
    # Given accounts with random commands, recorded a random while after their effect
    led = Ledger.open("memory:", clock=START)
    led.submit({"type": "open_account", "account_id": "fl-a", "kind": "freelancer",
                "at": START.isoformat()})
    led.submit({"type": "open_account", "account_id": "fl-b", "kind": "freelancer",
                "at": START.isoformat()})
    led.submit({"type": "open_account", "account_id": "ag-c", "kind": "agency",
                "owner_id": "fl-a", "at": START.isoformat()})
    at = START
    for i, (account, kind, gap_hours, lag_hours, n) in enumerate(steps):
        at += timedelta(hours=gap_hours)
        led.set_clock(at + timedelta(hours=lag_hours))
        led.submit({**_command(account, kind, n, i), "at": at.isoformat()})
    # When the views are asked at random instants, by effective and by recorded time
    for as_of_hours, known_hours in probes:
        as_of = START + timedelta(hours=as_of_hours)
        for known_at in (None, START + timedelta(hours=known_hours)):
            for account in ACCOUNTS:
                # Then they answer what the account's own events say
                assert _answer(led, account, as_of, known_at) == _fold(led, account, as_of,
                                                                        known_at)
    led.close()
