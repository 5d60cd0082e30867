"""The registry of benchmark rows and workloads that `python -m benchmarks.run` prints.

Any module named `benchmarks/rows_<topic>.py` is imported by the runner (in the parent
and in every workload's child process), so another part of the project adds its own
paths without editing the runner:

    from benchmarks.registry import Row, at_least_ratio, register_row, register_workload

    def http_single(url: str, size: int) -> dict[str, Any]:
        ...  # build data, time the measured part
        return {"rate": commands_per_second, "unit": "commands/s", "p50_ms": ..., "p99_ms": ...}

    register_workload("http_single", http_single)
    register_row(Row("http.single.sqlite", "HTTP POST /v1/commands, one worker", "sqlite",
                     "http_single", full=2000, quick=50, baseline="commands_one_at_a_time",
                     target=at_least_ratio(0.7), issue=11))

A row whose `workload` is None is a placeholder ("not measured"): registering a measured
row with the same key replaces it, whichever module is imported first.

A workload is `f(store_url, size) -> {"rate": float, "unit": str, ...}`; optional extras
the table shows: "seconds", "p50_ms", "p95_ms", "p99_ms", "events". A baseline is any
other workload name (a library or driver baseline, or one of ours, such as the
in-process path an HTTP row compares itself to); it is measured once per store per run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Workload = Callable[[str, int], dict[str, Any]]
Result = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """What a row must reach: a sentence for the table and the test of a measurement."""

    text: str
    met: Callable[[Result, float | None], bool]


@dataclass(frozen=True)
class Row:
    key: str                      # unique, e.g. "single.sqlite"
    path: str                     # what a reader calls it
    store: str                    # "sqlite" or "postgresql"
    workload: str | None          # None: a placeholder, "not measured"
    full: int = 0                 # the size (N) of the full run
    quick: int = 0                # the size of the smoke run
    baseline: str | None = None   # a workload measured in the same run, for the ratio
    baseline_size: tuple[int, int] | None = None   # (full, quick) for the baseline
    target: Target | None = None
    issue: int | None = None
    note: str = ""                # shown for placeholders: what it waits for
    # how the ratio is formed: "rate" is ours/baseline in rate (higher is better);
    # a latency key such as "p50_ms" is ours/baseline in that latency (lower is better)
    ratio_by: str = "rate"
    scales: bool = True           # whether `--scale` shrinks it (as-of sizes are the point)


_ROWS: dict[str, Row] = {}
_WORKLOADS: dict[str, Workload] = {}


def register_row(row: Row) -> None:
    """Add a row; a measured row replaces a placeholder with its key, never the reverse."""
    old = _ROWS.get(row.key)
    if old is not None and row.workload is None and old.workload is not None:
        return
    _ROWS[row.key] = row


def register_workload(name: str, fn: Workload) -> None:
    _WORKLOADS[name] = fn


def rows() -> list[Row]:
    return list(_ROWS.values())


def workload(name: str) -> Workload:
    return _WORKLOADS[name]


# -- targets ------------------------------------------------------------------------

def at_least_ratio(x: float) -> Target:
    return Target(f">= {x:g}x baseline", lambda res, ratio: ratio is not None and ratio >= x)


def at_least_rate(rate: float, unit: str) -> Target:
    return Target(f">= {rate:,.0f} {unit}", lambda res, ratio: float(res["rate"]) >= rate)


def seconds_and_memory(count: int, seconds: float, mb: float, unit: str) -> Target:
    """`count` in under `seconds`, as a rate, so that a `--scale`d run is judged too."""
    rate = count / seconds

    def met(res: Result, ratio: float | None) -> bool:
        return float(res["rate"]) >= rate and float(res["peak_mb"]) < mb
    return Target(f"{count:,} in < {seconds:g} s (>= {rate:,.0f} {unit}), < {mb:g} MB", met)


def faster_than(count: int, seconds: float, reference: str, unit: str) -> Target:
    rate = count / seconds
    return Target(f"{count:,} in <= {seconds:g} s (>= {rate:,.0f} {unit}; {reference})",
                  lambda res, ratio: float(res["rate"]) >= rate)


def p99_under(ms: float, flat_within: float | None = None) -> Target:
    text = f"p99 < {ms:g} ms" + (f", p50 within {flat_within:g}x of 10 events"
                                 if flat_within else "")

    def met(res: Result, ratio: float | None) -> bool:
        ok = float(res["p99_ms"]) < ms
        if flat_within is not None:
            ok = ok and ratio is not None and ratio <= flat_within
        return ok
    return Target(text, met)


def p95_under(ms: float, flat_within: float) -> Target:
    def met(res: Result, ratio: float | None) -> bool:
        return float(res["p95_ms"]) < ms and ratio is not None and ratio <= flat_within
    return Target(f"p95 < {ms:g} ms, within {flat_within:g}x of 10 events", met)
