"""A stand-in for `ledger serve` while the HTTP service is not on main: the console router
on FastAPI, with keys read (hashed) from a JSON file on every lookup, so a revocation
written to the file takes effect at the next request. Run with uvicorn --factory."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from ledger.application import Ledger
from service.console import make_console_router


@dataclass(frozen=True)
class FileKey:
    key_id: str
    scopes: frozenset[str]
    actor: str | None = None


class FileKeys:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _keys(self) -> list[dict[str, object]]:
        data: list[dict[str, object]] = json.loads(self.path.read_text())
        return [k for k in data if not k.get("revoked")]

    def by_secret(self, secret: str) -> FileKey | None:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        for k in self._keys():
            if k["hash"] == digest:
                return FileKey(str(k["key_id"]), frozenset(k["scopes"]))  # type: ignore[arg-type]
        return None

    def by_id(self, key_id: str) -> FileKey | None:
        for k in self._keys():
            if k["key_id"] == key_id:
                return FileKey(str(k["key_id"]), frozenset(k["scopes"]))  # type: ignore[arg-type]
        return None


def create() -> FastAPI:
    app = Ledger.open(os.environ["LEDGER_STORE"])
    api = FastAPI()
    api.include_router(make_console_router(lambda: app, FileKeys(Path(os.environ["CONSOLE_KEYS"]))))
    return api
