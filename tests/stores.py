"""The stores tests run on: which kinds a run uses, a fresh store of each kind, and
the test PostgreSQL server (one database per checkout, emptied between tests)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_PG_URL = f"{SERVER_URL}/test"
# One database per checkout: suites of two checkouts running at once on one server
# (two worktrees, two CI jobs) would otherwise empty each other's tables mid-test.
_CHECKOUT = hashlib.sha256(str(Path(__file__).resolve().parent.parent).encode()).hexdigest()
CHECKOUT_DB = f"ledger_test_{_CHECKOUT[:10]}"
_made: list[str] = []

ALL_STORES = ("memory", "sqlite", "postgres")


def selected_stores(among: tuple[str, ...] = ALL_STORES,
                    default: str = "memory,sqlite,postgres",
                    fallback: str | None = None) -> list[str]:
    """The kinds of `among` that `LEDGER_TEST_STORES` (comma-separated) names, in its
    order, or those of `default` when it is unset; `[fallback]` when it names none."""
    raw = os.environ.get("LEDGER_TEST_STORES", default)
    kinds = [s.strip() for s in raw.split(",") if s.strip() in among]
    return kinds or ([fallback] if fallback else [])


def store_url(kind: str, tmp_path: Path) -> str:
    """A fresh, empty store of `kind`: a private named in-memory store, a SQLite file
    in `tmp_path`, or this checkout's emptied PostgreSQL database."""
    if kind == "memory":
        # A named in-process store, so that a test can open it a second time.
        return f"memory:test-{uuid4().hex}"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url = postgres_url_or_skip()
    reset_postgres(url)
    return url


def postgres_url() -> str:
    """LEDGER_TEST_PG_URL, else this checkout's own database on the local server
    (created on first use), else the shared `test` database."""
    if "LEDGER_TEST_PG_URL" in os.environ:
        return os.environ["LEDGER_TEST_PG_URL"]
    if _made or _make_checkout_db():
        return f"{SERVER_URL}/{CHECKOUT_DB}"
    return DEFAULT_PG_URL


def _make_checkout_db() -> bool:
    try:
        import psycopg

        with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True,
                             connect_timeout=3) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                 (CHECKOUT_DB,)).fetchone()
            if found is None:
                conn.execute(f'CREATE DATABASE "{CHECKOUT_DB}"')
    except Exception:
        return False
    _made.append(CHECKOUT_DB)
    return True


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


def file_or_postgres_store(kind: str, folder: Path, name: str) -> Iterator[str]:
    """A fresh store of `kind` ("sqlite": a file `name` in `folder`; "postgres": the
    checkout's emptied database, emptied again afterwards), for fixtures to yield from."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / name}"
        return
    url = postgres_url_or_skip()
    reset_postgres(url)
    yield url
    reset_postgres(url)
