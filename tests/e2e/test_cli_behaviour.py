"""`ledger` and `ledger-replay` behave like good Unix tools, run as a user runs them:
closed pipes, one-line usage errors, help for every option, reads that never create a
store, no lock file left behind, instants in range, errors blamed on the right thing."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.cli import build_parser as ledger_parser
from ledger.cli import opened
from replay_tools.cli import build_parser as replay_parser

CLOCK = "2016-06-01"


def run(cwd: Path, tool: str, *args: str, stdin: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    module = {"ledger": "ledger.cli", "ledger-replay": "replay_tools.cli"}[tool]
    return subprocess.run([sys.executable, "-m", module, *args], input=stdin,
                          capture_output=True, text=True, cwd=cwd, timeout=300, check=False,
                          env={**os.environ, **(env or {})})


def read_one_line_then_close(cwd: Path, *args: str) -> tuple[str, int, str]:
    """What `ledger ARGS | head -1` does to the ledger: read a line, close the pipe."""
    proc = subprocess.Popen([sys.executable, "-m", "ledger.cli", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline().decode()
    proc.stdout.close()
    code = proc.wait(timeout=300)
    return first, code, proc.stderr.read().decode()


def opens(n: int) -> str:
    return "".join(json.dumps({"type": "open_account", "account_id": f"fl-{i}",
                               "kind": "freelancer", "at": "2016-03-01",
                               "command_id": f"c-{i}"}) + "\n" for i in range(n))


def exists(cwd: Path, account: str) -> bool:
    done = run(cwd, "ledger", "--clock", CLOCK, "show", account)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode == 0


# -- closed pipes -----------------------------------------------------------------------


def test_submit_into_a_closed_pipe_stops_between_chunks_quietly(tmp_path: Path) -> None:
    # Given 2,500 commands (the CLI commits them in chunks of 1,000)
    (tmp_path / "big.jsonl").write_text(opens(2500))
    # When the reader of the results goes away after one line (`| head -1`)
    first, code, err = read_one_line_then_close(tmp_path, "--clock", CLOCK, "submit",
                                                "big.jsonl")
    # Then the ledger ends as SIGPIPE ends a process, saying nothing, blaming no store
    assert json.loads(first)["account_id"] == "fl-0"
    assert code == -signal.SIGPIPE, err
    assert err == ""
    # And it stopped between two chunks: the first chunk whole, nothing of the next
    assert exists(tmp_path, "fl-0") and exists(tmp_path, "fl-999")
    assert not exists(tmp_path, "fl-1000")
    # And sending the file again completes it: the first chunk comes back as duplicates
    again = run(tmp_path, "ledger", "--clock", CLOCK, "submit", "big.jsonl")
    results = [json.loads(line) for line in again.stdout.splitlines()]
    assert [r["duplicate"] for r in results].count(True) == 1000
    assert all(r["ok"] for r in results) and exists(tmp_path, "fl-2499")


@pytest.mark.parametrize("reader", [["history", "fl-1"], ["policy", "show"]])
def test_reads_into_a_closed_pipe_end_quietly(tmp_path: Path, reader: list[str]) -> None:
    # Given an account with a long history (more than a pipe buffer of text)
    credits = "".join(json.dumps({"type": "credit_earnings", "account_id": "fl-1",
                                  "amount": "1.00", "at": "2016-03-02"}) + "\n"
                      for _ in range(1200))
    assert run(tmp_path, "ledger", "--clock", CLOCK, "submit",
               stdin=opens(2) + credits).returncode == 0
    # When it is read into `head -1`
    first, code, err = read_one_line_then_close(tmp_path, "--clock", CLOCK, *reader)
    # Then the pipe's close ends the reader quietly, with SIGPIPE's status, or not at all
    # (a short output may fit the pipe's buffer and finish first)
    assert first
    assert code in (0, -signal.SIGPIPE) and err == "", err


# -- usage errors and help --------------------------------------------------------------


@pytest.mark.parametrize(("tool", "args", "says"), [
    ("ledger", ["show"], "ACCOUNT"),
    ("ledger", ["frobnicate"], "frobnicate"),
    ("ledger", ["submit", "--nope"], "--nope"),
    ("ledger", ["run-billing"], "--through"),
    ("ledger", ["demo", "--accounts", "many"], "--accounts"),
    ("ledger-replay", ["balance", "fl-1"], "--as-of"),
    ("ledger-replay", [], "COMMAND"),
])
def test_a_usage_error_is_one_line_and_exit_2(tmp_path: Path, tool: str, args: list[str],
                                              says: str) -> None:
    done = run(tmp_path, tool, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{tool}: ") and says in lines[0]
    assert "usage:" not in done.stderr


def subcommand_parsers(parser: argparse.ArgumentParser,
                       path: str) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += subcommand_parsers(child, f"{path} {name}")
    return found


@pytest.mark.parametrize("parser", [ledger_parser(), replay_parser()],
                         ids=["ledger", "ledger-replay"])
def test_every_option_of_every_subcommand_has_a_help_text(
        parser: argparse.ArgumentParser) -> None:
    missing = []
    for path, p in subcommand_parsers(parser, parser.prog):
        for action in p._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            if not (action.help or "").strip():
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_subcommands_are_added_by_registration_hooks() -> None:
    # Other modules add their subcommands the same way: register(subparsers)
    from ledger import cli

    names = {name for _, p in subcommand_parsers(ledger_parser(), "ledger")
             for name in [p.prog.split()[-1]]}
    assert {"submit", "show", "history", "run-billing", "policy", "demo"} <= names
    assert cli.register in cli.registrars()
    parsed = ledger_parser().parse_args(["show", "fl-1"])
    assert parsed.run is cli._show


# -- stores that do not exist, lock files -----------------------------------------------


@pytest.mark.parametrize(("tool", "args"), [
    ("ledger", ["show", "fl-1"]),
    ("ledger", ["show", "fl-1", "--as-of", "2016-03-01", "--json"]),
    ("ledger", ["history", "fl-1"]),
    ("ledger-replay", ["audit"]),
    ("ledger-replay", ["statement", "fl-1"]),
    ("ledger-replay", ["balance", "fl-1", "--as-of", "2016-03-01"]),
])
def test_a_read_never_creates_a_store(tmp_path: Path, tool: str, args: list[str]) -> None:
    # When a read names a mistyped SQLite path
    done = run(tmp_path, tool, "--store", "sqlite:///ledgr.db", *args)
    # Then both tools give the same one-line answer, and no file appears
    assert done.returncode == 2
    assert done.stderr == f"{tool}: ledgr.db: store does not exist\n"
    assert sorted(os.listdir(tmp_path)) == []


def test_no_lock_file_is_left_in_the_working_folder(tmp_path: Path) -> None:
    assert run(tmp_path, "ledger", "--clock", CLOCK, "submit", stdin=opens(1)).returncode == 0
    assert run(tmp_path, "ledger", "--clock", CLOCK, "show", "fl-0").returncode == 0
    assert run(tmp_path, "ledger-replay", "audit").returncode == 0
    assert sorted(os.listdir(tmp_path)) == ["ledger.db"]
    ignored = (Path(__file__).parents[2] / ".gitignore").read_text().split()
    assert "*.schema-lock" in ignored and "*.db" in ignored


def test_opened_store_is_closed_when_a_read_fails(tmp_path: Path) -> None:
    # The context manager the subcommands share closes the store on the way out
    args = argparse.Namespace(store=f"sqlite:///{tmp_path / 'x.db'}", clock=None, policy=None)
    with pytest.raises(RuntimeError), opened(args, existing=False) as led:
        raise RuntimeError
    assert led is not None


# -- instants, output files, command types ----------------------------------------------


@pytest.mark.parametrize(("tool", "args", "option"), [
    ("ledger", ["show", "fl-0", "--as-of", "9999-12-31T23:59:59Z"], "--as-of"),
    ("ledger", ["show", "fl-0", "--known-at", "0001-01-01"], "--known-at"),
    ("ledger", ["show", "fl-0", "--as-of", "yesterday"], "--as-of"),
    ("ledger", ["run-billing", "--through", "9999-12-31"], "--through"),
    ("ledger-replay", ["balance", "fl-0", "--as-of", "9999-12-31T23:59:59Z"], "--as-of"),
    ("ledger-replay", ["statement", "fl-0", "--to", "99999-01-01"], "--to"),
    ("ledger-replay", ["audit", "--through", "9999-12-31T23:59:59Z"], "--through"),
])
def test_an_instant_out_of_range_is_a_usage_error(tmp_path: Path, tool: str,
                                                  args: list[str], option: str) -> None:
    assert run(tmp_path, "ledger", "--clock", CLOCK, "submit", stdin=opens(1)).returncode == 0
    done = run(tmp_path, tool, "--clock", CLOCK, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"{tool}: {option}: ") and done.stderr.count("\n") == 1
    assert "internal error" not in done.stderr and "Error" not in done.stderr


def test_a_command_dated_out_of_range_is_a_validation_error(tmp_path: Path) -> None:
    line = json.dumps({"type": "open_account", "account_id": "fl-1", "kind": "freelancer",
                       "at": "9999-12-31T23:59:59Z"})
    done = run(tmp_path, "ledger", "--clock", "9998-12-31", "submit", stdin=line)
    result = json.loads(done.stdout)
    assert result["error"]["code"] == "validation_error" and "at:" in result["error"]["message"]


def test_plot_into_a_missing_folder_blames_the_file_not_the_store(tmp_path: Path) -> None:
    assert run(tmp_path, "ledger", "--clock", CLOCK, "submit", stdin=opens(1)).returncode == 0
    done = run(tmp_path, "ledger-replay", "plot", "fl-0", "--out", "nodir/x.png")
    assert done.returncode == 2
    assert done.stderr.startswith("ledger-replay: --out: ") and "nodir" in done.stderr
    assert "store" not in done.stderr


def test_bad_lines_get_their_line_number_and_readable_account(tmp_path: Path) -> None:
    text = ("\n" + opens(1)
            + json.dumps({"type": "make_tea", "account_id": "fl-0"}) + "\n\n"
            + '{"type": "open_account", "account_id": "fl-9", "kind": \n'
            + "not json at all\n")
    done = run(tmp_path, "ledger", "--clock", CLOCK, "submit", stdin=text)
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["line"] for r in results] == [2, 3, 5, 6]
    unknown_type, broken, garbage = results[1:]
    assert unknown_type["account_id"] == "fl-0"
    assert unknown_type["error"]["code"] == "validation_error"
    assert unknown_type["error"]["rule"] == "R-1.4"  # the kinds of command; not
    assert broken["account_id"] == "fl-9" and broken["error"]["code"] == "validation_error"
    assert garbage["account_id"] is None


def test_a_json_array_gets_positions_as_lines(tmp_path: Path) -> None:
    items: list[Any] = [json.loads(line) for line in opens(2).splitlines()]
    done = run(tmp_path, "ledger", "--clock", CLOCK, "submit", stdin=json.dumps(items))
    assert [json.loads(line)["line"] for line in done.stdout.splitlines()] == [1, 2]
