"""`rebuild` drops and rebuilds every view from the log (the chain is kept), `plot`
draws an account, and unusable input exits 2 with one line."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from tests.replay.conftest import Raw
from tests.replay.helpers import audit, run

VIEW_TABLES = ("ledger_view_accounts", "ledger_view_history", "ledger_log_chain", "tracking")


def test_rebuild_leaves_the_views_equal_to_before(capsys: pytest.CaptureFixture[str], url: str,
                                                  raw: Raw) -> None:
    before = {t: raw.table(t) for t in VIEW_TABLES}
    code, out, _ = run(capsys, "--store", url, "rebuild")
    assert code == 0
    assert f"{len(raw.table('stored_events'))} events applied" in out
    after = {t: raw.table(t) for t in VIEW_TABLES}
    assert after["ledger_view_accounts"] == before["ledger_view_accounts"]
    assert after["ledger_view_history"] == before["ledger_view_history"]
    assert set(before["ledger_log_chain"]) <= set(after["ledger_log_chain"])  # kept
    assert audit(capsys, url)[0] == 0


def test_plot_without_matplotlib_says_how_to_install_it(
        capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def no_matplotlib(name: str, *args: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr("replay_tools.plot.importlib.import_module", no_matplotlib)
    code, _, err = run(capsys, "--store", url, "plot", "fl-1", "--out", str(tmp_path / "p.png"))
    assert code == 2
    assert err.strip().count("\n") == 0 and "pip install matplotlib" in err


def test_plot_draws_a_png(capsys: pytest.CaptureFixture[str], url: str,
                          tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "fl-1.png"
    code, text, _ = run(capsys, "--store", url, "plot", "fl-1", "--out", str(out))
    assert code == 0 and "points" in text
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv", [
    ["--store", "sqlite:///{tmp}/missing.db", "audit"],
    ["--store", "postgresql://nobody@127.0.0.1:1/none", "audit"],
    ["--store", "bogus://x", "audit"],
    ["--store", "{url}", "--policy", "{tmp}/missing.json", "audit"],
    ["--store", "{url}", "--policy", "{tmp}/bad.json", "audit"],
    ["--store", "{url}", "audit", "--through", "tomorrow"],
    ["--store", "{url}", "statement", "fl-1", "--from", "May"],
])
def test_unusable_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], url: str,
                                              tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "bad.json").write_text('{"versions": [{"name": "x"}]}')
    code, out, err = run(capsys, *(a.format(tmp=tmp_path, url=url) for a in argv))
    assert code == 2
    assert out == ""
    assert err.startswith("ledger-replay: ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "missing.db").exists()  # an auditor never creates a store
