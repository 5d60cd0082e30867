"""Shared fixtures: every scenario runs on each store through one fixture.

`LEDGER_TEST_STORES` (comma-separated: memory,sqlite,postgres) narrows the set;
PostgreSQL is used when a server answers, skipped with a reason otherwise, and a
missing server is a failure under CI=true.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from tests.helpers import TEST_CLOCK
from tests.stores import selected_stores, store_url


@pytest.fixture(params=selected_stores())
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store URL of each kind."""
    return store_url(str(request.param), tmp_path)


@pytest.fixture
def make_ledger(store: str) -> Iterator[Callable[..., Ledger]]:
    """Open ledgers on the fixture's store; `clock` and `policy` as in Ledger.open."""
    opened: list[Ledger] = []

    def _open(clock: Any = TEST_CLOCK, policy: Any = None) -> Ledger:
        led = Ledger.open(store, clock=clock, policy=policy)
        opened.append(led)
        return led

    yield _open
    for led in opened:
        led.close()


@pytest.fixture
def ledger(make_ledger: Callable[..., Ledger]) -> Ledger:
    """A ledger on a fresh store with the clock fixed at TEST_CLOCK."""
    return make_ledger()
