"""Edges of HTTP.md an outside probe found: cursors sent back as `cursor`, the reason in
the history, a retry under `If-Match`, trailing slashes, and the actor of an opening
(R-1.5, R-8.3, R-8.6), over HTTP against a real `ledger serve`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.service.conftest import Server, seed


def _pages(c: httpx.Client, path: str, limit: int, key: str) -> list[Any]:
    """Every item of a paged list, following `next_cursor` as `cursor`."""
    seen: list[Any] = []
    params: dict[str, Any] = {"limit": limit}
    for _ in range(1000):
        r = c.get(path, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [item[key] for item in page["data"]]
        if not page["has_more"]:
            return seen
        assert page["next_cursor"] is not None
        params = {"limit": limit, "cursor": page["next_cursor"]}
    raise AssertionError(f"{path}: the pages never ended")


def test_history_and_feed_pages_follow_next_cursor_as_cursor(server: Server) -> None:
    key = server.key("reader", "accounts:read", "events:read", "operations:write")
    with server.client(key) as c:
        for n in range(5):
            assert c.post("/v1/commands", json={
                "type": "credit_earnings", "account_id": "fl-2", "amount": "1.00",
                "at": f"2016-05-0{n + 1}"}).status_code == 200
        versions = _pages(c, "/v1/accounts/fl-2/events", 2, "version")
        everything = [e["version"] for e in c.get(
            "/v1/accounts/fl-2/events", params={"limit": 1000}).json()["data"]]
        assert versions == everything and len(versions) >= 6
        ids = _pages(c, "/v1/events", 3, "id")
        assert ids == sorted(set(ids)) and len(ids) >= 11
        assert ids == [e["id"] for e in c.get("/v1/events",
                                              params={"limit": 1000}).json()["data"]]
        for bad in ("xyz", "-1", "1e3"):
            r = c.get("/v1/events", params={"cursor": bad})
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["code"] == "validation_error"


def _history_after_a_grant(server: Server, account: str, quantity: int,
                           reason: str) -> list[Any]:
    """A goodwill grant with its reason sent over HTTP, then the account's history."""
    ops = server.key("ops", "operations:write", "accounts:read")
    with server.client(ops) as c:
        assert c.post("/v1/commands", json={
            "type": "grant_connects", "account_id": account, "quantity": quantity,
            "reason": reason, "at": "2016-05-02"}).status_code == 200
        rows: list[Any] = c.get(f"/v1/accounts/{account}/events",
                                params={"limit": 1000}).json()["data"]
    return rows


def test_history_shows_why_a_command_was_sent_r8_6(server: Server) -> None:
    last = _history_after_a_grant(server, "fl-2", 5, "outage on 2016-05-02")[-1]
    assert last["name"] == "ConnectsGranted"
    assert last["reason"] == "outage on 2016-05-02"


def test_a_retry_under_if_match_is_answered_as_the_first_time_r8_3(server: Server) -> None:
    key = server.key("app", "accounts:write", "accounts:read")
    buy = {"type": "purchase_connects", "account_id": "fl-1", "quantity": 10,
           "command_id": "im-1", "at": "2016-05-01"}
    with server.client(key) as c:
        version = c.get("/v1/accounts/fl-1").headers["etag"]
        first = c.post("/v1/commands", json=buy, headers={"If-Match": version})
        assert first.status_code == 200, first.text
        again = c.post("/v1/commands", json=buy, headers={"If-Match": version})
        assert again.status_code == 200, again.text
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["duplicate"] is True
        assert again.json()["events"] == first.json()["events"]
        # A new command on the moved version is still refused
        other = {**buy, "command_id": "im-2"}
        r = c.post("/v1/commands", json=other, headers={"If-Match": version})
        assert r.status_code == 412 and r.json()["code"] == "version_mismatch"


def test_a_trailing_slash_is_an_unknown_path_not_a_redirect(server: Server) -> None:
    key = server.key("app", "accounts:write", "accounts:read")
    with server.client(key) as c:
        for method, path in (("POST", "/v1/commands/"), ("GET", "/v1/accounts/"),
                             ("GET", "/v1/events/")):
            r = c.request(method, path, json={} if method == "POST" else None)
            assert r.status_code == 404, (path, r.status_code, r.headers.get("location"))
            assert "location" not in r.headers


