"""The demo's summary: what one run did, and the text `ledger demo` prints for it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.demo.figures import LedgerFigures
from ledger.demo.simulation import KINDS


@dataclass
class DemoReport:
    tag: str
    start: date
    end: date
    seed: int
    account_ids: dict[str, str]  # account id -> kind, as opened
    accepted: int
    rejected: Counter[str]
    billing_runs: int
    seconds: float
    figures: LedgerFigures

    @property
    def commands(self) -> int:
        return self.accepted + sum(self.rejected.values())


def _pairs(counts: dict[str, int], order: Iterable[str] = ()) -> str:
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return ", ".join(f"{k} {counts[k]}" for k in keys) or "none"


def format_report(report: DemoReport) -> str:
    f = report.figures
    rate = report.commands / max(report.seconds, 1e-9)
    return "\n".join([
        f"demo run {report.tag}: {report.start} to {report.end}, seed {report.seed}",
        f"accounts     {len(report.account_ids)} opened: {_pairs(f.by_kind, KINDS)}",
        f"  by plan    {_pairs(f.by_plan, ('basic', 'plus', 'none'))}",
        f"  by status  {_pairs(f.by_status, ('active', 'suspended', 'closed'))}",
        f"connects     granted {sum(f.granted.values())} "
        f"({_pairs(f.granted, ('refills', 'proration', 'purchases', 'refunds'))})",
        f"             spent {f.spent}, expired {sum(f.expired.values())} "
        f"({_pairs(f.expired)}), held {f.held}",
        *_money_lines(f),
        f"failed       {sum(f.failed.values())} payments: "
        f"{_pairs(f.failed, ('upgrade', 'renewal', 'purchase'))}",
        f"commands     {report.commands}: {report.accepted} accepted, "
        f"{sum(report.rejected.values())} rejected",
        *[f"  {code:<24} {n:>6}" for code, n in report.rejected.most_common()],
        f"events       {f.events} recorded ({report.billing_runs} billing runs)",
        f"time         {report.seconds:.1f} s, {rate:.0f} commands/s",
    ])


def _money_lines(f: LedgerFigures) -> list[str]:
    total = sum(f.charged.values(), Decimal(0))
    lines = [f"charged      {total:,.2f} USD in {sum(f.charges.values())} charges"]
    for channel in ("earnings", "card", "paypal", "promo"):
        if f.charges[channel]:
            label = "promo (free)" if channel == "promo" else channel
            lines.append(f"  {label:<14} {f.charges[channel]:>6} charges "
                         f"{f.charged[channel]:>12,.2f} USD")
    return lines
