"""The audit re-derives the corrections of R-9: goodwill grants (R-9.1), refunds, revoked
lots, refunded memberships and declined refunds (R-9.2). A store the ledger wrote with
all of them audits clean; forged or edited corrections are named with their rule.

co-1: Plus from 2016-03-03 (card), buys 10 Connects, gets 5 as goodwill, has the purchase
refunded (lot revoked). co-2: buys 10 paid by earnings, refunded to the earnings. co-3:
Plus, its membership refunded (Basic at once, Connects kept). co-4: a card whose refunds
the gateway declines (RefundFailed). co-5: buys 10 and spends 4 of them (oldest first).
Then a billing run past two billing dates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from ledger.account import account_uuid
from ledger.api_keys import create_key
from tests.helpers import private_copy, sqlite_template
from tests.replay.conftest import Raw
from tests.replay.helpers import audit, findings_of

CLOCK = "2031-01-01T00:00:00Z"
CARD = {"method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
        "exp_year": 2030, "prepaid": False}
CHARGES: dict[str, str] = {}  # what the history's charges were: filled by the build


def _ok(led: Ledger, command: dict[str, Any]) -> Any:
    result = led.submit(command)
    assert result.ok, (command, result.error)
    return result


def _plus(led: Ledger, account: str, token: str = "tok_ok_1") -> Any:
    _ok(led, {"type": "open_account", "account_id": account, "kind": "freelancer",
              "at": "2016-03-01"})
    _ok(led, {"type": "add_billing_method", "account_id": account, "at": "2016-03-02",
              "method_id": "m-1", "token": token, **CARD})
    return _ok(led, {"type": "upgrade_plan", "account_id": account, "at": "2016-03-03"})


def _buy(led: Ledger, account: str, at: str = "2016-03-04") -> str:
    charge_id: str = _ok(led, {"type": "purchase_connects", "account_id": account, "at": at,
                               "quantity": 10}).charge_id
    return charge_id


def _refund(led: Ledger, account: str, charge_id: str, at: str) -> Any:
    return led.submit({"type": "refund_charge", "account_id": account, "at": at,
                       "charge_id": charge_id, "reason": "asked by support"})


def build(url: str) -> None:
    led = Ledger.open(url, clock=CLOCK)
    try:
        CHARGES["co-1-plus"] = _plus(led, "co-1").charge_id
        CHARGES["co-1"] = _buy(led, "co-1")
        _ok(led, {"type": "grant_connects", "account_id": "co-1", "at": "2016-03-05",
                  "quantity": 5, "reason": "outage on 2016-03-04"})
        assert _refund(led, "co-1", CHARGES["co-1"], "2016-03-06").ok

        _plus(led, "co-2")
        _ok(led, {"type": "credit_earnings", "account_id": "co-2", "at": "2016-03-04",
                  "amount": "40.00"})
        CHARGES["co-2"] = _buy(led, "co-2", "2016-03-05")
        assert _refund(led, "co-2", CHARGES["co-2"], "2016-03-06").ok

        CHARGES["co-3"] = _plus(led, "co-3").charge_id
        assert _refund(led, "co-3", CHARGES["co-3"], "2016-03-10").events == [
            "ChargeRefunded", "PlanDowngraded"]

        _plus(led, "co-4", token="tok_norefund_4")
        CHARGES["co-4"] = _buy(led, "co-4")
        declined = _refund(led, "co-4", CHARGES["co-4"], "2016-03-06")
        assert declined.events == ["RefundFailed"] and declined.error.code == "refund_failed"

        _plus(led, "co-5")
        CHARGES["co-5"] = _buy(led, "co-5")
        for n in range(13):  # 78 of the 84 held: the oldest lots first, then 4 bought
            _ok(led, {"type": "submit_proposal", "account_id": "co-5", "at": "2016-03-05",
                      "proposal_id": f"p-{n}", "job_id": f"j-{n}", "connects": 6})
        assert led.account("co-5").connects == 6
        led.run_billing(through="2016-05-10")
    finally:
        led.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("corrections"), "c.db", build)


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return private_copy(template, tmp_path)


def _forge(raw: Raw, account: str, topic: str, like: tuple[str, str],
           **fields: Any) -> int:
    """Append a forged event to `account`'s stream: the stored state of the first `like`
    event (account, topic) with `fields` changed, dated at the stream's last event."""
    source = raw.state(like[0], raw.version_of(like[0], like[1]))
    rows = raw.rows(account)
    last = json.loads(rows[-1][3])
    version = rows[-1][1] + 1
    forged = {**source, "at": last["at"], "timestamp": last["timestamp"],
              "originator_id": account_uuid(account).hex, "originator_version": version,
              **fields}
    raw.insert(account_uuid(account).hex, version, f"ledger/{topic}",
               json.dumps(forged, separators=(",", ":")).encode())
    return version


