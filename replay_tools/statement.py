"""`ledger-replay statement`: every movement of Connects and money of one account, with
the event that caused it, the rule applied, and running balances."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger.redaction import escape_text
from replay_tools.history import account_events
from replay_tools.reference import RefState as AccountState
from replay_tools.stream import fold

if TYPE_CHECKING:
    from ledger.application import Ledger

EXPIRY_RULES = {"forfeited": "R-7.5"}
COLUMNS = ("version", "at", "event", "rule", "connects", "connects_balance", "pending",
           "pending_balance", "available", "available_balance", "charged", "paid_by", "detail",
           "charge_id", "principal", "actor", "reason", "recorded_at")
# Shown even when no balance moves: the answer to "why was I charged (twice)?"
ALWAYS_SHOWN = ("PaymentFailed", "RefundFailed", "ChargeRefunded", "ConnectsRevoked")


@dataclass
class Movement:
    version: int
    at: datetime
    event: str
    rule: str
    connects: int
    connects_balance: int
    pending: Decimal
    pending_balance: Decimal
    available: Decimal
    available_balance: Decimal
    charged: Decimal | None
    paid_by: str | None
    detail: str
    charge_id: str | None = None
    principal: str | None = None
    actor: str | None = None
    reason: str | None = None
    recorded_at: datetime | None = None


def rule_of(event: Any) -> str:
    name = type(event).__name__
    purpose = getattr(event, "purpose", "")
    rules = {
        "ConnectsRefilled": "R-4.4/R-5.2",
        "ConnectsGranted": {"proration": "R-5.3", "goodwill": "R-9.1"}.get(
            getattr(event, "source", ""), "R-5.1"),
        "ChargeRefunded": "R-9.2",
        "ConnectsRevoked": "R-9.2",
        "RefundFailed": "R-9.2",
        "PaymentFailed": "R-4.5" if purpose == "renewal" else "R-3.3",
        "ConnectsPurchased": "R-5.4",
        "ConnectsSpent": "R-5.1",
        "ConnectsRefunded": "R-5.5",
        "ConnectsExpired": EXPIRY_RULES.get(getattr(event, "reason", ""), "R-5.2"),
        "MembershipCharged": "R-4.5" if purpose == "renewal" else "R-4.2",
    }
    return rules.get(name, "R-6.1" if name.startswith("Earnings") else "")


def detail_of(event: Any) -> str:
    name = type(event).__name__
    d = vars(event)
    if name == "ConnectsRefilled":
        return f"{d['plan']} monthly Connects under {d['policy_version']}"
    if name == "ConnectsGranted" and d["source"] == "goodwill":
        return f"goodwill grant, expires {d['expires_on'] or 'never'}"
    if name == "ConnectsGranted":
        return f"{d['source']}: {d['days']} days since the last refill ({d['policy_version']})"
    if name == "ConnectsPurchased":
        return f"{d['quantity']} x {d['unit_price']} USD ({d['policy_version']})"
    if name in ("ConnectsSpent", "ConnectsExpired"):
        what = d.get("proposal_id") or d.get("reason")
        return f"{what}; lots " + " ".join(f"{i}:{n}" for i, n in d["lots"])
    if name == "ConnectsRefunded":
        return f"job {d['job_id']} cancelled; proposal {d['proposal_id']}"
    if name == "MembershipCharged":
        promo = f", {d['promo_code']} -{d['percent_off']}%" if d["promo_code"] else ""
        return (f"{d['purpose']} of {d['billing_date']}: list {d['list_price']}{promo} "
                f"({d['policy_version']})")
    if name == "ChargeRefunded":
        return f"{d['kind']} charge {d['charge_id']} refunded to {d['source']}"
    if name == "ConnectsRevoked":
        return f"lot {d['lot_id']} of refunded {d['charge_id']}"
    if name in ("PaymentFailed", "RefundFailed"):
        what = d.get("purpose") or "refund"
        return f"{what} of {d['amount']} USD declined: {d['reason']}"
    reference = d.get("reference")
    return f"reference {reference}" if reference else ""


def _method_label(view: Any, method_id: str | None) -> str | None:
    """How a method is shown: brand and last four for a card (never a token)."""
    method = view.methods.get(method_id) if method_id else None
    if method is None:
        return method_id
    if getattr(method, "brand", None) and getattr(method, "last4", None):
        return f"{method.brand} *{method.last4}"
    return str(getattr(method, "method", None) or method_id)


Bound = date | datetime  # a day (whole, both ends included) or an instant


def parse_bound(text: str) -> Bound:
    """A statement's `from` or `to`: an ISO 8601 date (the whole day) or datetime (that
    instant), in the ledger's range; ValueError otherwise."""
    from ledger.clock import parse_instant

    moment = parse_instant(text)  # the range check and the message, for both forms
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return moment


