"""The ledger's clock, a port: the system's UTC clock, or a fixed "now" (simulations, tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

from ledger.commands import _to_instant

UTC = UTC


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A billing test clock: "now" stays where it is set."""

    def __init__(self, when: datetime | str) -> None:
        self.set(when)

    def set(self, when: datetime | str) -> None:
        self._now = parse_instant(when)

    def now(self) -> datetime:
        return self._now


def parse_instant(when: datetime | date | str) -> datetime:
    """ISO date or datetime (a bare date is 00:00 UTC) -> aware UTC datetime."""
    if isinstance(when, date):
        # Through the text form, so that datetimes, dates and strings share one range check.
        when = when.isoformat()
    try:
        return _to_instant(when)
    except ValueError as exc:
        raise ValueError(f"{str(when)[:60]!r} {exc}") from None


def make_clock(clock: Clock | datetime | str | None) -> Clock:
    if clock is None:
        return SystemClock()
    if isinstance(clock, datetime | str):
        return FixedClock(clock)
    return clock
