"""Command records against the events (R-8.3, R-8.6): every command id an event names has
its record (a `PaymentFailed` aside: a rejected command's one fact, R-3.3, is not
remembered), and every record's events exist: the events carrying its id are the ones
it lists, and what else it lists are facts of time (R-8.2) recorded before it.

Events come before their record in the log (one transaction: accounts, then records), so
only the commands whose record has not been read yet are kept."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from replay_tools.findings import Findings, Reporter

# The one fact a rejected command leaves: it has no record.
NOT_REMEMBERED = frozenset({"PaymentFailed", "RefundFailed"})


@dataclass
class Named:
    names: Counter[str] = field(default_factory=Counter)
    where: str = ""  # "fl-1 v7 #123", the first event naming the command
    version: int | None = None
    notification_id: int | None = None


class CommandRecords:
    def __init__(self, findings: Findings, scheduled: frozenset[str]) -> None:
        self.findings = findings
        self.scheduled = scheduled
        self.waiting: dict[str, Named] = {}
        self.recorded: set[str] = set()
        self.checked = 0

    def event(self, command_id: str, name: str, account: str, version: int,
              notification_id: int) -> None:
        if command_id in self.recorded:
            Reporter(self.findings, account, version, notification_id).fail(
                "integrity", "R-8.3", f"{name} names command {command_id}, whose record "
                "comes before it in the log")
            return
        named = self.waiting.setdefault(command_id, Named(
            where=account, version=version, notification_id=notification_id))
        named.names[name] += 1

    def record(self, command_id: str, listed: list[str], r: Reporter) -> None:
        self.checked += 1
        if command_id in self.recorded:
            return  # a second record of one id: the stream check reports it
        self.recorded.add(command_id)
        carried = self.waiting.pop(command_id, Named()).names
        lists = Counter(listed)
        unlisted = carried - lists
        if unlisted:
            r.fail("integrity", "R-8.3", f"events carry command {command_id} that its record "
                   "does not list", sorted(lists.elements()), sorted(carried.elements()))
        missing = {n: k for n, k in (lists - carried).items() if n not in self.scheduled}
        if missing:
            r.fail("integrity", "R-8.3", f"the record of command {command_id} lists events "
                   "that are not in the log", sorted(lists.elements()),
                   sorted(carried.elements()))

    def finish(self) -> None:
        for command_id, named in self.waiting.items():
            if set(named.names) <= NOT_REMEMBERED:
                continue
            Reporter(self.findings, named.where, named.version, named.notification_id).fail(
                "integrity", "R-8.3", f"events name command {command_id}, which has no "
                f"command record: {', '.join(sorted(named.names))}")
        self.waiting.clear()
