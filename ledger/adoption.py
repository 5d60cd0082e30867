"""Adopted policy versions (R-8.7): the content and SHA-256 of each catalog version the
ledger has decided under, kept in the store so that the catalog cannot change under it.

One stream (`ADOPTIONS_ID`) holds a `PolicyVersionAdopted` event per adopted version, in
the order adopted, each chained to the one before (`prev_hash`). It is saved in the
transaction of the first command or billing date decided under the version
(ledger/application.py, `_save_noted`): an event is decided under the version in force
on its date, or the one it names (`policy_version`); a store written before adoptions
existed adopts every version up to its first adoption's date. One stream, so that
opening a store reads every adopted version in one lookup (a catalog that lacks one is
refused too), and two writers adopting at once meet as a write conflict on that stream:
the loser reads what the winner adopted, compares it with its own catalog and decides
again.

What is here is data and comparison only (no decision), so the audit may use it too:

- `adopt(log, versions, at, recorded_at)`: the adoption log with these versions added;
- `adopted_event(version, at, recorded_at)`: a new log adopting one version;
- `catalog_differences(catalog, adopted)`: each adopted version the catalog lacks or
  holds with other content, naming the version and the fields (`policy_mismatch`);
- `check_catalog(catalog, adopted)`: raises `policy_mismatch` when there is any;
- `catalog_from_adopted(adopted)`: a Catalog rebuilt from the adopted versions alone,
  for an audit that has no catalog file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from ledger.errors import LedgerError
from ledger.integrity import canonical_json, event_digest
from ledger.policy import Catalog, PolicyVersion, parse_catalog

ADOPTION_NAMESPACE = uuid5(NAMESPACE_URL, "urn:subscription-ledger:policy-version")
ADOPTIONS_ID = uuid5(ADOPTION_NAMESPACE, "adopted policy versions")


def version_content(version: PolicyVersion) -> dict[str, Any]:
    """The version as JSON data: what is recorded and compared."""
    content: dict[str, Any] = version.model_dump(mode="json")
    return content


def content_digest(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(content)).encode()).hexdigest()


def _digest(event: Any) -> str:
    fields = dict(vars(event))
    fields["originator_id"] = fields["originator_id"].hex
    return event_digest(type(event).TOPIC, fields)


class PolicyAdoption(Aggregate):
    """The store's adopted versions: name -> content, and name -> SHA-256."""

    TOPIC = "ledger/PolicyAdoption"

    def __init__(self) -> None:
        self.versions: dict[str, dict[str, Any]] = {}
        self.sha256: dict[str, str] = {}
        self.last_digest = ""
        self.latest_at: datetime | None = None  # the latest decision that adopted

    class Event(Aggregate.Event):
        TOPIC = "ledger/PolicyAdoption.Event"

    class PolicyVersionAdopted(Event, Aggregate.Created):
        """One version adopted. The first starts the stream; later ones extend it (one
        event type for both, so every adoption reads the same)."""

        TOPIC = "ledger/PolicyVersionAdopted"
        name: str
        content: dict[str, Any]
        sha256: str
        at: datetime
        prev_hash: str

        def mutate(self, aggregate: Any) -> Any:
            if aggregate is None:
                return super().mutate(None)
            return Aggregate.Event.mutate(self, aggregate)

        def apply(self, aggregate: Any) -> None:
            aggregate.versions[self.name] = dict(self.content)
            aggregate.sha256[self.name] = self.sha256
            aggregate.last_digest = _digest(self)
            latest = getattr(aggregate, "latest_at", None)
            aggregate.latest_at = self.at if latest is None else max(latest, self.at)

    @property
    def decided_through(self) -> date | None:
        """The effective date of the latest decision that adopted a version (the ledger
        takes the later of this and its accounts' latest fact)."""
        return self.latest_at.date() if self.latest_at is not None else None

    @property
    def adopted(self) -> dict[str, dict[str, Any]]:
        return dict(self.versions)


def adopt(log: PolicyAdoption | None, versions: Iterable[PolicyVersion], at: datetime,
          recorded_at: datetime) -> PolicyAdoption | None:
    """The log with each of `versions` it does not hold yet adopted by a decision
    effective at `at` (pending, to save with it); None when there was none and is none."""
    for version in versions:
        if log is not None and version.name in log.versions:
            continue
        content = version_content(version)
        fields = {"name": version.name, "content": content, "sha256": content_digest(content),
                  "at": at, "timestamp": recorded_at}
        if log is None:
            log = PolicyAdoption._create(PolicyAdoption.PolicyVersionAdopted, id=ADOPTIONS_ID,
                                         prev_hash="", **fields)
        else:
            log.trigger_event(PolicyAdoption.PolicyVersionAdopted, prev_hash=log.last_digest,
                              originator_topic=PolicyAdoption.TOPIC, **fields)
    return log


