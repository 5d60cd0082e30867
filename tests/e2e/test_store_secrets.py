"""R-8.9 from outside: a store password never shows in any message of either command,
libpq parameters of a PostgreSQL URL are honoured or refused by name, and text taken
from input is printed escaped."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from ledger import Ledger
from ledger.stores import StoreError, parse_store_url
from tests.stores import postgres_url_or_skip

PASSWORD = "S3cret%40PW"  # sent URL-encoded; decoded it is S3cret@PW
SHOWN_FORMS = ("S3cret%40PW", "S3cret@PW", "S3cret")


def _pg_with_password(query: str = "", port: int | None = None) -> str:
    parts = urlsplit(postgres_url_or_skip())
    host = parts.hostname or "127.0.0.1"
    netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{host}:{port or parts.port or 5432}"
    return f"postgresql://{netloc}{parts.path}{query}"


def run(module: str, *args: str, store: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGER_", "PG"))}
    return subprocess.run([sys.executable, "-m", module, "--store", store, *args],
                          capture_output=True, text=True, timeout=60, env=env, check=False)


def assert_refused_without_password(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done
    assert done.stderr.strip(), "no message at all"
    for shown in SHOWN_FORMS:
        assert shown not in done.stdout + done.stderr, done.stderr
    assert "***" in done.stderr or "://" not in done.stderr, done.stderr
    return done.stderr


STORE_FAILURES = {
    "unknown scheme": lambda: f"postgress://postgres:{PASSWORD}@127.0.0.1/test",
    "unreachable server": lambda: _pg_with_password(port=1),
    "TLS required, server without TLS": lambda: _pg_with_password("?sslmode=require"),
    "parameter not supported": lambda: _pg_with_password("?sslmode=disable&pool=9"),
    "port not a number": lambda: f"postgresql://postgres:{PASSWORD}@127.0.0.1:x5432/test",
    "bad connect_timeout": lambda: _pg_with_password("?connect_timeout=soon"),
    "read-only database": lambda: _pg_with_password(
        "?options=-c%20default_transaction_read_only%3Don"),
    "password as a parameter": lambda: (
        "postgresql://postgres@127.0.0.1:1/test?password=" + PASSWORD),
}


@pytest.mark.parametrize("case", sorted(STORE_FAILURES))
@pytest.mark.parametrize("module", ["ledger.cli", "replay_tools.cli"])
def test_no_store_error_shows_the_password(case: str, module: str) -> None:
    store = STORE_FAILURES[case]()
    args = (["submit"] if module == "ledger.cli" else ["audit"])
    done = subprocess.run(
        [sys.executable, "-m", module, "--store", store, *args], input=(
            '{"type": "open_account", "account_id": "sec-1", "kind": "freelancer"}\n'),
        capture_output=True, text=True, timeout=60, check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith(("LEDGER_", "PG"))})
    message = assert_refused_without_password(done)
    if case == "parameter not supported":
        assert "pool" in message
    if case == "TLS required, server without TLS":
        assert "SSL" in message
    if case == "password as a parameter":  # the URL still ends where the message goes on
        assert "?password=***: " in message, message


def test_sslmode_require_refuses_a_server_without_tls() -> None:
    with pytest.raises(Exception, match="SSL") as caught:
        Ledger.open(_pg_with_password("?sslmode=require"), clock="2031-01-01")
    assert not any(shown in str(caught.value) for shown in SHOWN_FORMS)


def test_libpq_parameters_reach_every_connection() -> None:
    led = Ledger.open(_pg_with_password("?sslmode=disable&application_name=ledger-trust-t"
                                        "&connect_timeout=7"), clock="2031-01-01")
    try:
        with led.factory.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            row = conn.execute("SELECT current_setting('application_name') AS name").fetchone()
        assert row is not None and row["name"] == "ledger-trust-t"
        assert led.store.env["POSTGRES_CONNECT_TIMEOUT"] == "7"
    finally:
        led.close()


def test_unknown_parameters_are_refused_by_name() -> None:
    with pytest.raises(StoreError, match="sslmod, target"):
        parse_store_url("postgresql://u:pw@h/db?sslmod=require&target=x")


def test_input_echoed_on_standard_error_is_escaped(tmp_path: object) -> None:
    hostile = "fl-1\x1b[2J\nledger: ok\u202e"
    done = run("ledger.cli", "show", hostile, store="memory:")
    assert done.returncode != 0
    assert "\x1b" not in done.stderr and "\u202e" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "\\x1b[2J\\x0aledger: ok\\u202e" in done.stderr
