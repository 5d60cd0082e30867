"""The views' instant key: its fast form writes what its definition (strftime) writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from projections.views import instant_key

DEFINITION = "%Y-%m-%dT%H:%M:%S.%fZ"
ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30)),
                         timezone(-timedelta(hours=11))])


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)), ZONES)
def test_the_key_is_strftimes(moment: datetime, zone: timezone | None) -> None:
    moment = moment.replace(tzinfo=zone)
    assert instant_key(moment) == moment.strftime(DEFINITION)


def test_text_order_is_time_order_with_whole_seconds() -> None:
    # A whole second has microseconds written out too: the key stays fixed-width.
    earlier = datetime(2021, 1, 4, 0, 0, 0, tzinfo=UTC)
    later = earlier + timedelta(microseconds=1)
    assert instant_key(earlier) == "2021-01-04T00:00:00.000000Z"
    assert instant_key(earlier) < instant_key(later)
