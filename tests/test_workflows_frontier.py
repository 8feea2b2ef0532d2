"""Budget frontier (optimizer.workflows.frontier): one persistent model re-solved per budget.

data/tiny only, with short time limits. Each frontier point must match a cold
``plan_campaign`` at that budget within 0.2 %, and profit must not fall as the
budget grows (beyond the gap tolerance). The frontier time against the sum of
the cold solves is printed (run with -s to see it), not asserted.
"""

from __future__ import annotations

import contextlib
import io
import time

import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.io.campaign import load_campaign
from optimizer.settings import Settings
from optimizer.workflows.frontier import COLUMNS, budget_frontier, budget_steps
from optimizer.workflows.planner import plan_campaign

from conftest import REPO

TINY = REPO / "data" / "tiny"
TIME_LIMIT_S = 10


@pytest.fixture(scope="module")
def tiny_frontier():
    campaign = load_campaign(TINY)
    budgets = budget_steps(campaign.config.budget, 6)
    t0 = time.perf_counter()
    table = budget_frontier(campaign, list(reversed(budgets)), time_limit_s=TIME_LIMIT_S)
    return campaign, budgets, table, time.perf_counter() - t0


@pytest.mark.slow
def test_frontier_table_shape(tiny_frontier):
    _, budgets, table, _ = tiny_frontier
    assert list(table.columns) == COLUMNS
    assert table["budget"].tolist() == sorted(budgets)  # solved ascending
    assert (table["status"] == "optimal").all(), table
    assert (table["spend"] <= table["budget"] + 1e-6).all()
    assert pd.isna(table["marginal_profit_per_budget"].iloc[0])
    d = table["expected_profit"].diff() / table["budget"].diff()
    assert table["marginal_profit_per_budget"].iloc[1:].tolist() == pytest.approx(d.iloc[1:].tolist())


@pytest.mark.slow
def test_frontier_profit_is_non_decreasing_within_gap(tiny_frontier):
    _, _, table, _ = tiny_frontier
    profit, bound = table["expected_profit"].to_numpy(), table["bound"].to_numpy()
    for i in range(1, len(table)):
        # a larger budget admits every smaller-budget plan: its optimum is ≥ the
        # previous optimum, so the plan is ≥ previous profit minus this point's gap
        assert profit[i] >= profit[i - 1] - (bound[i] - profit[i]) - 1e-6, table


@pytest.mark.slow
def test_frontier_points_equal_cold_solves(tiny_frontier):
    campaign, budgets, table, frontier_seconds = tiny_frontier
    cold_seconds = 0.0
    for b, warm in zip(table["budget"], table["expected_profit"]):
        t0 = time.perf_counter()
        run = plan_campaign(campaign, Settings(budget=b, time_limit_s=TIME_LIMIT_S),
                            progress=lambda msg: None)
        cold_seconds += time.perf_counter() - t0
        cold = run.summary.expected_profit
        assert warm == pytest.approx(cold, rel=2e-3), (b, warm, cold)
    print(f"\ndata/tiny frontier, {len(budgets)} budgets: {frontier_seconds:.2f}s "
          f"(one build + warm re-solves) vs {cold_seconds:.2f}s for cold plan_campaign runs")


def test_frontier_command_writes_csv_into_new_run_folder(tmp_path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["frontier", str(TINY), "--budgets", "10000", "29000", "--time-limit",
                     str(TIME_LIMIT_S), "--reports-dir", str(tmp_path)])
    assert code == 0
    csv = [p for p in tmp_path.rglob("frontier.csv")]
    assert len(csv) == 1 and csv[0].parent.parent == tmp_path / "tiny-demo"
    table = pd.read_csv(csv[0])
    assert table["budget"].tolist() == [10000.0, 29000.0]
    assert "expected_profit" in out.getvalue() and str(csv[0]) in out.getvalue()


