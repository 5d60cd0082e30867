"""A webhook receiver as the README tells receivers to write one: check the signature
over `{webhook-id}.{webhook-timestamp}.{body}` with the endpoint's secret, then
deduplicate by `webhook-id`. It runs on a free 127.0.0.1 port in a thread of the test.

`fail_first[id] = n` answers 500 to the first n attempts of that event; `slow` makes it
answer nothing for that many seconds; `redirect_to` answers 307 to everything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def verify(secret: str, headers: Any, body: bytes) -> bool:
    """The README's recipe, word for word."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())


class Receiver:
    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.events: dict[str, dict[str, Any]] = {}  # webhook-id -> body, first copy kept
        self.order: list[str] = []  # ids in the order first received
        self.copies: Counter[str] = Counter()  # every copy received (duplicates > 1)
        self.attempts: Counter[str] = Counter()
        self.bad_signatures = 0
        self.torn_requests = 0
        self.fail_first: dict[str, int] = {}
        self.fail_all = False
        self.slow = 0.0
        self.redirect_to: str | None = None
        self.headers_seen: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *args: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length", 0))
        body = request.rfile.read(length)
        if len(body) < length:
            # A sender killed between its headers and its body: a torn request, nobody's
            # signature to judge and nothing delivered (the sender sends it again).
            with self.lock:
                self.torn_requests += 1
            return
        if self.slow:
            time.sleep(self.slow)
        if self.redirect_to:
            self._answer(request, 307, {"Location": self.redirect_to})
            return
        if not self.secret or not verify(self.secret, request.headers, body):
            with self.lock:
                self.bad_signatures += 1
            self._answer(request, 401)
            return
        webhook_id = request.headers["webhook-id"]
        with self.lock:
            self.attempts[webhook_id] += 1
            self.headers_seen.append({k.lower(): v for k, v in request.headers.items()})
            if self.fail_all or self.attempts[webhook_id] <= self.fail_first.get(webhook_id, 0):
                failing = True
            else:
                failing = False
                self.copies[webhook_id] += 1
                if webhook_id not in self.events:  # deduplicate by webhook-id
                    self.events[webhook_id] = json.loads(body)
                    self.order.append(webhook_id)
        self._answer(request, 500 if failing else 204)

    def _answer(self, request: BaseHTTPRequestHandler, status: int,
                headers: dict[str, str] | None = None) -> None:
        request.send_response(status)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.send_header("Content-Length", "0")
        request.end_headers()
