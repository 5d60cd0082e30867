"""Tamper evidence: a content hash per event, chained to the previous event of its account.

The digest covers the event's topic, stream id, version, recorded timestamp and every
field (including `prev_hash`), in a canonical JSON form that does not depend on how
the store encodes the event, so the auditor recomputes it from the decoded event alone.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS = ""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot canonicalise {type(value).__name__}")


def canonical_json(data: Any) -> str:
    return json.dumps(data, default=_plain, sort_keys=True, separators=(",", ":"))


def event_digest(topic: str, fields: dict[str, Any]) -> str:
    body = canonical_json({"topic": topic, **fields})
    return hashlib.sha256(body.encode()).hexdigest()


def chain(previous: str, digest: str) -> str:
    """The running hash of the whole log in notification order."""
    return hashlib.sha256(f"{previous}:{digest}".encode()).hexdigest()
