"""A tiny run of the benchmark script, so that it cannot rot (the full run is manual)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_benchmark_script_runs_every_workload_and_prints_its_table() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--repeat", "1", "--stores",
         "sqlite"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| sqlite |")]
    workloads = {row.split("|")[2].strip().split(" (")[0] for row in rows}
    assert workloads == {"commands_one_at_a_time", "commands_batch", "cli_submit_file",
                         "billing_run", "audit_replay", "as_of_queries"}
    assert not [row for row in rows if "failed" in row], rows
