"""The benchmark workloads: ours and the baselines (the library and the raw driver).

Each workload builds its own data in a fresh store, times only the measured part, and
returns {"rate": per second, "unit": ..., plus extras}. run.py runs each in its own
process (so peak memory is the workload's own) and prints the table.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

Workload = Callable[[str, int], dict[str, Any]]
START = date(2021, 1, 4)


# -- the command mix ---------------------------------------------------------------

def command_mix(accounts: int, commands: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """A realistic mix: proposals, purchases, upgrades, earnings, method changes."""
    rng = random.Random(seed)
    for i in range(accounts):
        yield {"type": "open_account", "account_id": f"fl-{i}", "kind": "freelancer",
               "at": START.isoformat()}
        yield _card(i, 0, START)
    emitted = 2 * accounts
    day = START
    n = 0
    while emitted < commands:
        day += timedelta(days=1)
        for i in rng.sample(range(accounts), min(accounts, max(1, commands // 60))):
            n += 1
            yield _mixed(rng, i, n, day)
            emitted += 1
            if emitted >= commands:
                return


def _card(i: int, k: int, day: date) -> dict[str, Any]:
    return {"type": "add_billing_method", "account_id": f"fl-{i}", "method_id": f"m{k}",
            "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
            "exp_year": 2030, "token": f"tok_{i}_{k}", "at": day.isoformat()}


def _mixed(rng: random.Random, i: int, n: int, day: date) -> dict[str, Any]:
    base = {"account_id": f"fl-{i}", "at": day.isoformat(), "command_id": f"c-{n}"}
    roll = rng.random()
    if roll < 0.40:
        return {**base, "type": "submit_proposal", "proposal_id": f"p{n}", "job_id": f"j{n}",
                "connects": rng.randint(1, 2)}
    if roll < 0.50:
        return {**base, "type": "purchase_connects", "quantity": 10}
    if roll < 0.55:
        return {**base, "type": "upgrade_plan"}
    if roll < 0.70:
        return {**base, "type": "credit_earnings", "amount": "25.00"}
    if roll < 0.80:
        return {**base, "type": "withdraw_earnings", "amount": "5.00"}
    if roll < 0.90:
        return {**base, **_card(i, n, day), "command_id": f"c-{n}"}
    return {**base, "type": "record_pending_earnings", "reference": f"e{n}", "amount": "9.00"}


def _ledger(url: str, clock: str = "2031-01-01") -> Any:
    from ledger import Ledger

    return Ledger.open(url, clock=clock)


# -- ours --------------------------------------------------------------------------

def commands_one_at_a_time(url: str, n: int) -> dict[str, Any]:
    led = _ledger(url)
    cmds = list(command_mix(max(10, n // 20), n))
    t = time.perf_counter()
    ok = sum(led.submit(c).ok for c in cmds)
    dt = time.perf_counter() - t
    return {"rate": len(cmds) / dt, "unit": "commands/s", "accepted": ok}


def commands_batch(url: str, n: int) -> dict[str, Any]:
    led = _ledger(url)
    cmds = list(command_mix(max(10, n // 20), n))
    t = time.perf_counter()
    ok = sum(r.ok for r in led.submit_many(cmds))
    dt = time.perf_counter() - t
    return {"rate": len(cmds) / dt, "unit": "commands/s", "accepted": ok}


def cli_submit_file(url: str, n: int) -> dict[str, Any]:
    import contextlib
    import io
    import json
    import tempfile

    from ledger.cli import main

    cmds = list(command_mix(max(10, n // 20), n))
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.writelines(json.dumps(c) + "\n" for c in cmds)
    out = io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(out):
        main(["--store", url, "--clock", "2031-01-01", "submit", f.name])
    dt = time.perf_counter() - t
    os.unlink(f.name)
    return {"rate": len(cmds) / dt, "unit": "commands/s",
            "accepted": out.getvalue().count('"ok": true')}


def billing_run(url: str, n: int) -> dict[str, Any]:
    """n accounts opened on one day, all due a month later."""
    led = _ledger(url)
    led.submit_many({"type": "open_account", "account_id": f"fl-{i}", "kind": "freelancer",
                     "at": START.isoformat()} for i in range(n))
    t = time.perf_counter()
    report = led.run_billing(through=(START + timedelta(days=31)).isoformat())
    dt = time.perf_counter() - t
    return {"rate": report["accounts"] / dt, "unit": "accounts/s", "seconds": dt,
            "events": report["events"]}


def ledger_demo(url: str, n: int) -> dict[str, Any]:
    """`ledger demo --accounts n` (a year) through the command line's own entry point."""
    import contextlib
    import io

    from ledger.cli import main

    out = io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["--store", url, "demo", "--accounts", str(n)])
    dt = time.perf_counter() - t
    if code != 0:
        raise RuntimeError(f"ledger demo exited {code}")
    return {"rate": n / dt, "unit": "accounts/s", "seconds": dt}


