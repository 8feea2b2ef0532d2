"""The docs name what the code has: every public name in docs/architecture.md, every
solve stage in docs/solve-pipeline.md.

The stages are read off :mod:`optimizer.solve.pipeline` without importing it: its
``STAGES`` constant, checked against the numbered list of its module docstring and the
"stage N" its methods' docstrings name, so a stage added in the code and not in
``STAGES`` (or the other way round) fails here too.
"""

from __future__ import annotations

import ast
import re

import pytest

import optimizer

from conftest import REPO

ARCHITECTURE = REPO / "docs" / "architecture.md"
SOLVE_PIPELINE = REPO / "docs" / "solve-pipeline.md"
PIPELINE = REPO / "optimizer" / "solve" / "pipeline.py"


def _section(path, heading: str) -> str:
    """The text under the markdown heading ``heading`` up to the next heading of its level or above."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"(#+)\s+(.*)", line)
        if m and m.group(2).strip().lower() == heading.lower():
            level = len(m.group(1))
            end = next((j for j in range(i + 1, len(lines))
                        if (h := re.match(r"(#+)\s", lines[j])) and len(h.group(1)) <= level), len(lines))
            return "\n".join(lines[i + 1:end])
    raise AssertionError(f"{path.name} has no heading {heading!r}")


# ------------------------------------------------------------------ public API

PUBLIC_API = _section(ARCHITECTURE, "The public API")


@pytest.mark.parametrize("name", optimizer.__all__)
def test_every_public_name_is_documented(name):
    assert f"`{name}`" in PUBLIC_API, f"optimizer.{name} is not in docs/architecture.md's public API table"


@pytest.mark.parametrize("name", sorted(optimizer._EXPORTS))
def test_every_public_name_is_documented_with_its_module(name):
    rows = [line for line in PUBLIC_API.splitlines() if line.startswith("|") and f"`{name}`" in line]
    module = optimizer._EXPORTS[name]
    assert any(f"`{module}`" in row for row in rows), \
        f"docs/architecture.md's public API table does not say optimizer.{name} comes from {module}"


# ------------------------------------------------------------- solve pipeline


def _pipeline_tree() -> ast.Module:
    return ast.parse(PIPELINE.read_text(encoding="utf-8"))


def _stages() -> tuple[tuple[str, str], ...]:
    for node in _pipeline_tree().body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "STAGES" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("optimizer/solve/pipeline.py has no module-level STAGES")


STAGES = _stages()
STAGE_NUMBER = re.compile(r"\b[Ss]tages? (\d+b?)(?:,? and (\d+b?))?")


def test_stages_are_the_ones_the_pipeline_names():
    tree = _pipeline_tree()
    numbered = set(re.findall(r"^\s*(\d+b?)\.\s", ast.get_docstring(tree), flags=re.MULTILINE))
    named = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and ast.get_docstring(node):
            for m in STAGE_NUMBER.finditer(ast.get_docstring(node)):
                named.update(n for n in m.groups() if n)
    numbers = [n for n, _ in STAGES]
    assert len(set(numbers)) == len(numbers), f"a stage number repeats in STAGES: {numbers}"
    assert numbered | named == set(numbers), (
        f"STAGES {sorted(numbers)} differs from the stages pipeline.py's docstrings number "
        f"{sorted(numbered | named)}")


@pytest.mark.parametrize("number,name", STAGES, ids=[n for n, _ in STAGES])
def test_every_stage_is_documented(number, name):
    text = SOLVE_PIPELINE.read_text(encoding="utf-8")
    lower = text.lower()
    heading = re.search(rf"^#+\s+{re.escape(number)}\.\s+{re.escape(name.lower())}", lower, flags=re.MULTILINE)
    bold = f"**{name.lower()}**" in lower
    assert heading or bold, f"docs/solve-pipeline.md has no section '{number}. {name}'"
    row = re.search(rf"^\|\s*{re.escape(number)}\.\s+{re.escape(name.lower())}", lower, flags=re.MULTILINE)
    assert row, f"docs/solve-pipeline.md's stage table has no row '{number}. {name}'"
