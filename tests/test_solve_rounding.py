"""The LP-rounding heuristic and the shipment-count bound.

* Whatever units it is handed — LP-like, zero, or far beyond every limit — the
  rounding heuristic returns a plan that the independent checker accepts, and its
  own exact profit is the checker's.
* The shipment-count branch and bound returns the known optimum of a small
  integer program.  (That every reported bound is above each conformance case's
  known optimum is checked in test_conformance.py.)
"""

from __future__ import annotations

import highspy
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_properties import SETTINGS, Workdir, campaigns

from optimizer.evaluate.plan import evaluate_plan, summarize
from optimizer.io.campaign import load_campaign
from optimizer.io.run_folder import write_run
from optimizer.prep.instance import build_instance
from optimizer.solve.highs import Rows
from optimizer.solve.price_start import PriceStart
from optimizer.solve.rounding import RoundingHeuristic
from optimizer.solve.shipment_bound import ShipmentSearch, container_bound
from optimizer.status import Status

from checker import check_plan
from conftest import write_campaign


def _write_heuristic_run(inst, units: np.ndarray, out):
    ev = evaluate_plan(inst, pd.Series(units, index=inst.routes.index))
    summary = summarize(inst, ev, status=Status.TIME_LIMIT, bound=None, build_seconds=0.0,
                        solve_seconds=0.0, n_variables=0, n_constraints=0)
    write_run(out, ev, summary)
    return ev


@pytest.mark.slow
@SETTINGS
@given(spec=campaigns(), scale=st.sampled_from([0.0, 0.3, 1.0, 3.0]), seed=st.integers(0, 2**16))
def test_any_input_rounds_to_a_plan_the_checker_accepts(spec, scale, seed):
    with Workdir() as work:
        folder = write_campaign(work / "campaign", **spec)
        inst = build_instance(load_campaign(folder))
        heuristic = RoundingHeuristic(inst)
        rng = np.random.default_rng(seed)
        lp_units = scale * rng.uniform(0, 1, len(inst.routes)) * inst.routes["max_units"].to_numpy(float)
        units = heuristic.plan(lp_units, budget=inst.budget, time_limit_s=5.0)
        if inst.min_fill_rate is not None or inst.routes.empty:
            assert units is None  # service targets are left to the MIP
            return
        ev = _write_heuristic_run(inst, units, work / "run")
        rep = check_plan(folder, work / "run")
        assert not rep.violations, f"{folder}:\n  - " + "\n  - ".join(rep.violations)
        assert heuristic.exact_profit(units) == pytest.approx(rep.exact_profit, rel=1e-9, abs=1e-6)
        assert ev.expected_profit == pytest.approx(rep.exact_profit, rel=1e-9, abs=1e-6)


def test_heuristic_on_the_tiny_campaign_beats_ordering_nothing(repo, tmp_path):
    inst = build_instance(load_campaign(repo / "data" / "tiny"))
    heuristic = RoundingHeuristic(inst)
    # A crude "LP": every route at half its bound.  The repair and fill must still
    # find a plan that earns more than ordering nothing.
    units = heuristic.plan(0.5 * inst.routes["max_units"].to_numpy(float), budget=inst.budget)
    ev = _write_heuristic_run(inst, units, tmp_path / "run")
    rep = check_plan(repo / "data" / "tiny", tmp_path / "run")
    rep.assert_valid()
    assert ev.expected_profit > evaluate_plan(inst, None).expected_profit + 1.0


def _one_lane_campaign(folder, skus: dict, suppliers=None):
    """One warehouse, one sea lane without fixed costs; ``skus`` maps a SKU to its
    (supplier, case_pack, moq); every SKU costs 10, sells at 40, demand 200 ± 50."""
    from datetime import date
    return write_campaign(
        folder,
        config=dict(name="small", currency="USD", planning_date=date(2026, 9, 1),
                    promo_start=date(2026, 11, 27), promo_end=date(2026, 12, 1),
                    budget=1e6, buffer_days=3),
        skus=[dict(sku=s, supplier=f, unit_cost=10.0, price=40.0, weight_kg=1.0, volume_m3=0.001,
                   case_pack=cp, moq=moq, production_days=10, duty_rate=0.0, salvage_value=2.0,
                   return_rate=0.0) for s, (f, cp, moq) in skus.items()],
        warehouses=[dict(warehouse="W1", market="US", capacity_m3=1e6, cutoff="2026-11-01")],
        lanes=[dict(warehouse="W1", mode="sea", transit_days=30, cost_per_kg=0.0,
                    cost_per_m3=10.0, volumetric_kg_per_m3=0, shipment_cost=0.0,
                    shipment_m3=None, capacity_m3=None)],
        demand=[dict(sku=s, warehouse="W1", mean=200.0, sd=50.0) for s in skus],
        suppliers=suppliers,
    )


