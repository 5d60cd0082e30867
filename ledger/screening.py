"""Input screening, before a command is validated: size and nesting limits, JSON
decoding, and the card-number (PAN) check of R-2.2.

`decode_json` refuses text too long or not JSON; `contains_pan` finds what looks like
a full card number (13 to 19 digits passing the Luhn check) in any string. Errors are
`validation_error`s that never echo the input.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from ledger.errors import LedgerError

MAX_JSON_BYTES = 1_000_000
MAX_NESTING = 8
MAX_STRING = 10_000

# 13 to 19 digits, optionally grouped by spaces, dashes or dots, passing the Luhn check.
_PAN_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ .-]?){12,18}\d(?!\d)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def contains_pan(text: str) -> bool:
    for match in _PAN_CANDIDATE.finditer(text):
        digits = re.sub(r"[ .-]", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            return True
    return False


def _strings_in(value: Any, depth: int = 0) -> list[str]:
    if depth > MAX_NESTING:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_strings_in(v, depth + 1)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings_in(v, depth + 1)]
    return []


def _validation_error(problems: list[str], raw: Any = None) -> LedgerError:
    return LedgerError("validation_error", "; ".join(problems), rule="R-6.1")


def decode_json(text: str) -> Any:
    if len(text) > MAX_JSON_BYTES:
        raise _validation_error([f"(command): longer than {MAX_JSON_BYTES} characters"])
    try:
        return json.loads(text, parse_float=Decimal, parse_int=_bounded_int)
    except (ValueError, RecursionError):
        raise _validation_error(["(command): not valid JSON"]) from None


def _bounded_int(text: str) -> int:
    if len(text) > 30:
        raise ValueError("number too large")
    return int(text)


def _nesting(value: Any, depth: int = 0) -> int:
    if depth > MAX_NESTING:
        return depth
    if isinstance(value, dict):
        return max((_nesting(v, depth + 1) for v in value.values()), default=depth + 1)
    if isinstance(value, list):
        return max((_nesting(v, depth + 1) for v in value), default=depth + 1)
    return depth
