"""Store URLs -> eventsourcing environments (INTERFACE.md, "Stores")."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from uuid import uuid4

DEFAULT_STORE = "sqlite:///ledger.db"
SQLITE_RECORDER = "ledger.recorders:LedgerSQLiteRecorder"
SCHEMA_LOCK_KEY = 727_001  # any fixed bigint: one lock for "this ledger's schema"
# Notification ids, versions and counts are 64-bit integers (BIGINT) in both stores.
MAX_POSITION = 2**63 - 1
REBUILD_LOCK_KEY = 727_002  # one `ledger-replay rebuild` at a time (its shadow tables)


@dataclass(frozen=True)
class StoreSpec:
    url: str
    kind: str  # memory | sqlite | postgresql
    env: dict[str, str]

    @property
    def redacted(self) -> str:
        """The URL without a password, for messages."""
        from ledger.redaction import redact_store_urls

        return redact_store_urls(self.url, self.secrets)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no message may show: the store's password, as sent and as decoded."""
        found = [self.env.get("POSTGRES_PASSWORD", "")]
        parts = urlsplit(self.url)
        found += [parts.password or "", *(v for k, v in _query(self.url) if k == "password")]
        return tuple({s for s in found if s} | {unquote(s) for s in found if s})

    @property
    def libpq_params(self) -> dict[str, str]:
        """libpq connection parameters from the URL's query (PostgreSQL only)."""
        params: dict[str, str] = json.loads(self.env.get(LIBPQ_PARAMS_KEY, "{}"))
        return params


class StoreError(ValueError):
    """A store URL that cannot be used."""


def resolve_url(url: str | None) -> str:
    return url or os.environ.get("LEDGER_STORE") or DEFAULT_STORE


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def _safe(url: str) -> str:
    """The URL as messages may show it: password hidden, control characters escaped."""
    from ledger.redaction import escape_text, redact_store_urls

    secrets = [p for k, p in _query(url) if k == "password"] if "?" in url else []
    with suppress(ValueError):
        secrets.append(urlsplit(url).password or "")
    return escape_text(redact_store_urls(url, secrets))


def parse_store_url(url: str | None) -> StoreSpec:
    url = resolve_url(url)
    if url.startswith("memory:"):
        # An in-process SQLite database, so the same SQL views serve it as the file store.
        # `memory:` is private to one Ledger; `memory:NAME` is shared within the process.
        name = url[len("memory:"):].strip("/") or f"private-{uuid4().hex}"
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,100}", name):
            raise StoreError(f"memory store names are letters, digits, _ . -: {_safe(name)!r}")
        return StoreSpec(url, "memory", {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER,
            "SQLITE_DBNAME": f"file:ledger-{name}?mode=memory&cache=shared",
        })
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise StoreError("sqlite:/// needs a file path, as in sqlite:///ledger.db")
        return StoreSpec(url, "sqlite", {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER,
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "10",
        })
    if url.startswith(("postgresql://", "postgres://")):
        return StoreSpec(url, "postgresql", _postgres_env(url))
    raise StoreError(
        f"unknown store URL '{_safe(url)}': use sqlite:///PATH, postgresql://USER@HOST:PORT/DB "
        "or memory:")


# libpq parameters a PostgreSQL URL may carry (`?sslmode=require&application_name=x`):
# passed to every connection the ledger opens. `connect_timeout` also sets the pool's
# wait. Any other parameter is refused by name rather than dropped.
HONOURED_LIBPQ_PARAMS = frozenset({
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslcrldir", "sslsni",
    "ssl_min_protocol_version", "ssl_max_protocol_version", "sslpassword",
    "sslcertmode", "requirepeer", "gssencmode", "krbsrvname", "gsslib", "channel_binding",
    "require_auth", "connect_timeout", "application_name", "fallback_application_name",
    "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
    "tcp_user_timeout", "options", "target_session_attrs", "load_balance_hosts",
    "client_encoding", "passfile", "password", "user", "dbname", "host", "port",
})
# URL parts the ledger fills itself (query forms of them are taken as the URL's).
_URL_PART_PARAMS = {"password": "POSTGRES_PASSWORD", "user": "POSTGRES_USER",
                    "dbname": "POSTGRES_DBNAME", "host": "POSTGRES_HOST",
                    "port": "POSTGRES_PORT"}
LIBPQ_PARAMS_KEY = "LIBPQ_PARAMS"