def as_of_queries(url: str, n: int) -> dict[str, Any]:
    """p50/p99 of point-in-time queries on one account with about n events."""
    led = _ledger(url)
    led.submit({"type": "open_account", "account_id": "fl-x", "kind": "freelancer",
                "at": START.isoformat()})
    cmds = []
    for k in range(max(0, (n - 2) // 2)):
        when = (START + timedelta(minutes=k)).isoformat()
        cmds.append({"type": "credit_earnings", "account_id": "fl-x", "amount": "1.00",
                     "at": when})
        cmds.append({"type": "withdraw_earnings", "account_id": "fl-x", "amount": "1.00",
                     "at": when})
    led.submit_many(cmds)
    events = len(led.history("fl-x"))
    span = max(1, len(cmds) // 2)
    rng = random.Random(3)
    times = []
    for _ in range(1000):
        as_of = START + timedelta(minutes=rng.randrange(span))
        t = time.perf_counter()
        led.account("fl-x", as_of=f"{as_of.isoformat()}T00:00:00Z")
        times.append(time.perf_counter() - t)
    times.sort()
    return {"rate": 1 / statistics.median(times), "unit": "queries/s", "events": events,
            "p50_ms": 1000 * statistics.median(times), "p99_ms": 1000 * times[989]}


def audit_replay(url: str, n: int) -> dict[str, Any]:
    """ledger-replay audit over a log of about n events (built with the billing run), split
    over as many worker processes as this process has cores (`--workers`' default)."""
    led = _ledger(url)
    accounts = max(10, n // 12)
    led.submit_many({"type": "open_account", "account_id": f"fl-{i}", "kind": "freelancer",
                     "at": START.isoformat()} for i in range(accounts))
    led.run_billing(through=(START + timedelta(days=120)).isoformat())
    total = led.recorder.max_notification_id() or 0
    from replay_tools.audit import run_audit
    from replay_tools.cli import default_workers

    t = time.perf_counter()
    report = run_audit(led, workers=default_workers())
    dt = time.perf_counter() - t
    assert not report.findings.items, "a benchmark store must audit clean"
    return {"rate": total / dt, "unit": "events/s", "events": total,
            "workers": report.summary["workers"]}


# -- baselines: the library alone and the raw driver --------------------------------

class Dog(Aggregate):
    @event("Registered")
    def __init__(self, name: str) -> None:
        self.tricks: list[str] = []

    @event("TrickAdded")
    def add_trick(self, trick: str) -> None:
        self.tricks.append(trick)


class _App(Application[Any]):
    pass


def _library_app(url: str) -> _App:
    from ledger.stores import parse_store_url

    env = dict(parse_store_url(url).env)
    env.pop("APPLICATION_RECORDER_TOPIC", None)
    return _App(env=env)


def library_get_save(url: str, n: int) -> dict[str, Any]:
    app = _library_app(url)
    dogs = [Dog(f"d{i}") for i in range(100)]
    app.save(*dogs)
    t = time.perf_counter()
    for k in range(n):
        dog = app.repository.get(dogs[k % 100].id)
        dog.add_trick("x")
        app.save(dog)
    return {"rate": n / (time.perf_counter() - t), "unit": "commands/s"}


def library_save(url: str, n: int) -> dict[str, Any]:
    app = _library_app(url)
    dog = Dog("d")
    app.save(dog)
    t = time.perf_counter()
    for _ in range(n):
        dog.add_trick("x")
        app.save(dog)
    return {"rate": n / (time.perf_counter() - t), "unit": "events/s"}


def library_batch_save(url: str, n: int) -> dict[str, Any]:
    app = _library_app(url)
    dogs = [Dog(f"d{i}") for i in range(2000)]
    app.save(*dogs)
    t = time.perf_counter()
    done = 0
    while done < n:
        for dog in dogs:
            dog.add_trick("x")
        app.save(*dogs)
        done += len(dogs)
    return {"rate": done / (time.perf_counter() - t), "unit": "events/s"}


def library_read_decode(url: str, n: int) -> dict[str, Any]:
    app = _library_app(url)
    dogs = [Dog(f"d{i}") for i in range(2000)]
    app.save(*dogs)
    while (app.recorder.max_notification_id() or 0) < n:
        for dog in dogs:
            dog.add_trick("x")
        app.save(*dogs)
    t = time.perf_counter()
    read, start = 0, 0
    while page := app.recorder.select_notifications(start, 500, inclusive_of_start=False):
        for notification in page:
            app.mapper.to_domain_event(notification)
        read += len(page)
        start = page[-1].id
    return {"rate": read / (time.perf_counter() - t), "unit": "events/s"}


def raw_one_row_per_transaction(url: str, n: int) -> dict[str, Any]:
    conn, insert = _raw(url)
    t = time.perf_counter()
    for k in range(n):
        with conn:
            conn.execute(insert, _row(k))
    return {"rate": n / (time.perf_counter() - t), "unit": "rows/s"}


def raw_executemany(url: str, n: int) -> dict[str, Any]:
    conn, insert = _raw(url)
    rows = [_row(k) for k in range(n)]
    t = time.perf_counter()
    with conn:
        conn.executemany(insert, rows)
    return {"rate": n / (time.perf_counter() - t), "unit": "rows/s"}


def raw_select_all(url: str, n: int) -> dict[str, Any]:
    conn, insert = _raw(url)
    with conn:
        conn.executemany(insert, [_row(k) for k in range(n)])
    t = time.perf_counter()
    rows = conn.execute("SELECT * FROM raw_events").fetchall()
    return {"rate": len(rows) / (time.perf_counter() - t), "unit": "rows/s"}


def _row(k: int) -> tuple[Any, ...]:
    return (os.urandom(16).hex(), 1, "topic", b'{"trick": "x", "k": %d}' % k)


def _raw(url: str) -> tuple[Any, str]:
    """The same table shape as the library's, on the same kind of store, no library."""
    if url.startswith("postgresql"):
        import psycopg

        pg = psycopg.connect(url, autocommit=False)
        pg.execute("DROP TABLE IF EXISTS raw_events")
        pg.execute("CREATE TABLE raw_events (id BIGSERIAL, originator_id TEXT,"
                   " originator_version INT, topic TEXT, state BYTEA)")
        pg.commit()
        return _PgConn(pg), ("INSERT INTO raw_events (originator_id, originator_version, topic,"
                             " state) VALUES (%s, %s, %s, %s)")
    path = url[len("sqlite:///"):]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS raw_events (originator_id TEXT,"
                 " originator_version INT, topic TEXT, state BLOB)")
    conn.isolation_level = ""
    return conn, "INSERT INTO raw_events VALUES (?, ?, ?, ?)"


class _PgConn:
    """sqlite3-like `with conn:` transactions over a psycopg connection."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def __enter__(self) -> _PgConn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.commit()

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql, rows)


WORKLOADS: dict[str, Workload] = {
    "commands_one_at_a_time": commands_one_at_a_time,
    "commands_batch": commands_batch,
    "cli_submit_file": cli_submit_file,
    "billing_run": billing_run,
    "as_of_queries": as_of_queries,
    "ledger_demo": ledger_demo,
    "audit_replay": audit_replay,
    "library_get_save": library_get_save,
    "library_save": library_save,
    "library_batch_save": library_batch_save,
    "library_read_decode": library_read_decode,
    "raw_one_row_per_transaction": raw_one_row_per_transaction,
    "raw_executemany": raw_executemany,
    "raw_select_all": raw_select_all,
}