def test_frontier_command_rejects_bad_budgets(tmp_path):
    with contextlib.redirect_stderr(io.StringIO()) as err:
        assert main(["frontier", str(TINY), "--steps", "0", "--reports-dir", str(tmp_path)]) == 2
    assert "--steps" in err.getvalue()
    assert not any(tmp_path.iterdir())


def test_recommended_budget_is_what_the_plan_at_the_knee_spends():
    from optimizer.workflows.frontier import frontier_table, recommended_budget
    rows = [{"budget": b, "expected_profit": p, "spend": b - 5, "status": "optimal"}
            for b, p in ((100, 10.0), (200, 150.0), (300, 200.0), (400, 205.0), (500, 205.0))]
    t = frontier_table(rows)  # marginals: 1.4, 0.5, 0.05, 0
    assert recommended_budget(t, 0.0) == 395
    assert recommended_budget(t, 0.1) == 295
    assert recommended_budget(t, 2.0) == 95


def test_the_frontier_never_falls_as_the_budget_grows(monkeypatch):
    """A point whose own solve ends below a smaller budget's plan shows that plan (it fits)."""
    import dataclasses

    from optimizer.workflows.planner import Planner

    solve, seen = Planner.solve, {}

    def worse_at_the_top(self, budget=None, **kw):
        result = solve(self, budget, **kw)
        seen[budget] = result
        if budget == 29000 and 20000 in seen:  # the solver stopped early with a poorer plan
            result = dataclasses.replace(result, evaluation=seen[10000].evaluation)
        return result

    monkeypatch.setattr(Planner, "solve", worse_at_the_top)
    t = budget_frontier(load_campaign(TINY), [10000, 20000, 29000], time_limit_s=TIME_LIMIT_S)
    assert t["expected_profit"].is_monotonic_increasing
    assert t["expected_profit"].iloc[2] == t["expected_profit"].iloc[1]
    assert t["spend"].iloc[2] == t["spend"].iloc[1] and t["gap"].iloc[2] >= t["gap"].iloc[1] - 1e-12


@pytest.mark.slow
def test_the_knee_is_bisected_between_grid_points():
    campaign = load_campaign(TINY)
    grid = [10000, 40000, 70000]
    plain = budget_frontier(campaign, grid, time_limit_s=TIME_LIMIT_S)
    refined = budget_frontier(campaign, grid, time_limit_s=TIME_LIMIT_S, refine=3)
    added = sorted(set(refined["budget"]) - set(plain["budget"]))
    assert len(added) == 3 and all(10000 < b < 70000 for b in added)
    assert refined["expected_profit"].is_monotonic_increasing
    rec = refined.attrs["recommended_budget"]  # what the plan at the knee spends, near its budget
    knee = refined.loc[(refined["spend"] - rec).abs() < 0.01, "budget"].min()
    assert rec <= knee and knee - rec < 0.5 * (plain["budget"].diff().max())


@pytest.mark.slow
def test_sweep_extends_while_money_still_earns_and_names_the_recommended_budget(tmp_path):
    """data/tiny at 20-150 % of its budget still earns at 150 %: the command goes on, one
    step at a time, until one more unit earns nothing, and says where that is."""
    from optimizer.workflows.frontier import read_frontier
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["frontier", str(REPO / "data" / "tiny"), "--steps", "5", "--time-limit", "5",
                     "--reports-dir", str(tmp_path)])
    assert code == 0
    (run_dir,) = (tmp_path / "tiny-demo").iterdir()
    t = read_frontier(run_dir)
    campaign = load_campaign(REPO / "data" / "tiny")
    assert t["budget"].max() > 1.5 * campaign.config.budget  # extended past the sweep
    assert t["budget"].max() <= campaign.config.frontier.max_budget_share * campaign.config.budget
    assert not t["marginal_profit_per_budget"].iloc[-1] > 0  # stopped where money stopped earning
    assert t.attrs["recommended_budget"] in set(t["spend"].round(2)) and "recommended budget:" in out.getvalue()