def test_opening_a_company_is_done_by_its_owner_r1_5(server: Server) -> None:
    key = server.key("app", "accounts:write", "accounts:read")
    with server.client(key) as c:
        r = c.post("/v1/commands", json={"type": "open_account", "account_id": "co-1",
                                         "kind": "company", "owner_id": "owner-1",
                                         "at": "2016-05-01"})
        assert r.status_code == 200, r.text
        opened = c.get("/v1/accounts/co-1/events").json()["data"][0]
    assert opened["name"] == "AccountOpened"
    assert opened["actor"] == "owner-1"


def test_a_wrong_method_names_the_allowed_ones(server: Server) -> None:
    key = server.key("app", "accounts:read")
    with server.client(key) as c:
        r = c.delete("/v1/accounts/fl-1")
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("application/problem+json")
    allowed = {m.strip() for m in r.headers["allow"].split(",")}
    assert {"GET", "HEAD"} <= allowed, allowed


def test_made_up_command_types_do_not_become_metric_series(server: Server) -> None:
    app = server.key("app", "accounts:write")
    scraper = server.key("scraper", "metrics")
    with server.client(app) as c:
        for made_up in ("nonsense", "bogus_type_7"):
            assert c.post("/v1/commands", json={"type": made_up,
                                                "account_id": "fl-1"}).status_code == 422
        assert c.post("/v1/commands", json={"type": "purchase_connects", "account_id": "fl-1",
                                            "quantity": 10, "at": "2016-05-01"}).status_code == 200
    with server.client(scraper) as c:
        text = c.get("/metrics").text
    assert 'ledger_commands_total{outcome="accepted",type="purchase_connects"}' in text
    assert 'type="?"' in text
    assert "nonsense" not in text and "bogus_type_7" not in text


def test_a_webhook_endpoint_with_an_empty_list_of_types_is_refused(server: Server) -> None:
    admin = server.key("admin", "admin")
    with server.client(admin) as c:
        r = c.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook",
                                                  "types": []})
        assert r.status_code == 422 and r.json()["code"] == "validation_error"
        assert c.get("/v1/webhook-endpoints").json()["data"] == []
        made = c.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook"})
        assert made.status_code in (200, 201), made.text
        listed = c.get("/v1/webhook-endpoints").json()["data"]
    assert [e["types"] for e in listed] == [["*"]]


def test_a_missing_scope_is_403_not_authorized_on_every_endpoint_r1_4(server: Server) -> None:
    reader = server.key("reader", "accounts:read")
    with server.client(reader) as c:
        for method, path, body in (("GET", "/v1/events", None), ("GET", "/metrics", None),
                                   ("POST", "/v1/billing-runs", {"through": "2016-05-01"}),
                                   ("GET", "/v1/policy", None)):
            r = c.request(method, path, json=body)
            assert r.status_code == 403, path
            assert r.json()["code"] == "not_authorized" and r.json()["rule"] == "R-1.4", path


def test_a_key_bound_to_an_actor_previews_only_as_that_person_r1_5(server: Server) -> None:
    bound = server.key("owner-app", "accounts:read", actor="owner-1")
    job = {"type": "post_job", "account_id": "ag-1", "job_id": "j-1", "at": "2016-05-02"}
    with server.client(bound) as c:
        r = c.post("/v1/commands/preview", json={**job, "actor": "someone-else"})
        assert r.status_code == 403 and r.json()["code"] == "not_authorized"
        assert r.json()["rule"] == "R-1.5"
        r = c.post("/v1/commands/preview", json=job)  # the actor defaults to the key's
        assert r.status_code == 200, r.text
        assert "not_authorized" not in r.text


