"""The billing run (R-8.2): every scheduled fact due through a date, for all accounts.

Accounts are found through the due-date index of the views (the next scheduled fact
of each account), never by loading every account. Due accounts are loaded (one query
for the streams of a chunk that are not in memory), decided and saved in chunks, one
transaction per chunk; a chunk that meets a concurrent writer
is decided again account by account from fresh state.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ledger import cycles
from ledger.errors import LedgerError
from ledger.ports import BillingSession
from ledger.schedule import catch_up

CHUNK = 500
ACCOUNT_ATTEMPTS = 10


def billing_run(app: BillingSession, through: datetime,
                progress: Callable[[int], None] | None = None,
                principal: str | None = None) -> dict[str, Any]:
    """Record every scheduled fact due through `through`; `app` is the session the
    Ledger hands its billing run (ledger/ports.py). The facts record `principal` as who
    ran it (R-8.6: an API key's id over HTTP), the ledger's own by default."""
    day = through.date()
    now = app.now()
    if cycles.start_of(day) > now:
        raise LedgerError("future_dated",
                          f"cannot bill through {day}: the ledger's clock is at {now.isoformat()}",
                          rule="R-8.2")
    app.refresh_views()
    counts: Counter[str] = Counter()
    accounts = 0
    declined: list[str] = []  # accounts whose renewal charge failed, by name
    after = ""
    failed: list[UUID] = []
    while uids := app.due_accounts(day, after, CHUNK):
        after = uids[-1]
        for account_id, names in _bill_chunk(app, [UUID(u) for u in uids], day, now, failed,
                                             principal):
            accounts += 1
            counts.update(names)
            if "PaymentFailed" in names:
                declined.append(account_id)
        app.refresh_views()
        if progress is not None:
            progress(len(uids))
    left = [_account_id(app, uid) for uid in failed]
    return {"through": day.isoformat(), "accounts": accounts, "events": sum(counts.values()),
            "by_event": dict(sorted(counts.items())), "payment_failed": sorted(declined),
            "captures": app.captures(), "payment_failures": len(declined),
            "accounts_left": len(left),
            "failed": [{"account_id": a, "reason": "write_conflict"} for a in left]}


def _account_id(app: BillingSession, uid: UUID) -> str:
    acct = app.load(uid)
    return acct.state.view.account_id if acct is not None else str(uid)


Billed = list[tuple[str, list[str]]]  # (account id, the names of the events recorded)


def _bill_chunk(app: BillingSession, uids: list[UUID], day: Any, now: datetime,
                failed: list[UUID], principal: str | None) -> Billed:
    """Decide and save a chunk; under contention, account by account with backoff. An
    account still conflicting after its retries is named in `failed`, never skipped
    silently: it stays due and the next run bills it."""
    try:
        return _decide(app, uids, day, now, principal)
    except IntegrityError:
        results: Billed = []
        for uid in uids:
            for attempt in range(ACCOUNT_ATTEMPTS):
                try:
                    results += _decide(app, [uid], day, now, principal)
                    break
                except IntegrityError:
                    app.drop()
                    time.sleep(random.uniform(0, 0.002 * 2**attempt))
            else:
                failed.append(uid)
        return results


def _decide(app: BillingSession, uids: list[UUID], day: Any, now: datetime,
            principal: str | None) -> Billed:
    app.sync()
    ctx = app.context(now, principal=principal)
    done: Billed = []
    accounts = []
    app.preload(uids)
    for uid in uids:
        acct = app.load(uid)
        if acct is None:
            continue
        before = len(acct.pending_events)
        catch_up(ctx, acct, cycles.start_of(day))
        if len(acct.pending_events) > before:
            accounts.append(acct)
            done.append((acct.state.view.account_id,
                         [type(e).__name__ for e in acct.pending_events]))
    if accounts:
        app.save(accounts)  # forgets them when it fails
    return done
