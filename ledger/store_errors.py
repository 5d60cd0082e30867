"""Turning store failures into one line a person can act on (never a traceback)."""

from __future__ import annotations

import sqlite3

from ledger.stores import resolve_url

STORE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, OSError)


def is_store_failure(exc: BaseException) -> bool:
    """Failures of the store or the machine, as opposed to bugs in the ledger."""
    import psycopg
    from eventsourcing.persistence import PersistenceError

    return isinstance(exc, (*STORE_ERRORS, PersistenceError, psycopg.Error))


def describe_store_failure(exc: BaseException, url: str | None) -> str:
    where = resolve_url(url)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered:
        return f"store {where} is read-only: {text}"
    if "locked" in lowered:
        return f"store {where} is locked by another process; try again: {text}"
    if "unable to open" in lowered:
        return f"cannot open store {where}: {text}"
    if isinstance(exc, sqlite3.Error):
        return f"store {where} failed: {text}"
    if "connection" in lowered or "connect" in lowered or "timeout" in lowered:
        return f"cannot reach store {redact(where)}: {text}"
    return f"{type(exc).__name__} on store {redact(where)}: {text}"


def redact(url: str) -> str:
    from ledger.stores import parse_store_url

    try:
        return parse_store_url(url).redacted
    except ValueError:
        return url
