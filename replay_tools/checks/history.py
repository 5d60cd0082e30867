"""Agreement of `ledger_view_history` (R-8.8): the row kept for each account version is
what `show --as-of` and `--known-at` answer from, so every row must equal the audit's
own fold of the account's events up to that version, with the running maxima of both
times. An account at a time: its rows and its events, read side by side."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from projections.views import ViewRecorderMixin
from replay_tools.findings import Findings, Reporter
from replay_tools.reference import RefState, fold, view_json

ACCOUNTS_PAGE = 500


def instant(moment: datetime) -> str:
    """The views' fixed-width UTC instant (text order is time order)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _values(row: Any, n: int) -> list[Any]:
    return list(row.values())[:n] if isinstance(row, dict) else [row[i] for i in range(n)]


def _accounts(views: ViewRecorderMixin) -> Iterator[str]:
    after = ""
    statement = views.sql("SELECT DISTINCT account_uuid FROM ledger_view_history"
                          " WHERE account_uuid > ? ORDER BY account_uuid LIMIT ?")
    while True:
        with views._cursor(commit=False) as c:
            c.execute(statement, (after, ACCOUNTS_PAGE))
            found = [str(_values(r, 1)[0]) for r in c.fetchall()]
        if not found:
            return
        yield from found
        after = found[-1]


def _rows(views: ViewRecorderMixin, uid: str) -> list[tuple[int, str, str, str]]:
    with views._cursor(commit=False) as c:
        c.execute(views.sql("SELECT version, at_max, recorded_max, state FROM"
                            " ledger_view_history WHERE account_uuid = ? ORDER BY version"),
                  (uid,))
        return [(int(v[0]), str(v[1]), str(v[2]), str(v[3]))
                for v in (_values(r, 4) for r in c.fetchall())]


def check_history(views: ViewRecorderMixin, recorder: ApplicationRecorder,
                  mapper: Mapper[UUID], findings: Findings) -> int:
    """Compare every history row with the fold; returns how many rows were compared."""
    compared = 0
    for uid in _accounts(views):
        compared += _check_account(uid, _rows(views, uid), recorder, mapper, findings)
    return compared


def _check_account(uid: str, rows: list[tuple[int, str, str, str]],
                   recorder: ApplicationRecorder, mapper: Mapper[UUID],
                   findings: Findings) -> int:
    state = RefState()
    at_max = recorded_max = ""
    label = uid
    by_version = {row[0]: row for row in rows}
    compared = 0
    for stored in recorder.select_events(UUID(uid)):
        version = stored.originator_version
        try:
            event: Any = mapper.to_domain_event(stored)
            fold(state, event)
        except Exception:  # an unusable row: the replay already reported it
            return compared
        label = state.view.account_id or uid
        at_max = max(at_max, instant(event.at))
        recorded_max = max(recorded_max, instant(event.timestamp))
        row = by_version.pop(version, None)
        r = Reporter(findings, label, version, None)
        if row is None:
            r.fail("agreement", "R-8.8", "no ledger_view_history row for this version")
            continue
        compared += 1
        _compare(row, view_json(state.view), at_max, recorded_max, r)
    for version in sorted(by_version):
        Reporter(findings, label, version, None).fail(
            "agreement", "R-8.8", "a ledger_view_history row for a version the log does not "
            "have")
    return compared


def _compare(row: tuple[int, str, str, str], replayed: dict[str, Any], at_max: str,
             recorded_max: str, r: Reporter) -> None:
    _, kept_at, kept_recorded, state = row
    try:
        shown = json.loads(state)
    except ValueError:
        r.fail("agreement", "R-8.8", "the ledger_view_history row does not decode")
        return
    differing = sorted(k for k in replayed if replayed[k] != shown.get(k))
    if kept_at != at_max or kept_recorded != recorded_max:
        r.fail("agreement", "R-8.8", "the ledger_view_history row's times are not the "
               "events' (as-of and known-at answers would pick another version)",
               [at_max, recorded_max], [kept_at, kept_recorded])
    if differing:
        r.fail("agreement", "R-8.8", "the ledger_view_history row differs from the fold at "
               f"its version in {', '.join(differing)}",
               {k: replayed[k] for k in differing}, {k: shown.get(k) for k in differing})
