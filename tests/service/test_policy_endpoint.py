"""R-8.7 at the HTTP edge: GET /v1/policy (admin) lists the catalog in force and the
versions the store adopted, each with its SHA-256."""

from __future__ import annotations

from ledger.adoption import content_digest, version_content
from ledger.policy import default_catalog
from tests.service.conftest import Server


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
