"""Webhook tests run the CLI as a subprocess against a SQLite file and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import TEST_CLOCK
from tests.stores import selected_stores, store_url

CLOCK = TEST_CLOCK


@pytest.fixture(params=selected_stores(("sqlite", "postgres"), default="sqlite,postgres",
                                      fallback="sqlite"))
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(str(request.param), tmp_path)


def cli_args(url: str, *args: str, clock: str = CLOCK) -> list[str]:
    return [sys.executable, "-m", "ledger.cli", "--store", url, "--clock", clock, *args]


def ledger(url: str, *args: str, clock: str = CLOCK, stdin: str | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_args(url, *args, clock=clock), input=stdin,
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, **(env or {})})


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def create(url: str, receiver_url: str, *types: str) -> tuple[str, str]:
    args = ["webhooks", "create", receiver_url, "--json"]
    for t in types:
        args += ["--type", t]
    made = json.loads(ok(ledger(url, *args)))
    return str(made["id"]), str(made["secret"])


def open_accounts(url: str, first: int, count: int, day: str = "2030-06-01") -> None:
    """`count` freelancer accounts: AccountOpened and ConnectsRefilled each."""
    lines = [json.dumps({"type": "open_account", "account_id": f"fl-{i}",
                         "kind": "freelancer", "at": day, "command_id": f"open-{i}"})
             for i in range(first, first + count)]
    ok(ledger(url, "submit", stdin="\n".join(lines) + "\n"))


def deliveries(url: str, endpoint_id: str, limit: int = 100) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ok(ledger(
        url, "webhooks", "deliveries", endpoint_id, "--limit", str(limit), "--json")))
    return rows


def feed_after(url: str, after: int = 0) -> list[dict[str, Any]]:
    """Every account event of the feed (what an endpoint made at `after` should get)."""
    from ledger.application import Ledger
    from projections.feed import feed_json, read_feed

    app = Ledger.open(url, clock=CLOCK)
    try:
        events: list[dict[str, Any]] = []
        while True:
            page = read_feed(app, after, 1000)
            events += [json.loads(feed_json(e)) for e in page.events]
            after = page.last_id
            if not page.has_more:
                return events
    finally:
        app.close()
