"""R-0: policy is data, and it has versions.

Every figure comes from the catalog version in force on the effective date of the
event it decides; a billing anchor keeps the version in force when its cycle
started. Figures are the default catalog's (RULES.md, R-0 table).
"""

from __future__ import annotations

import copy
import importlib.resources
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger, LedgerError
from ledger.policy import default_catalog
from tests.helpers import acting, assert_rejected, submit_ok

# -- helpers ------------------------------------------------------------------------


def default_catalog_dict() -> dict[str, Any]:
    text = importlib.resources.files("ledger").joinpath("catalog.json").read_text()
    return json.loads(text)


def version_named(catalog: dict[str, Any], name: str) -> dict[str, Any]:
    return next(v for v in catalog["versions"] if v["name"] == name)


def open_account(ledger: Ledger, account_id: str, at: str, kind: str = "freelancer",
                 **extra: Any) -> Any:
    return submit_ok(ledger, {"type": "open_account", "account_id": account_id,
                              "kind": kind, "at": at, **extra})


def add_card(ledger: Ledger, account_id: str, at: str, method_id: str = "m-1",
             token: str = "tok_ok_1", actor: str | None = None) -> Any:
    return submit_ok(ledger, {
        "type": "add_billing_method", "account_id": account_id, "method_id": method_id,
        "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
        "exp_year": 2035, "token": token, "prepaid": False, "at": at, **acting(actor)})


def credit(ledger: Ledger, account_id: str, at: str, amount: str) -> Any:
    return submit_ok(ledger, {"type": "credit_earnings", "account_id": account_id,
                              "amount": amount, "at": at})


def upgrade(ledger: Ledger, account_id: str, at: str, **extra: Any) -> Any:
    return ledger.submit({"type": "upgrade_plan", "account_id": account_id, "at": at, **extra})


def purchase(ledger: Ledger, account_id: str, at: str, quantity: int,
             actor: str | None = None) -> Any:
    return ledger.submit({"type": "purchase_connects", "account_id": account_id,
                          "quantity": quantity, "at": at, **acting(actor)})


# -- the default catalog --------------------------------------------------------------


def test_default_catalog_ships_v2016_from_2016_and_v2019_from_may_2019() -> None:
    # Given the built-in catalog
    dumped = default_catalog().model_dump(mode="json")
    # Then it has exactly the two versions of the R-0 table, in date order
    assert [(v["name"], v["effective_from"]) for v in dumped["versions"]] == [
        ("v2016", "2016-01-01"), ("v2019", "2019-05-01")]


def test_default_catalog_figures_match_the_rule_book_table() -> None:
    # Given the built-in catalog as JSON
    dumped = default_catalog().model_dump(mode="json")
    v2016 = version_named(dumped, "v2016")
    v2019 = version_named(dumped, "v2019")
    # Then the figures of the R-0 table are there
    assert v2016["last_billable_day"] == 27
    assert v2019["last_billable_day"] == 28
    assert Decimal(str(v2016["plans"]["freelancer"]["plus"]["price"])) == Decimal("10.00")
    assert Decimal(str(v2019["plans"]["freelancer"]["plus"]["price"])) == Decimal("14.99")
    assert Decimal(str(v2016["plans"]["agency"]["plus"]["price"])) == Decimal("20.00")
    assert Decimal(str(v2016["connect_price"])) == Decimal("1.00")
    assert Decimal(str(v2019["connect_price"])) == Decimal("0.15")
    assert v2016["plans"]["freelancer"]["basic"]["monthly_connects"] == 60
    assert v2019["plans"]["freelancer"]["basic"]["monthly_connects"] == 10
    assert v2019["plans"]["agency"]["basic"]["monthly_connects"] == 0


# -- no policy in force -----------------------------------------------------------------


def test_a_command_dated_before_the_first_version_is_refused_with_no_policy_in_force(
        ledger: Ledger) -> None:
    # When an account is opened on 2015-12-31, the day before v2016
    result = ledger.submit({"type": "open_account", "account_id": "fl-1",
                            "kind": "freelancer", "at": "2015-12-31"})
    # Then it is refused and no account exists
    assert not result.ok
    assert result.error.code == "no_policy_in_force"
    assert result.error.rule == "R-0"
    assert result.events == []
    with pytest.raises(LedgerError) as info:
        ledger.account("fl-1")
    assert info.value.code == "unknown_account"


