"""A writer that keeps writing until told to stop, for
tests/integration/test_rebuild_while_writing.py (run with `python -m`).

    python -m tests.integration.workers.steady_writer URL WRITER STOP_FILE

Opens its own accounts, then credits them one command at a time (Ledger.submit) until
STOP_FILE exists. Prints one result JSON per line; exits 0 when every command was
accepted, 1 otherwise (a raised exception exits 1 too, with its traceback).
"""

from __future__ import annotations

import json
import os
import sys

CLOCK = "2031-01-01T00:00:00Z"
ACCOUNTS = 4


def main(argv: list[str]) -> int:
    url, writer, stop = argv
    from ledger import Ledger

    led = Ledger.open(url, clock=CLOCK)
    accounts = [f"rw-{writer}-{n}" for n in range(ACCOUNTS)]
    commands: list[dict[str, object]] = [
        {"type": "open_account", "account_id": aid, "kind": "freelancer", "at": "2030-01-02"}
        for aid in accounts]
    ok = True
    n = 0
    while commands or not os.path.exists(stop):
        command = commands.pop(0) if commands else {
            "type": "credit_earnings", "account_id": accounts[n % ACCOUNTS],
            "amount": "1.25", "at": f"2030-{1 + min(n // 400, 11):02d}-15"}
        n += 0 if "kind" in command else 1
        result = led.submit(command)
        ok &= result.ok
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        sys.stdout.flush()
    led.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
