"""Steps shared by the rule tests: submit, expect acceptance or a refusal that
records nothing (R-8.4), and open the usual accounts."""

from __future__ import annotations

from typing import Any

from ledger import Ledger


def submit(ledger: Ledger, type_: str, account_id: str, at: str | None = None,
           **fields: Any) -> Any:
    command: dict[str, Any] = {"type": type_, "account_id": account_id, **fields}
    if at is not None:
        command["at"] = at
    return ledger.submit(command)


def accept(ledger: Ledger, type_: str, account_id: str, at: str | None = None,
           **fields: Any) -> Any:
    result = submit(ledger, type_, account_id, at, **fields)
    assert result.ok, f"{type_} on {account_id} at {at} was refused: {result.error}"
    return result


def refuse(ledger: Ledger, code: str, type_: str, account_id: str, at: str | None = None,
           **fields: Any) -> Any:
    """Submit, expect the error `code`, and check the command recorded nothing (R-8.4)."""
    before = ledger.account(account_id).version
    result = submit(ledger, type_, account_id, at, **fields)
    assert not result.ok, f"{type_} on {account_id} at {at} was accepted, expected {code}"
    assert result.error.code == code, (result.error.code, result.error.message)
    assert ledger.account(account_id).version == before
    return result


def open_account(ledger: Ledger, account_id: str, kind: str, at: str,
                 owner_id: str | None = None) -> Any:
    fields: dict[str, Any] = {"kind": kind}
    if owner_id is not None:
        fields["owner_id"] = owner_id
    return accept(ledger, "open_account", account_id, at, **fields)


def add_card(ledger: Ledger, account_id: str, at: str, method_id: str = "m-1",
             token: str = "tok_ok_1", actor: str | None = None) -> Any:
    """Add a Visa card; `actor` names the person acting on an agency or company (R-1.5)."""
    fields: dict[str, Any] = {} if actor is None else {"actor": actor}
    return accept(ledger, "add_billing_method", account_id, at, method_id=method_id,
                  method="card", brand="visa", last4="4242", exp_month=12, exp_year=2030,
                  token=token, prepaid=False, **fields)


def submit_ok(ledger: Ledger, cmd: dict[str, Any]) -> Any:
    result = ledger.submit(cmd)
    assert result.ok, result.model_dump(mode="json")
    return result


def assert_rejected(ledger: Ledger, cmd: dict[str, Any], code: str,
                    rule: str | None = None) -> Any:
    """The command is refused with `code` and records nothing (R-8.4)."""
    account_id = cmd["account_id"]
    before = len(ledger.history(account_id))
    version = ledger.account(account_id).version
    result = ledger.submit(cmd)
    assert not result.ok
    assert result.error is not None
    assert result.error.code == code, result.model_dump(mode="json")
    if rule is not None:
        assert result.error.rule == rule
    assert result.events == []
    assert len(ledger.history(account_id)) == before
    assert ledger.account(account_id).version == version
    return result
