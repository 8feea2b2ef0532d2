"""Monte-Carlo simulation of a plan (optimizer.evaluate.simulate) against the exact SPEC §2 expectations."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from optimizer import report
from optimizer.evaluate.plan import evaluate_plan
from optimizer.evaluate.simulate import simulate_plan
from optimizer.settings import Settings
from optimizer.workflows.planner import plan_campaign

from conftest import REPO

TINY = REPO / "data" / "tiny"


@pytest.fixture(scope="module")
def tiny():
    run = plan_campaign(TINY, Settings(time_limit_s=20), progress=lambda m: None)
    return run.instance, run.evaluation


@pytest.mark.parametrize("plan", ["optimised", "nothing"])
def test_simulated_means_converge_to_the_exact_expectations(tiny, plan):
    inst, ev = tiny
    if plan == "nothing":
        ev = evaluate_plan(inst, None)
    sim = simulate_plan(inst, ev, n=20_000, seed=20261127)
    st = sim.stats()
    assert st.at["profit", "exact"] == pytest.approx(ev.expected_profit)
    for metric in sim.METRICS:
        mean, exact, se = st.at[metric, "mean"], st.at[metric, "exact"], st.at[metric, "se"]
        assert se > 0
        assert abs(mean - exact) <= 3 * se, (metric, mean, exact, se)
    assert st.at["profit", "p10"] <= st.at["profit", "p50"] <= st.at["profit", "p90"]


def test_seeds_reproduce(tiny):
    inst, ev = tiny
    a = simulate_plan(inst, ev, n=500, seed=7)
    b = simulate_plan(inst, ev, n=500, seed=7, block_values=33)  # block size changes nothing
    c = simulate_plan(inst, ev, n=500, seed=np.random.default_rng(7))
    d = simulate_plan(inst, ev, n=500, seed=8)
    for m in a.METRICS:
        assert np.array_equal(getattr(a, m), getattr(b, m))
        assert np.array_equal(getattr(a, m), getattr(c, m))
    assert not np.array_equal(a.profit, d.profit)
    assert a.stats().equals(simulate_plan(inst, ev, n=500, seed=7).stats())
    assert simulate_plan(inst, ev).n == 1000  # default: 1,000 scenarios, seed 0
    assert np.array_equal(simulate_plan(inst, ev).profit, simulate_plan(inst, ev, seed=0).profit)


def test_scenario_accounting_by_hand():
    """sd = 0: every scenario is the deterministic outcome.

    p = 10, salvage 2 (sales_coef p − salvage + penalty = 9, stock_coef 2), penalty 1, spend 50. Pair 1: demand 8, stock 5 → sells 5, 3 short:
    8·5 + 2·5 − 3 = 47. Pair 2: demand 3, stock 10 → sells 3, 7 left: 8·3 + 2·10 = 44.
    Profit 47 + 44 − 50 = 41.
    """
    skus = pd.DataFrame({"sku": ["X"]}).set_index("sku")
    pairs = pd.DataFrame({"sku": ["X", "X"], "warehouse": ["W1", "W2"], "mean": [8.0, 3.0],
                          "sales_coef": [9.0, 9.0], "stock_coef": [2.0, 2.0],
                          "stockout_penalty": [1.0, 1.0],
                          "sd": [0.0, 0.0], "available": [5, 10], "expected_demand": [8.0, 3.0],
                          "expected_sales": [5.0, 3.0], "expected_leftover": [0.0, 7.0],
                          "stockout_probability": [1.0, 0.0]}).set_index(["sku", "warehouse"])
    inst = SimpleNamespace(skus=skus)
    ev = SimpleNamespace(pairs=pairs, spend=50.0, expected_profit=41.0)
    sim = simulate_plan(inst, ev, n=50, seed=1)
    assert np.all(sim.profit == 41.0)
    assert np.all(sim.units_short == 3.0) and np.all(sim.units_left == 7.0)
    assert np.all(sim.pairs_short == 1)
    st = sim.stats()
    assert st.loc["profit", ["mean", "p10", "p50", "p90", "exact"]].tolist() == [41.0] * 5
    assert st.at["profit", "std"] == 0.0
    assert sim.probability_of_loss() == 0.0
    with pytest.raises(ValueError):
        simulate_plan(inst, ev, n=0)


def test_demand_is_truncated_at_zero():
    """mean 0, sd 10, no stock: D = max(0, N(0, 10)); E[D] = 10·φ(0) ≈ 3.989, P(D > 0) = ½."""
    skus = pd.DataFrame({"sku": ["X"]}).set_index("sku")
    ed = 10 / np.sqrt(2 * np.pi)
    pairs = pd.DataFrame({"sku": ["X"], "warehouse": ["W"], "mean": [0.0], "sd": [10.0],
                          "sales_coef": [11.0], "stock_coef": [0.0], "stockout_penalty": [1.0],
                          "available": [0], "expected_demand": [ed], "expected_sales": [0.0],
                          "expected_leftover": [0.0], "stockout_probability": [0.5]}
                         ).set_index(["sku", "warehouse"])
    sim = simulate_plan(SimpleNamespace(skus=skus),
                        SimpleNamespace(pairs=pairs, spend=0.0, expected_profit=-ed), n=20_000, seed=3)
    assert sim.units_short.min() == 0.0 and sim.profit.max() == 0.0
    st = sim.stats()
    for m in ("profit", "units_short", "pairs_short"):
        assert abs(st.at[m, "mean"] - st.at[m, "exact"]) <= 3 * st.at[m, "se"], m


def test_report_simulation_table_and_figure(tiny):
    inst, ev = tiny
    sim = report.simulate(inst, ev, n=300, seed=5)
    t = report.simulation_summary(inst, sim)
    assert t["outcome"].tolist()[0] == "Profit" and t["outcome"].tolist()[-1] == "Chance of a loss"
    assert list(t.columns) == ["outcome", "simulated mean", "P10", "P50", "P90", "exact expected"]
    assert t.loc[0, "exact expected"] == f"{ev.expected_profit:,.2f} {inst.campaign.config.currency}"
    fig = report.simulated_profit_figure(sim, "USD")
    assert fig.data and len(fig.data[0].x) == 300
    assert len(fig.layout.shapes) == 4  # P10, P50, P90 and the exact expectation
    texts = [a.text for a in fig.layout.annotations]
    assert any(t.startswith("P10") for t in texts) and any(t.startswith("P90") for t in texts)


@pytest.mark.parametrize("dist, mean, sd", [(1, 400.0, 600.0), (2, 20.0, 15.0), (3, 3.0, 0.0)])
def test_simulated_shapes_match_their_exact_expectations(dist, mean, sd):
    """Lognormal, negative binomial and Poisson demand (SPEC §7): the simulated sales,
    shortfalls and profit average to the exact ES-based values."""
    from optimizer.prep.expected_sales import expected_sales, stockout_probability
    stock = 1.2 * mean
    es = float(expected_sales(stock, mean, sd, dist))
    pairs = pd.DataFrame({"sku": ["X"], "warehouse": ["W"], "mean": [mean], "sd": [sd], "dist": [dist],
                          "sales_coef": [9.0], "stock_coef": [2.0], "stockout_penalty": [1.0],
                          "available": [stock], "expected_demand": [mean], "expected_sales": [es],
                          "expected_leftover": [stock - es],
                          "stockout_probability": [float(stockout_probability(stock, mean, sd, dist))]}
                         ).set_index(["sku", "warehouse"])
    profit = 9.0 * es + 2.0 * stock - 1.0 * mean - 50.0
    sim = simulate_plan(SimpleNamespace(skus=pd.DataFrame(index=pd.Index(["X"], name="sku"))),
                        SimpleNamespace(pairs=pairs, spend=50.0, expected_profit=profit), n=40_000, seed=4)
    st = sim.stats()
    for m in ("profit", "units_short", "units_left", "pairs_short"):
        assert abs(st.at[m, "mean"] - st.at[m, "exact"]) <= 4 * st.at[m, "se"] + 1e-9, m
