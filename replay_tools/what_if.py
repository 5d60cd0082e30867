"""What-if: the store's accepted commands decided again under another catalog.

Every command record of the store keeps the command it accepted. They are decided again,
in the order they were recorded, in a scratch in-memory store opened with the other
catalog, with the billing dates between them recorded as the days go by (a billing run
through each command's day). The gateway answers as it answered the first time where
the same charge (the same idempotency key) is tried, and approves otherwise. Then both
stores are summed up the same way and compared: per account (plan, Connects, money
charged) and in total (revenue by source, Connects granted / spent / expired, upgrades
that failed, commands refused by error code).

`--from DATE` keeps the store's own catalog before DATE: the other catalog's terms apply
to days from DATE on.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ledger.policy import Catalog, load_catalog
from replay_tools.log import read_log

MONEY_EVENTS = ("MembershipCharged", "ConnectsPurchased")
GRANTS = ("ConnectsRefilled", "ConnectsGranted", "ConnectsPurchased")


class RecordedGateway:
    """Answers as the store's own gateway journal did for the same key; approves the
    rest. Moves nothing and journals nothing."""

    def __init__(self, answers: dict[str, bool]) -> None:
        self.answers = answers

    def charge(self, key: str, account_id: str, method: Any, amount: Decimal) -> bool:
        return self.answers.get(key, True)

    def refund(self, key: str, account_id: str, method: Any, amount: Decimal) -> bool:
        return self.answers.get(key, True)

    def void(self, key: str) -> None:
        return None


def split_catalog(own: Catalog, other: Catalog, start: date) -> Catalog:
    """The store's versions before `start`, the other catalog's from `start` on."""
    before = [v for v in own.versions if v.effective_from < start]
    after = [v for v in other.versions if v.effective_from >= start]
    in_force = [v for v in other.versions if v.effective_from < start]
    if in_force and (not after or after[0].effective_from > start):
        taken = {v.name for v in before} | {v.name for v in after}
        first = in_force[-1]
        name = first.name if first.name not in taken else f"{first.name}-from-{start}"
        after.insert(0, first.model_copy(update={"effective_from": start, "name": name}))
    return Catalog(versions=before + after, promo_codes=other.promo_codes)


def _commands_and_facts(app: Any) -> tuple[list[dict[str, Any]], int, datetime | None]:
    """The accepted commands in recorded order (with their ids), how many records keep
    no command (stores written before bodies were kept), and the log's last instant."""
    commands: list[dict[str, Any]] = []
    without_body = 0
    last: datetime | None = None
    for page in read_log(app.recorder, app.mapper):
        for entry in page:
            event = entry.event
            if event is None:
                continue
            at = getattr(event, "at", None)
            if isinstance(at, datetime) and (last is None or at > last):
                last = at
            if type(event).__name__ != "CommandAccepted":
                continue
            body = getattr(event, "body", None)
            if not body:
                without_body += 1
                continue
            commands.append({**body, "command_id": event.command_id})
    return commands, without_body, last


def _answers(app: Any) -> dict[str, bool]:
    from ledger.gateway import CAPTURE, REFUND, SUCCEEDED, VOID, journal_for

    entries = journal_for(app.store).entries()
    voided = {e.key for e in entries if e.kind == VOID}
    return {e.key: e.status == SUCCEEDED and e.key not in voided
            for e in entries if e.kind in (CAPTURE, REFUND)}


def summarize(app: Any, since: date | None, decided: set[str]) -> dict[str, Any]:
    """Per account and in total, from the log alone (what both sides are compared by).
    Failed upgrades count those of the commands decided again (`decided`): a command
    the store refused (its payment declined included) has no record to decide again."""
    accounts: dict[str, dict[str, Any]] = {}
    owner: dict[Any, str] = {}
    revenue: Counter[str] = Counter()
    connects: Counter[str] = Counter()
    failed_upgrades = 0
    for page in read_log(app.recorder, app.mapper):
        for entry in page:
            event = entry.event
            if event is None or not hasattr(event, "at"):
                continue
            name = type(event).__name__
            if name == "AccountOpened":
                owner[entry.originator_id] = event.account_id
                accounts[event.account_id] = {"charged": Decimal("0.00")}
            account_id = owner.get(entry.originator_id)
            if account_id is None or (since is not None and event.at.date() < since):
                continue
            if name in MONEY_EVENTS:
                accounts[account_id]["charged"] += event.amount
                revenue[event.source] += event.amount
            elif name == "ChargeRefunded":
                accounts[account_id]["charged"] -= event.amount
                revenue[event.source] -= event.amount
            if name in GRANTS:
                connects["granted"] += event.quantity
            elif name == "ConnectsSpent":
                connects["spent"] += event.quantity
            elif name == "ConnectsExpired":
                connects["expired"] += event.quantity
            elif (name == "PaymentFailed" and event.purpose == "upgrade"
                  and event.command_id in decided):
                failed_upgrades += 1
    for account_id, row in accounts.items():
        view = app.account(account_id)
        row.update(plan=view.plan, connects=view.connects, status=view.status)
    return {"accounts": accounts, "revenue": dict(revenue), "connects": dict(connects),
            "failed_upgrades": failed_upgrades}


