"""How the `ledger` command prints views, histories and billing reports, for people
(readable in 100 columns) and for programs (JSON). Secrets never reach either (R-8.9):
gateway tokens are dropped, text echoed from input is escaped."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime
from typing import Any

from ledger.cli_support import emit
from ledger.results import AccountView, to_jsonable

WIDTH = 100
# Fields that hold secrets meant for the gateway alone, at any depth of the data.
SECRET_FIELDS = frozenset({"token", "secret", "password", "api_key"})
# Shown on a history entry's own "by" line, not among its data.
WHO_FIELDS = ("principal", "actor", "reason", "command_reason")


def without_secrets(value: Any) -> Any:
    """The value with every secret field left out, however deep."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if k not in SECRET_FIELDS}
    if isinstance(value, list | tuple):
        return [without_secrets(v) for v in value]
    return value


def shown(value: Any) -> str:
    """Text for a terminal: control characters and escapes as Python would write them."""
    from ledger.redaction import escape_text

    return escape_text(str(value))


def print_view(view: AccountView, as_json: bool) -> None:
    data = view.to_json()
    if as_json:
        emit(json.dumps(data))
        return
    known = f", known at {data['known_at']}" if data["known_at"] else ""
    emit(f"{data['account_id']} ({data['kind']}, {data['status']})  version {data['version']}"
         f"  as of {data['as_of']}{known}")
    if data["plan"] is not None:
        pending = "  (downgrade to basic pending)" if data["downgrade_pending"] else ""
        emit(f"  plan           {data['plan']}{pending}  policy {data['policy_version']}")
        if data["next_billing_date"] is not None:
            emit(f"  billing day    {data['billing_day']}  cycle from {data['cycle_start']}"
                 f"  next billing {data['next_billing_date']}")
        else:
            emit(f"  billing        none ahead (account {data['status']})")
        emit(f"  connects       {data['connects']}  ({data['connects_expiring_30d']} expiring "
             "within 30 days)")
    earnings = data["earnings"]
    emit(f"  earnings       pending {earnings['pending']}  available {earnings['available']}")
    for m in data["billing_methods"]:
        flags = ", ".join(f for f, on in (("primary", m["primary"]),
                                          ("suspended", m["suspended"])) if on)
        emit(f"  method         {m['method_id']}: {method_label(m)}"
             + (f" ({flags})" if flags else ""))
    if "billing_due" in data:
        emit(f"  billing due    {data['billing_due']} is not recorded yet (run-billing)")


def method_label(method: dict[str, Any]) -> str:
    """"visa ****4242" for a card, "paypal" for PayPal."""
    if method.get("method") == "card":
        return f"{method.get('brand')} ****{method.get('last4')}"
    return "paypal"


def print_history(events: list[dict[str, Any]], as_json: bool) -> None:
    for e in events:
        if as_json:
            emit(json.dumps(to_jsonable(without_secrets(e))))
        else:
            for line in history_lines(e):
                emit(line)


def history_lines(e: dict[str, Any]) -> list[str]:
    """One event in at most 100 columns: version, effective and recorded time, name; who
    sent it and why (R-8.6); then its data, wrapped."""
    lines = [f"{e['version']:>6}  {_minute(e['at'])}  recorded {_minute(e['recorded_at'])}"
             f"  {e['name']}"]
    who = _who(e)
    if who:
        lines += textwrap.wrap(who, WIDTH, initial_indent=" " * 8, subsequent_indent=" " * 10)
    data = without_secrets(e["data"])
    # An event's own `reason` (why a payment failed, why a plan went down) is data; it
    # is left out only where the "by" line already shows the same text.
    why = e.get("reason") or (e.get("data") or {}).get("command_reason")
    fields = ", ".join(f"{k}={shown(_compact(to_jsonable(v)))}" for k, v in data.items()
                       if v is not None and (k not in ("command_id", *WHO_FIELDS)
                                             or (k == "reason" and v != why)))
    if fields:
        lines += textwrap.wrap(fields, WIDTH, initial_indent=" " * 8,
                               subsequent_indent=" " * 10, break_on_hyphens=False)
    return lines


def _who(e: dict[str, Any]) -> str:
    data = e.get("data") or {}
    principal = e.get("principal") or data.get("principal")
    actor = e.get("actor") or data.get("actor")
    reason = e.get("reason") or data.get("command_reason")
    if not (principal or actor or reason):
        return ""  # a scheduled fact: time, not a person, caused it
    text = f"by {shown(principal or '?')}"
    if actor:
        text += f" as {shown(actor)}"
    if reason:
        text += f": {shown(reason)}"
    return text


def _minute(moment: datetime) -> str:
    """Seconds only where they are not :00 (scheduled facts are at 00:00)."""
    return moment.strftime("%Y-%m-%d %H:%M" if moment.second == 0 else "%Y-%m-%d %H:%M:%S")


def _compact(value: Any) -> Any:
    return json.dumps(value, separators=(",", ":")) if isinstance(value, dict | list) else value


def print_billing_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit(json.dumps(report))
        return
    emit(f"billed through {report['through']}: {report['accounts']} accounts, "
         f"{report['events']} events")
    for name, n in report["by_event"].items():
        emit(f"  {name:<22} {n}")
    declined = report.get("payment_failed", [])
    if declined:
        shown_ids = ", ".join(declined[:20]) + (f" and {len(declined) - 20} more"
                                                if len(declined) > 20 else "")
        for line in textwrap.wrap(f"payment failed ({len(declined)}, downgraded to basic): "
                                  f"{shown_ids}", WIDTH, subsequent_indent="  "):
            emit(line)
    if "captures" in report:
        emit(f"captures {report['captures']}  failed payments {report['payment_failures']}"
             f"  accounts left {report['accounts_left']}")
    for left in report.get("failed", []):  # never skipped silently
        emit(f"not billed: {left['account_id']} ({left['reason']}); the next run bills it")
