"""`ledger.cycles` called directly, as tables (R-4.3, R-8.2, R-7.3).

Every expected value is worked out by hand from the rules, not by running the code:
R-4.3's billing day is `d` when `d` <= the last billable day (27 under v2016, 28 under
v2019), else 1; the next billing date is the first date on or after `S + 1 month`
(end-of-month clamped) whose day is the billing day. tests/unit/test_cycles_table.py
checks the same arithmetic through the Ledger's view.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ledger.cycles import billing_day_for, next_billing_date, start_of, week_end_after


def D(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(("cycle_start", "last_billable", "billing_day"), [
    ("2016-03-05", 27, 5),    # 5 March bills on the 5th
    ("2016-03-27", 27, 27),   # the last billable day itself keeps its day
    ("2016-03-28", 27, 1),    # v2016: the 28th is past the last billable day
    ("2019-06-28", 28, 28),   # v2019: the 28th is billable
    ("2019-06-29", 28, 1),
    ("2016-01-30", 28, 1),    # R-4.3's example: 30 January, last billable day 28
    ("2016-01-31", 27, 1),
    ("2016-02-29", 27, 1),    # a leap day is past either version's last billable day
    ("2016-03-01", 27, 1),
])
def test_r4_3_billing_day(cycle_start: str, last_billable: int, billing_day: int) -> None:
    assert billing_day_for(D(cycle_start), last_billable) == billing_day


@pytest.mark.parametrize(("cycle_start", "billing_day", "next_date"), [
    ("2016-03-05", 5, "2016-04-05"),   # 5 March renews 5 April
    ("2016-01-30", 1, "2016-03-01"),   # 30 Jan + 1 month = 29 Feb (leap), then the 1st
    ("2015-01-30", 1, "2015-03-01"),   # 30 Jan + 1 month = 28 Feb, then the 1st
    ("2016-01-31", 1, "2016-03-01"),   # clamped to 29 Feb, then the 1st
    ("2016-03-01", 1, "2016-04-01"),   # a cycle on the 1st renews on every 1st
    ("2016-02-29", 1, "2016-04-01"),   # 29 Feb + 1 month = 29 March, then 1 April
    ("2019-01-28", 28, "2019-02-28"),  # v2019: the 28th exists in every February
    ("2020-01-28", 28, "2020-02-28"),  # and in a leap February too
    ("2016-12-15", 15, "2017-01-15"),  # across the year end
    ("2016-03-15", 1, "2016-05-01"),   # 15 April is after the 1st: the next 1st
    ("2016-03-05", 20, "2016-04-20"),  # 5 April is before the 20th: that month's 20th
])
def test_r4_3_next_billing_date(cycle_start: str, billing_day: int, next_date: str) -> None:
    assert next_billing_date(D(cycle_start), billing_day) == D(next_date)


@pytest.mark.parametrize(("day", "moment"), [
    ("2016-04-05", datetime(2016, 4, 5, 0, 0, tzinfo=UTC)),     # at 00:00 UTC
    ("2016-02-29", datetime(2016, 2, 29, 0, 0, tzinfo=UTC)),
    ("2030-12-31", datetime(2030, 12, 31, 0, 0, tzinfo=UTC)),
])
def test_r8_2_a_scheduled_fact_takes_effect_at_the_start_of_its_date(
        day: str, moment: datetime) -> None:
    assert start_of(D(day)) == moment
    assert start_of(D(day)).tzinfo is UTC


@pytest.mark.parametrize(("moment", "week_end"), [
    # weekly cycles run Monday 00:00 to Sunday 24:00 UTC; 2016-02-29 is a Monday.
    (datetime(2016, 3, 2, 10, 0, tzinfo=UTC), datetime(2016, 3, 7, tzinfo=UTC)),   # Wed
    (datetime(2016, 2, 29, 0, 0, tzinfo=UTC), datetime(2016, 3, 7, tzinfo=UTC)),   # Mon 00:00
    (datetime(2016, 3, 6, 23, 59, tzinfo=UTC), datetime(2016, 3, 7, tzinfo=UTC)),  # Sun 23:59
    (datetime(2016, 3, 7, 0, 0, tzinfo=UTC), datetime(2016, 3, 14, tzinfo=UTC)),   # next Mon
    (datetime(2016, 12, 29, 8, 0, tzinfo=UTC), datetime(2017, 1, 2, tzinfo=UTC)),  # year end
])
def test_r7_3_the_weekly_billing_cycle_ends_on_the_monday_after(
        moment: datetime, week_end: datetime) -> None:
    assert week_end_after(moment) == week_end
