"""Tamper evidence: a content hash per event, chained to the previous event of its account.

The digest covers the event's topic, stream id, version, recorded timestamp and every
field (including `prev_hash`), in a canonical JSON form that does not depend on how
the store encodes the event, so the auditor recomputes it from the decoded event alone.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

GENESIS = ""
# orjson's own datetime and date forms are their isoformat (the tests hold it to that);
# dataclasses are not serialised natively (the standard library refuses them).
_FAST = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot canonicalise {type(value).__name__}")


def canonical_json(data: Any) -> str:
    """The canonical form: `json.dumps(sort_keys, compact separators, ASCII escapes)`.

    orjson writes the same bytes for the JSON it shares with the standard library, and
    is used when that is certain: no floats (their exponent form differs), no UTC offset
    in seconds, an all-ASCII
    result without DEL (the standard library escapes everything else as \\uXXXX), and
    nothing orjson refuses (non-string keys, integers beyond 64 bits). Anything else
    takes the standard library's path, so every digest ever recorded stays the same.
    """
    if not _orjson_differs(data):
        try:
            fast = orjson.dumps(data, default=_plain, option=_FAST)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            pass
        else:
            if fast.isascii() and b"\x7f" not in fast:
                return fast.decode("ascii")
    return slow_canonical_json(data)


def slow_canonical_json(data: Any) -> str:
    """The definition of the canonical form (and the path for what orjson cannot match)."""
    return json.dumps(data, default=_plain, sort_keys=True, separators=(",", ":"))


_PLAIN_TYPES = frozenset({str, int, bool, type(None), Decimal, UUID, date})


def _orjson_differs(value: Any) -> bool:
    """Whether anything inside is written differently by orjson: a float, or a
    datetime whose UTC offset is not whole minutes (iterative, exact types first: this
    runs for every event hashed)."""
    stack = [value]
    while stack:
        v = stack.pop()
        kind = type(v)
        if kind in _PLAIN_TYPES:
            continue
        if kind is datetime:
            if v.tzinfo is not None and v.tzinfo is not UTC:
                offset = v.utcoffset()
                if offset is not None and (offset.seconds % 60 or offset.microseconds):
                    return True
        elif isinstance(v, float | date):  # a float, or a subclass of date or datetime
            return True
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list | tuple | set | frozenset):
            stack.extend(v)
    return False


def event_digest(topic: str, fields: dict[str, Any]) -> str:
    body = canonical_json({"topic": topic, **fields})
    return hashlib.sha256(body.encode()).hexdigest()


def chain(previous: str, digest: str) -> str:
    """The running hash of the whole log in notification order."""
    return hashlib.sha256(f"{previous}:{digest}".encode()).hexdigest()
