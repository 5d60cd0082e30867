"""Issue 14: `ledger-replay what-if --policy FILE` on the demo's store (`ledger demo
--accounts N`, a year), with the catalog unchanged (it must find no difference) and with
a higher Plus price (it must find more revenue). Both through the command line's own
entry point; the demo's store is built first, in the same process, and is not timed.
Peak MB is the process's, the demo's build included (as for every row)."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.registry import Row, register_row, register_workload

PLUS_RAISE = Decimal("5.00")  # USD a month more for a freelancer's and an agency's Plus


def _catalog(folder: Path, raise_by: Decimal) -> Path:
    from ledger.policy import default_catalog

    data: dict[str, Any] = default_catalog().model_dump(mode="json")
    for version in data["versions"]:
        for kind in ("freelancer", "agency"):
            plus = version["plans"][kind]["plus"]
            plus["price"] = str(Decimal(str(plus["price"])) + raise_by)
    path = folder / f"catalog-plus-{raise_by}.json"
    path.write_text(json.dumps(data))
    return path


def _demo(url: str, n: int) -> None:
    from ledger.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["--store", url, "demo", "--accounts", str(n)])
    if code != 0:
        raise RuntimeError(f"ledger demo exited {code}")


def _what_if(url: str, policy: Path) -> tuple[dict[str, Any], float]:
    from replay_tools.cli import main

    out = io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["--store", url, "what-if", "--policy", str(policy), "--json"])
    seconds = time.perf_counter() - t
    if code != 0:
        raise RuntimeError(f"ledger-replay what-if exited {code}")
    report: dict[str, Any] = json.loads(out.getvalue())
    return report, seconds


def what_if_demo(url: str, n: int, raise_by: Decimal) -> dict[str, Any]:
    """The demo's store of n accounts, then what-if under the catalog with the Plus
    price raised by `raise_by` (0: unchanged)."""
    _demo(url, n)
    with tempfile.TemporaryDirectory() as tmp:
        report, seconds = _what_if(url, _catalog(Path(tmp), raise_by))
    revenue = report["totals"].get("revenue", {})
    difference = sum(Decimal(row["difference"]) for row in revenue.values())
    if raise_by == 0 and not report["same"]:
        raise RuntimeError("what-if found differences under the unchanged catalog")
    if raise_by > 0 and difference <= 0 and n >= 100:
        raise RuntimeError(f"a higher Plus price gave a revenue difference of {difference}")
    commands = int(report["commands"])
    return {"rate": commands / seconds, "unit": "commands/s", "seconds": seconds,
            "commands": commands, "accounts_differ": len(report["accounts"]),
            "revenue_difference": str(difference)}


def what_if_unchanged(url: str, n: int) -> dict[str, Any]:
    return what_if_demo(url, n, Decimal("0"))


def what_if_plus_price(url: str, n: int) -> dict[str, Any]:
    return what_if_demo(url, n, PLUS_RAISE)


register_workload("what_if_unchanged", what_if_unchanged)
register_workload("what_if_plus_price", what_if_plus_price)
register_row(Row("what_if.demo.sqlite", "ledger-replay what-if on the demo's store, catalog "
                 "unchanged", "sqlite", "what_if_unchanged", 1000, 10, issue=14))
register_row(Row("what_if.demo_plus.sqlite", "ledger-replay what-if on the demo's store, "
                 f"Plus +{PLUS_RAISE} USD", "sqlite", "what_if_plus_price", 1000, 10, issue=14))
