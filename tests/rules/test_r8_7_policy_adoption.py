"""R-8.7 through the public API, on every store: a policy version is adopted (its content
and SHA-256 recorded) in the transaction of the first decision under it, once; a catalog
that differs from an adopted version is refused when the ledger opens
(`policy_mismatch`, naming the version and the field); a later version is accepted; a
store written before adoptions existed opens and adopts on its next decision; the audit
re-derives from the adopted versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ledger import Ledger
from ledger.adoption import ADOPTIONS_ID, content_digest, version_content
from ledger.errors import LedgerError
from ledger.policy import default_catalog
from replay_tools.audit import run_audit

Open = Callable[..., Ledger]


def catalog_with(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = default_catalog().model_dump(mode="json")
    edit(data)
    return data


def plus_at_19_99(data: dict[str, Any]) -> None:
    data["versions"][-1]["plans"]["freelancer"]["plus"]["price"] = "19.99"


def a_later_version(data: dict[str, Any]) -> None:
    later = json.loads(json.dumps(data["versions"][-1]))
    later.update(name="v2030", effective_from="2030-01-01")
    later["plans"]["freelancer"]["plus"]["price"] = "19.99"
    data["versions"].append(later)


def open_fl(account_id: str, at: str = "2020-03-01") -> dict[str, Any]:
    return {"type": "open_account", "account_id": account_id, "kind": "freelancer", "at": at}


def adoptions(led: Ledger) -> list[Any]:
    """The adoption events in the log, with their notification ids."""
    notes = led.recorder.select_notifications(0, 1_000_000)
    return [(n.id, led.mapper.to_domain_event(n)) for n in notes
            if n.topic == "ledger/PolicyVersionAdopted"]


def test_r8_7_the_first_decision_adopts_the_versions_in_its_own_transaction(
        ledger: Ledger) -> None:
    assert adoptions(ledger) == []
    result = ledger.submit(open_fl("fl-1"))
    assert result.ok
    found = adoptions(ledger)
    # Only v2019, in force on 2020-03-01, was decided under; v2016 was not used
    assert [e.name for _, e in found] == ["v2019"]
    for _, event in found:
        content = version_content(default_catalog().named(event.name))
        assert event.content == content and event.sha256 == content_digest(content)
        assert event.originator_id == ADOPTIONS_ID
    # the same save: the adoptions come right before the command's own events
    notes = ledger.recorder.select_notifications(0, 100)
    assert [n.topic.rpartition("/")[2] for n in notes] == [
        "PolicyVersionAdopted", "AccountOpened", "ConnectsRefilled", "CommandAccepted"]
    assert {v["name"] for v in ledger.adopted_versions()} == {"v2019"}


def test_r8_7_a_version_is_adopted_once_by_the_single_batch_and_billing_paths(
        make_ledger: Open) -> None:
    led = make_ledger()
    assert led.submit(open_fl("fl-1", "2016-03-01")).ok
    assert [e.name for _, e in adoptions(led)] == ["v2016"]
    results = led.submit_many([open_fl(f"fl-b{i}", "2016-04-01") for i in range(5)])
    assert all(r.ok for r in results)
    assert [e.name for _, e in adoptions(led)] == ["v2016"]
    # the billing run is the first decision dated under v2019
    report = led.run_billing("2019-06-01")
    assert report["events"] > 0
    assert [e.name for _, e in adoptions(led)] == ["v2016", "v2019"]
    led.submit_many([open_fl("fl-c", "2019-07-01")])
    reopened = make_ledger()
    assert reopened.submit(open_fl("fl-d", "2019-08-01")).ok
    assert [e.name for _, e in adoptions(reopened)] == ["v2016", "v2019"]
    assert run_audit(reopened).clean


def test_r8_7_a_catalog_edited_under_an_adopted_version_is_refused_on_open(
        make_ledger: Open) -> None:
    assert make_ledger().submit(open_fl("fl-1")).ok
    with pytest.raises(LedgerError) as caught:
        make_ledger(policy=catalog_with(plus_at_19_99))
    assert caught.value.code == "policy_mismatch"
    assert caught.value.rule == "R-8.7"
    assert "version v2019: plans.freelancer.plus.price" in caught.value.message
    assert '"14.99"' in caught.value.message and '"19.99"' in caught.value.message


def test_r8_7_a_catalog_lacking_an_adopted_version_is_refused(make_ledger: Open) -> None:
    assert make_ledger().submit(open_fl("fl-1")).ok
    lacking = catalog_with(lambda d: d["versions"].pop())
    with pytest.raises(LedgerError, match="version v2019: adopted by the store, missing"):
        make_ledger(policy=lacking)


def test_r8_7_a_version_never_decided_under_may_still_change(make_ledger: Open) -> None:
    """Immutable once used: a store that decided only in 2020 used v2019 alone, so a
    catalog that changes v2016 (or lacks it) opens, and decides 2017 under it."""
    assert make_ledger().submit(open_fl("fl-1")).ok

    def cheaper_v2016(data: dict[str, Any]) -> None:
        data["versions"][0]["plans"]["freelancer"]["plus"]["price"] = "9.00"

    assert make_ledger(policy=catalog_with(lambda d: d["versions"].pop(0))).adopted_versions()
    led = make_ledger(policy=catalog_with(cheaper_v2016))
    assert [v["name"] for v in led.adopted_versions()] == ["v2019"]
    assert led.submit(open_fl("fl-old", "2017-05-01")).ok
    assert [e.name for _, e in adoptions(led)] == ["v2019", "v2016"]
    # from now on v2016 is used: its edit is the catalog, the built-in one is refused
    with pytest.raises(LedgerError, match=r"version v2016: plans\.freelancer\.plus\.price"):
        make_ledger()


def test_r8_7_a_version_inserted_before_later_decisions_is_refused(make_ledger: Open) -> None:
    """Decisions after the last adoption count too: an account opened in February 2017
    (adopting v2016) and billed through July (its last billing date: 4 June); a version
    from March 2017 would take over dates already decided under v2016."""
    led = make_ledger()
    assert led.submit(open_fl("fl-1", "2017-02-04")).ok
    assert led.run_billing("2017-07-01")["events"] > 0
    assert [e.name for _, e in adoptions(led)] == ["v2016"]
    def v2017_between(data: dict[str, Any]) -> None:
        a_version_from("v2017", "2017-03-01")(data)
        data["versions"].insert(1, data["versions"].pop())

    with pytest.raises(LedgerError) as caught:
        make_ledger(policy=catalog_with(v2017_between))
    assert "version v2017: new, but starts 2017-03-01, on or before 2017-06-04" in (
        caught.value.message)


def test_r8_7_a_later_version_is_accepted_and_adopted_when_first_used(
        make_ledger: Open) -> None:
    assert make_ledger().submit(open_fl("fl-1")).ok
    led = make_ledger(policy=catalog_with(a_later_version))
    assert [v["name"] for v in led.adopted_versions()] == ["v2019"]
    assert led.submit(open_fl("fl-2", "2030-02-01")).ok
    assert [e.name for _, e in adoptions(led)] == ["v2019", "v2030"]
    # from now on the default catalog, which lacks v2030, is refused
    with pytest.raises(LedgerError, match="version v2030: adopted by the store"):
        make_ledger()


def a_version_from(name: str, start: str) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        later = json.loads(json.dumps(data["versions"][-1]))
        later.update(name=name, effective_from=start)
        later["plans"]["freelancer"]["plus"]["price"] = "19.99"
        data["versions"].append(later)
    return edit


def test_r8_7_a_new_version_starting_in_the_decided_past_is_refused(
        make_ledger: Open) -> None:
    # Given decisions dated 2030 under v2019 (the catalog had nothing newer then)
    assert make_ledger().submit(open_fl("fl-1", "2030-06-01")).ok
    # When an operator adds a version that starts before them, it is refused: replaying
    # those decisions would now give other results
    with pytest.raises(LedgerError) as caught:
        make_ledger(policy=catalog_with(a_version_from("v2020", "2020-01-01")))
    assert caught.value.code == "policy_mismatch" and caught.value.rule == "R-8.7"
    assert "version v2020: new, but starts 2020-01-01" in caught.value.message
    # And one that starts after the latest decided date is accepted
    led = make_ledger(policy=catalog_with(a_version_from("v2031", "2030-06-02")))
    assert [v["name"] for v in led.adopted_versions()] == ["v2019"]


def test_r8_7_a_store_written_before_adoptions_opens_and_adopts_on_its_next_decision(
        make_ledger: Open, monkeypatch: pytest.MonkeyPatch) -> None:
    old = make_ledger()
    with monkeypatch.context() as m:
        m.setattr(Ledger, "_adopting", lambda self, aggregates: None)
        assert old.submit(open_fl("fl-1", "2019-06-01")).ok
        assert old.run_billing("2019-08-01")["events"] > 0
    assert adoptions(old) == []
    led = make_ledger(policy=catalog_with(plus_at_19_99))  # nothing adopted: accepted
    led.close()
    led = make_ledger()
    assert led.adopted_versions() == []
    report = run_audit(led)
    assert report.clean and any("adopted no policy version" in n for n in report.findings.notes)
    assert led.submit(open_fl("fl-2", "2019-09-01")).ok
    assert [e.name for _, e in adoptions(led)] == ["v2016", "v2019"]
    assert run_audit(led).clean


def test_r8_7_the_auditor_opens_with_the_adopted_versions_when_no_catalog_is_named(
        make_ledger: Open, store: str) -> None:
    """The store was written with its own figures; the auditor names no catalog file."""
    own = catalog_with(plus_at_19_99)
    writer = make_ledger(policy=own)
    assert writer.submit(open_fl("fl-1", "2020-01-01")).ok
    upgrade = {"type": "add_billing_method", "account_id": "fl-1", "method_id": "m-1",
               "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
               "exp_year": 2030, "token": "tok_ok_1", "at": "2020-01-02"}
    assert writer.submit(upgrade).ok
    assert writer.submit({"type": "upgrade_plan", "account_id": "fl-1", "at": "2020-01-03"}).ok
    auditor = Ledger.open(store, clock="2031-01-01T00:00:00Z", policy_from_store=True)
    try:
        assert str(auditor.catalog.named("v2019").terms("freelancer", "plus").price) == "19.99"
        assert run_audit(auditor).clean
    finally:
        auditor.close()


def three_versions(data: dict[str, Any]) -> None:
    """v2016, v2019 and a v2021 from 2021-01-01."""
    a_version_from("v2021", "2021-01-01")(data)


def test_r8_7_a_version_passed_over_between_decisions_is_adopted_too(
        make_ledger: Open) -> None:
    """Nothing happened while v2019 was in force, yet it lies inside the decided past: it
    is frozen with the others, and the store reopens with its own catalog."""
    catalog = catalog_with(three_versions)
    led = make_ledger(policy=catalog)
    assert led.submit(open_fl("fl-1", "2017-01-02")).ok
    assert led.submit(open_fl("fl-2", "2021-02-01")).ok
    assert [e.name for _, e in adoptions(led)] == ["v2016", "v2019", "v2021"]
    reopened = make_ledger(policy=catalog)
    assert [v["name"] for v in reopened.adopted_versions()] == ["v2016", "v2019", "v2021"]
    assert run_audit(reopened).clean


def test_r8_7_a_legacy_stores_backdated_first_adoption_covers_its_whole_past(
        make_ledger: Open, monkeypatch: pytest.MonkeyPatch) -> None:
    old = make_ledger()
    with monkeypatch.context() as m:
        m.setattr(Ledger, "_adopting", lambda self, aggregates: None)
        assert old.submit(open_fl("fl-1", "2020-03-01")).ok
    # The first decision after adoptions began is dated before that history
    led = make_ledger()
    assert led.submit(open_fl("fl-old", "2017-05-01")).ok
    assert [e.name for _, e in adoptions(led)] == ["v2016", "v2019"]
    reopened = make_ledger()
    assert run_audit(reopened).clean


def test_r8_7_two_processes_with_different_catalogs_cannot_split_the_past(
        make_ledger: Open) -> None:
    """One writer's catalog has v2021 (from 2021-01-01), the other's does not. Whichever
    adopts first, the other may not decide under a catalog that now disagrees: the
    writer lacking v2021 is refused once v2021 is adopted, and the writer holding it may
    not adopt it into dates the other decided without it."""
    with_2021 = catalog_with(a_version_from("v2021", "2021-01-01"))
    base = make_ledger()
    assert base.submit(open_fl("fl-1", "2020-01-10")).ok
    newer = make_ledger(policy=with_2021)   # opens: nothing decided after 2020-01-10
    assert newer.submit(open_fl("fl-0", "2020-02-01")).ok  # and is caught up
    older = make_ledger()
    # The older catalog decides into 2021 first (under v2019, adopting nothing)...
    assert older.submit(open_fl("fl-2", "2021-02-01")).ok
    # ...so the newer may not adopt v2021 over those dates
    with pytest.raises(LedgerError) as caught:
        newer.submit(open_fl("fl-3", "2021-03-15"))
    assert caught.value.code == "policy_mismatch"
    assert "version v2021: new, but starts 2021-01-01, on or before 2021-02-01" in (
        caught.value.message)
    assert run_audit(make_ledger()).clean


def test_r8_7_a_writer_whose_catalog_lacks_a_version_another_adopted_is_refused(
        make_ledger: Open) -> None:
    with_2021 = catalog_with(a_version_from("v2021", "2021-01-01"))
    base = make_ledger()
    assert base.submit(open_fl("fl-1", "2020-01-10")).ok
    older = make_ledger()
    newer = make_ledger(policy=with_2021)
    assert newer.submit(open_fl("fl-2", "2021-02-01")).ok   # adopts v2021
    for _ in range(2):  # and stays refused
        with pytest.raises(LedgerError, match="version v2021: adopted by the store"):
            older.submit(open_fl("fl-3", "2021-03-15"))
    assert run_audit(make_ledger(policy=with_2021)).clean
