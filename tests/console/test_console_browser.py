"""The support console driven in headless Chromium as a support person would use it."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger.application import Ledger
from tests.console.conftest import CARD_TOKEN, CREDITS, LONG_ID, OPENED, Console

DOCS = Path(__file__).resolve().parents[2] / "docs"


def sign_in(page: Any, console: Console, name: str = "support") -> None:
    page.goto(console.url + "/console")
    page.get_by_label("API key with the accounts:read scope").fill(console.keys[name])
    page.get_by_role("button", name="Sign in").click()


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.innerText.trim()))
  .map(el => el.outerHTML)"""


def secrets_absent(page: Any, console: Console, seen: list[str]) -> None:
    """No key secret or card token in the page's HTML (scripts included) or its URL; and,
    while here, every control of the page has a label (its name for assistive tools)."""
    assert page.evaluate(UNLABELLED) == [], page.url
    html = page.content()
    seen.append(page.url)
    for secret in [*console.keys.values(), CARD_TOKEN]:
        assert secret not in html, f"a secret is in the HTML of {page.url}"
        assert secret not in page.url


def test_a_support_session_from_sign_in_to_sign_out(page: Any, console: Console) -> None:
    seen: list[str] = []
    page.goto(console.url + "/console/search")
    assert page.url.endswith("/console/sign-in"), "pages need a session"
    sign_in(page, console)
    assert page.url.endswith("/console/search")
    secrets_absent(page, console, seen)
    cookie = next(c for c in page.context.cookies() if c["name"] == "ledger_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] > 0
    assert console.keys["support"] not in cookie["value"]
    assert page.evaluate("document.cookie") == "", "page scripts can read no cookie"

    # Search: paged by cursor, nothing repeated; filters narrow the rows.
    first = page.locator("table.data tbody tr td:first-child a").all_inner_texts()
    assert len(first) == 25
    DOCS.mkdir(exist_ok=True)
    page.get_by_label("Kind").select_option("freelancer")
    page.get_by_role("button", name="Search").click()
    kinds = page.locator("table.data tbody tr td:nth-child(2)").all_inner_texts()
    assert kinds and set(kinds) == {"freelancer"}
    page.screenshot(path=str(DOCS / "console-search.png"), full_page=False)
    page.get_by_label("Kind").select_option("")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Next page →").click()
    second = page.locator("table.data tbody tr td:first-child a").all_inner_texts()
    assert second and not set(first) & set(second)
    assert first + second == sorted(first + second)
    secrets_absent(page, console, seen)
    page.get_by_label("Account id starts with").fill("console-")
    page.get_by_label("Kind").select_option("")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=LONG_ID).click()

    # The account now, as the command line shows it (the charges were paid from earnings);
    # the card as brand and last four.
    now = json.loads(console.ledger("show", LONG_ID, "--json"))
    assert Decimal(now["earnings"]["available"]) < 10 * CREDITS
    assert page.locator("#available").inner_text() == f"{now['earnings']['available']} USD"
    assert page.locator("#connects").inner_text() == str(now["connects"])
    assert "visa ending 4242" in page.locator(".methods").inner_text()
    assert page.locator("svg.chart path").count() >= 2
    secrets_absent(page, console, seen)
    page.screenshot(path=str(DOCS / "console-account.png"), full_page=True)

    # Move the as-of date: the balance is what had been credited by the end of that day,
    # as the command line says too.
    day = (OPENED + timedelta(days=8)).date()
    page.get_by_label("As of (end of day, UTC)").fill(day.isoformat())
    page.get_by_role("button", name="Show this point in time").click()
    credited = sum(1 for i in range(CREDITS)
                   if (OPENED + timedelta(days=1 + i, hours=2)).date() <= day)
    assert page.locator("#available").inner_text() == f"{10 * credited:.2f} USD"
    shown = console.ledger("show", LONG_ID, "--as-of", f"{day}T23:59:59Z")
    assert f"available {10 * credited:.2f}" in shown
    assert f"as_of={day}" in page.url

    # Page the timeline (point in time kept): events 1-20 of what was known then, then on.
    page.get_by_role("link", name="Now").click()
    page.get_by_role("link", name="« First").click()
    versions = [int(v) for v in page.locator("table.timeline tbody tr td:first-child")
                .all_inner_texts()]
    assert versions == list(range(1, 21))
    page.get_by_role("link", name="Later \u203a").click()
    later = [int(v) for v in page.locator("table.timeline tbody tr td:first-child")
             .all_inner_texts()]
    assert later[0] == 21 and later == sorted(later)
    principal = page.locator("table.timeline thead").inner_text()
    assert "Principal" in principal and "Actor" in principal and "Reason" in principal

    # The statement: running balances, rules, a CSV, and one click to each line's event.
    page.get_by_role("link", name="Statement…").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(download_info.value.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    credits = [r for r in rows if r["event"] == "EarningsCredited"]
    assert len(credits) == CREDITS
    assert Decimal(credits[-1]["available_balance"]) == 10 * CREDITS
    assert Decimal(rows[-1]["available_balance"]) == Decimal(now["earnings"]["available"])
    assert all(r["rule"] for r in credits)
    link = page.get_by_role("link", name=re.compile(r"^v\d+ EarningsCredited")).last
    version = re.match(r"v(\d+)", link.inner_text())
    assert version is not None
    link.click()
    assert page.url.endswith(f"#event-{version.group(1)}")
    assert page.locator(f"#event-{version.group(1)}").is_visible()
    assert "EarningsCredited" in page.locator(f"#event-{version.group(1)}").inner_text()

    # A preview of a bundle records nothing.
    before = console.ledger("history", LONG_ID)
    page.goto(console.url + f"/console/accounts/{LONG_ID}/preview")
    page.get_by_label("Buy a bundle of 20 Connects").check()
    page.get_by_role("button", name="Preview").click()
    assert page.locator("#outcome").is_visible()
    outcome = page.locator("#outcome").inner_text()
    assert "would be" in outcome
    if hasattr(Ledger, "preview"):  # the corrections issue's preview is on this branch
        assert "It would be accepted" in outcome, outcome
        assert "Charge:" in page.locator("#charge").inner_text()
        assert "ConnectsPurchased" in page.locator("#outcome ol").inner_text()
        # decided now, after the scheduled facts since the last event: at least the 20
        assert int(page.locator("#preview-connects strong").inner_text()) >= 20
    assert console.ledger("history", LONG_ID) == before, "a preview recorded something"
    secrets_absent(page, console, seen)

    # The audit page, for a key with audit:run.
    page.get_by_role("link", name="Audit").click()
    page.get_by_role("button", name="Run the audit").click()
    assert page.locator("#report").is_visible()
    summary = page.locator("#report dl").inner_text()
    assert "notifications" in summary and "{" not in summary and "[" not in summary, summary

    # Sign out: the session is gone and pages ask to sign in again.
    page.get_by_role("button", name="Sign out").click()
    assert "/console/sign-in" in page.url
    page.goto(console.url + f"/console/accounts/{LONG_ID}")
    assert page.url.endswith("/console/sign-in")
    for url in seen:
        assert not any(s in url for s in console.keys.values())


def test_the_keyboard_alone_signs_in(page: Any, console: Console) -> None:
    page.goto(console.url + "/console/sign-in")
    assert page.evaluate("document.activeElement.id") == "secret"  # focus starts there
    page.keyboard.type(console.keys["support"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/search")
    page.keyboard.press("Tab")  # the first stop is the skip link
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "A"


def test_a_key_without_the_scope_is_refused(page: Any, console: Console) -> None:
    sign_in(page, console, "writer")
    assert page.url.endswith("/console/sign-in")
    assert "does not have the accounts:read scope" in page.content()
    assert not [c for c in page.context.cookies() if c["name"] == "ledger_console"]
    page.goto(console.url + f"/console/accounts/{LONG_ID}")
    assert page.url.endswith("/console/sign-in")


def test_a_revoked_key_ends_its_session(page: Any, console: Console) -> None:
    sign_in(page, console, "doomed")
    assert page.url.endswith("/console/search")
    page.goto(console.url + f"/console/accounts/{LONG_ID}")
    assert LONG_ID in page.locator("h1").inner_text()
    console.revoke("doomed")
    page.goto(console.url + f"/console/accounts/{LONG_ID}")
    assert "/console/sign-in" in page.url
    if console.serve:  # the real keys: the page says why
        assert "This key is no longer valid" in page.content()


def test_a_post_without_the_session_token_is_refused(page: Any, console: Console) -> None:
    sign_in(page, console)
    response = page.request.post(console.url + f"/console/accounts/{LONG_ID}/preview",
                                 form={"what": "upgrade", "csrf": "forged"})
    assert response.status == 403
    response = page.request.post(console.url + "/console/audit", form={"csrf": ""})
    assert response.status == 403


def test_bad_values_get_the_consoles_own_error_page(page: Any, console: Console) -> None:
    sign_in(page, console)
    base = console.url + f"/console/accounts/{LONG_ID}"
    for url, shown in ((base + "/statement?from=2021-13-01", "is not a date"),
                       (base + "/statement?to=tomorrow", "is not a date"),
                       (base + "?after_version=abc", "whole number"),
                       (base + "?after_version=" + "9" * 40, "whole number"),
                       (base + "?as_of=0001-01-01", "between")):
        response = page.goto(url)
        assert response.status == 422, url
        assert response.headers["content-type"].startswith("text/html"), url
        assert shown in page.content(), url
        assert "Traceback" not in page.content() and "int()" not in page.content()
    response = page.goto(console.url + "/console/search?cursor=!!!")
    assert response.status == 422 and "not one this server gave" in page.content()
    # An error page keeps the header: search is one click away, and so is signing out
    response = page.goto(console.url + "/console/accounts/fl-no-such-account")
    assert response.status == 404 and "No such account" in page.content()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Search").click()
    assert page.url.endswith("/console/search")
    page.goto(base + "?after_version=abc")
    page.get_by_role("button", name="Sign out").click()
    assert "/console/sign-in" in page.url


def test_the_timeline_stays_inside_the_history_and_keeps_its_instant(
        page: Any, console: Console) -> None:
    sign_in(page, console)
    base = console.url + f"/console/accounts/{LONG_ID}"
    page.goto(base + "?after_version=5000")
    hint = page.locator("p.hint", has_text="Events").inner_text()
    first, last, total = (int(n) for n in re.findall(r"\d+", hint)[:3])
    assert 1 <= first <= last == total, hint
    page.goto(base + "?as_of=2021-01-20T12:00:00%2B00:00&after_version=0")
    assert page.locator("h1").is_visible()
    page.get_by_role("link", name=re.compile("^Later")).click()
    assert "as_of=2021-01-20T12%3A00%3A00%2B00%3A00" in page.url, page.url
    assert "is not a date" not in page.content()
    assert page.locator("h1").is_visible()


def test_the_preview_offers_the_bundles_on_sale_and_asks_who_acts_for_an_agency(
        page: Any, console: Console) -> None:
    sign_in(page, console)
    page.goto(console.url + f"/console/accounts/{LONG_ID}/preview")
    offered = sorted(int(v.split("-")[1]) for v in page.locator(
        "input[name=what][value^=bundle-]").evaluate_all("els => els.map(e => e.value)"))
    assert offered == [10, 20, 40, 60, 80]  # v2019's freelancer bundles, nothing else
    agencies = [line.split()[0] for line in console.ledger(
        "accounts", "--kind", "agency").splitlines() if line.strip()]
    if agencies:
        page.goto(console.url + f"/console/accounts/{agencies[0]}/preview")
        assert page.get_by_label("Person acting (an owner or team member; R-1.5)").is_visible()


def test_the_sign_in_page_shows_only_its_own_notices(page: Any, console: Console) -> None:
    page.goto(console.url + "/console/sign-in?message=Your+session+expired,+go+to+evil.example")
    assert "evil.example" not in page.content()
    page.goto(console.url + "/console/sign-in?message=signed-out")
    assert "Signed out." in page.content()



def test_an_overdue_billing_date_is_shown_as_not_recorded_yet(
        page: Any, console: Console) -> None:
    # The long account's events stop in 2021; the server's clock is today's
    sign_in(page, console)
    page.goto(console.url + f"/console/accounts/{LONG_ID}")
    due = page.locator("#billing-due")
    assert due.is_visible() and "not recorded yet" in due.inner_text()
    # laid out below the date, not over it
    date_box = page.locator("#billing-due").locator("xpath=..").bounding_box()
    notice_box = due.bounding_box()
    assert date_box and notice_box and notice_box["y"] > date_box["y"] + 4, (
        date_box, notice_box)
    page.goto(console.url + f"/console/accounts/{LONG_ID}?as_of=2021-01-03")
    assert page.locator("#billing-due").count() == 0  # not due yet at that point


def test_a_pasted_id_with_spaces_around_it_is_found(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.get_by_label("Account id starts with").fill(f"  {LONG_ID}\t")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.data tbody tr td:first-child a").all_inner_texts()
    assert rows == [LONG_ID]


PAN = "4111111111111111"


def test_no_card_number_is_shown_back_and_errors_stay_in_the_console_r8_9(
        page: Any, console: Console) -> None:
    sign_in(page, console)
    base = console.url + "/console"
    for url, status in ((f"{base}/accounts/{PAN}", 404),
                        (f"{base}/accounts/{LONG_ID}?as_of={PAN}", 422),
                        (f"{base}/accounts/{LONG_ID}/statement?from={PAN}", 422),
                        (f"{base}/nothing-here", 404), (f"{base}/accounts/", 404),
                        (f"{base}/search?prefix=%00", 422)):
        response = page.goto(url)
        assert response.status == status, url
        assert response.headers["content-type"].startswith("text/html"), url
        assert PAN not in page.content(), url
        # the console's own page, with its way back
        assert page.get_by_role("link", name="Back to search").is_visible(), url
    wrong = page.request.get(base + "/sign-out")
    assert wrong.status == 405 and wrong.headers["content-type"].startswith("text/html")


def _submit_file(console: Console, tmp_path: Path, commands: list[dict[str, Any]]) -> None:
    path = tmp_path / "commands.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in commands))
    console.ledger("submit", str(path))


def test_the_statement_page_shows_who_why_and_the_charge_id_r8_6_r9_2(
        page: Any, console: Console, tmp_path: Path) -> None:
    account = "console-fl-why"
    _submit_file(console, tmp_path, [
        {"type": "open_account", "account_id": account, "kind": "freelancer",
         "at": "2021-03-01"},
        {"type": "add_billing_method", "account_id": account, "method_id": "c-1",
         "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
         "exp_year": 2030, "token": "tok_console_why", "at": "2021-03-01T01:00:00Z"},
        {"type": "purchase_connects", "account_id": account, "quantity": 10,
         "command_id": "console-why-buy", "at": "2021-03-02"},
        {"type": "grant_connects", "account_id": account, "quantity": 3,
         "reason": "goodwill after the outage", "at": "2021-03-03"}])
    sign_in(page, console)
    page.goto(console.url + f"/console/accounts/{account}/statement")
    heads = page.locator("table.data thead").inner_text()
    for column in ("Charge id", "Who", "Reason", "Pending balance"):
        assert column in heads, heads
    body = page.locator("table.data tbody").inner_text()
    assert "goodwill after the outage" in body
    assert "cli:" in body and f"as {account}" in body
    events = [json.loads(line) for line in
              console.ledger("history", account, "--json").splitlines()]
    charge = next(e["data"]["charge_id"] for e in events if e["name"] == "ConnectsPurchased")
    assert charge.startswith("ch_") and charge in body
    assert "tok_console_why" not in page.content()


def test_a_key_bound_to_an_actor_previews_only_as_that_person_r1_5(
        page: Any, console: Console, tmp_path: Path) -> None:
    if not console.serve:
        return  # the stand-in harness has no `--actor` keys
    made = json.loads(console.ledger("keys", "create", "bound", "--json", "--scope",
                                     "accounts:read", "--actor", "someone-else"))
    console.keys["bound"] = made["secret"]
    _submit_file(console, tmp_path, [
        {"type": "open_account", "account_id": "console-mem-1", "kind": "member",
         "at": "2021-03-01"}])
    sign_in(page, console, "bound")
    page.goto(console.url + f"/console/accounts/{LONG_ID}/preview")
    page.get_by_role("button", name="Preview").click()
    outcome = page.locator("#outcome").inner_text()
    assert "It would be refused" in outcome and "not_authorized" in outcome, outcome
    # an account kind with no plan is offered no upgrade
    page.goto(console.url + "/console/accounts/console-mem-1/preview")
    assert page.get_by_label("Upgrade to Plus").count() == 0
