"""Adopted policy versions (R-8.7): the content and SHA-256 of each catalog version the
ledger has decided under, kept in the store so that the catalog cannot change under it.

A version's stream is one `PolicyVersionAdopted` event (uuid5 of its name), meant to be
saved in the transaction of the first command or billing date decided under it. What is
here is data and comparison only (no decision), so the audit may use it too:

- `adopted_event(version, at, recorded_at)`: the aggregate to save with that decision;
- `catalog_differences(catalog, adopted)`: each adopted version the catalog lacks or
  holds with other content, naming the version and the fields (`policy_mismatch`);
- `check_catalog(catalog, adopted)`: raises `policy_mismatch` when there is any;
- `catalog_from_adopted(adopted)`: a Catalog rebuilt from the adopted versions alone,
  for an audit that has no catalog file.

Status: not yet wired into Ledger (see the issue-10 report): nothing writes these
events yet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.errors import LedgerError
from ledger.integrity import canonical_json
from ledger.policy import Catalog, PolicyVersion, parse_catalog

ADOPTION_NAMESPACE = uuid5(NAMESPACE_URL, "urn:subscription-ledger:policy-version")


def adoption_uuid(version_name: str) -> UUID:
    return uuid5(ADOPTION_NAMESPACE, version_name)


def version_content(version: PolicyVersion) -> dict[str, Any]:
    """The version as JSON data: what is recorded and compared."""
    content: dict[str, Any] = version.model_dump(mode="json")
    return content


def content_digest(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(content)).encode()).hexdigest()


class PolicyAdoption(Aggregate):
    TOPIC = "ledger/PolicyAdoption"

    def __init__(self) -> None:
        self.name = ""
        self.content: dict[str, Any] = {}
        self.sha256 = ""

    class Event(Aggregate.Event):
        TOPIC = "ledger/PolicyAdoption.Event"

    class PolicyVersionAdopted(Event, Aggregate.Created):
        TOPIC = "ledger/PolicyVersionAdopted"
        name: str
        content: dict[str, Any]
        sha256: str
        at: datetime
        prev_hash: str

        def apply(self, aggregate: Any) -> None:
            aggregate.name = self.name
            aggregate.content = dict(self.content)
            aggregate.sha256 = self.sha256


def adopted_event(version: PolicyVersion, at: datetime, recorded_at: datetime
                  ) -> PolicyAdoption:
    """The adoption of `version` by a decision effective at `at`."""
    content = version_content(version)
    adoption: PolicyAdoption = PolicyAdoption._create(
        PolicyAdoption.PolicyVersionAdopted, id=adoption_uuid(version.name),
        timestamp=recorded_at, name=version.name, content=content,
        sha256=content_digest(content), at=at, prev_hash="")
    return adoption


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


def catalog_differences(catalog: Catalog, adopted: Mapping[str, Mapping[str, Any]]
                        ) -> list[str]:
    """One line per difference between the catalog and the adopted versions (by name)."""
    lines: list[str] = []
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


def check_catalog(catalog: Catalog, adopted: Mapping[str, Mapping[str, Any]]) -> None:
    differences = catalog_differences(catalog, adopted)
    if differences:
        raise LedgerError(
            "policy_mismatch",
            "the policy catalog differs from the versions this store adopted (a used "
            "version is immutable; add a new version with a later effective_from): "
            + "; ".join(differences), rule="R-8.7")


def catalog_from_adopted(adopted: Mapping[str, Mapping[str, Any]],
                         promo_codes: list[Any] | None = None) -> Catalog:
    """The catalog the log itself holds: the adopted versions in effective_from order."""
    versions = sorted((dict(c) for c in adopted.values()), key=lambda c: c["effective_from"])
    return parse_catalog({"versions": versions, "promo_codes": promo_codes or []})