def what_if(app: Any, policy: Any, start: date | None = None,
            progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    from ledger.application import Ledger

    other = load_catalog(policy)
    catalog = split_catalog(app.catalog, other, start) if start else other
    commands, without_body, last = _commands_and_facts(app)
    now = app.clock.now()
    scratch = Ledger.open("memory:", clock=now, policy=catalog,
                          gateway=RecordedGateway(_answers(app)))
    refused: Counter[str] = Counter()
    billed: date | None = None
    try:
        for command in commands:
            day = date.fromisoformat(str(command.get("at", now.isoformat()))[:10])
            if billed is None or day > billed:
                scratch.run_billing(through=day.isoformat())
                billed = day
            result = scratch.submit(command, principal="what-if")
            if not result.ok and result.error is not None:
                refused[result.error.code] += 1
            if progress is not None:
                progress(1)
        if last is not None and (billed is None or last.date() > billed):
            scratch.run_billing(through=last.date().isoformat())
        decided = {c["command_id"] for c in commands}
        return compare(summarize(app, start, decided), summarize(scratch, start, decided),
                       len(commands), without_body, refused)
    finally:
        scratch.close()


def compare(before: dict[str, Any], after: dict[str, Any], decided: int, without_body: int,
            refused: Counter[str]) -> dict[str, Any]:
    accounts = []
    for account_id in sorted(set(before["accounts"]) | set(after["accounts"])):
        was = before["accounts"].get(account_id, {})
        would = after["accounts"].get(account_id, {})
        changed = {k: {"recorded": _j(was.get(k)), "what_if": _j(would.get(k))}
                   for k in ("plan", "connects", "charged", "status")
                   if was.get(k) != would.get(k)}
        if changed:
            accounts.append({"account_id": account_id, **changed})
    totals: dict[str, Any] = defaultdict(dict)
    for group in ("revenue", "connects"):
        for key in sorted(set(before[group]) | set(after[group])):
            was, would = before[group].get(key, 0), after[group].get(key, 0)
            totals[group][key] = {"recorded": _j(was), "what_if": _j(would),
                                  "difference": _j(would - was)}
    totals["failed_upgrades"] = {"recorded": before["failed_upgrades"],
                                 "what_if": after["failed_upgrades"],
                                 "difference": after["failed_upgrades"]
                                 - before["failed_upgrades"]}
    return {"commands": decided, "commands_without_body": without_body,
            "refused": dict(sorted(refused.items())), "accounts": accounts,
            "totals": dict(totals), "same": not accounts and not refused and all(
                v["difference"] in ("0", "0.00", 0) for g in ("revenue", "connects")
                for v in totals[g].values())
            and totals["failed_upgrades"]["difference"] == 0}


def _j(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def render_text(report: dict[str, Any]) -> str:
    lines = [f"{report['commands']} commands decided again"
             + (f" ({report['commands_without_body']} records keep no command and were "
                "skipped)" if report["commands_without_body"] else "")]
    totals = report["totals"]
    for group in ("revenue", "connects"):
        for key, row in totals[group].items():
            lines.append(f"  {group:<8} {key:<9} recorded {row['recorded']:>12}  what-if "
                         f"{row['what_if']:>12}  difference {row['difference']:>12}")
    f = totals["failed_upgrades"]
    lines.append(f"  failed upgrades      recorded {f['recorded']:>12}  what-if "
                 f"{f['what_if']:>12}  difference {f['difference']:>12}")
    for code, n in report["refused"].items():
        lines.append(f"  refused  {code:<30} {n}")
    lines.append(f"{len(report['accounts'])} accounts differ")
    for row in report["accounts"][:50]:
        parts = [f"{k} {v['recorded']} -> {v['what_if']}" for k, v in row.items()
                 if k != "account_id"]
        lines.append(f"  {row['account_id']:<24} " + ", ".join(parts))
    if len(report["accounts"]) > 50:
        lines.append(f"  … and {len(report['accounts']) - 50} more (--json lists all)")
    lines.append("no difference" if report["same"] else "")
    return "\n".join(line for line in lines if line)
