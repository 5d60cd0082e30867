"""The HTTP service of HTTP.md, driven over HTTP against a real `ledger serve` process
(R-1.4, R-1.5, R-8.6, R-8.9 at the service's edge)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.service.conftest import Server, ledger_cli, start_server, stop_server

PURCHASE = {"type": "purchase_connects", "account_id": "fl-1", "quantity": 10,
            "at": "2016-05-01"}


def problem_of(response: httpx.Response) -> dict[str, object]:
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["type"] == f"urn:ledger:error:{body['code']}"
    assert body["status"] == response.status_code
    return body


def test_keys_and_scopes_401_403_without_leaking_accounts(server: Server) -> None:
    reader = server.key("reader", "accounts:read")
    with server.client() as anonymous:
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/openapi.json").json()["openapi"].startswith("3.1")
        for path in ("/v1/accounts/fl-1", "/v1/accounts/nobody"):
            r = anonymous.get(path)
            assert r.status_code == 401 and problem_of(r)["code"] == "unauthenticated"
    with server.client("lk_not_a_key") as wrong:
        assert wrong.get("/v1/accounts/fl-1").status_code == 401
    with server.client(reader) as c:
        assert c.get("/v1/accounts/fl-1").status_code == 200
        for account in ("fl-1", "nobody"):  # 403 before any lookup: no existence leaked
            r = c.post("/v1/commands", json={**PURCHASE, "account_id": account})
            assert r.status_code == 403 and problem_of(r)["code"] == "not_authorized"
        assert c.get("/v1/events").status_code == 403
        assert c.get("/metrics").status_code == 403
        assert c.post("/v1/billing-runs", json={"through": "2016-05-01"}).status_code == 403


def test_account_actions_and_operations_need_their_own_scopes_r1_4(server: Server) -> None:
    app = server.key("app", "accounts:write", "accounts:read")
    ops = server.key("ops", "operations:write", "accounts:read")
    grant = {"type": "grant_connects", "account_id": "fl-2", "quantity": 5,
             "reason": "outage", "at": "2016-05-02"}
    with server.client(app) as c:
        r = c.post("/v1/commands", json=grant)
        assert r.status_code == 403 and problem_of(r)["rule"] == "R-1.4"
        assert c.post("/v1/commands", json=PURCHASE).status_code == 200
    with server.client(ops) as c:
        assert c.post("/v1/commands", json=PURCHASE | {"at": "2016-05-03"}).status_code == 403
        r = c.post("/v1/commands", json=grant)
        assert r.status_code == 200, r.text
        history = c.get("/v1/accounts/fl-2/events").json()["data"]
        assert history[-1]["name"] == "ConnectsGranted"
        assert history[-1]["principal"] == server.key_ids["ops"]  # the key's id


def test_a_key_bound_to_an_actor_acts_only_as_that_person_r1_5(server: Server) -> None:
    bound = server.key("owner-app", "accounts:write", "accounts:read", actor="owner-1")
    card = {"type": "add_billing_method", "account_id": "ag-1", "method_id": "m-9",
            "method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
            "exp_year": 2030, "token": "tok_9", "prepaid": False, "at": "2016-05-02"}
    with server.client(bound) as c:
        r = c.post("/v1/commands", json=card | {"actor": "someone-else"})
        assert r.status_code == 403
        r = c.post("/v1/commands", json=card)  # the actor defaults to the key's
        assert r.status_code == 200, r.text
        last = c.get("/v1/accounts/ag-1/events").json()["data"][-1]
        assert last["actor"] == "owner-1"


def test_every_status_code_of_the_contract(server: Server) -> None:
    key = server.key("all", "accounts:write", "operations:write", "accounts:read")
    with server.client(key) as c:
        r = c.post("/v1/commands", json={"type": "teleport", "account_id": "fl-1"})
        assert r.status_code == 422 and problem_of(r)["code"] == "validation_error"
        r = c.post("/v1/commands", json=PURCHASE | {"account_id": "ghost"})
        assert r.status_code == 404 and problem_of(r)["code"] == "unknown_account"
        r = c.post("/v1/commands", json=PURCHASE | {"quantity": 7})
        assert r.status_code == 422 and problem_of(r)["code"] == "invalid_bundle"
        r = c.post("/v1/commands", json=PURCHASE | {"at": "2016-03-01"})
        assert r.status_code == 409 and problem_of(r)["code"] == "backdated"
        ok = c.post("/v1/commands", json=PURCHASE, headers={"Idempotency-Key": "buy-1"})
        assert ok.status_code == 200 and ok.json()["charge_id"].startswith("ch_")
        again = c.post("/v1/commands", json=PURCHASE, headers={"Idempotency-Key": "buy-1"})
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["charge_id"] == ok.json()["charge_id"]
        r = c.post("/v1/commands", json=PURCHASE | {"quantity": 20},
                   headers={"Idempotency-Key": "buy-1"})
        assert r.status_code == 409 and problem_of(r)["code"] == "idempotency_conflict"
        r = c.post("/v1/commands", json=PURCHASE | {"command_id": "x"},
                   headers={"Idempotency-Key": "buy-2"})
        assert r.status_code == 422
        assert {k: problem_of(r)[k] for k in ("code", "command_id", "account_id", "events")} == {
            "code": "validation_error", "command_id": "buy-2", "account_id": "fl-1",
            "events": []}
        view = c.get("/v1/accounts/fl-1")
        etag = view.headers["ETag"]
        assert etag == f'"{view.json()["version"]}"'
        r = c.post("/v1/commands", json=PURCHASE | {"at": "2016-05-04"},
                   headers={"If-Match": '"1"'})
        assert r.status_code == 412 and problem_of(r)["code"] == "version_mismatch"
        r = c.post("/v1/commands", json=PURCHASE | {"at": "2016-05-04"},
                   headers={"If-Match": etag})
        assert r.status_code == 200, r.text
        declined = {"type": "add_billing_method", "account_id": "fl-2", "method_id": "m-2",
                    "method": "card", "brand": "visa", "last4": "0002", "exp_month": 1,
                    "exp_year": 2030, "token": "tok_decline_2", "prepaid": False,
                    "at": "2016-05-01"}
        assert c.post("/v1/commands", json=declined).status_code == 200
        r = c.post("/v1/commands", json={"type": "upgrade_plan", "account_id": "fl-2",
                                         "at": "2016-05-02"})
        body = problem_of(r)
        assert r.status_code == 402 and body["events"] == ["PaymentFailed"]
        assert "tok_decline" not in r.text  # tokens never in answers
        assert c.get("/v1/nothing-here").status_code == 404
        assert c.delete("/v1/accounts/fl-1").status_code == 405
        r = c.post("/v1/commands", content=b"[" * 10 + b" " * 1_100_000)
        assert r.status_code == 413
        assert c.get("/v1/accounts?limit=0").status_code == 422
        assert c.get("/v1/accounts?limit=1001").status_code == 422


def test_batch_answers_each_command_in_order_with_its_own_refusals(server: Server) -> None:
    key = server.key("batch", "accounts:write", "accounts:read")
    batch = [PURCHASE | {"command_id": "b-1"},
             {"type": "grant_connects", "account_id": "fl-1", "quantity": 1, "reason": "x",
              "at": "2016-05-02"},
             {"type": "open_account", "account_id": "fl-9", "kind": "freelancer",
              "at": "2016-05-02"}]
    with server.client(key) as c:
        r = c.post("/v1/commands/batch", json=batch)
        assert r.status_code == 200
        results = r.json()
        assert [x["ok"] for x in results] == [True, False, True]
        assert results[1]["error"]["code"] == "not_authorized"
        assert c.post("/v1/commands/batch", json={"not": "an array"}).status_code == 422


def test_views_lists_history_statement_preview_and_csv(server: Server) -> None:
    key = server.key("read", "accounts:read", "accounts:write")
    with server.client(key) as c:
        assert c.post("/v1/commands", json=PURCHASE).status_code == 200
        page = c.get("/v1/accounts", params={"kind": "freelancer", "limit": 2}).json()
        assert [v["account_id"] for v in page["data"]] == ["fl-1", "fl-2"]
        assert page["has_more"] is True
        rest = c.get("/v1/accounts", params={"kind": "freelancer",
                                             "cursor": page["next_cursor"]}).json()
        assert [v["account_id"] for v in rest["data"]] == ["owner-1"]
        assert c.get("/v1/accounts", params={"prefix": "ag"}).json()["data"][0]["kind"] == \
            "agency"
        before = c.get("/v1/accounts/fl-1", params={"as_of": "2016-03-02"}).json()
        now = c.get("/v1/accounts/fl-1").json()
        assert before["plan"] == "basic" and now["plan"] == "plus"
        events = c.get("/v1/accounts/fl-1/events", params={"limit": 3}).json()
        assert [e["version"] for e in events["data"]] == [1, 2, 3] and events["has_more"]
        more = c.get("/v1/accounts/fl-1/events",
                     params={"after_version": 3, "limit": 1000}).json()["data"]
        assert more[0]["version"] == 4
        assert all("token" not in json.dumps(e) for e in events["data"] + more)
        statement = c.get("/v1/accounts/fl-1/statement").json()["data"]
        assert any(row["event"] == "ConnectsPurchased" for row in statement)
        csv = c.get("/v1/accounts/fl-1/statement", headers={"Accept": "text/csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.splitlines()[0].startswith("version,at,event,rule")
        version = now["version"]
        preview = c.post("/v1/commands/preview", json=PURCHASE | {"at": "2016-05-05"}).json()
        assert preview["ok"] and preview["charge"]["source"] == "method"
        assert c.get("/v1/accounts/fl-1").json()["version"] == version  # nothing recorded


def test_revoked_keys_are_refused_at_the_next_request(server: Server) -> None:
    key = server.key("temp", "accounts:read")
    with server.client(key) as c:
        assert c.get("/v1/accounts/fl-1").status_code == 200
        done = ledger_cli(server.store, "keys", "revoke", server.key_ids["temp"])
        assert done.returncode == 0, done.stderr
        assert c.get("/v1/accounts/fl-1").status_code == 401
    listing = ledger_cli(server.store, "keys", "list", "--json")
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert {r["key_id"]: r["state"] for r in rows}[server.key_ids["temp"]] == "revoked"
    assert key not in listing.stdout and "hash" not in listing.stdout


def test_the_feed_pages_by_cursor_with_nothing_skipped_or_repeated(
        server: Server, tmp_path: Path) -> None:
    writer = server.key("w", "accounts:write")
    feed = server.key("feed", "events:read")
    batch = [{"type": "open_account", "account_id": f"bulk-{i}", "kind": "freelancer",
              "at": "2016-05-01"} for i in range(5000)]  # 2 events each: 10,000
    with server.client(writer) as c:
        assert c.post("/v1/commands/batch", json=batch).status_code == 200
    seen: list[int] = []
    after = 0
    with server.client(feed) as c:
        while True:
            page = c.get("/v1/events", params={"after": after, "limit": 1000}).json()
            seen += [e["id"] for e in page["data"]]
            if not page["has_more"]:
                break
            after = page["data"][-1]["id"] if page["data"] else int(page["next_cursor"])
            if len(seen) >= 4000 and len(seen) < 5000:
                # A consumer that stops here and comes back later with its `after`.
                resumed = c.get("/v1/events", params={"after": after, "limit": 5}).json()
                assert resumed["data"][0]["id"] > after
        assert len(seen) == len(set(seen)) and seen == sorted(seen)
        bulk = [e for e in c.get("/v1/events", params={"after": 0, "limit": 1000,
                                                          "types": "AccountOpened"}).json()
                ["data"]]
        assert {e["name"] for e in bulk} == {"AccountOpened"}
    assert len(seen) >= 10_000
    with server.client(feed) as c:
        every = c.get("/v1/events", params={"after": 0, "limit": 20}).json()["data"]
        assert all(e["account_id"] and "token" not in json.dumps(e) for e in every)


def test_two_servers_on_one_postgres_database_refuse_a_revoked_key(
        tmp_path: Path) -> None:
    from tests.service.conftest import seed
    from tests.stores import postgres_url_or_skip, reset_postgres

    url = postgres_url_or_skip()
    reset_postgres(url)
    seed(url)
    one, two = start_server(url, tmp_path), start_server(url, tmp_path)
    try:
        key = one.key("shared", "accounts:read", "accounts:write")
        accepted = 0
        with one.client(key) as a, two.client(key) as b:
            for i in range(20):
                for n, c in enumerate((a, b)):
                    r = c.post("/v1/commands", json={
                        "type": "open_account", "account_id": f"pg-{i}-{n}",
                        "kind": "freelancer", "at": "2016-05-01"})
                    accepted += r.status_code == 200
            ledger_cli(url, "keys", "revoke", one.key_ids["shared"])
            assert a.get("/v1/accounts/fl-1").status_code == 401
            assert b.get("/v1/accounts/fl-1").status_code == 401
        assert accepted == 40
    finally:
        stop_server(one)
        stop_server(two)
        reset_postgres(url)


def test_a_nul_in_the_path_or_the_query_is_a_validation_error(server: Server) -> None:
    """PostgreSQL text cannot hold NUL: it is refused at the edge as a 422 problem,
    never a 500 (found by schemathesis on PostgreSQL)."""
    key = server.key("reader", "accounts:read", "events:read")
    with server.client(key) as c:
        for path in ("/v1/accounts?status=%00", "/v1/accounts?prefix=fl%00",
                     "/v1/accounts/fl%00-1", "/v1/events?types=%00",
                     "/v1/accounts/fl-1/events?cursor=%00"):
            r = c.get(path)
            assert r.status_code == 422, (path, r.status_code, r.text)
            assert problem_of(r)["code"] == "validation_error"