def test_repair_goes_on_after_dropping_a_sku(tmp_path):
    """Two suppliers, each with two SKUs and a minimum order value (150 units' worth)
    above its capacity (100 units).  Started at 150 units each, no case can be shed
    without breaking a minimum, so the repair drops whole SKUs.  It must go on after
    its first drop: stopping there would leave the other supplier over its capacity."""
    folder = _one_lane_campaign(
        tmp_path / "campaign",
        {s: (f, 10, 10) for s, f in (("A1", "F1"), ("A2", "F1"), ("B1", "F2"), ("B2", "F2"))},
        suppliers=[dict(supplier=f, min_order_value=1500.0, capacity_units=100)
                   for f in ("F1", "F2")])
    inst = build_instance(load_campaign(folder))
    heuristic = RoundingHeuristic(inst)
    # 150 units per supplier: exactly its minimum, 50 over its capacity.
    start = np.array([80.0, 70.0, 80.0, 70.0])
    units = heuristic.plan(start, budget=inst.budget, time_limit_s=1.0)
    assert heuristic.feasible(units / heuristic.cp)
    assert (units == 0).all()  # 150 units meet a minimum, but only 100 may be made


def test_the_price_start_drops_a_sku_whose_moq_does_not_pay(tmp_path):
    """SKU A's MOQ (2,000) is ten times its demand: raised to it, A loses money, so
    the start orders none of A; B, without a MOQ, is ordered near its newsvendor
    stock."""
    folder = _one_lane_campaign(tmp_path / "campaign", {"A": ("F1", 1, 2000), "B": ("F1", 1, 0)})
    inst = build_instance(load_campaign(folder))
    units = pd.Series(PriceStart(RoundingHeuristic(inst)).units(inst.budget), index=inst.routes.index)
    ordered = units.groupby(level="sku").sum()
    assert ordered["A"] == 0
    assert 200 < ordered["B"] < 300  # the critical fractile 0.79 at mean 200, sd 50


@pytest.mark.slow
@SETTINGS
@given(spec=campaigns(), budget_share=st.sampled_from([0.05, 0.5, 1.0]))
def test_the_price_start_gives_a_plan_the_checker_accepts(spec, budget_share):
    """The priced relaxation's start (:mod:`optimizer.solve.price_start`), rounded and
    repaired: every rule holds, and the exact profit is the checker's."""
    with Workdir() as work:
        folder = write_campaign(work / "campaign", **spec)
        inst = build_instance(load_campaign(folder))
        heuristic = RoundingHeuristic(inst)
        if inst.min_fill_rate is not None or inst.routes.empty:
            return
        start = PriceStart(heuristic).units(budget_share * inst.budget)
        assert (start >= 0).all() and (start <= inst.routes["max_units"].to_numpy(float) + 1e-9).all()
        units = heuristic.plan(start, budget=inst.budget, time_limit_s=1.0)
        _write_heuristic_run(inst, units, work / "run")
        rep = check_plan(folder, work / "run")
        assert not rep.violations, f"{folder}:\n  - " + "\n  - ".join(rep.violations)
        assert heuristic.exact_profit(units) == pytest.approx(rep.exact_profit, rel=1e-9, abs=1e-6)


def _container_lp():
    """max 30x − 100n  s.t.  x ≤ 10n,  x ≤ 25,  n ∈ {0..5}:  the LP says 500 (n = 2.5),
    the integer optimum is 450 (n = 3, x = 25)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVar(0, 25)   # x
    h.addVar(0, 5)    # n
    h.changeColsCost(2, np.array([0, 1], dtype=np.int32), np.array([30.0, -100.0]))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.addRow(-highspy.kHighsInf, 0.0, 2, np.array([0, 1], dtype=np.int32), np.array([1.0, -10.0]))
    return h.getModel().lp_


def test_shipment_bound_proves_a_small_integer_optimum():
    lp = _container_lp()
    result = container_bound(lp, [1], incumbent=None, time_limit_s=10)
    assert result.proven
    assert result.bound == pytest.approx(450.0)
    # A known plan worth 450 prunes everything; the bound is still 450, not less.
    pruned = container_bound(lp, [1], incumbent=450.0, time_limit_s=10)
    assert pruned.bound == pytest.approx(450.0)


def test_shipment_search_resumes_and_takes_later_rows():
    """A search stopped at once goes on where it stopped; a valid row added later
    (x ≤ 22) re-solves the queued nodes: optimum now 30·20 − 100·2 = 400 (n = 3
    gives 30·22 − 300 = 360)."""
    lp = _container_lp()
    search = ShipmentSearch(lp, [1])
    first = search.search(incumbent=None, time_limit_s=0.0)
    assert not first.proven and first.bound is None
    search.add_rows(Rows(np.array([-highspy.kHighsInf]), np.array([22.0]), np.array([0], dtype=np.int32),
                         np.array([0], dtype=np.int32), np.array([1.0])))
    done = search.search(incumbent=None, time_limit_s=10)
    assert done.proven and done.bound == pytest.approx(400.0)
    assert list(done.best_counts) == [2.0] and done.cuts == 1
    # Candidate counts are solved as leaves and the best is kept: n = 3 (450).
    fresh = ShipmentSearch(lp, [1])
    assert list(fresh.good_leaf([np.array([1.0]), np.array([3.0])], time_limit_s=10)) == [3.0]
    assert fresh.best_leaf == pytest.approx(450.0)
