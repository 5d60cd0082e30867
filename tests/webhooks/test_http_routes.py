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


def _every_page(base: str, path: str, limit: int) -> list[Any]:
    """Follow `next_cursor` to the end, checking each page's shape."""
    seen: list[Any] = []
    cursor = None
    for _ in range(100):
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        status, page, text = call(base, "GET", path + query)
        assert status == 200, text
        assert len(page["data"]) <= limit
        seen += page["data"]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return seen
        cursor = page["next_cursor"]
        assert cursor
    raise AssertionError("the pages never ended")


def test_endpoint_and_delivery_lists_page_by_cursor(url: str) -> None:
    with serving(url) as base, Receiver() as receiver:
        made = [call(base, "POST", "/v1/webhook-endpoints",
                     {"url": receiver.url, "types": ["*"]})[1] for _ in range(5)]
        listed = _every_page(base, "/v1/webhook-endpoints", 2)
        assert [e["id"] for e in listed] == [e["id"] for e in call(
            base, "GET", "/v1/webhook-endpoints")[1]["data"]]
        assert sorted(e["id"] for e in listed) == sorted(m["id"] for m in made)
        receiver.secret = made[0]["secret"]  # the others' deliveries fail with 401
        open_accounts(url, 0, 3)  # six events, each delivered to every endpoint
        ok(ledger(url, "webhooks", "deliver", "--once"))
        path = f"/v1/webhook-endpoints/{made[0]['id']}/deliveries"
        paged = _every_page(base, path, 4)
        whole = call(base, "GET", path + "?limit=1000")[1]["data"]
        assert paged == whole and len(whole) == 6
        assert {d["status"] for d in whole} == {204}
        for bad in ("zzz", "1~2", "1~99999999999999999999~1", "nan~1~1", "inf~1~1"):
            status, problem, _ = call(base, "GET", f"{path}?cursor={bad}")
            assert status == 422 and problem["code"] == "validation_error", bad
        for bad in ("zzz", "~we_x", "99999999999999999999~we_x", "1~"):
            status, problem, _ = call(base, "GET", f"/v1/webhook-endpoints?cursor={bad}")
            assert status == 422 and problem["code"] == "validation_error", bad
        # A page goes on after its cursor's endpoint even when that one was deleted
        first = call(base, "GET", "/v1/webhook-endpoints?limit=1")[1]
        assert call(base, "DELETE", f"/v1/webhook-endpoints/{first['data'][0]['id']}")[0] == 204
        rest = call(base, "GET", f"/v1/webhook-endpoints?cursor={first['next_cursor']}")
        assert rest[0] == 200 and [e["id"] for e in rest[1]["data"]] == [
            e["id"] for e in listed[1:]], rest


def test_an_endpoint_url_with_credentials_or_a_bad_port_is_refused(url: str) -> None:
    with serving(url) as base:
        for bad in ("http://user:pw@example.test/hook", "http://user@example.test/hook",
                    "http://example.test:99999/hook", "http://example.test:pw/hook"):
            status, problem, text = call(base, "POST", "/v1/webhook-endpoints",
                                         {"url": bad, "types": ["*"]})
            assert status == 422 and problem["code"] == "validation_error", (bad, text)
            assert "pw" not in problem["detail"]
        assert call(base, "GET", "/v1/webhook-endpoints")[1]["data"] == []
