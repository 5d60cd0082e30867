"""R-8.8: the audit checks every `ledger_view_history` row against its own fold, and the
command records against the events that name them. Through the command line."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

from ledger.account import account_uuid
from tests.helpers import ledger_cli, replay_cli
from tests.replay.conftest import Raw


def test_an_edited_history_row_makes_show_as_of_lie_and_the_audit_names_it(
        tmp_path: Path, url: str, db: Path, raw: Raw) -> None:
    uid = account_uuid("fl-1").hex
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT version, at_max, state FROM ledger_view_history"
                            " WHERE account_uuid = ? ORDER BY version", (uid,)).fetchall()
        # the last version of its instant (what `--as-of` that instant answers with)
        version, at_max, state = next(
            row for row, after in itertools.pairwise(rows)
            if after[1] > row[1] and '"earnings_available":"20.00"' in row[2])
        edited = json.loads(state)
        edited["earnings_available"] = "9020.00"
        conn.execute("UPDATE ledger_view_history SET state = ? WHERE account_uuid = ? AND"
                     " version = ?", (json.dumps(edited), uid, version))
    as_of = at_max[:19] + "Z"
    shown = ledger_cli(tmp_path, "--store", url, "show", "fl-1", "--as-of", as_of, "--json")
    assert json.loads(shown.stdout)["earnings"]["available"] == "9020.00"  # the lie
    audit = replay_cli(tmp_path, "--store", url, "audit", "--json")
    assert audit.returncode == 1
    report = json.loads(audit.stdout)
    found = [f for f in report["findings"] if f["rule"] == "R-8.8"]
    assert [(f["account"], f["version"], f["category"]) for f in found] == [
        ("fl-1", version, "agreement")]
    assert "earnings_available" in found[0]["message"]
    assert report["summary"]["history_rows_compared"] == report["summary"]["account_events"]


def test_a_history_row_with_other_times_is_found(tmp_path: Path, url: str, db: Path) -> None:
    uid = account_uuid("fl-2").hex
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE ledger_view_history SET at_max = '2099-01-01T00:00:00.000000Z'"
                     " WHERE account_uuid = ? AND version = 2", (uid,))
    report = json.loads(replay_cli(tmp_path, "--store", url, "audit", "--json").stdout)
    assert [(f["account"], f["version"]) for f in report["findings"]
            if f["rule"] == "R-8.8"] == [("fl-2", 2)]


def test_a_forged_event_naming_an_unknown_command_is_found(
        tmp_path: Path, url: str, raw: Raw) -> None:
    # Given fl-2's last event copied as its next version under a command id never accepted
    _, version, topic, state = raw.rows("fl-2")[-1]
    forged = json.loads(state)
    forged["command_id"] = "never-sent"
    raw.insert(account_uuid("fl-2").hex, version + 1, topic,
               json.dumps(forged, separators=(",", ":")).encode())
    report = json.loads(replay_cli(tmp_path, "--store", url, "audit", "--json").stdout)
    orphans = [f for f in report["findings"] if f["rule"] == "R-8.3"]
    assert len(orphans) == 1 and "never-sent" in orphans[0]["message"]
    assert orphans[0]["account"] == "fl-2"


def test_the_clean_store_has_every_record_and_row(tmp_path: Path, url: str) -> None:
    audit = replay_cli(tmp_path, "--store", url, "audit", "--json")
    assert audit.returncode == 0, audit.stdout
