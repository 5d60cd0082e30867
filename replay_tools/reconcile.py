"""Reconciliation (R-3.4): what the gateway captured against what the ledger recorded.

Every live capture (succeeded, not voided) must match exactly one recorded charge paid
by a method, with the same key, amount and method; every such recorded charge must have
its live capture; refunds likewise. The gateway side is the simulated gateway's journal
(beside the store) or a processor's CSV report (`key,kind,amount,status,at`).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from replay_tools.log import read_log
from replay_tools.reference import charge_id_of

CHARGE_EVENTS = ("MembershipCharged", "ConnectsPurchased")


class ReportError(ValueError):
    """A gateway report that cannot be read."""


@dataclass(frozen=True)
class GatewayLine:
    key: str
    kind: str  # capture | void | refund
    amount: Decimal
    status: str  # succeeded | failed
    account_id: str = ""
    method_id: str | None = None


@dataclass(frozen=True)
class Recorded:
    key: str
    account_id: str
    amount: Decimal
    method_id: str | None


@dataclass
class Reconciliation:
    captures: int = 0
    recorded: int = 0
    refunds: int = 0
    recorded_refunds: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)
    voided: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {"captures": self.captures, "recorded": self.recorded,
                "refunds": self.refunds, "recorded_refunds": self.recorded_refunds,
                "differences": self.differences, "voided": self.voided}


HEADER = ("key", "kind", "amount", "status", "at")
REQUIRED = HEADER[:4]  # `at` is read by people, not by the comparison


def read_report(path: str) -> list[GatewayLine]:
    """A processor's CSV export: header `key,kind,amount,status,at`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror}") from None
    reader = csv.DictReader(text.splitlines())
    missing = [name for name in REQUIRED if name not in (reader.fieldnames or ())]
    if missing:
        raise ReportError(f"{path} line 1: the header needs {','.join(HEADER)} "
                          f"(missing: {', '.join(missing)})")
    rows = list(reader)
    lines = []
    for number, row in enumerate(rows, start=2):
        try:
            kind, status = row["kind"].strip(), row["status"].strip()
            amount = Decimal(row["amount"].strip())
            key = row["key"].strip()
        except (KeyError, AttributeError, InvalidOperation):
            raise ReportError(f"{path} line {number}: needs key,kind,amount,status,at") from None
        if kind not in ("capture", "void", "refund") or status not in ("succeeded", "failed"):
            raise ReportError(f"{path} line {number}: kind is capture, void or refund; "
                              "status succeeded or failed")
        lines.append(GatewayLine(key, kind, amount, status))
    return lines


def journal_lines(app: Any) -> list[GatewayLine]:
    from ledger.gateway import journal_for

    return [GatewayLine(e.key, e.kind, e.amount, e.status, e.account_id, e.method_id)
            for e in journal_for(app.store).entries()]


def recorded_money(app: Any) -> tuple[list[Recorded], list[Recorded]]:
    """Charges paid by a method and refunds given back to one, from the log alone."""
    charges: list[Recorded] = []
    refunds: list[Recorded] = []
    accounts: dict[Any, str] = {}
    for page in read_log(app.recorder, app.mapper):
        for entry in page:
            event = entry.event
            if event is None:
                continue
            name = type(event).__name__
            if name == "AccountOpened":
                accounts[entry.originator_id] = event.account_id
            key = getattr(event, "gateway_key", None)
            if not key or getattr(event, "source", None) != "method":
                continue
            record = Recorded(key, accounts.get(entry.originator_id, str(entry.originator_id)),
                              Decimal(event.amount), event.method_id)
            if name in CHARGE_EVENTS:
                charges.append(record)
            elif name == "ChargeRefunded":
                refunds.append(record)
    return charges, refunds


