"""Reading the whole log in notification order, page by page, and its hash chain.

`read_log` yields each notification once, decoded or with the reason it does not decode;
`LogChain` recomputes the running hash of the log (replay_tools.reference.chained) and compares
it with every checkpoint the views recorded in ledger_log_chain, read page by page too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from projections.views import ViewRecorderMixin
from replay_tools.findings import Findings, Reporter
from replay_tools.reference import chained, event_hash

PAGE = 1000
CHECKPOINT_PAGE = 5000
SUSPECTS = 40


@dataclass
class Entry:
    notification_id: int
    originator_id: UUID
    version: int
    topic: str
    event: Any | None  # None when the row does not decode
    error: str = ""


def read_log(recorder: ApplicationRecorder, mapper: Mapper[UUID],
             page: int | None = None) -> Iterator[list[Entry]]:
    """Pages of the log after notification 0, each notification decoded (or not)."""
    for _, entries in read_pages(recorder, mapper, page):
        yield entries


def read_pages(recorder: ApplicationRecorder, mapper: Mapper[UUID],
               page: int | None = None, *, stop: int | None = None,
               keep: Callable[[UUID], bool] | None = None
               ) -> Iterator[tuple[int, list[Entry]]]:
    """Pages of the log after notification 0 (up to `stop`): how many notifications the
    page holds, and each of them decoded (or not), or only those of the streams `keep`
    says (the others are not decoded)."""
    page = page or PAGE
    position = 0
    while True:
        notifications = recorder.select_notifications(position, page, stop=stop,
                                                      inclusive_of_start=False)
        if not notifications:
            return
        entries = []
        for n in notifications:
            uid = n.originator_id if isinstance(n.originator_id, UUID) else UUID(n.originator_id)
            if keep is not None and not keep(uid):
                continue
            try:
                event: Any = mapper.to_domain_event(n)
                error = ""
            except Exception as exc:  # an edited row: report it, carry on
                event, error = None, _reason(exc)
            entries.append(Entry(n.id, uid, n.originator_version, n.topic, event, error))
        yield len(notifications), entries
        position = notifications[-1].id


def digest(event: Any) -> str:
    """The event's content hash, computed by the audit's reference (R-8.1)."""
    return event_hash(event)


def _reason(exc: Exception) -> str:
    """The decoder's complaint, without the mapper's preamble (stream and version are known)."""
    cause = exc.__cause__ or exc
    text = str(cause).splitlines()[0] if str(cause) else ""
    return f"{type(cause).__name__}: {text[:160]}"


def iter_checkpoints(views: ViewRecorderMixin,
                     page: int = CHECKPOINT_PAGE) -> Iterator[tuple[int, str]]:
    """ledger_log_chain in id order, a page at a time (its size grows with the log)."""
    after = -1
    statement = views.sql("SELECT notification_id, chain FROM ledger_log_chain"
                          " WHERE notification_id > ? ORDER BY notification_id LIMIT ?")
    while True:
        with views.read_transaction() as c:
            c.execute(statement, (after, page))
            rows = [_pair(r) for r in c.fetchall()]
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


def _pair(row: Any) -> tuple[int, str]:
    values = list(row.values()) if isinstance(row, dict) else [row[0], row[1]]
    return int(values[0]), str(values[1])


class LogChain:
    """The running hash of the log, checked against each checkpoint as it is passed."""

    def __init__(self, views: ViewRecorderMixin, findings: Findings,
                 log_head: Callable[[], int | None] | None = None) -> None:
        self.findings = findings
        # The log's last notification id now: a checkpoint past what was read is proof
        # of a deleted tail only if the log does not reach it (a writer running beside
        # the audit adds notifications and their checkpoints after the audit's snapshot).
        self.log_head = log_head
        self.head = ""
        self.checkpoints = iter_checkpoints(views)
        self.next_cp: tuple[int, str] | None = next(self.checkpoints, None)
        self.verifiable = True  # False once a row of the segment did not decode
        self.suspects: dict[str, tuple[int, int]] = {}  # stream -> versions read in segment
        self.segment_start = 1
        self.last_id = 0
        self.checked = 0
        self.last_checkpoint = 0
        self.last_checkpoint_chain = ""

    def add(self, notification_id: int, digest: str | None, stream: str, version: int) -> None:
        self._pass_checkpoints_before(notification_id)
        if digest is None:
            self.verifiable = False
        else:
            # Ids may have gaps (PostgreSQL sequences): the chain runs over what is there.
            self.head = chained(self.head, digest)
        first = self.suspects.setdefault(stream, (version, version))[0]
        self.suspects[stream] = (first, version)
        self.last_id = notification_id
        if self.next_cp is not None and self.next_cp[0] == notification_id:
            self._check(*self.next_cp)
            self._advance()

    def finish(self) -> None:
        beyond = []
        while self.next_cp is not None:
            if self.next_cp[0] <= self.last_id:
                self._check(*self.next_cp)
            else:
                beyond.append(self.next_cp[0])
            self._advance()
        if beyond and self.log_head is not None:
            reached = self.log_head() or 0
            beyond = [cp for cp in beyond if cp > reached]
        log = Reporter(self.findings, None, None, None)
        if beyond:
            log.fail("integrity", "R-8.1",
                     f"{len(beyond)} checkpoint(s) of the log chain lie beyond the last "
                     f"notification #{self.last_id} (first at #{beyond[0]}): notifications "
                     "were deleted from the end of the log", expected=beyond[0],
                     found=self.last_id)
        elif self.last_id > self.last_checkpoint:
            log.fail("integrity", "R-8.1",
                     f"notifications #{self.last_checkpoint + 1}..#{self.last_id} lie after "
                     "the last checkpoint of the log chain: the views never applied them "
                     f"(appended behind the ledger's back?): {self._read_there()}",
                     expected=self.last_checkpoint, found=self.last_id)

    def _read_there(self) -> str:
        """The streams and versions read in the segment (where to look)."""
        parts = [f"{stream} v{a}" + (f"..v{b}" if b != a else "")
                 for stream, (a, b) in list(self.suspects.items())[:SUSPECTS]]
        more = len(self.suspects) - SUSPECTS
        return ", ".join(parts) + (f" and {more} more streams" if more > 0 else "") or "nothing"

    def _pass_checkpoints_before(self, notification_id: int) -> None:
        while self.next_cp is not None and self.next_cp[0] < notification_id:
            self._check(*self.next_cp)
            self._advance()

    def _advance(self) -> None:
        self.next_cp = next(self.checkpoints, None)

    def _check(self, checkpoint_id: int, recorded: str) -> None:
        self.checked += 1
        if self.verifiable and self.head != recorded:
            Reporter(self.findings, None, None, checkpoint_id).fail(
                "integrity", "R-8.1",
                f"the log chain recomputed through #{checkpoint_id} differs from its "
                f"checkpoint: a notification in #{self.segment_start}..#{checkpoint_id} was "
                f"changed, inserted, deleted or reordered; read there: "
                f"{self._read_there()}",
                expected=recorded[:16], found=self.head[:16])
        # Carry on from the recorded value, so each segment is judged on its own.
        self.head = recorded
        self.verifiable = True
        self.restarted = None
        self.suspects = {}
        self.segment_start = checkpoint_id + 1
        self.last_checkpoint = checkpoint_id
        self.last_checkpoint_chain = recorded
