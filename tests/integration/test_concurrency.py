"""Several processes writing the same accounts at once (R-8.3, R-5.1, R-6.1, R-8.2).

Each worker is a `spawn` process with its own `Ledger.open(url, clock=...)`; a barrier
makes them start together. Runs on a SQLite file and on PostgreSQL (skipped with a
reason when no server answers; a failure under CI=true).
"""

from __future__ import annotations

import multiprocessing as mp
import random
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from tests.integration.checks import (
    CLOCK,
    assert_views_equal_rebuild,
    audit_exit,
    check_log,
    command_events,
    running_balances_never_negative,
)
from tests.integration.workers import concurrent as workers
from tests.stores import postgres_url_or_skip

pytestmark = pytest.mark.slow

AT = "2030-12-20T12:00:00Z"
# Rejections a racing command may legitimately get; anything else fails the test.
RACE_CODES = {"insufficient_earnings", "insufficient_connects", "billing_method_required",
              "write_conflict"}


@pytest.fixture
def opened(url: str) -> Iterator[Callable[[], Ledger]]:
    ledgers: list[Ledger] = []

    def _open() -> Ledger:
        led = Ledger.open(url, clock=CLOCK)
        ledgers.append(led)
        return led

    yield _open
    for led in ledgers:
        led.close()


