"""Generate docs/commands.md from the code: `python -m ledger.docs_gen` (or `--check`).

Each command's fields and types come from its pydantic model (ledger/commands.py); the
events it may record and its own error codes are read from its handler's source and the
helpers it calls (ledger/handlers/, payments, connects, pricing). tests/docs checks that
the file in the repository equals what this prints, so a new command or field fails the
suite until the file is generated again.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

from pydantic.fields import FieldInfo

from ledger import commands
from ledger.errors import RULE_OF_CODE, a_kind

OUT = Path(__file__).resolve().parents[1] / "docs" / "commands.md"
# Where decisions are made: the handlers and the pure modules they call.
DECISION_MODULES = ("ledger.handlers", "ledger.payments", "ledger.connects", "ledger.pricing",
                    "ledger.settlement", "ledger.gateway")
# Exceptions that carry their code themselves.
DECLINES = {"PaymentDeclined": "payment_failed", "RefundDeclined": "refund_failed"}
COMMON_FIELDS = ("type", "command_id", "account_id", "actor", "at", "reason")
# the checks every command goes through before its own rules, in order.
SHARED_CHECKS = [
    ("validation_error", "a field is missing, unknown, of the wrong type or out of range; "
                         "an unknown `type`"),
    ("pan_not_allowed", "a full card number anywhere in the command"),
    ("idempotency_conflict", "the `command_id` was used before for other content"),
    ("unknown_account", "the account does not exist (every command but `open_account`)"),
    ("account_closed", "the account is closed"),
    ("not_authorized", "the actor may not do this on this account (R-1.2, R-1.5)"),
    ("backdated", "`at` is before the account's latest recorded effective time"),
    ("future_dated", "`at` is after the ledger's clock"),
    ("no_policy_in_force", "`at` is before the first policy version"),
    ("write_conflict", "concurrent writers kept changing the account: send it again"),
]


def _decision_modules() -> Iterator[ModuleType]:
    for name in DECISION_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue  # a module not written yet
        yield module
        path = getattr(module, "__path__", None)
        if path:
            for child in sorted(Path(path[0]).glob("*.py")):
                if child.stem != "__init__":
                    yield importlib.import_module(f"{name}.{child.stem}")


def _functions() -> dict[str, list[ast.FunctionDef]]:
    """Every function of the decision modules by bare name (collisions: all of them)."""
    found: dict[str, list[ast.FunctionDef]] = {}
    for module in _decision_modules():
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                found.setdefault(node.name, []).append(node)
    return found


def _reach(start: ast.FunctionDef, functions: dict[str, list[ast.FunctionDef]],
           ) -> tuple[set[str], set[str]]:
    """(error codes, event names) in `start` and every decision function it calls."""
    codes: set[str] = set()
    events: set[str] = set()
    seen: set[int] = set()
    todo = [start]
    while todo:
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        for node in ast.walk(fn):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    node.value in RULE_OF_CODE):
                codes.add(node.value)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (
                    node.value.id == "Account") and node.attr[:1].isupper() and (
                    node.attr != "Event"):
                events.add(node.attr)
            elif isinstance(node, ast.Name) and node.id in DECLINES:
                codes.add(DECLINES[node.id])
            elif isinstance(node, ast.Call):
                name = (node.func.id if isinstance(node.func, ast.Name) else
                        node.func.attr if isinstance(node.func, ast.Attribute) else None)
                todo += functions.get(name or "", [])
    return codes, events


def _handler_names() -> dict[str, str]:
    """Command type -> the name of the function that decides it."""
    from ledger.handlers import HANDLERS

    names = {"open_account": "open_account"}
    for key, fn in HANDLERS.items():
        kind = key if isinstance(key, str) else _type_of(key)
        names[kind] = fn.__name__
    return names


def _type_of(model: Any) -> str:
    kind: str = get_args(model.model_fields["type"].annotation)[0]
    return kind


def _describe(model: type[commands.Command], name: str, info: FieldInfo) -> str:
    """A field's type in words, from the model's JSON schema (and its Python type for
    money, which the schema shows as number or string)."""
    prop = model.model_json_schema()["properties"][name]
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    schema = options[0] if len(options) == 1 else prop
    if "Decimal" in repr(info.annotation):
        return "money: a decimal string, at most 2 places, positive (`\"14.99\"`)"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{c}`" for c in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    fmt = schema.get("format")
    if fmt == "date-time":
        return "ISO 8601 date or datetime (a bare date is 00:00 UTC)"
    if fmt == "date":
        return "ISO 8601 date (`YYYY-MM-DD`)"
    kind = schema.get("type")
    if kind == "boolean":
        return "boolean"
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1
                         if "exclusiveMinimum" in schema else None)
        high = schema.get("maximum")
        return f"integer {low} to {high}" if low is not None and high else "integer"
    pattern = schema.get("pattern")
    if pattern == commands.ID_PATTERN:
        return "id"
    if pattern:
        return f"string matching `{pattern}`"
    if "maxLength" in schema:
        return f"text, at most {schema['maxLength']} characters"
    return "string"


def _field_rows(model: type[commands.Command]) -> list[str]:
    rows = []
    for name, info in model.model_fields.items():
        if name == "type" or (name in COMMON_FIELDS and name not in model.__annotations__):
            continue
        need = "required" if info.is_required() else (
            f"default `{str(info.default).lower()}`" if info.default not in (None, "")
            else "optional")
        rows.append(f"| `{name}` | {_describe(model, name, info)} | {need} |")
    return rows


def _kind(command_type: str) -> str:
    kinds: dict[str, str] = getattr(commands, "COMMAND_KINDS", {})
    return kinds.get(command_type, "account_action").replace("_", " ")


def render() -> str:
    functions = _functions()
    handlers = _handler_names()
    out = [
        "# Commands",
        "",
        "<!-- Generated by `python -m ledger.docs_gen` from ledger/commands.py and the",
        "     handlers; do not edit by hand (tests/docs/test_commands_doc.py). -->",
        "",
        "A command is one JSON object. Every command takes these common fields:",
        "",
        "| field | type | |",
        "|---|---|---|",
    ]
    base = commands.Command.model_fields
    for name in COMMON_FIELDS:
        if name in base:
            info = base[name]
            kind = ("one of the types below" if name == "type"
                    else _describe(commands.CloseAccount, name, info))
            out.append(f"| `{name}` | {kind} | "
                       f"{'required' if info.is_required() else 'optional'} |")
    out += [
        "",
        "An id is 1 to 64 of `A-Z a-z 0-9 _ - . :`. `command_id` makes a command "
        "idempotent (R-8.3); `actor` is the person acting (R-1.2, R-1.5); `at` is the "
        "effective time, the clock's now when absent (R-8.2); `reason`, where a command "
        "takes it, is free text recorded with it (R-8.6), except on `cancel_job`, where "
        "it keeps its meaning: the kind of cancellation (`cancelled_without_hire` or "
        "`removed_by_marketplace`), never free text.",
        "Unknown fields are refused. Before its own rules, every command goes through "
        "these checks, in this order (R-8.5); the first that fails is the answer:",
        "",
        "| code | when |",
        "|---|---|",
        *[f"| `{code}` | {when} |" for code, when in SHARED_CHECKS],
        "",
        "`account_suspended` (R-1.3) is given by the commands that list it below. Any "
        "command dated on or after a due billing date or lot expiry first records those "
        "scheduled facts (R-8.2): `CycleRenewed`, `MembershipCharged`, `PaymentFailed`, "
        "`PlanDowngraded`, `ConnectsExpired`, `ConnectsRefilled`.",
        "",
    ]
    from ledger.handlers import BLOCKED_WHEN_SUSPENDED

    for model in sorted(commands.COMMAND_MODELS, key=_type_of):
        kind = _type_of(model)
        doc = inspect.getdoc(model)
        own = doc if doc and model.__doc__ and "Command" not in doc.split()[0] else ""
        fn = functions.get(handlers.get(kind, ""), [])
        codes: set[str] = set()
        events: set[str] = set()
        for f in fn:
            found = _reach(f, functions)
            codes |= found[0]
            events |= found[1]
        if kind in BLOCKED_WHEN_SUSPENDED:
            codes.add("account_suspended")
        if kind == "open_account":
            codes.add("account_exists")
        codes -= {c for c, _ in SHARED_CHECKS}
        what = _kind(kind)
        lead = f"{a_kind(what).capitalize()} (R-1.4)." + (f" {own}" if own else "")
        out += [f"## `{kind}`", "", lead, ""]
        rows = _field_rows(model)
        if rows:
            out += ["| field | type | |", "|---|---|---|", *rows, ""]
        else:
            out += ["No fields besides the common ones.", ""]
        out.append("Events: " + (", ".join(f"`{e}`" for e in sorted(events)) or "none") + ".")
        out.append("")
        out.append("Its own error codes: " + (", ".join(
            f"`{c}` ({RULE_OF_CODE[c]})" for c in sorted(codes)) or "none") + ".")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args == ["--check"]:
        if not OUT.is_file() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT}: out of date; run python -m ledger.docs_gen", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
