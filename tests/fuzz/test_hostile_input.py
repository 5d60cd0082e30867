"""Hostile and malformed commands (R-2.2, R-6.1, R-8.4, R-8.5, R-1.2).

Whatever is sent, the ledger answers with a Result (never an exception): rejected
with `validation_error` or `pan_not_allowed`, nothing recorded, and no card number in
the answer or in the store. Runs on the memory store (one Ledger per test function)
and through the CLI in-process (`ledger.cli.main`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Ledger
from ledger.cli import main as cli_main
from ledger.commands import MODEL_OF_TYPE
from tests.helpers import TEST_CLOCK

CLOCK = TEST_CLOCK
AT = "2030-12-20"
CLEAN_CODES = {"validation_error", "pan_not_allowed"}
FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

# --------------------------------------------------------------------------- card numbers


def luhn_complete(body: str) -> str:
    """body + the check digit that makes it pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# Independent of the ledger's own screen: runs of 13-19 ASCII digits, optionally grouped
# by single spaces, dashes or dots, that pass the Luhn test.
_RUN = re.compile(r"(?<![0-9])[0-9](?:[ .\-]?[0-9]){12,18}(?![0-9])")


# Hashes, uuids and charge ids are hex strings whose digit runs may pass the Luhn test
# by chance.
_HEX = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{12}|[0-9a-fA-F]{32,}|ch_[0-9a-f]{24}")


def card_numbers_in(text: str) -> list[str]:
    found = []
    for match in _RUN.finditer(_HEX.sub("#", text)):
        digits = re.sub(r"[^0-9]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.append(match.group())
    return found


@st.composite
def pans(draw: st.DrawFn) -> str:
    """A Luhn-valid 13-19 digit card number, plain, grouped, or inside other text."""
    length = draw(st.integers(13, 19))
    first = draw(st.sampled_from("23456"))
    body = first + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                         min_size=length - 2, max_size=length - 2)))
    pan = luhn_complete(body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    if sep:
        pan = sep.join(pan[i:i + 4] for i in range(0, len(pan), 4))
    wrap = draw(st.sampled_from(["{}", "card {} thanks", "x{}y", "{}:", "tok_{}"]))
    return wrap.format(pan)


KNOWN_PANS = ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111",
              "378282246310005", "6011111111111117", "5555555555554444",
              "4222222222222", "6304000000000000000"]

# --------------------------------------------------------------------------- commands

CARD = {"method_id": "m-9", "method": "card", "brand": "visa", "last4": "4242",
        "exp_month": 12, "exp_year": 2033, "token": "tok_ok_9", "prepaid": False}
OWN_FIELDS: dict[str, dict[str, Any]] = {
    "open_account": {"kind": "agency", "owner_id": "fl-1"},
    "add_billing_method": CARD,
    "make_primary_method": {"method_id": "m-1"},
    "remove_billing_method": {"method_id": "m-1"},
    "suspend_billing_method": {"method_id": "m-1"},
    "reinstate_billing_method": {"method_id": "m-1"},
    "upgrade_plan": {"promo_code": "PLUSMONTH"},
    "downgrade_plan": {},
    "redeem_promo_code": {"code": "PLUSMONTH"},
    "suspend_account": {"reason": "review"},
    "reinstate_account": {"reason": "done"},
    "record_pending_earnings": {"reference": "r-9", "amount": "10.00"},
    "release_earnings": {"reference": "r-9"},
    "credit_earnings": {"amount": "10.00", "reference": "r-8"},
    "withdraw_earnings": {"amount": "1.00"},
    "purchase_connects": {"quantity": 10},
    "submit_proposal": {"proposal_id": "p-9", "job_id": "j-9", "connects": 2,
                        "invited": False},
    "withdraw_proposal": {"proposal_id": "p-9"},
    "cancel_job": {"job_id": "j-9", "reason": "cancelled_without_hire"},
    "open_contract": {"contract_id": "c-9", "hourly": False, "role": "freelancer"},
    "close_contract": {"contract_id": "c-9"},
    "post_job": {"job_id": "j-9"},
    "close_job": {"job_id": "j-9"},
    "record_invoice": {"invoice_id": "i-9", "amount": "10.00"},
    "pay_invoice": {"invoice_id": "i-9"},
    "add_team_member": {"member_id": "fl-3", "role": "member"},
    "remove_team_member": {"member_id": "fl-3"},
    "leave_team": {"team_id": "ag-1"},
    "close_account": {},
}
TYPES = sorted(OWN_FIELDS)


