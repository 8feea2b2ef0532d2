"""The what-if explorer (optimizer.workflows.explorer): the notebook runs under papermill (widgets become
static output) and the explorer re-solves a budget change in place but rebuilds on
a delay change."""

from __future__ import annotations

import pytest

from optimizer.prep.instance import Overrides
from optimizer.report.explorer_panel import what_if_kpis
from optimizer.workflows.explorer import Explorer
from optimizer.workflows.planner import plan_campaign

from conftest import REPO, execute_notebook

TINY = REPO / "data" / "tiny"


def test_budget_moves_re_solve_in_place_and_delays_rebuild():
    e = Explorer(TINY, time_limit_s=10)
    first = e.solve(29_000)
    model = e.planner.model
    lower = e.solve(15_000)
    assert first.rebuilt and not lower.rebuilt and e.planner.model is model
    late = e.solve(15_000, {"sea_lcl": 7})
    assert late.rebuilt and e.planner.model is not model
    cold = plan_campaign(TINY, Overrides(budget=15_000, delays={"sea_lcl": 7}, time_limit_s=10),
                         progress=lambda msg: None)
    assert late.evaluation.expected_profit == pytest.approx(cold.summary["expected_profit"], rel=2e-3)
    assert "persistent re-solve" in what_if_kpis(e, lower).to_string()
    with pytest.raises(ValueError):
        e.solve(10 * e.max_budget)


@pytest.mark.notebook
def test_explore_notebook_runs_with_papermill(tmp_path):
    nb = execute_notebook("explore.ipynb", tmp_path / "explore.ipynb", {"time_limit_s": 10})
    assert "parameters" in nb.cells[0].metadata["tags"]
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = [v["model_name"] for v in state.values()]
    assert "FloatSliderModel" in models and models.count("IntSliderModel") == 3
    (out,) = [v for v in state.values() if v["model_name"] == "OutputModel"]
    shown = " ".join(o["data"].get("text/html", "") for o in out["state"]["outputs"])
    assert "Expected profit" in shown and "Plotly.newPlot" in shown


@pytest.mark.notebook
def test_budget_frontier_notebook_runs_with_papermill(tmp_path):
    nb = execute_notebook("budget_frontier.ipynb", tmp_path / "frontier.ipynb",
                  {"steps": 3, "time_limit_s": 10})
    html = " ".join(o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code"
                    for o in c.outputs)
    assert "marginal_profit_per_budget" in html and html.count("Plotly.newPlot(") == 2