def _within(at: datetime, start: Bound | None, end: Bound | None) -> bool:
    if start is not None and (at < start if isinstance(start, datetime)
                              else at.date() < start):
        return False
    return end is None or (at <= end if isinstance(end, datetime) else at.date() <= end)


def bounds_in_order(start: Bound | None, end: Bound | None) -> bool:
    if start is None or end is None:
        return True
    first = start if isinstance(start, datetime) else datetime.combine(start, time(), UTC)
    last = end if isinstance(end, datetime) else datetime.combine(end, time.max, UTC)
    return first <= last


def statement(app: Ledger, account_id: str, start: Bound | None = None,
              end: Bound | None = None) -> list[Movement]:
    state = AccountState()
    rows = []
    for event in account_events(app, account_id):
        view = state.view
        before = (view.connects, view.earnings_pending, view.earnings_available)
        fold(state, event)
        after = (view.connects, view.earnings_pending, view.earnings_available)
        name = type(event).__name__
        charged = getattr(event, "amount", None) if hasattr(event, "source") else None
        if name == "ChargeRefunded" and charged is not None:
            charged = -charged  # money given back
        if after == before and charged is None and name not in ALWAYS_SHOWN:
            continue
        if not _within(event.at, start, end):
            continue
        paid_by = None
        if charged is not None:
            paid_by = (_method_label(view, event.method_id) if event.source == "method"
                       else event.source)
        rows.append(Movement(
            event.originator_version, event.at, name, rule_of(event),
            after[0] - before[0], after[0], after[1] - before[1], after[1],
            after[2] - before[2], after[2], charged, paid_by, detail_of(event),
            getattr(event, "charge_id", None), getattr(event, "principal", None),
            getattr(event, "actor", None),
            # Why, as the history says it: the command's reason, else the fact's
            # own (an expiry's rollover rule, a declined payment's answer).
            getattr(event, "command_reason", None) or getattr(event, "reason", None),
            getattr(event, "timestamp", None)))
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def render_csv(rows: list[Movement]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        # text from input is escaped here too (a terminal `cat`s a CSV as
        # readily as it shows the text statement); the formula guard comes after.
        writer.writerow([_inert(escape_text(_cell(v))) for v in asdict(row).values()])
    return out.getvalue()


_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def _inert(cell: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or a
    carriage return first: OWASP's CSV injection) gets a leading apostrophe; numbers such
    as -5.00 stay numbers."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r") and (
            not _NUMBER.fullmatch(cell)):
        return "'" + cell
    return cell


def row_json(row: Movement) -> dict[str, Any]:
    """One movement as JSON, for `statement --json` and the HTTP statement alike: null
    stays null (CSV writes an empty cell), instants to the second in UTC."""
    return {k: v if v is None or isinstance(v, int) else _cell(v)
            for k, v in asdict(row).items()}


def render_json(rows: list[Movement]) -> str:
    return "\n".join(json.dumps(row_json(row)) for row in rows)


def render_text(account_id: str, rows: list[Movement]) -> str:
    lines = [f"statement of {account_id}: {len(rows)} movements",
             f"{'ver':>5}  {'date':<10}  {'event':<18} {'rule':<11} {'connects':>8} "
             f"{'held':>5}  {'pending':>9} {'available':>9} {'avail.bal':>9}  "
             f"{'charged':>8} {'paid by':<10} detail"]
    for m in rows:
        lines.append(
            f"{m.version:>5}  {m.at.date()!s:<10}  {m.event:<18} {m.rule:<11} "
            f"{_signed(m.connects):>8} {m.connects_balance:>5}  {_signed(m.pending):>9} "
            f"{_signed(m.available):>9} {m.available_balance:>9}  "
            f"{_cell(m.charged):>8} {_cell(m.paid_by):<10} {escape_text(m.detail)}"
            f"{f' {m.charge_id}' if m.charge_id else ''}{_who(m)}")
    return "\n".join(lines)


def _signed(value: Decimal | int) -> str:
    return f"{value:+}" if value else "0"


def _shown_in_detail(m: Movement) -> bool:
    """Whether the detail already says the reason: a fact's own reason leads an expiry's
    detail ("age; lots …") and ends a declined payment's ("… declined: REASON"). A
    command's reason that merely occurs in the detail's words is still shown."""
    reason = m.reason or ""
    return m.detail.startswith(f"{reason};") or m.detail.endswith(f": {reason}")


def _who(m: Movement) -> str:
    """R-8.6: who sent the call behind the line (for a scheduled fact, the call that
    recorded it), as whom, and why; text from input escaped (R-8.9)."""
    if m.reason is None and m.principal is None:
        return ""
    who = escape_text(m.principal or "?")
    acting = f" as {escape_text(m.actor)}" if m.actor else ""
    why = f": {escape_text(m.reason)}" if m.reason and not _shown_in_detail(m) else ""
    return f"  [by {who}{acting}{why}]"
