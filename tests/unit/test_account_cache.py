"""The account cache catches up with other writers instead of starting afresh: it
forgets exactly the accounts someone else wrote since it last looked (issue 16's
several-workers path), and still starts afresh when it is far behind or lost track."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from ledger.account import account_uuid
from ledger.account_cache import CATCH_UP_LIMIT, AccountCache
from ledger.application import Ledger
from tests.helpers import add_card, open_account


@dataclass
class Held:
    id: UUID
    version: int


class Log:
    """A log of (stream, version) events; ids are positions from 1."""

    def __init__(self) -> None:
        self.events: list[tuple[UUID, int]] = []
        self.reads = 0

    def head(self) -> int:
        return len(self.events)

    def changes_after(self, after: int, head: int) -> list[tuple[UUID, int]]:
        self.reads += 1
        return self.events[after:head]


def _cache_of(log: Log, *held: Held) -> AccountCache:
    cache = AccountCache(log.head, log.changes_after)
    cache.sync_with_log()
    cache.remember(held)  # type: ignore[arg-type]
    return cache


def test_forgets_only_the_accounts_another_writer_moved() -> None:
    log = Log()
    a, b = Held(uuid4(), 3), Held(uuid4(), 5)
    log.events += [(a.id, 1), (a.id, 2), (a.id, 3), (b.id, 5)]
    cache = _cache_of(log, a, b)
    log.events.append((b.id, 6))  # someone else wrote b's next event
    cache.sync_with_log()
    assert cache.get(a.id) is a
    assert cache.get(b.id) is None
    assert log.reads == 1


def test_our_own_events_between_others_keep_our_accounts() -> None:
    log = Log()
    mine, theirs = Held(uuid4(), 1), Held(uuid4(), 1)
    log.events += [(mine.id, 1), (theirs.id, 1)]
    cache = _cache_of(log, mine, theirs)
    log.events.append((theirs.id, 2))            # another writer, id 3
    log.events.append((mine.id, 2))              # ours, id 4
    mine.version = 2
    cache.note_saved([4])                        # not contiguous with 2: catch up later
    cache.sync_with_log()
    assert cache.get(mine.id) is mine
    assert cache.get(theirs.id) is None


def test_far_behind_starts_afresh_without_reading_the_gap() -> None:
    log = Log()
    a = Held(uuid4(), 1)
    log.events.append((a.id, 1))
    cache = _cache_of(log, a)
    log.events += [(uuid4(), 1)] * (CATCH_UP_LIMIT + 1)
    cache.sync_with_log()
    assert cache.get(a.id) is None
    assert log.reads == 0


def test_two_ledgers_on_one_store_keep_deciding_on_current_state(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'two.db'}"
    first, second = Ledger.open(url, clock="2031-01-01"), Ledger.open(url, clock="2031-01-01")
    try:
        open_account(first, "fl-a", "freelancer", "2030-01-01")
        open_account(first, "fl-b", "freelancer", "2030-01-01")
        add_card(second, "fl-b", "2030-01-02", method_id="m-second")
        after_second = second.account("fl-b").version
        # The first ledger's next command catches up: fl-a stays cached, fl-b is not.
        add_card(first, "fl-a", "2030-01-02")
        assert first._cache.get(account_uuid("fl-a")) is not None
        assert first._cache.get(account_uuid("fl-b")) is None
        # Decided on the second ledger's card: the event after it, not a conflict.
        add_card(first, "fl-b", "2030-01-03", method_id="m-first")
        assert first.account("fl-b").version == second.account("fl-b").version \
            == after_second + 1
    finally:
        first.close()
        second.close()
