"""docs/ and the README are kept true by these tests: the generated command reference,
the rule ids, every relative link, and the module map."""

from __future__ import annotations

import re
from pathlib import Path

from ledger import docs_gen

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RULE_ID = re.compile(r"\bR-\d+(?:\.\d+)?\b")
CODE_DIRS = ("ledger", "replay_tools", "projections", "service", "webhooks")


def test_commands_md_is_what_the_models_generate() -> None:
    # A new command, field or error code changes the rendering: regenerate the file.
    assert (DOCS / "commands.md").read_text(encoding="utf-8") == docs_gen.render(), (
        "docs/commands.md is out of date: run `python -m ledger.docs_gen`")


def test_every_command_type_has_a_section() -> None:
    from ledger.commands import MODEL_OF_TYPE

    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    assert {t for t in MODEL_OF_TYPE if f"## `{t}`" not in text} == set()


def test_cancel_job_says_its_reason_is_the_kind_of_cancellation_not_free_text() -> None:
    """R-5.5 and R-8.6: every command's `reason` is free text, but on `cancel_job` it
    keeps its meaning (the kind of cancellation), and the docs say so."""
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    section = text.split("## `cancel_job`", 1)[1].split("\n## ", 1)[0]
    assert "keeps its meaning" in section and "not free text" in section
    assert "`cancelled_without_hire`" in section and "`removed_by_marketplace`" in section
    common = text.split("## ", 1)[0]
    assert "except on `cancel_job`" in common


def rule_rows() -> dict[str, tuple[str, str]]:
    """id -> (enforced in, tested in), from the tables of docs/rules.md."""
    rows = {}
    for line in (DOCS / "rules.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| R-") and len(cells) == 4:
            rows[cells[0]] = (cells[2], cells[3])
    return rows


def cited(dirs: tuple[str, ...]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for d in dirs:
        for path in (ROOT / d).rglob("*.py"):
            for rule in RULE_ID.findall(path.read_text(encoding="utf-8")):
                found.setdefault(rule, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_rule_id_in_code_and_tests_is_documented() -> None:
    documented = set(rule_rows())
    unknown = {r: sorted(p) for r, p in cited((*CODE_DIRS, "tests")).items()
               if r not in documented}
    assert unknown == {}, "cited but not in docs/rules.md"


def test_every_documented_rule_names_real_modules_and_a_test_that_cites_it() -> None:
    by_tests = cited(("tests",))
    problems = []
    for rule, (enforced, tested) in rule_rows().items():
        for module in re.findall(r"[\w/]+\.py", enforced):
            if not (ROOT / module).is_file():
                problems.append(f"{rule}: {module} does not exist")
        if tested == "not yet":
            if rule in by_tests:  # the doc must follow the tests
                problems.append(f"{rule}: now cited by {sorted(by_tests[rule])}; name one")
            continue
        for test in re.findall(r"[\w/]+\.py", tested) or [tested]:
            path = ROOT / test
            ids = RULE_ID.findall(path.read_text()) if path.is_file() else []
            if not any(i == rule or i.startswith(rule + ".") for i in ids):  # groups: any
                problems.append(f"{rule}: {test} does not cite it")
    assert problems == []


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_every_relative_link_of_readme_and_docs_resolves_inside_the_repository() -> None:
    broken = []
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for target in links(page):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            resolved = (page.parent / target.split("#")[0]).resolve()
            if not resolved.exists() or ROOT.resolve() not in resolved.parents:
                broken.append(f"{page.name}: {target}")
        assert "shared/spec" not in page.read_text(encoding="utf-8"), page
    assert broken == []


def module_map() -> list[str]:
    """The paths the README's module map names ("How it is built")."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## How it is built", 1)[1].split("```", 2)[1]
    paths: list[str] = []
    top = ""
    for line in block.splitlines():
        if not line.strip() or line.startswith(" " * 6):
            continue  # blank, or a description continued
        names = re.split(r"\s{2,}", line.strip())[0]
        for name in (n.strip() for n in names.split(",")):
            if line.startswith(" "):
                paths.append(top + name)
            else:
                top = name if name.endswith("/") else ""
                paths.append(name)
    return paths


def test_the_readme_module_map_matches_the_tree() -> None:
    named = module_map()
    assert [p for p in named if not (ROOT / p).exists()] == []
    packages = sorted(f"{d.name}/" for d in ROOT.iterdir()
                      if (d / "__init__.py").is_file() or d.name in ("docs", "tests"))
    assert [p for p in packages if p not in named] == [], "add them to the module map"
    ledger_modules = sorted(
        f"ledger/{p.name}" + ("/" if p.is_dir() else "") for p in (ROOT / "ledger").iterdir()
        if (p.suffix in (".py", ".json") and p.name != "__init__.py")
        or (p / "__init__.py").is_file())
    assert [m for m in ledger_modules if m not in named] == [], "add them to the module map"
