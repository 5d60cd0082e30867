"""R-2.2: a card number is refused whatever stands between its digits.

The forms are built here, independently of the ledger's screen: a Luhn-valid number of
13 to 19 digits, cut into groups of any sizes, joined by separators that are neither
letters nor digits (Unicode spaces, zero-width and other invisible characters,
punctuation, tabs, runs of several), then put anywhere in a command: a field's value,
an unknown field's name, nested text, a bare JSON number.
"""

from __future__ import annotations

import json
import random
import unicodedata
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import Ledger
from tests.fuzz.test_hostile_input import luhn_complete, open_ledger, stored_count

UNICODE_SPACES = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Zs"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"]
ASCII_SEPARATORS = list(" \t/_,-.:;|*+~#()[]'\"\\")
SEPARATOR_POOL = UNICODE_SPACES + INVISIBLE + ASCII_SEPARATORS


def separator_chars() -> st.SearchStrategy[str]:
    """Any character that is neither a letter nor a digit (nor a lone surrogate)."""
    return st.one_of(
        st.sampled_from(SEPARATOR_POOL),
        st.characters(exclude_categories=("L", "N", "Cs")),
    )


@st.composite
def card_forms(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    body = draw(st.sampled_from("23456")) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=length - 2,
                      max_size=length - 2)))
    digits = luhn_complete(body)
    cuts = sorted(set(draw(st.lists(st.integers(1, length - 1), max_size=length - 1))))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, length], strict=True)]
    form = groups[0]
    for group in groups[1:]:
        form += draw(st.text(separator_chars(), min_size=1, max_size=4)) + group
    return form


def place(form: str, where: str) -> dict[str, Any]:
    command: dict[str, Any] = {"type": "suspend_account", "account_id": "fl-1",
                               "reason": "review"}
    if where == "value":
        command["reason"] = f"see {form} thanks"
    elif where == "unknown value":
        command["note"] = form
    elif where == "field name":
        command[form] = "x"
    elif where == "nested text":
        command["reason"] = ["a", {"deep": form}]
    return command


WHERE = ["value", "unknown value", "field name", "nested text"]


def assert_refused(led: Ledger, raw: Any) -> None:
    result = led.submit(raw)
    assert not result.ok and result.error is not None, raw
    assert result.error.code == "pan_not_allowed", (raw, result.error)
    assert result.events == []


@settings(max_examples=150, deadline=None, derandomize=True)
@given(form=card_forms(), where=st.sampled_from(WHERE))
def test_generated_separators_never_let_a_card_number_through(form: str, where: str) -> None:
    led = _shared_ledger()
    before = stored_count(led)
    assert_refused(led, place(form, where))
    assert_refused(led, json.dumps(place(form, where)))
    assert stored_count(led) == before


def test_a_card_number_as_a_json_number_is_refused() -> None:
    led = _shared_ledger()
    assert_refused(led, '{"type": "purchase_connects", "account_id": "fl-1", '
                        '"quantity": 4111111111111111}')
    assert_refused(led, {"type": "purchase_connects", "account_id": "fl-1",
                         "quantity": 4111111111111111})
    assert_refused(led, {"type": "credit_earnings", "account_id": "fl-1",
                         "amount": 4111111111111111.0, "reference": "r-1"})


def test_ten_thousand_generated_forms_are_all_refused_and_nothing_is_stored() -> None:
    led = open_ledger()
    before = stored_count(led)
    rng = random.Random(20261201)
    seen = set()
    for _ in range(10_000):
        length = rng.randint(13, 19)
        body = rng.choice("23456") + "".join(rng.choices("0123456789", k=length - 2))
        digits = luhn_complete(body)
        form = digits[0]
        for d in digits[1:]:
            if rng.random() < 0.4:
                form += "".join(rng.choices(SEPARATOR_POOL, k=rng.randint(1, 3)))
            form += d
        seen.add(form)
        assert_refused(led, place(form, rng.choice(WHERE)))
    assert len(seen) > 9_900
    assert stored_count(led) == before
    led.close()


def test_ordinary_values_are_not_mistaken_for_card_numbers() -> None:
    led = open_ledger()
    accepted = [
        {"type": "suspend_account", "account_id": "fl-2",
         "reason": "paid 14.99 on 2016-03-05 10:00:00.123456+00:00, ref c-1"},
        {"type": "credit_earnings", "account_id": "fl-3", "amount": "1000000000.00",
         "reference": "2016-03-05-000123", "at": "2030-12-20 10:00:00+00:00"},
    ]
    for command in accepted:
        result = led.submit(command)
        assert result.ok, (command, result.error)
    led.close()


_LEDGERS: list[Ledger] = []


def _shared_ledger() -> Ledger:
    if not _LEDGERS:
        _LEDGERS.append(open_ledger())
    return _LEDGERS[0]
