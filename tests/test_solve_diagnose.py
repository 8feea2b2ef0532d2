"""Infeasible service targets (SPEC §2 rule 6): exit code 3 and a message naming the cause.

One small campaign per cause: no lane makes the cutoff, warehouse space, supplier
capacity, and the budget (with the smallest budget that would do — checked by
re-planning with exactly that budget).
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from conftest import run_plan_in_process, write_campaign


def campaign(tmp_path, *, budget=1e6, capacity_m3=1000.0, supplier_capacity=None,
             cutoff="2026-11-01", beta=0.95):
    return write_campaign(
        tmp_path / "campaign",
        config=dict(name="svc", currency="USD", planning_date=date(2026, 9, 1),
                    promo_start=date(2026, 11, 27), promo_end=date(2026, 12, 1),
                    budget=budget, buffer_days=0, min_fill_rate=beta),
        skus=[dict(sku=s, supplier="F1", unit_cost=10.0, price=30.0, weight_kg=0.5,
                   volume_m3=0.01, case_pack=1, moq=0, production_days=10, duty_rate=0.0,
                   salvage_value=2.0, return_rate=0.0) for s in ("A", "B")],
        suppliers=[dict(supplier="F1", min_order_value=0, capacity_units=supplier_capacity)],
        warehouses=[dict(warehouse="W1", market="US", capacity_m3=capacity_m3, cutoff=cutoff)],
        lanes=[dict(warehouse="W1", mode="sea", transit_days=30, cost_per_kg=0.0,
                    cost_per_m3=100.0, volumetric_kg_per_m3=0, shipment_cost=0.0,
                    shipment_m3=None, capacity_m3=None)],
        demand=[dict(sku="A", warehouse="W1", mean=400, sd=80),
                dict(sku="B", warehouse="W1", mean=200, sd=50)],
    )


def plan(tmp_path, folder, budget=None):
    out = tmp_path / f"run_{budget}"
    code, output = run_plan_in_process(folder, out, budget=budget)
    return code, output, out


def test_no_lane_makes_the_cutoff(tmp_path):
    code, output, out = plan(tmp_path, campaign(tmp_path, cutoff="2026-09-20"))
    assert code == 3, output
    assert re.search(r"A at W1: .*no lane makes the cutoff 2026-09-20: sea misses it by 21 day", output)
    assert not out.exists()


def test_warehouse_space(tmp_path):
    code, output, _ = plan(tmp_path, campaign(tmp_path, capacity_m3=3.0))
    assert code == 3, output
    assert "warehouse space at W1" in output and "capacity_m3 is 3.00" in output


def test_supplier_capacity(tmp_path):
    code, output, _ = plan(tmp_path, campaign(tmp_path, supplier_capacity=300))
    assert code == 3, output
    assert "supplier capacity of F1" in output


def test_budget_names_the_smallest_budget_that_would_do(tmp_path):
    folder = campaign(tmp_path, budget=2000.0)
    code, output, _ = plan(tmp_path, folder)
    assert code == 3, output
    found = re.search(r"smallest budget that would do is ([\d,]+\.\d\d)", output)
    assert found, output
    smallest = float(found.group(1).replace(",", ""))
    assert smallest > 2000.0
    # That budget is enough; a little less is not.
    assert plan(tmp_path, folder, budget=smallest)[0] == 0
    assert plan(tmp_path, folder, budget=smallest * 0.99)[0] == 3


@pytest.mark.parametrize("beta", [1.0])
def test_a_certain_fill_rate_is_unreachable_with_uncertain_demand(tmp_path, beta):
    code, output, _ = plan(tmp_path, campaign(tmp_path, beta=beta))
    assert code == 3, output
    assert "no finite stock" in output
