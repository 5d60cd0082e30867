"""`ledger` and `ledger-replay` run as real subprocesses, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _run(module: str, cwd: Path, args: tuple[str, ...], stdin: str | None,
         env: dict[str, str] | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args], input=stdin, capture_output=True, text=True,
        cwd=cwd, env={**os.environ, **(env or {})}, timeout=300, check=False)


def ledger_cli(cwd: Path, *args: str, stdin: str | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return _run("ledger.cli", cwd, args, stdin, env)


def replay_cli(cwd: Path, *args: str, stdin: str | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return _run("replay_tools.cli", cwd, args, stdin, env)
