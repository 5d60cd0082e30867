"""Finding the test PostgreSQL server, and emptying it between tests."""

from __future__ import annotations

import os

import pytest

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("LEDGER_TEST_PG_URL", DEFAULT_PG_URL)


def postgres_answers(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url.replace("postgresql://", "postgresql://", 1), connect_timeout=3):
            return True
    except Exception:
        return False


def postgres_url_or_skip() -> str:
    url = postgres_url()
    if postgres_answers(url):
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but no PostgreSQL server answers at {url}")
    pytest.skip(f"no PostgreSQL server answers at {url}")


def reset_postgres(url: str) -> None:
    """Drop every table of the public schema so each test starts empty."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        for (name,) in rows:
            conn.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')
