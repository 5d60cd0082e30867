"""`ledger-replay reconcile` (R-3.4) and `ledger-replay what-if` (the corrections issue):
the money side of the auditor's tool, registered into its parser."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ledger.cli_support import EXIT_OK, UsageError, add_command, day, emit
from ledger.progress import ProgressBar

if TYPE_CHECKING:
    from ledger.application import Ledger

EXIT_DIFFERENCES = 1


def register(sub: Any) -> None:
    from replay_tools.cli import on_store

    p = add_command(sub, "reconcile", on_store(_reconcile),
                    "R-3.4: gateway captures against recorded charges")
    p.add_argument("--gateway-report", metavar="FILE",
                   help="a processor's CSV report (key,kind,amount,status,at) instead of "
                        "the simulated gateway's journal")
    p.add_argument("--void-orphans", action="store_true",
                   help="void every capture that no recorded charge claims")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p = add_command(sub, "what-if", on_store(_what_if),
                    "decide every accepted command again under another catalog, in a "
                    "scratch store, and show the difference")
    p.add_argument("--policy", dest="what_if_policy", metavar="FILE", required=True,
                   help="the other catalog (JSON or TOML, the shape of `ledger policy show`)")
    p.add_argument("--from", dest="what_if_from", metavar="DATE",
                   help="keep the store's own catalog before DATE")
    p.add_argument("--through", dest="what_if_through", metavar="DATE",
                   help="compare both sides on DATE, every scheduled fact due by then "
                        "recorded on each (default: the last effective day in the log; "
                        "not before it, not after the clock)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _reconcile(app: Ledger, args: argparse.Namespace) -> int:
    from replay_tools.reconcile import ReportError, reconcile, render_text

    if args.void_orphans and args.gateway_report:
        raise UsageError("--void-orphans voids at the simulated gateway; it does not go "
                         "with --gateway-report")
    try:
        result = reconcile(app, args.gateway_report, args.void_orphans)
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    emit(json.dumps(result.to_json()) if args.json else render_text(result))
    return EXIT_OK if result.clean else EXIT_DIFFERENCES


def _what_if(app: Ledger, args: argparse.Namespace) -> int:
    from ledger.errors import CatalogError
    from ledger.policy import load_catalog
    from replay_tools.what_if import WhatIfError, render_text, what_if

    start = day(args.what_if_from, "--from") if args.what_if_from else None
    through = day(args.what_if_through, "--through")
    try:
        load_catalog(args.what_if_policy)
    except CatalogError as exc:
        raise UsageError(f"--policy: {exc}") from None
    bar = ProgressBar("what-if")  # counts commands as they are decided again
    try:
        report = what_if(app, args.what_if_policy, start, progress=bar.advance,
                         through=through)
    except WhatIfError as exc:
        raise UsageError(str(exc)) from None
    finally:
        bar.close()
    emit(json.dumps(report) if args.json else render_text(report))
    return EXIT_OK
