"""Running `ledger-replay` in-process and reading its JSON answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from replay_tools.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def audit(capsys: pytest.CaptureFixture[str], url: str, *extra: str,
          policy: str | None = None) -> tuple[int, dict[str, Any]]:
    argv = ["--store", url, *(["--policy", policy] if policy else []), "audit", "--json",
            *extra]
    code, out, err = run(capsys, *argv)
    assert "Traceback" not in err
    return code, json.loads(out)


def findings_of(report: dict[str, Any], account: str | None = None,
                category: str | None = None) -> list[dict[str, Any]]:
    return [f for f in report["findings"]
            if (account is None or f["account"] == account)
            and (category is None or f["category"] == category)]


def named(report: dict[str, Any], account: str, version: int,
          category: str | None = None) -> list[dict[str, Any]]:
    """Findings naming this account and version."""
    return [f for f in findings_of(report, account, category) if f["version"] == version]
