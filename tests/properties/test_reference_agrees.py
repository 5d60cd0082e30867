"""Properties: the audit's reference (replay_tools/reference.py) and the ledger agree on
generated inputs: billing dates, proration, promo prices, lots spent and expired, the
paying waterfall's blockers, and the fold of whole generated histories (these tests may
import both sides; the audit itself imports only its own)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Ledger, connects, cycles, schedule
from ledger.account import account_uuid
from ledger.state import AccountState, PromoBenefit
from projections.codec import view_to_dict
from replay_tools import reference
from replay_tools.audit import run_audit
from tests.properties.test_point_in_time import ACCOUNTS, START, _command, steps

days = st.dates(date(2016, 1, 1), date(2035, 12, 31))


@given(start=days, last_billable=st.integers(1, 31))
def test_billing_day_and_next_billing_date(start: date, last_billable: int) -> None:
    day = reference.billing_day(start, last_billable)
    assert day == cycles.billing_day_for(start, last_billable)
    assert reference.next_billing_date(start, day) == cycles.next_billing_date(start, day)


@given(days_=st.integers(-40, 400), basic=st.integers(0, 100), plus=st.integers(0, 400))
def test_proration(days_: int, basic: int, plus: int) -> None:
    assert reference.proration(days_, basic, plus) == connects.proration_connects(
        days_, basic, plus)


@given(moment=st.datetimes(datetime(2016, 1, 1), datetime(2035, 1, 1), timezones=st.just(UTC)))
def test_week_end_and_midnight(moment: datetime) -> None:
    assert reference.week_end(moment) == cycles.week_end_after(moment)
    assert reference.midnight(moment.date()) == cycles.start_of(moment.date())


cents = st.integers(1, 100_000).map(lambda n: Decimal(n) / 100)


percents = st.one_of(st.sampled_from([50, 25, 75, 10, 90]), st.integers(0, 100))


@given(price=cents, benefits=st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), percents,
                                                 st.integers(0, 3)), max_size=3))
def test_promo_prices_round_half_up_on_both_sides(price: Decimal,
                                                   benefits: list[Any]) -> None:
    ledger_state = AccountState(promo_benefits=[PromoBenefit(*b) for b in benefits])
    ours = reference.RefState(promo_benefits=[reference.RefPromo(*b) for b in benefits])
    assert reference.promo_price(price, ours) == schedule.discounted(price, ledger_state)


def test_the_known_drift_case_rounds_up() -> None:
    assert reference.percent_off(Decimal("12.45"), 50) == Decimal("6.23")


lot_specs = st.lists(st.tuples(st.sampled_from(["refill", "purchase", "proration", "refund"]),
                               st.integers(0, 40), st.one_of(st.none(), st.integers(0, 400))),
                     max_size=8)


def _both(specs: list[Any]) -> tuple[list[connects.Lot], list[reference.RefLot]]:
    issued = date(2020, 1, 1)
    ledger_lots, our_lots = [], []
    for i, (source, n, expiry) in enumerate(specs):
        day = issued + timedelta(days=3 * i)
        expires = day + timedelta(days=expiry) if expiry is not None else None
        ledger_lots.append(connects.Lot(i + 1, source, day, expires, n))
        our_lots.append(reference.RefLot(i + 1, source, day, expires, n))
    return ledger_lots, our_lots


@given(specs=lot_specs, count=st.integers(0, 300))
def test_spending_oldest_first(specs: list[Any], count: int) -> None:
    theirs, ours = _both(specs)
    try:
        expected = [list(t) for t in connects.take_oldest_first(theirs, count)]
    except ValueError:
        with pytest.raises(ValueError):
            reference.spend_oldest_first(ours, count)
        return
    assert reference.spend_oldest_first(ours, count) == expected


@given(specs=lot_specs, on=st.dates(date(2020, 1, 1), date(2022, 1, 1)),
       rollover=st.sampled_from(["none", "cap"]), cap=st.integers(0, 200))
def test_expiries_by_age_and_rollover(specs: list[Any], on: date, rollover: str,
                                      cap: int) -> None:
    theirs, ours = _both(specs)
    assert reference.age_expiries(ours, on) == [list(t) for t in
                                                connects.expired_by_age(theirs, on)]
    assert reference.rollover_expiries(ours, rollover, cap) == [
        list(t) for t in connects.expired_by_rollover(theirs, rollover, cap)]


@pytest.mark.slow
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_folds_and_every_check_agree_on_generated_histories(steps: list[Any]) -> None:
    # Given accounts with random commands, across the v2016 -> v2019 change
    led = Ledger.open("memory:", clock=START)
    led.submit({"type": "open_account", "account_id": "fl-a", "kind": "freelancer",
                "at": START.isoformat()})
    led.submit({"type": "open_account", "account_id": "fl-b", "kind": "freelancer",
                "at": START.isoformat()})
    led.submit({"type": "open_account", "account_id": "ag-c", "kind": "agency",
                "owner_id": "fl-a", "at": START.isoformat()})
    at = START
    for i, (account, kind, gap_hours, _, n) in enumerate(steps):
        at += timedelta(hours=gap_hours)
        led.set_clock(at)
        led.submit({**_command(account, kind, n, i), "at": at.isoformat()})
    led.run_billing(through=at.date().isoformat())
    try:
        # Then the reference fold of each account's events is the ledger's fold
        for account in ACCOUNTS:
            ours = reference.RefState()
            theirs = AccountState()
            for event in led.events.get(account_uuid(account)):
                reference.fold(ours, event)
                event.on_view(theirs.view)  # type: ignore[attr-defined]
                event.on_domain(theirs)  # type: ignore[attr-defined]
            assert reference.view_json(ours.view) == view_to_dict(theirs.view)
            assert reference.next_scheduled(ours.view) == schedule.next_fact_date(theirs.view)
            assert {k: p.status for k, p in ours.proposals.items()} == {
                k: p.status for k, p in theirs.proposals.items()}
        # and every re-derivation of the audit agrees with every decision recorded
        report = run_audit(led)
        assert [f.line() for f in report.findings.items] == []
    finally:
        led.close()
