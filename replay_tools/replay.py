"""The per-account replay of the audit: integrity of each row, then (up to --through)
re-derivation before each event, the fold, and the invariants after it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.policy import Catalog
from replay_tools.checks import billing, invariants, registry
from replay_tools.checks.context import Check
from replay_tools.checks.integrity import check_account_row, is_account_event
from replay_tools.checks.provenance import KeyScopes, check_key
from replay_tools.findings import Findings, Reporter
from replay_tools.log import Entry
from replay_tools.reference import event_name
from replay_tools.stream import Stream, fold, quantity_change

UPGRADE_EVENTS = ("PlanUpgraded", "MembershipCharged")


class Replayer:
    def __init__(self, catalog: Catalog, findings: Findings, through: datetime | None) -> None:
        self.catalog = catalog
        self.findings = findings
        self.through = through
        self.streams: dict[UUID, Stream] = {}
        self.events = 0
        self.keys = KeyScopes()  # the key ring's scopes, read in log order

    def account_row(self, entry: Entry) -> tuple[str | None, str]:
        """One row of an account stream; returns its digest (None: unusable) and the stream's
        name (the account id once known)."""
        s = self.streams.get(entry.originator_id)
        if s is None:
            s = self.streams[entry.originator_id] = Stream(entry.originator_id)
        r = Reporter(self.findings, s.label, entry.version, entry.notification_id)
        was_tainted = s.tainted
        digest = check_account_row(s, entry, r)
        event = entry.event
        if digest is None or event is None or not is_account_event(event):
            return digest, s.label
        self.events += 1
        if s.tainted and not was_tainted:
            self._drop_expectations(s)
        if s.stopped or (self.through is not None and event.at > self.through):
            s.stopped = True
        elif s.tainted:
            self._fold_quietly(s, event)
        else:
            self._replay(s, event, r)
        return digest, s.label

    def _replay(self, s: Stream, event: Any, r: Reporter) -> None:
        name = event_name(event)
        c = Check(s, event, self.catalog, r, self.keys)
        try:
            self._expectations(s, name, r)
            if s.block is not None and not billing.in_block(s, event):
                billing.finish_block(s, r)
            invariants.before_event(s, event, r)
            check_key(c)  # the key it was sent under existed and was not revoked
            if billing.is_scheduled(event):
                billing.scheduled(c)
            else:
                billing.check_due(c)
                registry.check_command_event(c)
        except Exception as exc:  # a row whose fields do not fit its type
            r.fail("integrity", "R-8.1", f"{name} cannot be checked: {type(exc).__name__}: "
                   f"{exc}")
            s.tainted = True
            self._drop_expectations(s)
            self._fold_quietly(s, event)
            return
        if not self._fold(s, event, r):
            return
        if s.block is not None and s.block.phase == "folding":
            billing.plan_rollover(s, s.block)
        invariants.after_event(s, quantity_change(event), r)
        s.opening = name == "AccountOpened"
        if name not in UPGRADE_EVENTS:
            s.upgrade = None

    def _fold(self, s: Stream, event: Any, r: Reporter) -> bool:
        try:
            fold(s.state, event)
        except Exception as exc:
            r.fail("integrity", "R-8.1", f"{event_name(event)} cannot be applied to the "
                   f"prior state: {type(exc).__name__}: {exc}")
            s.tainted = True
            self._drop_expectations(s)
            return False
        s.folded = event.originator_version
        return True

    def _fold_quietly(self, s: Stream, event: Any) -> None:
        try:
            fold(s.state, event)
            s.folded = event.originator_version
        except Exception:  # already reported: the stream is tainted
            pass

    @staticmethod
    def _drop_expectations(s: Stream) -> None:
        s.pending.clear()
        s.block = None
        s.upgrade = None

    @staticmethod
    def _expectations(s: Stream, name: str, r: Reporter) -> None:
        """Events the rules say come next (a proposal's spend, an upgrade's charge...)."""
        if not s.pending:
            return
        for i, expected in enumerate(s.pending):
            if name in expected.names:
                missed = s.pending[:i]
                del s.pending[: i + 1]
                break
        else:
            missed = list(s.pending)
            s.pending.clear()
        for m in missed:
            r.fail(m.category, m.rule, f"{m.what} ({' or '.join(m.names)}) is missing "
                   f"before {name}")

    def finish(self) -> None:
        """The end of the log: what the rules still wanted recorded is missing."""
        for s in self.streams.values():
            if s.tainted:
                continue
            r = Reporter(self.findings, s.label, s.folded, None)
            for m in s.pending:
                r.fail(m.category, m.rule, f"{m.what} ({' or '.join(m.names)}) is missing "
                       "at the end of the stream")
            s.pending.clear()
            billing.finish_block(s, r)