def base(type_: str, account_id: str = "fl-1", **extra: Any) -> dict[str, Any]:
    cmd = {"type": type_, "command_id": f"c-{uuid4().hex[:12]}", "account_id": account_id,
           "actor": account_id, "at": AT, **OWN_FIELDS[type_], **extra}
    if type_ == "open_account":
        cmd["account_id"] = cmd["actor"] = "ag-new"
    return cmd


ID_FIELDS = {"command_id", "account_id", "actor", "owner_id", "method_id", "proposal_id",
             "job_id", "contract_id", "invoice_id", "reference", "member_id", "team_id",
             "promo_code", "code"}
INT_FIELDS = {"quantity", "connects", "exp_month", "exp_year"}
BOOL_FIELDS = {"prepaid", "invited", "hourly", "verified"}
MONEY_FIELDS = {"amount"}
CHOICE_FIELDS = {"type", "kind", "method", "brand", "role"}

JUNK = st.one_of(
    st.integers(-(10**40), 10**40), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
NOT_AN_ID = st.one_of(
    st.just(""), st.text(min_size=65, max_size=80, alphabet="abc"),
    st.text(min_size=1, max_size=20).filter(
        lambda s: re.fullmatch(r"[A-Za-z0-9_.:\-]{1,64}", s) is None),
    st.sampled_from(["fl\u00001", "fl 1", "fl\n1", "fl-\u00e9", "\u202efl-1", "fl/1",
                     "fl-1\u0000", "\U0001f4a9", "fl\t1", "../../etc/passwd"]))
HUGE = st.sampled_from([10**30, -(10**30), 10**400, 1e308, -1e308, float("inf"),
                        float("-inf"), float("nan"), -0.0, 0, -1, 2**63, -(2**63),
                        "1e308", "1E+30", "-0", "-0.00", "0", "0.00", "NaN", "nan", "sNaN",
                        "Infinity", "-Infinity", "1e-308", "0.001", "1.005", "-5.00",
                        "99999999999999999999999999999", "1" * 40, "10000000000.00",
                        Decimal("1e308"), Decimal("NaN"), Decimal("-0"), "1,00", "$1.00",
                        "0x10", "1.00 USD", "", " "])


def wrong_values(field: str) -> st.SearchStrategy[Any]:
    """Values that can never be valid for the field."""
    if field in ID_FIELDS:
        return st.one_of(JUNK, NOT_AN_ID)
    if field in INT_FIELDS:
        return st.one_of(st.text(max_size=5), st.floats(), st.booleans(), st.lists(
            st.integers(), max_size=2), st.sampled_from([10**30, -1, 2**63, -(10**30)]))
    if field in BOOL_FIELDS:
        return st.one_of(st.integers(), st.text(max_size=5), st.floats(), st.lists(
            st.booleans(), max_size=2))
    if field in MONEY_FIELDS:
        return st.one_of(st.booleans(), st.lists(st.integers(), max_size=2), st.none(),
                         st.text(alphabet="abcxyz!", max_size=5),
                         st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))
    if field in CHOICE_FIELDS:
        return st.one_of(JUNK, st.text(max_size=30).filter(lambda s: s not in _LITERALS))
    if field == "at":
        return st.one_of(JUNK, st.text(max_size=41).filter(_not_a_date),
                         # (20301220 is ISO 8601's basic format: a valid date)
                         st.sampled_from(["2030-02-30", "2030-13-01", "yesterday",
                                          "2030-12-20T25:00:00Z", "x" * 41]))
    if field == "reason":  # free text of at most 500 characters or a choice (cancel_job)
        return st.one_of(JUNK, st.text(min_size=501, max_size=510))
    if field == "last4":
        return st.one_of(JUNK, st.sampled_from(["424", "42424", "abcd",
                                                "\uff14\uff12\uff14\uff12"]))
    if field == "token":  # letters, digits, _ and -, at most 128
        return st.one_of(JUNK, st.sampled_from(["", "a b", "x" * 300, "a@b@c", "tok\u0000"]))
    if field == "email":
        return st.one_of(JUNK, st.sampled_from(["", "a b", "x" * 300, "no-at-sign",
                                                "a@b@c", "tok\u0000"]))
    raise AssertionError(f"no wrong values for {field}")


_LITERALS = {"open_account", "freelancer", "member", "agency", "company", "enterprise",
             "card", "paypal", "visa", "mastercard", "american_express", "amex", "discover",
             "diners_club", "diners_club_international", "admin", "manager", "client",
             *MODEL_OF_TYPE}