def run_workers(target: Callable[..., None], url: str, payloads: list[Any],
                timeout: float = 150) -> list[dict[str, Any]]:
    """Start one spawn process per payload, all released by one barrier."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(payloads))
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(url, n, payload, barrier, queue), daemon=True)
             for n, payload in enumerate(payloads)]
    for p in procs:
        p.start()
    try:
        reports = [queue.get(timeout=timeout) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    crashes = [r["crash"] for r in reports if "crash" in r]
    assert not crashes, "a worker crashed:\n" + "\n".join(crashes)
    exceptions = [r for rep in reports for r in rep.get("results", []) if "exception" in r]
    assert not exceptions, f"submit raised instead of answering: {exceptions[:3]}"
    return sorted(reports, key=lambda r: r["worker"])


def accept(led: Ledger, command: dict[str, Any]) -> Any:
    result = led.submit(command)
    assert result.ok, (command, result.error)
    return result


def card(account_id: str, method_id: str, token: str, at: str) -> dict[str, Any]:
    return {"type": "add_billing_method", "account_id": account_id, "method_id": method_id,
            "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
            "exp_year": 2033, "token": token, "at": at}


# --------------------------------------------------------------------------- (a)


def mixed_commands(worker: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(1000 + worker)
    out = []
    for i in range(n):
        cid = f"a-{worker}-{i}"
        base: dict[str, Any] = {"command_id": cid, "account_id": "fl-1", "at": AT}
        kind = rng.choice(["credit", "withdraw", "withdraw", "purchase", "proposal",
                           "proposal"])
        if kind == "credit":
            out.append({**base, "type": "credit_earnings", "amount": "2.00"})
        elif kind == "withdraw":
            out.append({**base, "type": "withdraw_earnings", "amount": "3.00"})
        elif kind == "purchase":
            out.append({**base, "type": "purchase_connects", "quantity": 10})
        else:
            out.append({**base, "type": "submit_proposal", "proposal_id": f"p-{cid}",
                        "job_id": f"j-{cid}", "connects": 2})
    return out


def test_racing_writers_on_one_account_lose_nothing_and_never_double_spend(
        url: str, opened: Callable[[], Ledger]) -> None:
    # Given a Basic freelancer (10 Connects under v2019) with 20.00 available
    led = opened()
    accept(led, {"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
                 "at": "2030-12-15", "command_id": "setup-1"})
    accept(led, {"type": "credit_earnings", "account_id": "fl-1", "amount": "20.00",
                 "at": "2030-12-15", "command_id": "setup-2"})
    batches = [mixed_commands(w, 30) for w in range(4)]
    sent = {c["command_id"]: c for batch in batches for c in batch}

    # When 4 processes submit credits, withdrawals, purchases and proposals at once
    # (three one command at a time, one through the batch path in chunks of 5)
    reports = run_workers(workers.submit_all, url, [
        {"commands": batch, "chunk": 5 if w == 3 else 0} for w, batch in enumerate(batches)])

    # Then every accepted command is counted once, and only once
    results = [r for rep in reports for r in rep["results"]]
    assert len(results) == len(sent)
    codes = Counter(r["error"]["code"] for r in results if not r["ok"])
    assert set(codes) <= RACE_CODES, codes
    accepted = [r for r in results if r["ok"]]
    assert all(not r["duplicate"] for r in accepted)
    assert len(accepted) >= len(sent) // 4, f"too few accepted: {codes}"
    by_type = Counter(sent[r["command_id"]]["type"] for r in accepted)
    paid_from_earnings = sum(1 for r in accepted if sent[r["command_id"]]["type"] ==
                             "purchase_connects")
    led = opened()
    view = led.account("fl-1")
    expected_available = (Decimal("20.00") + 2 * by_type["credit_earnings"]
                          - 3 * by_type["withdraw_earnings"]
                          - Decimal("1.50") * paid_from_earnings)
    expected_connects = 10 + 10 * by_type["purchase_connects"] - 2 * by_type["submit_proposal"]
    assert view.earnings.available == expected_available, (by_type, codes)
    assert view.connects == expected_connects, (by_type, codes)
    assert view.connects >= 0

    # And the history holds each accepted command's events exactly once, rejected ones never
    tagged = command_events(led, "fl-1")
    for r in results:
        if r["ok"]:
            assert tagged.get(r["command_id"]) == r["events"], r
        else:
            assert r["command_id"] not in tagged, r
    assert set(tagged) == {r["command_id"] for r in accepted} | {"setup-1", "setup-2"}
    running_balances_never_negative(led, "fl-1")
    recorded = check_log(led)
    assert set(recorded) == set(tagged)
    assert_views_equal_rebuild(led, ["fl-1"])
    assert audit_exit(url) in (0, None), "ledger-replay audit found problems"


# --------------------------------------------------------------------------- (b)


def same_commands() -> list[dict[str, Any]]:
    commands: list[dict[str, Any]] = [
        {"type": "credit_earnings", "command_id": f"s-credit-{i}", "account_id": "fl-1",
         "amount": f"1.{i:02d}", "at": AT} for i in range(1, 11)]
    commands += [{"type": "submit_proposal", "command_id": f"s-prop-{i}", "account_id": "fl-1",
                  "proposal_id": f"p-{i}", "job_id": f"j-{i}", "connects": 1, "at": AT}
                 for i in range(24)]
    commands.append({"type": "open_account", "command_id": "s-agency", "account_id": "ag-1",
                     "kind": "agency", "owner_id": "fl-1", "at": AT})
    commands.append({**card("fl-1", "m-1", "tok_ok_1", AT), "command_id": "s-card"})
    return commands


def test_the_same_command_sent_by_several_processes_at_once_is_applied_once(
        url: str, opened: Callable[[], Ledger]) -> None:
    # Given a Basic freelancer with 50 Connects and 24.00 available
    led = opened()
    accept(led, {"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
                 "at": "2030-12-15", "command_id": "setup-1"})
    accept(led, {"type": "credit_earnings", "account_id": "fl-1", "amount": "30.00",
                 "at": "2030-12-15"})
    accept(led, {"type": "purchase_connects", "account_id": "fl-1", "quantity": 40,
                 "at": "2030-12-15"})
    commands = same_commands()
    # (two in the same order, so that they contend for every id, two shuffled; in each
    # pair one sends one command at a time, the other uses the batch path)
    payloads = []
    for w in range(4):
        batch = list(commands)
        if w >= 2:
            random.Random(w).shuffle(batch)
        payloads.append({"commands": batch, "chunk": 4 if w % 2 else 0})

    # When 4 processes send the same commands (same ids, same content) at once
    reports = run_workers(workers.submit_all, url, payloads)

    # Then each command id has one first answer; every other answer is a duplicate of it
    by_id: dict[str, list[dict[str, Any]]] = {}
    for rep in reports:
        for r in rep["results"]:
            path = "batch path" if payloads[rep["worker"]]["chunk"] else "one at a time"
            by_id.setdefault(r["command_id"], []).append({**r, "via": path})
    led = opened()
    recorded = check_log(led)
    for command in commands:
        cid = command["command_id"]
        answers = by_id[cid]
        assert len(answers) == 4
        firsts = [r for r in answers if r["ok"] and not r["duplicate"]]
        assert len(firsts) == 1, answers
        for r in answers:
            if r is firsts[0]:
                continue
            assert (r["ok"] and r["duplicate"]) or r["error"]["code"] == "write_conflict", (
                f"{cid} ({r['via']}): {r.get('error')} although it was accepted once "
                "(R-8.3: the same id and content answers as a duplicate)")
            if r["ok"]:
                assert r["events"] == firsts[0]["events"], (firsts[0], r)
        assert recorded[cid] == firsts[0]["events"], cid
    view = led.account("fl-1")
    assert view.earnings.available == 24 + sum(Decimal(f"1.{i:02d}") for i in range(1, 11))
    assert view.connects == 50 - 24
    assert len(view.billing_methods) == 1
    assert led.account("ag-1").kind == "agency"
    tagged = command_events(led, "fl-1")
    assert tagged["s-prop-0"] == ["ProposalSubmitted", "ConnectsSpent"]
    assert tagged["s-agency"] == ["OwnedAccountOpened"]
    running_balances_never_negative(led, "fl-1")
    assert_views_equal_rebuild(led, ["fl-1", "ag-1"])
    assert audit_exit(url) in (0, None), "ledger-replay audit found problems"


# --------------------------------------------------------------------------- (c)

BILLING_DAY = "2030-12-05"


def test_two_billing_runs_at_once_record_each_renewal_exactly_once(
        url: str, opened: Callable[[], Ledger]) -> None:
    # Given 50 accounts due on 5 December: 40 Basic, 8 Plus paying by card, 2 Plus whose
    # primary card now declines (R-4.5: they fall back to Basic)
    led = opened()
    plus, declining = [f"fl-{i:02d}" for i in range(40, 48)], [f"fl-{i:02d}" for i in
                                                               range(48, 50)]
    accounts = [f"fl-{i:02d}" for i in range(50)]
    for aid in accounts:
        accept(led, {"type": "open_account", "account_id": aid, "kind": "freelancer",
                     "at": "2030-11-05"})
    for aid in plus + declining:
        accept(led, card(aid, "m-1", f"tok_ok_{aid}", "2030-11-05"))
        accept(led, {"type": "upgrade_plan", "account_id": aid, "at": "2030-11-05"})
    for aid in declining:
        accept(led, card(aid, "m-2", f"tok_decline_{aid}", "2030-11-05"))
        accept(led, {"type": "make_primary_method", "account_id": aid, "method_id": "m-2",
                     "at": "2030-11-05"})
    led.close()

    # When two processes run the billing through 5 December at the same moment
    reports = run_workers(workers.bill, url, [BILLING_DAY, BILLING_DAY])

    # Then every account's billing date is recorded once, by one of them
    by_event = Counter[str]()
    for rep in reports:
        by_event.update(rep["report"]["by_event"])
    assert sum(rep["report"]["accounts"] for rep in reports) == 50, reports
    assert by_event["CycleRenewed"] == 48 and by_event["PlanDowngraded"] == 2, by_event
    led = opened()
    for aid in accounts:
        facts = Counter(e["name"] for e in led.history(aid)
                        if str(e["data"].get("billing_date")) == BILLING_DAY
                        or (e["name"] == "ConnectsRefilled" and str(e["at"])[:10] ==
                            BILLING_DAY))
        if aid in declining:
            assert facts == {"PaymentFailed": 1, "PlanDowngraded": 1,
                             "ConnectsRefilled": 1}, (aid, facts)
        elif aid in plus:
            assert facts == {"MembershipCharged": 1, "CycleRenewed": 1,
                             "ConnectsRefilled": 1}, (aid, facts)
        else:
            assert facts == {"CycleRenewed": 1, "ConnectsRefilled": 1}, (aid, facts)
        assert str(led.account(aid).next_billing_date) == "2031-01-05"
    check_log(led)
    assert_views_equal_rebuild(led, accounts[::7] + declining)
    assert audit_exit(url) in (0, None), "ledger-replay audit found problems"


# --------------------------------------------------------------------------- (d)


def _empty_postgres(url: str) -> None:
    """No tables, no types, nothing: as a database the ledger has never seen."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_processes_starting_at_once_on_an_empty_store_all_open(
        kind: str, tmp_path: Path) -> None:
    # Given an empty store, round after round: a new SQLite file, or a PostgreSQL
    # database without tables or types
    rounds = 8
    if kind == "sqlite":
        urls = [f"sqlite:///{tmp_path / f'race-{i}.db'}" for i in range(rounds)]
    else:
        urls = [postgres_url_or_skip()] * rounds

    # When 4 processes open it at the same moment and each records a command
    commands = [{"type": "open_account", "account_id": f"fl-{w}", "kind": "freelancer",
                 "at": "2030-12-15"} for w in range(4)]
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(5), ctx.Queue()
    procs = [ctx.Process(target=workers.open_then_submit,
                         args=(urls, w, commands[w], barrier, queue), daemon=True)
             for w in range(4)]
    for p in procs:
        p.start()
    found: list[set[str]] = []
    try:
        for u in urls:
            if kind == "postgres":
                _empty_postgres(u)
            barrier.wait(timeout=120)
            barrier.wait(timeout=120)
            led = Ledger.open(u, clock=CLOCK)
            try:
                found.append({aid for aid in (f"fl-{w}" for w in range(4))
                              if _exists(led, aid)})
            finally:
                led.close()
        reports = [queue.get(timeout=60) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    assert not [r for r in reports if "crash" in r], reports

    # Then every one of them opened the store and recorded its command, every round
    failures = [f"round {n}, worker {rep['worker']}: {out.get('crash') or out}"
                for rep in reports for n, out in enumerate(rep["outcomes"])
                if "crash" in out or not out["ok"]]
    assert not failures, ("opening an empty store from several processes at once "
                          "failed:\n" + "\n".join(sorted(failures)))
    assert all(f == {"fl-0", "fl-1", "fl-2", "fl-3"} for f in found), found


def _exists(led: Ledger, account_id: str) -> bool:
    try:
        led.account(account_id)
    except Exception:
        return False
    return True