def test_a_command_dated_on_the_first_effective_from_is_under_v2016(
        ledger: Ledger) -> None:
    # When an account is opened on 2016-01-01
    open_account(ledger, "fl-1", "2016-01-01")
    # Then its cycle runs under v2016
    view = ledger.account("fl-1", as_of="2016-01-01")
    assert view.policy_version == "v2016"
    assert view.connects == 60


def test_a_catalog_starting_in_2017_refuses_a_2016_command(make_ledger: Any) -> None:
    # Given a catalog whose first version starts on 2017-01-01
    catalog = default_catalog_dict()
    catalog["versions"][0]["effective_from"] = "2017-01-01"
    ledger = make_ledger(policy=catalog)
    # When an account is opened on 2016-12-31
    result = ledger.submit({"type": "open_account", "account_id": "fl-1",
                            "kind": "freelancer", "at": "2016-12-31"})
    # Then no policy is in force; the next day is fine
    assert result.error is not None and result.error.code == "no_policy_in_force"
    open_account(ledger, "fl-1", "2017-01-01")
    assert ledger.account("fl-1", as_of="2017-01-01").policy_version == "v2016"


def test_a_catalog_given_as_a_json_file_path_is_used(make_ledger: Any,
                                                     tmp_path: Path) -> None:
    # Given a catalog file whose first version starts on 2017-01-01
    catalog = default_catalog_dict()
    catalog["versions"][0]["effective_from"] = "2017-01-01"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    ledger = make_ledger(policy=str(path))
    # When an account is opened in 2016
    result = ledger.submit({"type": "open_account", "account_id": "fl-1",
                            "kind": "freelancer", "at": "2016-06-01"})
    # Then the file's dates apply
    assert result.error is not None and result.error.code == "no_policy_in_force"


# -- figures by effective date ---------------------------------------------------------


@pytest.mark.parametrize(("opened", "upgraded", "left", "version"), [
    ("2016-03-05", "2016-03-05", "10.00", "v2016"),
    ("2019-04-20", "2019-04-30", "10.00", "v2016"),
    ("2019-04-20", "2019-05-01", "5.01", "v2019"),
    ("2019-06-03", "2019-06-03", "5.01", "v2019"),
])
def test_plus_price_is_10_under_v2016_and_14_99_under_v2019(
        ledger: Ledger, opened: str, upgraded: str, left: str, version: str) -> None:
    # Given a freelancer with a card and 20.00 of available earnings
    open_account(ledger, "fl-1", opened)
    add_card(ledger, "fl-1", opened)
    credit(ledger, "fl-1", opened, "20.00")
    # When they upgrade to Plus
    result = upgrade(ledger, "fl-1", upgraded)
    # Then the price of the version in force on the upgrade date is taken from earnings
    assert result.ok, result.model_dump(mode="json")
    view = ledger.account("fl-1", as_of=upgraded)
    assert view.plan == "plus"
    assert view.earnings.available == Decimal(left)
    assert view.policy_version == version


@pytest.mark.parametrize("opened", ["2016-03-05", "2019-06-03"])
def test_agency_plus_costs_20_under_both_versions(ledger: Ledger, opened: str) -> None:
    # Given an agency with a card and 25.00 of earnings
    open_account(ledger, "fl-1", opened)
    open_account(ledger, "ag-1", opened, kind="agency", owner_id="fl-1")
    add_card(ledger, "ag-1", opened, actor="fl-1")
    credit(ledger, "ag-1", opened, "25.00")
    # When it upgrades
    assert upgrade(ledger, "ag-1", opened, actor="fl-1").ok
    # Then 20.00 was paid
    assert ledger.account("ag-1", as_of=opened).earnings.available == Decimal("5.00")


