"""Settling captures no decision recorded (R-3.4).

Every capture the gateway approves during one top-level call (a command, a batch, a
billing run) is noted here, and so is every gateway key the store accepted in a commit.
When the call ends, a capture whose key was not committed is one that a retry's new
decision no longer wanted (the account changed under a write conflict, a chunk fell back
and decided otherwise): it is voided at once, unless another writer recorded it
meanwhile or a later decision is still bound to claim it (a renewal whose billing date
is not recorded yet). A capture orphaned by a crash is never seen here; the rerun that
decides the same key gets the first answer back from the gateway and records it, and
`ledger-replay reconcile` lists any left over.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from ledger.payments import BACKUP_SUFFIX, Gateway, GatewayKeyConflict
from ledger.state import AccountState, Method

FreshState = Callable[[str], AccountState | None]  # account id -> its state, read anew


class TrackingGateway:
    """The gateway port, noting the keys of approved captures."""

    def __init__(self, inner: Gateway) -> None:
        self.inner = inner
        self.captured: dict[str, str] = {}  # key -> account id
        self.committed: set[str] = set()

    def charge(self, key: str, account_id: str, method: Method, amount: Decimal) -> bool:
        try:
            approved = self.inner.charge(key, account_id, method, amount)
        except GatewayKeyConflict:
            # The key was first captured with another method or amount: a run that died
            # before its commit (then the account changed), or the same command id sent
            # for another account. This decision cannot record that capture, so it is
            # settled with the others when the call ends: voided unless some account
            # recorded it (R-3.4: never left).
            self.captured[key] = account_id
            raise
        if approved:
            self.captured[key] = account_id
        return approved

    def refund(self, key: str, account_id: str, method: Method, amount: Decimal) -> bool:
        return self.inner.refund(key, account_id, method, amount)

    def void(self, key: str) -> None:
        self.inner.void(key)

    def note_committed(self, keys: list[str]) -> None:
        self.committed.update(keys)

    @property
    def committed_count(self) -> int:
        """Captures recorded so far in this call (a billing run's summary): approved
        keys that a commit recorded."""
        return sum(1 for key in self.committed if key in self.captured)

    def settle(self, fresh_state: FreshState,
               owner_of: Callable[[str], str | None] = lambda key: None) -> list[str]:
        """Void what no decision recorded or will record; answer the voided keys.
        `owner_of(key)`: the account that accepted the command a `cmd:` key belongs to
        (a command id sent again for another account meets that account's capture)."""
        voided = []
        for key, account_id in self.captured.items():
            if key in self.committed:
                continue
            state = fresh_state(account_id)
            if state is not None and key in state.captured_keys:
                continue  # another writer recorded this very capture
            owner = owner_of(key)
            if owner is not None and owner != account_id:
                owners_state = fresh_state(owner)
                if owners_state is not None and key in owners_state.captured_keys:
                    continue  # the command was accepted for another account, paid so
            if _still_claimable(key, state):
                continue
            self.inner.void(key)
            voided.append(key)
        self.captured.clear()
        self.committed.clear()
        return voided


def _still_claimable(key: str, state: AccountState | None) -> bool:
    """A renewal's capture stays while its billing date is not recorded: the next
    billing run or command dated past it decides the same key and records it."""
    base = key.removesuffix(BACKUP_SUFFIX)
    if not base.startswith("renewal:") or state is None:
        return False
    day = date.fromisoformat(base.rsplit(":", 1)[1])
    upcoming = state.view.next_billing_date
    return state.view.status != "closed" and upcoming is not None and upcoming <= day
