"""Loading many accounts at once: one query for a chunk of streams instead of one each.

Used by the billing run, which decides hundreds of due accounts per transaction. The
events are decoded by the application's own mapper and folded by the same replay as
`repository.get`, so an account loaded here is the account loaded one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import Mapper, Recorder

from ledger.account import Account
from ledger.account_cache import AccountCache
from ledger.outcomes import replay


def preload(cache: AccountCache, recorder: Recorder, mapper: Mapper[UUID],
            uids: Sequence[UUID]) -> None:
    """Put into the account cache every one of `uids` it does not hold yet."""
    missing = [u for u in uids if cache.get(u) is None]
    select_many = getattr(recorder, "select_events_of_many", None)
    if not missing or select_many is None:
        return
    stored = select_many(missing)
    loaded = []
    for _, rows in groupby(stored, key=lambda s: s.originator_id):
        events: list[Any] = [mapper.to_domain_event(s) for s in rows]
        loaded.append(cast(Account, replay(None, events)))
    cache.remember(loaded)
