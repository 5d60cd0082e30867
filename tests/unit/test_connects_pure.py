"""`ledger.connects` called directly, as tables (R-5.1, R-5.2, R-5.3).

Expected values are worked out by hand from the rules: a spend draws from the lots
issued first (R-5.1); a lot expires at the start of its expiry date, and at a billing
date rollover `none` expires every refill lot while a cap expires what is above it,
oldest lots first, whatever their source (R-5.2); proration is Plus minus Basic monthly
Connects plus floor(days x Basic monthly / 30) (R-5.3).
"""

from __future__ import annotations

from datetime import date

import pytest

from ledger.connects import (
    Lot,
    apply_takes,
    balance,
    earliest_expiry,
    expired_by_age,
    expired_by_rollover,
    live_lots,
    proration_connects,
    take_oldest_first,
)


def D(text: str) -> date:
    return date.fromisoformat(text)


def lots() -> list[Lot]:
    """Four lots in issue order; lot 3 is used up."""
    return [
        Lot(1, "refill", D("2016-03-05"), D("2017-03-05"), 5),
        Lot(2, "purchase", D("2016-03-10"), D("2017-03-10"), 10),
        Lot(3, "refill", D("2016-04-05"), D("2017-04-05"), 0),
        Lot(4, "refund", D("2016-04-20"), None, 3),
    ]


def test_r5_1_the_balance_is_what_remains_and_used_up_lots_are_not_live() -> None:
    assert balance(lots()) == 5 + 10 + 0 + 3
    assert [lot.lot_id for lot in live_lots(lots())] == [1, 2, 4]
    assert balance([]) == 0


@pytest.mark.parametrize(("count", "takes"), [
    (0, []),
    (3, [(1, 3)]),                        # from the first lot only
    (5, [(1, 5)]),                        # the first lot exactly
    (7, [(1, 5), (2, 2)]),                # then the next
    (16, [(1, 5), (2, 10), (4, 1)]),      # the used-up lot 3 is skipped
    (18, [(1, 5), (2, 10), (4, 3)]),      # everything held
])
def test_r5_1_a_spend_takes_the_lots_issued_first_first(count: int,
                                                        takes: list[tuple[int, int]]) -> None:
    assert take_oldest_first(lots(), count) == takes


def test_r5_1_a_spend_above_the_balance_is_refused() -> None:
    with pytest.raises(ValueError, match="only 18 of 19"):
        take_oldest_first(lots(), 19)


@pytest.mark.parametrize(("on", "expired"), [
    ("2017-03-04", []),                   # the day before: still live
    ("2017-03-05", [(1, 5)]),             # at the start of its expiry date
    ("2017-03-10", [(1, 5), (2, 10)]),
    ("2017-04-05", [(1, 5), (2, 10)]),    # lot 3 has nothing left to expire
    ("2099-01-01", [(1, 5), (2, 10)]),    # lot 4 has no expiry date
])
def test_r5_2_expiry_by_age(on: str, expired: list[tuple[int, int]]) -> None:
    assert expired_by_age(lots(), D(on)) == expired


@pytest.mark.parametrize(("rollover", "cap", "expired"), [
    ("none", None, [(1, 5)]),             # every live refill lot; purchases and refunds stay
    ("cap", 18, []),                      # at the cap: nothing above it
    ("cap", 20, []),                      # under the cap
    ("cap", 17, [(1, 1)]),                # one above: the oldest lot gives it
    ("cap", 10, [(1, 5), (2, 3)]),        # whatever the source: the purchase too
    ("cap", 0, [(1, 5), (2, 10), (4, 3)]),
])
def test_r5_2_expiry_by_rollover_at_a_billing_date(rollover: str, cap: int | None,
                                                   expired: list[tuple[int, int]]) -> None:
    assert expired_by_rollover(lots(), rollover, cap) == expired


def test_r5_2_the_earliest_expiry_is_of_a_live_lot() -> None:
    assert earliest_expiry(lots()) == D("2017-03-05")
    held = lots()
    apply_takes(held, [(1, 5)])
    assert earliest_expiry(held) == D("2017-03-10")  # lot 1 is used up now
    assert earliest_expiry([Lot(1, "refund", D("2016-01-01"), None, 4)]) is None


def test_r5_1_taking_lowers_what_remains_lot_by_lot() -> None:
    held = lots()
    apply_takes(held, [(1, 5), (2, 2)])
    assert [lot.remaining for lot in held] == [0, 8, 0, 3]
    apply_takes(held, [[4, 3]])  # the list form events carry
    assert balance(held) == 8


@pytest.mark.parametrize(("days", "basic", "plus", "connects"), [
    (25, 60, 70, 60),   # R-5.3 / seed 004: 10 + floor(25 x 60 / 30) = 10 + 50
    (0, 60, 70, 10),    # upgraded on the day of the refill: the difference only
    (1, 60, 70, 12),    # 2 a day under v2016
    (30, 60, 70, 70),   # a whole month
    (25, 60, 80, 70),   # an agency under v2016: 20 + 50
    (7, 10, 70, 62),    # v2019's Basic 10: 60 + floor(70 / 30) = 60 + 2
    (2, 10, 70, 60),    # floor(20 / 30) = 0
    (-3, 60, 70, 10),   # no negative days
    (10, 60, 50, 20),   # no negative difference: 0 + floor(600 / 30)
])
def test_r5_3_upgrade_proration(days: int, basic: int, plus: int, connects: int) -> None:
    assert proration_connects(days, basic, plus) == connects


def test_r5_3_seed_004_45_connects_25_days_after_the_refill_make_105() -> None:
    assert 45 + proration_connects(25, 60, 70) == 105
