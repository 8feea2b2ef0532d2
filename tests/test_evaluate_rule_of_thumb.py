"""The spreadsheet rule (optimizer.evaluate.rule_of_thumb) keeps every hard rule: its plan,
written as a run folder, passes the independent checker (tests/checker.py) on data/tiny, data/sample and every
feasible known-optimum campaign; a supplier below its minimum order value is topped up to it
or dropped, and a supplier's capacity cuts its lines."""

from __future__ import annotations

from datetime import date

import pytest

from optimizer.evaluate.plan import summarize
from optimizer.evaluate.rule_of_thumb import TOP_UP_SHARE, rule_of_thumb, rule_of_thumb_units
from optimizer.io.campaign import load_campaign
from optimizer.io.run_folder import write_run
from optimizer.prep.instance import build_instance
from optimizer.status import Status

from checker import check_plan
from conftest import REPO, known_optimum_cases, load_expected, write_campaign

TINY = REPO / "data" / "tiny"


def baseline_cases() -> list:
    """data/tiny and the known-optimum campaigns a plan exists for (exit code 0)."""
    params = [pytest.param(TINY, id="data/tiny")]
    for p in known_optimum_cases():
        case = p.values[0]
        if case is None or load_expected(case)["exit_code"] == 0:
            params.append(p)
    return params


def checked(campaign_dir, tmp_path):
    """The spreadsheet rule's plan of ``campaign_dir`` and the checker's report on its run folder."""
    inst = build_instance(load_campaign(campaign_dir))
    ev = rule_of_thumb(inst)
    summary = summarize(inst, ev, status=Status.OPTIMAL, bound=None, build_seconds=0.0, solve_seconds=0.0,
                        n_variables=0, n_constraints=0, extra={"campaign_dir": str(campaign_dir)})
    return inst, ev, check_plan(campaign_dir, write_run(tmp_path / "run", ev, summary))


@pytest.mark.slow
@pytest.mark.parametrize("case_dir", baseline_cases())
def test_the_spreadsheet_rule_passes_the_independent_checker(case_dir, tmp_path):
    inst, ev, rep = checked(case_dir, tmp_path)
    rep.assert_valid()  # MOQ, packs, supplier minimums and capacities, space, cutoffs, budget, cash, share
    assert rep.exact_profit == pytest.approx(ev.expected_profit, rel=1e-6, abs=1e-4)
    assert ev.spend <= inst.budget + 1e-6


@pytest.mark.slow
def test_on_data_sample_the_spreadsheet_rule_orders_within_every_limit(tmp_path, one_stage_sample):
    inst, ev, rep = checked(one_stage_sample, tmp_path)
    rep.assert_valid()
    assert rep.exact_profit == pytest.approx(ev.expected_profit, rel=1e-6, abs=1e-4)
    assert len(ev.lines) > 20 and ev.spend > 0.5 * inst.budget
    assert all(limit["headroom"] >= -1e-6 for limit in rep.cash_limits)


def supplier_campaign(tmp_path):
    """Three SKUs of three suppliers, certain demand (sd 0), free freight: F1's order (A: 200 × 10)
    is two thirds of its 3,000 minimum, F2's (B: 50 × 10) a tenth of its 5,000, F3 makes 60 units."""
    def sku(name, supplier, price):
        return dict(sku=name, supplier=supplier, unit_cost=10.0, price=price, weight_kg=0.1, volume_m3=0.001,
                    case_pack=10, moq=0, production_days=10, duty_rate=0.0, salvage_value=1.0, return_rate=0.0)

    return write_campaign(
        tmp_path / "suppliers",
        config=dict(name="suppliers", currency="USD", planning_date=date(2026, 9, 1),
                    promo_start=date(2026, 11, 27), promo_end=date(2026, 12, 1), budget=100_000.0, buffer_days=0),
        skus=[sku("A", "F1", 30.0), sku("B", "F2", 30.0), sku("C", "F3", 40.0)],
        suppliers=[dict(supplier="F1", min_order_value=3000.0, capacity_units=None),
                   dict(supplier="F2", min_order_value=5000.0, capacity_units=None),
                   dict(supplier="F3", min_order_value=0.0, capacity_units=60)],
        warehouses=[dict(warehouse="W1", market="US", capacity_m3=1000.0, cutoff="2026-11-01")],
        lanes=[dict(warehouse="W1", mode="sea", transit_days=30, cost_per_kg=0.0, cost_per_m3=0.0,
                    volumetric_kg_per_m3=0, shipment_cost=0.0, shipment_m3=None, capacity_m3=None)],
        demand=[dict(sku="A", warehouse="W1", mean=200, sd=0), dict(sku="B", warehouse="W1", mean=50, sd=0),
                dict(sku="C", warehouse="W1", mean=100, sd=0)],
    )


def test_supplier_minimums_are_topped_up_or_dropped_and_capacity_cuts(tmp_path):
    case = supplier_campaign(tmp_path)
    units = rule_of_thumb_units(build_instance(load_campaign(case))).groupby(level="sku").sum()
    assert 2000 >= TOP_UP_SHARE * 3000 and 500 < TOP_UP_SHARE * 5000
    assert units["A"] == 300  # topped up from 200 to F1's 3,000 minimum
    assert units["B"] == 0    # a tenth of F2's minimum: dropped
    assert units["C"] == 60   # cut to F3's capacity
    checked(case, tmp_path)[2].assert_valid()
