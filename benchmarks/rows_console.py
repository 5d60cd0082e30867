"""Issue 13: the console's account page of a 100,000-event account against a 10-event
one, server time (the ASGI app in process, no network), p95 of repeated renders."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.registry import Row, p95_under, register_row, register_workload

START = datetime(2030, 1, 1, tzinfo=UTC)
RENDERS = 200


@dataclass(frozen=True)
class _Key:
    key_id: str
    scopes: frozenset[str]


class _OneKey:
    """A key directory of one key, enough to sign in."""

    key = _Key("bench", frozenset({"accounts:read"}))

    def by_secret(self, secret: str) -> _Key | None:
        return self.key if secret == "lk_bench" else None

    def by_id(self, key_id: str) -> _Key | None:
        return self.key if key_id == "bench" else None


def account_page(url: str, n: int) -> dict[str, Any]:
    """p50/p95 of GET /console/accounts/{id} for one account of about n events."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from ledger.application import Ledger
    from service.console import make_console_router

    led = Ledger.open(url, clock="2031-01-01")
    led.submit({"type": "open_account", "account_id": "fl-x", "kind": "freelancer",
                "at": START.isoformat()})
    cmds = []
    for k in range(max(0, (n - 2) // 2)):
        when = (START + timedelta(minutes=k)).isoformat()
        cmds.append({"type": "credit_earnings", "account_id": "fl-x", "amount": "1.00",
                     "at": when})
        cmds.append({"type": "withdraw_earnings", "account_id": "fl-x", "amount": "1.00",
                     "at": when})
    led.submit_many(cmds)
    led.refresh_views()
    api = FastAPI()
    api.include_router(make_console_router(lambda: led, _OneKey()))
    served: list[float] = []

    async def timed(scope: Any, receive: Any, send: Any) -> None:
        # server time: from the request reaching the app to its last byte handed back
        t = time.perf_counter()
        await api(scope, receive, send)
        served.append(time.perf_counter() - t)

    client = TestClient(timed, base_url="http://127.0.0.1")
    page = client.get("/console/sign-in")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    client.post("/console/sign-in", data={"secret": "lk_bench", "csrf": csrf})
    events = led.account("fl-x").version
    times = []
    for i in range(RENDERS if n >= 1000 else 20):  # a smoke run only shows it works
        # every fourth render at a point in time in the middle of the history
        query = "?as_of=2030-01-02" if i % 4 == 3 else ""
        answer = client.get(f"/console/accounts/fl-x{query}")
        times.append(served[-1])
        assert answer.status_code == 200, answer.status_code
    first = times[0]  # the first render reads the chart's points and markers from the store
    times.sort()
    return {"rate": 1 / statistics.median(times), "unit": "pages/s", "events": events,
            "first_ms": 1000 * first,
            "p50_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * times[int(0.95 * len(times)) - 1]}


register_workload("console_account_page", account_page)
register_row(Row("console.account_page.sqlite", "console account page, 100,000 vs 10 events",
                 "sqlite", "console_account_page", 100_000, 100, "console_account_page",
                 (10, 10), p95_under(200, 2.0), 13, ratio_by="p95_ms"))