def adopted_event(version: PolicyVersion, at: datetime, recorded_at: datetime
                  ) -> PolicyAdoption:
    """A new adoption log holding `version`, adopted by a decision effective at `at`."""
    log = adopt(None, [version], at, recorded_at)
    assert log is not None
    return log


def _field_differences(path: str, held: Any, given: Any) -> list[str]:
    if isinstance(held, dict) and isinstance(given, dict):
        out: list[str] = []
        for key in sorted(set(held) | set(given), key=str):
            out += _field_differences(f"{path}.{key}" if path else str(key),
                                      held.get(key), given.get(key))
        return out
    if held != given:
        return [f"{path or '(version)'}: adopted {canonical_json(held)}, "
                f"catalog {canonical_json(given)}"]
    return []


def catalog_differences(catalog: Catalog, adopted: Mapping[str, Mapping[str, Any]],
                        decided_through: Callable[[], date | None] | None = None,
                        ) -> list[str]:
    """One line per difference between the catalog and the adopted versions (by name),
    and per version the catalog adds inside the decided past: starting after the first
    adopted version and on or before `decided_through` (the latest date decided; asked
    only when there is such a version), it would take over dates that were decided
    without it, and replaying them would give other results. A version wholly before
    every adopted one was never in force for anything decided: it may be added or
    changed."""
    lines: list[str] = []
    if _candidates(catalog, adopted) and decided_through is not None:
        through = decided_through()
        if through is not None:
            lines += inside_decided_past(catalog, adopted, through)
    for name in sorted(adopted):
        held = dict(adopted[name])
        try:
            version = catalog.named(name)
        except KeyError:
            lines.append(f"version {name}: adopted by the store, missing from the catalog")
            continue
        lines += [f"version {name}: {d}"
                  for d in _field_differences("", held, version_content(version))]
    return lines


def _candidates(catalog: Catalog, adopted: Mapping[str, Mapping[str, Any]],
                ) -> list[PolicyVersion]:
    """The catalog's versions not adopted that start after the first adopted one."""
    starts = [date.fromisoformat(str(c["effective_from"])) for c in adopted.values()
              if "effective_from" in c]
    return [v for v in catalog.versions
            if starts and v.name not in adopted and v.effective_from > min(starts)]


def inside_decided_past(catalog: Catalog, adopted: Mapping[str, Mapping[str, Any]],
                        through: date) -> list[str]:
    """One line per version the catalog adds inside the decided past (after the first
    adopted version, on or before `through`)."""
    return [f"version {v.name}: new, but starts {v.effective_from.isoformat()}, on or"
            f" before {through.isoformat()}, already decided without it"
            " (a new version takes a later effective_from)"
            for v in _candidates(catalog, adopted) if v.effective_from <= through]


def mismatch(differences: list[str]) -> LedgerError:
    return LedgerError(
        "policy_mismatch",
        "the policy catalog differs from the versions this store adopted (a used "
        "version is immutable; add a new version with a later effective_from): "
        + "; ".join(differences), rule="R-8.7")


def check_catalog(catalog: Catalog, adopted: Mapping[str, Mapping[str, Any]],
                  decided_through: Callable[[], date | None] | None = None) -> None:
    differences = catalog_differences(catalog, adopted, decided_through)
    if differences:
        raise mismatch(differences)


def catalog_from_adopted(adopted: Mapping[str, Mapping[str, Any]],
                         promo_codes: list[Any] | None = None) -> Catalog:
    """The catalog the log itself holds: the adopted versions in effective_from order."""
    versions = sorted((dict(c) for c in adopted.values()), key=lambda c: c["effective_from"])
    return parse_catalog({"versions": versions, "promo_codes": promo_codes or []})


def store_catalog(adopted: Mapping[str, Mapping[str, Any]], fallback: Catalog) -> Catalog:
    """The catalog a store holds when no catalog file is given: its adopted versions,
    with the fallback's promo codes (they are not versioned); the fallback itself for a
    store that has adopted nothing yet (written before R-8.7)."""
    if not adopted:
        return fallback
    return catalog_from_adopted(adopted, fallback.model_dump(mode="json")["promo_codes"])
