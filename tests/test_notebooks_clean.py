"""The tracked notebooks (notebooks/*.ipynb) are kept without outputs: no cell output, no
execution count and no saved widget state, so running one in JupyterLab (whose autosave
writes what is on screen) never ends up in a commit, and `.ipynb_checkpoints/` is ignored."""

from __future__ import annotations

import json

import pytest

from conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"explore.ipynb", "campaign_plan.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_saved_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    with_outputs = [i for i, c in enumerate(code) if c.get("outputs")]
    counted = [i for i, c in enumerate(code) if c.get("execution_count") is not None]
    assert not with_outputs, f"{path.name}: code cells {with_outputs} hold outputs (clear them before committing)"
    assert not counted, f"{path.name}: code cells {counted} have execution counts (clear them before committing)"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: saved widget state in the notebook metadata"


def test_checkpoints_are_ignored():
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".ipynb_checkpoints/" in ignored
