"""R-8.7 from the command line, as real subprocesses: a catalog edited under a version
the store adopted is refused by `ledger show`, `ledger submit` and `ledger policy check`
(naming the version and the field); a catalog that adds a later version is accepted; the
demo's store audits clean with its catalog file removed; an edited adoption is found by
the audit."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.adoption import ADOPTIONS_ID
from ledger.policy import default_catalog

CLOCK = "2031-01-01"
FIELD = "version v2019: plans.freelancer.plus.price"


def run(tmp_path: Path, tool: str, *args: str,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return subprocess.run([sys.executable, "-m", tool, *args], input=stdin,
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
                          check=False)


def write_catalog(path: Path, edit: Any) -> Path:
    data = default_catalog().model_dump(mode="json")
    edit(data)
    path.write_text(json.dumps(data))
    return path


def plus_price(price: str) -> Any:
    def edit(data: dict[str, Any]) -> None:
        data["versions"][-1]["plans"]["freelancer"]["plus"]["price"] = price
    return edit


def add_v2030(data: dict[str, Any]) -> None:
    later = json.loads(json.dumps(data["versions"][-1]))
    later.update(name="v2030", effective_from="2030-01-01")
    data["versions"].append(later)


OPEN = {"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
        "at": "2020-03-01", "command_id": "c-1"}
OPEN_2 = {"type": "open_account", "account_id": "fl-2", "kind": "freelancer",
          "at": "2030-02-01", "command_id": "c-2"}


@pytest.fixture
def used_store(tmp_path: Path) -> str:
    """A store that decided under the built-in v2019 (and so adopted it)."""
    url = f"sqlite:///{tmp_path / 'l.db'}"
    done = run(tmp_path, "ledger.cli", "--store", url, "--clock", CLOCK, "submit",
               stdin=json.dumps(OPEN) + "\n")
    assert done.returncode == 0, done.stderr
    return url


def test_r8_7_show_submit_and_policy_check_refuse_an_edit_under_a_used_version(
        tmp_path: Path, used_store: str) -> None:
    edited = write_catalog(tmp_path / "edited.json", plus_price("19.99"))
    show = run(tmp_path, "ledger.cli", "--store", used_store, "--policy", str(edited),
               "show", "fl-1")
    assert show.returncode == 2 and show.stdout == ""
    assert show.stderr.startswith("ledger: policy_mismatch: ") and FIELD in show.stderr
    assert '"14.99"' in show.stderr and '"19.99"' in show.stderr
    submit = run(tmp_path, "ledger.cli", "--store", used_store, "--policy", str(edited),
                 "--clock", CLOCK, "submit", stdin=json.dumps(OPEN_2) + "\n")
    assert submit.returncode == 2 and "policy_mismatch" in submit.stderr
    assert FIELD in submit.stderr and submit.stdout == ""
    check = run(tmp_path, "ledger.cli", "--store", used_store, "policy", "check", str(edited))
    assert check.returncode == 1, check.stderr
    out = check.stdout.splitlines()
    assert out[0].startswith("ok: 2 versions")  # the file itself is still valid
    assert out[1:] == [f'policy_mismatch: {FIELD}: adopted "14.99", catalog "19.99"']
    # without a store, policy check validates the file alone, as before
    alone = run(tmp_path, "ledger.cli", "policy", "check", str(edited))
    assert alone.returncode == 0 and alone.stdout.startswith("ok: 2 versions")
    # nothing was recorded by the refused submit
    shown = run(tmp_path, "ledger.cli", "--store", used_store, "show", "fl-2")
    assert shown.returncode == 1 and "unknown_account" in shown.stderr


def test_r8_7_policy_check_compares_with_the_default_store_when_it_is_there(
        tmp_path: Path) -> None:
    edited = write_catalog(tmp_path / "edited.json", plus_price("19.99"))
    empty = run(tmp_path, "ledger.cli", "policy", "check", str(edited))
    assert empty.returncode == 0 and not (tmp_path / "ledger.db").exists()  # none made
    done = run(tmp_path, "ledger.cli", "--clock", CLOCK, "submit",
               stdin=json.dumps(OPEN) + "\n")
    assert done.returncode == 0 and (tmp_path / "ledger.db").is_file(), done.stderr
    check = run(tmp_path, "ledger.cli", "policy", "check", str(edited))
    assert check.returncode == 1, check.stdout + check.stderr
    assert check.stdout.splitlines()[1:] == [
        f'policy_mismatch: {FIELD}: adopted "14.99", catalog "19.99"']


def test_r8_7_a_catalog_adding_a_later_version_is_accepted(tmp_path: Path,
                                                          used_store: str) -> None:
    added = write_catalog(tmp_path / "added.json", add_v2030)
    check = run(tmp_path, "ledger.cli", "--store", used_store, "policy", "check", str(added))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.splitlines()[-1] == (
        "ok: agrees with the 1 version the store adopted (v2019)")
    submit = run(tmp_path, "ledger.cli", "--store", used_store, "--policy", str(added),
                 "--clock", CLOCK, "submit", stdin=json.dumps(OPEN_2) + "\n")
    assert submit.returncode == 0, submit.stderr
    show = run(tmp_path, "ledger.cli", "--store", used_store, "--policy", str(added), "show",
               "fl-2", "--json")
    assert json.loads(show.stdout)["policy_version"] == "v2030"


@pytest.mark.slow
def test_r8_7_the_demo_store_audits_clean_with_its_catalog_file_removed(
        tmp_path: Path) -> None:
    # Given a demo run with the operator's own figures (not the built-in ones)
    own = write_catalog(tmp_path / "own.json", plus_price("12.34"))
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    demo = run(tmp_path, "ledger.cli", "--store", url, "--policy", str(own), "demo",
               "--accounts", "40", "--months", "3")
    assert demo.returncode == 0, demo.stderr[-2000:]
    # When the catalog file is gone
    own.unlink()
    # Then the audit re-derives from the versions the store adopted, and passes
    audit = run(tmp_path, "replay_tools.cli", "--store", url, "audit", "--json")
    assert audit.returncode == 0, audit.stdout[-3000:] + audit.stderr
    report = json.loads(audit.stdout)
    assert report["findings"] == [] and report["summary"]["account_events"] > 100
    # while the ledger itself refuses the built-in catalog, whose v2019 differs
    show = run(tmp_path, "ledger.cli", "--store", url, "show", "nobody")
    assert show.returncode == 2 and FIELD in show.stderr and '"12.34"' in show.stderr


def test_r8_7_an_edited_adoption_is_found_by_the_audit(tmp_path: Path,
                                                      used_store: str) -> None:
    path = used_store.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        (state,) = conn.execute(
            "SELECT state FROM stored_events WHERE originator_id = ? AND "
            "originator_version = 1", (ADOPTIONS_ID.hex,)).fetchone()
        data = json.loads(state)
        assert data["name"] == "v2019"
        data["content"]["plans"]["freelancer"]["plus"]["price"] = "19.99"
        conn.execute("UPDATE stored_events SET state = ? WHERE originator_id = ? AND "
                     "originator_version = 1",
                     (json.dumps(data, separators=(",", ":")).encode(), ADOPTIONS_ID.hex))
    audit = run(tmp_path, "replay_tools.cli", "--store", used_store, "audit", "--json")
    assert audit.returncode == 1, audit.stderr
    findings = json.loads(audit.stdout)["findings"]
    messages = [f["message"] for f in findings]
    assert any("content recorded for policy version v2019 does not hash to the SHA-256"
               in m for m in messages), messages
    assert any(f["rule"] == "R-8.7" for f in findings)
    # and the ledger, whose catalog no longer matches the (edited) record, will not open
    show = run(tmp_path, "ledger.cli", "--store", used_store, "show", "fl-1")
    assert show.returncode == 2 and "policy_mismatch" in show.stderr
