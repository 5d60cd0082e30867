"""Property-based tests generated from the service's own OpenAPI (schemathesis), against a
live server: no 5xx, and every answer conforms to the schema. Bounded in examples."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.service.conftest import Server

SCOPES = ("accounts:write", "operations:write", "accounts:read", "events:read",
          "billing:run", "audit:run", "admin", "metrics")


def test_generated_requests_find_no_server_error_and_no_schema_violation(
        server: Server, tmp_path: Path) -> None:
    key = server.key("fuzz", *SCOPES)
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    done = subprocess.run(
        [cli, "run", f"{server.url}/openapi.json", "--max-examples", "8",
         "--checks", "not_a_server_error,response_schema_conformance",
         "--header", f"Authorization: Bearer {key}", "--request-timeout", "60",
         "--generation-deterministic",
         "--phases", "examples,fuzzing"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "NO_COLOR": "1"}, check=False)
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    tested = re.search(r"Tested:\s+(\d+)", done.stdout)
    assert tested is not None and int(tested.group(1)) >= 12, report  # every endpoint ran
    assert re.search(r"\d+ generated, \d+ passed", done.stdout), report
