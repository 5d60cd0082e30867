"""`ledger`: submit commands, show accounts, run billing, check the policy, run the demo.

Exit codes: 0 all accepted; 1 at least one command rejected; 2 bad usage, an input
that cannot be read, or a store that cannot be used (one line on standard error).
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from ledger.cli_support import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    UsageError,
    add_command,
    build_tool_parser,
    emit,
    instant,
    require_existing_store,
    run_main,
    store_failure_message,
    store_path,
)
from ledger.errors import CatalogError, LedgerError
from ledger.stores import StoreError

if TYPE_CHECKING:  # without importing the application at parse time
    from ledger.application import Ledger

# Modules that add subcommands: each has `register(subparsers)` (ledger/cli_support.py).
Registrar = Callable[[Any], None]


def build_parser() -> argparse.ArgumentParser:
    return build_tool_parser("ledger", __doc__, registrars())


def registrars() -> list[Registrar]:
    """The ledger's own subcommands, then those of other modules (add yours here)."""
    return [register, _register_webhooks, _register_service]


def _register_service(sub: Any) -> None:
    """serve, keys and accounts (service/cli.py)."""
    from service.cli import register as register_service
    from service.cli import run as run_service

    register_service(sub)
    for name in ("serve", "keys", "accounts"):
        sub.choices[name].set_defaults(run=lambda args: run_service(args, open_ledger))


def _register_webhooks(sub: Any) -> None:
    from ledger.cli_webhooks import add_webhooks_parser, run_webhooks

    add_webhooks_parser(sub)
    sub.choices["webhooks"].set_defaults(
        run=lambda args: run_webhooks(args, lambda: open_ledger(args)))


def register(sub: Any) -> None:
    p = add_command(sub, "submit", _submit, "submit JSON-lines commands (or one JSON array)")
    p.add_argument("file", nargs="?", metavar="FILE",
                   help="input file, JSON lines or one JSON array (default or '-': "
                        "standard input)")
    p.add_argument("--preview", action="store_true",
                   help="decide each command against the current state and record nothing, "
                        "calling no gateway: its events, the view after it, the charge")
    p = add_command(sub, "show", _show, "show an account, now or at a point in time")
    p.add_argument("account", metavar="ACCOUNT", help="the account id")
    p.add_argument("--as-of", dest="as_of", metavar="T",
                   help="the state after every event effective at or before T")
    p.add_argument("--known-at", dest="known_at", metavar="K",
                   help="only what the ledger had recorded at or before K")
    p.add_argument("--json", action="store_true", help="print the view as one JSON object")
    p = add_command(sub, "history", _history, "every event of an account, with both times")
    p.add_argument("account", metavar="ACCOUNT", help="the account id")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per event: version, name, at, recorded_at, data")
    p = add_command(sub, "run-billing", _run_billing,
                    "record every scheduled fact due through DATE, for all accounts")
    p.add_argument("--through", required=True, metavar="DATE",
                   help="bill every account whose billing dates or expiries fall on or "
                        "before DATE")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p = add_command(sub, "policy", _policy, "print or check a policy catalog")
    p.add_argument("action", choices=["show", "check"],
                   help="show: print the catalog as JSON; check: validate FILE")
    p.add_argument("file", nargs="?", metavar="FILE",
                   help="a catalog file, JSON or TOML (default: --policy, else built in)")
    p = add_command(sub, "demo", _demo, "simulate a year of sample accounts, then summarise")
    p.add_argument("--accounts", type=int, default=1000, metavar="N",
                   help="how many accounts to simulate (default 1000)")
    p.add_argument("--months", type=int, default=12, metavar="M",
                   help="how many months to simulate (default 12)")
    p.add_argument("--seed", type=int, default=7, metavar="S",
                   help="random seed, for a repeatable run (default 7)")


def main(argv: Sequence[str] | None = None) -> int:
    return run_main("ledger", build_parser(), argv, _failure)


