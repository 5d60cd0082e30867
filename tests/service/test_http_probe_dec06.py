"""HTTP fixes found by trying the service from outside (2026-12-06): If-Match decided with
the command (atomic with two workers), `*` on an account that does not exist, `Allow` on
a path with several routes, `/readyz`'s Retry-After, statements read as the CLI reads
them."""

from __future__ import annotations

import threading

import httpx

from tests.service.conftest import Server


def test_if_match_lets_exactly_one_of_racing_writers_through_two_workers(
        two_workers: Server) -> None:
    key = two_workers.key("app", "operations:write", "accounts:read")
    with two_workers.client(key) as c:
        etag = c.get("/v1/accounts/fl-2").headers["etag"]
    for round_ in range(3):
        answers: list[int] = []
        barrier = threading.Barrier(8)

        def send(i: int, etag: str = etag, round_: int = round_,
                 barrier: threading.Barrier = barrier, answers: list[int] = answers) -> None:
            # A connection of its own each, so both workers take some.
            with httpx.Client(base_url=two_workers.url, timeout=60,
                              headers={"Authorization": f"Bearer {key}"}) as c:
                barrier.wait()
                r = c.post("/v1/commands", headers={"If-Match": etag}, json={
                    "type": "credit_earnings", "account_id": "fl-2", "amount": "1.00",
                    "command_id": f"race-{round_}-{i}"})
                answers.append(r.status_code)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Then one was accepted and every other was refused on the version
        assert sorted(answers) == [200] + [412] * 7, answers
        with two_workers.client(key) as c:
            view = c.get("/v1/accounts/fl-2")
            assert view.json()["earnings"]["available"] == f"{round_ + 1}.00"
            etag = view.headers["etag"]


def test_if_match_star_does_not_open_an_account_that_does_not_exist(server: Server) -> None:
    key = server.key("app", "accounts:write", "operations:write", "accounts:read")
    with server.client(key) as c:
        opening = {"type": "open_account", "account_id": "fl-new", "kind": "freelancer"}
        for tag in ("*", '"1"'):
            r = c.post("/v1/commands", headers={"If-Match": tag}, json=opening)
            assert r.status_code == 412, r.text
            assert r.json()["code"] == "version_mismatch"
            assert "does not exist" in r.json()["detail"]
        assert c.get("/v1/accounts/fl-new").status_code == 404
        # `*` on an account that exists matches any version; another command on a
        # missing account still says so itself
        r = c.post("/v1/commands", headers={"If-Match": "*"}, json={
            "type": "credit_earnings", "account_id": "fl-2", "amount": "1.00"})
        assert r.status_code == 200, r.text
        r = c.post("/v1/commands", headers={"If-Match": "*"}, json={
            "type": "credit_earnings", "account_id": "nobody", "amount": "1.00"})
        assert r.status_code == 404 and r.json()["code"] == "unknown_account"
        # Tags compare as text (RFC 9110's strong comparison): "0<version>" is not it
        version = c.get("/v1/accounts/fl-2").json()["version"]
        credit = {"type": "credit_earnings", "account_id": "fl-2", "amount": "1.00"}
        assert c.post("/v1/commands", headers={"If-Match": f'"0{version}"'},
                      json=credit).status_code == 412
        assert c.post("/v1/commands", headers={"If-Match": f'W/"{version}", "{version}"'},
                      json=credit).status_code == 200


def test_a_wrong_method_names_every_method_of_the_path(server: Server) -> None:
    admin = server.key("ops", "admin")
    with server.client(admin) as c:
        for method in ("PATCH", "PUT", "DELETE"):
            r = c.request(method, "/v1/webhook-endpoints")
            assert r.status_code == 405
            allowed = {m.strip() for m in r.headers["allow"].split(",")}
            assert allowed == {"GET", "HEAD", "POST"}, r.headers["allow"]
            assert r.headers["content-type"].startswith("application/problem+json")