@pytest.mark.parametrize(("opened", "day", "next_date"), [
    ("2016-03-27", 27, date(2016, 4, 27)),
    ("2016-03-28", 1, date(2016, 5, 1)),
    ("2019-05-28", 28, date(2019, 6, 28)),
    ("2019-05-29", 1, date(2019, 7, 1)),
])
def test_the_last_billable_day_is_27_under_v2016_and_28_under_v2019(
        ledger: Ledger, opened: str, day: int, next_date: date) -> None:
    # When a freelancer account opens (starting a Basic cycle)
    open_account(ledger, "fl-1", opened)
    # Then the billing day follows the last billable day of the version in force
    view = ledger.account("fl-1", as_of=opened)
    assert view.billing_day == day
    assert view.cycle_start == date.fromisoformat(opened)
    assert view.next_billing_date == next_date


def test_a_cycle_started_under_v2016_keeps_its_billing_day_after_v2019_starts(
        ledger: Ledger) -> None:
    # Given an account opened on 2019-04-28 (v2016: the 28th is past the last billable day)
    open_account(ledger, "fl-1", "2019-04-28")
    # When it is looked at on 2019-05-20, under v2019 (where the 28th would be billable)
    view = ledger.account("fl-1", as_of="2019-05-20")
    # Then the cycle keeps v2016's billing day 1
    assert view.policy_version == "v2016"
    assert view.billing_day == 1
    assert view.next_billing_date == date(2019, 6, 1)


@pytest.mark.parametrize(("kind", "opened", "connects"), [
    ("freelancer", "2016-03-05", 60),
    ("freelancer", "2019-05-05", 10),
    ("agency", "2016-03-05", 60),
    ("agency", "2019-05-05", 0),
])
def test_basic_monthly_connects_follow_the_version_of_the_opening_date(
        ledger: Ledger, kind: str, opened: str, connects: int) -> None:
    # Given an owner when the account is an agency
    extra: dict[str, Any] = {}
    if kind == "agency":
        open_account(ledger, "fl-owner", opened)
        extra = {"owner_id": "fl-owner"}
    # When the account opens
    open_account(ledger, "acc-1", opened, kind=kind, **extra)
    # Then the first cycle's Basic Connects are the version's
    assert ledger.account("acc-1", as_of=opened).connects == connects


def test_a_refill_on_a_billing_date_after_the_switch_uses_v2019(ledger: Ledger) -> None:
    # Given a freelancer opened on 2019-04-05 with v2016's 60 Basic Connects
    open_account(ledger, "fl-1", "2019-04-05")
    assert ledger.account("fl-1", as_of="2019-04-05").connects == 60
    # When the billing date 2019-05-05 (under v2019) is recorded
    ledger.run_billing(through="2019-05-05")
    # Then the 60 expired (no rollover on Basic) and v2019's 10 were granted
    view = ledger.account("fl-1", as_of="2019-05-05")
    assert view.connects == 10
    assert view.policy_version == "v2019"
    assert view.billing_day == 5
    assert view.next_billing_date == date(2019, 6, 5)
    # And the view the day before still shows the old cycle
    before = ledger.account("fl-1", as_of="2019-05-04")
    assert before.connects == 60
    assert before.policy_version == "v2016"


def test_an_upgrade_after_the_switch_prorates_with_v2019_figures(ledger: Ledger) -> None:
    # Given a freelancer opened on 2019-04-05 with 60 Connects, a card, 20.00 of earnings
    open_account(ledger, "fl-1", "2019-04-05")
    add_card(ledger, "fl-1", "2019-04-05")
    credit(ledger, "fl-1", "2019-04-05", "20.00")
    # When they upgrade on 2019-05-02, 27 days after the refill, under v2019
    assert upgrade(ledger, "fl-1", "2019-05-02").ok
    # Then 60 + (70 - 10) + floor(27 * 10 / 30) = 129, priced 14.99, a new v2019 cycle
    view = ledger.account("fl-1", as_of="2019-05-02")
    assert view.connects == 60 + 60 + 9
    assert view.earnings.available == Decimal("5.01")
    assert view.policy_version == "v2019"
    assert view.billing_day == 2
    assert view.next_billing_date == date(2019, 6, 2)


