"""R-8.7's comparison of a catalog with the versions a store adopted (ledger.adoption)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ledger.adoption import (
    ADOPTIONS_ID,
    adopt,
    adopted_event,
    catalog_differences,
    catalog_from_adopted,
    check_catalog,
    content_digest,
    version_content,
)
from ledger.errors import LedgerError
from ledger.policy import default_catalog, parse_catalog


def adopted_all() -> dict[str, dict[str, Any]]:
    return {v.name: version_content(v) for v in default_catalog().versions}


def edited_catalog(edit: Any) -> Any:
    data = default_catalog().model_dump(mode="json")
    edit(data)
    return parse_catalog(data)


def test_the_same_catalog_has_no_differences() -> None:
    assert catalog_differences(default_catalog(), adopted_all()) == []
    check_catalog(default_catalog(), adopted_all())


def test_a_price_edited_under_an_adopted_version_is_refused_naming_version_and_field() -> None:
    used = default_catalog().versions[-1]

    def raise_plus(data: dict[str, Any]) -> None:
        data["versions"][-1]["plans"]["freelancer"]["plus"]["price"] = "19.99"

    catalog = edited_catalog(raise_plus)
    lines = catalog_differences(catalog, {used.name: version_content(used)})
    assert len(lines) == 1
    assert lines[0].startswith(f"version {used.name}: plans.freelancer.plus.price: adopted")
    assert "19.99" in lines[0]
    with pytest.raises(LedgerError) as caught:
        check_catalog(catalog, {used.name: version_content(used)})
    assert caught.value.code == "policy_mismatch"


def test_a_catalog_lacking_an_adopted_version_differs() -> None:
    first = default_catalog().versions[0]
    lacking = edited_catalog(lambda data: data["versions"].pop(0))
    assert catalog_differences(lacking, {first.name: version_content(first)}) == [
        f"version {first.name}: adopted by the store, missing from the catalog"]


def test_a_version_added_with_a_later_start_is_accepted() -> None:
    def add(data: dict[str, Any]) -> None:
        later = json.loads(json.dumps(data["versions"][-1]))
        later["name"] = "v-later"
        later["effective_from"] = "2099-01-01"
        later["plans"]["freelancer"]["plus"]["price"] = "19.99"
        data["versions"].append(later)

    check_catalog(edited_catalog(add), adopted_all())


def test_the_adopted_versions_alone_rebuild_the_catalog() -> None:
    rebuilt = catalog_from_adopted(adopted_all(), default_catalog().model_dump(
        mode="json")["promo_codes"])
    assert rebuilt == default_catalog()


def test_the_adoption_event_carries_the_content_and_its_sha256() -> None:
    version = default_catalog().version_on(date(2020, 1, 1))
    at = datetime(2020, 1, 1, tzinfo=UTC)
    adoption = adopted_event(version, at, at)
    event = adoption.collect_events()[0]
    assert type(event).__name__ == "PolicyVersionAdopted"
    assert adoption.adopted == {version.name: version_content(version)}
    assert event.sha256 == adoption.sha256[version.name] == content_digest(
        version_content(version))
    assert len(event.sha256) == 64
    assert content_digest({**version_content(version), "connect_price": "0.16"}) != (
        event.sha256)


def test_later_adoptions_extend_the_one_stream_each_chained_to_the_one_before() -> None:
    """R-8.7: one stream, versions 1, 2, ...; adopting a held version adds nothing."""
    first, second = default_catalog().versions[:2]
    at = datetime(2020, 1, 1, tzinfo=UTC)
    log = adopt(None, [first], at, at)
    assert log is not None
    log = adopt(log, [first, second], at, at)
    assert log is not None
    events = log.collect_events()
    assert [(e.originator_id, e.originator_version) for e in events] == [
        (ADOPTIONS_ID, 1), (ADOPTIONS_ID, 2)]
    assert events[0].prev_hash == "" and len(events[1].prev_hash) == 64
    assert list(log.adopted) == [first.name, second.name]
