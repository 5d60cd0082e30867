"""A writer process for tests/integration/test_faults.py (run with `python -m`).

    python -m tests.integration.workers.batch_writer MODE BATCH_JSON URL [URL...]

MODE
  one            submit the batch one command at a time (Ledger.submit)
  many           submit it through the batch path (Ledger.submit_many, chunks of 5)
  crash-inline   submit all but the last command, then die (os._exit) inside the
                 transaction that stores the last one, while its views are being folded
  views-aside    the inline views stand aside (as when they lag the log); submit the
                 batch, then die (os._exit) before anything else reads or refreshes them
  resubmit       for each URL in turn: open it, submit the batch one at a time, close

Prints "ready" once the store is open, then one result JSON per line as soon as it is
known, then "done". For several URLs (the re-submission after a crash) it prints one
line per store (resubmit): {"url": ..., "results": [...]}.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

CLOCK = "2031-01-01T00:00:00Z"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    mode, batch_path, *urls = argv
    with open(batch_path, encoding="utf-8") as f:
        batch: list[dict[str, Any]] = json.load(f)
    from ledger import Ledger

    if mode == "resubmit":
        for url in urls:
            led = Ledger.open(url, clock=CLOCK)
            results = [led.submit(c).to_json() for c in batch]
            led.close()
            say(json.dumps({"url": url, "results": results}))
        say("done")
        return 0

    led = Ledger.open(urls[0], clock=CLOCK)
    if mode == "views-aside":
        import projections.projector as projector

        projector.apply_inline = lambda *args, **kwargs: None
    say("ready")
    if mode == "many":
        for start in range(0, len(batch), 5):
            for result in led.submit_many(batch[start:start + 5]):
                say(json.dumps(result.to_json()))
    else:
        last = len(batch) - 1
        for n, command in enumerate(batch):
            if mode == "crash-inline" and n == last:
                import projections.projector as projector

                def die(*args: Any, **kwargs: Any) -> None:
                    sys.stdout.flush()
                    os._exit(9)

                projector.apply_page_in = die
            say(json.dumps(led.submit(command).to_json()))
    if mode == "views-aside":
        os._exit(0)
    say("done")
    led.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