def test_a_basic_freelancer_may_not_buy_connects_under_v2016_but_may_under_v2019(
        ledger: Ledger) -> None:
    # Given a Basic freelancer with earnings, opened under v2016
    open_account(ledger, "fl-1", "2019-04-10")
    credit(ledger, "fl-1", "2019-04-10", "5.00")
    # When they buy 10 Connects on 2019-04-30 (v2016: Plus only)
    assert_rejected(ledger, {"type": "purchase_connects", "account_id": "fl-1",
                             "quantity": 10, "at": "2019-04-30"}, "purchase_not_allowed")
    # Then on 2019-05-01 (v2019: freelancers on any plan) the same purchase is sold at 0.15
    assert purchase(ledger, "fl-1", "2019-05-01", 10).ok
    view = ledger.account("fl-1", as_of="2019-05-01")
    assert view.connects == 60 + 10
    assert view.earnings.available == Decimal("3.50")


def test_a_basic_agency_may_not_buy_connects_under_v2019(ledger: Ledger) -> None:
    # Given a Basic agency under v2019 with earnings
    open_account(ledger, "fl-1", "2019-06-01")
    open_account(ledger, "ag-1", "2019-06-01", kind="agency", owner_id="fl-1")
    credit(ledger, "ag-1", "2019-06-01", "10.00")
    # When it buys 10 Connects
    # Then it is refused: agencies buy on Plus only
    assert_rejected(ledger, {"type": "purchase_connects", "account_id": "ag-1", "actor": "fl-1",
                             "quantity": 10, "at": "2019-06-01"}, "purchase_not_allowed")


def test_one_connect_costs_1_00_under_v2016(ledger: Ledger) -> None:
    # Given a Plus freelancer in 2016 with 10.00 of earnings left after the upgrade
    open_account(ledger, "fl-1", "2016-03-05")
    add_card(ledger, "fl-1", "2016-03-05")
    credit(ledger, "fl-1", "2016-03-05", "20.00")
    assert upgrade(ledger, "fl-1", "2016-03-05").ok
    # When they buy 10 Connects
    assert purchase(ledger, "fl-1", "2016-03-06", 10).ok
    # Then 10.00 is paid from earnings
    view = ledger.account("fl-1", as_of="2016-03-06")
    assert view.earnings.available == Decimal("0.00")
    assert view.connects == 70 + 10


@pytest.mark.parametrize(("at", "quantity", "code"), [
    ("2016-03-06", 15, None),
    ("2016-03-06", 7, "invalid_bundle"),
])
def test_v2016_sells_any_multiple_of_5(ledger: Ledger, at: str, quantity: int,
                                       code: str | None) -> None:
    # Given a Plus freelancer in 2016 with a card
    open_account(ledger, "fl-1", "2016-03-05")
    add_card(ledger, "fl-1", "2016-03-05")
    assert upgrade(ledger, "fl-1", "2016-03-05").ok
    cmd = {"type": "purchase_connects", "account_id": "fl-1", "quantity": quantity, "at": at}
    # When they buy `quantity` Connects
    if code is None:
        # Then a multiple of 5 is sold
        assert ledger.submit(cmd).ok
        assert ledger.account("fl-1", as_of=at).connects == 70 + quantity
    else:
        # Then anything else is not
        assert_rejected(ledger, cmd, code)


@pytest.mark.parametrize(("quantity", "ok"), [(10, True), (80, True), (15, False),
                                              (150, False)])
def test_v2019_sells_freelancers_only_10_20_40_60_80(ledger: Ledger, quantity: int,
                                                     ok: bool) -> None:
    # Given a Basic freelancer in 2019 with enough earnings
    open_account(ledger, "fl-1", "2019-06-01")
    credit(ledger, "fl-1", "2019-06-01", "50.00")
    cmd = {"type": "purchase_connects", "account_id": "fl-1", "quantity": quantity,
           "at": "2019-06-01"}
    # When they buy `quantity`
    if ok:
        # Then listed bundles are sold at 0.15 each
        assert ledger.submit(cmd).ok
        view = ledger.account("fl-1", as_of="2019-06-01")
        assert view.connects == 10 + quantity
        assert view.earnings.available == Decimal("50.00") - Decimal("0.15") * quantity
    else:
        assert_rejected(ledger, cmd, "invalid_bundle")


