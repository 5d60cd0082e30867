"""Behaviours a careful reader of RULES.md / INTERFACE.md expects, found in review."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ledger import Ledger
from tests.helpers import accept, open_account, refuse


def test_close_contract_accepts_the_fields_interface_lists_for_it(ledger: Ledger) -> None:
    # INTERFACE: open_contract, close_contract | contract_id, hourly, role
    open_account(ledger, "mb-1", "member", "2016-03-07")
    open_account(ledger, "co-1", "company", "2016-03-07", owner_id="mb-1")
    accept(ledger, "open_contract", "co-1", "2016-03-08", contract_id="k-1", hourly=True,
           role="client", actor="mb-1")
    accept(ledger, "close_contract", "co-1", "2016-03-09", contract_id="k-1", hourly=True,
           role="client", actor="mb-1")
    result = ledger.submit({"type": "close_account", "account_id": "co-1",
                            "actor": "mb-1", "at": "2016-03-10"})
    assert result.error is not None and result.error.blockers == ["hourly_billing_week"]


def test_not_authorized_comes_before_the_checks_of_time(ledger: Ledger) -> None:
    open_account(ledger, "mb-1", "member", "2016-03-07")
    open_account(ledger, "co-1", "company", "2016-03-07", owner_id="mb-1")
    open_account(ledger, "mb-2", "member", "2016-03-07")  # owns no company
    refuse(ledger, "not_authorized", "close_account", "mb-2", "2031-06-01")  # also future
    refuse(ledger, "not_authorized", "submit_proposal", "co-1", "2015-01-01",
           proposal_id="p", job_id="j", connects=1, actor="mb-1")  # also back-dated
    refuse(ledger, "not_authorized", "add_team_member", "mb-2", "2031-06-01",
           member_id="x", role="member")
    result = ledger.submit({"type": "open_account", "account_id": "ag-9", "kind": "agency",
                            "owner_id": "mb-1", "at": "2015-01-01"})
    assert result.error is not None and result.error.code == "not_authorized"


def test_opening_an_agency_lists_its_own_events_first_with_a_refill_even_of_zero(
        ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2019-10-01")
    result = accept(ledger, "open_account", "ag-1", "2019-10-15", kind="agency",
                    owner_id="fl-1")
    assert result.events[:2] == ["AccountOpened", "ConnectsRefilled"]
    refill = [h for h in ledger.history("ag-1") if h["name"] == "ConnectsRefilled"]
    assert [h["data"]["quantity"] for h in refill] == [0]  # v2019: agencies get 0
    ledger.run_billing(through="2019-11-15")
    names = [h["name"] for h in ledger.history("ag-1")]
    assert names.count("ConnectsRefilled") == 2 and ledger.account("ag-1").connects == 0


def test_brands_as_people_write_them_and_unverified_paypal(ledger: Ledger) -> None:
    open_account(ledger, "fl-1", "freelancer", "2016-03-07")
    accept(ledger, "add_billing_method", "fl-1", "2016-03-08", method_id="m-1", method="card",
           brand="American Express", last4="0005", exp_month=1, exp_year=2030, token="tok_a")
    assert ledger.account("fl-1").billing_methods[0].brand == "american_express"
    refuse(ledger, "paypal_not_verified", "add_billing_method", "fl-1", "2016-03-08",
           method_id="m-2", method="paypal", email="a@b.c")


def test_a_promo_code_on_a_company_does_not_apply(ledger: Ledger) -> None:
    open_account(ledger, "mb-1", "member", "2016-03-07")
    open_account(ledger, "co-1", "company", "2016-03-07", owner_id="mb-1")
    before = ledger.account("co-1").version
    result = ledger.submit({"type": "redeem_promo_code", "account_id": "co-1", "actor": "mb-1",
                            "code": "PLUSMONTH", "at": "2016-03-08"})
    assert result.error is not None and result.error.code == "promo_not_applicable"
    assert ledger.account("co-1").version == before


def test_a_bad_instant_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "ledger.cli", "show", "fl-1", "--as-of",
                           "bogus"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "--as-of" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
