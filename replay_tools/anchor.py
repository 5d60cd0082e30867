"""Anchors (R-8.8): the log's chain head at a moment, exported to be kept outside the
database, signed with HMAC-SHA256 when `LEDGER_ANCHOR_KEY` names a key file.

An anchor is `{"anchor": 1, "notification_id": N, "chain": H, "events": n,
"created_at": T, "signed": bool, "signature": hex | null}`; `chain` is the running hash
(replay_tools.reference.chained) over every notification up to N, recomputed from the
stored events themselves, not copied from the checkpoints the database holds. The
signature covers the canonical JSON of every other field. `audit --anchor FILE` checks
that the log still extends each anchor: the same running hash at N.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper

from replay_tools.findings import Findings, Reporter
from replay_tools.log import read_log
from replay_tools.reference import chained, event_hash

KEY_ENV = "LEDGER_ANCHOR_KEY"
FIELDS = ("anchor", "notification_id", "chain", "events", "created_at", "signed")


class AnchorError(Exception):
    """An anchor or key file that cannot be used (a usage error: exit 2)."""


def anchor_key() -> bytes | None:
    """The key in the file LEDGER_ANCHOR_KEY names, or None when it is not set."""
    name = os.environ.get(KEY_ENV)
    if not name:
        return None
    try:
        key = Path(name).read_bytes().strip()
    except OSError as exc:
        raise AnchorError(f"{KEY_ENV}: cannot read the key file {name}: "
                          f"{exc.strerror or exc}") from None
    if not key:
        raise AnchorError(f"{KEY_ENV}: the key file {name} is empty")
    return key


def _signed_part(data: dict[str, Any]) -> bytes:
    return json.dumps({k: data.get(k) for k in FIELDS}, sort_keys=True,
                      separators=(",", ":")).encode()


def sign(data: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, _signed_part(data), hashlib.sha256).hexdigest()


def chain_head(recorder: ApplicationRecorder, mapper: Mapper[Any]) -> tuple[int, str, int]:
    """(last notification id, running hash over the whole log, notifications read)."""
    head, last, count = "", 0, 0
    for page in read_log(recorder, mapper):
        for entry in page:
            if entry.event is None:
                raise AnchorError(f"notification #{entry.notification_id} ({entry.topic}) "
                                  "does not decode: audit the store before anchoring it")
            head = chained(head, event_hash(entry.event))
            last, count = entry.notification_id, count + 1
    return last, head, count


def make_anchor(recorder: ApplicationRecorder, mapper: Mapper[Any],
                now: datetime | None = None) -> dict[str, Any]:
    last, head, count = chain_head(recorder, mapper)
    key = anchor_key()
    data: dict[str, Any] = {
        "anchor": 1, "notification_id": last, "chain": head, "events": count,
        "created_at": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "signed": key is not None,
    }
    data["signature"] = sign(data, key) if key is not None else None
    return data


@dataclass
class Anchor:
    source: str
    notification_id: int
    chain: str
    problem: str | None  # why the anchor itself cannot be trusted (signature), or None


def load_anchor(path: str, key: bytes | None) -> Anchor:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise AnchorError(f"--anchor: cannot read {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise AnchorError(f"--anchor: {path} is not JSON") from None
    return anchor_from(data, path, key)


def anchor_from(data: Any, source: str, key: bytes | None) -> Anchor:
    """An anchor's content (a file's, or one sent to `POST /v1/audits`), checked."""
    if not isinstance(data, dict) or data.get("anchor") != 1 or not isinstance(
            data.get("notification_id"), int) or not isinstance(data.get("chain"), str):
        raise AnchorError(f"--anchor: {source} is not a ledger-replay anchor")
    path = source
    problem = None
    signature = data.get("signature")
    if key is None:
        if signature:
            problem = f"the anchor is signed but {KEY_ENV} is not set: it cannot be verified"
    elif not signature:
        problem = f"the anchor is not signed, and {KEY_ENV} is set: it cannot be trusted"
    elif not hmac.compare_digest(str(signature), sign(data, key)):
        problem = "the anchor's signature does not match its content (edited, or another key)"
    return Anchor(path, data["notification_id"], data["chain"], problem)


class AnchorChecks:
    """The running hash of the log from its start, never reset at a checkpoint (the
    database's checkpoints are not trusted here), compared with each anchor as it is
    passed; an anchor beyond the end of the log means its tail was deleted."""

    def __init__(self, anchors: list[Anchor], findings: Findings) -> None:
        self.findings = findings
        self.waiting = sorted(anchors, key=lambda a: a.notification_id)
        self.head = ""
        self.last_id = 0
        self.broken = False  # a row did not decode: the hash from there is unknown
        self.checked = 0
        for anchor in anchors:
            if anchor.problem is not None:
                self._fail(anchor, anchor.problem)

    def add(self, notification_id: int, digest: str | None) -> None:
        self._pass(notification_id, including=False)
        if digest is None:
            self.broken = True
        else:
            self.head = chained(self.head, digest)
        self.last_id = notification_id
        self._pass(notification_id, including=True)

    def finish(self) -> None:
        for anchor in self.waiting:
            self._fail(anchor, f"the log ends at #{self.last_id}, before the anchor's "
                       f"#{anchor.notification_id}: notifications were deleted from its end",
                       anchor.notification_id, self.last_id)
        self.waiting = []

    def _pass(self, notification_id: int, including: bool) -> None:
        while self.waiting and (self.waiting[0].notification_id < notification_id or (
                including and self.waiting[0].notification_id == notification_id)):
            anchor = self.waiting.pop(0)
            self.checked += 1
            if self.broken:
                self._fail(anchor, "a notification before the anchor does not decode: the "
                           "log cannot be shown to extend it")
            elif self.head != anchor.chain or self.last_id != anchor.notification_id:
                self._fail(anchor, f"the log does not extend the anchor: its hash through "
                           f"#{anchor.notification_id} differs (a notification up to there "
                           "was changed, inserted, deleted or reordered)",
                           anchor.chain[:16], self.head[:16])

    def _fail(self, anchor: Anchor, message: str, expected: Any = None,
              found: Any = None) -> None:
        Reporter(self.findings, None, None, anchor.notification_id).fail(
            "integrity", "R-8.8", f"anchor {anchor.source}: {message}", expected, found)
