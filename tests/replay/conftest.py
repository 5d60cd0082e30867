"""A small, fully known history (built once, copied per test) and raw-SQL tampering.

fl-1: a Plus freelancer (card m-1): a proposal, an upgrade on 2016-03-30 (proration),
earnings, a purchase paid by earnings, a cancelled job (refund), HALFOFF3 on renewals.
fl-2: a Basic freelancer without a method. ag-1: fl-1's agency. fl-3: a declined card
(the upgrade fails). fl-4: Plus, then its card is suspended (renewal downgrades).
fl-5: Plus, then asks for a downgrade. The clock moves with the commands, so recorded
times differ from effective times (for --known-at).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from ledger.account import account_uuid
from tests.helpers import CARD, TEST_CLOCK, private_copy, sqlite_template

HISTORY: list[dict[str, Any]] = [
    {"type": "open_account", "account_id": "fl-1", "kind": "freelancer", "at": "2016-03-05"},
    {"type": "add_billing_method", "account_id": "fl-1", "at": "2016-03-05T10:00:00Z",
     "method_id": "m-1", "token": "tok_ok_1", **CARD},
    {"type": "open_account", "account_id": "fl-2", "kind": "freelancer", "at": "2016-03-10"},
    {"type": "submit_proposal", "account_id": "fl-1", "at": "2016-03-06T09:00:00Z",
     "proposal_id": "p-1", "job_id": "j-1", "connects": 5},
    {"type": "open_account", "account_id": "ag-1", "kind": "agency", "owner_id": "fl-1",
     "at": "2016-03-15"},
    {"type": "open_account", "account_id": "fl-3", "kind": "freelancer", "at": "2016-03-15"},
    {"type": "add_billing_method", "account_id": "fl-3", "at": "2016-03-15T01:00:00Z",
     "method_id": "m-1", "token": "tok_decline_1", **CARD},
    {"type": "upgrade_plan", "account_id": "fl-3", "at": "2016-03-16"},
    {"type": "open_account", "account_id": "fl-4", "kind": "freelancer", "at": "2016-03-20"},
    {"type": "add_billing_method", "account_id": "fl-4", "at": "2016-03-20T01:00:00Z",
     "method_id": "m-1", "token": "tok_ok_4", **CARD},
    {"type": "upgrade_plan", "account_id": "fl-4", "at": "2016-03-20T02:00:00Z"},
    {"type": "open_account", "account_id": "fl-5", "kind": "freelancer", "at": "2016-03-21"},
    {"type": "add_billing_method", "account_id": "fl-5", "at": "2016-03-21T01:00:00Z",
     "method_id": "m-1", "token": "tok_ok_5", **CARD},
    {"type": "upgrade_plan", "account_id": "fl-5", "at": "2016-03-21T02:00:00Z"},
    {"type": "submit_proposal", "account_id": "fl-2", "at": "2016-03-25",
     "proposal_id": "p-1", "job_id": "j-7", "connects": 4},
    {"type": "upgrade_plan", "account_id": "fl-1", "at": "2016-03-30"},
    {"type": "record_pending_earnings", "account_id": "fl-1", "at": "2016-04-01",
     "reference": "e-1", "amount": "50.00"},
    {"type": "release_earnings", "account_id": "fl-1", "at": "2016-04-02", "reference": "e-1"},
    {"type": "credit_earnings", "account_id": "fl-1", "at": "2016-04-10", "amount": "20.00"},
    {"type": "suspend_billing_method", "account_id": "fl-4", "at": "2016-04-11",
     "method_id": "m-1"},
    {"type": "purchase_connects", "account_id": "fl-1", "at": "2016-04-12", "quantity": 10},
    {"type": "downgrade_plan", "account_id": "fl-5", "at": "2016-04-12"},
    {"type": "withdraw_earnings", "account_id": "fl-1", "at": "2016-04-20", "amount": "30.00"},
    {"type": "cancel_job", "account_id": "fl-1", "at": "2016-04-21", "job_id": "j-1",
     "reason": "cancelled_without_hire"},
    {"type": "redeem_promo_code", "account_id": "fl-1", "at": "2016-04-22", "code": "HALFOFF3"},
    {"type": "submit_proposal", "account_id": "fl-1", "at": "2016-05-03",
     "proposal_id": "p-2", "job_id": "j-2", "connects": 6},
]
BILLING_THROUGH = "2016-07-01"


def _clock_after(at: str) -> str:
    """Recorded a little after the effective time: the ledger learned of it then."""
    return (at[:10] + "T12:00:00Z") if len(at) == 10 else at[:11] + "23:00:00Z"


def build_history(url: str) -> None:
    ledger = Ledger.open(url, clock=TEST_CLOCK)
    try:
        for command in HISTORY:
            ledger.set_clock(_clock_after(command["at"]))
            result = ledger.submit(command)
            expected_ok = not (command["account_id"] == "fl-3" and
                               command["type"] == "upgrade_plan")
            assert result.ok == expected_ok, (command, result.error)
        ledger.set_clock(TEST_CLOCK)
        ledger.run_billing(through=BILLING_THROUGH)
    finally:
        ledger.close()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("template"), "l.db", build_history)


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    """A private copy of the known history, ready to be tampered with."""
    return private_copy(template, tmp_path)


@pytest.fixture
def url(db: Path) -> str:
    return f"sqlite:///{db}"


@pytest.fixture
def ledger(url: str) -> Iterator[Ledger]:
    led = Ledger.open(url, clock=TEST_CLOCK)
    yield led
    led.close()


# --------------------------------------------------------------------------- raw SQL


class Raw:
    """The stored_events table of a store file, behind the ledger's back."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _conn(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)

    def rows(self, account_id: str) -> list[tuple[int, int, str, bytes]]:
        """(notification id, version, topic, state) of one account, in version order."""
        with self._conn() as conn:
            return list(conn.execute(
                "SELECT rowid, originator_version, topic, state FROM stored_events"
                " WHERE originator_id = ? ORDER BY originator_version",
                (account_uuid(account_id).hex,)))

    def version_of(self, account_id: str, topic: str, nth: int = 0) -> int:
        found = [v for _, v, t, _ in self.rows(account_id) if t == f"ledger/{topic}"]
        return found[nth]

    def state(self, account_id: str, version: int) -> dict[str, Any]:
        row = next(r for r in self.rows(account_id) if r[1] == version)
        return json.loads(row[3])  # type: ignore[no-any-return]

    def set_state(self, account_id: str, version: int, state: dict[str, Any] | bytes) -> None:
        blob = state if isinstance(state, bytes) else json.dumps(
            state, separators=(",", ":")).encode()
        with self._conn() as conn:
            conn.execute("UPDATE stored_events SET state = ? WHERE originator_id = ?"
                         " AND originator_version = ?",
                         (blob, account_uuid(account_id).hex, version))

    def delete(self, account_id: str, version: int) -> None:
        with self._conn() as conn:
            conn.execute("DELETE FROM stored_events WHERE originator_id = ?"
                         " AND originator_version = ?", (account_uuid(account_id).hex, version))

    def delete_notification(self, notification_id: int) -> None:
        with self._conn() as conn:
            conn.execute("DELETE FROM stored_events WHERE rowid = ?", (notification_id,))

    def insert(self, stream_hex: str, version: int, topic: str, state: bytes) -> None:
        with self._conn() as conn:
            conn.execute("INSERT INTO stored_events (originator_id, originator_version, topic,"
                         " state) VALUES (?, ?, ?, ?)", (stream_hex, version, topic, state))

    def last_notification(self) -> tuple[int, str, int, str]:
        with self._conn() as conn:
            row = conn.execute("SELECT rowid, originator_id, originator_version, topic"
                               " FROM stored_events ORDER BY rowid DESC LIMIT 1").fetchone()
            return int(row[0]), str(row[1]), int(row[2]), str(row[3])

    def table(self, name: str) -> list[tuple[Any, ...]]:
        with self._conn() as conn:
            return sorted(conn.execute(f"SELECT * FROM {name}").fetchall())


@pytest.fixture
def raw(db: Path) -> Raw:
    return Raw(db)
