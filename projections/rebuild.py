"""`ledger-replay rebuild` while writers run: fold the log into shadow tables, then swap
them in under the writers' own lock.

1. Under the rebuild lock (one rebuild at a time; not the schema lock, so processes
   may still open the store), empty shadow tables are made and the whole log is folded
   into them page by page, tracked under their own application name. No writer's lock
   is taken: writers keep storing events and folding their views inline, into the live
   tables, which stay whole and readable throughout.
2. One transaction then takes the writers' first lock (`lock_writers_in`: PostgreSQL's
   EXCLUSIVE lock on the events table, SQLite's write lock), folds into the shadow
   whatever was stored since step 1 (nothing more can be stored now), replaces the live
   rows by the shadow's with DELETE and INSERT, and sets the live position to the
   shadow's, which is the head of the log. It commits, and writers waiting for the lock
   carry on, inline, from a position equal to the head they find.
3. The shadow tables are dropped.

Why no writer can fail: no live table is ever dropped, renamed or altered, so no writer
or reader finds one missing or changed mid-transaction; the only transaction that writes
live view rows besides the writers' own takes the writers' first lock first, then the
view rows, then the tracking row, the order of every writer, so no lock cycle (deadlock)
can form; and it holds the lock for one catch-up page or so plus the copy, which
writers wait out (PostgreSQL writers wait without a timeout; SQLite writers wait up to
the store's 10 s busy timeout, enough for a copy of a few hundred thousand rows).
Why the views equal a fresh fold afterwards: the shadow is a fresh fold of every
notification up to the head, taken while no event can be added, and the live tables
become exactly it; events stored later are folded inline on top, as always.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from projections.projector import apply_next_page_in, catch_up

if TYPE_CHECKING:
    from ledger.application import Ledger


def rebuild_views(app: Ledger, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild every view from the log while writers run; how many events were folded."""
    from ledger.stores import schema_lock

    views = app.views
    shadow = views.shadow()
    with schema_lock(app.store, "rebuild"):
        shadow.create_shadow()
        try:
            applied = catch_up(shadow, app.recorder, app.mapper, progress, lock=False)
            with views.write_transaction() as c:
                views.lock_writers_in(c)
                while count := apply_next_page_in(shadow, c, app.mapper):
                    applied += count
                    if progress is not None:
                        progress(count)
                views.swap_in(c, shadow)
            views.memory.forget()
        finally:
            shadow.drop_shadow()
    return applied
