"""The audit is a second opinion: it imports none of the ledger's decision code, and an
audit with the ledger's formulas and event fold sabotaged still runs clean (so it never
calls them, even through a module it is allowed to import)."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import replay_tools
from ledger import Ledger

# What the audit may import from ledger/ and projections/, and why (README "Auditing").
ALLOWED = {
    "ledger": "the package itself: `from ledger import Ledger` opens the store",
    "ledger.application": "opens the store: its recorder, mapper, views and catalog",
    "ledger.policy": "the catalog's data model: the figures are data, read not derived",
    "ledger.errors": "error types the command line reports",
    "ledger.clock": "parsing instants given on the command line",
    "ledger.progress": "the progress bar",
    "ledger.stores": "store URLs and their errors",
    "ledger.store_errors": "describing a store failure without secrets",
    "ledger.results": "the AccountView output model `balance` prints",
    "ledger.cli_output": "printing a view as `ledger show` does",
    "ledger.cli_support": "the command-line behaviour both tools share (usage, pipes)",
    "ledger.redaction": "escaping text from input before it is printed (R-8.9)",
    "projections.codec": "decoding the views' JSON rows the audit compares",
    "projections.views": "reading the views' tables (rows, history, checkpoints)",
}
DECISION_CODE = ("ledger.account", "ledger.state", "ledger.cycles", "ledger.connects",
                 "ledger.payments", "ledger.schedule", "ledger.handlers", "ledger.deciding",
                 "ledger.integrity", "ledger.commands", "ledger.billing_run",
                 "ledger.idempotency", "projections.projector", "projections.render")


# Tools of the auditor's command line that are not the audit: they use the ledger on
# purpose (what-if decides commands again under another catalog; reconcile reads the
# gateway's journal and voids orphans through the gateway port).
NOT_THE_AUDIT = frozenset({"what_if.py", "reconcile.py", "cli_money.py"})


def audit_modules() -> Iterator[Path]:
    yield from sorted(p for p in Path(replay_tools.__file__).parent.rglob("*.py")
                      if p.name not in NOT_THE_AUDIT)


def imported(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:  # `from ledger import cycles` imports ledger.cycles
                yield node.lineno, f"{node.module}.{alias.name}"


def test_the_audit_imports_no_decision_code_of_the_ledger() -> None:
    refused = []
    for path in audit_modules():
        for line, name in imported(path):
            ours = name.split(".")[0] in ("ledger", "projections")
            if not ours:
                continue
            if any(name == d or name.startswith(d + ".") for d in DECISION_CODE) or (
                    name not in ALLOWED and name.rpartition(".")[0] not in ALLOWED):
                refused.append(f"{path.name}:{line} imports {name}")
    assert refused == []


def test_the_import_walk_would_see_a_forbidden_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from ledger import cycles\nimport ledger.connects\n")
    names = {n for _, n in imported(sneaky)}
    assert {"ledger.cycles", "ledger.connects"} <= names


def _sabotaged(*_: Any, **__: Any) -> Any:
    raise AssertionError("the audit called the ledger's decision code")


def test_an_audit_with_the_ledgers_formulas_and_fold_sabotaged_is_still_clean(
        url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger import connects, cycles, payments, schedule
    from ledger.account import Account
    from ledger.handlers import closing
    from replay_tools.audit import run_audit

    ledger = Ledger.open(url, clock="2031-01-01T00:00:00Z")
    try:
        for module in (cycles, connects, payments, schedule, closing):
            for name, value in vars(module).items():
                if inspect.isfunction(value) and value.__module__ == module.__name__:
                    monkeypatch.setattr(module, name, _sabotaged)
        for value in vars(Account).values():
            if inspect.isclass(value) and issubclass(value, Account.Event):
                for method in ("on_view", "on_domain", "apply"):
                    if method in vars(value):
                        monkeypatch.setattr(value, method, _sabotaged)
        monkeypatch.setattr(Account.Event, "on_view", _sabotaged)
        monkeypatch.setattr(Account.Event, "on_domain", _sabotaged)
        report = run_audit(ledger)
    finally:
        monkeypatch.undo()
        ledger.close()
    assert report.summary["account_events"] > 50
    assert [f.line() for f in report.findings.items] == []
