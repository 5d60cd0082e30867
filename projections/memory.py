"""What this process last committed to the views: the log chain's head and the latest
row of each account it wrote.

Events and their view rows commit in one transaction, so while the views' tracking
position is still the head we committed, and the new events directly follow it, no one
else has written in between: the chain head and the accounts' rows need no reading
back. Rows are kept as their committed JSON, staged during a transaction and kept only
once it has committed.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from uuid import UUID

from projections.codec import view_from_json
from projections.views import Row

KEPT_ROWS = 50_000


@dataclass(frozen=True)
class CommittedRow:
    version: int
    at_max: str
    recorded_max: str
    state: str

    def to_row(self) -> Row:
        return Row(view_from_json(self.state), self.version, self.at_max, self.recorded_max)


class ViewMemory:
    def __init__(self) -> None:
        self.head: tuple[int, str] | None = None  # (notification id, log chain)
        self._rows: OrderedDict[UUID, CommittedRow] = OrderedDict()
        self._staged_head: tuple[int, str] | None = None
        self._staged_rows: dict[UUID, CommittedRow] = {}

    def row_before(self, uid: UUID, version: int) -> Row | None:
        """The committed row an account had just before `version`, if we know it."""
        kept = self._rows.get(uid)
        return kept.to_row() if kept is not None and kept.version == version - 1 else None

    def stage(self, head: tuple[int, str] | None, rows: dict[UUID, CommittedRow]) -> None:
        """`head` None: the page was not certified (a reader's), the head is not known."""
        self._staged_head = head
        if head is None:
            self.head = None
        self._staged_rows.update(rows)

    def committed(self) -> None:
        if self._staged_head is not None:
            self.head = self._staged_head
        for uid, row in self._staged_rows.items():
            self._rows[uid] = row
            self._rows.move_to_end(uid)
        while len(self._rows) > KEPT_ROWS:
            self._rows.popitem(last=False)
        self.discard()

    def discard(self) -> None:
        self._staged_head = None
        self._staged_rows = {}

    def forget(self) -> None:
        self.head = None
        self._rows.clear()
        self.discard()
