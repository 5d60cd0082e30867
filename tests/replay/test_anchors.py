"""R-8.8 anchors, through the command line: `ledger-replay anchor` exports the chain head
(HMAC-signed with the key file LEDGER_ANCHOR_KEY names), and `audit --anchor FILE`
checks the log still extends each one."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ledger_cli, replay_cli
from tests.replay.conftest import Raw


def anchor(tmp_path: Path, url: str, name: str, env: dict[str, str] | None = None) -> Path:
    out = tmp_path / name
    done = replay_cli(tmp_path, "--store", url, "anchor", "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    return out


def audit(tmp_path: Path, url: str, *anchors: Path,
          env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    args = [a for path in anchors for a in ("--anchor", str(path))]
    done = replay_cli(tmp_path, "--store", url, "audit", "--json", *args, env=env)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def anchor_findings(report: dict[str, Any]) -> list[str]:
    return [f["message"] for f in report["findings"] if f["rule"] == "R-8.8"]


@pytest.fixture
def key_env(tmp_path: Path) -> dict[str, str]:
    key = tmp_path / "anchor.key"
    key.write_text("a secret kept outside the database\n")
    return {"LEDGER_ANCHOR_KEY": str(key)}


def test_an_anchor_names_the_head_the_audit_prints(tmp_path: Path, url: str) -> None:
    data = json.loads(anchor(tmp_path, url, "a.json").read_text())
    code, report = audit(tmp_path, url, tmp_path / "a.json")
    assert code == 0 and report["summary"]["anchors_checked"] == 1
    assert report["summary"]["chain_head"] == {"notification_id": data["notification_id"],
                                               "chain": data["chain"]}
    assert data["signed"] is False and data["signature"] is None


def test_the_log_growing_after_anchors_still_extends_them(tmp_path: Path, url: str) -> None:
    first = anchor(tmp_path, url, "1.json")
    sent = ledger_cli(tmp_path, "--store", url, "--clock", "2026-01-02", "submit", stdin=json.dumps(
        {"type": "credit_earnings", "account_id": "fl-2", "amount": "5.00", "at": "2026-01-01"}))
    assert sent.returncode == 0, sent.stdout
    second = anchor(tmp_path, url, "2.json")
    code, report = audit(tmp_path, url, first, second)
    assert (code, report["findings"]) == (0, [])
    assert report["summary"]["anchors_checked"] == 2


def test_a_deleted_tail_after_an_anchor_is_found(tmp_path: Path, url: str, db: Path) -> None:
    kept = anchor(tmp_path, url, "a.json")
    # Given an insider deletes the last notifications and the checkpoints over them
    with sqlite3.connect(db) as conn:
        last = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0]
        conn.execute("DELETE FROM stored_events WHERE rowid > ?", (last - 3,))
        conn.execute("DELETE FROM ledger_log_chain WHERE notification_id > ?", (last - 3,))
    code, report = audit(tmp_path, url, kept)
    assert code == 1
    assert any("deleted from its end" in m for m in anchor_findings(report))


def test_an_edited_event_before_the_anchor_breaks_it(tmp_path: Path, url: str,
                                                     raw: Raw) -> None:
    kept = anchor(tmp_path, url, "a.json")
    version = raw.version_of("fl-1", "EarningsCredited")
    state = raw.state("fl-1", version)
    state["amount"]["_data_"] = "25.00"
    raw.set_state("fl-1", version, state)
    _, report = audit(tmp_path, url, kept)
    assert any("does not extend the anchor" in m for m in anchor_findings(report))


def test_a_signed_anchor_verifies_and_an_edited_one_does_not(
        tmp_path: Path, url: str, key_env: dict[str, str]) -> None:
    signed = anchor(tmp_path, url, "s.json", env=key_env)
    data = json.loads(signed.read_text())
    assert data["signed"] is True and len(data["signature"]) == 64
    assert "secret" not in signed.read_text()
    code, report = audit(tmp_path, url, signed, env=key_env)
    assert (code, report["findings"]) == (0, [])
    # When someone moves the anchor back to an earlier head without the key
    data["notification_id"] -= 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    code, report = audit(tmp_path, url, forged, env=key_env)
    assert code == 1
    assert any("signature does not match" in m for m in anchor_findings(report))


def test_with_a_key_configured_an_unsigned_anchor_is_not_trusted(
        tmp_path: Path, url: str, key_env: dict[str, str]) -> None:
    unsigned = anchor(tmp_path, url, "u.json")
    code, report = audit(tmp_path, url, unsigned, env=key_env)
    assert code == 1 and any("not signed" in m for m in anchor_findings(report))


def test_an_unreadable_anchor_or_key_is_a_one_line_usage_error(tmp_path: Path, url: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    done = replay_cli(tmp_path, "--store", url, "audit", "--anchor", str(bad))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "not JSON" in done.stderr
    done = replay_cli(tmp_path, "--store", url, "anchor",
                      env={"LEDGER_ANCHOR_KEY": str(tmp_path / "missing.key")})
    assert done.returncode == 2 and "LEDGER_ANCHOR_KEY" in done.stderr
