"""`ledger serve`, `ledger keys`, `ledger accounts`: the service's subcommands.

Registered into the `ledger` parser by ledger/cli.py; they take the same global
options (--store, --policy, --clock) as every other subcommand.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
from typing import Any

from ledger.cli_support import require_existing_store
from ledger.redaction import escape_text

COMMANDS = ("serve", "keys", "accounts")


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="the HTTP service (FastAPI on uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (several on PostgreSQL; 1 on SQLite)")
    p.add_argument("--no-deliver", action="store_true",
                   help="do not run the webhook delivery loop in this server")
    p = sub.add_parser("keys", help="API keys: create, list, revoke")
    keys = p.add_subparsers(dest="keys_command", required=True)
    k = keys.add_parser("create", help="make a key; prints its secret once")
    k.add_argument("name", help="what the key is for")
    # `--scope A B`, `--scope A --scope B` and `--scope A,B` all name two scopes.
    k.add_argument("--scope", action="extend", nargs="+", required=True, dest="scopes",
                   metavar="SCOPE",
                   help="the scopes it may use (several after one --scope, or repeated): "
                        "accounts:write, operations:write, accounts:read, events:read, "
                        "billing:run, audit:run, admin, metrics")
    k.add_argument("--actor", help="the only actor its account actions may name")
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k = keys.add_parser("list", help="ids, names, scopes and state (never secrets)")
    k.add_argument("--json", action="store_true", help="print JSON lines")
    k = keys.add_parser("revoke", help="revoke a key; every worker refuses it at once")
    k.add_argument("key_id", help="the key's id (key_…)")
    p = sub.add_parser("accounts", help="list and search accounts (the list endpoint's query)")
    p.add_argument("--kind", help="freelancer, member, agency, company or enterprise")
    p.add_argument("--plan", help="basic or plus")
    p.add_argument("--status", help="active, suspended or closed")
    p.add_argument("--prefix", help="account ids starting with this")
    p.add_argument("--limit", type=int, default=100, help="at most this many (1 to 1000)")
    p.add_argument("--cursor", help="the next_cursor of the previous page")
    p.add_argument("--json", action="store_true", help="print the page as one JSON object")


def run(args: argparse.Namespace, open_ledger: Any) -> int:
    if args.command == "serve":
        return _serve(args)
    if args.command == "accounts" or getattr(args, "keys_command", None) in ("list", "revoke"):
        require_existing_store(args.store)  # a read never creates a store by a typo
    ledger = open_ledger(args)
    try:
        if args.command == "keys":
            return _keys(ledger, args)
        return _accounts(ledger, args)
    finally:
        ledger.close()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ledger.stores import parse_store_url, resolve_url

    url = resolve_url(args.store)
    spec = parse_store_url(url)
    if spec.kind == "memory":
        print("ledger: serve needs a store that outlives the process (sqlite:/// or "
              "postgresql://)", file=sys.stderr)
        return 2
    if args.workers > 1 and spec.kind == "sqlite":
        print("ledger: several workers need PostgreSQL; serve a SQLite store with one",
              file=sys.stderr)
        return 2
    from ledger.application import Ledger

    # Refused before serving, in one line (R-8.7: a catalog that differs from a version
    # the store adopted is `policy_mismatch`, exit 2), not by each worker's startup.
    Ledger.open(url, clock=args.clock, policy=args.policy).close()
    os.environ["LEDGER_STORE"] = url
    for option, name in ((args.policy, "LEDGER_POLICY"), (args.clock, "LEDGER_CLOCK")):
        if option is not None:
            os.environ[name] = option
    os.environ["LEDGER_SERVE_DELIVER"] = "0" if args.no_deliver else "1"
    # One console session secret for every worker of this server.
    os.environ.setdefault("LEDGER_CONSOLE_SECRET", secrets.token_urlsafe(32))
    # One line on standard error, so whoever started it knows where it listens.
    workers = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
    delivery = "no webhook delivery" if args.no_deliver else "delivering webhooks"
    print(f"ledger serve: http://{args.host}:{args.port} on {spec.redacted}, {workers}, "
          f"{delivery}; the console at /console (Ctrl-C stops)", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="ledger-metrics-") as figures:
        if args.workers > 1:
            # Each worker writes its figures here; any worker's scrape sums them all.
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = figures
        uvicorn.run("service.app:create_app", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level="warning", access_log=False,
                    timeout_keep_alive=30)
    return 0


def _keys(ledger: Any, args: argparse.Namespace) -> int:
    from ledger.api_keys import KeyError_, create_key, list_keys, revoke_key

    try:
        if args.keys_command == "create":
            key, secret = create_key(ledger, args.name,
                                     [s for given in args.scopes for s in given.split(",") if s],
                                     args.actor)
            if args.json:
                print(json.dumps({**key.listing(), "secret": secret}))
            else:
                print(f"{key.key_id}  {secret}")
                print("the secret is shown this once: keep it now", file=sys.stderr)
            return 0
        if args.keys_command == "list":
            for key in list_keys(ledger):
                row = key.listing()
                if args.json:
                    print(json.dumps(row))
                else:
                    actor = f"  actor {escape_text(row['actor'])}" if row["actor"] else ""
                    print(f"{row['key_id']}  {row['state']:<7}  {escape_text(row['name'])}  "
                          f"{','.join(row['scopes'])}{actor}")
            return 0
        key = revoke_key(ledger, args.key_id)
        print(f"{key.key_id} revoked")
        return 0
    except KeyError_ as exc:
        from ledger.store_errors import safe_message

        print(f"ledger: {safe_message(str(exc), args.store)}", file=sys.stderr)
        return 2


def _accounts(ledger: Any, args: argparse.Namespace) -> int:
    from ledger.errors import LedgerError
    from service.queries import list_accounts

    try:
        page = list_accounts(ledger, kind=args.kind, plan=args.plan, status=args.status,
                             prefix=args.prefix, limit=args.limit, cursor=args.cursor)
    except LedgerError as exc:
        print(f"ledger: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(page.to_json()))
        return 0
    for v in page.data:
        plan = v["plan"] or "-"
        print(f"{v['account_id']:<24} {v['kind']:<10} {plan:<5} {v['status']:<9} "
              f"connects {v['connects']:>5}  available {v['earnings']['available']}")
    if page.has_more:
        print(f"more: --cursor {page.next_cursor}")
    return 0
