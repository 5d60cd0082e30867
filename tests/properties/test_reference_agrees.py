"""Properties: the audit's reference (replay_tools/reference.py) and the ledger agree on
generated inputs: billing dates, proration, promo prices, lots spent and expired, the
paying waterfall's blockers, charge ids and what may be refunded (R-9.2), and the fold
and every check on whole generated histories, grants and refunds included (these tests may
import both sides; the audit itself imports only its own)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as tally
from hypothesis import strategies as st

from ledger import Ledger, LedgerError, connects, cycles, payments, schedule
from ledger.account import account_uuid
from ledger.handlers.corrections import _check_refundable
from ledger.state import AccountState, Charge, PromoBenefit, View
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
            ours, theirs = _both_folds(led, account)
            assert reference.view_json(ours.view) == view_to_dict(theirs.view)
            assert reference.next_scheduled(ours.view) == schedule.next_fact_date(theirs.view)
            assert {k: p.status for k, p in ours.proposals.items()} == {
                k: p.status for k, p in theirs.proposals.items()}
        # and every re-derivation of the audit agrees with every decision recorded
        report = run_audit(led)
        assert [f.line() for f in report.findings.items] == []
    finally:
        led.close()


# -- charge ids, refund keys, what may be refunded --------------------------------

ids = st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True)


@given(command_id=ids, purpose=st.sampled_from(["upgrade", "purchase"]), account=ids,
       day=days)
def test_charge_ids_and_payment_keys(command_id: str, purpose: str, account: str,
                                     day: date) -> None:
    ours = reference.command_charge_key(command_id, purpose)
    assert ours == payments.command_payment_key(command_id, purpose)
    assert reference.renewal_charge_key(account, day) == payments.renewal_payment_key(
        account, day)
    charge_id = reference.charge_id_of(ours)
    assert charge_id == payments.charge_id_of(ours)
    assert reference.refund_request_key(charge_id) == payments.refund_key(charge_id)


cycle_days = st.sampled_from([date(2020, 1, 1), date(2020, 1, 3), date(2020, 2, 1)])


@given(specs=lot_specs, lot=st.integers(1, 9), extra=st.integers(0, 5),
       membership=st.booleans(), plan=st.sampled_from(["basic", "plus"]),
       cycle_start=cycle_days, paid_for=cycle_days)
def test_what_may_be_refunded(specs: list[Any], lot: int, extra: int, membership: bool,
                              plan: str, cycle_start: date, paid_for: date) -> None:
    theirs, ours = _both(specs)
    held_now = next((x.remaining for x in ours if x.lot_id == lot), 0)
    quantity = max(held_now + extra, 1)
    kind = "membership" if membership else "purchase"
    billing_date = paid_for if membership else None
    lot_id = None if membership else lot
    ledger_charge = Charge("ch_x", kind, Decimal("1.00"), "method", "m-1", billing_date,
                           lot_id, quantity)
    our_charge = reference.RefCharge("ch_x", kind, Decimal("1.00"), "method", "m-1",
                                     billing_date, lot_id, quantity)
    view = View(plan=plan, cycle_start=cycle_start, lots=theirs)
    try:
        _check_refundable(view, ledger_charge)
        refused = False
    except LedgerError as exc:
        assert exc.code == "charge_not_refundable"
        refused = True
    our_view = reference.RefView(plan=plan, cycle_start=cycle_start, lots=ours)
    assert (reference.not_refundable(our_view, our_charge) is not None) == refused


r9_kinds = st.sampled_from(["proposal", "purchase", "purchase", "upgrade", "downgrade",
                            "credit", "method", "grant", "refund", "refund"])
r9_steps = st.lists(st.tuples(st.sampled_from(ACCOUNTS), r9_kinds, st.integers(0, 9 * 24),
                              st.integers(0, 5 * 24), st.integers(1, 6)),
                    min_size=5, max_size=30)


@pytest.mark.slow
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=r9_steps)
def test_charges_refunds_and_grants_fold_and_check_alike(steps: list[Any]) -> None:
    # Given accounts on Plus (fl-b's card refuses refunds) with purchases, upgrades,
    # goodwill grants, and refunds of the charges they made (some refused: spent, an
    # earlier cycle, refunded already, declined)
    led = Ledger.open("memory:", clock=START)
    for account, kind in (("fl-a", "freelancer"), ("fl-b", "freelancer"), ("ag-c", "agency")):
        command = {"type": "open_account", "account_id": account, "kind": kind,
                   "at": START.isoformat()}
        led.submit(command | ({"owner_id": "fl-a"} if kind == "agency" else {}))
        card = {"type": "add_billing_method", "account_id": account, "method_id": "m-0",
                "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
                "exp_year": 2030, "at": START.isoformat(),
                "token": "tok_norefund_b" if account == "fl-b" else "tok_ok_0"}
        assert led.submit(card | ({"actor": "fl-a"} if kind == "agency" else {})).ok
    charges: dict[str, list[str]] = {a: [] for a in ACCOUNTS}
    for account in ACCOUNTS:  # on Plus: Plus may buy Connects under v2016
        up = led.submit({"type": "upgrade_plan", "account_id": account, "actor": "fl-a"
                         if account == "ag-c" else account, "at": START.isoformat()})
        assert up.ok and up.charge_id, up.error
        charges[account].append(up.charge_id)
    at = START
    for i, (account, kind, gap_hours, pick, n) in enumerate(steps):
        at += timedelta(hours=gap_hours)
        led.set_clock(at)
        if kind == "grant":
            command = {"account_id": account, "type": "grant_connects", "quantity": 5 * n,
                       "reason": "goodwill"}
        elif kind == "refund":
            if not charges[account]:
                continue
            made = charges[account]
            chosen = made[-1 - pick % min(3, len(made))]  # mostly the latest ones
            command = {"account_id": account, "type": "refund_charge", "charge_id": chosen,
                       "reason": "asked"}
        else:
            command = _command(account, kind, n, i)
        if account == "ag-c":
            command["actor"] = "fl-a"
        result = led.submit({**command, "at": at.isoformat()})
        if result.ok and result.charge_id:
            charges[account].append(result.charge_id)
    led.run_billing(through=at.date().isoformat())
    try:
        # Then the reference's charges are the ledger's, refunded or not
        for account in ACCOUNTS:
            ours, theirs = _both_folds(led, account)
            assert reference.view_json(ours.view) == view_to_dict(theirs.view)
            assert {k: vars(c) for k, c in ours.charges.items()} == {
                k: vars(c) for k, c in theirs.charges.items()}
            names = {e.__class__.__name__ for e in led.events.get(account_uuid(account))}
            for name in ("ChargeRefunded", "ConnectsRevoked", "RefundFailed"):
                tally(f"{name} recorded" if name in names else f"no {name}")
        # and every re-derivation of the audit, R-9's included, agrees with the ledger
        report = run_audit(led)
        assert [f.line() for f in report.findings.items] == []
    finally:
        led.close()


def _both_folds(led: Ledger, account: str) -> tuple[reference.RefState, AccountState]:
    """The account's events folded by the audit's reference and by the ledger."""
    ours = reference.RefState()
    theirs = AccountState()
    for event in led.events.get(account_uuid(account)):
        reference.fold(ours, event)
        event.on_view(theirs.view)  # type: ignore[attr-defined]
        event.on_domain(theirs)  # type: ignore[attr-defined]
    return ours, theirs
