"""Stores for the multi-process tests: a SQLite file and PostgreSQL (each test's own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stores import store_url


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(str(request.param), tmp_path)
