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

# Card numbers, without a list of separators. A *run* is digit groups joined by
# anything that is neither a letter nor a digit: spaces of any kind, zero-width and other
# invisible characters, punctuation, tabs, any number of them. Letters end a run. Digits
# are any Unicode decimal digits (so full-width or Arabic-Indic digits count too).
# Inside a run, every stretch of whole groups holding 13 to 19 digits is a candidate and
# is refused when it passes Luhn: a card number written with any grouping starts and ends
# at a group's edge. A single group of more than 19 digits is a long number, not a card.
_DIGIT_RUN = re.compile(r"\d+(?:[\W_]+\d+)*")
_GROUP = re.compile(r"\d+")
# A real ISO 8601 date, with an optional time and zone, is masked first: a timestamp such
# as "2016-03-05 10:00:00.123456+00:00" holds 24 digits and would otherwise be refused
# one time in ten. Only real calendar dates in 1900-2099 are masked (no card is written
# as YYYY-MM-DD).
_ISO_INSTANT = re.compile(
    r"(?<!\d)(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d{1,9})?)?(?:Z|[+-]\d\d:?\d\d)?)?(?!\d)")
PAN_MIN_DIGITS = 13
PAN_MAX_DIGITS = 19


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_dates(text: str) -> str:
    if "-" not in text:
        return text
    return _ISO_INSTANT.sub(lambda m: "x" if _real_date(m.group()) else m.group(), text)


def _real_date(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text[:10])
    except ValueError:
        return False
    return True


def _run_has_pan(run: str) -> bool:
    groups = [g if g.isascii() else "".join(str(int(c)) for c in g)
              for g in _GROUP.findall(run)]
    for start in range(len(groups)):
        digits = ""
        for group in groups[start:]:
            digits += group
            if len(digits) > PAN_MAX_DIGITS:
                break
            if len(digits) >= PAN_MIN_DIGITS and _luhn_ok(digits):
                return True
    return False


def contains_pan(text: str) -> bool:
    """Whether `text` holds what may be a full card number (see the rule above)."""
    if len(text) < PAN_MIN_DIGITS:
        return False
    text = _mask_dates(text)
    for match in _DIGIT_RUN.finditer(text):
        run = match.group()
        if len(run) >= PAN_MIN_DIGITS and _run_has_pan(run):
            return True
    return False


# A charge id is `ch_` and 24 hex characters of a SHA-256 the ledger derived: its
# digits are a hash's, and about one charge in three hundred holds 13 or more of them in a
# row passing Luhn by chance. Such a value of the `charge_id` field, exactly in that form,
# is the ledger's own identifier, not a card number, and is not screened; anywhere else
# (in a reason, say) it is screened like any text. A made-up id in that form names no
# charge: the refund is refused as `unknown_charge` without echoing it.
CHARGE_ID = re.compile(r"ch_[0-9a-f]{24}")
CHARGE_ID_FIELD = "charge_id"


def is_charge_id(value: Any) -> bool:
    return isinstance(value, str) and CHARGE_ID.fullmatch(value) is not None


def screened_texts(value: Any, depth: int = 0) -> list[str]:
    """Every text a command carries: field names, strings and numbers, nested too (a
    top-level `charge_id` in the charge-id form excepted, see CHARGE_ID)."""
    if depth == 0 and isinstance(value, dict) and is_charge_id(value.get(CHARGE_ID_FIELD)):
        value = {k: v for k, v in value.items() if k != CHARGE_ID_FIELD}
        return [CHARGE_ID_FIELD, *screened_texts(value, depth)]
    if depth > MAX_NESTING:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float | Decimal):
        return [_number_text(value)]
    if isinstance(value, dict):
        return [s for k, v in value.items()
                for s in [*screened_texts(k, depth + 1), *screened_texts(v, depth + 1)]]
    if isinstance(value, list | tuple | set | frozenset):
        return [s for v in value for s in screened_texts(v, depth + 1)]
    return [str(value)]


def _number_text(value: int | float | Decimal) -> str:
    if isinstance(value, int):
        return str(value) if value.bit_length() < 4000 else "0"
    if isinstance(value, float):
        return repr(value) if value != value or abs(value) >= 1e21 else f"{value:f}"
    return format(value, "f") if value.is_finite() and abs(value.adjusted()) < 64 else str(value)


_strings_in = screened_texts  # the name commands.py imports


def _validation_error(problems: list[str], raw: Any = None, *,
                      rule: str = "R-6.1") -> LedgerError:
    """R-6.1 by default (fields and amounts); an unknown command type cites R-1.4."""
    return LedgerError("validation_error", "; ".join(problems), rule=rule)


class JsonNumber(Decimal):
    """A JSON number with a fraction, kept exact (the card-number screen reads its digits)
    and marked, so that a money field can refuse it: INTERFACE.md's amounts are strings."""


def decode_json(text: str) -> Any:
    if len(text) > MAX_JSON_BYTES:
        raise _validation_error([f"(command): longer than {MAX_JSON_BYTES} characters"])
    try:
        return json.loads(text, parse_float=JsonNumber, parse_int=_bounded_int)
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
