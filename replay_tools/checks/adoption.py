"""The adopted policy versions (R-8.7): the catalog the audit re-derives with, read from
the log, and the checks of the adoption stream's rows.

The store keeps one stream of `PolicyVersionAdopted` events, one per version it decided
under, each with the version's content and the SHA-256 of that content's canonical JSON.
`log_catalog` reads that stream before the audit's pass over the log, so the audit needs
no catalog file: the versions a decision used are the ones recorded (a store written
before R-8.7 that adopted nothing yet is audited with the catalog given, and a note says
so). `Adoptions.row` checks each row as the pass meets it: the stream id, versions
1, 2, 3..., each `prev_hash` the hash of the row before, the SHA-256 of the content as
recorded, the name inside the content, and each version adopted once.

Written from the rules, not from `ledger/adoption.py`: the stream id, the canonical form
and the catalog rebuilt from the adopted versions are written again here.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import ApplicationRecorder, Mapper

from ledger.errors import CatalogError
from ledger.policy import Catalog, parse_catalog
from replay_tools.findings import Findings, Reporter
from replay_tools.log import Entry
from replay_tools.reference import canonical, event_hash, event_name

ADOPTION_STREAM = uuid5(uuid5(NAMESPACE_URL, "urn:subscription-ledger:policy-version"),
                        "adopted policy versions")
TOPIC = "ledger/PolicyVersionAdopted"
LABEL = "policy-adoptions"


def content_sha256(content: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, ASCII) of a version."""
    return hashlib.sha256(canonical(content).encode()).hexdigest()


def adopted_in_log(recorder: ApplicationRecorder, mapper: Mapper[UUID]) -> dict[str, Any]:
    """name -> content of every version the adoption stream holds, in its order (a row
    that does not decode is left out here and reported by the pass over the log)."""
    adopted: dict[str, Any] = {}
    for stored in recorder.select_events(ADOPTION_STREAM):
        try:
            event: Any = mapper.to_domain_event(stored)
        except Exception:  # reported as the row is met in the log
            continue
        if event_name(event) == "PolicyVersionAdopted" and isinstance(event.content, dict):
            adopted.setdefault(str(event.name), event.content)
    return adopted


def log_catalog(recorder: ApplicationRecorder, mapper: Mapper[UUID], given: Catalog,
                findings: Findings) -> Catalog:
    """The catalog the log holds: its adopted versions in effective_from order, with the
    given catalog's promo codes (they are not versioned). `given` when nothing is
    adopted, or when the adopted versions do not make a valid catalog (a finding)."""
    adopted = adopted_in_log(recorder, mapper)
    if not adopted:
        findings.notes.append(
            "the store has adopted no policy version (R-8.7: written before adoptions were "
            "recorded, or empty): decisions are re-derived with the catalog given")
        return given
    versions = sorted(adopted.values(), key=lambda c: str(c.get("effective_from", "")))
    promos = given.model_dump(mode="json")["promo_codes"]
    try:
        return parse_catalog({"versions": versions, "promo_codes": promos})
    except CatalogError as exc:
        Reporter(findings, LABEL, None, None).fail(
            "integrity", "R-8.7", f"the adopted policy versions do not make a valid catalog "
            f"({exc}); decisions are re-derived with the catalog given")
        return given


class Adoptions:
    """The adoption stream's rows, checked in log order."""

    def __init__(self, findings: Findings) -> None:
        self.findings = findings
        self.version = 0
        self.last_hash: str | None = ""
        self.names: set[str] = set()

    def row(self, entry: Entry) -> str | None:
        """Check one row; returns its digest for the log chain (None: undecodable)."""
        r = Reporter(self.findings, LABEL, entry.version, entry.notification_id)
        if entry.version != self.version + 1:
            r.fail("integrity", "R-8.1", f"v{entry.version} follows v{self.version} in the "
                   "adoption stream", expected=self.version + 1, found=entry.version)
            self.last_hash = None  # the chain cannot be followed across the gap
        self.version = max(self.version, entry.version)
        event = entry.event
        if event is None:
            r.fail("integrity", "R-8.1", f"the stored event ({entry.topic}) does not decode: "
                   f"{entry.error}")
            self.last_hash = None
            return None
        digest = event_hash(event)
        if entry.originator_id != ADOPTION_STREAM:
            r.fail("integrity", "R-8.7", f"a policy adoption in stream "
                   f"{entry.originator_id.hex}, not the adoption stream {ADOPTION_STREAM.hex}")
            return digest
        if self.last_hash is not None and event.prev_hash != self.last_hash:
            r.fail("integrity", "R-8.1", "the prev_hash of an adoption is not the hash of the "
                   "adoption before it (an adoption was changed, inserted or removed)",
                   expected=self.last_hash[:16], found=str(event.prev_hash)[:16])
        self.last_hash = digest
        self._content(event, r)
        return digest

    def _content(self, event: Any, r: Reporter) -> None:
        name, content = event.name, event.content
        if not isinstance(content, dict):
            r.fail("integrity", "R-8.7", f"the adoption of {name} holds no version content")
            return
        found = content_sha256(content)
        if found != event.sha256:
            r.fail("integrity", "R-8.7", f"the content recorded for policy version {name} "
                   "does not hash to the SHA-256 recorded with it (edited?)",
                   expected=str(event.sha256)[:16], found=found[:16])
        if content.get("name") != name:
            r.fail("integrity", "R-8.7", f"the adoption of {name} holds the content of "
                   f"version {content.get('name')}")
        if name in self.names:
            r.fail("integrity", "R-8.7", f"policy version {name} is adopted twice")
        self.names.add(name)