def _postgres_env(url: str) -> dict[str, str]:
    """URL parts first, then the usual PG* variables, then local defaults."""
    from ledger.redaction import escape_text

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise StoreError(f"store URL '{_safe(url)}' is not a valid URL: {exc}") from None
    query = _query(url)
    unknown = sorted({k for k, _ in query if k not in HONOURED_LIBPQ_PARAMS})
    if unknown:
        names = ", ".join(escape_text(k) for k in unknown)
        raise StoreError(
            f"store URL '{_safe(url)}': parameter(s) not supported: {names} "
            f"(supported: {', '.join(sorted(HONOURED_LIBPQ_PARAMS))})")
    libpq = {k: v for k, v in query if k not in _URL_PART_PARAMS}
    timeout = libpq.get("connect_timeout", "5")
    if not timeout.isdigit() or int(timeout) < 1:
        raise StoreError(f"store URL '{_safe(url)}': connect_timeout must be a whole number "
                         "of seconds, at least 1")
    env = {
        "PERSISTENCE_MODULE": "ledger.pg_factory:LedgerPostgresFactory",
        "APPLICATION_RECORDER_TOPIC": "ledger.recorders:LedgerPostgresRecorder",
        "POSTGRES_DBNAME": (unquote(parts.path.lstrip("/"))
                            or os.environ.get("PGDATABASE", "postgres")),
        "POSTGRES_HOST": parts.hostname or os.environ.get("PGHOST", "127.0.0.1"),
        "POSTGRES_PORT": str(parts.port or os.environ.get("PGPORT", "5432")),
        "POSTGRES_USER": unquote(parts.username or os.environ.get("PGUSER", "postgres")),
        "POSTGRES_PASSWORD": unquote(parts.password or os.environ.get("PGPASSWORD", "")),
        "POSTGRES_CONNECT_TIMEOUT": timeout,
        "POSTGRES_POOL_SIZE": "3",
        "POSTGRES_MAX_OVERFLOW": "3",
        LIBPQ_PARAMS_KEY: json.dumps(libpq, sort_keys=True),
    }
    for key, setting in _URL_PART_PARAMS.items():
        value = dict(query).get(key)
        if value is not None:
            env[setting] = value
    return env


# What names the store: eventsourcing looks up `LEDGER_<KEY>` before `<KEY>`, so these
# are pinned under both names, lest a stray environment variable redirect the ledger.
IDENTITY_KEYS = ("PERSISTENCE_MODULE", "APPLICATION_RECORDER_TOPIC", "SQLITE_DBNAME",
                 "POSTGRES_DBNAME", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER",
                 "POSTGRES_PASSWORD", LIBPQ_PARAMS_KEY)


def pinned_env(store: StoreSpec) -> dict[str, str]:
    pinned = {f"LEDGER_{k}": v for k, v in store.env.items() if k in IDENTITY_KEYS}
    return {**store.env, **pinned}


def sqlite_schema_lock_path(database: str, purpose: str = "schema") -> str:
    """Where processes opening one SQLite file serialise its schema creation: a file in
    the temporary folder named after the database's real path, so nothing is left in
    the working folder. It is never deleted: a process may be waiting on it, and a
    new file would let a third process lock another inode at the same time."""
    import hashlib
    import tempfile

    key = hashlib.sha256(os.path.realpath(database).encode()).hexdigest()[:32]
    return os.path.join(tempfile.gettempdir(), f"ledger-{purpose}-{key}.lock")


@contextmanager
def schema_lock(store: StoreSpec, purpose: str = "schema") -> Iterator[None]:
    """Serialise schema creation between processes starting at once on one PostgreSQL
    database (the library's CREATE TABLE IF NOT EXISTS can fail there with "tuple
    concurrently updated"). SQLite files are created under SQLite's own lock.
    `purpose` "rebuild": the lock one view rebuild at a time holds (not the schema's,
    so processes starting meanwhile are not held up)."""
    if store.kind == "sqlite":
        import fcntl

        # A file of its own: never open and close the database file itself while SQLite
        # has it open (closing any descriptor drops the process's locks).
        fd = os.open(sqlite_schema_lock_path(store.env["SQLITE_DBNAME"], purpose),
                     os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock
        return
    if store.kind != "postgresql":
        yield
        return
    import psycopg

    env = store.env
    extra: dict[str, Any] = {"connect_timeout": env["POSTGRES_CONNECT_TIMEOUT"],
                             **store.libpq_params}
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
        autocommit=True, **extra,
    ) as conn:
        key = SCHEMA_LOCK_KEY if purpose == "schema" else REBUILD_LOCK_KEY
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
