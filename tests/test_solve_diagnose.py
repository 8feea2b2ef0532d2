"""Infeasible service targets (SPEC §2 rule 6): exit code 3 and a message naming the cause.

One small campaign per cause: no lane makes the cutoff, warehouse space, supplier
capacity, the budget and a cash limit (each with the smallest amount that would do —
checked by re-planning with exactly that amount).
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
    assert "warehouse space at W1" in output and "more than capacity_m3 = 3.00" in output


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


def test_several_simultaneous_causes_are_each_named_with_amount_and_pairs(tmp_path):
    # min_fill_rate 0.9 on certain demand: each pair needs 90 % of its mean in stock.
    #   A@W1 (F1): 90 units × 0.01 m³ = 0.9 m³ into W1, which has 0.5 m³  -> 0.4 m³ more space
    #   B@W2 (F2): 135 units from F2, whose capacity is 50 units           -> 85 units more capacity
    #   C@W2 (F1): 90 units × 50 = 4,500 of spend; the share cap is 0.3 × 10,000 -> 1,500 short
    # (spend 900 + 1,350 + 4,500 = 6,750 fits the budget: the budget is not a cause)
    sku = dict(weight_kg=0.5, case_pack=1, moq=0, production_days=10, duty_rate=0.0, salvage_value=0.0,
               return_rate=0.0, price=100.0)
    folder = write_campaign(
        tmp_path / "three",
        config=dict(name="three causes", currency="USD", planning_date=date(2026, 9, 1),
                    promo_start=date(2026, 11, 27), promo_end=date(2026, 12, 1), budget=10_000.0,
                    buffer_days=0, min_fill_rate=0.9, max_sku_budget_share=0.3),
        skus=[dict(sku="A", supplier="F1", unit_cost=10.0, volume_m3=0.01, **sku),
              dict(sku="B", supplier="F2", unit_cost=10.0, volume_m3=0.001, **sku),
              dict(sku="C", supplier="F1", unit_cost=50.0, volume_m3=0.001, **sku)],
        suppliers=[dict(supplier="F1", min_order_value=0, capacity_units=None),
                   dict(supplier="F2", min_order_value=0, capacity_units=50)],
        warehouses=[dict(warehouse="W1", market="US", capacity_m3=0.5, cutoff="2026-11-01"),
                    dict(warehouse="W2", market="US", capacity_m3=100.0, cutoff="2026-11-01")],
        lanes=[dict(warehouse=w, mode="sea", transit_days=30, cost_per_kg=0.0, cost_per_m3=0.0,
                    volumetric_kg_per_m3=0, shipment_cost=0.0, shipment_m3=None, capacity_m3=None)
               for w in ("W1", "W2")],
        demand=[dict(sku="A", warehouse="W1", mean=100, sd=0), dict(sku="B", warehouse="W2", mean=150, sd=0),
                dict(sku="C", warehouse="W2", mean=100, sd=0)])
    code, output = run_plan_in_process(folder, tmp_path / "run")
    assert code == 3, output
    assert "warehouse space at W1: 0.40 m³ more than capacity_m3 = 0.50 (pairs: A@W1)" in output
    assert "supplier capacity of F2: 85 units more than capacity_units = 50 (pairs: B@W2)" in output
    assert re.search(r"SKU C: the share cap max_sku_budget_share = 0.3 allows 3,000.00 USD of spend, "
                     r"1,500.00 short of its target \(pairs: C@W2\)", output), output
    assert "budget:" not in output


def test_cash_limit_names_the_limit_and_the_smallest_that_would_do(tmp_path):
    """Everything is ordered by 2026-09-22 (order-by = cutoff − 30 − 10 days), so a cash
    limit on 2026-09-30 caps the whole purchase: the message names it and the smallest
    limit that meets the targets — and planning with that limit succeeds."""
    folder = campaign(tmp_path)
    text = (folder / "campaign.toml").read_text()
    (folder / "campaign.toml").write_text(text + "\n[[cash_limits]]\nuntil = 2026-09-30\nlimit = 2000.0\n")
    code, output, _ = plan(tmp_path, folder)
    assert code == 3, output
    found = re.search(r"cash limit until 2026-09-30: ([\d,.]+) USD more than 2,000.00 "
                      r"\(the smallest cash limit that would do is ([\d,.]+)\)", output)
    assert found, output
    smallest = float(found[2].replace(",", ""))
    (folder / "campaign.toml").write_text(text + f"\n[[cash_limits]]\nuntil = 2026-09-30\nlimit = {smallest}\n")
    code, output, _ = plan(tmp_path, folder, budget=1e6)
    assert code == 0, output