def _failure(exc: BaseException, args: argparse.Namespace | None) -> tuple[str, int]:
    if isinstance(exc, StoreError | CatalogError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, LedgerError):
        # policy_mismatch: the store cannot be used with this catalog, like a bad
        # catalog file.
        return f"{exc.code}: {exc.message}", (
            EXIT_USAGE if exc.code in ("future_dated", "policy_mismatch") else EXIT_REJECTED)
    return store_failure_message(exc, getattr(args, "store", None)), EXIT_USAGE


# -- opening the store ------------------------------------------------------------------


@contextmanager
def opened(args: argparse.Namespace, *, existing: bool) -> Iterator[Ledger]:
    """The ledger of the global options; `existing`: a read, which never creates a store."""
    if existing:
        require_existing_store(args.store)
    ledger = open_ledger(args)
    try:
        yield ledger
    finally:
        ledger.close()


def open_ledger(args: argparse.Namespace) -> Ledger:
    from ledger.application import Ledger

    if args.clock is not None:
        instant(args.clock, "--clock")
    elif os.environ.get("LEDGER_CLOCK"):
        instant(os.environ["LEDGER_CLOCK"], "LEDGER_CLOCK")  # a usage error naming it
    try:
        ledger = Ledger.open(args.store, clock=args.clock, policy=args.policy)
    except ValueError as exc:
        if isinstance(exc, StoreError | CatalogError):
            raise
        raise UsageError(str(exc)) from None
    ledger.principal = ledger.principal.replace("python:", "cli:", 1)
    return ledger


# -- subcommands ------------------------------------------------------------------------


def _show(args: argparse.Namespace) -> int:
    from ledger.cli_output import print_view

    as_of = instant(args.as_of, "--as-of") if args.as_of else None
    known_at = instant(args.known_at, "--known-at") if args.known_at else None
    with opened(args, existing=True) as ledger:
        print_view(ledger.account(args.account, as_of=as_of, known_at=known_at),
                   as_json=args.json)
    return EXIT_OK


def _history(args: argparse.Namespace) -> int:
    from ledger.cli_output import print_history

    with opened(args, existing=True) as ledger:
        print_history(ledger.history(args.account), as_json=args.json)
    return EXIT_OK


def _run_billing(args: argparse.Namespace) -> int:
    from ledger.cli_output import print_billing_report
    from ledger.progress import ProgressBar

    through = instant(args.through, "--through")
    with opened(args, existing=False) as ledger:
        bar = ProgressBar("billing")
        try:
            report = ledger.run_billing(through, progress=bar.advance)
        finally:
            bar.close()  # ends the progress line before the summary
    print_billing_report(report, as_json=args.json)
    return EXIT_REJECTED if report.get("failed") else EXIT_OK  # named, never silent


def _demo(args: argparse.Namespace) -> int:
    from ledger.demo import run_demo

    return run_demo(args)


def _policy(args: argparse.Namespace) -> int:
    from ledger.policy import default_catalog, load_catalog

    # The catalog in force: FILE, else --policy, else LEDGER_POLICY, as for every command.
    source = args.file or args.policy or os.environ.get("LEDGER_POLICY")
    if args.action == "show":
        catalog = load_catalog(source) if source else default_catalog()
        emit(json.dumps(catalog.model_dump(mode="json"), indent=2))
        return EXIT_OK
    if not source:
        raise UsageError("policy check needs a FILE (or --policy FILE)")
    catalog = load_catalog(source)
    names = ", ".join(f"{v.name} from {v.effective_from}" for v in catalog.versions)
    emit(f"ok: {len(catalog.versions)} versions ({names}), "
         f"{len(catalog.promo_codes)} promo codes")
    if args.store is None and not os.environ.get("LEDGER_STORE"):
        # The default store, like every subcommand's, when it is there; with none yet
        # there is nothing adopted to compare with (and a check never creates one).
        default = store_path(None)
        if default is None or not default.is_file():
            return EXIT_OK
    return _check_against_store(args, catalog)