def _not_a_date(text: str) -> bool:
    from ledger.commands import _to_instant

    try:
        _to_instant(text)
    except ValueError:
        return True
    return False


# --------------------------------------------------------------------------- the ledger


def stored_count(led: Ledger) -> int:
    return len(led.recorder.select_notifications(0, 10**6))


def stored_text(led: Ledger) -> str:
    return "\n".join(n.state.decode("utf-8", "replace")
                     for n in led.recorder.select_notifications(0, 10**6))


SETUP = [
    {"type": "open_account", "account_id": "fl-1", "kind": "freelancer", "at": "2030-12-15"},
    {"type": "open_account", "account_id": "fl-2", "kind": "freelancer", "at": "2030-12-15"},
    {"type": "open_account", "account_id": "fl-3", "kind": "freelancer", "at": "2030-12-15"},
    {"type": "open_account", "account_id": "fl-x", "kind": "freelancer", "at": "2030-12-15"},
    {"type": "open_account", "account_id": "mb-1", "kind": "member", "at": "2030-12-15"},
    {"type": "open_account", "account_id": "co-1", "kind": "company", "owner_id": "mb-1",
     "at": "2030-12-15"},
    {"type": "open_account", "account_id": "ag-1", "kind": "agency", "owner_id": "fl-1",
     "at": "2030-12-15"},
    {"type": "add_billing_method", "account_id": "fl-1", **CARD, "method_id": "m-1",
     "at": "2030-12-15"},
    {"type": "add_billing_method", "account_id": "ag-1", "actor": "fl-1", **CARD,
     "method_id": "m-1", "at": "2030-12-15"},
    {"type": "add_billing_method", "account_id": "co-1", "actor": "mb-1", **CARD,
     "method_id": "m-1", "at": "2030-12-15"},
]


def open_ledger(url: str = "memory:") -> Ledger:
    led = Ledger.open(url, clock=CLOCK)
    for command in SETUP:
        result = led.submit(command)
        assert result.ok, (command, result.error)
    return led


@pytest.fixture
def led() -> Iterator[Ledger]:
    """One memory ledger per test function (shared by its hypothesis examples)."""
    ledger = open_ledger()
    yield ledger
    text = stored_text(ledger)
    assert not card_numbers_in(text), "a card number reached the store"
    ledger.close()


def assert_clean_rejection(led: Ledger, raw: Any, codes: set[str] = CLEAN_CODES,
                           pan: str | None = None) -> Any:
    before = stored_count(led)
    result = led.submit(raw)  # never raises
    assert not result.ok, f"accepted: {str(raw)[:300]!r}"
    assert result.error is not None and result.error.code in codes, result.error
    assert result.events == []
    assert stored_count(led) == before, "a rejected command recorded something"
    wire = json.dumps(result.to_json())
    assert not card_numbers_in(wire), wire
    if pan is not None:
        assert pan not in wire and re.sub(r"[ \-]", "", pan) not in wire, wire
    assert len(wire) < 20_000, "the answer echoes the input"
    return result


# --------------------------------------------------------------------------- tests


@FUZZ
@given(data=st.data(), type_=st.sampled_from(TYPES))
def test_a_wrong_value_in_any_field_is_a_validation_error(led: Ledger, data: st.DataObject,
                                                          type_: str) -> None:
    command = base(type_, account_id="fl-1")
    field = data.draw(st.sampled_from(sorted(command)), label="field")
    command[field] = data.draw(wrong_values(field), label="value")
    assert_clean_rejection(led, command)


@FUZZ
@given(type_=st.sampled_from(TYPES), value=HUGE, field=st.sampled_from(
    ["amount", "quantity", "connects", "exp_month", "exp_year"]))
def test_huge_negative_zero_and_not_a_number_amounts_are_refused(
        led: Ledger, type_: str, value: Any, field: str) -> None:
    command = base(type_)
    if field not in command:
        command = base({"amount": "credit_earnings", "quantity": "purchase_connects",
                        "connects": "submit_proposal"}.get(field, "add_billing_method"))
    if field == "connects" and value == 0:
        return  # 0 is the cost of an invited proposal: valid
    command[field] = value
    assert_clean_rejection(led, command)
    assert_clean_rejection(led, json.dumps(command, default=str))


