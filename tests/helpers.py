"""The helpers the test suites share, in one module.

* constants: the repository root, the tests' fixed clock, a test card's fields;
* processes: the environment a child process gets, a free port, `ledger` and
  `ledger-replay` run as subprocesses;
* steps through the public API: submit, accept, refuse (checking R-8.4), the usual
  accounts and cards, and the dated steps of the plan and cycle tests (R-4);
* reading a history: dates, event names, charges.

Stores (which kinds a run uses, a fresh store of each kind, PostgreSQL's database per
checkout) are in tests/stores.py; the fixtures built on both are in the conftest files.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
# The ledger's fixed "now" for tests: far after every scenario date, so commands
# may be dated freely in the past (R-8.2's future_dated applies to the clock).
TEST_CLOCK = "2031-01-01T00:00:00Z"
# A Visa test card's fields, less the method id and token (add_billing_method).
CARD: dict[str, Any] = {"method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
                        "exp_year": 2030, "prepaid": False}


# ------------------------------------------------------------------------- processes


def child_env(**extra: str) -> dict[str, str]:
    """This environment without the ledger's own settings (LEDGER_TEST_* kept), with
    the repository importable."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LEDGER_") or k.startswith("LEDGER_TEST")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(module: str, cwd: Path, args: tuple[str, ...], stdin: str | None,
         env: dict[str, str] | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args], input=stdin, capture_output=True, text=True,
        cwd=cwd, env={**os.environ, **(env or {})}, timeout=300, check=False)


