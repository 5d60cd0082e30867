"""How the `ledger` command prints views and histories, for people and for programs."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ledger.results import AccountView


def to_jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def print_view(view: AccountView, as_json: bool) -> None:
    data = view.to_json()
    if as_json:
        print(json.dumps(data))
        return
    print(f"{data['account_id']} ({data['kind']}, {data['status']})  version {data['version']}"
          f"  as of {data['as_of']}" + (f", known at {data['known_at']}" if data["known_at"]
                                         else ""))
    if data["plan"] is not None:
        pending = "  (downgrade to basic pending)" if data["downgrade_pending"] else ""
        print(f"  plan           {data['plan']}{pending}  policy {data['policy_version']}")
        print(f"  billing day    {data['billing_day']}  cycle from {data['cycle_start']}"
              f"  next billing {data['next_billing_date']}")
        print(f"  connects       {data['connects']}  ({data['connects_expiring_30d']} expiring "
              "within 30 days)")
    earnings = data["earnings"]
    print(f"  earnings       pending {earnings['pending']}  available {earnings['available']}")
    for m in data["billing_methods"]:
        flags = ", ".join(f for f, on in (("primary", m["primary"]),
                                          ("suspended", m["suspended"])) if on)
        label = f"{m['brand']} ****{m['last4']}" if m["method"] == "card" else "paypal"
        print(f"  method         {m['method_id']}: {label}" + (f" ({flags})" if flags else ""))
    if "billing_due" in data:
        print(f"  billing due    {data['billing_due']} is not recorded yet (run-billing)")


def print_history(events: list[dict[str, Any]], as_json: bool) -> None:
    for e in events:
        if as_json:
            print(json.dumps(to_jsonable(e)))
        else:
            data = ", ".join(f"{k}={to_jsonable(v)}" for k, v in e["data"].items()
                             if v is not None and k != "command_id")
            print(f"{e['version']:>6}  {e['at'].date()}  {e['name']:<22} {data}")
