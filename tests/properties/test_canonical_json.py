"""The fast canonical JSON (orjson where it writes the same bytes) is the standard
library's form, byte for byte: every digest ever recorded stays the same."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.integrity import canonical_json, slow_canonical_json

zones = st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30)),
                         timezone(-timedelta(hours=8)),
                         timezone(timedelta(seconds=30)),
                         timezone(timedelta(hours=1, microseconds=5))])
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=string.printable, max_size=8),
    st.text(alphabet=string.printable + "\x00\x1f\x7f", max_size=8),
    st.text(alphabet=string.ascii_letters + "é€😀", max_size=4),
    st.decimals(allow_nan=False, allow_infinity=False), st.uuids(),
    st.dates(), st.datetimes(timezones=zones),
    st.frozensets(st.text(max_size=3), max_size=3),
)
# mostly what events hold (ASCII keys), sometimes what only the slow path can write
keys = st.one_of(st.text(alphabet=string.ascii_lowercase + "_", max_size=6),
                 st.text(max_size=3), st.integers())
values: st.SearchStrategy[Any] = st.recursive(
    leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(keys, values, max_size=8))
def test_the_fast_form_is_the_standard_librarys(data: dict[str, Any]) -> None:
    try:
        expected = slow_canonical_json(data)
    except (TypeError, ValueError) as exc:
        try:
            canonical_json(data)
        except type(exc):
            return
        raise AssertionError("the fast path accepted what the definition refuses") from exc
    assert canonical_json(data) == expected


def test_an_event_like_record_takes_the_fast_path_with_the_same_bytes() -> None:
    record = {"topic": "ledger/ConnectsRefilled", "at": datetime(2021, 1, 4, tzinfo=UTC),
              "amount": Decimal("12.50"), "lots": [[10, "2021-02-04"]], "prev_hash": "ab",
              "originator_version": 3, "day": date(2021, 1, 4), "note": "on time"}
    assert canonical_json(record) == slow_canonical_json(record)


TRICKY = [{"x": float("nan")}, {"x": [1.5, float("inf")]}, {"x": 1e16}, {"x": "a\x7fb"},
          {"x": "é"}, {"x": "😀"}, {"x": 2**70}, {1: "int key"}, {"x": {"y": -0.0}},
          {"x": "\x00\x1f\n\t"}, {"b": 1, "a": {"d": 2, "c": 3}},
          {"x": datetime(836, 1, 1, 0, 0, 0, 1)}, {"x": date(1, 1, 1)},
          {"x": datetime(2021, 1, 4, 12, 0, 0, 500, tzinfo=UTC)},
          {"x": datetime(2021, 1, 4, tzinfo=timezone(timedelta(seconds=30)))},
          {"x": datetime(2021, 1, 4, tzinfo=timezone(timedelta(hours=1, microseconds=5)))}]


def test_what_orjson_writes_differently_still_gets_the_standard_form() -> None:
    for data in TRICKY:
        assert canonical_json(data) == slow_canonical_json(data), data