def reconcile(app: Any, report: str | None = None, void_orphans: bool = False,
              ) -> Reconciliation:
    lines = read_report(report) if report else journal_lines(app)
    charges, refunds = recorded_money(app)
    out = Reconciliation(recorded=len(charges), recorded_refunds=len(refunds))
    voids = {line.key for line in lines if line.kind == "void" and line.status == "succeeded"}
    captures = {line.key: line for line in lines
                if line.kind == "capture" and line.status == "succeeded"}
    live = {k: v for k, v in captures.items() if k not in voids}
    given_back = {line.key: line for line in lines
                  if line.kind == "refund" and line.status == "succeeded"}
    out.captures, out.refunds = len(live), len(given_back)
    # A processor's report names no account: the recorded charge under the key does.
    owners = {r.key: r.account_id for r in (*charges, *refunds)}
    _repeated_lines(out, lines, owners)
    charge_owners = {charge_id_of(r.key): r.account_id for r in charges}
    _match(out, live, charges, "capture", set(captures) - set(live), charge_owners)
    _match(out, given_back, refunds, "refund", set(), charge_owners)
    if void_orphans and not report:
        _void_orphans(app, out)
    return out


def _match(out: Reconciliation, gateway: dict[str, GatewayLine], recorded: list[Recorded],
           what: str, voided: set[str], charge_owners: dict[str, str]) -> None:
    """`charge_owners`: charge id -> account. A refund's key names the charge it gives
    back (`refund:<charge id>`), so an orphan refund of a recorded charge is that
    charge's account's; an orphan nobody can place has a null account."""
    by_key: dict[str, list[Recorded]] = defaultdict(list)
    for r in recorded:
        by_key[r.key].append(r)
    for key, records in by_key.items():
        first = records[0]
        if len(records) > 1:
            out.differences.append(_difference("duplicate_record", first.account_id, key,
                                               first.amount, count=len(records)))
        line = gateway.get(key)
        if line is None:
            kind = f"missing_{what}"
            detail = "voided at the gateway" if key in voided else "not at the gateway"
            out.differences.append(_difference(kind, first.account_id, key, first.amount,
                                               detail=detail))
        elif line.amount != first.amount:
            out.differences.append(_difference("amount_mismatch", first.account_id, key,
                                               first.amount, gateway_amount=str(line.amount)))
        elif line.method_id is not None and line.method_id != first.method_id:
            out.differences.append(_difference("method_mismatch", first.account_id, key,
                                               first.amount, gateway_method=line.method_id))
    for key, line in gateway.items():
        if key not in by_key:
            owner = line.account_id or charge_owners.get(key.removeprefix("refund:")) or None
            out.differences.append(_difference(f"orphan_{what}", owner, key, line.amount))


def _repeated_lines(out: Reconciliation, lines: list[GatewayLine],
                    owners: dict[str, str]) -> None:
    """A key the gateway reports as captured (or refunded) more than once: money may have
    moved twice for one charge, whatever the ledger recorded (R-3.4)."""
    seen: dict[tuple[str, str], list[GatewayLine]] = defaultdict(list)
    for line in lines:
        if line.kind in ("capture", "refund") and line.status == "succeeded":
            seen[(line.key, line.kind)].append(line)
    for (key, kind), same in seen.items():
        if len(same) > 1:
            account = same[0].account_id or owners.get(key) or None
            out.differences.append(_difference(f"duplicate_{kind}", account, key,
                                               same[0].amount, count=len(same)))


def _void_orphans(app: Any, out: Reconciliation) -> None:
    """Void every capture no recorded charge claims; they stop being differences."""
    kept = []
    for difference in out.differences:
        if difference["kind"] == "orphan_capture":
            app.gateway.void(difference["key"])
            out.voided.append(difference)
            out.captures -= 1
        else:
            kept.append(difference)
    out.differences = kept


def _difference(kind: str, account_id: str | None, key: str, amount: Decimal,
                **more: Any) -> dict[str, Any]:
    return {"kind": kind, "account_id": account_id, "key": key, "amount": str(amount), **more}


def render_text(result: Reconciliation) -> str:
    lines = [f"captures {result.captures}  recorded charges {result.recorded}  "
             f"refunds {result.refunds}  recorded refunds {result.recorded_refunds}"]
    for d in result.voided:
        lines.append(f"voided   {d['account_id'] or '?'}  {d['key']}  {d['amount']}")
    for d in result.differences:
        extra = "  ".join(f"{k} {v}" for k, v in d.items()
                          if k not in ("kind", "account_id", "key", "amount"))
        lines.append(f"{d['kind']}  {d['account_id'] or '?'}  {d['key']}  {d['amount']}  {extra}"
                     .rstrip())
    lines.append("clean" if result.clean else f"{len(result.differences)} differences")
    return "\n".join(lines)