def test_v2019_sells_agencies_the_150_bundle(ledger: Ledger) -> None:
    # Given a Plus agency in 2019 with a card and earnings
    open_account(ledger, "fl-1", "2019-06-01")
    open_account(ledger, "ag-1", "2019-06-01", kind="agency", owner_id="fl-1")
    add_card(ledger, "ag-1", "2019-06-01", actor="fl-1")
    credit(ledger, "ag-1", "2019-06-01", "50.00")
    assert upgrade(ledger, "ag-1", "2019-06-01", actor="fl-1").ok  # 20.00 from earnings
    # When it buys 150 Connects
    assert purchase(ledger, "ag-1", "2019-06-02", 150, actor="fl-1").ok
    # Then it paid 22.50 from earnings (agency Plus v2019 grants 0 monthly)
    view = ledger.account("ag-1", as_of="2019-06-02")
    assert view.earnings.available == Decimal("7.50")
    assert view.connects == 150


@pytest.mark.parametrize(("quantity", "ok"), [(280, True), (285, False)])
def test_v2016_plus_freelancers_hold_at_most_350_connects(ledger: Ledger, quantity: int,
                                                          ok: bool) -> None:
    # Given a Plus freelancer in 2016 holding 70 Connects, with a card
    open_account(ledger, "fl-1", "2016-03-05")
    add_card(ledger, "fl-1", "2016-03-05")
    assert upgrade(ledger, "fl-1", "2016-03-05").ok
    cmd = {"type": "purchase_connects", "account_id": "fl-1", "quantity": quantity,
           "at": "2016-03-05"}
    if ok:
        # Then reaching exactly 350 is allowed
        assert ledger.submit(cmd).ok
        assert ledger.account("fl-1", as_of="2016-03-05").connects == 350
    else:
        # Then passing 350 is refused
        assert_rejected(ledger, cmd, "connects_limit_exceeded")


def test_purchased_connects_expire_365_days_after_issue_under_v2019(
        ledger: Ledger) -> None:
    # Given a Basic freelancer opened on 2019-06-10 who buys 10 Connects that day
    open_account(ledger, "fl-1", "2019-06-10")
    credit(ledger, "fl-1", "2019-06-10", "1.50")
    assert purchase(ledger, "fl-1", "2019-06-10", 10).ok
    # When a year of billing is recorded
    ledger.run_billing(through="2020-06-09")
    # Then the purchased lot lives 365 days (2020 is a leap year): gone on 2020-06-09
    assert ledger.account("fl-1", as_of="2020-06-08").connects == 10 + 10
    assert ledger.account("fl-1", as_of="2020-06-09").connects == 10
    names = [e["name"] for e in ledger.history("fl-1")]
    assert "ConnectsExpired" in names


# -- extending the catalog --------------------------------------------------------------


def _history_shape(ledger: Ledger, account_id: str) -> list[tuple[Any, ...]]:
    return [(e["version"], e["name"], str(e["at"]), json.dumps(e["data"], sort_keys=True,
                                                               default=str))
            for e in ledger.history(account_id)]


def _with_v2030(price: str = "19.99") -> dict[str, Any]:
    catalog = default_catalog_dict()
    new = copy.deepcopy(version_named(catalog, "v2019"))
    new["name"] = "v2030"
    new["effective_from"] = "2030-01-01"
    new["plans"]["freelancer"]["plus"]["price"] = price
    catalog["versions"].append(new)
    return catalog


def test_adding_a_newer_version_does_not_change_recorded_history(
        store: str, ledger: Ledger, make_ledger: Any) -> None:
    # Given an account with an upgrade and a renewal under v2016
    open_account(ledger, "fl-1", "2016-03-05")
    add_card(ledger, "fl-1", "2016-03-05")
    credit(ledger, "fl-1", "2016-03-05", "30.00")
    assert upgrade(ledger, "fl-1", "2016-03-10").ok
    ledger.run_billing(through="2016-04-10")
    old_view = ledger.account("fl-1", as_of="2016-04-10").model_dump(mode="json")
    old_history = _history_shape(ledger, "fl-1")
    # When the ledger is opened with a catalog that adds v2030
    extended = make_ledger(policy=_with_v2030())
    # Then the past reads the same
    assert extended.account("fl-1", as_of="2016-04-10").model_dump(mode="json") == old_view
    assert _history_shape(extended, "fl-1") == old_history
    assert old_view["earnings"]["available"] == "10.00"


