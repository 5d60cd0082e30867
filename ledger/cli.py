"""`ledger`: submit commands, show accounts, run billing, check the policy, run the demo.

Exit codes: 0 all accepted; 1 at least one command rejected; 2 bad usage, an input
that cannot be read, or a store that cannot be used (one line on standard error).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from ledger.application import Ledger
from ledger.cli_output import print_history, print_view
from ledger.errors import CatalogError, LedgerError
from ledger.stores import StoreError

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage, unreadable input or unusable store: exit 2 with one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledger", description=__doc__)
    parser.add_argument("--store", help="store URL (default: LEDGER_STORE or sqlite:///ledger.db)")
    parser.add_argument("--policy", help="policy catalog file, JSON or TOML (default: built in)")
    parser.add_argument("--clock", help="fixed 'now' for the ledger (ISO date or datetime)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("submit", help="submit JSON-lines commands (or one JSON array)")
    p.add_argument("file", nargs="?", help="input file (default: standard input)")
    p = sub.add_parser("show", help="show an account, now or at a point in time")
    p.add_argument("account")
    p.add_argument("--as-of", dest="as_of")
    p.add_argument("--known-at", dest="known_at")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("history", help="every event of an account")
    p.add_argument("account")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("run-billing", help="record every scheduled fact due through DATE")
    p.add_argument("--through", required=True)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("policy", help="print or check a policy catalog")
    p.add_argument("action", choices=["show", "check"])
    p.add_argument("file", nargs="?")
    p = sub.add_parser("demo", help="simulate a year of sample accounts, then summarise")
    p.add_argument("--accounts", type=int, default=1000)
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--seed", type=int, default=7)
    from ledger.cli_webhooks import add_webhooks_parser

    add_webhooks_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except UsageError as exc:
        print(f"ledger: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (StoreError, CatalogError) as exc:
        print(f"ledger: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LedgerError as exc:
        print(f"ledger: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_REJECTED if exc.code != "future_dated" else EXIT_USAGE
    except KeyboardInterrupt:
        print("ledger: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, never a traceback
        from ledger.store_errors import describe_store_failure, is_store_failure

        if is_store_failure(exc):
            print(f"ledger: {describe_store_failure(exc, args.store)}", file=sys.stderr)
        else:
            first = str(exc).splitlines()[0] if str(exc) else ""
            print(f"ledger: internal error, please report it: {type(exc).__name__}: {first}",
                  file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    if args.command == "policy":
        return _policy(args)
    if args.command == "demo":
        from ledger.demo import run_demo

        return run_demo(args)
    if args.command == "webhooks":
        from ledger.cli_webhooks import run_webhooks

        return run_webhooks(args, lambda: _open(args))
    ledger = _open(args)
    try:
        if args.command == "submit":
            return _submit(ledger, args.file)
        if args.command == "show":
            view = ledger.account(args.account, as_of=_instant_option(args.as_of, "--as-of"),
                                  known_at=_instant_option(args.known_at, "--known-at"))
            print_view(view, as_json=args.json)
            return EXIT_OK
        if args.command == "history":
            print_history(ledger.history(args.account), as_json=args.json)
            return EXIT_OK
        through = _instant_option(args.through, "--through")
        assert through is not None
        report = ledger.run_billing(through, progress=_progress_bar("billing"))
        if args.json:
            print(json.dumps(report))
        else:
            print(f"billed through {report['through']}: {report['accounts']} accounts, "
                  f"{report['events']} events")
            for name, n in report["by_event"].items():
                print(f"  {name:<22} {n}")
        return EXIT_OK
    finally:
        ledger.close()


def _instant_option(value: str | None, option: str) -> str | None:
    from ledger.clock import parse_instant

    if value is not None:
        try:
            parse_instant(value)
        except ValueError:
            raise UsageError(f"{option}: not an ISO 8601 date or datetime: {value!r}") from None
    return value


def _open(args: argparse.Namespace) -> Ledger:
    _instant_option(args.clock, "--clock")
    try:
        return Ledger.open(args.store, clock=args.clock, policy=args.policy)
    except ValueError as exc:
        if isinstance(exc, StoreError | CatalogError):
            raise
        raise UsageError(str(exc)) from None


def _policy(args: argparse.Namespace) -> int:
    from ledger.policy import default_catalog, load_catalog

    source = args.file or args.policy
    if args.action == "show":
        catalog = load_catalog(source) if source else default_catalog()
        print(json.dumps(catalog.model_dump(mode="json"), indent=2))
        return EXIT_OK
    if not source:
        raise UsageError("policy check needs a FILE (or --policy FILE)")
    catalog = load_catalog(source)
    names = ", ".join(f"{v.name} from {v.effective_from}" for v in catalog.versions)
    print(f"ok: {len(catalog.versions)} versions ({names}), "
          f"{len(catalog.promo_codes)} promo codes")
    return EXIT_OK


SUBMIT_CHUNK = 1000


def _submit(ledger: Ledger, path: str | None) -> int:
    """Commands go through the batch path in chunks (one transaction each); results are
    the same as one at a time, printed in input order as each chunk commits."""
    rejected = False
    chunk: list[Any] = []
    commands = _read_commands(path)
    while True:
        chunk = list(itertools.islice(commands, SUBMIT_CHUNK))
        if not chunk:
            break
        for result in ledger.submit_many(chunk):
            rejected |= not result.ok
            sys.stdout.write(json.dumps(result.to_json()) + "\n")
        sys.stdout.flush()
    return EXIT_REJECTED if rejected else EXIT_OK


def _read_commands(path: str | None) -> Iterator[Any]:
    """JSON lines, or one JSON array; a line that is not JSON is passed on as text
    so that it gets its own validation_error result."""
    stream = _open_input(path)
    try:
        first = stream.read(1)
        while first and first.isspace():
            first = stream.read(1)
        if first == "[":
            text = first + stream.read()
            try:
                items = json.loads(text)
            except (ValueError, RecursionError):  # bad JSON, huge ints, deep nesting
                raise UsageError(f"{path or 'stdin'}: not a valid JSON array") from None
            yield from items
            return
        pending = first
        for line in stream:
            line = pending + line
            pending = ""
            if line.strip():
                yield line.strip()
        if pending.strip():
            yield pending.strip()
    finally:
        if stream is not sys.stdin:
            stream.close()


def _open_input(path: str | None) -> TextIO:
    if path is None or path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def _progress_bar(label: str) -> Any:
    from ledger.progress import ProgressBar

    return ProgressBar(label).advance


if __name__ == "__main__":
    sys.exit(main())
