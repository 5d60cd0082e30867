"""`ledger-replay`: the auditor's tool. Replay the log, verify it, rebuild the views,
explain an account.

Exit codes: 0 clean (or done); 1 findings (or an unknown account); 2 unusable input:
bad usage, a store that cannot be opened, a bad policy file (one line on standard error).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ledger.application import Ledger
from ledger.clock import parse_instant
from ledger.errors import CatalogError, LedgerError
from ledger.progress import ProgressBar
from ledger.stores import StoreError, resolve_url

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Unusable input: exit 2 with one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledger-replay", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", help="store URL (default: LEDGER_STORE or sqlite:///ledger.db)")
    parser.add_argument("--policy", help="policy catalog file, JSON or TOML (default: built in)")
    parser.add_argument("--clock", help="fixed 'now' (ISO date or datetime)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("audit", help="replay the whole log and report every discrepancy")
    p.add_argument("--through", help="re-derive only events effective at or before T")
    p.add_argument("--anchor", action="append", default=[], metavar="FILE",
                   help="an anchor from `ledger-replay anchor`: check the log still extends "
                        "it (repeatable)")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("anchor", help="export the log's chain head now (R-8.8), signed "
                                      "with the key file LEDGER_ANCHOR_KEY names when set")
    p.add_argument("--out", metavar="FILE", help="write the anchor here (default: stdout)")
    p = sub.add_parser("balance", help="an account's view at a point in time, from its events")
    p.add_argument("account")
    p.add_argument("--as-of", dest="as_of", required=True)
    p.add_argument("--known-at", dest="known_at")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("statement", help="every movement of Connects and money, with its rule")
    p.add_argument("account")
    p.add_argument("--from", dest="start")
    p.add_argument("--to", dest="end")
    p.add_argument("--csv", action="store_true")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("plot", help="Connects and available earnings over time (matplotlib)")
    p.add_argument("account")
    p.add_argument("--out", required=True, help="the PNG file to write")
    sub.add_parser("rebuild", help="drop and rebuild every view from the log")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (UsageError, StoreError, CatalogError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except LedgerError as exc:
        return _fail(f"{exc.code}: {exc.message}", EXIT_FINDINGS)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:  # the store or the machine failed: say which, never a traceback
        from ledger.store_errors import describe_store_failure

        return _fail(describe_store_failure(exc, args.store), EXIT_USAGE)


def _fail(message: str, code: int) -> int:
    print(f"ledger-replay: {message}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    from replay_tools.history import ReplayError

    app = open_store(args.store, args.clock, args.policy)
    try:
        if args.command == "audit":
            return _audit(app, args)
        if args.command == "anchor":
            return _anchor(app, args)
        if args.command == "balance":
            return _balance(app, args)
        if args.command == "statement":
            return _statement(app, args)
        if args.command == "plot":
            return _plot(app, args)
        return _rebuild(app)
    except ReplayError as exc:
        raise UsageError(str(exc)) from None
    finally:
        app.close()


def open_store(url: str | None, clock: str | None, policy: str | None) -> Ledger:
    """Open an existing store: an auditor never creates one by mistyping its path."""
    where = resolve_url(url)
    if where.startswith("sqlite:///") and not Path(where[len("sqlite:///"):]).is_file():
        raise UsageError(f"store {where} does not exist")
    if clock is not None:
        _instant(clock, "--clock")
    try:
        return Ledger.open(where, clock=clock, policy=policy)
    except (StoreError, CatalogError):
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _instant(text: str, option: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        raise UsageError(f"{option}: not an ISO 8601 date or datetime: {text!r}") from None


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: not an ISO 8601 date: {text!r}") from None


def _audit(app: Ledger, args: argparse.Namespace) -> int:
    from replay_tools.audit import render_json, render_text, run_audit

    through = _instant(args.through, "--through") if args.through else None
    anchors = _anchors(args.anchor)
    bar = ProgressBar("audit", total=app.recorder.max_notification_id() or None)
    try:
        report = run_audit(app, through, progress=bar.advance, anchors=anchors)
    finally:
        bar.close()
    print(render_json(report) if args.json else render_text(report))
    return EXIT_OK if report.clean else EXIT_FINDINGS


def _anchors(paths: list[str]) -> list[Any]:
    from replay_tools.anchor import AnchorError, anchor_key, load_anchor

    try:
        key = anchor_key() if paths else None
        return [load_anchor(path, key) for path in paths]
    except AnchorError as exc:
        raise UsageError(str(exc)) from None


def _anchor(app: Ledger, args: argparse.Namespace) -> int:
    import json

    from replay_tools.anchor import AnchorError, make_anchor

    try:
        text = json.dumps(make_anchor(app.recorder, app.mapper), indent=1) + "\n"
    except AnchorError as exc:
        raise UsageError(str(exc)) from None
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(args.out).write_text(text)
    except OSError as exc:
        raise UsageError(f"--out: cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"wrote {args.out}: #{json.loads(text)['notification_id']}")
    return EXIT_OK


def _balance(app: Ledger, args: argparse.Namespace) -> int:
    from ledger.cli_output import print_view
    from replay_tools.balance import balance_at

    as_of = _instant(args.as_of, "--as-of")
    known_at = _instant(args.known_at, "--known-at") if args.known_at else None
    print_view(balance_at(app, args.account, as_of, known_at), as_json=args.json)
    return EXIT_OK


def _statement(app: Ledger, args: argparse.Namespace) -> int:
    from replay_tools.statement import render_csv, render_json, render_text, statement

    rows = statement(app, args.account, _day(args.start, "--from"), _day(args.end, "--to"))
    if args.csv:
        sys.stdout.write(render_csv(rows))
    elif args.json:
        print(render_json(rows))
    else:
        print(render_text(args.account, rows))
    return EXIT_OK


def _plot(app: Ledger, args: argparse.Namespace) -> int:
    from replay_tools.plot import MatplotlibMissing, plot_account

    try:
        points = plot_account(app, args.account, args.out)
    except MatplotlibMissing as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {args.out}: {points} points")
    return EXIT_OK


def _rebuild(app: Ledger) -> int:
    bar = ProgressBar("rebuild", total=app.recorder.max_notification_id() or None)
    app.views.drop_views()
    try:
        applied = app.refresh_views(progress=bar.advance)
    finally:
        bar.close()
    print(f"rebuilt the views from the log: {applied} events applied "
          "(the log chain is kept as evidence)")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
