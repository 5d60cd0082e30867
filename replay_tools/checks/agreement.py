"""Agreement (INTERFACE.md, `audit`): every account's view equals the replayed state, at
the version of the stream's last event (or, with --through, at that instant)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from projections.codec import view_to_dict
from projections.views import Row, ViewRecorderMixin
from replay_tools.findings import Findings, Reporter, view_differences
from replay_tools.reference import account_stream, view_json
from replay_tools.stream import Stream


def check_agreement(views: ViewRecorderMixin, streams: dict[UUID, Stream], findings: Findings,
                    through: datetime | None,
                    mine: Callable[[UUID], bool] | None = None,
                    moved_on: Callable[[UUID, int], bool] | None = None) -> int:
    """Compare each replayed account with its view; returns how many were compared.
    `mine`: the streams this process audits (replay_tools/parallel.py), all by default.
    `moved_on(uid, version)`: whether the log now holds a later version of the stream
    than the audit read. A writer running beside the audit moves views past what was
    read; such a view is not compared (its history row at the version read is, by
    check_history), while a view ahead of a log that does not have its version is a
    finding."""
    compared = 0
    for s in streams.values():
        row = views.current(s.uid) if through is None else views.at_point(s.uid, through, None)
        version = s.version if through is None else s.folded
        r = Reporter(findings, s.label, version or None, None)
        if row is None:
            if version:
                r.fail("agreement", "R-8.1", "the account has events but no view", version, None)
            continue
        if (through is None and row.version > version and moved_on is not None
                and moved_on(s.uid, version)):
            continue
        compared += 1
        _compare(s, row, version, r)
    if through is None:
        for account_id in views.all_account_ids():
            uid = account_stream(account_id)
            if (mine is None or mine(uid)) and uid not in streams and not (
                    moved_on is not None and moved_on(uid, 0)):  # opened after the read
                Reporter(findings, account_id, None, None).fail(
                    "agreement", "R-8.1", "a view for an account that has no events in the log")
    return compared


def rendered(view: Any, r: Reporter) -> dict[str, Any] | None:
    """The replayed view as JSON, or a finding: an event whose field decoded to another
    type than its own (a date stored as a plain string, say) folds, but its value cannot
    be shown; the audit says so instead of stopping."""
    try:
        return view_json(view)
    except (AttributeError, TypeError, ValueError) as exc:
        r.fail("integrity", "R-8.1", "an event of this account has a field of the wrong type: "
               f"the replayed state cannot be shown ({type(exc).__name__}: {exc})")
        return None


def _compare(s: Stream, row: Row, version: int, r: Reporter) -> None:
    if row.version != version:
        r.fail("agreement", "R-8.1", "the view's version is not the stream's last version",
               version, row.version)
    replayed = rendered(s.state.view, r)
    if replayed is None:
        return
    shown = view_to_dict(row.view)
    differing, expected, found = view_differences(replayed, shown)
    if differing:
        r.fail("agreement", "R-8.1",
               f"the view differs from the replay in {', '.join(differing)}", expected, found)