def _check_against_store(args: argparse.Namespace, catalog: Any) -> int:
    """R-8.7: the catalog against the versions the store adopted; one line each."""
    from ledger.adoption import catalog_differences
    from ledger.application import Ledger
    from ledger.clock import make_clock
    from ledger.gateway import SimulatedGateway, journal_for
    from ledger.policy import default_catalog
    from ledger.stores import parse_store_url

    require_existing_store(args.store)
    store = parse_store_url(args.store)
    ledger = Ledger(store, clock=make_clock(args.clock), catalog=default_catalog(),
                    gateway=SimulatedGateway(journal_for(store)), catalog_from_store=True)
    try:
        adopted = ledger.adopted
        differences = catalog_differences(catalog, adopted, lambda: ledger.decided_through)
    finally:
        ledger.close()
    for line in differences:
        emit(f"policy_mismatch: {line}")
    if differences:
        return EXIT_REJECTED
    versions = "version" if len(adopted) == 1 else "versions"
    emit(f"ok: agrees with the {len(adopted)} {versions} the store adopted"
         + (f" ({', '.join(adopted)})" if adopted else ""))
    return EXIT_OK


SUBMIT_CHUNK = 1000


def _submit(args: argparse.Namespace) -> int:
    """Commands go through the batch path in chunks (one transaction each); results are
    the same as one at a time, printed in input order once their chunk has committed.

    A closed output pipe is noticed when a committed chunk's results are printed: the
    process then stops before deciding the next chunk (never inside a transaction)."""
    commands = _read_commands(args.file)  # an unreadable file fails before the store opens
    if args.preview:
        return _preview(args, commands)
    with opened(args, existing=False) as ledger:
        rejected = False
        while chunk := list(itertools.islice(commands, SUBMIT_CHUNK)):
            results = ledger.submit_many(raw for _, raw in chunk)
            for (line, _), result in zip(chunk, results, strict=True):
                rejected |= not result.ok
                emit(json.dumps({**result.to_json(), "line": line}))
            sys.stdout.flush()
    return EXIT_REJECTED if rejected else EXIT_OK


def _preview(args: argparse.Namespace, commands: Iterator[tuple[int, Any]]) -> int:
    """One JSON answer per command: what submitting it now would do (ledger/preview.py)."""
    refused = False
    with opened(args, existing=True) as ledger:
        for line, raw in commands:
            answer = ledger.preview(raw)
            refused |= not answer["ok"]
            emit(json.dumps({**answer, "line": line}))
    return EXIT_REJECTED if refused else EXIT_OK


def _read_commands(path: str | None) -> Iterator[tuple[int, Any]]:
    """(line number, command) from JSON lines, or (position, item) from one JSON array;
    a line that is not JSON is passed on as text to get its own validation_error."""
    stream = _open_input(path)
    return _commands_in(stream, path)


def _commands_in(stream: TextIO, path: str | None) -> Iterator[tuple[int, Any]]:
    try:
        first = stream.read(1)
        lines_before = 0
        while first and first.isspace():
            lines_before += first == "\n"
            first = stream.read(1)
        rest: Iterable[str] = stream
        if first == "[":
            text = first + stream.read()
            try:
                items = json.loads(text)
            except (ValueError, RecursionError):  # bad JSON, huge ints, deep nesting
                if not _json_lines_led_by_an_array(text):
                    raise UsageError(f"{path or 'stdin'}: not a valid JSON array") from None
                # JSON lines whose first line happens to be an array: each line its own
                # result (that one a validation_error), as for any other line.
                # (Lines end at "\n" alone, as when reading the stream: str.splitlines
                # would also cut at U+2028 and other separators inside a string.)
                first, rest = "", io.StringIO(text)
            else:
                yield from enumerate(items, start=1)
                return
        pending = first
        for number, line in enumerate(rest, start=lines_before + 1):
            line = pending + line
            pending = ""
            if line.strip():
                yield number, line.strip()
        if pending.strip():
            yield lines_before + 1, pending.strip()
    finally:
        if stream is not sys.stdin:
            stream.close()


def _json_lines_led_by_an_array(text: str) -> bool:
    """True when the text's first line is JSON on its own and more lines follow."""
    head, _, tail = text.partition("\n")
    try:
        json.loads(head)
    except (ValueError, RecursionError):
        return False
    return bool(tail.strip())


def _open_input(path: str | None) -> TextIO:
    if path is None or path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


if __name__ == "__main__":
    sys.exit(main())
