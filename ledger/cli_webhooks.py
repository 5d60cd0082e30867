"""`ledger webhooks ...`: create, list and delete endpoints, list an endpoint's deliveries,
and run the delivery worker (`deliver [--once]`: exit 0 whatever the receivers answered,
their failures being scheduled retries; 2 on an unusable store)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger.cli_support import require_existing_store
from ledger.redaction import escape_text

if TYPE_CHECKING:
    from ledger.application import Ledger

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2


def add_webhooks_parser(sub: Any) -> None:
    p = sub.add_parser("webhooks", help="webhook endpoints and their delivery worker")
    hooks = p.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    c = hooks.add_parser("create", help="a new endpoint; prints its id and secret (once)")
    c.add_argument("url", help="where to POST the signed events (http or https)")
    c.add_argument("--type", dest="types", action="append", metavar="EVENT",
                   help="an event name to send (repeatable; default: every event)")
    c.add_argument("--json", action="store_true", help="print JSON")
    c = hooks.add_parser("list", help="the endpoints (never their secrets)")
    c.add_argument("--json", action="store_true", help="print JSON")
    c = hooks.add_parser("delete", help="remove an endpoint")
    c.add_argument("endpoint", help="the endpoint id")
    c = hooks.add_parser("deliveries", help="an endpoint's recent attempts, newest first")
    c.add_argument("endpoint", help="the endpoint id")
    c.add_argument("--limit", type=int, default=20, help="how many attempts (default 20)")
    c.add_argument("--json", action="store_true", help="print JSON")
    c = hooks.add_parser("deliver", help="send the feed to every endpoint")
    c.add_argument("--once", action="store_true",
                   help="one pass (first tries and due retries), then exit")


def run_webhooks(args: argparse.Namespace, open_ledger: Callable[[], Ledger]) -> int:
    from webhooks.endpoints import EndpointError

    if args.webhooks_command in ("list", "delete", "deliveries", "deliver"):
        # A read never creates a store by a typo; nor does a worker, which would only
        # find nothing to deliver in a new one (an unusable store: exit 2, HTTP.md).
        require_existing_store(args.store)
    app = open_ledger()
    try:
        return _run(app, args)
    except EndpointError as exc:
        from ledger.store_errors import safe_message

        print(f"ledger: {exc.code}: {safe_message(exc.message, args.store)}",
              file=sys.stderr)  # the id sent is echoed escaped
        return EXIT_NOT_FOUND if exc.code == "not_found" else EXIT_USAGE
    finally:
        app.close()


def _principal() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _run(app: Ledger, args: argparse.Namespace) -> int:
    from webhooks.deliveries import list_deliveries
    from webhooks.endpoints import create_endpoint, delete_endpoint, list_endpoints

    command = args.webhooks_command
    if command == "create":
        endpoint_id, secret = create_endpoint(app, args.url, args.types, _principal())
        if args.json:
            print(json.dumps({"id": endpoint_id, "secret": secret}))
        else:
            print(f"endpoint {endpoint_id}\nsecret   {secret}\n"
                  "(the secret is shown this once: keep it for verifying signatures)")
        return EXIT_OK
    if command == "list":
        rows = [e.to_json() for e in list_endpoints(app)]
        if args.json:
            print(json.dumps(rows))
        for row in rows if not args.json else []:
            state = row["status"] + (f" ({row['disabled_reason']})" if row["disabled_reason"]
                                     else "")
            print(f"{row['id']}  {escape_text(row['url'])}  types={','.join(row['types'])}"
                  f"  {escape_text(state)}")
        return EXIT_OK
    if command == "delete":
        delete_endpoint(app, args.endpoint, _principal())
        print(f"deleted {args.endpoint}")
        return EXIT_OK
    if command == "deliveries":
        rows, _ = list_deliveries(app, args.endpoint, args.limit)
        if args.json:
            print(json.dumps(rows))
        for row in rows if not args.json else []:
            answer = row["status"] if row["status"] is not None else row["error"]
            then = f"  next try {row['next_try']}" if row["next_try"] else ""
            print(f"{row['at']}  event {row['event_id']}  try {row['attempt']}  {answer}{then}")
        return EXIT_OK
    return _deliver(app, args.once)


def _lock_wait_s() -> float:
    """How long `--once` waits for another worker to let go (LEDGER_WEBHOOK_LOCK_WAIT):
    long enough for another one-pass worker to finish, not so long that a pass beside a
    running `serve` (which holds the lock for good, and delivers) looks hung."""
    try:
        return float(os.environ.get("LEDGER_WEBHOOK_LOCK_WAIT", "10"))
    except ValueError:
        return 10.0


def _deliver(app: Ledger, once: bool) -> int:
    from webhooks.runner import deliver_forever, deliver_once

    if once:
        tally = deliver_once(app, _lock_wait_s())
        if tally is None:
            print("ledger: another worker is delivering for this store; nothing done",
                  file=sys.stderr)
            return EXIT_OK
        print(json.dumps(tally.to_json()))
        return EXIT_OK
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    deliver_forever(app, stop)
    return EXIT_OK
