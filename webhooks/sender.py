"""One POST to a receiver: 10 s timeout, redirects never followed, no proxy.

The answer is the status code (any code: 3xx is not followed, it is a failed attempt) or
the reason there was none. Error texts name the failure, never the URL (it may carry
credentials) nor the secret.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT_S = 10.0
READ_AT_MOST = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx answer stands as it is


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def timeout_s() -> float:
    """10 s; LEDGER_WEBHOOK_TIMEOUT overrides it (tests of slow receivers)."""
    try:
        return float(os.environ.get("LEDGER_WEBHOOK_TIMEOUT", TIMEOUT_S))
    except ValueError:
        return TIMEOUT_S


def post(url: str, body: bytes, headers: dict[str, str], timeout: float | None = None) -> Answer:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "subscription-ledger-webhooks/1",
        **headers})
    try:
        with _opener.open(request, timeout=timeout or timeout_s()) as response:
            response.read(READ_AT_MOST)
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return Answer(int(exc.code), f"HTTP {exc.code}")
    except TimeoutError:
        return Answer(None, "no answer within the timeout")
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return Answer(None, "no answer within the timeout")
        return Answer(None, f"cannot connect: {_short(reason)}")
    except (OSError, ValueError, http.client.HTTPException) as exc:
        return Answer(None, f"failed: {type(exc).__name__}: {_short(exc)}")
    return Answer(status, "" if 200 <= status < 300 else f"HTTP {status}")


def _short(reason: object) -> str:
    text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
    return (text.splitlines()[0] if text else type(reason).__name__)[:200]
