"""Faults: a writer killed mid-batch, a crash inside the view update, PostgreSQL
restarted under load, an unusable SQLite file (R-8.1, R-8.3, R-8.4; exit codes of
INTERFACE.md).

Each test says what it tried and what was lost; `-s` prints the tallies.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from tests.helpers import ROOT, child_env
from tests.integration import fault_batch
from tests.integration.checks import (
    CLOCK,
    assert_views_equal_rebuild,
    audit_exit,
    check_log,
    ledger_replay_audit,
    pg_ctlcluster,
    views_of,
)
from tests.stores import postgres_answers, postgres_url_or_skip, reset_postgres

WRITER = [sys.executable, "-m", "tests.integration.workers.batch_writer"]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The batch applied once, undisturbed, in a store of its own: what every faulty
    run must end up equal to."""
    url = f"sqlite:///{tmp_path_factory.mktemp('clean') / 'clean.db'}"
    led = Ledger.open(url, clock=CLOCK)
    try:
        results = [led.submit(c) for c in fault_batch.batch()]
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        return {
            "histories": {a: led.history(a) for a in fault_batch.ACCOUNTS},
            "views": views_of(led, fault_batch.ACCOUNTS, fault_batch.POINTS),
            "recorded": check_log(led),
        }
    finally:
        led.close()


@pytest.fixture
def batch_file(tmp_path: Path) -> Path:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(fault_batch.batch()))
    return path


def assert_same_as_clean(url: str, clean: dict[str, Any],
                         audit_clean: bool = True) -> dict[str, list[str]]:
    """Every command applied exactly once, and the store equal to the clean run."""
    led = Ledger.open(url, clock=CLOCK)
    try:
        recorded = check_log(led)
        assert recorded == clean["recorded"], "not every command was recorded once"
        for aid in fault_batch.ACCOUNTS:
            assert led.history(aid) == clean["histories"][aid], f"{aid}: history differs"
        assert views_of(led, fault_batch.ACCOUNTS, fault_batch.POINTS) == clean["views"]
        assert_views_equal_rebuild(led, fault_batch.ACCOUNTS, fault_batch.POINTS)
    finally:
        led.close()
    if audit_clean:
        assert audit_exit(url) in (0, None), f"ledger-replay audit found problems in {url}"
    return recorded


# --------------------------------------------------------------------------- (a)


