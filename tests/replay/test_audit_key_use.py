"""Who could do what, and since when (HTTP.md, R-8.6): the audit finds a command
recorded under an API key the ring never created, or long after the key was revoked;
a command sent before the revocation is clean. The audit runs as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300, check=False)


def _submit(url: str, clock: str, principal: str, command: dict[str, Any]) -> None:
    # The Python API records whatever principal it is given: the way a bug in a key
    # check, or a hand-made writer, would record it.
    ledger = Ledger.open(url, clock=clock)
    try:
        result = ledger.submit(command, principal=principal)
        assert result.ok, result.error
    finally:
        ledger.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_commands_under_an_unknown_or_long_revoked_key_are_findings(
        tmp_path: Path, workers: str) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    made = _run(tmp_path, "ledger.cli", "--store", url, "--clock", "2026-01-01T10:00:00Z",
                "keys", "create", "app", "--scope", "accounts:write", "--json")
    assert made.returncode == 0, made.stderr
    key_id = json.loads(made.stdout)["key_id"]
    _submit(url, "2026-01-01T10:05:00Z", key_id, {
        "type": "open_account", "account_id": "fl-1", "kind": "freelancer",
        "at": "2026-01-01T10:05:00Z"})
    revoked = _run(tmp_path, "ledger.cli", "--store", url, "--clock", "2026-01-01T11:00:00Z",
                   "keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    _submit(url, "2026-01-01T11:05:00Z", key_id, {  # within the grace: a request under way
        "type": "credit_earnings", "account_id": "fl-1", "amount": "1.00",
        "at": "2026-01-01T11:05:00Z"})
    _submit(url, "2026-01-01T13:00:00Z", key_id, {
        "type": "credit_earnings", "account_id": "fl-1", "amount": "2.00",
        "at": "2026-01-01T13:00:00Z"})
    _submit(url, "2026-01-01T13:30:00Z", "key_0000000000000000", {
        "type": "credit_earnings", "account_id": "fl-1", "amount": "3.00",
        "at": "2026-01-01T13:30:00Z"})

    audit = _run(tmp_path, "replay_tools.cli", "--store", url, "--clock",
                 "2026-01-02", "audit", "--json", "--workers", workers)
    assert audit.returncode == 1, audit.stdout + audit.stderr
    findings = json.loads(audit.stdout)["findings"]
    about_keys = [(f["account"], f["version"], f["message"]) for f in findings
                  if "API key" in f["message"]]
    assert about_keys == [
        ("fl-1", 4, f"EarningsCredited was recorded under API key {key_id} after it was "
                    "revoked"),
        ("fl-1", 5, "EarningsCredited was recorded under API key key_0000000000000000, "
                    "which the key ring had not created")], findings
    assert all(f["rule"] == "R-8.6" for f in findings if "API key" in f["message"])
