"""What `ledger` and `ledger-replay` share so that both behave like good Unix tools.

- Usage errors are one line, `PROG: message`, exit 2 (no usage banner).
- A closed output pipe ends the process quietly with SIGPIPE's status (141 in a shell),
  after the transaction in progress has committed or rolled back, never blamed on the store.
- Reading commands never create a store: a missing SQLite file is "PATH: store does not
  exist", exit 2, from both tools.
- Every instant given on the command line is in the range the ledger can compute with.

Subcommands are registered by modules with `register(subparsers)`: each sets
`run=<function(args) -> int>` with `set_defaults`, and gives every option a help text
(a test walks the parsers).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad usage, unreadable input or unusable store: exit 2 with one line."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is a UsageError (one line) instead of a banner."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def store_path(url: str | None) -> Path | None:
    """The SQLite file a store URL names (None for other stores)."""
    from ledger.stores import resolve_url

    where = resolve_url(url)
    return Path(where[len("sqlite:///"):]) if where.startswith("sqlite:///") else None


def require_existing_store(url: str | None) -> None:
    """A read must not create a store by a mistyped path (memory and PostgreSQL: as is)."""
    path = store_path(url)
    if path is not None and not path.is_file():
        raise UsageError(f"{path}: store does not exist")


def instant(text: str, option: str) -> datetime:
    """An ISO 8601 date or datetime in the ledger's range, or a UsageError naming the option."""
    from ledger.clock import parse_instant

    try:
        return parse_instant(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def day(text: str | None, option: str) -> date | None:
    """An ISO 8601 date in the ledger's range (None stays None)."""
    if text is None:
        return None
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option}: not an ISO 8601 date (YYYY-MM-DD): {escape(text)}") from None
    return instant(text, option).date()


def writable_file(path: str, option: str) -> str:
    """A file that can be created: its folder exists (checked before any work is done)."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise UsageError(f"{option}: cannot write {path}: folder {folder} does not exist")
    return path


def escape(text: str, limit: int = 80) -> str:
    """Echo user text safely (R-8.9): no control characters, no terminal escapes."""
    from ledger.redaction import escape_text

    shown = text[:limit] + ("…" if len(text) > limit else "")
    return f"'{escape_text(shown)}'"


def die_of_sigpipe() -> NoReturn:
    """End as a process killed by SIGPIPE would (exit status 141 in a shell), quietly:
    the broken stdout is pointed at /dev/null first so that Python's exit flush is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
    os._exit(128 + signal.SIGPIPE)  # not reached where SIGPIPE exists


def run_main(prog: str, parser: argparse.ArgumentParser, argv: Sequence[str] | None,
             failure: Callable[[BaseException, argparse.Namespace | None], tuple[str, int]],
             ) -> int:
    """Parse, run `args.run(args)`, and turn every failure into one line and an exit code.

    `failure(exc, args)` maps the tool's own exceptions to (message, exit code); usage
    errors, a closed pipe and Ctrl-C are handled here the same way for both tools."""
    args: argparse.Namespace | None = None
    try:
        args = parser.parse_args(argv)
        run: Callable[[argparse.Namespace], int] = args.run
        code = run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        die_of_sigpipe()
    except UsageError as exc:
        return _say(prog, str(exc), EXIT_USAGE, args)
    except KeyboardInterrupt:
        return _say(prog, "interrupted", EXIT_INTERRUPTED)
    except Exception as exc:  # one line, never a traceback
        message, code = failure(exc, args)
        return _say(prog, message, code, args)


def _say(prog: str, message: str, code: int, args: argparse.Namespace | None = None) -> int:
    """Every error line: store passwords hidden, input escaped (R-8.9)."""
    from ledger.store_errors import safe_message

    message = safe_message(message, getattr(args, "store", None))
    with contextlib.suppress(BrokenPipeError):
        print(f"{prog}: {message}", file=sys.stderr)
    return code


def emit(line: str) -> None:
    """Write one line of output (a closed pipe raises BrokenPipeError to run_main)."""
    sys.stdout.write(line + "\n")


def store_failure_message(exc: BaseException, url: str | None) -> str:
    """A store or machine failure in one line; anything else is reported as a bug."""
    from ledger.errors import StoredEventsUnreadable
    from ledger.store_errors import describe_store_failure, is_store_failure

    if is_store_failure(exc):
        return describe_store_failure(exc, url)
    if isinstance(exc, StoredEventsUnreadable):
        return str(exc)
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"internal error, please report it: {type(exc).__name__}: {first}"


def add_command(sub: Any, name: str, run: Callable[[argparse.Namespace], int],
                help: str) -> argparse.ArgumentParser:
    """One subcommand, with its runner and help text."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    p.set_defaults(run=run)
    return p


def build_tool_parser(prog: str, description: str | None,
                      registrars: list[Callable[[Any], None]]) -> argparse.ArgumentParser:
    """A command's parser: the global options every subcommand shares, then the
    subcommands each registering module adds."""
    parser = OneLineParser(prog=prog, description=description,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", metavar="URL",
                        help="store URL (default: LEDGER_STORE or sqlite:///ledger.db)")
    parser.add_argument("--policy", metavar="FILE",
                        help="policy catalog file, JSON or TOML (default: LEDGER_POLICY or "
                             "the built-in catalog)")
    parser.add_argument("--clock", metavar="T",
                        help="fixed 'now' for the ledger, an ISO date or datetime "
                             "(default: LEDGER_CLOCK or the system's UTC clock)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in registrars:
        register(sub)
    return parser
