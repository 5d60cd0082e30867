"""R-8.7 at the HTTP edge: GET /v1/policy (admin) lists the catalog in force and the
versions the store adopted, each with its SHA-256."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.adoption import content_digest, version_content
from ledger.policy import default_catalog
from tests.service.conftest import Server, ledger_cli


def test_r8_7_the_policy_endpoint_lists_the_adopted_versions_and_their_hashes(
        server: Server) -> None:
    # The seeded store decided in March 2016: v2016 is adopted, v2019 not yet
    with server.client(server.key("ops", "admin")) as client:
        answer = client.get("/v1/policy")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    v2016 = default_catalog().named("v2016")
    assert body["adopted"] == [{"name": "v2016", "effective_from": "2016-01-01",
                                "sha256": content_digest(version_content(v2016))}]
    assert [v["name"] for v in body["catalog"]["versions"]] == ["v2016", "v2019"]


def test_r8_7_serve_refuses_a_catalog_edited_under_an_adopted_version_in_one_line(
        server: Server, tmp_path: Path) -> None:
    data = default_catalog().model_dump(mode="json")
    data["versions"][0]["plans"]["freelancer"]["plus"]["price"] = "19.99"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    done = ledger_cli(server.store, "--policy", str(edited), "serve", "--port", "1",
                      "--no-deliver")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("ledger: policy_mismatch: ")
    assert "version v2016: plans.freelancer.plus.price" in done.stderr
    assert len(done.stderr.splitlines()) == 1
