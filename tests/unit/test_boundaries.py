"""The write and read sides meet only through public names (issue 15).

`ledger/application.py` is the one place that wires things: it hands the billing run
and the preview a session (ledger/ports.py), and every other module uses what it is
given through public methods. These tests read the source (AST), so a new
`app._load(...)` or `views._cursor(...)` anywhere in the packages fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "projections", "replay_tools", "service", "webhooks", "benchmarks")
WIRING = Path("ledger/application.py")  # may use the Ledger's own internals

# Underscore names that are another library's public way in, by what they are called on.
ALLOWED = {
    ("os", "_exit"),  # the standard library's exit without cleanup (a closed pipe)
}
# eventsourcing's documented way for an aggregate class to create its first event.
ALLOWED_ON_CLASSES = {"_create"}


def _modules() -> list[Path]:
    return sorted(p.relative_to(ROOT) for package in PACKAGES
                  for p in (ROOT / package).rglob("*.py"))


def _is_own(node: ast.expr) -> bool:
    """`self`, `cls` or `super()`: an object reaching into itself."""
    if isinstance(node, ast.Name):
        return node.id in ("self", "cls")
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "super")


def private_reaches(source: str) -> list[tuple[int, str]]:
    """(line, expression) of every `x._name` where x is not the object itself."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
            continue
        owner = node.value
        if _is_own(owner):
            continue
        if isinstance(owner, ast.Name) and (owner.id, name) in ALLOWED:
            continue
        if (isinstance(owner, ast.Name) and owner.id[:1].isupper()
                and name in ALLOWED_ON_CLASSES):
            continue
        found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_scanner_finds_what_it_is_meant_to_find() -> None:
    source = ("app._load_uuid(uid)\nviews._cursor(commit=False)\napp.views._cursor(True)\n"
              "self._lock\nsuper()._record(e)\nos._exit(1)\nAccount._create(x)\n"
              "acct._create(x)\nx.__class__\n")
    assert [expr for _, expr in private_reaches(source)] == [
        "app._load_uuid", "views._cursor", "app.views._cursor", "acct._create"]


def test_no_module_reaches_into_another_objects_underscore_names() -> None:
    reaches = [f"{module}:{line}: {expr}" for module in _modules() if module != WIRING
               for line, expr in private_reaches((ROOT / module).read_text(encoding="utf-8"))]
    assert not reaches, (
        "private names of another object used (give it a public method, or have "
        "ledger/application.py hand a port):\n" + "\n".join(reaches))


def test_the_view_recorder_offers_public_transactions_and_no_cursor() -> None:
    import ledger  # noqa: F401  (the views' module imports the ledger's state first)
    from projections.views import ViewRecorderMixin

    assert callable(ViewRecorderMixin.read_transaction)
    assert callable(ViewRecorderMixin.write_transaction)
    assert not hasattr(ViewRecorderMixin, "_cursor")


@pytest.mark.parametrize("module", ["ledger/billing_run.py", "ledger/preview.py",
                                    "ledger/bulk_load.py"])
def test_the_billing_run_and_the_preview_never_see_the_ledger(module: str) -> None:
    """They are handed a session (ledger/ports.py); not even a type hint names Ledger."""
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "ledger.application" not in imported
    assert "Ledger" not in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
