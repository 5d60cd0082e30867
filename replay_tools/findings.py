"""What an audit reports: findings with a category, a rule id, the account and version."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

CATEGORIES = ("integrity", "rederive", "invariant", "agreement")


def plain(value: Any) -> Any:
    """A value as JSON can carry it (dates, decimals, tuples...)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


# A billing method as a view row holds it (projections.codec.view_to_dict): its gateway
# token at this index.
_TOKEN_AT = 6


def view_differences(replayed: dict[str, Any], shown: dict[str, Any],
                     ) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """The fields in which a view row differs from the replay, and both sides' values as
    a finding may show them: a method's gateway token never (R-8.9), even when it is the
    token that differs (the field is then named "methods (a gateway token)")."""
    keys = sorted(k for k in replayed if replayed[k] != shown.get(k))
    expected = {k: _shown(k, replayed[k]) for k in keys}
    found = {k: _shown(k, shown.get(k)) for k in keys}
    named = [f"{k} (a gateway token)" if expected[k] == found[k] else k for k in keys]
    return named, expected, found


def _shown(key: str, value: Any) -> Any:
    if key != "methods" or not isinstance(value, list):
        return value
    return [[*m[:_TOKEN_AT], "***" if m[_TOKEN_AT] else None, *m[_TOKEN_AT + 1:]]
            if isinstance(m, list) and len(m) > _TOKEN_AT else m for m in value]


@dataclass(frozen=True)
class Finding:
    category: str
    rule: str
    account: str | None
    version: int | None
    message: str
    expected: Any = None
    found: Any = None
    notification_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "category": self.category, "rule": self.rule, "account": self.account,
            "version": self.version, "notification_id": self.notification_id,
            "message": self.message,
        }
        if self.expected is not None or self.found is not None:
            data["expected"] = plain(self.expected)
            data["found"] = plain(self.found)
        return data

    def line(self) -> str:
        where = self.account or "(log)"
        if self.version is not None:
            where += f" v{self.version}"
        if self.notification_id is not None:
            where += f" #{self.notification_id}"
        text = f"[{self.category}] {self.rule} {where}: {self.message}"
        if self.expected is not None or self.found is not None:
            text += f" (expected {plain(self.expected)}, found {plain(self.found)})"
        return text


class Findings:
    """Every finding, with counts by category (`sort` puts them in the report's order)."""

    def __init__(self) -> None:
        self.items: list[Finding] = []
        self.notes: list[str] = []  # worth knowing, not a discrepancy of the log
        self.by_category: Counter[str] = Counter({c: 0 for c in CATEGORIES})

    def add(self, finding: Finding) -> None:
        self.items.append(finding)
        self.by_category[finding.category] += 1

    def __len__(self) -> int:
        return len(self.items)

    def extend(self, found: list[Finding]) -> None:
        for finding in found:
            self.add(finding)

    def sort(self) -> None:
        """One order whatever found them first (one process or several): the log's order
        (notification id), then findings about no one row (the end of a stream, views,
        history rows) by account and version; ties by everything else."""
        self.items.sort(key=_order)


def _order(f: Finding) -> tuple[Any, ...]:
    return (f.notification_id is None, f.notification_id or 0, f.account or "",
            -1 if f.version is None else f.version, CATEGORIES.index(f.category)
            if f.category in CATEGORIES else len(CATEGORIES), f.rule, f.message,
            repr(plain(f.expected)), repr(plain(f.found)))


class Reporter:
    """Findings about one event: its account, version and notification are filled in."""

    def __init__(self, findings: Findings, account: str | None, version: int | None,
                 notification_id: int | None) -> None:
        self.findings = findings
        self.account = account
        self.version = version
        self.notification_id = notification_id

    def fail(self, category: str, rule: str, message: str, expected: Any = None,
             found: Any = None, version: int | None = None) -> None:
        self.findings.add(Finding(category, rule, self.account,
                                  self.version if version is None else version, message,
                                  expected, found, self.notification_id))
