"""Turning store failures into one line a person can act on (never a traceback).

The store's URL and the failure's own text both go through the one redaction of store
URLs (ledger.redaction), with the store's password hidden wherever it appears, and are
escaped for the terminal.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ledger.redaction import escape_text, redact_store_urls
from ledger.stores import resolve_url

STORE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, OSError)


def store_failure_types() -> tuple[type[Exception], ...]:
    """The exception classes of failures of the store or the machine."""
    import psycopg
    from eventsourcing.persistence import PersistenceError

    return (*STORE_ERRORS, PersistenceError, psycopg.Error)


def is_store_failure(exc: BaseException) -> bool:
    """Failures of the store or the machine, as opposed to bugs in the ledger."""
    return isinstance(exc, store_failure_types())


def describe_store_failure(exc: BaseException, url: str | None) -> str:
    where = redact(resolve_url(url))
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = escape_text(redact_store_urls(text, _secrets(resolve_url(url))))
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered:
        return f"store {where} is read-only: {text}"
    if "locked" in lowered:
        return f"store {where} is locked by another process; try again: {text}"
    if "unable to open" in lowered:
        return f"cannot open store {where}: {text}{_missing_folder(resolve_url(url))}"
    if isinstance(exc, sqlite3.Error):
        return f"store {where} failed: {text}"
    if "connection" in lowered or "connect" in lowered or "timeout" in lowered:
        return f"cannot reach store {where}: {text}"
    return f"{type(exc).__name__} on store {where}: {text}"


def _missing_folder(url: str) -> str:
    """Why SQLite could not open its file, when its folder does not exist: a path after
    `sqlite:///` is relative to the working directory (`sqlite:////abs/x.db` is
    absolute), the usual slip with `sqlite:///tmp/x.db`."""
    if not url.startswith("sqlite:///"):
        return ""
    folder = Path(url[len("sqlite:///"):].split("?")[0]).parent
    if folder.is_dir():
        return ""
    hint = " (sqlite:///PATH is relative to the working directory; sqlite:////PATH is absolute)"
    return f"; folder {escape_text(str(folder))} does not exist{hint}"


def _secrets(url: str) -> tuple[str, ...]:
    from ledger.stores import parse_store_url

    try:
        return parse_store_url(url).secrets
    except ValueError:
        return ()


def redact(url: str) -> str:
    """A store URL as any message may show it."""
    return escape_text(redact_store_urls(url, _secrets(url)))


def safe_message(message: str, url: str | None) -> str:
    """Any message for people: store passwords hidden (that of `url`, the store in use,
    wherever it appears), then escaped for the terminal (R-8.9)."""
    return escape_text(redact_store_urls(message, _secrets(resolve_url(url))))
