"""Run the benchmarks and print one table: medians, baselines from the same run, ratios.

    python -m benchmarks.run            # full sizes (minutes); SQLite, and PostgreSQL if it answers
    python -m benchmarks.run --quick    # tiny sizes: a smoke run (the test suite uses it)

Every workload runs in a fresh process on a fresh store, `--repeat` times (median
reported); peak memory is that process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Row:
    workload: str
    full: int
    quick: int
    baselines: tuple[str, ...] = ()
    label: str = ""


PLAN = (
    Row("commands_one_at_a_time", 2000, 60,
        ("library_get_save", "library_save", "raw_one_row_per_transaction")),
    Row("commands_batch", 20000, 300, ("library_get_save", "library_batch_save")),
    Row("cli_submit_file", 20000, 300, ("library_batch_save", "raw_executemany")),
    Row("billing_run", 100_000, 50, ("library_batch_save",)),
    Row("audit_replay", 1_000_000, 300, ("library_read_decode", "raw_select_all")),
    Row("as_of_queries", 10, 10, (), "as_of_queries (10 events)"),
    Row("as_of_queries", 1000, 100, (), "as_of_queries (1,000 events)"),
    Row("as_of_queries", 100_000, 400, (), "as_of_queries (100,000 events)"),
)
BASELINE_SIZES = {
    "library_get_save": (2000, 100), "library_save": (2000, 100),
    "library_batch_save": (20000, 2000), "library_read_decode": (200_000, 2000),
    "raw_one_row_per_transaction": (2000, 100), "raw_executemany": (200_000, 2000),
    "raw_select_all": (1_000_000, 2000),
}


def run_one(name: str, url: str, size: int) -> dict[str, Any]:
    from benchmarks.workloads import WORKLOADS

    result = WORKLOADS[name](url, size)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def measure(name: str, store: str, size: int, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}" if store == "sqlite" else _fresh_pg()
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.run", "--one", name, "--url", url,
                 "--size", str(size)], capture_output=True, text=True, check=False)
            if out.returncode != 0:
                last = (out.stderr.strip().splitlines() or ["?"])[-1]
                return {"error": last}
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    merged = dict(runs[-1])
    merged["rate"] = statistics.median(r["rate"] for r in runs)
    merged["peak_mb"] = max(r["peak_mb"] for r in runs)
    for key in ("p50_ms", "p99_ms", "seconds"):
        if key in runs[0]:
            merged[key] = statistics.median(r[key] for r in runs)
    return merged


def _fresh_pg() -> str:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for (table,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall():
            conn.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    return PG_URL


def postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except Exception:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--only", help="comma-separated workloads")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.url, args.size)))
        return 0
    stores = [s for s in args.stores.split(",") if s == "sqlite" or postgres_answers()]
    only = set(args.only.split(",")) if args.only else None
    lines = ["| store | workload | size | median | unit | peak MB | vs baseline (same run) |",
             "|---|---|---:|---:|---|---:|---|"]
    for store in stores:
        baseline_cache: dict[str, dict[str, Any]] = {}
        for row in PLAN:
            if only and row.workload not in only:
                continue
            size = row.quick if args.quick else row.full
            res = measure(row.workload, store, size, args.repeat)
            lines.append(_line(store, row, size, res, baseline_cache, args))
            print(lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines))
    return 0


def _line(store: str, row: Row, size: int, res: dict[str, Any],
          cache: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    label = row.label or row.workload
    if "error" in res:
        return f"| {store} | {label} | {size:,} | failed: {res['error'][:80]} | | | |"
    comparisons = []
    for name in row.baselines:
        if name not in cache:
            full, quick = BASELINE_SIZES[name]
            cache[name] = measure(name, store, quick if args.quick else full, args.repeat)
        base = cache[name]
        if "error" in base:
            comparisons.append(f"{name}: failed")
        else:
            comparisons.append(f"{name} {base['rate']:,.0f} {base['unit']} "
                               f"(ours {res['rate'] / base['rate']:.2f}x)")
    extra = ""
    if "p99_ms" in res:
        extra = f"p50 {res['p50_ms']:.3f} ms, p99 {res['p99_ms']:.3f} ms ({res['events']:,} events)"
    if "seconds" in res:
        extra = f"{res['seconds']:.1f} s for {size:,} accounts"
    detail = "; ".join(c for c in (extra, *comparisons) if c)
    return (f"| {store} | {label} | {size:,} | {res['rate']:,.0f} | {res['unit']} | "
            f"{res['peak_mb']:.0f} | {detail} |")


if __name__ == "__main__":
    sys.exit(main())
