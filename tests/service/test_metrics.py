"""`GET /metrics` of a real `ledger serve`: commands by type and outcome, latency,
billing and webhook figures on one scrape, summed over the workers when there are
several (HTTP.md's metrics; the `metrics` scope of R-1.4's keys)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.service.conftest import Server

WEBHOOK_FAMILIES = {"ledger_webhook_delivered", "ledger_webhook_failed",
                    "ledger_webhook_pending", "ledger_webhook_lag_notifications"}


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: Server, secret: str, all_families: bool = True) -> Samples:
    """One scrape on a fresh connection, as {(sample name, labels): value}.

    With several workers a family shows only once some worker wrote a value to it
    (prometheus-client's multiprocess files), so `all_families` is for one worker."""
    with server.client(secret) as c:
        response = c.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    families = set()
    for family in text_string_to_metric_families(response.text):
        families.add(family.name)
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    missing = WEBHOOK_FAMILIES - families if all_families else set()
    assert not missing, f"webhook figures missing from the scrape: {missing}"
    return samples


def commands_counted(samples: Samples, kind: str, outcome: str) -> float:
    return samples.get(("ledger_commands_total",
                        (("outcome", outcome), ("type", kind))), 0.0)


def test_one_scrape_shows_commands_latency_billing_and_webhooks(server: Server) -> None:
    metrics_key = server.key("prom", "metrics")
    writer = server.key("app", "accounts:write", "billing:run")
    with server.client(writer) as c:
        opened = [c.post("/v1/commands", json={
            "type": "open_account", "account_id": f"m-{i}", "kind": "freelancer",
            "at": "2016-05-01"}) for i in range(3)]
        again = c.post("/v1/commands", json={
            "type": "open_account", "account_id": "m-0", "kind": "freelancer",
            "at": "2016-05-02"})
        billed = c.post("/v1/billing-runs", json={"through": "2016-06-01"})
    assert [r.status_code for r in opened] == [200, 200, 200]
    refused_code = again.json()["code"]
    assert billed.status_code == 200, billed.text
    accounts_billed = billed.json()["accounts"]
    assert accounts_billed > 0  # fl-1 is on Plus since March

    samples = scrape(server, metrics_key)
    assert commands_counted(samples, "open_account", "accepted") == 3
    assert commands_counted(samples, "open_account", refused_code) == 1
    assert samples[("ledger_billing_accounts_total", ())] == accounts_billed
    requests = sum(v for (name, _), v in samples.items()
                   if name == "ledger_http_request_seconds_count")
    assert requests >= 5  # the four commands and the billing run, at least
    with server.client(metrics_key) as c:
        text = c.get("/metrics").text
    for secret in (metrics_key, writer):
        assert secret not in text


def test_the_metrics_scope_is_needed(server: Server) -> None:
    reader = server.key("reader", "accounts:read")
    with server.client(reader) as c:
        assert c.get("/metrics").status_code == 403
    assert httpx.get(f"{server.url}/metrics", timeout=10).status_code == 401


def test_with_two_workers_every_scrape_sums_both(two_workers: Server) -> None:
    metrics_key = two_workers.key("prom", "metrics")
    writer = two_workers.key("app", "accounts:write")
    sent = 30
    for i in range(sent):
        # A fresh connection each time, so the kernel hands them to both workers.
        with two_workers.client(writer) as c:
            r = c.post("/v1/commands", json={
                "type": "open_account", "account_id": f"w-{i}", "kind": "freelancer",
                "at": "2016-05-01"})
            assert r.status_code == 200, r.text
    for _ in range(6):
        samples = scrape(two_workers, metrics_key, all_families=False)
        assert commands_counted(samples, "open_account", "accepted") == sent
