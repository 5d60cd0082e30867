"""Run the benchmarks and print one table: every path, its baseline from the same run,
the ratio, the target and whether it is met.

    python -m benchmarks.run            # full sizes; SQLite, and PostgreSQL if it answers
    python -m benchmarks.run --quick    # tiny sizes: a smoke run (the test suite uses it)
    python -m benchmarks.run --only single,as_of --stores sqlite --repeat 5

Every workload runs in a fresh process on a fresh store, `--repeat` times (median
reported); peak memory is that process's maximum resident set size, data building
included. PostgreSQL runs use their own database (`ledger_bench_<pid>`), dropped and
made again for every workload and dropped at the end, so they never touch the test
suite's database or another run's. Rows come from
the registry (benchmarks/registry.py): every `benchmarks/rows_*.py` module adds its own.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchmarks
from benchmarks.registry import Result, Row, rows, workload

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_ADMIN_URL = f"{PG_SERVER}/test"
# One database per run (the runner's pid): two runs at once never drop each other's.
PG_BENCH_DB = f"ledger_bench_{os.getpid()}"
HEADER = ("| path | store | N | ours | baseline (same run) | ratio | target | met | peak MB |\n"
          "|---|---|---:|---|---|---:|---|---|---:|")


def load_row_modules() -> None:
    """Import every benchmarks/rows_*.py: each registers its rows and workloads."""
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if info.name.startswith("rows_"):
            importlib.import_module(f"benchmarks.{info.name}")


def run_one(name: str, url: str, size: int) -> Result:
    result = workload(name)(url, size)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def measure(name: str, store: str, size: int, repeat: int) -> Result:
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}" if store == "sqlite" else _fresh_pg()
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.run", "--one", name, "--url", url,
                 "--size", str(size)], capture_output=True, text=True, check=False)
            if out.returncode != 0:
                lines = out.stderr.strip().splitlines() or ["?"]
                missing = next((ln for ln in lines if "ModuleNotFoundError" in ln), None)
                if missing is not None:  # the HTTP and console rows need the test extras
                    return {"error": missing.split(":", 1)[-1].strip()
                            + " (pip install '.[test]')"}
                return {"error": lines[-1]}
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    merged = dict(runs[-1])
    merged["rate"] = statistics.median(r["rate"] for r in runs)
    merged["peak_mb"] = max(r["peak_mb"] for r in runs)
    for key in ("p50_ms", "p95_ms", "p99_ms", "seconds"):
        if key in runs[0]:
            merged[key] = statistics.median(r[key] for r in runs)
    return merged


def _fresh_pg() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    return f"{PG_SERVER}/{PG_BENCH_DB}"


def _drop_pg() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")


def postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the full sizes (e.g. 0.1 on a busy machine); N is shown")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--only", help="comma-separated row keys or key prefixes "
                                       "(single, batch, cli_submit, billing, audit, demo, "
                                       "as_of, http, console, what_if)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    load_row_modules()
    if args.one:
        print(json.dumps(run_one(args.one, args.url, args.size)))
        return 0
    wanted = args.stores.split(",")
    pg_ok = "postgresql" in wanted and postgres_answers()
    only = args.only.split(",") if args.only else None
    cache: dict[tuple[str, str, int], Result] = {}
    lines = [HEADER]
    for row in rows():
        if only and not any(row.key == o or row.key.startswith(o + ".") for o in only):
            continue
        if row.store not in wanted:
            continue
        if row.store == "postgresql" and not pg_ok:
            lines.append(_unmeasured(row, "not run: PostgreSQL did not answer"))
        elif row.workload is None:
            lines.append(_unmeasured(row, f"not measured: {row.note}"))
        else:
            lines.append(_measured(row, args, cache))
        print(lines[-1], file=sys.stderr, flush=True)
    print(_heading(args))
    print("\n".join(lines))
    if pg_ok:
        _drop_pg()
    return 0


def _heading(args: argparse.Namespace) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False, cwd=Path(__file__).parent).stdout.strip()
    sizes = ("QUICK sizes: verdicts say only that each row runs" if args.quick
             else "full sizes" if args.scale == 1.0
             else f"full sizes x {args.scale:g}: verdicts are for these N, not the targets' N")
    return (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit or '?'}, "
            f"{platform.machine()} {_cores()} cores, Python {platform.python_version()}, "
            f"{sizes}, median of {args.repeat}\n")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0


def _measured(row: Row, args: argparse.Namespace, cache: dict[tuple[str, str, int], Result]
              ) -> str:
    assert row.workload is not None
    size = _size(row.full, row.quick, args, row.scales)
    res = _cached(cache, row.workload, row.store, size, args.repeat)
    if "error" in res:
        return _cells(row, size, f"failed: {res['error'][:80]}", "", "", "", "", "")
    base_cell, ratio = "", None
    if row.baseline:
        full, quick = row.baseline_size or (row.full, row.quick)
        bsize = _size(full, quick, args, row.scales)
        base = _cached(cache, row.baseline, row.store, bsize, args.repeat)
        if "error" in base:
            base_cell = f"{row.baseline}: failed"
        else:
            base_cell = f"{row.baseline} (N={bsize:,}) {_figure(base)}"
            ratio = _ratio(row, res, base)
    target = row.target.text if row.target else "none stated"
    met = ("yes" if row.target.met(res, ratio) else "no") if row.target else "-"
    return _cells(row, size, _figure(res), base_cell,
                  f"{ratio:.2f}x" if ratio is not None else "", target, met,
                  f"{res['peak_mb']:.0f}")


def _size(full: int, quick: int, args: argparse.Namespace, scales: bool = True) -> int:
    if args.quick:
        return quick
    return max(quick, round(full * args.scale)) if scales and args.scale != 1.0 else full


def _cached(cache: dict[tuple[str, str, int], Result], name: str, store: str, size: int,
            repeat: int) -> Result:
    key = (name, store, size)
    if key not in cache:
        cache[key] = measure(name, store, size, repeat)
    return cache[key]


def _ratio(row: Row, res: Result, base: Result) -> float | None:
    ours, theirs = float(res.get(row.ratio_by, 0)), float(base.get(row.ratio_by, 0))
    return ours / theirs if theirs else None


def _figure(res: Result) -> str:
    parts = [f"{res['rate']:,.0f} {res['unit']}"]
    if "seconds" in res:
        parts.append(f"{res['seconds']:.1f} s")
    lat = [f"{k[:3]} {res[k]:.3f}" for k in ("p50_ms", "p95_ms", "p99_ms") if k in res]
    if lat:
        parts.append(" / ".join(lat) + " ms")
    if "events" in res:
        parts.append(f"{res['events']:,} events")
    return ", ".join(parts)


def _unmeasured(row: Row, why: str) -> str:
    target = row.target.text if row.target else "none stated"
    size = f"{row.full:,}" if row.full else ""
    issue = f" (#{row.issue})" if row.issue and row.issue != 16 else ""
    return (f"| {row.path}{issue} | {row.store} | {size} | {why} | {row.baseline or ''} | | "
            f"{target} | not measured | |")


def _cells(row: Row, size: int, ours: str, base: str, ratio: str, target: str, met: str,
           mb: str) -> str:
    issue = f" (#{row.issue})" if row.issue and row.issue != 16 else ""
    return (f"| {row.path}{issue} | {row.store} | {size:,} | {ours} | {base} | {ratio} | "
            f"{target} | {met} | {mb} |")


if __name__ == "__main__":
    sys.exit(main())
