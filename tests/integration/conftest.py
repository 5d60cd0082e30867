"""Stores for the multi-process tests: a SQLite file and PostgreSQL (each test's own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stores import postgres_url_or_skip, reset_postgres


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    pg = postgres_url_or_skip()
    reset_postgres(pg)
    return pg
