"""Issue 12: webhook delivery to a local receiver that answers 204 at once: events
delivered per second from a backlog (one `deliver --once` pass, in process), and the lag
from commit to arrival (p50/p99) while a worker runs and commands arrive one at a time,
measured in one run."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from benchmarks.registry import Row, register_row, register_workload

LIVE = 100  # commands submitted one at a time while the worker runs (lag phase)


class _Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lags: list[float] = []
        self.count = 0
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import json

                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorded = json.loads(body)["recorded_at"].replace("Z", "+00:00")
                lag = time.time() - datetime.fromisoformat(recorded).timestamp()
                with arrivals.lock:
                    arrivals.lags.append(lag)
                    arrivals.count += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def _opens(first: int, count: int) -> list[dict[str, Any]]:
    return [{"type": "open_account", "account_id": f"wh-{i}", "kind": "freelancer",
             "at": "2025-06-01"} for i in range(first, first + count)]


def webhooks_delivery(url: str, n: int) -> dict[str, Any]:
    from ledger.application import Ledger
    from webhooks.delivery import Deliverer
    from webhooks.endpoints import create_endpoint
    from webhooks.runner import deliver_forever

    receiver = _Arrivals()
    led = Ledger.open(url)  # the system clock: recorded_at is real time
    create_endpoint(led, receiver.url, ["*"], "bench")
    led.submit_many(_opens(0, max(1, n // 2)))  # 2 events each
    started = time.perf_counter()
    tally = Deliverer(led).run_once()
    seconds = time.perf_counter() - started
    # The lag phase: a worker of its own (as in `serve`), commands one at a time
    receiver.lags.clear()
    worker_ledger = Ledger.open(url)
    stop = threading.Event()
    worker = threading.Thread(target=deliver_forever, args=(worker_ledger, stop), daemon=True)
    worker.start()
    live = max(5, min(LIVE, n // 10))
    for command in _opens(n, live):
        led.submit(command)
        time.sleep(0.02)
    deadline = time.monotonic() + 60
    while receiver.count < tally.delivered + 2 * live and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    worker.join(timeout=15)
    worker_ledger.close()
    led.close()
    receiver.server.shutdown()
    lags = sorted(receiver.lags)
    p99 = lags[max(0, int(0.99 * len(lags)) - 1)] if lags else 0.0
    return {"rate": tally.delivered / seconds if seconds else 0.0, "unit": "events/s",
            "events": tally.delivered, "seconds": seconds,
            "p50_ms": 1000 * statistics.median(lags) if lags else 0.0, "p99_ms": 1000 * p99}


register_workload("webhooks_delivery", webhooks_delivery)
for _store in ("sqlite", "postgresql"):
    register_row(Row(f"webhooks.delivery.{_store}",
                     "webhook delivery, events/s from a backlog; commit-to-arrival lag",
                     _store, "webhooks_delivery", 2000, 40, issue=12))
