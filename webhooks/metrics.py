"""Webhook figures for `/metrics` (the default Prometheus registry, as the service's own).

The gauges are set by whichever worker delivers; with several workers a scrape shows the
most recent value written by any of them (prometheus-client's `mostrecent` mode).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERED = Counter("ledger_webhook_delivered", "Webhook attempts answered 2xx", ["endpoint"])
FAILED = Counter("ledger_webhook_failed",
                 "Webhook attempts that failed (non-2xx, no answer, timeout)", ["endpoint"])
PENDING = Gauge("ledger_webhook_pending", "Events waiting for a retry", ["endpoint"],
                multiprocess_mode="mostrecent")
LAG = Gauge("ledger_webhook_lag_notifications",
            "Notifications in the log not yet given their first try", ["endpoint"],
            multiprocess_mode="mostrecent")
DISABLED = Counter("ledger_webhook_disabled", "Endpoints disabled after 3 days of failure")
LATENCY = Histogram("ledger_webhook_delivery_lag_seconds",
                    "From an event's recording to its delivery (first tries answered 2xx)",
                    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600))
