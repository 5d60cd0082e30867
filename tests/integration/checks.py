"""Whole-store checks shared by the concurrency and fault tests.

They read the event log itself (the library's notification log), not the views, so
they hold whatever the ledger's own code believes:

* every stream's versions are 1..n with no gap (no partial write, no lost event);
* every accepted command has exactly one command record; the events tagged with its
  command_id are exactly the ones its record lists, less the scheduled facts caught up
  before it (R-8.2), each once, all stored before the record;
* no account event names a command_id that has no record (nothing half-recorded);
* the views equal a rebuild from the log.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from ledger import Ledger
from ledger.account import Account
from ledger.idempotency import CommandRecord
from tests.helpers import ROOT, TEST_CLOCK, child_env

CLOCK = TEST_CLOCK
EVERYTHING = 10**7
# Scheduled facts carry no command_id, though a command's result lists them.
SCHEDULED = {"CycleRenewed", "PlanDowngraded", "ConnectsExpired", "ConnectsRefilled",
             "MembershipCharged", "PaymentFailed"}


def decoded_log(led: Ledger) -> list[tuple[int, Any]]:
    """(notification id, domain event) for the whole log, in notification order."""
    notes = led.recorder.select_notifications(0, EVERYTHING)
    return [(n.id, led.mapper.to_domain_event(n)) for n in notes]


def check_log(led: Ledger) -> dict[str, list[str]]:
    """Assert the invariants above; return {command_id: its recorded event names}."""
    log = decoded_log(led)
    versions: dict[Any, list[int]] = defaultdict(list)
    for _, event in log:
        versions[event.originator_id].append(event.originator_version)
    for stream, seen in versions.items():
        assert sorted(seen) == list(range(1, len(seen) + 1)), (
            f"stream {stream} has versions {sorted(seen)}: a gap or a duplicate")

    records: dict[str, tuple[int, list[str]]] = {}
    tagged: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for nid, event in log:
        if isinstance(event, CommandRecord.CommandAccepted):
            assert event.command_id not in records, f"command {event.command_id}: two records"
            records[event.command_id] = (nid, list(event.events))
        elif isinstance(event, Account.Event) and event.command_id is not None:
            tagged[event.command_id].append((nid, type(event).__name__))
    for cid, events in tagged.items():
        assert cid in records, (
            f"{[n for _, n in events]} of command {cid} were recorded without its command "
            "record (half-recorded, or recorded by a rejected command)")
    for cid, (nid, names) in records.items():
        own = Counter(n for _, n in tagged.get(cid, []))
        assert own, f"command {cid}: a record without any event of its own"
        assert not own - Counter(names), (
            f"command {cid}: events {dict(own - Counter(names))} recorded more often than "
            f"its result lists them ({names})")
        rest = Counter(names) - own
        assert set(rest) <= SCHEDULED, (
            f"command {cid}: {dict(rest)} listed in its record but not in the log")
        assert all(n < nid for n, _ in tagged.get(cid, [])), (
            f"command {cid}: an event stored after its record")
    return {cid: names for cid, (_, names) in records.items()}


def command_events(led: Ledger, account_id: str) -> dict[str, list[str]]:
    """{command_id: names of this account's events tagged with it}, from `history`."""
    found: dict[str, list[str]] = defaultdict(list)
    for entry in led.history(account_id):
        cid = entry["data"].get("command_id")
        if cid is not None:
            found[cid].append(entry["name"])
    return dict(found)


def running_balances_never_negative(led: Ledger, account_id: str) -> None:
    """Connects and both earnings parts, event by event, never go below zero (R-5.1, R-6.1)."""
    connects = 0
    pending = available = Decimal("0")
    for entry in led.history(account_id):
        name, data = entry["name"], entry["data"]
        if name in ("ConnectsRefilled", "ConnectsGranted", "ConnectsPurchased",
                    "ConnectsRefunded"):
            connects += data["quantity"]
        elif name in ("ConnectsSpent", "ConnectsExpired"):
            connects -= data["quantity"]
        if name == "EarningsPending":
            pending += data["amount"]
        elif name == "EarningsReleased":
            pending -= data["amount"]
            available += data["amount"]
        elif name == "EarningsCredited":
            available += data["amount"]
        elif name == "EarningsWithdrawn" or (
                name in ("ConnectsPurchased", "MembershipCharged")
                and data.get("source") == "earnings"):
            available -= data["amount"]
        assert connects >= 0, f"{account_id}: Connects went to {connects} at v{entry['version']}"
        assert pending >= 0 and available >= 0, (
            f"{account_id}: earnings went to {pending}/{available} at v{entry['version']}")


def views_of(led: Ledger, account_ids: Iterable[str],
             points: Sequence[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for aid in account_ids:
        out[aid] = led.account(aid).to_json()
        for point in points:
            try:
                out[f"{aid}@{point}"] = led.account(aid, as_of=point).to_json()
            except Exception as exc:  # did not exist yet: compare the error code
                out[f"{aid}@{point}"] = getattr(exc, "code", repr(exc))
    return out


def assert_views_equal_rebuild(led: Ledger, account_ids: Iterable[str],
                               points: Sequence[str] = ()) -> dict[str, Any]:
    ids = sorted(account_ids)
    before = views_of(led, ids, points)
    led.views.drop_views()
    led.refresh_views()
    after = views_of(led, ids, points)
    assert before == after, "the views differ from a rebuild from the log"
    return after


def replay_audit_available() -> bool:
    try:
        return find_spec("replay_tools.cli") is not None
    except ModuleNotFoundError:
        return False


def audit_exit(url: str) -> int | None:
    """`ledger-replay audit` in-process, when replay_tools has it (None otherwise); its
    report is kept quiet unless it finds something."""
    if not replay_audit_available():
        return None
    import contextlib
    import io

    from replay_tools.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["--store", url, "--clock", CLOCK, "audit"])
    if code != 0:
        print(out.getvalue()[-4000:])
    return code


def ledger_replay_audit(url: str) -> subprocess.CompletedProcess[str] | None:
    """`ledger-replay --store URL audit` as a subprocess, when replay_tools has it yet."""
    if not replay_audit_available():
        return None
    script = Path(sys.executable).with_name("ledger-replay")
    argv = [str(script)] if script.exists() else [
        sys.executable, "-c", "import sys; from replay_tools.cli import main; sys.exit(main())"]
    return subprocess.run([*argv, "--store", url, "audit"], capture_output=True, text=True,
                          timeout=120, env=child_env(), cwd=ROOT)


def pg_ctlcluster() -> str | None:
    return shutil.which("pg_ctlcluster")
