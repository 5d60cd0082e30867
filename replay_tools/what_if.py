"""What-if: the store's accepted commands decided again under another catalog.

Every command record of the store keeps the command it accepted. They are decided again,
in the order they were recorded, in a scratch in-memory store opened with the other
catalog, each at the effective time it was decided at (a command sent without `at` took
the clock's time, which its record keeps). Each command catches its own account up
(R-8.2) as it did in the store; between commands, a billing run records the scheduled
facts of every account as the days go by, but never past the day of a command still to
come (which would refuse that command as `backdated` where the store accepted it).
The gateway answers as it answered the first time where the same charge (the same
idempotency key) is tried, and approves otherwise.

Both sides are then compared on one day, the *comparison day* (`through` in the report):
the last effective day in the log by default, or `--through DATE`. On each side every
scheduled fact due on or before that day is recorded: the scratch store runs its billing
through it; the store itself is taken as it is when it has nothing due by then, and
otherwise (commands recorded after its last billing run, a billing run not made through
the last day) its log is copied into a second in-memory store, whose billing run records
what is due, with the same gateway answers; the store itself is never written. Without
this, the scratch side would hold renewals, refills and expiries that the store has not
recorded yet, and an unchanged catalog would show them as differences.

Both sides are summed up the same way and compared: per account (plan, Connects, money
charged, status, as of the end of the comparison day) and in total (revenue by source,
Connects granted / spent / expired, upgrades that failed, commands refused by error code).

`--from DATE` keeps the store's own catalog before DATE: the other catalog's terms apply
to days from DATE on.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from ledger.clock import parse_instant
from ledger.policy import Catalog, load_catalog
from replay_tools.log import PAGE, read_log

MONEY_EVENTS = ("MembershipCharged", "ConnectsPurchased")
GRANTS = ("ConnectsRefilled", "ConnectsGranted", "ConnectsPurchased")


class WhatIfError(Exception):
    """A what-if that cannot be made as asked (a comparison day outside the log's range)."""


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
            command = {**body, "command_id": event.command_id}
            if command.get("at") is None:
                # Sent without `at`: decided at the clock's time then, which the record keeps
                # (deciding it at this tool's clock would move it to another day).
                command["at"] = event.at.isoformat()
            commands.append(command)
    return commands, without_body, last


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def comparison_day(last: datetime | None, through: date | None, now: datetime) -> date:
    """The day both sides are compared on: `through` (not before the log's last effective
    day, not after the clock's), else the log's last effective day (the clock's day for
    an empty log)."""
    if through is None:
        return last.date() if last is not None else now.date()
    if last is not None and through < last.date():
        raise WhatIfError(f"--through {through} is before the last effective day in the "
                          f"log, {last.date()}")
    if through > now.date():
        raise WhatIfError(f"--through {through} is after the clock ({now.isoformat()})")
    return through


def billing_days(commands: list[dict[str, Any]]) -> list[date]:
    """For each command, the day the scratch store may bill every account through before
    deciding it: its own day, but no later than the day of any command after it. A command
    catches its own account up anyway; a billing run past a later command's day would
    give that command's account facts the store did not have when it accepted it."""
    days = [parse_instant(str(c["at"])).date() for c in commands]
    for i in range(len(days) - 2, -1, -1):
        days[i] = min(days[i], days[i + 1])
    return days


def _due_accounts(app: Any, day: date) -> int:
    """How many accounts of `app` have a scheduled fact due on or before `day` that is
    not recorded (the views' due-date index, which the billing run uses)."""
    app.refresh_views()
    count, after = 0, ""
    while found := app.views.due_accounts(day, after, 1000):
        count += len(found)
        after = found[-1]
    return count


def caught_up(app: Any, day: date, clock: datetime, gateway: RecordedGateway
              ) -> tuple[Any, int]:
    """The store as the comparison sees it: every scheduled fact due through `day`
    recorded. The store itself when none is due; otherwise an in-memory copy of its log
    with a billing run through `day` (the caller closes it). Also how many accounts were
    due."""
    from ledger.application import Ledger

    due = _due_accounts(app, day)
    if not due:
        return app, 0
    url = f"memory:what-if-recorded-{uuid4().hex}"
    loader = Ledger.open(url, clock=clock, policy=app.catalog, gateway=gateway)
    try:
        _copy_log(app.recorder, loader.recorder)
        # Opened again on the copied log, so that it reads the adopted versions (R-8.7).
        copy = Ledger.open(url, clock=clock, policy=app.catalog, gateway=gateway)
    finally:
        loader.close()
    try:
        copy.run_billing(through=day.isoformat())
    except BaseException:
        copy.close()
        raise
    return copy, due


def _copy_log(source: Any, target: Any) -> None:
    """Every stored event of `source`, in notification order, into `target` as stored."""
    position = 0
    while batch := source.select_notifications(position, PAGE, inclusive_of_start=False):
        target.insert_events([StoredEvent(
            originator_id=n.originator_id if isinstance(n.originator_id, UUID)
            else UUID(str(n.originator_id)),
            originator_version=n.originator_version, topic=n.topic, state=n.state)
            for n in batch])
        position = batch[-1].id


def _answers(app: Any) -> dict[str, bool]:
    from ledger.gateway import CAPTURE, REFUND, SUCCEEDED, VOID, journal_for

    entries = journal_for(app.store).entries()
    voided = {e.key for e in entries if e.kind == VOID}
    return {e.key: e.status == SUCCEEDED and e.key not in voided
            for e in entries if e.kind in (CAPTURE, REFUND)}


def summarize(app: Any, since: date | None, decided: set[str], day: date) -> dict[str, Any]:
    """Per account and in total, from the log alone (what both sides are compared by),
    the accounts as of the end of the comparison `day`. Failed upgrades count those of
    the commands decided again (`decided`): a command the store refused (its payment
    declined included) has no record to decide again."""
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
    as_of = end_of(day)
    for account_id, row in accounts.items():
        view = app.account(account_id, as_of=as_of)
        row.update(plan=view.plan, connects=view.connects, status=view.status)
    return {"accounts": accounts, "revenue": dict(revenue), "connects": dict(connects),
            "failed_upgrades": failed_upgrades}


def what_if(app: Any, policy: Any, start: date | None = None,
            progress: Callable[[int], None] | None = None,
            through: date | None = None) -> dict[str, Any]:
    from ledger.application import Ledger

    other = load_catalog(policy)
    catalog = split_catalog(app.catalog, other, start) if start else other
    commands, without_body, last = _commands_and_facts(app)
    now = app.clock.now()
    day = comparison_day(last, through, now)
    # Both stores' clock: no command of the log, nor the comparison day, is in its future.
    clock = max(now, last or now, start_of(day))
    gateway = RecordedGateway(_answers(app))
    recorded, due = caught_up(app, day, clock, gateway)
    scratch: Any = None
    refused: Counter[str] = Counter()
    billed: date | None = None
    try:
        scratch = Ledger.open("memory:", clock=clock, policy=catalog, gateway=gateway)
        for command, until in zip(commands, billing_days(commands), strict=True):
            if billed is None or until > billed:
                scratch.run_billing(through=until.isoformat())
                billed = until
            result = scratch.submit(command, principal="what-if")
            if not result.ok and result.error is not None:
                refused[result.error.code] += 1
            if progress is not None:
                progress(1)
        if billed is None or day > billed:
            scratch.run_billing(through=day.isoformat())
        decided = {c["command_id"] for c in commands}
        report = compare(summarize(recorded, start, decided, day),
                         summarize(scratch, start, decided, day),
                         len(commands), without_body, refused)
        return {"through": day.isoformat(), "recorded_caught_up": due, **report}
    finally:
        if scratch is not None:
            scratch.close()
        if recorded is not app:
            recorded.close()


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
    totals: dict[str, Any] = defaultdict(dict, revenue={}, connects={})
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


def _accounts(n: int) -> str:
    return f"{n} account" + ("" if n == 1 else "s")


def render_text(report: dict[str, Any]) -> str:
    lines = [f"{report['commands']} commands decided again"
             + (f" ({report['commands_without_body']} records keep no command and were "
                "skipped)" if report["commands_without_body"] else ""),
             f"both sides compared on {report['through']}, every scheduled fact due by then "
             "recorded" + (f" ({_accounts(report['recorded_caught_up'])} of the store had "
                           "facts due not recorded yet: caught up in a scratch copy, the "
                           "store unchanged)" if report["recorded_caught_up"] else "")]
    totals = report["totals"]
    for group in ("revenue", "connects"):
        for key, row in totals[group].items():
            lines.append(f"  {group:<8} {key:<9} recorded {row['recorded']:>12}  what-if "
                         f"{row['what_if']:>12}  difference {row['difference']:>12}")
    f = totals["failed_upgrades"]
    # Only accepted commands are decided again (refused ones have no record), so the
    # recorded side counts none: this is how many accepted upgrades would fail instead.
    lines.append(f"  accepted upgrades that fail  recorded {f['recorded']:>4}  what-if "
                 f"{f['what_if']:>12}  difference {f['difference']:>12}")
    for code, n in report["refused"].items():
        lines.append(f"  refused  {code:<30} {n}")
    lines.append(f"{_accounts(len(report['accounts']))} differ"
                 if len(report["accounts"]) != 1 else "1 account differs")
    for row in report["accounts"][:50]:
        parts = [f"{k} {v['recorded']} -> {v['what_if']}" for k, v in row.items()
                 if k != "account_id"]
        lines.append(f"  {row['account_id']:<24} " + ", ".join(parts))
    if len(report["accounts"]) > 50:
        lines.append(f"  … and {len(report['accounts']) - 50} more (--json lists all)")
    lines.append("no difference" if report["same"] else "")
    return "\n".join(line for line in lines if line)