@FUZZ
@given(data=st.data(), type_=st.sampled_from(TYPES), pan=pans())
def test_a_card_number_in_any_string_field_is_refused_and_never_echoed(
        led: Ledger, data: st.DataObject, type_: str, pan: str) -> None:
    command = base(type_)
    strings = sorted(k for k, v in command.items() if isinstance(v, str))
    field = data.draw(st.sampled_from([*strings, "(unknown field name)",
                                       "(unknown field value)"]), label="field")
    if field == "(unknown field name)":
        command[pan] = "x"
    elif field == "(unknown field value)":
        command["note"] = pan
    else:
        command[field] = pan
    assert_clean_rejection(led, command, {"pan_not_allowed"}, pan)
    assert_clean_rejection(led, json.dumps(command), {"pan_not_allowed"}, pan)


def test_an_amount_is_a_plain_decimal_string(led: Ledger) -> None:
    # INTERFACE: "decimal strings with at most 2 places" ("14.99"); Python's Decimal
    # also reads digit-group underscores and non-ASCII digits, which no caller means
    accepted = []
    for amount in ["1_000", "\u0661\u0662", "\uff11\uff12", "1\u00a0000", "\u0967"]:
        result = led.submit({**base("credit_earnings", reference=None), "amount": amount})
        if result.ok:
            accepted.append(amount)
    assert not accepted, f"accepted as amounts: {accepted}"


@pytest.mark.parametrize("pan", KNOWN_PANS)
def test_known_test_card_numbers_are_refused_everywhere(led: Ledger, pan: str) -> None:
    for type_ in TYPES:
        command = base(type_)
        for field in [k for k, v in command.items() if isinstance(v, str)]:
            assert_clean_rejection(led, {**command, field: pan}, {"pan_not_allowed"}, pan)
    # As a JSON number it is no valid amount or quantity either, and is not echoed
    for field, type_ in (("amount", "credit_earnings"), ("quantity", "purchase_connects")):
        digits = int(re.sub(r"[^0-9]", "", pan))
        assert_clean_rejection(led, {**base(type_), field: digits}, pan=pan)


@FUZZ
@given(text=st.one_of(
    st.text(max_size=200).filter(lambda s: not _is_json(s)),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["", " ", "{", "}", "[1,2", "{'type': 'x'}", "{\"type\":}", "nul",
                     "\u0000", "\ufeff{}", "{\"a\":1,}", "NaN NaN", "<xml/>", "--",
                     "{\"type\": \"credit_earnings\"} trailing"])))
def test_a_line_that_is_not_json_is_a_validation_error(led: Ledger, text: str) -> None:
    assert_clean_rejection(led, text, {"validation_error"})  # INTERFACE: results
    assert_clean_rejection(led, text.encode("utf-8", "surrogatepass"), {"validation_error"})


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@FUZZ
@given(value=st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(
    max_size=10).map(json.dumps), st.lists(st.integers(), max_size=3)))
def test_json_that_is_not_an_object_is_a_validation_error(led: Ledger, value: Any) -> None:
    assert_clean_rejection(led, value, {"validation_error"})
    assert_clean_rejection(led, json.dumps(value), {"validation_error"})


@FUZZ
@given(type_=st.one_of(st.text(max_size=30).filter(lambda s: s not in MODEL_OF_TYPE),
                       JUNK, st.none()),
       extra=st.dictionaries(st.text(min_size=1, max_size=10).filter(
           lambda k: k not in ("type", "account_id")), st.integers(), max_size=3))
def test_unknown_types_are_validation_errors(led: Ledger, type_: Any,
                                             extra: dict[str, Any]) -> None:
    assert_clean_rejection(led, {"type": type_, "account_id": "fl-1", **extra})


@FUZZ
@given(type_=st.sampled_from(TYPES), name=st.text(min_size=1, max_size=30).filter(
    lambda k: k not in {"type", "command_id", "account_id", "actor", "at", "kind", "owner_id",
                        *(f for fields in OWN_FIELDS.values() for f in fields),
                        "email", "verified"}),
       value=st.one_of(st.integers(), st.text(max_size=10), st.booleans()))
def test_unknown_fields_are_validation_errors(led: Ledger, type_: str, name: str,
                                              value: Any) -> None:
    assert_clean_rejection(led, {**base(type_), name: value})


