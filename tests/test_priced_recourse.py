"""The two-stage plan's priced path (:mod:`optimizer.solve.priced_recourse`) on small campaigns.

The recourse sales curve is checked against a brute-force top-up per scenario; the path is
run on a campaign small enough for the extensive form too, and its plan is checked by the
independent checker of :mod:`checker_two_stage` (every §8 rule in every scenario, the exact
profit), its bound against the extensive form's proven optimum, and its profit against the
single-stage plan it starts from.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from checker_two_stage import check_two_stage
from test_two_stage import SMALL, write_campaign

from optimizer.evaluate.two_stage import evaluate_two_stage
from optimizer.io.campaign import load_campaign
from optimizer.prep.expected_sales import expected_sales
from optimizer.prep.recourse import build_two_stage, one_scenario, with_scenarios
from optimizer.prep.recourse_curve import priced_instance, reserve_prices, top_ups_at
from optimizer.report.two_stage import two_stage_html
from optimizer.solve.perfect_information import perfect_information_bounds
from optimizer.solve.priced_recourse import PricedRecourseSolver
from optimizer.workflows.two_stage import _solve, plan_two_stage


@pytest.mark.parametrize("prices", [0.0, 0.2, "per scenario"])
def test_recourse_curve_is_the_best_continuous_top_up_in_each_scenario(tmp_path, prices):
    ts = build_two_stage(load_campaign(write_campaign(tmp_path / "c", scenarios=8)))
    if prices == "per scenario":
        prices = np.linspace(0.0, 0.6, len(ts.demand))
    inst = priced_instance(ts, prices, whole_cases=False)
    curve, d = inst.sales_curve, ts.demand
    steps = np.arange(0.0, 2000.0, 0.25)
    for j in np.flatnonzero(curve.column >= 0):
        col = curve.column[j]
        for a in (0.0, 50.0, 130.0, 400.0):
            best = []
            allowed = steps[steps <= curve.cap[j]]  # a top-up brings at most what stage 2's routes may
            for k in range(len(d)):
                r = curve.ratio[k, j]
                cost = r * allowed if np.isfinite(r) else np.where(allowed > 0, np.inf, 0.0)
                best.append(np.max(np.asarray(expected_sales(a + allowed, d.mean[k, col], d.sd[k, col],
                                                             d.dist[k, col])) - cost))
            assert curve(np.array([a]), np.array([j]))[0] == pytest.approx(d.probabilities @ np.array(best),
                                                                           abs=1e-3)
        grid = np.linspace(0.0, 600.0, 31)
        values = curve(grid, np.full(len(grid), j))
        assert np.all(np.diff(values) >= -1e-9)  # nondecreasing
        assert np.all(np.diff(values, 2) <= 1e-6)  # concave
        slopes = curve.slope(grid, np.full(len(grid), j))  # the slope is the curve's derivative
        numeric = (curve(grid + 1e-3, np.full(len(grid), j)) - values) / 1e-3
        assert slopes == pytest.approx(numeric, abs=2e-3)


@pytest.mark.slow
def test_priced_path_is_valid_bounded_by_and_bounding_the_extensive_form(tmp_path):
    folder = write_campaign(tmp_path / "campaign", scenarios=12)
    exact = plan_two_stage(load_campaign(folder), SMALL, out_dir=tmp_path / "ef").summary
    assert exact.two_stage_method == "extensive_form" and exact.status == "optimal"
    priced = plan_two_stage(load_campaign(folder), SMALL.update(extensive_form_limit=1), out_dir=tmp_path / "pr")
    report = check_two_stage(folder, priced.out_dir)
    report.assert_valid()
    assert report.exact_profit == pytest.approx(priced.evaluation.expected_profit, rel=1e-6, abs=1e-4)
    summary = json.loads((priced.out_dir / "summary.json").read_text())
    assert summary["two_stage_method"] == "priced_relaxation"
    # A feasible plan is worth at most the optimum; the relaxation's bound is at least it.
    assert summary["expected_profit"] <= exact.best_bound + 1e-6
    assert summary["best_bound"] >= exact.expected_profit - 1e-6
    assert summary["perfect_information_is_bound"] is True  # a bound, on every evaluation scenario
    assert summary["perfect_information_scenarios"] == summary["evaluation_scenarios"]
    assert summary["perfect_information_profit"] >= summary["two_stage_profit"]
    page = two_stage_html(priced.summary, priced.policy)  # the report says so, and shows the policy
    assert "Perfect information" in page and "at most" in page
    assert ("Top-up policy" in page) == (not priced.policy.empty)
    # The single-stage plan is a candidate: in sample the plan never does worse than it.
    assert summary["value_of_flexibility"] >= -4 * summary["value_of_flexibility_se"] - 1e-6


def test_reserve_prices_fit_each_scenarios_top_ups_in_the_reserve(tmp_path):
    ts = build_two_stage(load_campaign(write_campaign(tmp_path / "c", scenarios=10, rho=0.9)))
    pairs = ts.stage1.pairs
    stock = pairs["existing"].to_numpy(float) + 20.0
    c2 = ts.stage2.routes.groupby(level=["sku", "warehouse"])["landed_cost"].min().reindex(pairs.index).fillna(0.0)
    for reserve in (0.0, 300.0, 1e9):
        prices = reserve_prices(ts, pairs, stock, reserve)
        spend = top_ups_at(ts, pairs, stock, prices) @ c2.to_numpy(float)
        assert np.all(spend <= reserve + 1e-3) and np.all(prices >= 0)
        # the smallest such price: a little less and a scenario with a positive price overspends
        priced = prices > 0
        if priced.any():
            lower = top_ups_at(ts, pairs, stock, np.where(priced, prices * 0.97, 0.0)) @ c2.to_numpy(float)
            assert np.all(lower[priced] > reserve - 1e-6)
    assert np.all(reserve_prices(ts, pairs, stock, 1e9) == 0)


@pytest.mark.slow
def test_the_evaluations_top_ups_are_set_aside_from_the_time_limit(tmp_path):
    """With an evaluation too large for the limit at any pace, the solve stops after the
    single-stage candidate (the baseline is always planned) instead of running priced ones."""
    campaign = load_campaign(write_campaign(tmp_path / "c", scenarios=8))
    settings = SMALL.update(time_limit_s=30).with_campaign_solver(campaign.config.solver)
    ts = build_two_stage(campaign, settings)

    def value(u1, u2):
        return evaluate_two_stage(ts, u1, u2).expected_profit

    roomy = PricedRecourseSolver(ts, settings, value, evaluation_scenarios=0)
    assert roomy.solve().rounds > 1
    crowded = PricedRecourseSolver(ts, settings, value, evaluation_scenarios=10**9)
    out = crowded.solve()
    assert out.rounds == 1 and out.has_plan
    assert crowded.evaluation_seconds() > 30 and crowded.evaluation_seconds(next_priced=True) > 30


@pytest.mark.slow
@pytest.mark.parametrize("options", [{}, {"rho": 0.9}, {"budget": 2500.0}, {"cash": 900.0}])
def test_perfect_information_bound_holds_each_scenarios_optimum(tmp_path, options):
    """The solver-free bound of :mod:`optimizer.solve.perfect_information` against each
    scenario planned knowing its demand (the extensive form of that scenario alone, optimal)."""
    campaign = load_campaign(write_campaign(tmp_path / "c", scenarios=4, **options))
    settings = SMALL.with_campaign_solver(campaign.config.solver)
    ts = build_two_stage(campaign, settings)
    bounds = perfect_information_bounds(ts)
    for k in range(len(ts.demand)):
        alone = with_scenarios(ts, one_scenario(ts.scenarios, k))
        best = _solve(alone, settings)
        assert best.status == "optimal"
        exact = evaluate_two_stage(alone, best.stage1_units, best.stage2_units).scenario_profit[0]
        assert exact <= bounds[k] + 1e-6
