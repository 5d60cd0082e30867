"""The README's examples run as written: the console session (each `$` command's output
matches what is shown, `…` standing for any text) and the Python snippet after it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def session(block: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each `$ ` line; a heredoc belongs to its command."""
    steps: list[tuple[str, list[str]]] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.startswith("$ "):
            steps[-1][1].append(line)
            continue
        command = line[2:]
        heredoc = re.search(r"<<'(\w+)'", command)
        if heredoc:
            while lines[i] != heredoc.group(1):
                command += "\n" + lines[i]
                i += 1
            command += "\n" + lines[i]
            i += 1
        steps.append((command, []))
    return steps


def matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.split("…"))
    return re.fullmatch(pattern, actual) is not None


def test_the_console_example_runs_as_written(tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("LEDGER_STORE", None)
    (session_block,) = blocks("console")[:1]
    state = ""
    for command, expected in session(session_block):
        done = subprocess.run(["bash", "-c", f"{state}{command}"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        state = f"(exit {done.returncode}); "  # so that `echo $?` sees the last status
        actual = done.stdout.splitlines()
        assert len(actual) == len(expected), (command, done.stdout, done.stderr)
        for want, got in zip(expected, actual, strict=True):
            assert matches(want, got), (command, want, got)


def test_the_python_example_runs_as_written(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    first = blocks("console")[0]
    for command, _ in session(first):
        if command.startswith(("cat", "ledger --clock 2016-04-01 submit")):
            subprocess.run(["bash", "-c", command.replace("ledger", f"{sys.executable} -m "
                                                          "ledger.cli", 1)
                            if command.startswith("ledger") else command],
                           cwd=tmp_path, env=env, check=False, timeout=300,
                           capture_output=True)
    (snippet,) = blocks("python")[:1]
    done = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "unknown_account R-1.1\n"