def nested(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


@pytest.mark.parametrize("depth", [3, 50, 1000])
@pytest.mark.parametrize("kind", ["list", "dict"])
def test_deep_nesting_is_a_validation_error(led: Ledger, depth: int, kind: str) -> None:
    deep = nested(depth, kind)
    for field in ("amount", "account_id", "note", "type"):
        assert_clean_rejection(led, {**base("credit_earnings"), field: deep})
    assert_clean_rejection(led, deep)
    assert_clean_rejection(led, "[" * 100_000 + "]" * 100_000)
    assert_clean_rejection(led, '{"a":' * 100_000 + "1" + "}" * 100_000)
    if depth < 1000:  # deeper than the interpreter's own limit for json.dumps
        assert_clean_rejection(led, json.dumps({**base("credit_earnings"), "amount": deep}))


TEN_MB = 10 * 1024 * 1024


@pytest.mark.slow
@pytest.mark.parametrize("filler", ["x", "1 ", "\u0000", "\u00e9"])
def test_ten_megabyte_strings_are_refused_cleanly(led: Ledger, filler: str) -> None:
    huge = filler * (TEN_MB // len(filler))
    for field in ("account_id", "reason", "token"):
        command = base("suspend_account" if field == "reason" else "add_billing_method")
        assert_clean_rejection(led, {**command, field: huge})
    assert_clean_rejection(led, json.dumps({**base("suspend_account"), "reason": huge}))


# --------------------------------------------------------------------------- the CLI


def hostile_lines() -> list[str]:
    pan = "4111 1111 1111 1111"
    return [
        "this is not json",
        "{\"type\": \"credit_earnings\"",
        json.dumps({**base("credit_earnings"), "account_id": pan}),
        json.dumps({**base("add_billing_method"), "token": "4111111111111111"}),
        json.dumps({**base("credit_earnings"), "note": "card 5555-5555-5555-4444"}),
        json.dumps({**base("credit_earnings"), "amount": "1e308"}),
        json.dumps({**base("credit_earnings"), "amount": "-0"}),
        json.dumps({**base("purchase_connects"), "quantity": 10**30}),
        json.dumps({**base("credit_earnings"), "account_id": "fl\u00001"}),
        json.dumps({**base("credit_earnings"), "amount": nested(500, "dict")}),
        "[" * 5000 + "]" * 5000,
        json.dumps({"type": "no_such_command", "account_id": "fl-1"}),
        json.dumps(42),
        "x" * 2_000_000,
    ]


@pytest.fixture
def shared_store() -> Iterator[tuple[str, Ledger]]:
    """A named memory store the CLI opens too; our Ledger keeps it alive and counts."""
    url = f"memory:fuzz-{uuid4().hex}"
    ledger = open_ledger(url)
    yield url, ledger
    ledger.close()


def run_cli(url: str, path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli_main(["--store", url, "--clock", CLOCK, "submit", str(path)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_submit_of_hostile_lines_rejects_each_and_records_nothing(
        shared_store: tuple[str, Ledger], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    url, led = shared_store
    before = stored_count(led)
    lines = hostile_lines()
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run_cli(url, path, capsys)
    assert code == 1, err
    results = [json.loads(x) for x in out.splitlines()]
    assert len(results) == len(lines)
    for line, result in zip(lines, results, strict=True):
        assert result["ok"] is False, line[:200]
        assert result["error"]["code"] in CLEAN_CODES, (line[:200], result)
    assert not card_numbers_in(out) and not card_numbers_in(err)
    assert stored_count(led) == before
    assert not card_numbers_in(stored_text(led))


@pytest.mark.parametrize("text", [
    "[" + ",".join(json.dumps(x) for x in [
        {**base("credit_earnings"), "account_id": "4111111111111111"}, "not an object", 7,
        {**base("credit_earnings"), "amount": -1}]) + "]",
    "[" + json.dumps({**base("credit_earnings"), "amount": 1e30}) + "]",
    "[" + json.dumps({**base("purchase_connects"), "quantity": 0}).replace(
        '"quantity": 0', '"quantity": ' + "7" * 4400) + "]",
    "[" + json.dumps({**base("credit_earnings"), "amount": 0}).replace(
        '"amount": 0', '"amount": ' + "[" * 2000 + "1" + "]" * 2000) + "]",
    "[{\"type\": \"credit_earnings\", \"account_id\": \"4111 1111 1111 1111\"",
], ids=["mixed", "amount-1e30", "int-4400-digits", "nested-2000", "truncated-with-pan"])
def test_cli_submit_of_a_hostile_json_array_answers_per_item_or_refuses_the_file(
        shared_store: tuple[str, Ledger], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        text: str) -> None:
    url, led = shared_store
    before = stored_count(led)
    path = tmp_path / "hostile.json"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli(url, path, capsys)
    if code == 1:  # one result per item, each a clean rejection
        for result in map(json.loads, out.splitlines()):
            assert result["ok"] is False and result["error"]["code"] in CLEAN_CODES, result
    else:  # INTERFACE: exit 2, one line on stderr saying which input is unusable
        assert code == 2, (code, out, err)
        assert out == "" and len(err.strip().splitlines()) == 1, err
        assert "internal error" not in err, err
        assert str(path) in err or "stdin" in err, err
    assert not card_numbers_in(out) and not card_numbers_in(err)
    assert stored_count(led) == before


# ---------------------------------------------------------------------------


def _on(type_: str, account_id: str, actor: str) -> dict[str, Any]:
    command = base(type_, account_id=account_id)
    command["actor"] = actor
    if type_ == "open_account":  # a new agency for fl-1, opened by someone else
        command["account_id"] = "ag-new"
    if type_ == "leave_team":
        command["team_id"] = "co-1" if account_id == "ag-1" else "ag-1"
    return command


# the marketplace's own operations; every other command is an account action.
MARKETPLACE_OPERATIONS = frozenset({
    "suspend_account", "reinstate_account", "suspend_billing_method",
    "reinstate_billing_method", "record_pending_earnings", "release_earnings",
    "credit_earnings", "record_invoice", "cancel_job", "grant_connects", "refund_charge"})
ACCOUNT_ACTIONS = [t for t in TYPES if t not in MARKETPLACE_OPERATIONS]
OWNER_OF = {"ag-1": "fl-1", "co-1": "mb-1"}


@pytest.mark.parametrize("account_id", ["ag-1", "co-1", "fl-1", "mb-1"])
@pytest.mark.parametrize("type_", ACCOUNT_ACTIONS)
def test_an_unrelated_actor_is_not_authorized_for_any_account_action(
        led: Ledger, type_: str, account_id: str) -> None:
    # fl-x is a freelancer on no team: it may act on no one's account but its own
    assert_clean_rejection(led, _on(type_, account_id, "fl-x"), {"not_authorized"})
    # nor through an id that names no account at all
    assert_clean_rejection(led, _on(type_, account_id, "nobody"), {"not_authorized"})


@pytest.mark.parametrize("account_id", ["ag-1", "co-1", "fl-1", "mb-1"])
@pytest.mark.parametrize("type_", sorted(MARKETPLACE_OPERATIONS & set(TYPES)))
def test_a_marketplace_operation_records_its_actor_without_checking_it(
        led: Ledger, type_: str, account_id: str) -> None:
    result = led.submit(_on(type_, account_id, "nobody"))
    assert result.error is None or result.error.code != "not_authorized", result.error


# read with team roles nested (an admin may do all a manager may, a manager all a
# member may): anything else is the owner's alone.
ROLE_MAY = {
    "member": {"submit_proposal", "withdraw_proposal"},
    "manager": {"submit_proposal", "withdraw_proposal", "post_job", "close_job",
                "open_contract", "close_contract"},
    "admin": {"submit_proposal", "withdraw_proposal", "post_job", "close_job",
              "open_contract", "close_contract", "purchase_connects", "add_team_member",
              "remove_team_member"},
}


def test_team_roles_may_do_what_r_1_2_lists_and_nothing_else() -> None:
    deviations = []
    for team in ("ag-1", "co-1"):
        for role in ("member", "manager", "admin"):
            led = open_ledger()
            try:
                assert led.submit({"type": "add_team_member", "account_id": team,
                                   "actor": OWNER_OF[team], "member_id": "fl-2",
                                   "role": role, "at": "2030-12-16"}).ok
                for type_ in TYPES:
                    if type_ in ("open_account", "leave_team") or (
                            type_ in MARKETPLACE_OPERATIONS):
                        continue  # not an action on the team account by one of its people
                    before = stored_count(led)
                    result = led.submit(_on(type_, team, "fl-2"))
                    error = result.error
                    denied = error is not None and error.code == "not_authorized"
                    if type_ in ROLE_MAY[role] and denied and (
                            error is not None and error.rule == "R-1.2"):
                        deviations.append(f"{role} of {team} refused {type_}")
                    elif type_ not in ROLE_MAY[role] and not denied:
                        deviations.append(f"{role} of {team} let do {type_} "
                                          f"({error.code if error else 'accepted'})")
                    if denied:
                        assert stored_count(led) == before
            finally:
                led.close()
    assert not deviations, "R-1.2 deviations:\n" + "\n".join(deviations)
