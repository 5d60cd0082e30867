"""Issue 11's rows: the same command mix as the in-process rows, over HTTP to a real
`ledger serve` (a subprocess on 127.0.0.1), one request per command or one batch per
1,000, compared with Ledger.submit / submit_many measured in the same run.

Registered only where the service is installed (`service.app`); the placeholders of
rows_pending.py stand otherwise. The 2-worker row sends from 4 client threads (each
keeping its accounts' commands in order) and is compared with one worker and one client.

The client is the standard library's `http.client` on one kept-alive connection per
thread: it costs about 0.1 ms a request here against httpx's 0.7 ms, so the figures
are the server's and not a client library's (and 4 httpx threads would take a core
of their own from the 2 the workers share).
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

from benchmarks.registry import Row, at_least_ratio, register_row, register_workload
from benchmarks.workloads import command_mix

CLOCK = "2031-01-01"
BATCH = 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli(url: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "ledger.cli", "--store", url, "--clock",
                           CLOCK, *args], capture_output=True, text=True, check=True)
    return done.stdout


class _Server:
    def __init__(self, url: str, workers: int) -> None:
        import httpx

        made = json.loads(_cli(url, "keys", "create", "bench", "--scope", "accounts:write",
                               "--scope", "operations:write", "--json"))
        self.secret = str(made["secret"])
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ledger.cli", "--store", url, "--clock", CLOCK, "serve",
             "--port", str(self.port), "--workers", str(workers), "--no-deliver"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("ledger serve did not answer within 60 s")

    def connection(self) -> tuple[http.client.HTTPConnection, dict[str, str]]:
        headers = {"Authorization": f"Bearer {self.secret}",
                   "Content-Type": "application/json"}
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120), headers

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _post(conn: http.client.HTTPConnection, path: str, body: Any,
          headers: dict[str, str]) -> tuple[int, bytes]:
    conn.request("POST", path, body=json.dumps(body).encode(), headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _send_each(server: _Server, commands: list[dict[str, Any]], latencies: list[float]) -> int:
    ok = 0
    conn, headers = server.connection()
    try:
        for command in commands:
            t = time.perf_counter()
            status, _ = _post(conn, "/v1/commands", command, headers)
            latencies.append((time.perf_counter() - t) * 1000)
            ok += status == 200
    finally:
        conn.close()
    return ok


def _latency(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50_ms": statistics.median(ordered), "p99_ms": p99}


def http_single(url: str, n: int, workers: int = 1, clients: int = 1) -> dict[str, Any]:
    commands = list(command_mix(max(10, n // 20), n))
    server = _Server(url, workers)
    try:
        # Each client thread takes whole accounts, so an account's commands stay in order.
        parts: list[list[dict[str, Any]]] = [[] for _ in range(clients)]
        for command in commands:
            parts[int(command["account_id"].split("-")[1]) % clients].append(command)
        latencies: list[list[float]] = [[] for _ in range(clients)]
        accepted = [0] * clients

        def run(i: int) -> None:
            accepted[i] = _send_each(server, parts[i], latencies[i])

        threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
        t = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        dt = time.perf_counter() - t
    finally:
        server.stop()
    return {"rate": len(commands) / dt, "unit": "commands/s", "accepted": sum(accepted),
            **_latency([x for part in latencies for x in part])}


def http_two_workers(url: str, n: int) -> dict[str, Any]:
    return http_single(url, n, workers=2, clients=4)


def http_batch(url: str, n: int) -> dict[str, Any]:
    commands = list(command_mix(max(10, n // 20), n))
    server = _Server(url, 1)
    latencies: list[float] = []
    ok = 0
    try:
        conn, headers = server.connection()
        t = time.perf_counter()
        for start in range(0, len(commands), BATCH):
            s = time.perf_counter()
            _, body = _post(conn, "/v1/commands/batch", commands[start:start + BATCH], headers)
            latencies.append((time.perf_counter() - s) * 1000)
            ok += sum(1 for x in json.loads(body) if x.get("ok"))
        dt = time.perf_counter() - t
        conn.close()
    finally:
        server.stop()
    return {"rate": len(commands) / dt, "unit": "commands/s", "accepted": ok,
            **_latency(latencies)}


if importlib.util.find_spec("service.app") is not None:
    register_workload("http_single", http_single)
    register_workload("http_batch", http_batch)
    register_workload("http_two_workers", http_two_workers)
    for _store in ("sqlite", "postgresql"):
        register_row(Row(f"http.single.{_store}", "HTTP POST /v1/commands, one worker",
                         _store, "http_single", full=2000, quick=30,
                         baseline="commands_one_at_a_time", target=at_least_ratio(0.7),
                         issue=11))
        register_row(Row(f"http.batch.{_store}", "HTTP POST /v1/commands/batch, one worker",
                         _store, "http_batch", full=20000, quick=200,
                         baseline="commands_batch", target=at_least_ratio(0.9), issue=11))
    register_row(Row("http.two_workers.postgresql", "HTTP POST /v1/commands, 2 workers",
                     "postgresql", "http_two_workers", full=2000, quick=30,
                     baseline="http_single", target=at_least_ratio(1.5), issue=11))
