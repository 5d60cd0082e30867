"""One delivering worker per store at a time, however many processes run `deliver` or
`serve`: a lock that its holder's death releases at once (no lease to wait out after a
crash). PostgreSQL: a session advisory lock on a connection of its own; SQLite: an
exclusive flock on a file beside the database (`<file>.webhooks-lock`); memory
stores live in one process.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

from ledger.stores import StoreSpec

ADVISORY_KEY = 727_012  # any fixed bigint: "this database's webhook worker"
_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()


class WorkerLock:
    def __init__(self, store: StoreSpec) -> None:
        self.store = store
        self._held = False
        self._fd: int | None = None
        self._conn: Any = None
        self._memory: threading.Lock | None = None

    @property
    def held(self) -> bool:
        return self._held

    def try_acquire(self) -> bool:
        if self._held:
            return True
        kind = self.store.kind
        if kind == "sqlite":
            self._held = self._flock()
        elif kind == "postgresql":
            self._held = self._advisory()
        else:
            with _memory_guard:
                self._memory = _memory_locks.setdefault(self.store.url, threading.Lock())
            self._held = self._memory.acquire(blocking=False)
        return self._held

    def still_held(self) -> bool:
        """False once the lock's PostgreSQL session is gone (another worker may take over)."""
        if not self._held:
            return False
        if self._conn is not None:
            try:
                self._conn.execute("SELECT 1")
            except Exception:
                self.release()
                return False
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # drops the flock
            self._fd = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()  # ends the session, and its advisory lock
            self._conn = None
        if self._memory is not None and self._held:
            self._memory.release()
        self._held = False

    def _flock(self) -> bool:
        import fcntl

        # Beside the database, not in the temporary folder: every process that opens
        # the database reaches this file, whatever temporary folder it was given
        # (PrivateTmp, another TMPDIR, a container sharing only the database's volume),
        # so there is one delivering worker per store.
        path = self.store.env["SQLITE_DBNAME"] + ".webhooks-lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def _advisory(self) -> bool:
        import psycopg

        env = self.store.env
        conn = psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]), autocommit=True)
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_KEY,)).fetchone()
        if not row or not row[0]:
            conn.close()
            return False
        self._conn = conn
        return True
