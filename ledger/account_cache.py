"""Decided accounts kept in memory between commands, trusted only while the log ends
where this process last saw it.

While no other writer has appended to the log, every cached account is current and
can be decided on without reading the store. When the log's last notification id
moved, the cache starts afresh (a write slipping in after that check is caught by the
store's optimistic concurrency control when we save, and the command is decided again).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from uuid import UUID

from ledger.account import Account

CACHE_SIZE = 50_000


class AccountCache:
    def __init__(self, log_head: Callable[[], int | None], size: int = CACHE_SIZE) -> None:
        self._log_head = log_head
        self._size = size
        self._accounts: OrderedDict[UUID, Account] = OrderedDict()
        self._head_seen: int | None = None  # the log's last id when the cache was complete

    def sync_with_log(self) -> None:
        head = self._log_head() or 0
        if head != self._head_seen:
            self.drop()
            self._head_seen = head

    def note_saved(self, notification_ids: Iterable[int | None]) -> None:
        ids = [i for i in notification_ids if i is not None]
        if ids and self._head_seen is not None and min(ids) == self._head_seen + 1:
            self._head_seen = max(ids)
        elif ids:
            self._head_seen = None  # someone else wrote in between: resync next time

    def get(self, uid: UUID) -> Account | None:
        acct = self._accounts.get(uid)
        if acct is not None:
            self._accounts.move_to_end(uid)
        return acct

    def remember(self, accounts: Iterable[Account]) -> None:
        for acct in accounts:
            self._accounts[acct.id] = acct
            self._accounts.move_to_end(acct.id)
        while len(self._accounts) > self._size:
            self._accounts.popitem(last=False)

    def forget(self, accounts: Iterable[Account]) -> None:
        """Accounts whose in-memory state went beyond what was stored."""
        for acct in accounts:
            self._accounts.pop(acct.id, None)

    def forget_ids(self, uids: Iterable[UUID]) -> None:
        for uid in uids:
            self._accounts.pop(uid, None)

    def drop(self) -> None:
        self._accounts.clear()
        self._head_seen = None