def _rederived(report: dict[str, Any], account: str, version: int) -> list[tuple[str, str]]:
    return [(f["rule"], f["message"]) for f in findings_of(report, account, "rederive")
            if f["version"] == version]


def test_a_store_with_grants_refunds_and_a_declined_refund_audits_clean(
        capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, report = audit(capsys, f"sqlite:///{db}")
    assert (code, report["findings"]) == (0, [])
    names = {t for account in ("co-1", "co-2", "co-3", "co-4")
             for _, _, t, _ in Raw(db).rows(account)}
    assert {"ledger/ChargeRefunded", "ledger/ConnectsRevoked", "ledger/RefundFailed",
            "ledger/PlanDowngraded", "ledger/ConnectsGranted"} <= names


def test_a_refund_of_a_charge_the_account_never_made_is_named(
        capsys: pytest.CaptureFixture[str], db: Path) -> None:
    raw = Raw(db)
    version = _forge(raw, "co-5", "ChargeRefunded", ("co-1", "ChargeRefunded"),
                     charge_id="ch_" + "0" * 24)
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    assert ("R-9.2", f"a refund of ch_{'0' * 24}, which is no charge of this account") in \
        _rederived(report, "co-5", version)


def test_a_charge_of_another_account_is_no_charge_of_this_account(
        capsys: pytest.CaptureFixture[str], db: Path) -> None:
    raw = Raw(db)
    version = _forge(raw, "co-5", "ChargeRefunded", ("co-1", "ChargeRefunded"))
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    assert ("R-9.2", f"a refund of {CHARGES['co-1']}, which is no charge of this account") \
        in _rederived(report, "co-5", version)


def test_a_second_refund_of_one_charge_is_named(capsys: pytest.CaptureFixture[str],
                                                db: Path) -> None:
    raw = Raw(db)
    version = _forge(raw, "co-1", "ChargeRefunded", ("co-1", "ChargeRefunded"))
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    found = _rederived(report, "co-1", version)
    assert ("R-9.2", f"a refund of {CHARGES['co-1']}, which was already refunded") in found
    # and its lot is gone: nothing left to revoke, and no revocation follows
    assert any(rule == "R-9.2" and "were spent or expired" in m for rule, m in found)
    assert any(f["rule"] == "R-9.2" and "revocation" in f["message"] and "missing" in
               f["message"] for f in findings_of(report, "co-1", "rederive"))


def test_a_refund_of_a_partly_spent_purchase_is_named(capsys: pytest.CaptureFixture[str],
                                                      db: Path) -> None:
    raw = Raw(db)
    version = _forge(raw, "co-5", "ChargeRefunded", ("co-1", "ChargeRefunded"),
                     charge_id=CHARGES["co-5"])
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    found = _rederived(report, "co-5", version)
    assert ("R-9.2", f"{CHARGES['co-5']} was refunded, but 4 of the 10 Connects bought "
            "were spent or expired") in found


def test_a_refund_that_is_not_the_whole_amount_is_named(capsys: pytest.CaptureFixture[str],
                                                        db: Path) -> None:
    raw = Raw(db)
    version = raw.version_of("co-2", "ChargeRefunded")
    raw.set_state("co-2", version, {**raw.state("co-2", version),
                                     "amount": {"_type_": "decimal_str", "_data_": "5.00"}})
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    amounts = [f for f in findings_of(report, "co-2", "rederive") if f["version"] == version]
    assert [(f["rule"], f["expected"], f["found"]) for f in amounts] == [
        ("R-9.2", "10.00", "5.00")]


def test_a_revoked_lot_that_is_not_the_purchase_is_named(capsys: pytest.CaptureFixture[str],
                                                         db: Path) -> None:
    raw = Raw(db)
    version = raw.version_of("co-1", "ConnectsRevoked")
    state = raw.state("co-1", version)
    raw.set_state("co-1", version, {**state, "quantity": 9})
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    found = [f for f in findings_of(report, "co-1", "rederive") if f["version"] == version]
    assert [(f["rule"], f["expected"], f["found"]) for f in found] == [("R-9.2", 10, 9)]


def test_connects_revoked_without_a_refund_are_named(capsys: pytest.CaptureFixture[str],
                                                     db: Path) -> None:
    raw = Raw(db)
    version = _forge(raw, "co-5", "ConnectsRevoked", ("co-1", "ConnectsRevoked"))
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    assert ("R-9.2", "Connects revoked without the refund of a purchase in the same "
            "command") in _rederived(report, "co-5", version)


def test_a_refunded_membership_that_starts_a_new_cycle_is_named(
        capsys: pytest.CaptureFixture[str], db: Path) -> None:
    # Given co-3's downgrade for its refund edited to start a cycle on the refund's day
    raw = Raw(db)
    refund = raw.version_of("co-3", "ChargeRefunded")
    version = raw.version_of("co-3", "PlanDowngraded")
    assert version == refund + 1
    state = raw.state("co-3", version)
    assert state["reason"] == "refunded"
    raw.set_state("co-3", version, {**state, "cycle_start": {"_type_": "date_iso",
                                                          "_data_": "2016-03-10"}})
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    found = [f for f in findings_of(report, "co-3", "rederive") if f["version"] == version]
    assert [(f["rule"], f["expected"], f["found"]) for f in found] == [
        ("R-9.2", "2016-03-03", "2016-03-10")]


def test_a_refund_of_an_earlier_cycles_membership_is_named(
        capsys: pytest.CaptureFixture[str], db: Path) -> None:
    # Given a refund of co-1's upgrade charge forged after two renewals
    raw = Raw(db)
    charge = CHARGES["co-1-plus"]
    version = _forge(raw, "co-1", "ChargeRefunded", ("co-1", "ChargeRefunded"),
                     charge_id=charge, kind="membership", gateway_key=f"refund:{charge}")
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    assert ("R-9.2", f"{charge} was refunded, but it paid for the cycle from 2016-03-03; "
            "the current cycle started on 2016-05-03") in _rederived(report, "co-1", version)


def test_a_declined_refund_that_changed_something_else_is_named(
        capsys: pytest.CaptureFixture[str], db: Path) -> None:
    # Given a revocation forged by the command whose refund the gateway declined
    raw = Raw(db)
    failed = raw.state("co-4", raw.version_of("co-4", "RefundFailed"))
    purchase = raw.state("co-4", raw.version_of("co-4", "ConnectsPurchased"))
    forged = _forge(raw, "co-4", "ConnectsRevoked", ("co-1", "ConnectsRevoked"),
                    command_id=failed["command_id"], charge_id=CHARGES["co-4"],
                    lot_id=purchase["lot_id"])
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    assert ("R-9.2", f"Connects revoked after the gateway declined the refund of "
            f"{CHARGES['co-4']}; a declined refund changes nothing else") in \
        _rederived(report, "co-4", forged)
    # and the declined refund's command now has an event that is no rejection's
    assert any(f["rule"] == "R-8.3" and failed["command_id"] in f["message"]
               for f in report["findings"])


def test_a_grant_above_the_most_held_limit_is_named(capsys: pytest.CaptureFixture[str],
                                                     db: Path) -> None:
    raw = Raw(db)
    version = raw.version_of("co-1", "ConnectsGranted", nth=1)  # the goodwill grant
    state = raw.state("co-1", version)
    assert state["source"] == "goodwill"
    raw.set_state("co-1", version, {**state, "quantity": 400})
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    found = [f for f in findings_of(report, "co-1", "rederive") if f["version"] == version]
    assert [(f["rule"], f["expected"]) for f in found] == [("R-9.1", 350)]
    assert "passes the most held at once under v2016" in found[0]["message"]


def test_a_grant_without_a_reason_is_named(capsys: pytest.CaptureFixture[str],
                                           db: Path) -> None:
    raw = Raw(db)
    version = raw.version_of("co-1", "ConnectsGranted", nth=1)
    raw.set_state("co-1", version, {**raw.state("co-1", version), "command_reason": None})
    code, report = audit(capsys, f"sqlite:///{db}")
    assert code == 1
    assert ("R-9.1", "a goodwill grant records no reason; the rule requires one") in \
        _rederived(report, "co-1", version)


@pytest.mark.parametrize("workers", ["1", "3"])
def test_a_grant_sent_with_a_key_without_the_operations_scope_is_named(
        capsys: pytest.CaptureFixture[str], db: Path, workers: str) -> None:
    # Given a key that may send account actions only, and a grant recorded under it (the
    # Python API does not check scopes: only the HTTP service authenticates)
    url = f"sqlite:///{db}"
    led = Ledger.open(url, clock=CLOCK)
    try:
        key, _ = create_key(led, "app", ["accounts:write"])
        ops, _ = create_key(led, "support", ["operations:write"])
        for principal, at in ((key.key_id, "2016-05-20"), (ops.key_id, "2016-05-21")):
            assert led.submit({"type": "grant_connects", "account_id": "co-2", "at": at,
                               "quantity": 1, "reason": "sorry"}, principal=principal).ok
    finally:
        led.close()
    # When audited in one process, or by workers that split the streams (the key ring's
    # rows fall to one of them; every worker knows its scopes)
    code, report = audit(capsys, url, "--workers", workers)
    assert code == 1
    found = findings_of(report, "co-2", "rederive")
    assert [(f["rule"], f["expected"], f["found"]) for f in found] == [
        ("R-1.4", "operations:write", ["accounts:write"])]
    assert key.key_id in found[0]["message"]


def test_the_corrections_are_re_derived_without_the_ledgers_code(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the ledger's refund rules, charge ids and keys replaced by ones that raise
    import inspect

    from ledger import payments
    from ledger.account import Account
    from ledger.handlers import corrections
    from replay_tools.audit import run_audit

    def sabotaged(*_: Any, **__: Any) -> Any:
        raise AssertionError("the audit called the ledger's decision code")

    led = Ledger.open(f"sqlite:///{db}", clock=CLOCK)
    try:
        for module in (payments, corrections):
            for name, value in vars(module).items():
                if inspect.isfunction(value) and value.__module__ == module.__name__:
                    monkeypatch.setattr(module, name, sabotaged)
        for name in ("ChargeRefunded", "ConnectsRevoked", "ConnectsGranted",
                     "ConnectsPurchased", "MembershipCharged"):
            for method in ("on_view", "on_domain"):
                if method in vars(getattr(Account, name)):
                    monkeypatch.setattr(getattr(Account, name), method, sabotaged)
        report = run_audit(led)
    finally:
        monkeypatch.undo()
        led.close()
    # Then the audit is still clean: it never asked them
    assert [f.line() for f in report.findings.items] == []
    assert report.summary["account_events"] > 80


@pytest.mark.parametrize("workers", [1, 2])
def test_on_postgresql_the_corrections_audit_clean_and_a_wrong_scope_is_named(
        workers: int) -> None:
    from replay_tools.audit import run_audit
    from tests.stores import postgres_url_or_skip, reset_postgres

    url = postgres_url_or_skip()
    reset_postgres(url)
    try:
        build(url)
        led = Ledger.open(url, clock=CLOCK)
        try:
            report = run_audit(led, workers=workers)
            assert [f.line() for f in report.findings.items] == []
            key, _ = create_key(led, "app", ["accounts:write"])
            assert led.submit({"type": "grant_connects", "account_id": "co-3",
                               "at": "2016-05-20", "quantity": 2, "reason": "sorry"},
                              principal=key.key_id).ok
            report = run_audit(led, workers=workers)
        finally:
            led.close()
        assert [(f.rule, f.account) for f in report.findings.items] == [("R-1.4", "co-3")]
    finally:
        reset_postgres(url)
