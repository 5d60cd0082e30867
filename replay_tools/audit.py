"""`ledger-replay audit`: the whole log in notification order, with bounded memory.

Each page of notifications is decoded and checked, then dropped: only per-account replay
state is kept. Findings fall in four categories: integrity (rows, per-account chains,
the log chain against its checkpoints), rederive (recorded decisions the policy in force
does not reproduce), invariant (balances, methods, billing dates), agreement (views).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from replay_tools.anchor import Anchor, AnchorChecks
from replay_tools.checks.agreement import check_agreement
from replay_tools.checks.billing import SCHEDULED
from replay_tools.checks.commands import CommandRecords
from replay_tools.checks.history import check_history
from replay_tools.checks.integrity import check_command_row
from replay_tools.checks.registry import OTHER_STREAMS
from replay_tools.findings import CATEGORIES, Findings, Reporter
from replay_tools.log import Entry, LogChain, read_log
from replay_tools.reference import event_hash, event_name
from replay_tools.replay import Replayer

if TYPE_CHECKING:
    from ledger.application import Ledger

COMMAND_TOPICS = ("ledger/CommandAccepted", "ledger/CommandRecord")


@dataclass
class AuditReport:
    summary: dict[str, Any]
    findings: Findings

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "findings": [f.to_json() for f in self.findings.items],
                "notes": self.findings.notes}


def run_audit(app: Ledger, through: datetime | None = None,
              progress: Callable[[int], None] | None = None,
              anchors: list[Anchor] | None = None) -> AuditReport:
    findings = Findings()
    anchored = AnchorChecks(anchors or [], findings)
    replayer = Replayer(app.catalog, findings, through)
    log = LogChain(app.views, findings)
    records = CommandRecords(findings, SCHEDULED)
    started = time.perf_counter()
    read = commands = 0
    for page in read_log(app.recorder, app.mapper):
        for entry in page:
            if entry.topic.startswith(COMMAND_TOPICS):
                commands += 1
                digest, stream = _command_row(entry, findings, records)
            elif entry.topic in OTHER_STREAMS:
                digest, stream = _other_row(entry, findings)
            else:
                digest, stream = replayer.account_row(entry)
                _note_command(entry, stream, records)
            log.add(entry.notification_id, digest, stream, entry.version)
            anchored.add(entry.notification_id, digest)
        read += len(page)
        if progress is not None:
            progress(len(page))
    log.finish()
    anchored.finish()
    replayer.finish()
    records.finish()
    compared = check_agreement(app.views, replayer.streams, findings, through)
    history_rows = check_history(app.views, app.recorder, app.mapper, findings)
    elapsed = time.perf_counter() - started
    summary = {
        "store": app.store.redacted,
        "through": through.isoformat() if through else None,
        "notifications": read,
        "last_notification_id": log.last_id,
        "account_events": replayer.events,
        "command_records": commands,
        "accounts": len(replayer.streams),
        "views_compared": compared,
        "history_rows_compared": history_rows,
        "checkpoints_checked": log.checked,
        "anchors_checked": anchored.checked,
        # what to keep elsewhere: `ledger-replay anchor` signs the same head
        "chain_head": {"notification_id": anchored.last_id,
                       "chain": None if anchored.broken else anchored.head},
        "last_checkpoint": {"notification_id": log.last_checkpoint,
                            "chain": log.last_checkpoint_chain or None},
        "findings": len(findings),
        "by_category": {c: findings.by_category[c] for c in CATEGORIES},
        "elapsed_s": round(elapsed, 3),
        "events_per_s": round(read / elapsed) if elapsed > 0 else None,
    }
    return AuditReport(summary, findings)


def _command_row(entry: Entry, findings: Findings,
                 records: CommandRecords) -> tuple[str | None, str]:
    r = Reporter(findings, f"command-stream:{entry.originator_id.hex}", entry.version,
                 entry.notification_id)
    digest = check_command_row(entry, r)
    event: Any = entry.event
    if digest is not None and event_name(event) == "CommandAccepted":
        records.record(event.command_id, list(event.events), r)
    return digest, r.account or ""


def _note_command(entry: Entry, stream: str, records: CommandRecords) -> None:
    command_id = getattr(entry.event, "command_id", None)
    if isinstance(command_id, str):
        records.event(command_id, event_name(entry.event), stream, entry.version,
                      entry.notification_id)


def _other_row(entry: Entry, findings: Findings) -> tuple[str | None, str]:
    """A row of a stream that is not an account's (checks/registry.py): chained, not
    replayed."""
    if entry.event is None:
        Reporter(findings, entry.originator_id.hex, entry.version, entry.notification_id).fail(
            "integrity", "R-8.1", f"the stored event ({entry.topic}) does not decode: "
            f"{entry.error}")
        return None, entry.originator_id.hex
    return event_hash(entry.event), entry.originator_id.hex


def render_text(report: AuditReport) -> str:
    s = report.summary
    rate = f"{s['events_per_s']:,}" if s["events_per_s"] is not None else "-"
    rows = [
        ("store", s["store"]),
        ("through", s["through"] or "(everything)"),
        ("events read", f"{s['notifications']:,}"),
        ("  account events", f"{s['account_events']:,}"),
        ("  command records", f"{s['command_records']:,}"),
        ("accounts", f"{s['accounts']:,}"),
        ("views compared", f"{s['views_compared']:,}"),
        ("history rows compared", f"{s['history_rows_compared']:,}"),
        ("checkpoints checked", f"{s['checkpoints_checked']:,}"),
        ("anchors checked", f"{s['anchors_checked']:,}"),
        ("chain head", f"#{s['chain_head']['notification_id']} "
                       f"{s['chain_head']['chain'] or '(unknown)'}"),
        ("findings", f"{s['findings']:,}"),
        *[(f"  {c}", f"{n:,}") for c, n in s["by_category"].items()],
        ("elapsed", f"{s['elapsed_s']:.2f} s"),
        ("events/s", rate),
    ]
    width = max(len(k) for k, _ in rows)
    lines = ["ledger-replay audit", *(f"  {k:<{width}}  {v}" for k, v in rows)]
    if report.findings.notes:
        lines += ["", "notes:", *(f"  {note}" for note in report.findings.notes)]
    if report.findings.items:
        lines += ["", "findings:"]
        lines += [f"  {f.line()}" for f in report.findings.items]
    else:
        lines += ["", "clean: every check passed"]
    return "\n".join(lines)


def render_json(report: AuditReport) -> str:
    return json.dumps(report.to_json(), indent=None)
