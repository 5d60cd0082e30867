"""`ledger-replay rebuild` while writer processes run (issue 9): every writer exits 0
with every command accepted, every rebuild exits 0, and afterwards the views equal a
fresh fold of the log and the audit is clean. And the views' missing indexes added at
open by a new process (`ledger accounts`) while writers run (issue 11): no writer
fails, no deadlock. On a SQLite file and on PostgreSQL, all from outside, as separate
processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from projections.rebuild import rebuild_views
from projections.views import ACCOUNT_COLUMNS, ACCOUNTS, HISTORY, HISTORY_COLUMNS, SCHEMA
from tests.helpers import ROOT, child_env
from tests.integration.checks import CLOCK, audit_exit, check_log

pytestmark = pytest.mark.slow

WRITERS = 3
REBUILDS = 4  # each starts and ends while every writer is writing


def _tool(name: str) -> list[str]:
    script = Path(sys.executable).with_name(name)
    module = "ledger.cli" if name == "ledger" else "replay_tools.cli"
    return [str(script)] if script.exists() else [
        sys.executable, "-c", f"import sys; from {module} import main; sys.exit(main())"]


def _seed(url: str) -> None:
    """Some history first, so that each rebuild's fold takes a while."""
    led = Ledger.open(url, clock=CLOCK)
    try:
        for n in range(6):
            aid = f"seed-{n}"
            assert led.submit({"type": "open_account", "account_id": aid,
                               "kind": "freelancer", "at": "2030-01-01"}).ok
            results = led.submit_many([
                {"type": "credit_earnings", "account_id": aid, "amount": "2.00",
                 "at": f"2030-{1 + d // 28:02d}-{1 + d % 28:02d}"} for d in range(1, 60)])
            assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    finally:
        led.close()


def _wait_for_writes(folder: Path, least: int = 10) -> None:
    """Until every writer has had some commands accepted."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        outs = [folder / f"writer-{w}.out" for w in range(WRITERS)]
        if all(o.exists() and o.read_text().count("\n") >= least for o in outs):
            return
        time.sleep(0.2)
    raise AssertionError("the writers did not start writing")


def _table(led: Ledger, table: str, columns: str) -> list[tuple[Any, ...]]:
    with led.views.read_transaction() as c:
        c.execute(f"SELECT {columns} FROM {table} ORDER BY 1, 2, 3")
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in c.fetchall()]


def _start_writers(url: str, folder: Path) -> list[subprocess.Popen[bytes]]:
    env = child_env(LEDGER_CLOCK=CLOCK)
    writers = []
    for w in range(WRITERS):
        with (folder / f"writer-{w}.out").open("w") as out, (
                folder / f"writer-{w}.err").open("w") as err:  # files: a pipe fills up
            writers.append(subprocess.Popen(
                [sys.executable, "-m", "tests.integration.workers.steady_writer", url, str(w),
                 str(folder / "stop")], cwd=ROOT, env=env, stdout=out, stderr=err))
    return writers


def _stop_writers(writers: list[subprocess.Popen[bytes]], folder: Path) -> int:
    """Stop them; every writer exited 0 with every command accepted. How many commands."""
    (folder / "stop").touch()
    for p in writers:
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
    written = 0
    for w, p in enumerate(writers):
        err = (folder / f"writer-{w}.err").read_text()
        assert p.returncode == 0, f"a writer exited {p.returncode}: {err[-2000:]}"
        results = [json.loads(line) for line in
                   (folder / f"writer-{w}.out").read_text().splitlines() if line.strip()]
        refused = [r for r in results if not r.get("ok")]
        assert not refused, refused[:3]
        written += len(results)
    return written


INDEXES = [s.split()[5] for s in SCHEMA if s.startswith("CREATE INDEX")]


def test_missing_indexes_are_added_at_open_while_writers_run(url: str, tmp_path: Path) -> None:
    _seed(url)
    led = Ledger.open(url, clock=CLOCK)
    writers = _start_writers(url, tmp_path)
    opened = []
    try:
        _wait_for_writes(tmp_path)
        for _ in range(4):
            with led.views.write_transaction() as c:  # a store from before these indexes
                led.views.lock_writers_in(c)  # (in the writers' lock order, as the ledger)
                for name in INDEXES:
                    c.execute(f"DROP INDEX IF EXISTS {name}")
            assert not led.views._schema_present_now()
            opened.append(subprocess.run(
                [*_tool("ledger"), "--store", url, "accounts", "--kind", "freelancer",
                 "--json"], cwd=ROOT, env=child_env(LEDGER_CLOCK=CLOCK),
                capture_output=True, text=True, timeout=240))
            assert led.views._schema_present_now(), "the indexes were not added at open"
            assert all(p.poll() is None for p in writers), "a writer stopped"
    finally:
        written = _stop_writers(writers, tmp_path)
        led.close()
    for r in opened:
        assert r.returncode == 0, f"ledger accounts exited {r.returncode}: {r.stderr[-2000:]}"
    assert written > WRITERS * 20


def test_rebuild_while_writers_run(url: str, tmp_path: Path) -> None:
    _seed(url)
    env = child_env(LEDGER_CLOCK=CLOCK)
    writers = _start_writers(url, tmp_path)
    rebuilds: list[subprocess.CompletedProcess[str]] = []
    try:
        _wait_for_writes(tmp_path)
        for _ in range(REBUILDS):
            rebuilds.append(subprocess.run(
                [*_tool("ledger-replay"), "--store", url, "rebuild"], cwd=ROOT, env=env,
                capture_output=True, text=True, timeout=240))
            assert all(p.poll() is None for p in writers), "a writer stopped mid-rebuilds"
    finally:
        written = _stop_writers(writers, tmp_path)
    for r in rebuilds:
        assert r.returncode == 0, f"rebuild exited {r.returncode}: {r.stderr[-2000:]}"
    assert written > WRITERS * 20

    led = Ledger.open(url, clock=CLOCK)
    try:
        check_log(led)
        led.refresh_views()
        before = (_table(led, ACCOUNTS, ACCOUNT_COLUMNS), _table(led, HISTORY, HISTORY_COLUMNS))
        assert len(before[0]) == 6 + 4 * WRITERS
        assert led.views.tracking_position() == led.recorder.max_notification_id()
        led.views.drop_views()  # a fresh fold, the plain way
        led.refresh_views()
        fresh = (_table(led, ACCOUNTS, ACCOUNT_COLUMNS), _table(led, HISTORY, HISTORY_COLUMNS))
        assert before == fresh, "the views differ from a fresh fold of the log"
        rebuild_views(led)
        assert (_table(led, ACCOUNTS, ACCOUNT_COLUMNS),
                _table(led, HISTORY, HISTORY_COLUMNS)) == fresh
    finally:
        led.close()
    assert audit_exit(url) in (0, None)


def test_audits_while_writers_run_find_nothing(url: str, tmp_path: Path) -> None:
    """R-8.1/R-8.8: an audit beside running writers reads the log up to where it was
    and is clean: the checkpoints the writers add after that point are not taken for
    a deleted tail (each audit is a separate `ledger-replay audit` process, 2 workers)."""
    _seed(url)
    writers = _start_writers(url, tmp_path)
    audits = []
    try:
        _wait_for_writes(tmp_path)
        for _ in range(4):
            audits.append(subprocess.run(
                [*_tool("ledger-replay"), "--store", url, "--clock", CLOCK, "audit",
                 "--workers", "2"], env=child_env(), capture_output=True, text=True,
                timeout=300, check=False))
    finally:
        _stop_writers(writers, tmp_path)
    for done in audits:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
