"""Rows other issues ask for, shown as "not measured" until their code registers them.

The module that builds the path registers a measured `Row` with the same key (see
benchmarks/registry.py); that replaces the placeholder here.
"""

from __future__ import annotations

from benchmarks.registry import Row, at_least_ratio, p95_under, register_row

_PENDING = (
    Row("http.single.sqlite", "HTTP POST /v1/commands, one worker", "sqlite", None,
        baseline="commands_one_at_a_time", target=at_least_ratio(0.7), issue=11,
        note="waits for `ledger serve` (service/)"),
    Row("http.batch.sqlite", "HTTP POST /v1/commands/batch, one worker", "sqlite", None,
        baseline="commands_batch", target=at_least_ratio(0.9), issue=11,
        note="waits for `ledger serve` (service/)"),
    Row("http.single.postgresql", "HTTP POST /v1/commands, one worker", "postgresql", None,
        baseline="commands_one_at_a_time", target=at_least_ratio(0.7), issue=11,
        note="waits for `ledger serve` (service/)"),
    Row("http.batch.postgresql", "HTTP POST /v1/commands/batch, one worker", "postgresql",
        None, baseline="commands_batch", target=at_least_ratio(0.9), issue=11,
        note="waits for `ledger serve` (service/)"),
    Row("http.two_workers.postgresql", "HTTP POST /v1/commands, 2 workers", "postgresql",
        None, baseline="http_single", target=at_least_ratio(1.5), issue=11,
        note="waits for `ledger serve` (service/)"),
    Row("console.account_page.sqlite", "console account page, 100,000 vs 10 events",
        "sqlite", None, target=p95_under(200, 2.0), issue=13,
        note="waits for /console (service/)", ratio_by="p95_ms"),
)

for _row in _PENDING:
    register_row(_row)
