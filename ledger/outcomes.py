"""Small pieces of the application's answers: parsing what was sent into a command or
a rejection, and building results."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from ledger.commands import ID_PATTERN, Command, contains_pan, parse_command
from ledger.errors import LedgerError
from ledger.results import ErrorInfo, Result


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's projector without its runtime-Protocol isinstance check, which
    costs more than the replay itself (EVENTSOURCING-NOTES.md)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def parse(raw: Any) -> Command | Result:
    """The command, or the validation rejection of what was sent."""
    try:
        return parse_command(raw)
    except LedgerError as exc:
        return rejected(raw_field(raw, "command_id"), raw_field(raw, "account_id"), exc)


def raw_field(raw: Any, name: str) -> str | None:
    """An id field of what was sent, when it can be read and is a valid id (for the
    result of a rejected command): from an object, or from text that is or looks like
    one (a line that is not valid JSON may still name its account)."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str) and len(raw) <= 1_000_000:
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            found = re.search(rf'"{name}"\s*:\s*"([^"\\]{{1,64}})"', raw)
            raw = {name: found.group(1)} if found else None
    if isinstance(raw, dict) and isinstance(raw.get(name), str) and len(raw[name]) <= 64:
        value: str = raw[name]
        return value if re.match(ID_PATTERN, value) and not contains_pan(value) else None
    return None


def rejected(command_id: str | None, account_id: str | None, exc: LedgerError,
              events: list[str] | None = None) -> Result:
    return Result(command_id=command_id, account_id=account_id, ok=False, events=events or [],
                  error=ErrorInfo(code=exc.code, rule=exc.rule, message=exc.message,
                                  blockers=exc.blockers))
