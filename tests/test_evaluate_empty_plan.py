"""Why a plan orders nothing (optimizer/evaluate/empty_plan.py): the note names the limit
that leaves no room for a case, not "existing stock covers what pays" whatever the cause."""

from __future__ import annotations

import contextlib
import io
import shutil

import pandas as pd
import pytest

from optimizer.cli import main

from conftest import REPO

TINY = REPO / "data" / "tiny"


def _tiny(tmp_path, toml_extra: str = "", edit=None):
    folder = tmp_path / "campaign"
    shutil.copytree(TINY, folder)
    toml = (folder / "campaign.toml").read_text()
    head, solver = toml.split("[solver]")
    (folder / "campaign.toml").write_text(head + toml_extra + "\n[solver]" + solver)
    if edit:
        edit(folder)
    return folder


def _note(folder, tmp_path) -> str:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        assert main(["plan", str(folder), "--out", str(tmp_path / "run")]) == 0
    notes = [line for line in err.getvalue().splitlines() if line.startswith("note: ")]
    assert len(notes) == 1, err.getvalue()
    return notes[0]


def _no_space(folder):
    w = pd.read_csv(folder / "warehouses.csv")
    w["capacity_m3"] = 0.0
    w.to_csv(folder / "warehouses.csv", index=False)


def _cheap_prices(folder):
    s = pd.read_csv(folder / "skus.csv")
    s["price"] = s["unit_cost"] * 0.5
    s["salvage_value"] = 0.0
    s["stockout_penalty"] = 0.0
    s.to_csv(folder / "skus.csv", index=False)


@pytest.mark.parametrize("extra, edit, expected", [
    ("", _no_space, "within the limits: warehouse space: DTM1 0 m³ free, ONT8 0 m³ free"),
    ("max_sku_budget_share = 0.0001\n", None, "max_sku_budget_share 0.0001 allows 2.90 per SKU"),
    ("[[cash_limits]]\nuntil = 2026-12-31\nlimit = 1.0\n", None, "the cash limit 1.00 until 2026-12-31"),
    ("", _cheap_prices, "no case adds expected profit (existing stock covers what pays)"),
])
def test_an_empty_plan_names_its_cause(tmp_path, extra, edit, expected):
    note = _note(_tiny(tmp_path, extra, edit), tmp_path)
    assert note.startswith("note: the plan orders nothing: ") and expected in note, note
    if "covers what pays" not in expected:
        assert "covers what pays" not in note
