"""Billing-day and billing-date arithmetic (R-4.3), pure functions.

Dates are computed from the cycle start with `relativedelta`, never by adding
months step by step: end-of-month clamping does not compose.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta

UTC = UTC


def billing_day_for(cycle_start: date, last_billable_day: int) -> int:
    """A cycle starting on day d bills on day d, or on the 1st past the last billable day."""
    return cycle_start.day if cycle_start.day <= last_billable_day else 1


def next_billing_date(cycle_start: date, billing_day: int) -> date:
    """The first date on or after cycle_start + 1 month whose day is the billing day."""
    earliest = cycle_start + relativedelta(months=1)
    if earliest.day == billing_day:
        return earliest
    if earliest.day < billing_day:
        # Only reachable when clamping shortened the month; the day exists later in it.
        return earliest.replace(day=billing_day)
    return (earliest + relativedelta(months=1)).replace(day=billing_day)


def start_of(day: date) -> datetime:
    """Scheduled facts take effect at 00:00 UTC of their date."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def week_end_after(moment: datetime) -> datetime:
    """End of the weekly billing cycle (Monday 00:00 to Sunday 24:00 UTC) holding `moment`."""
    monday = moment.date() - timedelta(days=moment.weekday())
    return start_of(monday + timedelta(days=7))
