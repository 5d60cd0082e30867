"""`ledger.payments` called directly, as tables (R-2.5, R-2.6, R-3.1, R-3.2, R-3.4, R-9.2).

Expected values are worked out by hand from the rules: an amount is paid whole from the
available earnings when they cover it, else whole by the primary method (R-3.1); a
membership needs a method on file even when earnings cover it (R-3.2); a suspended
primary is refused (R-2.6); PayPal pays only with a card on file and falls back once to
the oldest active card (R-2.5); every request's key is fixed by what is paid (R-3.4) and
a charge id is `ch_` and the first 24 hex characters of the key's SHA-256 (R-9.2; the
digests below were computed with `sha256sum`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.errors import LedgerError
from ledger.payments import (
    BACKUP_SUFFIX,
    GatewayKeyConflict,
    approves,
    approves_refund,
    charge_id_of,
    check_method_can_pay,
    command_payment_key,
    oldest_active_card,
    pay,
    refund_key,
    renewal_blocker,
    renewal_payment_key,
)
from ledger.state import Method, View

M = Decimal


def card(method_id: str, seq: int, token: str = "tok_ok_1", suspended: bool = False) -> Method:
    return Method(method_id, "card", seq, brand="visa", last4="4242", exp_month=12,
                  exp_year=2035, token=token, suspended=suspended)


def paypal(method_id: str, seq: int, email: str = "fl@example.com") -> Method:
    return Method(method_id, "paypal", seq, email=email)


def view(*methods: Method, primary: str | None = None, earnings: str = "0.00") -> View:
    return View(account_id="fl-1", kind="freelancer", plan="basic",
                earnings_available=M(earnings),
                methods={m.method_id: m for m in methods},
                primary_method_id=primary if primary is not None else (
                    methods[0].method_id if methods else None))


class Gateway:
    """Approves as the simulated processor does; remembers every request."""

    def __init__(self, conflicting: frozenset[str] = frozenset()) -> None:
        self.requests: list[tuple[str, str, Decimal]] = []
        self.conflicting = conflicting

    def charge(self, key: str, account_id: str, method: Method, amount: Decimal) -> bool:
        if key in self.conflicting:
            raise GatewayKeyConflict(key)
        self.requests.append((key, method.method_id, amount))
        return approves(method)

    def refund(self, key: str, account_id: str, method: Method, amount: Decimal) -> bool:
        return approves_refund(method)

    def void(self, key: str) -> None:
        pass


# ------------------------------------------------------------------- keys and ids

@pytest.mark.parametrize(("key", "expected"), [
    (command_payment_key("c-1", "upgrade"), "cmd:c-1:upgrade"),
    (renewal_payment_key("fl-1", date(2016, 4, 5)), "renewal:fl-1:2016-04-05"),
    (refund_key("ch_0123"), "refund:ch_0123"),
])
def test_r3_4_a_payment_key_is_fixed_by_what_is_paid(key: str, expected: str) -> None:
    assert key == expected


@pytest.mark.parametrize(("key", "charge_id"), [
    ("cmd:c-1:upgrade", "ch_c696ca7735333e26bd1a8326"),
    ("renewal:fl-1:2016-04-05", "ch_f7f77c5b421a29e5adc91b5a"),
])
def test_r9_2_a_charge_id_is_derived_from_its_key(key: str, charge_id: str) -> None:
    assert charge_id_of(key) == charge_id
    assert len(charge_id) == 3 + 24


# ------------------------------------------------------------- before any charge

@pytest.mark.parametrize(("account", "amount", "answer"), [
    (view(), "0.00", None),                                  # nothing to pay
    (view(earnings="10.00"), "10.00", None),                 # earnings cover it
    (view(card("m-1", 1), earnings="9.99"), "10.00", "m-1"),  # not whole: the method
    (view(card("m-1", 1), paypal("pp", 2), primary="pp"), "10.00", "pp"),
])
def test_r3_1_who_pays(account: View, amount: str, answer: str | None) -> None:
    primary = check_method_can_pay(account, M(amount))
    assert (primary.method_id if primary else None) == answer


@pytest.mark.parametrize(("account", "code", "rule"), [
    (view(earnings="9.99"), "billing_method_required", "R-3.2"),
    (view(card("m-1", 1, suspended=True)), "method_suspended", "R-2.6"),
    (view(paypal("pp", 1)), "backup_card_required", "R-2.5"),
    (view(paypal("pp", 1), card("m-2", 2, suspended=True), primary="pp"),
     "backup_card_required", "R-2.5"),  # a suspended card is no backup
])
def test_what_is_refused_before_any_charge(account: View, code: str, rule: str) -> None:
    with pytest.raises(LedgerError) as caught:
        check_method_can_pay(account, M("10.00"))
    assert (caught.value.code, caught.value.rule) == (code, rule)


@pytest.mark.parametrize(("account", "blocker"), [
    (view(earnings="50.00"), "billing_method_required"),  # even when earnings cover
    (view(card("m-1", 1)), None),
    (view(card("m-1", 1, suspended=True)), "method_suspended"),  # then
    (view(paypal("pp", 1)), "backup_card_required"),
])
def test_r3_2_what_stops_a_renewal_before_its_attempt(account: View,
                                                      blocker: str | None) -> None:
    assert renewal_blocker(account, M("10.00")) == blocker


@pytest.mark.parametrize(("methods", "oldest"), [
    ((card("m-1", 1), card("m-2", 2)), "m-1"),
    ((card("m-2", 2), card("m-1", 1)), "m-1"),                   # by order added, not by id
    ((card("m-1", 1, suspended=True), card("m-2", 2)), "m-2"),   # active cards only
    ((paypal("pp", 1),), None),
])
def test_r2_5_the_backup_is_the_oldest_active_card(methods: tuple[Method, ...],
                                                   oldest: str | None) -> None:
    found = oldest_active_card(view(*methods))
    assert (found.method_id if found else None) == oldest


# ----------------------------------------------------------------- paying

KEY = "cmd:c-1:upgrade"


@pytest.mark.parametrize(
    ("account", "amount", "source", "method_id", "approved", "attempts", "captured"), [
        (view(card("m-1", 1)), "0.00", "promo", None, True, [], None),
        (view(card("m-1", 1), earnings="10.00"), "10.00", "earnings", None, True, [], None),
        (view(card("m-1", 1)), "10.00", "method", "m-1", True, [["m-1", True]], KEY),
        (view(card("m-1", 1, token="tok_decline_1")), "10.00", "method", "m-1", False,
         [["m-1", False]], None),
        # PayPal declined, the oldest active card charged once, in the same attempt
        (view(paypal("pp", 1, email="decline@x.com"), card("m-2", 2), card("m-3", 3),
              primary="pp"), "10.00", "method", "m-2", True,
         [["pp", False], ["m-2", True]], KEY + BACKUP_SUFFIX),
        (view(paypal("pp", 1, email="decline@x.com"), card("m-2", 2, token="tok_decline_2"),
              primary="pp"), "10.00", "method", "pp", False,
         [["pp", False], ["m-2", False]], None),
        (view(paypal("pp", 1), card("m-2", 2), primary="pp"), "10.00", "method", "pp", True,
         [["pp", True]], KEY),
    ])
def test_r3_1_pay(account: View, amount: str, source: str, method_id: str | None,
                  approved: bool, attempts: list[list[object]], captured: str | None) -> None:
    gateway = Gateway()
    funding = pay(account, M(amount), gateway, KEY)
    assert (funding.source, funding.method_id, funding.approved) == (source, method_id,
                                                                     approved)
    assert funding.attempts == attempts
    assert funding.captured_key == captured
    assert funding.key == KEY and funding.charge_id == charge_id_of(KEY)
    # The gateway was asked once per attempt, each under the payment's own key.
    assert [r[0] for r in gateway.requests] == [
        KEY if i == 0 else KEY + BACKUP_SUFFIX for i in range(len(attempts))]


def test_r3_4_a_key_sent_before_for_another_amount_moves_nothing() -> None:
    funding = pay(view(card("m-1", 1)), M("10.00"), Gateway(frozenset({KEY})), KEY)
    assert (funding.approved, funding.attempts, funding.captured_key) == (
        False, [["m-1", False]], None)


@pytest.mark.parametrize(("method", "charged", "refunded"), [
    (card("m-1", 1, token="tok_ok_1"), True, True),
    (card("m-1", 1, token="tok_decline_1"), False, True),
    (card("m-1", 1, token="tok_norefund_1"), True, False),
    (paypal("pp", 1, email="decline@x.com"), False, True),
    (paypal("pp", 1, email="norefund@x.com"), True, False),
    (paypal("pp", 1, email="fl@example.com"), True, True),
])
def test_the_simulated_processors_answers(method: Method, charged: bool,
                                          refunded: bool) -> None:
    assert (approves(method), approves_refund(method)) == (charged, refunded)
