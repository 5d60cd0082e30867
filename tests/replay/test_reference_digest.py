"""The audit's content hash takes orjson's bytes only where they are the definition's
(the standard library's sorted, compact, ASCII-escaped JSON): every event of the known
history hashes the same both ways, and what orjson writes otherwise takes the
definition's path."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from ledger import Ledger
from replay_tools.log import read_log
from replay_tools.reference import _orjson_form, canonical, event_hash
from tests.replay.conftest import TEST_CLOCK


def _by_definition(event: Any) -> str:
    fields = dict(vars(event))
    fields["originator_id"] = fields["originator_id"].hex
    body = canonical({"topic": type(event).TOPIC, **fields})
    return hashlib.sha256(body.encode()).hexdigest()


def test_every_event_of_the_known_history_hashes_as_the_definition_says(url: str) -> None:
    led = Ledger.open(url, clock=TEST_CLOCK)
    try:
        events = [e.event for page in read_log(led.recorder, led.mapper) for e in page]
    finally:
        led.close()
    assert len(events) > 50
    assert [event_hash(e) for e in events] == [_by_definition(e) for e in events]


@pytest.mark.parametrize("value", [
    1.5, "é", "\x7f", 2 ** 70, {1: 2}, datetime(2016, 3, 5, tzinfo=timezone(timedelta(hours=1))),
])
def test_what_orjson_writes_otherwise_takes_the_definitions_path(value: Any) -> None:
    assert _orjson_form({"x": value}) is None


def test_what_both_write_alike_is_byte_for_byte_the_same() -> None:
    data = {"s": "a\nb\t\x01\x1f\"\\/", "i": -2 ** 63, "j": 2 ** 64 - 1, "d": Decimal("1.50"),
            "day": date(2016, 3, 5), "t": datetime(2016, 3, 5, 1, 2, 3, 456, tzinfo=UTC),
            "naive": datetime(2016, 3, 5), "u": UUID(int=7), "set": {"b", "a"},
            "nested": {"z": [1, [2, None]], "a": (True, False)}, "empty": ""}
    assert _orjson_form(data) == canonical(data).encode()