def test_statement_bounds_are_read_as_the_command_line_reads_them(server: Server) -> None:
    key = server.key("reader", "accounts:read")
    with server.client(key) as c:
        whole = c.get("/v1/accounts/fl-1/statement").json()["data"]
        assert whole
        for bad in ("1960-01-01", "9999-12-31", "yesterday"):
            r = c.get("/v1/accounts/fl-1/statement", params={"from": bad})
            assert r.status_code == 422 and r.json()["code"] == "validation_error", bad
        # A datetime is that instant; a date its whole day, on both ends
        day = whole[0]["at"][:10]
        same_day = c.get("/v1/accounts/fl-1/statement", params={"from": day, "to": day})
        instant = c.get("/v1/accounts/fl-1/statement",
                        params={"from": f"{day}T23:59:59Z", "to": f"{day}T23:59:59Z"})
        assert same_day.json()["data"] == [m for m in whole if m["at"].startswith(day)]
        assert instant.json()["data"] == [m for m in whole if m["at"] == f"{day}T23:59:59Z"]
        # A date on one end and a datetime on the other: the day from its start
        mixed = c.get("/v1/accounts/fl-1/statement",
                      params={"from": day, "to": f"{day}T23:59:59Z"})
        assert mixed.status_code == 200 and mixed.json()["data"] == same_day.json()["data"]
        later = c.get("/v1/accounts/fl-1/statement",
                      params={"from": f"{day}T00:00:01Z", "to": "2000-01-01"})
        assert later.status_code == 422 and later.json()["code"] == "validation_error"
    # and the rows are `ledger-replay statement --json`'s, field for field
    assert whole == _replay_statement(server.store)


def _replay_statement(store: str) -> list[dict[str, object]]:
    import json
    import subprocess
    import sys

    from tests.helpers import child_env
    from tests.service.conftest import CLOCK

    done = subprocess.run([sys.executable, "-m", "replay_tools.cli", "--store", store,
                           "--clock", CLOCK, "statement", "fl-1", "--json"], text=True,
                          capture_output=True, env=child_env(), timeout=120, check=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _owner_with_renewals_due_and_a_blocked_company(server: Server, s: str) -> None:
    import json

    from tests.service.conftest import ledger_cli as cli

    card = {"method": "card", "brand": "visa", "last4": "4242", "exp_month": 12,
            "exp_year": 2030, "token": f"tok_{s}"}
    lines = [
        {"type": "open_account", "account_id": f"ow-{s}", "kind": "freelancer",
         "at": "2016-01-25"},
        {"type": "add_billing_method", "account_id": f"ow-{s}", "method_id": "m1",
         "at": "2016-01-25", **card},
        {"type": "upgrade_plan", "account_id": f"ow-{s}", "at": "2016-01-25"},
        {"type": "open_account", "account_id": f"tm-{s}", "kind": "freelancer",
         "at": "2016-01-25"},
        {"type": "open_account", "account_id": f"co-{s}", "kind": "company",
         "owner_id": f"ow-{s}", "at": "2016-01-26"},
        {"type": "add_team_member", "account_id": f"co-{s}", "member_id": f"tm-{s}",
         "role": "manager", "actor": f"ow-{s}", "at": "2016-01-26"},
    ]
    done = cli(server.store, "submit", stdin="".join(json.dumps(c) + "\n" for c in lines))
    assert done.returncode == 0 and '"ok": false' not in done.stdout, done.stdout


def test_a_refused_command_records_the_same_scheduled_facts_single_or_batch(
        server: Server) -> None:
    """R-8.4 over HTTP.md's "same results": closing a company with a team member is
    refused, and the owner's renewals that fell due before it are recorded either way."""
    for s in ("a", "b"):
        _owner_with_renewals_due_and_a_blocked_company(server, s)
    key = server.key("app", "accounts:write", "accounts:read")
    with server.client(key) as c:
        single = c.post("/v1/commands", json={"type": "close_account", "account_id": "co-a",
                                              "actor": "ow-a"})
        batch = c.post("/v1/commands/batch", json=[
            {"type": "close_account", "account_id": "co-b", "actor": "ow-b"}])
        assert single.status_code == 422 and single.json()["code"] == "closure_blocked"
        in_batch = batch.json()[0]
        assert in_batch["error"]["code"] == "closure_blocked"
        # Then both name the same facts, and both owners hold them
        assert single.json()["events"] == in_batch["events"]
        assert "MembershipCharged" in single.json()["events"]
        versions = [c.get(f"/v1/accounts/ow-{s}").json()["version"] for s in ("a", "b")]
        assert versions[0] == versions[1] > 5


def test_batch_results_carry_their_line_as_ledger_submit_prints_them(server: Server) -> None:
    key = server.key("app", "accounts:write", "operations:write")
    with server.client(key) as c:
        answer = c.post("/v1/commands/batch", json=[
            {"type": "credit_earnings", "account_id": "fl-2", "amount": "1.00"},
            {"type": "credit_earnings", "account_id": "nobody", "amount": "1.00"},
            "not an object"]).json()
    assert [r["line"] for r in answer] == [1, 2, 3]
    assert [r["ok"] for r in answer] == [True, False, False]
