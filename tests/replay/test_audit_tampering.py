"""Tamper evidence (R-8.1): rows edited, deleted, inserted or swapped behind the ledger's
back, and decisions the policy in force does not reproduce, are found and named."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ledger.account import account_uuid
from ledger.adoption import ADOPTIONS_ID, content_digest
from ledger.policy import default_catalog
from tests.replay.conftest import Raw
from tests.replay.helpers import audit, findings_of, named, run


def test_editing_a_quantity_inside_a_stored_event_names_the_account_and_version(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    # Given fl-1's refill of 2016-06-01 edited from 70 to 75 Connects
    version = raw.version_of("fl-1", "ConnectsRefilled", nth=2)
    state = raw.state("fl-1", version)
    assert state["quantity"] == 70
    raw.set_state("fl-1", version, {**state, "quantity": 75})
    # When audited
    code, report = audit(capsys, url)
    # Then it exits 1, naming fl-1 and that version: the rule's figure, and the broken chain
    assert code == 1
    rederived = named(report, "fl-1", version, "rederive")
    assert [(f["rule"], f["expected"], f["found"]) for f in rederived] == [("R-4.4", 70, 75)]
    assert named(report, "fl-1", version, "integrity")
    assert findings_of(report, None, "integrity")  # the log chain's checkpoint too
    assert findings_of(report, "fl-1", "agreement")  # the view was built from the original


def test_editing_the_last_event_of_a_stream_is_found_by_the_log_chain_and_the_views(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    last = raw.rows("fl-2")[-1]
    state = json.loads(last[3])
    raw.set_state("fl-2", last[1], {**state, "lot_id": 9})
    code, report = audit(capsys, url)
    assert code == 1
    assert named(report, "fl-2", last[1], "rederive")
    chain = [f for f in findings_of(report, None, "integrity") if "fl-2 v5..v13" in f["message"]]
    assert chain and chain[0]["notification_id"] >= last[0]


def test_deleting_one_row_names_the_missing_version(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    version = raw.version_of("fl-1", "EarningsPending")
    raw.delete("fl-1", version)
    code, report = audit(capsys, url)
    assert code == 1
    missing = named(report, "fl-1", version, "integrity")
    assert missing and "missing" in missing[0]["message"]
    assert findings_of(report, None, "integrity")  # the next checkpoint of the log chain
    assert findings_of(report, "fl-1", "agreement")


def test_deleting_a_command_record_changes_the_log_chain_at_the_next_checkpoint(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        rowid = conn.execute("SELECT rowid FROM stored_events WHERE topic ="
                             " 'ledger/CommandAccepted' ORDER BY rowid LIMIT 1 OFFSET 5"
                             ).fetchone()[0]
        conn.execute("DELETE FROM stored_events WHERE rowid = ?", (rowid,))
    code, report = audit(capsys, url)
    assert code == 1
    chain = [f for f in findings_of(report, None, "integrity") if f["rule"] == "R-8.1"]
    assert len(chain) == 1
    assert chain[0]["notification_id"] >= rowid
    # and the events that name the command have no record now
    orphans = [f for f in report["findings"] if f["rule"] == "R-8.3"]
    assert len(orphans) == 1 and "no command record" in orphans[0]["message"]
    assert f"#{rowid}" in chain[0]["message"] or "changed, inserted, deleted" in chain[0][
        "message"]


def test_deleting_the_tail_of_the_log_leaves_a_checkpoint_beyond_the_last_notification(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    last_id, stream, version, _ = raw.last_notification()
    raw.delete_notification(last_id)
    code, report = audit(capsys, url)
    assert code == 1
    beyond = [f for f in report["findings"] if "beyond the last notification" in f["message"]]
    assert beyond and beyond[0]["expected"] == last_id
    fl1_stream = account_uuid("fl-1").hex
    if stream == fl1_stream:  # the billing run saved fl-1 last: its view is ahead now
        assert named(report, "fl-1", version - 1, "agreement")


def test_inserting_a_forged_row_with_a_new_version(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    # Given fl-1's last row copied as the next version (a second refill)
    _, version, topic, state = raw.rows("fl-1")[-1]
    raw.insert(account_uuid("fl-1").hex, version + 1, topic, state)
    code, report = audit(capsys, url)
    assert code == 1
    assert named(report, "fl-1", version + 1, "rederive")  # a refill the rules do not give
    assert named(report, "fl-1", version + 1, "agreement")  # the views never applied it
    assert any("after the last checkpoint" in f["message"] for f in report["findings"])
    # and the chain: the copy's prev_hash is that of the original
    assert named(report, "fl-1", version, "integrity")


def test_inserting_a_forged_stream_for_a_new_account(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    # Given fl-2's opening copied as the opening of a new account fl-9, in its own stream
    _, _, topic, state = raw.rows("fl-2")[0]
    forged = json.loads(state)
    forged["account_id"] = "fl-9"
    raw.insert(account_uuid("fl-9").hex, 1, topic,
               json.dumps(forged, separators=(",", ":")).encode())
    code, report = audit(capsys, url)
    assert code == 1
    assert named(report, "fl-9", 1, "agreement")  # no view: the ledger never wrote it
    assert any(f["account"] == "fl-9" and "ConnectsRefilled" in f["message"]
               for f in report["findings"])  # its opening refill is missing


def test_copying_a_row_into_another_stream_is_found(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    _, _, topic, state = raw.rows("fl-2")[0]
    raw.insert(account_uuid("fl-8").hex, 1, topic, state)  # AccountOpened of fl-2
    code, report = audit(capsys, url)
    assert code == 1
    stream = account_uuid("fl-8").hex
    assert any(f["account"] == stream and f["version"] == 1 and "fl-2" in f["message"]
               for f in findings_of(report, stream, "integrity"))


def test_swapping_two_rows_state_within_an_account(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    rows = {v: s for _, v, _, s in raw.rows("fl-1")}
    a = raw.version_of("fl-1", "EarningsPending")
    b = raw.version_of("fl-1", "EarningsReleased")
    raw.set_state("fl-1", a, rows[b])
    raw.set_state("fl-1", b, rows[a])
    code, report = audit(capsys, url)
    assert code == 1
    versions = {f["version"] for f in findings_of(report, "fl-1")}
    assert versions & {a, b}


def test_swapping_two_rows_state_between_accounts(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    # Given the 2016-05-10 refill of fl-2 and the 2016-05-15 refill of fl-3 swapped
    v2 = raw.version_of("fl-2", "ConnectsRefilled", nth=2)
    v3 = raw.version_of("fl-3", "ConnectsRefilled", nth=2)
    s2, s3 = raw.state("fl-2", v2), raw.state("fl-3", v3)
    raw.set_state("fl-2", v2, s3)
    raw.set_state("fl-3", v3, s2)
    code, report = audit(capsys, url)
    assert code == 1
    assert named(report, "fl-2", v2) and named(report, "fl-3", v3)


def test_a_row_that_no_longer_decodes_is_reported_with_its_stream_and_version(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    version = raw.version_of("fl-1", "ConnectsPurchased")
    raw.set_state("fl-1", version, raw.rows("fl-1")[version - 1][3][:40])
    code, report = audit(capsys, url)
    assert code == 1
    undecodable = named(report, "fl-1", version, "integrity")
    assert undecodable and "does not decode" in undecodable[0]["message"]


def _policy(tmp_path: Path, kind: str, plan: str, field: str, value: object) -> str:
    data = default_catalog().model_dump(mode="json")
    data["versions"][0]["plans"][kind][plan][field] = value
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data))
    return str(path)


def _adopted(db: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """R-8.7: the audit re-derives with the versions the store adopted. Rewrite the store's
    adoption of v2016 (and its SHA-256, as an insider would): the decisions recorded no
    longer follow the policy the log says was in force."""
    with sqlite3.connect(db) as conn:
        (state,) = conn.execute("SELECT state FROM stored_events WHERE originator_id = ? AND "
                                "originator_version = 1", (ADOPTIONS_ID.hex,)).fetchone()
        data = json.loads(state)
        assert data["name"] == "v2016"
        edit(data["content"])
        data["sha256"] = content_digest(data["content"])
        conn.execute("UPDATE stored_events SET state = ? WHERE originator_id = ? AND "
                     "originator_version = 1",
                     (json.dumps(data, separators=(",", ":")).encode(), ADOPTIONS_ID.hex))


def _terms(kind: str, plan: str, field: str, value: object) -> Callable[[dict[str, Any]], None]:
    def edit(content: dict[str, Any]) -> None:
        content["plans"][kind][plan][field] = value
    return edit


def test_a_catalog_file_that_differs_from_the_adopted_version_is_refused(
        capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path) -> None:
    """R-8.7: the auditor cannot be handed other figures than the store decided with."""
    policy = _policy(tmp_path, "freelancer", "plus", "price", "12.00")
    code, out, err = run(capsys, "--store", url, "--policy", policy, "audit", "--json")
    assert (code, out) == (2, "")
    assert "policy_mismatch" in err and "version v2016: plans.freelancer.plus.price" in err


def test_a_changed_plus_price_in_the_catalog_names_every_charge_it_affects(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw, db: Path) -> None:
    _adopted(db, _terms("freelancer", "plus", "price", "12.00"))
    code, report = audit(capsys, url)
    assert code == 1
    charges = {v for _, v, t, _ in raw.rows("fl-1") if t == "ledger/MembershipCharged"}
    found = {f["version"] for f in findings_of(report, "fl-1", "rederive")}
    assert found == charges
    assert all(f["expected"] == "12.00" and f["found"] == "10.00"
               for f in findings_of(report, "fl-1", "rederive"))
    assert named(report, "fl-4", raw.version_of("fl-4", "MembershipCharged"), "rederive")
    assert not findings_of(report, "fl-2")  # Basic accounts pay nothing


def test_changed_monthly_connects_name_the_refills_and_the_proration(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw, db: Path) -> None:
    _adopted(db, _terms("freelancer", "plus", "monthly_connects", 75))
    code, report = audit(capsys, url)
    assert code == 1
    refills = [v for _, v, t, s in raw.rows("fl-1") if t == "ledger/ConnectsRefilled"
               and json.loads(s)["plan"] == "plus"]
    proration = raw.version_of("fl-1", "ConnectsGranted")
    found = {(f["version"], f["rule"]) for f in findings_of(report, "fl-1", "rederive")}
    assert found == {(v, "R-4.4") for v in refills} | {(proration, "R-5.3")}


def test_a_changed_last_billable_day_names_the_billing_days(
        capsys: pytest.CaptureFixture[str], url: str, db: Path) -> None:
    _adopted(db, lambda content: content.update(last_billable_day=28))
    code, report = audit(capsys, url)
    # fl-1 upgraded on 30 March: its billing day stays 1 under 27 or 28 -> no finding there;
    # nothing in the history starts a cycle on the 28th, so nothing is re-derived otherwise
    # (the rewritten adoption itself breaks the log chain)
    assert findings_of(report, category="rederive") == []
    assert code == 1 and {f["account"] for f in report["findings"]} == {None}


def test_audit_through_skips_rederivation_after_the_instant(
        capsys: pytest.CaptureFixture[str], url: str, db: Path) -> None:
    # Given an adopted Plus price that differs: the first Plus charge attempt is fl-3's
    # declined upgrade on 2016-03-16, the first charge fl-4's upgrade on 2016-03-20
    _adopted(db, _terms("freelancer", "plus", "price", "12.00"))
    code, report = audit(capsys, url, "--through", "2016-03-15T23:59:59Z")
    assert findings_of(report, category="rederive") == []
    code, report = audit(capsys, url, "--through", "2016-03-20T12:00:00Z")
    assert code == 1
    assert {(f["account"], f["rule"]) for f in findings_of(report, category="rederive")} == {
        ("fl-3", "R-4.2"), ("fl-4", "R-4.2")}


def test_audit_through_still_checks_the_integrity_of_everything_read(
        capsys: pytest.CaptureFixture[str], url: str, raw: Raw) -> None:
    version = raw.version_of("fl-1", "ConnectsRefilled", nth=2)  # 2016-06-01
    raw.set_state("fl-1", version, {**raw.state("fl-1", version), "quantity": 75})
    code, report = audit(capsys, url, "--through", "2016-04-01")
    assert code == 1
    assert named(report, "fl-1", version, "integrity")
    assert not findings_of(report, "fl-1", "rederive")


def test_the_human_report_lists_each_finding(capsys: pytest.CaptureFixture[str], url: str,
                                            raw: Raw) -> None:
    version = raw.version_of("fl-1", "EarningsPending")
    raw.delete("fl-1", version)
    code, out, err = run(capsys, "--store", url, "audit")
    assert code == 1
    assert f"fl-1 v{version}" in out
    assert "[integrity] R-8.1" in out
    assert "Traceback" not in err


def test_reordering_two_notifications_of_different_streams_breaks_the_log_chain(
        capsys: pytest.CaptureFixture[str], url: str, db: Path) -> None:
    # Given fl-1's opening refill (#3, after the adoption of v2016 and fl-1's opening) and
    # the command record after it (#4) swapped in the log
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE stored_events SET rowid = -1 WHERE rowid = 3")
        conn.execute("UPDATE stored_events SET rowid = 3 WHERE rowid = 4")
        conn.execute("UPDATE stored_events SET rowid = 4 WHERE rowid = -1")
    code, report = audit(capsys, url)
    assert code == 1
    chain = [f for f in findings_of(report, None, "integrity") if f["rule"] == "R-8.1"]
    assert chain and "#1..#4" in chain[0]["message"] and "fl-1 v1..v2" in chain[0]["message"]
    # and the refill now follows its command's record
    assert any("record comes before it" in f["message"] for f in report["findings"])


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_date_stored_as_a_plain_string_is_a_finding_not_a_crash(
        url: str, raw: Raw, workers: str) -> None:
    # Given the opening's next billing date rewritten from the store's tagged date to a
    # bare string: the same text, so the digest over the canonical form still holds
    version = raw.version_of("fl-1", "AccountOpened")
    state = raw.state("fl-1", version)
    tagged = state["next_billing_date"]
    assert tagged["_type_"] == "date_iso"
    raw.set_state("fl-1", version, {**state, "next_billing_date": tagged["_data_"]})
    # When the real command audits it, in one process and in two
    done = subprocess.run([sys.executable, "-m", "replay_tools.cli", "--store", url, "audit",
                           "--json", "--workers", workers],
                          capture_output=True, text=True, timeout=300, check=False)
    # Then it exits 1 with findings naming the account, and no internal error
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    typed = [f for f in findings_of(report, "fl-1", "integrity") if "wrong type" in f["message"]]
    assert typed and typed[0]["version"] >= version
    rederived = named(report, "fl-1", version, "rederive")
    assert rederived and "(a str, not a date)" in rederived[0]["message"]
