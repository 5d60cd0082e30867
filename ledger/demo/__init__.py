"""`ledger demo`: the main job. A year of sample accounts, then a summary.

The simulator walks day by day across a seeded population (freelancers most, plus
members, agencies, companies and enterprises) and sends every action through
`Ledger.submit`, exactly as an app would. Commands are stamped with one clock that
only moves forward, so no account is ever back-dated (R-8.2), even by a command that
also writes to another account (team members, owners). Some commands are refused on
purpose (declining cards, too few Connects, closures with blockers): they are counted
by error code. The summary's figures are read back from the ledger (views and event
history), never from what the simulator meant to do.

The run is split: `simulation` (the accounts and the day loop, with its actions in
`simulation_billing` and `simulation_work`), `figures` (what the ledger says) and
`report` (the summary). This module runs them: `simulate`, then `run_demo`.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import date

from dateutil.relativedelta import relativedelta

from ledger.application import Ledger
from ledger.demo.figures import LedgerFigures, measure
from ledger.demo.report import DemoReport, format_report
from ledger.demo.simulation import ABBR, KINDS, Actor, Simulation, populate
from ledger.errors import LedgerError
from ledger.progress import ProgressBar

__all__ = [
    "ABBR", "KINDS", "START", "Actor", "DemoReport", "LedgerFigures", "Simulation", "end_of",
    "format_report", "measure", "populate", "run_demo", "run_tag", "simulate",
]

# A Monday well inside the v2019 policy version, so every figure is v2019's.
START = date(2021, 1, 4)


def run_tag(ledger: Ledger) -> str:
    """The first `demoN` whose first account does not exist yet in this store."""
    n = 1
    while True:
        try:
            ledger.account(f"demo{n}-fl-1")
        except LedgerError as exc:
            if exc.code == "unknown_account":
                return f"demo{n}"
            raise
        n += 1


def end_of(start: date, months: int) -> date:
    end: date = start + relativedelta(months=months)
    return end


def simulate(ledger: Ledger, accounts: int, months: int, seed: int,
             progress: Callable[[int], None] | None = None) -> DemoReport:
    """Run the simulation on `ledger` (its clock at or after the end) and measure it."""
    started = time.monotonic()
    end = end_of(START, months)
    sim = Simulation(ledger, run_tag(ledger), random.Random(seed), START, (end - START).days)
    populate(sim, accounts)
    sim.run(progress or (lambda n: None))
    sim.finish(end)
    ledger.run_billing(through=end.isoformat())
    sim.billing_runs += 1
    opened = {a.account_id: a.kind for a in sim.actors if a.opened}
    figures = measure(ledger, opened)
    return DemoReport(sim.tag, START, end, seed, opened, sim.accepted, sim.rejected,
                      sim.billing_runs, time.monotonic() - started, figures)


def run_demo(args: argparse.Namespace) -> int:
    """`ledger demo`: the simulation has its own clock, fixed at its end date."""
    if args.accounts < len(KINDS) or args.months < 1:
        print(f"ledger: demo needs --accounts >= {len(KINDS)} and --months >= 1",
              file=sys.stderr)
        return 2
    if args.clock:
        print(f"ledger demo: --clock is not used; the demo's clock starts at {START}",
              file=sys.stderr)
    end = end_of(START, args.months)
    ledger = Ledger.open(args.store, clock=end.isoformat(), policy=args.policy)
    try:
        bar = ProgressBar("demo: days", total=(end - START).days)
        report = simulate(ledger, args.accounts, args.months, args.seed, bar.advance)
        bar.close()
    finally:
        ledger.close()
    print(format_report(report))
    store = f" --store {args.store}" if args.store else ""
    print(f"look around: ledger{store} show {report.tag}-fl-1; "
          f"ledger{store} history {report.tag}-fl-1")
    return 0