def test_list_filters_refuse_values_no_account_can_have(server: Server, store: str) -> None:
    from tests.service.conftest import ledger_cli

    reader = server.key("reader", "accounts:read")
    with server.client(reader) as c:
        assert c.get("/v1/accounts", params={"kind": "agency"}).json()["data"][0][
            "account_id"] == "ag-1"
        for name, value in (("kind", "robot"), ("plan", "gold"), ("status", "zz")):
            r = c.get("/v1/accounts", params={name: value})
            assert r.status_code == 422, (name, r.text)
            assert r.json()["code"] == "validation_error" and name in r.json()["detail"]
    out = ledger_cli(store, "accounts", "--kind", "robot")
    assert out.returncode == 2 and "kind: one of freelancer" in out.stderr


def test_the_statement_follows_the_accept_headers_preferences(server: Server) -> None:
    reader = server.key("reader", "accounts:read")
    path = "/v1/accounts/fl-1/statement"
    with server.client(reader) as c:
        for accept, csv in (("text/csv", True), ("text/csv;q=0.9, application/json", False),
                            ("application/json", False), ("text/csv, */*;q=0.1", True),
                            ("text/csv;q=0, */*", False)):
            r = c.get(path, headers={"Accept": accept})
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith(
                "text/csv" if csv else "application/json"), accept


def test_a_statement_range_the_wrong_way_round_is_refused(server: Server, store: str) -> None:
    from tests.helpers import ROOT

    reader = server.key("reader", "accounts:read")
    with server.client(reader) as c:
        r = c.get("/v1/accounts/fl-1/statement", params={"from": "2016-04-01",
                                                         "to": "2016-03-01"})
        assert r.status_code == 422 and "after" in r.json()["detail"]
        ok = c.get("/v1/accounts/fl-1/statement", params={"from": "2016-03-01",
                                                          "to": "2016-04-01"})
        assert ok.status_code == 200 and ok.json()["data"]
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "replay_tools.cli", "--store", store,
                          "statement", "fl-1", "--from", "2016-04-01", "--to", "2016-03-01"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert out.returncode == 2 and "is after --to" in out.stderr


def test_head_answers_like_get(server: Server) -> None:
    with server.client() as c:
        head = c.head("/healthz")
        assert head.status_code == 200 and head.content == b""
        assert c.get("/healthz").json() == {"status": "ok"}
        # every GET path answers HEAD with its status and headers, no content
        assert c.head("/v1/policy").status_code == 401
        key = server.key("reader", "accounts:read")
        view = c.get("/v1/accounts/fl-1", headers={"Authorization": f"Bearer {key}"})
        head = c.head("/v1/accounts/fl-1", headers={"Authorization": f"Bearer {key}"})
        assert head.status_code == 200 and head.content == b""
        assert head.headers["etag"] == view.headers["etag"]
        assert c.head("/v1/commands").status_code == 405  # POST only