def test_a_newer_version_added_by_an_operator_applies_from_its_date(
        make_ledger: Any) -> None:
    # Given a catalog with a v2030 where Plus costs 19.99 for freelancers
    ledger = make_ledger(policy=_with_v2030("19.99"))
    open_account(ledger, "fl-1", "2029-12-20")
    add_card(ledger, "fl-1", "2029-12-20")
    credit(ledger, "fl-1", "2029-12-20", "50.00")
    # When a freelancer upgrades on 2029-12-31, before v2030
    assert upgrade(ledger, "fl-1", "2029-12-31").ok
    # Then 2029's upgrade costs v2019's 14.99
    assert ledger.account("fl-1", as_of="2029-12-31").earnings.available == Decimal("35.01")
    # And a second freelancer upgrading in 2030 pays 19.99 under v2030
    open_account(ledger, "fl-2", "2030-01-02")
    add_card(ledger, "fl-2", "2030-01-02")
    credit(ledger, "fl-2", "2030-01-02", "50.00")
    assert upgrade(ledger, "fl-2", "2030-01-02").ok
    view = ledger.account("fl-2", as_of="2030-01-02")
    assert view.earnings.available == Decimal("30.01")
    assert view.policy_version == "v2030"


def test_a_renewal_is_priced_by_the_version_in_force_on_the_billing_date(
        make_ledger: Any) -> None:
    # Given a catalog with a v2030 where Plus costs 19.99, and a Plus freelancer since
    # 2029-12-15 (14.99 under v2019) with 50.00 of earnings
    ledger = make_ledger(policy=_with_v2030("19.99"))
    open_account(ledger, "fl-1", "2029-12-15")
    add_card(ledger, "fl-1", "2029-12-15")
    credit(ledger, "fl-1", "2029-12-15", "50.00")
    assert upgrade(ledger, "fl-1", "2029-12-15").ok
    # When the 2030-01-15 renewal is recorded
    ledger.run_billing(through="2030-01-15")
    # Then it costs v2030's 19.99: 50.00 - 14.99 - 19.99
    view = ledger.account("fl-1", as_of="2030-01-15")
    assert view.plan == "plus"
    assert view.earnings.available == Decimal("15.02")


# -- bad catalogs -----------------------------------------------------------------------


def _drop_effective_from(c: dict[str, Any]) -> None:
    del c["versions"][1]["effective_from"]


def _bad_effective_from(c: dict[str, Any]) -> None:
    c["versions"][0]["effective_from"] = "not-a-date"


def _bad_last_billable_day(c: dict[str, Any]) -> None:
    c["versions"][0]["last_billable_day"] = "twenty-seven"


def _negative_price(c: dict[str, Any]) -> None:
    c["versions"][0]["plans"]["freelancer"]["plus"]["price"] = "-10.00"


def _bad_connect_price(c: dict[str, Any]) -> None:
    c["versions"][1]["connect_price"] = "cheap"


def _no_versions(c: dict[str, Any]) -> None:
    c["versions"] = []


@pytest.mark.parametrize(("mutate", "field"), [
    (_drop_effective_from, "effective_from"),
    (_bad_effective_from, "effective_from"),
    (_bad_last_billable_day, "last_billable_day"),
    (_negative_price, "price"),
    (_bad_connect_price, "connect_price"),
    (_no_versions, "versions"),
])
def test_a_bad_catalog_is_refused_with_a_message_naming_the_field(
        make_ledger: Any, mutate: Any, field: str) -> None:
    # Given the default catalog with one field broken
    catalog = default_catalog_dict()
    mutate(catalog)
    # When a ledger is opened with it
    # Then it is refused, naming the field
    with pytest.raises(Exception, match=field):
        make_ledger(policy=catalog)


def test_a_bad_catalog_file_is_refused_with_a_message_naming_the_field(
        make_ledger: Any, tmp_path: Path) -> None:
    # Given a catalog file whose v2016 lacks last_billable_day
    catalog = default_catalog_dict()
    del catalog["versions"][0]["last_billable_day"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(catalog))
    # Then opening a ledger on it fails naming the field
    with pytest.raises(Exception, match="last_billable_day"):
        make_ledger(policy=str(path))
