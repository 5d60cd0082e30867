"""Agreement of `ledger_view_history` (R-8.8): the row kept for each account version is
what `show --as-of` and `--known-at` answer from, so every row must equal the audit's
own fold of the account's events up to that version, with the running maxima of both
times. An account at a time: its rows and its events, read side by side."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import ApplicationRecorder, Mapper

from projections.views import ViewRecorderMixin
from replay_tools.checks.agreement import rendered
from replay_tools.findings import Findings, Reporter, view_differences
from replay_tools.reference import RefState, fold

ACCOUNTS_PAGE = 500


_INSTANTS: dict[tuple[datetime, Any], str] = {}


def instant(moment: datetime) -> str:
    """The views' fixed-width UTC instant (text order is time order). Remembered by
    value and zone (many events share an instant; strftime was 5% of the audit)."""
    key = (moment, moment.tzinfo)
    text = _INSTANTS.get(key)
    if text is None:
        if len(_INSTANTS) > 100_000:
            _INSTANTS.clear()
        text = _INSTANTS[key] = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return text


def _values(row: Any, n: int) -> list[Any]:
    return list(row.values())[:n] if isinstance(row, dict) else [row[i] for i in range(n)]


def _accounts(views: ViewRecorderMixin) -> Iterator[str]:
    after = ""
    statement = views.sql("SELECT DISTINCT account_uuid FROM ledger_view_history"
                          " WHERE account_uuid > ? ORDER BY account_uuid LIMIT ?")
    while True:
        with views.read_transaction() as c:
            c.execute(statement, (after, ACCOUNTS_PAGE))
            found = [str(_values(r, 1)[0]) for r in c.fetchall()]
        if not found:
            return
        yield from found
        after = found[-1]


def _rows(views: ViewRecorderMixin, uids: list[str]
          ) -> dict[str, list[tuple[int, str, str, str]]]:
    """The history rows of these accounts, one query, by account then version."""
    found: dict[str, list[tuple[int, str, str, str]]] = {uid: [] for uid in uids}
    marks = ",".join("?" * len(uids))
    with views.read_transaction() as c:
        c.execute(views.sql("SELECT account_uuid, version, at_max, recorded_max, state FROM"
                            f" ledger_view_history WHERE account_uuid IN ({marks})"
                            " ORDER BY account_uuid, version"), uids)
        for v in (_values(r, 5) for r in c.fetchall()):
            found[str(v[0])].append((int(v[1]), str(v[2]), str(v[3]), str(v[4])))
    return found


def _events(recorder: ApplicationRecorder, uids: list[str]) -> dict[str, list[Any]]:
    """The stored events of these accounts: one query where the recorder has one (the
    ledger's recorders: `select_events_of_many`), else one per account."""
    ids = [UUID(uid) for uid in uids]
    many = getattr(recorder, "select_events_of_many", None)
    stored = many(ids) if many is not None else [
        e for uid in ids for e in recorder.select_events(uid)]
    found: dict[str, list[Any]] = {uid.hex: [] for uid in ids}
    for e in stored:
        uid = e.originator_id if isinstance(e.originator_id, UUID) else UUID(e.originator_id)
        found[uid.hex].append(e)
    return found


def check_history(views: ViewRecorderMixin, recorder: ApplicationRecorder,
                  mapper: Mapper[UUID], findings: Findings,
                  mine: Callable[[UUID], bool] | None = None) -> int:
    """Compare every history row with the fold; returns how many rows were compared.
    `mine`: the accounts this process audits (replay_tools/parallel.py), all by default.
    Accounts are read ACCOUNTS_PAGE at a time: their rows, then their events."""
    compared = 0
    chunk: list[str] = []
    for uid in _accounts(views):
        if mine is not None and not mine(UUID(uid)):
            continue
        chunk.append(uid)
        if len(chunk) >= ACCOUNTS_PAGE:
            compared += _check_chunk(chunk, views, recorder, mapper, findings)
            chunk = []
    if chunk:
        compared += _check_chunk(chunk, views, recorder, mapper, findings)
    return compared


def _check_chunk(uids: list[str], views: ViewRecorderMixin, recorder: ApplicationRecorder,
                 mapper: Mapper[UUID], findings: Findings) -> int:
    # The events first, then the rows: a writer running beside the audit commits an
    # event and its row together, so every event read has its row by the time the rows
    # are read. Rows past the last event read are then checked against the log again
    # (`_later_in_log`): a writer's, or a forged row for a version the log lacks.
    events = _events(recorder, uids)
    rows = _rows(views, uids)

    def later_in_log(uid: str, version: int) -> bool:
        return bool(recorder.select_events(UUID(uid), gt=version - 1, limit=1))

    return sum(_check_account(uid, rows[uid], events[UUID(uid).hex], mapper, findings,
                              later_in_log) for uid in uids)


def _check_account(uid: str, rows: list[tuple[int, str, str, str]], stored_events: list[Any],
                   mapper: Mapper[UUID], findings: Findings,
                   later_in_log: Callable[[str, int], bool] | None = None) -> int:
    state = RefState()
    at_max = recorded_max = ""
    label = uid
    by_version = {row[0]: row for row in rows}
    compared = 0
    for stored in stored_events:
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
        replayed = rendered(state.view, r)
        if replayed is None:
            return compared  # said once, by this account's first unusable version
        compared += 1
        _compare(row, replayed, at_max, recorded_max, r)
    read_up_to = stored_events[-1].originator_version if stored_events else 0
    for version in sorted(by_version):
        if version > read_up_to and later_in_log is not None and later_in_log(uid, version):
            continue  # recorded after this account's events were read
        Reporter(findings, label, version, None).fail(
            "agreement", "R-8.8", "a ledger_view_history row for a version the log does not "
            "have")
    return compared


def _same_text(replayed: dict[str, Any], state: str) -> bool:
    """The row is the very text the fold's view serialises to (the views write compact
    JSON in this key order): equal then, without decoding it. Anything else (another
    spacing, escapes, a difference) is decoded and compared field by field."""
    try:
        return orjson.dumps(replayed) == state.encode()
    except (TypeError, UnicodeEncodeError):  # orjson.JSONEncodeError; a lone surrogate
        return False


def _compare(row: tuple[int, str, str, str], replayed: dict[str, Any], at_max: str,
             recorded_max: str, r: Reporter) -> None:
    _, kept_at, kept_recorded, state = row
    if kept_at == at_max and kept_recorded == recorded_max and _same_text(replayed, state):
        return
    try:
        shown = json.loads(state)
    except ValueError:
        r.fail("agreement", "R-8.8", "the ledger_view_history row does not decode")
        return
    differing, expected, found = view_differences(replayed, shown)
    if kept_at != at_max or kept_recorded != recorded_max:
        r.fail("agreement", "R-8.8", "the ledger_view_history row's times are not the "
               "events' (as-of and known-at answers would pick another version)",
               [at_max, recorded_max], [kept_at, kept_recorded])
    if differing:
        r.fail("agreement", "R-8.8", "the ledger_view_history row differs from the fold at "
               f"its version in {', '.join(differing)}", expected, found)
