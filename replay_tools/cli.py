"""`ledger-replay`: the auditor's tool. Replay the log, verify it, rebuild the views,
explain an account.

Exit codes: 0 clean (or done); 1 findings (or an unknown account); 2 unusable input:
bad usage, a store that cannot be opened, a bad policy file (one line on standard error).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.cli_support import (
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_command,
    build_tool_parser,
    emit,
    instant,
    require_existing_store,
    run_main,
    store_failure_message,
    writable_file,
)
from ledger.errors import CatalogError, LedgerError
from ledger.progress import ProgressBar
from ledger.stores import StoreError

if TYPE_CHECKING:
    from ledger.application import Ledger

EXIT_FINDINGS = 1
# A subcommand's runner: the opened store and the parsed options -> exit code.
Runner = Callable[["Ledger", argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    return build_tool_parser("ledger-replay", __doc__, registrars())


def registrars() -> list[Callable[[Any], None]]:
    """The auditor's own subcommands, then those of other modules (add yours here)."""
    from replay_tools.cli_money import register as register_money

    return [register, register_money]


def on_store(runner: Runner) -> Callable[[argparse.Namespace], int]:
    """Run `runner` on the existing store of the global options, then close it."""
    def run(args: argparse.Namespace) -> int:
        from replay_tools.history import ReplayError

        app = open_store(args.store, args.clock, args.policy)
        try:
            return runner(app, args)
        except ReplayError as exc:
            raise UsageError(str(exc)) from None
        finally:
            app.close()
    return run


def register(sub: Any) -> None:
    p = add_command(sub, "audit", on_store(_audit),
                    "replay the whole log and report every discrepancy")
    p.add_argument("--through", metavar="T",
                   help="re-derive only events effective at or before T")
    p.add_argument("--anchor", action="append", default=[], metavar="FILE",
                   help="an anchor from `ledger-replay anchor`: check the log still extends "
                        "it (repeatable)")
    p.add_argument("--workers", type=_workers, default=None, metavar="N",
                   help="processes that replay the accounts, split by account (default: "
                        "the number of cores; 1: this process alone)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p = add_command(sub, "anchor", on_store(_anchor),
                    "export the log's chain head now (R-8.8), signed with the key file "
                    "LEDGER_ANCHOR_KEY names when set")
    p.add_argument("--out", metavar="FILE", help="write the anchor here (default: stdout)")
    p = add_command(sub, "balance", on_store(_balance),
                    "an account's view at a point in time, from its events alone")
    p.add_argument("account", metavar="ACCOUNT", help="the account id")
    p.add_argument("--as-of", dest="as_of", required=True, metavar="T",
                   help="the state after every event effective at or before T")
    p.add_argument("--known-at", dest="known_at", metavar="K",
                   help="only events recorded at or before K")
    p.add_argument("--json", action="store_true", help="print the view as one JSON object")
    p = add_command(sub, "statement", on_store(_statement),
                    "every movement of Connects and money, with its event and rule")
    p.add_argument("account", metavar="ACCOUNT", help="the account id")
    p.add_argument("--from", dest="start", metavar="D",
                   help="first day shown (ISO date; default: the account's first)")
    p.add_argument("--to", dest="end", metavar="D",
                   help="last day shown (ISO date; default: the last recorded)")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help="print CSV with a header row")
    form.add_argument("--json", action="store_true",
                      help="print JSON lines, one object per movement")
    p = add_command(sub, "plot", on_store(_plot),
                    "draw Connects and available earnings over time (needs matplotlib)")
    p.add_argument("account", metavar="ACCOUNT", help="the account id")
    p.add_argument("--out", required=True, metavar="FILE.png", help="the PNG file to write")
    add_command(sub, "rebuild", on_store(_rebuild),
                "rebuild every view from the log, while writers run (the log chain is "
                "kept)")


def main(argv: Sequence[str] | None = None) -> int:
    return run_main("ledger-replay", build_parser(), argv, _failure)


def _failure(exc: BaseException, args: argparse.Namespace | None) -> tuple[str, int]:
    if isinstance(exc, StoreError | CatalogError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, LedgerError):
        return f"{exc.code}: {exc.message}", (
            EXIT_USAGE if exc.code == "policy_mismatch" else EXIT_FINDINGS)
    return store_failure_message(exc, getattr(args, "store", None)), EXIT_USAGE


def open_store(url: str | None, clock: str | None, policy: str | None) -> Ledger:
    """Open an existing store: an auditor never creates one by mistyping its path."""
    from ledger.application import Ledger

    require_existing_store(url)
    if clock is not None:
        instant(clock, "--clock")
    try:
        # without --policy (or LEDGER_POLICY), the versions the store adopted.
        return Ledger.open(url, clock=clock, policy=policy, policy_from_store=True)
    except (StoreError, CatalogError):
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _audit(app: Ledger, args: argparse.Namespace) -> int:
    from replay_tools.audit import render_json, render_text, run_audit

    through = instant(args.through, "--through") if args.through else None
    anchors = _anchors(args.anchor)
    bar = ProgressBar("audit", total=app.recorder.max_notification_id() or None)
    try:
        report = run_audit(app, through, progress=bar.advance, anchors=anchors,
                           workers=args.workers or default_workers())
    finally:
        bar.close()
    emit(render_json(report) if args.json else render_text(report))
    return EXIT_OK if report.clean else EXIT_FINDINGS


def default_workers() -> int:
    """The cores this process may run on."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 64:
        raise argparse.ArgumentTypeError(f"not a number of workers from 1 to 64: {text!r}")
    return n


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
    emit(f"wrote {args.out}: #{json.loads(text)['notification_id']}")
    return EXIT_OK


def _balance(app: Ledger, args: argparse.Namespace) -> int:
    from ledger.cli_output import print_view
    from replay_tools.balance import balance_at

    as_of = instant(args.as_of, "--as-of")
    known_at = instant(args.known_at, "--known-at") if args.known_at else None
    print_view(balance_at(app, args.account, as_of, known_at), as_json=args.json)
    return EXIT_OK


def _statement(app: Ledger, args: argparse.Namespace) -> int:
    from replay_tools.statement import (
        bounds_in_order,
        parse_bound,
        render_csv,
        render_json,
        render_text,
        statement,
    )

    def bound(text: str | None, option: str) -> Any:
        try:
            return parse_bound(text) if text is not None else None
        except ValueError as exc:
            raise UsageError(f"{option}: {exc}") from None

    start, end = bound(args.start, "--from"), bound(args.end, "--to")
    if not bounds_in_order(start, end):
        raise UsageError(f"--from {args.start} is after --to {args.end}")
    rows = statement(app, args.account, start, end)
    if args.csv:
        sys.stdout.write(render_csv(rows))
    elif args.json:
        emit(render_json(rows))
    else:
        emit(render_text(args.account, rows))
    return EXIT_OK


def _plot(app: Ledger, args: argparse.Namespace) -> int:
    from replay_tools.plot import MatplotlibMissing, plot_account

    out = writable_file(args.out, "--out")
    try:
        points = plot_account(app, args.account, out)
    except MatplotlibMissing as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:  # the output file, not the store
        raise UsageError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    emit(f"wrote {out}: {points} points")
    return EXIT_OK


def _rebuild(app: Ledger, args: argparse.Namespace) -> int:
    bar = ProgressBar("rebuild", total=app.recorder.max_notification_id() or None)
    try:
        applied = app.rebuild_views(progress=bar.advance)
    finally:
        bar.close()
    emit(f"rebuilt the views from the log: {applied} events applied "
          "(the log chain is kept as evidence)")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
