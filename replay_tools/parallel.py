"""The audit over several processes (`ledger-replay audit --workers N`).

Streams share no replay state, so each worker process takes the streams whose id falls
to it (`uid.int % N`): it reads the log itself, decodes only its own rows, and runs on
them everything `audit.Partition` runs in one process (row integrity, the replay, its
views and history rows at the end). Per page it sends back, for its rows, what needs
the whole log in order (`audit.Item`: the digest, the stream, a command note); this
process merges the workers' pages by notification id and runs the one cheap pass that
cannot be split (`audit.Merge`: the log chain against its checkpoints and the anchors,
the command records against the events naming them). Every worker reads the log up to
the last notification when the audit began, so all see the same pages.

The findings are the ones one process finds, sorted the same way (Findings.sort). The
workers are spawned (not forked), each opening the store itself: an SQLite file or a
PostgreSQL database; the in-memory store is audited in one process.
"""

from __future__ import annotations

import heapq
import multiprocessing
import queue
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.application import Ledger  # first: the store's modules before the audit's
from replay_tools.anchor import Anchor
from replay_tools.audit import AuditReport, Item, Merge, Partition, report
from replay_tools.checks.adoption import log_catalog
from replay_tools.findings import Findings
from replay_tools.log import read_pages
from replay_tools.reference import KEY_RING

if TYPE_CHECKING:
    from ledger.policy import Catalog

PAGES_IN_FLIGHT = 8  # per worker: what memory the merge may hold is bounded
POLL_S = 1.0


class AuditWorkerError(RuntimeError):
    """A worker process failed (its error, without the store's secrets)."""


class _Mine:
    """The streams worker `k` of `n` audits (picklable, unlike a closure)."""

    def __init__(self, k: int, n: int) -> None:
        self.k, self.n = k, n

    def __call__(self, uid: UUID) -> bool:
        return uid.int % self.n == self.k


class _Reads:
    """What worker `k` decodes: its own streams, and the key ring, whose scopes every
    worker's replay needs (R-1.4; its rows are audited by the worker they fall to)."""

    def __init__(self, mine: _Mine) -> None:
        self.mine = mine

    def __call__(self, uid: UUID) -> bool:
        return uid == KEY_RING or self.mine(uid)


def run_parallel(app: Ledger, through: datetime | None,
                 progress: Callable[[int], None] | None, anchors: list[Anchor] | None,
                 workers: int) -> AuditReport:
    findings = Findings()
    started = time.perf_counter()
    stop = app.recorder.max_notification_id() or 0
    merge = Merge(app.views, findings, anchors or [], app.recorder.max_notification_id)
    # the versions the log adopted, read once here, for every worker.
    catalog = log_catalog(app.recorder, app.mapper, app.catalog, findings)
    ctx = multiprocessing.get_context("spawn")
    queues: list[Any] = [ctx.Queue(PAGES_IN_FLIGHT) for _ in range(workers)]
    procs = [ctx.Process(target=_work, daemon=True, name=f"ledger-audit-{k}",
                         args=(app.store.url, catalog, through, stop, k, workers,
                               queues[k]))
             for k in range(workers)]
    for p in procs:
        p.start()
    try:
        read, counts = _merge(procs, queues, merge, findings, progress)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join(5)
    merge.finish()
    return report(app, through, findings, merge, counts, read, started, workers)


def _merge(procs: list[Any], queues: list[Any], merge: Merge, findings: Findings,
           progress: Callable[[int], None] | None) -> tuple[int, dict[str, int]]:
    """Page by page, every worker's items in notification order, then their findings."""
    read = 0
    counts: dict[str, int] = {}
    while True:
        messages = [_get(p, q) for p, q in zip(procs, queues, strict=True)]
        if messages[0][0] == "done":
            if any(m[0] != "done" for m in messages):
                raise AuditWorkerError("the audit's workers read different logs")
            for _, found, part_counts in messages:
                findings.extend(found)
                for key, value in part_counts.items():
                    counts[key] = counts.get(key, 0) + value
            return read, counts
        if any(m[0] != "page" or m[1] != messages[0][1] for m in messages):
            raise AuditWorkerError("the audit's workers read different logs")
        items: list[list[Item]] = [m[2] for m in messages]
        for item in heapq.merge(*items, key=lambda i: i[0]):
            merge.add(item)
        read += messages[0][1]
        if progress is not None:
            progress(messages[0][1])


def _get(proc: Any, q: Any) -> tuple[Any, ...]:
    while True:
        try:
            message: tuple[Any, ...] = q.get(timeout=POLL_S)
        except queue.Empty:
            if not proc.is_alive():
                raise AuditWorkerError(f"audit worker {proc.name} stopped (exit code "
                                       f"{proc.exitcode})") from None
            continue
        if message[0] == "error":
            raise AuditWorkerError(f"audit worker {proc.name} failed: {message[1]}")
        return message


def _work(url: str, catalog: Catalog, through: datetime | None, stop: int, k: int, n: int,
          out: Any) -> None:
    """One worker: its streams' rows, page by page, then the end of its streams."""
    from ledger.stores import parse_store_url

    secrets: tuple[str, ...] = ()
    try:
        secrets = parse_store_url(url).secrets
        app = Ledger.open(url, policy_from_store=True)  # the catalog came with the task
        try:
            findings = Findings()
            part = Partition(catalog, findings, through)
            mine = _Mine(k, n)
            if stop:
                for count, entries in read_pages(app.recorder, app.mapper, stop=stop,
                                                 keep=_Reads(mine)):
                    items = []
                    for entry in entries:
                        if mine(entry.originator_id):
                            items.append(part.row(entry))
                        else:  # the key ring, audited by another worker
                            part.note_other(entry)
                    out.put(("page", count, items))
            counts = part.finish(app.views, app.recorder, app.mapper, through, mine)
            out.put(("done", findings.items, counts))
        finally:
            app.close()
    except BaseException as exc:  # reported by the parent, which stops the others
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        for secret in secrets:
            text = text.replace(secret, "***")
        out.put(("error", text[-2000:]))
