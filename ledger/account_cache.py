"""Decided accounts kept in memory between commands, trusted only while the log ends
where this process last saw it.

While no other writer has appended to the log, every cached account is current and
can be decided on without reading the store. When the log's last notification id
moved, the cache reads what was appended since (one query of those few rows) and
forgets only the accounts written by someone else; a long way behind, it starts
afresh. A write slipping in after that check is caught by the store's optimistic
concurrency control when we save, and the command is decided again.

Catching up is what lets several writers on one store (`ledger serve --workers 2`)
keep their caches: before, every command of one worker emptied the other's.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from uuid import UUID

from ledger.account import Account

CACHE_SIZE = 50_000
# Further behind than this many notifications, reading them costs more than reloading.
CATCH_UP_LIMIT = 1_000

# (after, head) -> (stream id, version) of every event stored with an id in (after, head].
ChangesAfter = Callable[[int, int], Sequence[tuple[UUID, int]]]


class AccountCache:
    def __init__(self, log_head: Callable[[], int | None],
                 changes_after: ChangesAfter | None = None, size: int = CACHE_SIZE) -> None:
        self._log_head = log_head
        self._changes_after = changes_after
        self._size = size
        self._accounts: OrderedDict[UUID, Account] = OrderedDict()
        self._head_seen: int | None = None  # the log's last id when the cache was complete

    def sync_with_log(self, watched: UUID | None = None) -> bool:
        """Catch up with the log; answer whether `watched` (a stream that is not an
        account: the policy adoptions) may have moved since the last sync."""
        head = self._log_head() or 0
        if head == self._head_seen:
            return False
        seen = self._head_seen
        moved = True  # not known: a cache starting afresh assumes it did
        if seen is not None and self._changes_after is not None \
                and 0 < head - seen <= CATCH_UP_LIMIT:
            changes = self._changes_after(seen, head)
            moved = any(uid == watched for uid, _ in changes)
            for uid, version in changes:
                acct = self._accounts.get(uid)
                # An event this cache already holds (we wrote it, or loaded it) is no news;
                # a later version than ours was written by someone else.
                if acct is not None and acct.version < version:
                    del self._accounts[uid]
        else:
            self.drop()
        self._head_seen = head
        return moved

    def note_saved(self, notification_ids: Iterable[int | None]) -> None:
        ids = [i for i in notification_ids if i is not None]
        if ids and self._head_seen is not None and min(ids) == self._head_seen + 1:
            self._head_seen = max(ids)
        # Otherwise someone else wrote in between: `_head_seen` stays where every cached
        # account was current, and the next sync catches up from there (our own events
        # included, which it recognises by version).

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
