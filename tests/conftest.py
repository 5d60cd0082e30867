"""Shared fixtures: every scenario runs on each store through one fixture.

`LEDGER_TEST_STORES` (comma-separated: memory,sqlite,postgres) narrows the set;
PostgreSQL is used when a server answers, skipped with a reason otherwise, and a
missing server is a failure under CI=true.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from ledger import Ledger
from tests.stores import postgres_url_or_skip, reset_postgres

# The ledger's fixed "now" for tests: far after every scenario date, so commands
# may be dated freely in the past (R-8.2's future_dated applies to the clock).
TEST_CLOCK = "2031-01-01T00:00:00Z"

ALL_STORES = ("memory", "sqlite", "postgres")


def _selected_stores() -> list[str]:
    raw = os.environ.get("LEDGER_TEST_STORES", "memory,sqlite,postgres")
    return [s.strip() for s in raw.split(",") if s.strip() in ALL_STORES]


def store_url(kind: str, tmp_path: Path) -> str:
    if kind == "memory":
        # A named in-process store, so make_ledger can open it a second time.
        return f"memory:test-{uuid4().hex}"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url = postgres_url_or_skip()
    reset_postgres(url)
    return url


@pytest.fixture(params=_selected_stores())
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