def kill_mid_batch(mode: str, url: str, batch_file: Path, acked_before_kill: int,
                   seed: int) -> dict[str, Any]:
    """Start a writer, let it acknowledge `acked_before_kill` results, then SIGKILL it
    at a random instant a few milliseconds later."""
    rng = random.Random(seed)
    proc = subprocess.Popen([*WRITER, mode, str(batch_file), url], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=child_env())
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline().strip()
        assert line == "ready", (line, proc.stderr.read() if proc.stderr else "")
        acked = 0
        while acked < acked_before_kill:
            line = proc.stdout.readline().strip()
            if not line or line == "done":
                break
            assert json.loads(line)["ok"], line
            acked += 1
        time.sleep(rng.uniform(0, 0.006))
        proc.send_signal(signal.SIGKILL)
        rest = proc.stdout.read().splitlines()
        acked += sum(1 for x in rest if x.startswith("{"))
        proc.wait(timeout=30)
        return {"url": url, "acked": acked, "finished": "done" in rest or line == "done",
                "returncode": proc.returncode}
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def resubmit(urls: list[str], batch_file: Path) -> dict[str, list[dict[str, Any]]]:
    """A fresh process sends the same batch, with the same command ids, to each store."""
    out = subprocess.run([*WRITER, "resubmit", str(batch_file), *urls], capture_output=True,
                         text=True, cwd=ROOT, env=child_env(), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    return {x["url"]: x["results"] for x in lines}


def tally(kills: list[dict[str, Any]],
          answers: dict[str, list[dict[str, Any]]]) -> Counter[str]:
    seen: Counter[str] = Counter()
    for kill in kills:
        results = answers[kill["url"]]
        assert all(r["ok"] for r in results), [r for r in results if not r["ok"]]
        committed = sum(1 for r in results if r["duplicate"])
        assert committed >= kill["acked"], "an acknowledged command was lost"
        seen["trials"] += 1
        seen["killed mid-batch"] += committed < len(results)
        seen["acknowledged before the kill"] += kill["acked"]
        seen["committed before the kill"] += committed
        seen["committed but not acknowledged (in flight)"] += committed - kill["acked"]
        seen["applied by the re-submission"] += len(results) - committed
    return seen


@pytest.mark.slow
def test_a_writer_killed_mid_batch_then_resubmitted_applies_every_command_once_sqlite(
        tmp_path: Path, batch_file: Path, clean_run: dict[str, Any]) -> None:
    # Given 16 SQLite stores, each with a writer SIGKILLed at a random point of the batch
    # (half one command per transaction, half the batch path's chunks)
    trials = 16
    n = len(fault_batch.STEPS)
    rng = random.Random(20310101)
    plans = [("one" if i % 2 == 0 else "many", f"sqlite:///{tmp_path / f'kill-{i}.db'}",
              rng.randrange(0, n - 1), rng.randrange(10**9)) for i in range(trials)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        kills = list(pool.map(lambda p: kill_mid_batch(p[0], p[1], batch_file, p[2], p[3]),
                              plans))

    # When a fresh process re-submits the same batch with the same command ids
    answers = resubmit([k["url"] for k in kills], batch_file)

    # Then every command is applied exactly once and each store equals the clean run
    seen = tally(kills, answers)
    print(f"\nSIGKILL mid-batch, SQLite: {dict(seen)}")
    assert seen["killed mid-batch"] >= trials // 2, seen
    for kill in kills:
        assert_same_as_clean(kill["url"], clean_run)
    first = ledger_replay_audit(kills[0]["url"])
    if first is not None:
        assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]


@pytest.mark.slow
def test_a_writer_killed_mid_batch_then_resubmitted_applies_every_command_once_postgres(
        batch_file: Path, clean_run: dict[str, Any]) -> None:
    url = postgres_url_or_skip()
    n = len(fault_batch.STEPS)
    rng = random.Random(15)
    seen: Counter[str] = Counter()
    for trial in range(4):
        # Given a writer SIGKILLed at a random point of the batch (PostgreSQL)
        reset_postgres(url)
        kill = kill_mid_batch("one" if trial % 2 == 0 else "many", url, batch_file,
                              rng.randrange(0, n - 1), rng.randrange(10**9))
        # When a fresh process re-submits it with the same command ids
        answers = resubmit([url], batch_file)
        # Then every command is applied exactly once and the store equals the clean run
        seen += tally([kill], answers)
        assert_same_as_clean(url, clean_run)
    print(f"\nSIGKILL mid-batch, PostgreSQL: {dict(seen)}")


# --------------------------------------------------------------------------- (b)


@pytest.mark.slow
def test_a_crash_inside_the_view_update_loses_the_whole_command_and_nothing_else(
        url: str, batch_file: Path, clean_run: dict[str, Any]) -> None:
    # Given a writer that dies (os._exit) while the views of its last command are being
    # folded, inside the transaction that stores that command's events
    out = subprocess.run([*WRITER, "crash-inline", str(batch_file), url], capture_output=True,
                         text=True, cwd=ROOT, env=child_env(), timeout=120)
    assert out.returncode == 9, out.stderr[-3000:]
    acked = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    assert len(acked) == len(fault_batch.STEPS) - 1

    # Then on reopening, the last command is entirely absent (events, record and views
    # alike) and everything acknowledged is there, with views equal to a rebuild
    led = Ledger.open(url, clock=CLOCK)
    try:
        recorded = check_log(led)
        last = fault_batch.batch()[-1]["command_id"]
        assert last not in recorded
        assert set(recorded) == {r["command_id"] for r in acked}
        assert led.views.tracking_position() == led.recorder.max_notification_id()
        assert_views_equal_rebuild(led, fault_batch.ACCOUNTS, fault_batch.POINTS)
    finally:
        led.close()
    # And re-sending the batch applies the lost command once, to the clean run's state
    answers = resubmit([url], batch_file)[url]
    assert [r["duplicate"] for r in answers] == [True] * len(acked) + [False]
    assert_same_as_clean(url, clean_run)


@pytest.mark.slow
def test_views_left_behind_by_a_dead_writer_catch_up_on_reopening(
        url: str, batch_file: Path, clean_run: dict[str, Any]) -> None:
    # Given a writer whose views stood aside (as when they lag the log: the inline path
    # off) and which died right after its last save, before anything refreshed them
    out = subprocess.run([*WRITER, "views-aside", str(batch_file), url], capture_output=True,
                         text=True, cwd=ROOT, env=child_env(), timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    led = Ledger.open(url, clock=CLOCK)
    try:
        head = led.recorder.max_notification_id()
        assert head is not None and led.views.tracking_position() < head, "views not behind"
        # When the store is reopened and read
        view = led.account("fl-1")
        # Then the views have caught up with the log and equal a rebuild
        assert led.views.tracking_position() == head
        assert view.version == len(clean_run["histories"]["fl-1"])
    finally:
        led.close()
    assert_same_as_clean(url, clean_run, audit_clean=False)
    # and a reader certified nothing: no writer certified those events, so the
    # audit says they lie after the last checkpoint
    assert audit_exit(url) in (1, None)


@pytest.mark.slow
def test_an_error_inside_the_view_update_rolls_back_the_command_in_process(
        url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import projections.projector as projector

    led = Ledger.open(url, clock=CLOCK)
    try:
        assert led.submit({"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
                           "at": "2030-12-15", "command_id": "v-1"}).ok
        before = led.recorder.max_notification_id()

        # Given the view fold fails inside the events' transaction
        def boom(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("view fold failed")

        monkeypatch.setattr(projector, "apply_page_in", boom)
        command = {"type": "credit_earnings", "account_id": "fl-1", "amount": "5.00",
                   "at": "2030-12-16", "command_id": "v-2"}
        # When a command is submitted: the caller gets the exception ...
        with pytest.raises(RuntimeError, match="view fold failed"):
            led.submit(command)
        # ... and nothing of the command is recorded
        assert led.recorder.max_notification_id() == before
        monkeypatch.undo()
        # Then the same Ledger takes the same command again, once
        result = led.submit(command)
        assert result.ok and not result.duplicate, result
        assert led.account("fl-1").earnings.available == 5
        assert led.submit(command).duplicate
        check_log(led)
        assert_views_equal_rebuild(led, ["fl-1"])
    finally:
        led.close()


def test_a_gap_in_postgres_notification_ids_leaves_views_and_log_chain_whole() -> None:
    url = postgres_url_or_skip()
    reset_postgres(url)
    led = Ledger.open(url, clock=CLOCK)
    try:
        assert led.submit({"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
                           "at": "2030-12-15"}).ok
        # Given a rolled-back insert took a notification id, as a writer that loses a race
        # or dies inside its transaction does on PostgreSQL (sequences never roll back)
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT nextval(pg_get_serial_sequence("
                         "'public.ledger_events', 'notification_id'))")
        # When more commands are recorded
        for _ in range(3):
            assert led.submit({"type": "credit_earnings", "account_id": "fl-1",
                               "amount": "1.00", "at": "2030-12-16"}).ok
        # Then the views still follow the events in their own transactions ...
        assert led.views.tracking_position() == led.recorder.max_notification_id(), (
            "the inline views stood aside after the gap")
        check_log(led)
        assert led.account("fl-1").earnings.available == 3
        assert_views_equal_rebuild(led, ["fl-1"])
    finally:
        led.close()
    # ... and the log chain checkpoints still verify
    assert audit_exit(url) in (0, None), "ledger-replay audit reports the gap as tampering"


# --------------------------------------------------------------------------- (c)


def _cluster() -> tuple[str, str]:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return version, "main"


def _pg(action: str) -> subprocess.CompletedProcess[str]:
    version, name = _cluster()
    return subprocess.run([pg_ctlcluster() or "pg_ctlcluster", "--skip-systemctl-redirect",
                           version, name, action], capture_output=True, text=True, timeout=120)


def _wait_for_postgres(url: str, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if postgres_answers(url):
            return True
        time.sleep(0.3)
    return False


@pytest.fixture
def restartable_postgres() -> Iterator[str]:
    if pg_ctlcluster() is None or not os.path.isdir("/etc/postgresql"):
        pytest.skip("needs pg_ctlcluster (Debian's postgresql-common) to restart the server")
    if os.geteuid() != 0:
        pytest.skip("restarting PostgreSQL needs root")
    url = postgres_url_or_skip()
    reset_postgres(url)
    try:
        yield url
    finally:
        if not postgres_answers(url):
            _pg("start")
        assert _wait_for_postgres(url), "PostgreSQL did not come back after the test"


# What a caller may see while the server restarts: a Result with one of these codes,
# or one of these exceptions (eventsourcing's persistence errors, which the library
# raises for psycopg's connection failures; the CLI turns them into exit 2).
IN_FLIGHT_CODES = {"write_conflict"}
IN_FLIGHT_EXCEPTIONS = ("OperationalError", "InterfaceError", "DatabaseError",
                        "PersistenceError")


@pytest.mark.slow
def test_postgres_restarted_while_commands_flow(restartable_postgres: str) -> None:
    url = restartable_postgres
    led = Ledger.open(url, clock=CLOCK)
    reader = Ledger.open(url, clock=CLOCK)
    try:
        assert led.submit({"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
                           "at": "2030-12-15", "command_id": "r-0"}).ok
        outcomes: dict[str, str] = {}
        stop = threading.Event()

        def command(i: int) -> dict[str, Any]:
            return {"type": "credit_earnings", "account_id": "fl-1", "amount": "1.00",
                    "at": "2030-12-16", "command_id": f"r-{i}"}

        def write() -> None:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = led.submit(command(i))
                    code = r.error.code if r.error else "?"
                    outcomes[f"r-{i}"] = "ok" if r.ok else f"code:{code}"
                except Exception as exc:
                    outcomes[f"r-{i}"] = f"exc:{type(exc).__module__}.{type(exc).__name__}"
                    time.sleep(0.05)

        reads: Counter[str] = Counter()

        def read() -> None:
            while not stop.is_set():
                try:
                    reader.account("fl-1")
                    reads["ok"] += 1
                except Exception as exc:
                    reads[f"exc:{type(exc).__module__}.{type(exc).__name__}"] += 1
                    time.sleep(0.05)

        threads = [threading.Thread(target=write), threading.Thread(target=read)]
        for t in threads:
            t.start()
        try:
            # When the server restarts while a writer and a reader are busy
            time.sleep(0.5)
            restarted = _pg("restart")
            assert restarted.returncode == 0, restarted.stderr
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        assert _wait_for_postgres(url)
        print(f"\nduring the restart: writes {dict(Counter(outcomes.values()))}, "
              f"reads {dict(reads)}")

        # Then callers in flight got a Result with a stable code or a persistence error
        for cid, outcome in outcomes.items():
            kind, _, what = outcome.partition(":")
            if kind == "code":
                assert what in IN_FLIGHT_CODES, (cid, outcome)
            elif kind == "exc":
                assert what.startswith("eventsourcing.persistence.") and what.endswith(
                    IN_FLIGHT_EXCEPTIONS), (cid, outcome)
        for outcome in reads:
            assert outcome == "ok" or outcome.startswith("exc:eventsourcing.persistence."), reads

        # And the SAME Ledger objects work again within a few seconds
        deadline = time.monotonic() + 10
        while True:
            try:
                after = led.submit(command(10**6))
                reader.account("fl-1")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert after.ok, after

        # And nothing was half-written: re-sending every command that did not answer ok
        # applies it at most once, and the balance counts each command once
        for cid, outcome in outcomes.items():
            if outcome != "ok":
                r = led.submit(command(int(cid[2:])))
                assert r.ok, (cid, r)
    finally:
        led.close()
        reader.close()
    fresh = Ledger.open(url, clock=CLOCK)
    try:
        recorded = check_log(fresh)
        credits = set(recorded) - {"r-0"}
        assert credits == set(outcomes) | {f"r-{10**6}"}
        assert fresh.account("fl-1").earnings.available == len(credits)
        assert_views_equal_rebuild(fresh, ["fl-1"])
    finally:
        fresh.close()
    assert audit_exit(url) in (0, None)


# --------------------------------------------------------------------------- (d)


def run_cli(url: str, file: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", "--store", url, "--clock", CLOCK,
                           "submit", str(file)], capture_output=True, text=True, cwd=ROOT,
                          env=child_env(**env), timeout=120)


def assert_one_line_exit_2(out: subprocess.CompletedProcess[str], *words: str) -> str:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert lines[0].startswith("ledger: ")
    for word in words:
        assert word in lines[0].lower(), lines[0]
    return lines[0]


@pytest.fixture
def commands_file(tmp_path: Path) -> Path:
    path = tmp_path / "cmds.jsonl"
    path.write_text(json.dumps({"type": "open_account", "account_id": "fl-9",
                                "kind": "freelancer", "at": "2030-12-15"}) + "\n")
    return path


def _populated(path: Path) -> None:
    led = Ledger.open(f"sqlite:///{path}", clock=CLOCK)
    assert led.submit({"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
                       "at": "2030-12-15"}).ok
    led.close()


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder holding a ledger file that nobody, root included, may write.

    Not root: chmod. Root ignores modes, so: a read-only bind mount of the folder;
    failing that `chattr +i`; failing that the test is skipped (the garbage-file test
    below still covers an unusable file)."""
    source = tmp_path / "src"
    source.mkdir()
    _populated(source / "ledger.db")
    if os.geteuid() != 0:
        (source / "ledger.db").chmod(0o444)
        source.chmod(0o555)
        try:
            yield source, "chmod 0444/0555"
        finally:
            source.chmod(0o755)
        return
    target = tmp_path / "ro"
    target.mkdir()
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(source), str(target)],
                             capture_output=True)
    if mounted.returncode == 0:
        try:
            yield target, "read-only bind mount"
        finally:
            subprocess.run(["umount", str(target)], capture_output=True)
        return
    immutable = subprocess.run(["chattr", "+i", str(source / "ledger.db"), str(source)],
                               capture_output=True)
    if immutable.returncode == 0:
        try:
            yield source, "chattr +i"
        finally:
            subprocess.run(["chattr", "-i", str(source / "ledger.db"), str(source)])
        return
    pytest.skip("as root, neither a read-only bind mount nor chattr +i is available")


def test_cli_on_a_read_only_sqlite_file_exits_2_with_one_line(
        read_only_dir: tuple[Path, str], commands_file: Path) -> None:
    folder, how = read_only_dir
    url = f"sqlite:///{folder / 'ledger.db'}"
    out = run_cli(url, commands_file)
    line = assert_one_line_exit_2(out)
    assert "read-only" in line or "cannot open" in line, (how, line)
    assert out.stdout == ""


def test_cli_on_a_sqlite_file_locked_by_another_connection_exits_2_with_one_line(
        tmp_path: Path, commands_file: Path) -> None:
    db = tmp_path / "ledger.db"
    _populated(db)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        # LEDGER_SQLITE_LOCK_TIMEOUT (eventsourcing reads <APP>_KEY first) shortens the
        # 10 s wait of the store URL's default; the outcome is the same.
        out = run_cli(f"sqlite:///{db}", commands_file, LEDGER_SQLITE_LOCK_TIMEOUT="1")
        assert_one_line_exit_2(out, "locked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # And nothing of the command was recorded
    led = Ledger.open(f"sqlite:///{db}", clock=CLOCK)
    try:
        recorded = [n for n in led.recorder.select_notifications(0, 10**6)
                    if n.topic != "ledger/PolicyVersionAdopted"]  # R-8.7's aside
        assert len(recorded) == 3  # fl-1 only
    finally:
        led.close()


def test_cli_on_a_file_that_is_not_a_database_exits_2_with_one_line(
        tmp_path: Path, commands_file: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(random.Random(7).randbytes(8192))
    out = run_cli(f"sqlite:///{garbage}", commands_file)
    assert_one_line_exit_2(out, "not a database")
    assert garbage.read_bytes() == random.Random(7).randbytes(8192)
