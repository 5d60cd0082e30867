"""A real `ledger serve` in a subprocess on a free 127.0.0.1 port, stopped by the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import CARD, child_env, free_port
from tests.stores import file_or_postgres_store

CLOCK = "2016-06-01"


def ledger_cli(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", "--store", url, "--clock",
                           CLOCK, *args], input=stdin, text=True, capture_output=True,
                          env=child_env(), timeout=300, check=False)


@dataclass
class Server:
    url: str
    store: str
    process: subprocess.Popen[str]
    keys: dict[str, str] = field(default_factory=dict)  # name -> secret
    key_ids: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None

    def key(self, name: str, *scopes: str, actor: str | None = None) -> str:
        args = ["keys", "create", name, "--json"]
        for scope in scopes:
            args += ["--scope", scope]
        if actor:
            args += ["--actor", actor]
        done = ledger_cli(self.store, *args)
        assert done.returncode == 0, done.stderr
        made = json.loads(done.stdout)
        self.keys[name], self.key_ids[name] = made["secret"], made["key_id"]
        return str(made["secret"])

    def client(self, secret: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def log(self) -> str:
        """What the server wrote to standard output and error so far."""
        return self.log_path.read_text() if self.log_path else ""


def start_server(store: str, tmp_path: Path, workers: int = 1) -> Server:
    port = free_port()
    log = open(tmp_path / f"server-{port}.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "--store", store, "--clock", CLOCK, "serve",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--no-deliver"], stdout=log, stderr=subprocess.STDOUT, text=True, env=child_env())
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError((tmp_path / f"server-{port}.log").read_text())
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return Server(url, store, process, log_path=tmp_path / f"server-{port}.log")
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("the server did not become ready in 60 s")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def seed(store: str) -> None:
    """Two freelancers (one on Plus with a card), an agency with its owner."""
    commands: list[dict[str, Any]] = [
        {"type": "open_account", "account_id": "fl-1", "kind": "freelancer", "at": "2016-03-01"},
        {"type": "add_billing_method", "account_id": "fl-1", "method_id": "m-1",
         "token": "tok_secret_1", "at": "2016-03-02", **CARD},
        {"type": "upgrade_plan", "account_id": "fl-1", "at": "2016-03-03",
         "command_id": "up-1"},
        {"type": "open_account", "account_id": "fl-2", "kind": "freelancer", "at": "2016-03-01"},
        {"type": "open_account", "account_id": "owner-1", "kind": "freelancer",
         "at": "2016-03-01"},
        {"type": "open_account", "account_id": "ag-1", "kind": "agency", "owner_id": "owner-1",
         "at": "2016-03-02"},
    ]
    done = ledger_cli(store, "submit", stdin="".join(json.dumps(c) + "\n" for c in commands))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from file_or_postgres_store(request.param, tmp_path, "svc.db")


@pytest.fixture
def server(store: str, tmp_path: Path) -> Iterator[Server]:
    seed(store)
    running = start_server(store, tmp_path)
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[Server]:
    """Two server workers on this checkout's PostgreSQL database, seeded."""
    from tests.stores import postgres_url_or_skip, reset_postgres

    url = postgres_url_or_skip()
    reset_postgres(url)
    seed(url)
    running = start_server(url, tmp_path, workers=2)
    try:
        yield running
    finally:
        stop_server(running)
        reset_postgres(url)


def env_without_ledger() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