def ledger_cli(cwd: Path, *args: str, stdin: str | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`ledger ARGS` as a user runs it, in `cwd`."""
    return _run("ledger.cli", cwd, args, stdin, env)


def replay_cli(cwd: Path, *args: str, stdin: str | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`ledger-replay ARGS` as a user runs it, in `cwd`."""
    return _run("replay_tools.cli", cwd, args, stdin, env)


# ----------------------------------------------------------------------------- steps


def submit(ledger: Ledger, type_: str, account_id: str, at: str | None = None,
           **fields: Any) -> Any:
    command: dict[str, Any] = {"type": type_, "account_id": account_id, **fields}
    if at is not None:
        command["at"] = at
    return ledger.submit(command)


def accept(ledger: Ledger, type_: str, account_id: str, at: str | None = None,
           **fields: Any) -> Any:
    result = submit(ledger, type_, account_id, at, **fields)
    assert result.ok, f"{type_} on {account_id} at {at} was refused: {result.error}"
    return result


def refuse(ledger: Ledger, code: str, type_: str, account_id: str, at: str | None = None,
           **fields: Any) -> Any:
    """Submit, expect the error `code`, and check the command recorded nothing (R-8.4)."""
    before = ledger.account(account_id).version
    result = submit(ledger, type_, account_id, at, **fields)
    assert not result.ok, f"{type_} on {account_id} at {at} was accepted, expected {code}"
    assert result.error.code == code, (result.error.code, result.error.message)
    assert ledger.account(account_id).version == before
    return result


def open_account(ledger: Ledger, account_id: str, kind: str, at: str,
                 owner_id: str | None = None) -> Any:
    fields: dict[str, Any] = {"kind": kind}
    if owner_id is not None:
        fields["owner_id"] = owner_id
    return accept(ledger, "open_account", account_id, at, **fields)


def acting(actor: str | None) -> dict[str, str]:
    """The `actor` field when one is named (R-1.5: needed on an agency or company)."""
    return {} if actor is None else {"actor": actor}


def add_card(ledger: Ledger, account_id: str, at: str, method_id: str = "m-1",
             token: str = "tok_ok_1", actor: str | None = None) -> Any:
    """Add a Visa card; `actor` names the person acting on an agency or company (R-1.5)."""
    return accept(ledger, "add_billing_method", account_id, at, method_id=method_id,
                  token=token, **CARD, **acting(actor))


def submit_ok(ledger: Ledger, cmd: dict[str, Any]) -> Any:
    result = ledger.submit(cmd)
    assert result.ok, result.model_dump(mode="json")
    return result


def assert_rejected(ledger: Ledger, cmd: dict[str, Any], code: str,
                    rule: str | None = None) -> Any:
    """The command is refused with `code` and records nothing (R-8.4)."""
    account_id = cmd["account_id"]
    before = len(ledger.history(account_id))
    version = ledger.account(account_id).version
    result = ledger.submit(cmd)
    assert not result.ok
    assert result.error is not None
    assert result.error.code == code, result.model_dump(mode="json")
    if rule is not None:
        assert result.error.rule == rule
    assert result.events == []
    assert len(ledger.history(account_id)) == before
    assert ledger.account(account_id).version == version
    return result


# ------------------------------------------------ dated steps of the plan tests
# The date first, the account `fl-1` unless named; figures of the default catalog.


def act(ledger: Ledger, type_: str, at: str, account_id: str = "fl-1", **fields: Any) -> Any:
    """Submit command `type_` for `account_id` dated `at`; it must be accepted."""
    return submit_ok(ledger, {"type": type_, "account_id": account_id, "at": at, **fields})


def open_on(ledger: Ledger, at: str, account_id: str = "fl-1", kind: str = "freelancer",
            **extra: Any) -> Any:
    return submit_ok(ledger, {"type": "open_account", "account_id": account_id,
                              "kind": kind, "at": at, **extra})


def add_card_on(ledger: Ledger, at: str, account_id: str = "fl-1", method_id: str = "m-1",
                token: str = "tok_ok_1", actor: str | None = None) -> Any:
    return submit_ok(ledger, {"type": "add_billing_method", "account_id": account_id,
                              **acting(actor), "method_id": method_id, **CARD,
                              "exp_year": 2035, "token": token, "at": at})


def upgrade(ledger: Ledger, at: str, account_id: str = "fl-1", promo: str | None = None,
            actor: str | None = None) -> Any:
    cmd: dict[str, Any] = {"type": "upgrade_plan", "account_id": account_id, "at": at,
                           **acting(actor)}
    if promo is not None:
        cmd["promo_code"] = promo
    return ledger.submit(cmd)


def downgrade(ledger: Ledger, at: str, account_id: str = "fl-1",
              actor: str | None = None) -> Any:
    return ledger.submit({"type": "downgrade_plan", "account_id": account_id, "at": at,
                          **acting(actor)})


def redeem(ledger: Ledger, at: str, code: str, account_id: str = "fl-1") -> Any:
    return ledger.submit(
        {"type": "redeem_promo_code", "account_id": account_id, "code": code, "at": at}
    )


def plus_account(
    ledger: Ledger, opened: str, upgraded: str, account_id: str = "fl-1", promo: str | None = None
) -> None:
    """A freelancer opened on `opened` with card m-1, upgraded to Plus on `upgraded`."""
    open_on(ledger, opened, account_id)
    add_card_on(ledger, opened, account_id)
    result = upgrade(ledger, upgraded, account_id, promo)
    assert result.ok, f"upgrade refused: {result.error}"


# --------------------------------------------------------------------- reading history

BILLING_NAMES = {
    "MembershipCharged",
    "PaymentFailed",
    "PlanDowngraded",
    "ConnectsExpired",
    "ConnectsRefilled",
}


def day(at: Any) -> str:
    """The date part of an instant (or of its text)."""
    return str(at)[:10]


def D(text: str) -> date:
    return date.fromisoformat(text)


def M(text: str) -> Decimal:
    return Decimal(text)


def history_of(ledger: Ledger, account_id: str = "fl-1") -> list[dict[str, Any]]:
    return list(ledger.history(account_id))


def names(ledger: Ledger, account_id: str) -> list[str]:
    """The names of the account's events, in order."""
    return [e["name"] for e in ledger.history(account_id)]


def events_named(ledger: Ledger, name: str, account_id: str = "fl-1") -> list[dict[str, Any]]:
    return [e for e in history_of(ledger, account_id) if e["name"] == name]


def paid(ledger: Ledger, account_id: str = "fl-1") -> list[tuple[str, Decimal]]:
    """Every non-zero membership charge as (date, amount)."""
    out = []
    for e in events_named(ledger, "MembershipCharged", account_id):
        amount = Decimal(str(e["data"]["amount"]))
        if amount != 0:
            out.append((day(e["at"]), amount))
    return out


def billing_names_on(ledger: Ledger, on: str, account_id: str = "fl-1") -> list[str]:
    """The billing-relevant event names effective on date `on`, consecutive repeats merged."""
    out: list[str] = []
    for e in history_of(ledger, account_id):
        if day(e["at"]) == on and e["name"] in BILLING_NAMES and (not out or out[-1] != e["name"]):
            out.append(e["name"])
    return out


def downgrades(ledger: Ledger, account_id: str = "fl-1") -> list[tuple[str, str]]:
    events = events_named(ledger, "PlanDowngraded", account_id)
    return [(day(e["at"]), e["data"]["reason"]) for e in events]


def sqlite_template(folder: Path, name: str, build: Callable[[str], None]) -> Path:
    """A SQLite store built once by `build(url)`, its WAL folded into the file so that a
    plain file copy (`private_copy`) carries the whole store."""
    path = folder / name
    build(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def private_copy(template: Path, folder: Path) -> Path:
    """A test's own copy of a template store, ready to be tampered with."""
    path = folder / template.name
    shutil.copy(template, path)
    return path
