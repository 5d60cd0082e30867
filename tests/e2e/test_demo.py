"""End to end: `ledger demo`, the main job, in process and as the README quick start runs it.

The summary's figures must agree with the store: the kinds it prints name exactly the
accounts opened (`{tag}-{abbr}-{n}`), and Connects granted - spent - expired (summed from
event histories) equals the Connects held (summed from the account views).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger, LedgerError
from ledger.cli import main
from ledger.demo import ABBR, KINDS, START, end_of, simulate

pytestmark = pytest.mark.slow


def _number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in the summary:\n{text}"
    return int(found.group(1))


def _kinds(text: str) -> dict[str, int]:
    line = next(ln for ln in text.splitlines() if ln.startswith("accounts"))
    return {kind: int(n) for kind, n in re.findall(r"(\w+) (\d+)", line.split(":", 1)[1])}


def test_demo_summary_agrees_with_the_store(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    assert main(["--store", url, "demo", "--accounts", "60", "--months", "3"]) == 0
    out = capsys.readouterr().out
    tag = re.search(r"demo run (demo\d+)", out)
    assert tag and tag.group(1) == "demo1"
    kinds = _kinds(out)
    assert set(kinds) == set(KINDS)
    assert sum(kinds.values()) == _number(r"accounts\s+(\d+) opened", out) == 60

    ledger = Ledger.open(url, clock=end_of(START, 3).isoformat())
    try:
        ids = [f"demo1-{ABBR[k]}-{i}" for k, n in kinds.items() for i in range(1, n + 1)]
        views = [ledger.account(i) for i in ids]
        assert Counter(v.kind for v in views) == Counter(kinds)
        for kind, n in kinds.items():  # the counts name every account, and no more
            with pytest.raises(LedgerError) as missing:
                ledger.account(f"demo1-{ABBR[kind]}-{n + 1}")
            assert missing.value.code == "unknown_account"
        held = sum(v.connects for v in views)
        granted = _number(r"granted (\d+)", out)
        spent, expired = _number(r"spent (\d+)", out), _number(r"expired (\d+)", out)
        assert granted - spent - expired == held == _number(r"held (\d+)", out)
        events = sum(len(ledger.history(i)) for i in ids)
        assert _number(r"events\s+(\d+) recorded", out) == events
    finally:
        ledger.close()
    commands = _number(r"commands\s+(\d+):", out)
    accepted, rejected = _number(r"(\d+) accepted", out), _number(r"(\d+) rejected", out)
    assert commands == accepted + rejected > 60


def test_simulate_reads_its_figures_back_and_repeats_with_a_new_tag(tmp_path: Path) -> None:
    ledger = Ledger.open(f"sqlite:///{tmp_path}/s.db", clock=end_of(START, 2).isoformat())
    try:
        first = simulate(ledger, 40, 2, seed=3)
        second = simulate(ledger, 40, 2, seed=3)  # same store: no id may collide
    finally:
        ledger.close()
    assert (first.tag, second.tag) == ("demo1", "demo2")
    figures = first.figures
    assert sum(figures.by_kind.values()) == len(first.account_ids) == 40
    assert figures.by_kind == Counter(first.account_ids.values())
    assert sum(figures.by_status.values()) == sum(figures.by_plan.values()) == 40
    assert sum(figures.granted.values()) - figures.spent - sum(figures.expired.values()) \
        == figures.held
    assert set(figures.charged) <= {"earnings", "card", "paypal", "promo"}
    # The same seed tells the same story, whatever else the store holds.
    assert second.figures == first.figures
    assert (second.accepted, second.rejected) == (first.accepted, first.rejected)


def test_quick_start_creates_ledger_db_in_the_working_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_STORE", "LEDGER_CLOCK")}
    env["LEDGER_PROGRESS"] = "1"  # draw the bar although stderr is a pipe
    done = subprocess.run(
        [sys.executable, "-m", "ledger.cli", "demo", "--accounts", "30", "--months", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ledger.db").exists()
    assert "demo run demo1" in done.stdout
    assert "demo: days" in done.stderr and "demo: days" not in done.stdout
    # every capture of the demo's simulated gateway is recorded exactly once.
    reconciled = subprocess.run([sys.executable, "-m", "replay_tools.cli", "reconcile", "--json"],
                                cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=300)
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    report = json.loads(reconciled.stdout)
    assert report["differences"] == [] and report["captures"] == report["recorded"] > 0


def test_the_demo_records_on_its_own_clock_and_weekends_late(tmp_path: Path) -> None:
    # Given a demo run (its clock follows the simulated days)
    ledger = Ledger.open(f"sqlite:///{tmp_path}/k.db", clock=end_of(START, 1).isoformat())
    try:
        report = simulate(ledger, 30, 1, seed=5)
        rows = [r for account in report.account_ids for r in ledger.history(account)]
        # Then recorded times follow the days (not one instant for everything) ...
        assert len({r["recorded_at"].date() for r in rows}) > 10
        assert all(r["recorded_at"] >= r["at"] for r in rows)
        # ... and what happened on a Saturday was only recorded on Monday
        saturday = [r for r in rows if r["at"].weekday() == 5 and r["at"].hour == 6]
        assert saturday and all(r["recorded_at"].weekday() == 0 for r in saturday)
        # So --known-at on the Sunday does not know the Saturday's facts yet
        def saturday_facts(account: str) -> list[dict[str, Any]]:
            history = ledger.history(account)
            return [r for r in history if r["at"].weekday() == 5 and r["at"].hour == 6
                    and history[0]["recorded_at"] < r["at"]]  # known before that Saturday

        account = next(a for a in report.account_ids if saturday_facts(a))
        fact = saturday_facts(account)[0]
        sunday = fact["at"].replace(hour=12) + timedelta(days=1)
        now = ledger.account(account, as_of=sunday)
        then = ledger.account(account, as_of=sunday, known_at=sunday)
        assert then.version < now.version
    finally:
        ledger.close()