def _interrupt_at(monkeypatch, call: int, *, keep_plan: bool) -> None:
    """Ctrl-C during the ``call``-th point: the point keeps its plan (status ``interrupted``)
    when ``keep_plan``, else the interrupt arrives before it has one."""
    import dataclasses

    from optimizer.workflows.planner import Planner

    solve, calls = Planner.solve, []

    def interrupted_solve(self, budget=None, **kw):
        calls.append(budget)
        if len(calls) < call:
            return solve(self, budget, **kw)
        if not keep_plan:
            raise KeyboardInterrupt
        return dataclasses.replace(solve(self, budget, **kw), status="interrupted")

    monkeypatch.setattr(Planner, "solve", interrupted_solve)


@pytest.mark.parametrize("keep_plan", [True, False])
def test_ctrl_c_ends_the_sweep_not_the_point(monkeypatch, keep_plan):
    _interrupt_at(monkeypatch, 2, keep_plan=keep_plan)
    table = budget_frontier(load_campaign(TINY), [10000, 20000, 29000], time_limit_s=TIME_LIMIT_S)
    assert table["budget"].tolist() == ([10000.0, 20000.0] if keep_plan else [10000.0])
    assert table.attrs["interrupted"] and table.attrs["recommended_budget"] is None
    assert table["status"].iloc[-1] == ("interrupted" if keep_plan else "optimal")


def test_frontier_command_interrupted_keeps_the_points_done_and_exits_130(monkeypatch, tmp_path):
    _interrupt_at(monkeypatch, 2, keep_plan=True)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["frontier", str(TINY), "--budgets", "10000", "20000", "29000", "--time-limit",
                     str(TIME_LIMIT_S), "--reports-dir", str(tmp_path)])
    assert code == 130 and "interrupted (Ctrl-C) after 2 of 3 point(s)" in err.getvalue()
    assert "recommended budget" not in out.getvalue()
    (csv,) = tmp_path.rglob("frontier.csv")
    assert pd.read_csv(csv)["status"].tolist() == ["optimal", "interrupted"]
    meta = __import__("json").loads((csv.parent / "frontier.json").read_text())
    assert meta["interrupted"] is True and meta["recommended_budget"] is None


def test_frontier_command_before_any_point_leaves_nothing(monkeypatch, tmp_path):
    _interrupt_at(monkeypatch, 1, keep_plan=False)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["frontier", str(TINY), "--budgets", "10000", "20000", "--reports-dir", str(tmp_path)])
    assert code == 130 and "nothing was written" in err.getvalue()
    assert not [p for p in tmp_path.rglob("*") if p.name != "tiny-demo"]


def test_a_running_frontier_shows_no_folder_until_it_is_complete(monkeypatch, tmp_path):
    import optimizer.workflows.frontier as frontier

    seen = []
    real = frontier.budget_frontier

    def watching(*args, **kw):
        seen.extend(p.name for p in (tmp_path / "tiny-demo").iterdir())
        return real(*args, **kw)

    monkeypatch.setattr(frontier, "budget_frontier", watching)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["frontier", str(TINY), "--budgets", "10000", "--reports-dir", str(tmp_path)]) == 0
    assert seen and all(name.startswith(".") for name in seen)  # killed now, nothing visible is left
    (run,) = (tmp_path / "tiny-demo").iterdir()
    assert not run.name.startswith(".") and (run / "frontier.csv").is_file()


def test_a_table_of_points_solved_apart_is_carried_forward_to_be_monotone():
    from optimizer.workflows.frontier import carry_forward, frontier_table
    rows = [{"budget": b, "expected_profit": p, "spend": s, "bound": bd, "status": "optimal"}
            for b, p, s, bd in ((100, 50.0, 90, 51.0), (200, 80.0, 150, 81.0), (300, 79.0, 160, 82.0))]
    t = carry_forward(frontier_table(rows))
    assert t["expected_profit"].tolist() == [50.0, 80.0, 80.0] and t["spend"].tolist() == [90, 150, 150]
    assert t["gap"].iloc[2] == pytest.approx(2 / 80) and t["marginal_profit_per_budget"].iloc[2] == 0
