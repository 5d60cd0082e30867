"""Prometheus figures of one worker process (`GET /metrics`, the `metrics` scope).

Each worker keeps its own counters (a scrape reaches one worker; with several workers,
scrape each or sum them): commands by type and outcome, request latency, billing runs.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ledger.results import Result

REGISTRY = CollectorRegistry()
COMMANDS = Counter("ledger_commands_total", "Commands decided, by type and outcome",
                   ["type", "outcome"], registry=REGISTRY)
REQUESTS = Histogram("ledger_http_request_seconds", "HTTP request latency",
                     ["method", "status"], registry=REGISTRY)
BILLED = Counter("ledger_billing_accounts_total", "Accounts billed by billing runs",
                 registry=REGISTRY)


def count_command(raw: Any, result: Result) -> None:
    kind = raw.get("type") if isinstance(raw, dict) else None
    known = kind if isinstance(kind, str) and len(kind) <= 40 and kind.isidentifier() else "?"
    outcome = "duplicate" if result.duplicate else (
        "accepted" if result.ok else (result.error.code if result.error else "rejected"))
    COMMANDS.labels(known, outcome).inc()


def render() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
