"""When to try again: about 5 s, 1 min, 10 min, 1 h, 6 h after the first failures, then
every 12 h, for 3 days from the first failure; a try failing then disables the endpoint.
The last wait is shortened so that a try falls exactly at the 3 days."""

from __future__ import annotations

WAITS_S = (5.0, 60.0, 600.0, 3600.0, 6 * 3600.0)
THEN_EVERY_S = 12 * 3600.0
GIVE_UP_AFTER_S = 3 * 24 * 3600.0


def wait_after(attempts: int) -> float:
    """The wait after the `attempts`-th failed try of an event (1 = its first try)."""
    return WAITS_S[attempts - 1] if attempts <= len(WAITS_S) else THEN_EVERY_S


def next_try(attempts: int, first_failed_at: float, now: float) -> float | None:
    """When to try next after a failure at `now`; None: give up (3 days have passed)."""
    deadline = first_failed_at + GIVE_UP_AFTER_S
    if now >= deadline:
        return None
    return min(now + wait_after(attempts), deadline)
