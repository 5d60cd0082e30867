"""Delivery to a real receiver on 127.0.0.1 that verifies signatures and deduplicates by
webhook-id (tests/webhooks/receiver.py, the README's recipe)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.webhooks.conftest import (
    CLOCK,
    create,
    deliveries,
    feed_after,
    ledger,
    ok,
    open_accounts,
)
from tests.webhooks.receiver import Receiver


def later(seconds: float) -> str:
    start = datetime.fromisoformat(CLOCK.replace("Z", "+00:00"))
    return (start + timedelta(seconds=seconds)).isoformat()


def test_every_matching_event_is_delivered_signed_once_in_feed_order(url: str) -> None:
    # Given events recorded before any endpoint, then two endpoints, one for every type
    # and one for ConnectsRefilled only, then more events
    open_accounts(url, 0, 3)
    with Receiver() as every, Receiver() as refills:
        every.secret = create(url, every.url)[1]
        refills.secret = create(url, refills.url, "ConnectsRefilled")[1]
        open_accounts(url, 3, 5)
        # When one pass runs
        summary = json.loads(ok(ledger(url, "webhooks", "deliver", "--once")))
        # Then each receiver got exactly the feed's events after its creation, in feed
        # order, as the feed's JSON objects, every signature valid and no copy twice
        expected = [e for e in feed_after(url) if e["account_id"] not in
                    {"fl-0", "fl-1", "fl-2"}]
        assert len(expected) == 10
        assert [every.events[i] for i in every.order] == expected
        assert every.order == [str(e["id"]) for e in expected]
        assert [refills.events[i] for i in refills.order] == [
            e for e in expected if e["name"] == "ConnectsRefilled"]
        assert every.bad_signatures == refills.bad_signatures == 0
        assert max(every.copies.values()) == 1
        assert summary == {"delivered": 15, "failed": 0, "disabled": []}
        headers = every.headers_seen[0]
        assert headers["webhook-signature"].startswith("v1,")
        assert int(headers["webhook-timestamp"]) > 1_600_000_000
        # And a second pass sends nothing again
        assert json.loads(ok(ledger(url, "webhooks", "deliver", "--once")))["delivered"] == 0
        assert sum(every.copies.values()) == 10


def test_a_failing_event_is_retried_with_its_id_and_does_not_hold_back_later_ones(
        url: str) -> None:
    with Receiver() as receiver:
        endpoint_id, receiver.secret = create(url, receiver.url)
        open_accounts(url, 0, 3)
        events = feed_after(url)
        stubborn = str(events[1]["id"])
        receiver.fail_first[stubborn] = 2
        # When the first pass runs, the stubborn event fails; the events after it arrive
        ok(ledger(url, "webhooks", "deliver", "--once"))
        assert receiver.order == [str(e["id"]) for e in events if str(e["id"]) != stubborn]
        # Not before its wait (about 5 s) has passed
        ok(ledger(url, "webhooks", "deliver", "--once", clock=later(4)))
        assert receiver.attempts[stubborn] == 1
        # Its second try, 5 s later, fails again; the third, a minute after, is delivered
        ok(ledger(url, "webhooks", "deliver", "--once", clock=later(6)))
        assert receiver.attempts[stubborn] == 2
        ok(ledger(url, "webhooks", "deliver", "--once", clock=later(6 + 59)))
        assert receiver.attempts[stubborn] == 2
        ok(ledger(url, "webhooks", "deliver", "--once", clock=later(6 + 61)))
        assert receiver.attempts[stubborn] == 3
        assert receiver.order[-1] == stubborn and len(receiver.events) == len(events)
        assert receiver.bad_signatures == 0
        # And the deliveries listing tells the story, newest first
        tries = [d for d in deliveries(url, endpoint_id) if str(d["event_id"]) == stubborn]
        assert [(d["attempt"], d["status"], d["delivered"]) for d in tries] == [
            (3, 204, True), (2, 500, False), (1, 500, False)]
        assert tries[0]["next_try"] is None and tries[1]["next_try"] is not None


def test_an_endpoint_failing_for_three_days_is_disabled_and_says_why(url: str) -> None:
    with Receiver() as receiver:
        endpoint_id, receiver.secret = create(url, receiver.url)
        receiver.fail_all = True
        open_accounts(url, 0, 1)
        ok(ledger(url, "webhooks", "deliver", "--once"))
        ok(ledger(url, "webhooks", "deliver", "--once", clock=later(3 * 86400 - 10)))
        listed = json.loads(ok(ledger(url, "webhooks", "list", "--json")))
        assert listed[0]["status"] == "active"
        # When a try fails 3 days after the first failure
        ok(ledger(url, "webhooks", "deliver", "--once", clock=later(3 * 86400)))
        # Then the endpoint is disabled, with its reason, and nothing more is sent to it
        listed = json.loads(ok(ledger(url, "webhooks", "list", "--json")))
        assert listed[0]["status"] == "disabled"
        assert "3 days" in listed[0]["disabled_reason"]
        sent = sum(receiver.attempts.values())
        open_accounts(url, 1, 1, day="2030-07-01")
        ok(ledger(url, "webhooks", "deliver", "--once", clock=later(4 * 86400)))
        assert sum(receiver.attempts.values()) == sent
        text = ok(ledger(url, "webhooks", "list"))
        assert "disabled" in text and endpoint_id in text


def test_a_redirect_is_never_followed(url: str) -> None:
    with Receiver() as target, Receiver() as redirecting:
        redirecting.redirect_to = target.url
        endpoint_id, secret = create(url, redirecting.url)
        target.secret = secret
        open_accounts(url, 0, 1)
        ok(ledger(url, "webhooks", "deliver", "--once"))
        assert target.attempts == {} and target.bad_signatures == 0
        tries = deliveries(url, endpoint_id)
        assert {d["status"] for d in tries} == {307}
        assert all(d["next_try"] for d in tries)


def test_secrets_stay_out_of_listings_events_and_errors(url: str) -> None:
    endpoint_id, secret = create(url, "https://receiver.example/hook")
    listing = ok(ledger(url, "webhooks", "list")) + ok(ledger(url, "webhooks", "list", "--json"))
    assert endpoint_id in listing and secret not in listing
    assert secret.startswith("whsec_")
    from ledger.application import Ledger

    app = Ledger.open(url, clock=CLOCK)
    try:
        stored = app.recorder.select_notifications(0, 100)
        assert stored and all(secret.encode() not in bytes(n.state) for n in stored)
        assert not any(secret.removeprefix("whsec_").encode() in bytes(n.state)
                       for n in stored)
    finally:
        app.close()
    refused = ledger(url, "webhooks", "delete", "we_nope")
    assert refused.returncode == 1 and "not_found" in refused.stderr
    bad = ledger(url, "webhooks", "create", "file:///etc/passwd")
    assert bad.returncode == 2 and "validation_error" in bad.stderr
    assert secret not in refused.stderr + bad.stderr


def test_endpoints_leave_the_audit_clean_and_deleting_stops_delivery(url: str) -> None:
    with Receiver() as receiver:
        endpoint_id, receiver.secret = create(url, receiver.url)
        open_accounts(url, 0, 2)
        ok(ledger(url, "webhooks", "deliver", "--once"))
        ok(ledger(url, "webhooks", "delete", endpoint_id))
        assert json.loads(ok(ledger(url, "webhooks", "list", "--json"))) == []
        open_accounts(url, 2, 2)
        ok(ledger(url, "webhooks", "deliver", "--once"))
        assert len(receiver.events) == 4
    import subprocess
    import sys

    audit = subprocess.run([sys.executable, "-m", "replay_tools.cli", "--store", url,
                            "--clock", CLOCK, "audit"], capture_output=True, text=True,
                           timeout=300, check=False)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "clean" in audit.stdout


def test_an_unusable_store_exits_2() -> None:
    done = ledger("postgresql://nobody@127.0.0.1:1/none", "webhooks", "deliver", "--once")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_one_pass_tries_every_event_when_the_receiver_answers_with_errors(url: str) -> None:
    """HTTP.md: a failing event does not hold back the events after it. Eight events
    answered 500, then good ones: one `deliver --once` tries them all."""
    with Receiver() as receiver:
        _, receiver.secret = create(url, receiver.url)
        open_accounts(url, 0, 6)  # 12 events
        ids = [str(e["id"]) for e in feed_after(url)]
        for bad in ids[:8]:
            receiver.fail_first[bad] = 1
        ok(ledger(url, "webhooks", "deliver", "--once"))
        assert set(receiver.attempts) == set(ids), receiver.attempts
        assert set(receiver.events) == set(ids[8:])
