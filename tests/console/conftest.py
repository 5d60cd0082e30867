"""A real console server on a free 127.0.0.1 port over a demo store, and a headless
Debian Chromium driven by Playwright. Skips without Chromium, except under CI=true."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _need_browser() -> None:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing (CI installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is not installed (test extras)")
        pytest.skip("playwright is not installed (pip install '.[test]')")


def _ledger(store: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "ledger.cli", "--store", store, *args],
                          capture_output=True, text=True, check=True)
    return done.stdout


@dataclass
class Console:
    url: str
    store: str
    keys: dict[str, str]  # name -> secret
    keys_file: Path
    serve: bool  # `ledger serve` (else the stand-in harness)

    def ledger(self, *args: str) -> str:
        return _ledger(self.store, *args)

    def revoke(self, name: str) -> None:
        if self.serve:
            self.ledger("keys", "revoke", json.loads(self.keys_file.read_text())[name])
            return
        data = json.loads(self.keys_file.read_text())
        for k in data:
            if k["key_id"] == f"key_{name}":
                k["revoked"] = True
        self.keys_file.write_text(json.dumps(data))


LONG_ID = "console-fl-1"
OPENED = datetime(2021, 1, 2, 10, tzinfo=UTC)
CREDITS = 30  # one credit of 10.00 a day from the day after opening
CARD_TOKEN = "tok_console_secret_token_4242"
LONG_ACCOUNT: list[dict[str, Any]] = [
    {"type": "open_account", "account_id": LONG_ID, "kind": "freelancer",
     "at": OPENED.isoformat()},
    {"type": "add_billing_method", "account_id": LONG_ID, "method_id": "card-1",
     "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030,
     "token": CARD_TOKEN, "at": (OPENED + timedelta(hours=1)).isoformat()},
    *({"type": "credit_earnings", "account_id": LONG_ID, "amount": "10.00",
       "reference": f"inv-{i}", "at": (OPENED + timedelta(days=1 + i, hours=2)).isoformat()}
      for i in range(CREDITS)),
    # A bundle and an upgrade, both charged to the card: marked on the chart.
    {"type": "purchase_connects", "account_id": LONG_ID, "quantity": 40,
     "at": (OPENED + timedelta(days=CREDITS + 1)).isoformat()},
    {"type": "upgrade_plan", "account_id": LONG_ID,
     "at": (OPENED + timedelta(days=CREDITS + 2)).isoformat()},
]

KEYS = {"support": ["accounts:read", "audit:run"], "writer": ["accounts:write"],
        "doomed": ["accounts:read"]}


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    _need_browser()
    where = tmp_path_factory.mktemp("console")
    store = f"sqlite:///{where / 'demo.db'}"
    subprocess.run([sys.executable, "-m", "ledger.cli", "--store", store, "demo",
                    "--accounts", "50", "--months", "6"], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "ledger.cli", "--store", store, "submit", "-"],
                   input="\n".join(json.dumps(c) for c in LONG_ACCOUNT), text=True,
                   check=True, capture_output=True)
    port = free_port()
    keys_file = where / "keys.json"
    serve = importlib.util.find_spec("service.app") is not None
    if serve:  # the real thing: `ledger serve`, keys as events made with `ledger keys`
        secrets_by_name, ids = {}, {}
        for name, scopes in KEYS.items():
            made = json.loads(_ledger(store, "keys", "create", name, "--json",
                                      *(a for s in scopes for a in ("--scope", s))))
            secrets_by_name[name], ids[name] = made["secret"], made["key_id"]
        keys_file.write_text(json.dumps(ids))
        command = [sys.executable, "-m", "ledger.cli", "--store", store, "serve",
                   "--host", "127.0.0.1", "--port", str(port), "--no-deliver"]
    else:  # until the service is on this branch: the console router alone
        secrets_by_name, rows = {}, []
        for name, scopes in KEYS.items():
            secret = "lk_" + os.urandom(32).hex()
            secrets_by_name[name] = secret
            rows.append({"key_id": f"key_{name}", "scopes": scopes,
                         "hash": hashlib.sha256(secret.encode()).hexdigest()})
        keys_file.write_text(json.dumps(rows))
        command = [sys.executable, "-m", "uvicorn", "--factory",
                   "tests.console.harness_app:create", "--host", "127.0.0.1",
                   "--port", str(port)]
    env = {**os.environ, "LEDGER_STORE": store, "CONSOLE_KEYS": str(keys_file)}
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, server)
        yield Console(url, store, secrets_by_name, keys_file, serve)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_up(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {server.stderr.read() if server.stderr else ''}")
        try:
            urllib.request.urlopen(url + "/console/sign-in", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start within 30 s")


@pytest.fixture(scope="session")
def browser(console: Console) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    tab = context.new_page()
    yield tab
    context.close()
