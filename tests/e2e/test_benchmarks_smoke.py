"""A tiny run of the benchmark script, so that it cannot rot (the full run is manual)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every path of issue 16, and the rows other issues asked for (placeholders until built).
PATHS = {"one command at a time, views included", "batch path (Ledger.submit_many)",
         "batch path (ledger submit FILE)", "billing run of N due accounts",
         "audit replay over a log of N events", "ledger demo (N accounts, a year)",
         "as-of query, one account of N events", "console account page, 100,000 vs 10 events (#13)",
         "webhook delivery, events/s from a backlog; commit-to-arrival lag (#12)",
         "ledger-replay what-if on the demo's store, catalog unchanged (#14)",
         "ledger-replay what-if on the demo's store, Plus +5.00 USD (#14)"}
# Issue 11's rows are measured once the HTTP service is installed (benchmarks/rows_http.py).
SERVICE = importlib.util.find_spec("service.app") is not None
HTTP_PATHS = {"HTTP POST /v1/commands, one worker (#11)",
              "HTTP POST /v1/commands/batch, one worker (#11)"}
if SERVICE:
    PATHS |= HTTP_PATHS


@pytest.mark.slow
def test_the_benchmark_script_measures_every_path_against_its_target() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--repeat", "1", "--stores",
         "sqlite"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in done.stdout.splitlines()
            if line.startswith("| ") and "| sqlite |" in line]
    measured = [r for r in rows if r[7] in ("yes", "no", "-")]
    assert {r[0] for r in measured} == PATHS
    assert not [r for r in rows if "failed" in r[3]], rows
    # the rows with a library baseline show its figure and the ratio
    single = next(r for r in measured if r[0].startswith("one command"))
    assert single[4].startswith("library_get_save") and single[5].endswith("x")
    # rows that wait for other issues' code are in the table, marked as such
    assert SERVICE or any(r[7] == "not measured" and "(#11)" in r[0] for r in rows)
    # what-if (#14) decides the demo's commands again: a rate of commands per second
    what_if = [r for r in measured if "what-if" in r[0]]
    assert len(what_if) == 2 and all(" commands/s, " in r[3] for r in what_if), what_if
