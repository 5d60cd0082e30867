"""The /v1/webhook-endpoints routes on a real server (uvicorn on a free 127.0.0.1 port),
behind a stand-in for the service's admin-scope check."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request

from ledger.application import Ledger
from tests.webhooks.conftest import CLOCK, ledger, ok, open_accounts
from tests.webhooks.receiver import Receiver
from webhooks.http import make_router

ADMIN = "admin-secret"


def _admin(request: Request) -> str:
    if request.headers.get("authorization") != f"Bearer {ADMIN}":
        raise HTTPException(403, "needs the admin scope")
    return "key-admin"


@contextmanager
def serving(url: str) -> Iterator[str]:
    app_ledger = Ledger.open(url, clock=CLOCK)
    lock = threading.RLock()

    @contextmanager
    def use() -> Iterator[Ledger]:
        with lock:
            yield app_ledger

    api = FastAPI()
    api.include_router(make_router(use, _admin))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app_ledger.close()


def call(base: str, method: str, path: str, body: Any = None,
         key: str = ADMIN) -> tuple[int, Any, str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None, text
    except urllib.error.HTTPError as exc:
        text = exc.read().decode()
        return exc.code, json.loads(text) if text else None, text


def test_create_list_deliveries_and_delete_over_http(url: str) -> None:
    with serving(url) as base, Receiver() as receiver:
        # A key without the admin scope is refused
        assert call(base, "GET", "/v1/webhook-endpoints", key="other")[0] == 403
        # Creating answers the id and the secret, once
        status, made, _ = call(base, "POST", "/v1/webhook-endpoints",
                               {"url": receiver.url, "types": ["*"]})
        assert status == 201 and made["secret"].startswith("whsec_")
        receiver.secret = made["secret"]
        status, listed, text = call(base, "GET", "/v1/webhook-endpoints")
        assert status == 200 and [e["id"] for e in listed["data"]] == [made["id"]]
        assert made["secret"] not in text
        # Bad input is a 422 problem; an unknown endpoint a 404
        status, problem, _ = call(base, "POST", "/v1/webhook-endpoints",
                                  {"url": "gopher://x", "types": ["*"]})
        assert status == 422 and problem["code"] == "validation_error"
        status, problem, _ = call(base, "POST", "/v1/webhook-endpoints",
                                  {"url": receiver.url, "types": ["NoSuchEvent"]})
        assert status == 422
        assert call(base, "GET", "/v1/webhook-endpoints/we_nope/deliveries")[0] == 404
        # Deliveries made by the worker are listed
        open_accounts(url, 0, 1)
        ok(ledger(url, "webhooks", "deliver", "--once"))
        status, page, _ = call(base, "GET",
                               f"/v1/webhook-endpoints/{made['id']}/deliveries?limit=5")
        assert status == 200 and len(page["data"]) == 2
        assert {d["status"] for d in page["data"]} == {204}
        assert len(receiver.events) == 2
        # Deleting removes it
        assert call(base, "DELETE", f"/v1/webhook-endpoints/{made['id']}")[0] == 204
        assert call(base, "GET", "/v1/webhook-endpoints")[1]["data"] == []
        assert call(base, "DELETE", f"/v1/webhook-endpoints/{made['id']}")[0] == 404
