"""The whole-case recourse curve (:mod:`optimizer.prep.recourse_hull`).

The curve is checked against a brute-force top-up per scenario and lattice point (every
number of cases up to the cap), and the relaxation it makes against the extensive form's
proven two-stage optimum on small campaigns with an MOQ and a supplier minimum, at several
reserve prices and with the MOQ and minimum prices chosen at several stage-1 stocks — the
optimum's own among them.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from test_two_stage import SMALL, write_campaign

from optimizer.io.campaign import load_campaign
from optimizer.model import build_model
from optimizer.prep import recourse_hull
from optimizer.prep.expected_sales import expected_sales
from optimizer.prep.recourse import build_two_stage
from optimizer.prep.recourse_curve import priced_instance, recourse_curve, relaxation_value, stage2_costs
from optimizer.prep.recourse_hull import HullRecourseCurve, hull_recourse_curve, minimum_prices, stage_pairs
from optimizer.solve.pipeline import PlanSolver
from optimizer.solve.priced_recourse import PricedRecourseSolver
from optimizer.solve.top_up import TopUps
from optimizer.workflows.two_stage import plan_two_stage


@pytest.mark.parametrize("priced_minimums", [False, True])
@pytest.mark.parametrize("options", [{}, {"minimum": 1500.0}, {"rho": 0.9, "budget": 6000.0}])
def test_the_hull_lies_above_every_whole_case_top_up_and_is_concave(tmp_path, priced_minimums, options):
    ts = build_two_stage(load_campaign(write_campaign(tmp_path / "c", scenarios=8, **options)))
    inst, d = ts.stage1, ts.demand
    prices = np.linspace(0.0, 0.5, len(d))
    base = recourse_curve(ts, inst, prices)
    costs = stage2_costs(ts, inst.pairs)
    sp = stage_pairs(inst, base, costs)
    existing = inst.pairs["existing"].to_numpy(float)
    # with a large reserve (rho 0.9) the MOQ SKU's top-ups from no stock price its MOQ so high
    # that a top-up's net cost r' is negative in some scenarios
    reference = existing + (0.0 if "rho" in options else 30.0) if priced_minimums else None
    curve = hull_recourse_curve(ts, inst, base, prices, costs, reference)
    cost = sp.cost(prices)
    bonus, fee = minimum_prices(ts, sp, cost, reference) if priced_minimums else (0 * cost, 0 * cost)
    rows = np.flatnonzero(curve.row >= 0)
    assert len(rows)
    if priced_minimums:
        assert bonus.max() > 0 and fee.max() > 0  # the MOQ (and minimum) are priced somewhere
    for i in rows:
        col, cp = sp.column[i], sp.cp[i]
        lattice = existing[i] + cp * np.arange(0, 60)
        lattice = lattice[lattice <= curve.x[curve.row[i]].max()]  # the most stage 1 can stock
        brute = np.zeros(len(lattice))
        for k in range(len(d)):
            r, f = (cost[k, i] - bonus[k, i]) / sp.m[i], fee[k, i] / sp.m[i]
            units = cp * np.arange(1, int(sp.cap[i] // cp) + 1)
            sells = np.asarray(expected_sales(lattice, d.mean[k, col], d.sd[k, col], d.dist[k, col]), float)
            topped = np.asarray(expected_sales(lattice[:, None] + units[None, :], d.mean[k, col], d.sd[k, col],
                                               d.dist[k, col]), float) - r * units - f
            brute += d.probabilities[k] * np.maximum(sells, topped.max(axis=1, initial=-np.inf))
        values = curve(lattice, np.full(len(lattice), i))
        assert np.all(values >= brute - 1e-7)
        assert np.all(np.diff(values) >= -1e-9)  # nondecreasing
        assert np.all(np.diff(values, 2) <= 1e-7)  # concave on the lattice
    # pairs where no top-up earns keep the continuous curve
    others = np.flatnonzero(curve.row < 0)
    assert np.allclose(curve(existing[others] + 5.0, others), base(existing[others] + 5.0, others))


@pytest.mark.parametrize("work", [None, 1])
def test_the_prices_settle_on_either_curve(tmp_path, monkeypatch, work):
    """Past its work budget the relaxation keeps the continuous curve; the solver-free price
    rounds run on either."""
    if work is not None:
        monkeypatch.setattr(recourse_hull, "HULL_WORK", work)
    ts = build_two_stage(load_campaign(write_campaign(tmp_path / "c", scenarios=8, minimum=1500.0)))
    curve = priced_instance(ts, 0.1, reference=ts.stage1.pairs["existing"].to_numpy(float)).sales_curve
    assert isinstance(curve, HullRecourseCurve) == (work is None)
    solver = PricedRecourseSolver(ts, SMALL, None)
    prices, stock = solver._settle_prices(np.full(len(ts.demand), 0.1), ts.stage1.pairs["existing"].to_numpy(float),
                                          time.perf_counter() + 60, 1.0)
    assert prices.shape == (len(ts.demand),) and np.all(prices >= 0) and stock.shape == (len(ts.stage1.pairs),)


@pytest.mark.slow
@pytest.mark.parametrize("options", [{"minimum": 1500.0}, {"rho": 0.9, "budget": 6000.0}])
def test_the_whole_case_relaxation_bounds_the_two_stage_optimum(tmp_path, options):
    folder = write_campaign(tmp_path / "c", scenarios=10, **options)
    exact = plan_two_stage(load_campaign(folder), SMALL)
    assert exact.summary.status == "optimal" and exact.summary.two_stage_method == "extensive_form"
    optimum = exact.summary.expected_profit
    ts = exact.problem
    existing = ts.stage1.pairs["existing"].to_numpy(float)
    references = [None, existing + 40.0, TopUps(ts, exact.outcome.stage1_units).stage1_stock]
    for prices in (0.0, 0.3, np.linspace(0.0, 0.8, len(ts.demand))):
        for reference in references:
            inst = priced_instance(ts, prices, reference=reference)
            solver = PlanSolver(build_model(inst), inst, progress=lambda _: None)
            solver.time_limit_s = 30
            result = solver.solve()
            assert result.bound is not None
            assert relaxation_value(ts, result.bound, prices) >= optimum - 1e-6