def test_openapi_names_the_bearer_scheme_and_problem_answers(server: Server) -> None:
    with server.client() as c:
        schema = c.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # The paths as HTTP.md writes them, `{id}` included
    assert {"/v1/accounts/{id}", "/v1/accounts/{id}/events", "/v1/accounts/{id}/statement",
            "/v1/webhook-endpoints/{id}", "/v1/webhook-endpoints/{id}/deliveries"} <= set(
        schema["paths"])
    view = schema["paths"]["/v1/accounts/{id}"]["get"]
    assert view["security"] == [{"bearerAuth": []}]
    for status in ("401", "403", "404", "422"):
        content = view["responses"][status]["content"]
        assert content["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    assert "security" not in schema["paths"]["/healthz"]["get"]
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code", "rule"} <= set(problem["required"])
    with server.client() as c:  # and an answer has that shape
        refused = c.get("/v1/accounts/fl-1")
    assert refused.status_code == 401
    assert set(problem["required"]) <= set(refused.json())


def test_feed_data_leaves_out_the_event_librarys_bookkeeping(server: Server) -> None:
    key = server.key("feed", "events:read")
    with server.client(key) as c:
        events = c.get("/v1/events", params={"types": "AccountOpened"}).json()["data"]
    assert events and all(e["name"] == "AccountOpened" for e in events)
    for event in events:
        assert "originator_topic" not in event["data"], event
        assert event["data"]["account_id"] == event["account_id"]


def test_console_requests_are_logged_with_their_principal(server: Server) -> None:
    server.key("support", "accounts:read")
    with server.client() as c:
        form = c.get("/console/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None, form.text
        signed = c.post("/console/sign-in", data={"secret": server.keys["support"],
                                                  "csrf": csrf.group(1)})
        assert signed.status_code == 303, signed.text
        assert c.get("/console/search", params={"q": "fl-"}).status_code == 200
    lines = [json.loads(line) for line in server.log().splitlines()
             if line.startswith("{") and '"/console/search"' in line]
    assert lines and lines[-1]["principal"] == server.key_ids["support"]
    assert server.keys["support"] not in server.log()


def test_positions_beyond_64_bits_are_refused_not_a_500(server: Server) -> None:
    key = server.key("reader", "accounts:read", "events:read")
    with server.client(key) as c:
        for path, params in (("/v1/accounts/fl-1/events", {"after_version": 2**63}),
                             ("/v1/events", {"after": 2**64}),
                             ("/v1/events", {"cursor": str(2**63)})):
            r = c.get(path, params=params)
            assert r.status_code == 422, (path, params, r.text)
            assert r.json()["code"] == "validation_error"
        assert c.get("/v1/events", params={"after": 2**63 - 1}).json()["data"] == []


def test_a_key_with_no_write_scope_may_send_no_command_r1_4(server: Server) -> None:
    reader = server.key("reader", "accounts:read", "events:read")
    with server.client(reader) as c:
        for body in ({"type": "credit_earnings", "account_id": "fl-1", "amount": "1.00",
                      "at": "2016-05-02"}, {"type": "no_such_thing"}, [1, 2]):
            r = c.post("/v1/commands", json=body)
            assert r.status_code == 403, (body, r.text)
            assert r.json()["code"] == "not_authorized" and r.json()["rule"] == "R-1.4"
        # nothing was recorded for the refused command
        history = c.get("/v1/accounts/fl-1/events", params={"limit": 1000}).json()["data"]
        assert all(e["name"] != "EarningsCredited" or e["data"].get("amount") != "1.00"
                   for e in history)


def test_bodies_that_are_not_a_command_are_validation_errors(server: Server) -> None:
    key = server.key("ops", "accounts:read", "operations:write", "audit:run")
    deep = "[" * 5000 + "]" * 5000
    with server.client(key) as c:
        for body in ("[1, 2]", '"a string"', "42"):
            r = c.post("/v1/commands/preview", content=body,
                       headers={"Content-Type": "application/json"})
            assert r.status_code == 422 and r.json()["code"] == "validation_error", body
        r = c.post("/v1/audits", content=deep, headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
        # a command the ledger would refuse is still a preview: 200 with ok false
        r = c.post("/v1/commands/preview", json={"type": "credit_earnings",
                                                  "account_id": "fl-1", "amount": "-1"})
        assert r.status_code == 200 and r.json()["ok"] is False, r.text


def test_a_card_number_in_a_path_is_neither_answered_nor_logged_r8_9(server: Server) -> None:
    key = server.key("reader", "accounts:read")
    pan = "4111111111111111"
    with server.client(key) as c:
        r = c.get(f"/v1/accounts/{pan}")
        assert r.status_code == 404 and pan not in r.text
        r = c.get(f"/v1/no-such-{pan}")
        assert r.status_code == 404 and pan not in r.text
    assert pan not in server.log()


def test_if_match_takes_a_star_a_list_and_compares_strongly_r8_3(server: Server) -> None:
    key = server.key("app", "accounts:write", "accounts:read")
    with server.client(key) as c:
        for n, (header, status) in enumerate((("*", 200), ('"999", "998"', 412),
                                             ("garbage", 412))):
            etag = c.get("/v1/accounts/fl-1").headers["etag"]
            buy = {"type": "purchase_connects", "account_id": "fl-1", "quantity": 10,
                   "command_id": f"im-list-{n}", "at": "2016-05-01"}
            for value in (header, f'"999", {etag}'):
                r = c.post("/v1/commands", json=buy, headers={"If-Match": value})
                if value == header:
                    assert r.status_code == status, (header, r.text)
                    if status == 200:
                        break
                else:
                    assert r.status_code == 200, (value, r.text)
        etag = c.get("/v1/accounts/fl-1").headers["etag"]
        weak = {"type": "purchase_connects", "account_id": "fl-1", "quantity": 10,
                "command_id": "im-weak", "at": "2016-05-01"}
        r = c.post("/v1/commands", json=weak, headers={"If-Match": f"W/{etag}"})
        assert r.status_code == 412 and r.json()["code"] == "version_mismatch"


def test_history_data_holds_the_events_own_fields_only(server: Server) -> None:
    rows = _history_after_a_grant(server, "fl-1", 2, "goodwill")
    assert rows[0]["name"] == "AccountOpened"
    for row in rows:
        assert not {"originator_topic", "command_reason", "principal"} & set(row["data"]), row
    assert rows[-1]["reason"] == "goodwill"


def test_an_unknown_event_type_in_the_feed_filter_is_refused(server: Server) -> None:
    key = server.key("feed", "events:read")
    with server.client(key) as c:
        r = c.get("/v1/events", params={"types": "AccountOpened,Nope"})
        assert r.status_code == 422 and "Nope" in r.json()["detail"], r.text
        assert c.get("/v1/events", params={"types": "AccountOpened"}).json()["data"]


def test_a_store_that_stops_answering_is_503_and_the_service_recovers(tmp_path: Path) -> None:
    """PostgreSQL refusing every connection mid-run: 503 store_unavailable, then the same
    command accepted once the database is back, recorded once."""
    import psycopg

    from tests.service.conftest import start_server, stop_server
    from tests.stores import file_or_postgres_store

    store = next(file_or_postgres_store("postgres", tmp_path, ""))
    seed(store)
    # A short connect timeout, so that the library's own retries give up in seconds.
    server = start_server(store + "?connect_timeout=1", tmp_path)
    database = store.rsplit("/", 1)[1]
    admin_url = store.rsplit("/", 1)[0] + "/postgres"
    key = server.key("app", "operations:write", "accounts:read")
    earn = {"type": "credit_earnings", "account_id": "fl-1", "amount": "2.00",
            "at": "2016-05-02", "command_id": "during-outage"}
    try:
        with psycopg.connect(admin_url, autocommit=True) as admin, server.client(key) as c:
            assert c.get("/v1/accounts/fl-1").status_code == 200
            try:
                admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = %s", (database,))
                r = c.post("/v1/commands", json=earn)
                assert r.status_code == 503, r.text
                assert r.json()["code"] == "store_unavailable" and r.headers["retry-after"]
                assert "postgresql://" not in r.text and database not in r.text
                ready = httpx.get(f"{server.url}/readyz", timeout=30)
                assert ready.status_code == 503 and ready.headers["retry-after"] == "5"
            finally:
                admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            for _ in range(30):  # the pool reconnects on its own
                r = c.post("/v1/commands", json=earn)
                if r.status_code != 503:
                    break
            assert r.status_code == 200 and r.json()["duplicate"] is False, r.text
            rows = c.get("/v1/accounts/fl-1/events", params={"limit": 1000}).json()["data"]
        assert [e["name"] for e in rows].count("EarningsCredited") == 1
    finally:
        stop_server(server)


def test_a_json_body_is_read_whatever_its_content_type(server: Server) -> None:
    """`curl -d` sends form encoding; every /v1 body is read as JSON all the same."""
    key = server.key("ops", "billing:run", "audit:run", "admin", "operations:write")
    with server.client(key) as c:
        for path, body in (("/v1/billing-runs", {"through": "2016-05-01"}),
                           ("/v1/audits", {}),
                           ("/v1/commands", {"type": "credit_earnings", "account_id": "fl-1",
                                             "amount": "1.00", "at": "2016-05-02"})):
            for content_type in ("application/x-www-form-urlencoded", "text/plain", None):
                headers = {"Content-Type": content_type} if content_type else {}
                r = c.post(path, content=json.dumps(body), headers=headers)
                assert r.status_code == 200, (path, content_type, r.text)
        r = c.post("/v1/webhook-endpoints", content=json.dumps(
            {"url": "http://127.0.0.1:9/hook", "types": ["*"]}),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 201 and r.json()["secret"].startswith("whsec_"), r.text


def test_a_batch_element_that_is_not_an_object_is_refused_as_such(server: Server) -> None:
    key = server.key("ops", "operations:write")
    earn = {"type": "credit_earnings", "account_id": "fl-1", "amount": "1.00",
            "at": "2016-05-02"}
    with server.client(key) as c:
        r = c.post("/v1/commands/batch", json=["notanobject", 7, earn,
                                               json.dumps(earn)])
    assert r.status_code == 200, r.text
    results = r.json()
    assert [x["ok"] for x in results] == [False, False, True, False]
    for refused in (results[0], results[1], results[3]):
        assert refused["error"]["code"] == "validation_error"
        assert "must be a JSON object" in refused["error"]["message"], refused


def test_a_declined_charge_answers_402_with_its_charge_id_r9_2(server: Server) -> None:
    key = server.key("app", "accounts:write", "accounts:read")
    with server.client(key) as c:
        assert c.post("/v1/commands", json={
            "type": "add_billing_method", "account_id": "fl-2", "method_id": "m-bad",
            "method": "card", "brand": "visa", "last4": "0002", "exp_month": 12,
            "exp_year": 2030, "token": "tok_decline_http", "at": "2016-05-01"}
        ).status_code == 200
        r = c.post("/v1/commands", json={"type": "upgrade_plan", "account_id": "fl-2",
                                         "command_id": "up-declined", "at": "2016-05-02"})
        assert r.status_code == 402 and r.json()["code"] == "payment_failed", r.text
        history = c.get("/v1/accounts/fl-2/events", params={"limit": 1000}).json()["data"]
        statement = c.get("/v1/accounts/fl-2/statement").json()["data"]
    failed = [e for e in history if e["name"] == "PaymentFailed"]
    assert failed and failed[-1]["data"]["charge_id"] == r.json()["charge_id"]
    # the statement says why, as the history does
    line = next(m for m in statement if m["version"] == failed[-1]["version"])
    assert line["reason"] == failed[-1]["reason"] == "declined by the payment gateway"
    import hashlib
    assert r.json()["charge_id"] == "ch_" + hashlib.sha256(
        b"cmd:up-declined:upgrade").hexdigest()[:24]


def test_an_altered_account_stream_is_named_in_the_answer_r8_8(tmp_path: Path) -> None:
    import sqlite3

    from ledger.account import account_uuid
    from tests.service.conftest import start_server, stop_server

    store = f"sqlite:///{tmp_path / 'altered.db'}"
    seed(store)
    stream = account_uuid("fl-1").hex
    with sqlite3.connect(tmp_path / "altered.db") as db:  # versions 1 and 2 swapped
        for old, new in ((1, -1), (2, 1), (-1, 2)):
            db.execute("UPDATE stored_events SET originator_version = ? WHERE "
                       "originator_id = ? AND originator_version = ?", (new, stream, old))
    server = start_server(store, tmp_path)
    try:
        key = server.key("ops", "operations:write")
        with server.client(key) as c:
            r = c.post("/v1/commands", json={"type": "credit_earnings", "account_id": "fl-1",
                                             "amount": "1.00", "at": "2016-05-02"})
        assert r.status_code == 500, r.text
        assert "account fl-1 do not replay" in r.json()["detail"]
        assert "Traceback" not in server.log()
    finally:
        stop_server(server)


def test_serve_says_where_it_listens(server: Server) -> None:
    line = next((ln for ln in server.log().splitlines() if ln.startswith("ledger serve:")),
                None)
    assert line is not None, server.log()
    assert server.url in line and "1 worker" in line and "/console" in line


def test_an_invalid_command_is_a_validation_error_before_a_scope_refusal_r8_5(
        server: Server) -> None:
    """R-8.5 puts validation_error first: a command the key may not send, but which is
    not valid either, is 422; a valid one is 403 (and says nothing of the account)."""
    writer = server.key("writer", "accounts:write")
    ops = server.key("ops", "operations:write")
    bound = server.key("bound", "accounts:write", actor="owner-1")
    grant = {"type": "grant_connects", "account_id": "fl-1", "quantity": 2,
             "reason": "goodwill", "at": "2016-05-02"}
    buy = {"type": "purchase_connects", "account_id": "fl-1", "quantity": 10,
           "at": "2016-05-02"}
    job = {"type": "post_job", "account_id": "ag-1", "job_id": "j-9", "at": "2016-05-02",
           "actor": "someone-else"}
    for key, valid, invalid in ((writer, grant, {**grant, "bogus": 1}),
                                (ops, buy, {**buy, "quantity": -3}),
                                (bound, job, {**job, "job_id": "not an id!"})):
        with server.client(key) as c:
            r = c.post("/v1/commands", json=invalid)
            assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
            r = c.post("/v1/commands", json=valid)
            assert r.status_code == 403 and r.json()["code"] == "not_authorized", r.text
            r = c.post("/v1/commands", json={**valid, "account_id": "nobody-here"})
            assert r.status_code == 403, r.text  # not 404: nothing said of the account


def test_a_billing_run_records_the_key_that_ran_it_r8_6(server: Server) -> None:
    runner = server.key("biller", "billing:run", "accounts:read")
    with server.client(runner) as c:
        r = c.post("/v1/billing-runs", json={"through": "2016-05-01"})
        assert r.status_code == 200 and r.json()["events"] > 0, r.text
        rows = c.get("/v1/accounts/fl-1/events", params={"limit": 1000}).json()["data"]
    billed = [e for e in rows if e["at"] >= "2016-04-01"]  # the seed's own end in March
    assert billed and all(e["principal"] == server.key_ids["biller"] for e in billed), rows


def test_if_match_tells_nothing_to_a_key_that_may_not_send_the_command(
        server: Server) -> None:
    ops = server.key("ops", "operations:write")
    bad = {"type": "upgrade_plan", "account_id": "fl-1", "bogus": 1}
    with server.client(ops) as c:
        for account in ("fl-1", "nobody-here"):
            r = c.post("/v1/commands", json={**bad, "account_id": account},
                       headers={"If-Match": '"99"'})
            assert r.status_code == 422 and "version" not in r.json()["detail"], r.text


def test_the_feed_takes_a_star_for_every_type(server: Server) -> None:
    key = server.key("feed", "events:read")
    with server.client(key) as c:
        every = c.get("/v1/events", params={"limit": 1000}).json()["data"]
        starred = c.get("/v1/events", params={"limit": 1000, "types": "*"})
        assert starred.status_code == 200, starred.text
    assert starred.json()["data"] == every and every


def test_an_idempotency_conflict_comes_before_a_scope_refusal_r8_5(server: Server) -> None:
    app = server.key("app", "accounts:write")
    ops = server.key("ops", "operations:write")
    buy = {"type": "purchase_connects", "account_id": "fl-1", "quantity": 10,
           "at": "2016-05-02", "command_id": "buy-r85"}
    with server.client(app) as c:
        assert c.post("/v1/commands", json=buy).status_code == 200
    with server.client(ops) as c:
        other = {**buy, "quantity": 20}
        r = c.post("/v1/commands", json=other)
        assert r.status_code == 409 and r.json()["code"] == "idempotency_conflict", r.text
        r = c.post("/v1/commands", json=buy)  # the same content: still not this key's
        assert r.status_code == 403 and r.json()["code"] == "not_authorized", r.text
        batch = c.post("/v1/commands/batch", json=[other, buy]).json()
        assert [x["error"]["code"] for x in batch] == ["idempotency_conflict",
                                                       "not_authorized"]
