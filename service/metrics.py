"""Prometheus figures for `GET /metrics` (the `metrics` scope).

Every figure lives in prometheus-client's default registry, the webhook figures
(webhooks/metrics.py) included, so one scrape shows commands, latency, billing and
webhooks. With several workers (`ledger serve --workers N`) `serve` points
`PROMETHEUS_MULTIPROC_DIR` at a fresh folder before the workers start: each worker
writes its figures there and a scrape, whichever worker answers it, sums them all
(prometheus-client's multiprocess mode). With one worker the figures are that
process's own, with the library's process figures beside them.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from ledger.commands import MODEL_OF_TYPE as COMMAND_TYPES
from ledger.results import Result
from webhooks import metrics as webhook_metrics  # noqa: F401 - its figures on the same scrape

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

COMMANDS = Counter("ledger_commands_total", "Commands decided, by type and outcome",
                   ["type", "outcome"])
REQUESTS = Histogram("ledger_http_request_seconds", "HTTP request latency",
                     ["method", "status"])
BILLED = Counter("ledger_billing_accounts_total", "Accounts billed by billing runs")


def count_command(raw: Any, result: Result) -> None:
    kind = raw.get("type") if isinstance(raw, dict) else None
    # Only the contract's command types become label values: anything a client makes up
    # is "?", so no request can grow the metric's series without bound.
    known = kind if isinstance(kind, str) and kind in COMMAND_TYPES else "?"
    outcome = "duplicate" if result.duplicate else (
        "accepted" if result.ok else (result.error.code if result.error else "rejected"))
    COMMANDS.labels(known, outcome).inc()


def render() -> tuple[bytes, str]:
    """The text of a scrape: every worker's figures summed when there are several."""
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
