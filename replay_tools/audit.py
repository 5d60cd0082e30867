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
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from ledger.policy import Catalog
from ledger.results import to_jsonable
from projections.views import ViewRecorderMixin
from replay_tools.anchor import Anchor, AnchorChecks
from replay_tools.checks import adoption
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
              anchors: list[Anchor] | None = None, workers: int = 1) -> AuditReport:
    """Audit the whole log. `workers` > 1 splits the per-account work over that many
    processes (replay_tools/parallel.py; not for the in-memory store); the findings are
    the same, in the same order (Findings.sort), whatever the number."""
    if workers > 1 and app.store.kind != "memory":
        from replay_tools.parallel import run_parallel

        return run_parallel(app, through, progress, anchors, workers)
    findings = Findings()
    started = time.perf_counter()
    # re-derive with the versions the log adopted, not with a catalog file.
    catalog = adoption.log_catalog(app.recorder, app.mapper, app.catalog, findings)
    part = Partition(catalog, findings, through)
    merge = Merge(app.views, findings, anchors or [], app.recorder.max_notification_id)
    read = 0
    for page in read_log(app.recorder, app.mapper):
        for entry in page:
            merge.add(part.row(entry))
        read += len(page)
        if progress is not None:
            progress(len(page))
    merge.finish()
    counts = part.finish(app.views, app.recorder, app.mapper, through)
    return report(app, through, findings, merge, counts, read, started, workers=1)


# What a partition hands the merge for one notification, in notification order:
# (notification_id, digest or None, stream name, version, command note or None). A
# command note is ("event", command_id, event name) for an account event naming a
# command, ("record", command_id, listed events, record label) for a command record.
Item = tuple[int, str | None, str, int, tuple[Any, ...] | None]


class Partition:
    """Everything the audit does per stream: each row's integrity, the replay of the
    accounts (re-derivation, invariants), and at the end their views and history rows.
    Streams never share state, so the streams can be split over processes (`mine`)."""

    def __init__(self, catalog: Catalog, findings: Findings, through: datetime | None) -> None:
        self.findings = findings
        self.replayer = Replayer(catalog, findings, through)
        self.adoptions = adoption.Adoptions(findings)
        self.commands = 0

    def row(self, entry: Entry) -> Item:
        note: tuple[Any, ...] | None = None
        if entry.topic.startswith(COMMAND_TOPICS):
            self.commands += 1
            r = Reporter(self.findings, f"command-stream:{entry.originator_id.hex}",
                         entry.version, entry.notification_id)
            digest = check_command_row(entry, r)
            event: Any = entry.event
            if digest is not None and event_name(event) == "CommandAccepted":
                note = ("record", event.command_id, list(event.events), r.account)
            stream = r.account or ""
        elif entry.topic == adoption.TOPIC:  # one stream: one partition holds it all
            digest, stream = self.adoptions.row(entry), adoption.LABEL
        elif entry.topic in OTHER_STREAMS:
            digest, stream = _other_row(entry, self.findings)
            self.note_other(entry)
        else:
            digest, stream = self.replayer.account_row(entry)
            command_id = getattr(entry.event, "command_id", None)
            if isinstance(command_id, str):
                note = ("event", command_id, event_name(entry.event))
        return entry.notification_id, digest, stream, entry.version, note

    def note_other(self, entry: Entry) -> None:
        """What the replay needs from a stream that is not an account's: the key ring's
        scopes (R-1.4), which every partition reads, whoever audits the ring's rows."""
        self.replayer.keys.note(entry.event)

    def finish(self, views: ViewRecorderMixin, recorder: ApplicationRecorder,
               mapper: Mapper[UUID], through: datetime | None,
               mine: Callable[[UUID], bool] | None = None) -> dict[str, int]:
        """The end of the log, then agreement of the views and history rows of the
        streams that are `mine` (all by default)."""
        self.replayer.finish()
        streams = self.replayer.streams

        def moved_on(uid: UUID, version: int) -> bool:
            """Whether a writer beside the audit recorded past what was read."""
            return bool(recorder.select_events(uid, gt=version, limit=1))

        return {
            "account_events": self.replayer.events,
            "command_records": self.commands,
            "policy_adoptions": self.adoptions.version,
            "accounts": len(streams),
            "views_compared": check_agreement(views, streams, self.findings, through, mine,
                                              moved_on),
            "history_rows_compared": check_history(views, recorder, mapper, self.findings,
                                                   mine),
        }


class Merge:
    """What needs the whole log in order: its chain against the checkpoints and the
    anchors, and the command records against the events that name them. Cheap per row:
    two running hashes and a few dictionary updates."""

    def __init__(self, views: ViewRecorderMixin, findings: Findings,
                 anchors: list[Anchor],
                 log_head: Callable[[], int | None] | None = None) -> None:
        self.findings = findings
        self.log = LogChain(views, findings, log_head)
        self.anchored = AnchorChecks(anchors, findings)
        self.records = CommandRecords(findings, SCHEDULED)

    def add(self, item: Item) -> None:
        notification_id, digest, stream, version, note = item
        if note is not None:
            if note[0] == "record":
                self.records.record(note[1], note[2], Reporter(
                    self.findings, note[3], version, notification_id))
            else:
                self.records.event(note[1], note[2], stream, version, notification_id)
        self.log.add(notification_id, digest, stream, version)
        self.anchored.add(notification_id, digest)

    def finish(self) -> None:
        self.log.finish()
        self.anchored.finish()
        self.records.finish()


def report(app: Ledger, through: datetime | None, findings: Findings, merge: Merge,
           counts: dict[str, int], read: int, started: float, workers: int) -> AuditReport:
    findings.sort()
    elapsed = time.perf_counter() - started
    log, anchored = merge.log, merge.anchored
    summary = {
        "store": app.store.redacted,
        "through": to_jsonable(through.astimezone(UTC) if through.tzinfo else through)
        if through else None,
        "notifications": read,
        "last_notification_id": log.last_id,
        "account_events": counts["account_events"],
        "command_records": counts["command_records"],
        "policy_adoptions": counts.get("policy_adoptions", 0),
        "accounts": counts["accounts"],
        "views_compared": counts["views_compared"],
        "history_rows_compared": counts["history_rows_compared"],
        "checkpoints_checked": log.checked,
        "anchors_checked": anchored.checked,
        # what to keep elsewhere: `ledger-replay anchor` signs the same head
        "chain_head": {"notification_id": anchored.last_id,
                       "chain": None if anchored.broken else anchored.head},
        "last_checkpoint": {"notification_id": log.last_checkpoint,
                            "chain": log.last_checkpoint_chain or None},
        "findings": len(findings),
        "by_category": {c: findings.by_category[c] for c in CATEGORIES},
        "workers": workers,
        "elapsed_s": round(elapsed, 3),
        "events_per_s": round(read / elapsed) if elapsed > 0 else None,
    }
    return AuditReport(summary, findings)


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
        ("  policy adoptions", f"{s['policy_adoptions']:,}"),
        ("accounts", f"{s['accounts']:,}"),
        ("views compared", f"{s['views_compared']:,}"),
        ("history rows compared", f"{s['history_rows_compared']:,}"),
        ("checkpoints checked", f"{s['checkpoints_checked']:,}"),
        ("anchors checked", f"{s['anchors_checked']:,}"),
        ("workers", f"{s['workers']}"),
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
