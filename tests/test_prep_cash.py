"""When the plan pays (SPEC §6 rule 8) with a purchase-order cycle: the PO date, the
deposit paid on it, the cash rows of the model, the evaluated payments (cash.csv) and
the checker agree.

The campaign is the shape of the shared case c23_po_cycle, written here so the test
stands on its own: planning on 2026-09-01, a weekly cycle, 30 % deposits, A by sea with
order-by 2026-10-02 (PO date 2026-09-29, in September) and cash limits of 2,500 by the end
of September and 30,000 by the end of October.
"""

from __future__ import annotations

import datetime as dt

import pytest

from optimizer.io.campaign import load_campaign
from optimizer.prep.cash import po_dates
from optimizer.prep.instance import build_instance
from optimizer.settings import Settings

from checker import check_plan
from conftest import write_campaign

D = dt.date


def _campaign(folder, cycle: int | None):
    config = {"name": "po cycle", "currency": "USD", "planning_date": D(2026, 9, 1),
              "promo_start": D(2026, 11, 27), "promo_end": D(2026, 12, 1), "budget": 1_000_000.0,
              "po_cycle_days": cycle, "buffer_days": 0, "stockout_penalty": 0.0,
              "cash_limits": [{"until": D(2026, 9, 30), "limit": 2500.0},
                              {"until": D(2026, 10, 31), "limit": 30000.0}]}
    sku = {"weight_kg": 0.5, "volume_m3": 0.002, "case_pack": 1, "moq": 0, "return_rate": 0.0}
    skus = [dict(sku, sku="A", supplier="F1", unit_cost=10, price=32, production_days=0,
                 duty_rate=0.1, salvage_value=3),
            dict(sku, sku="B", supplier="F2", unit_cost=12, price=36, production_days=10,
                 duty_rate=0.0, salvage_value=4)]
    lane = {"warehouse": "FBA1", "shipment_cost": 0.0}
    lanes = [dict(lane, mode="sea", transit_days=30, cost_per_kg=0.0, cost_per_m3=90.0, volumetric_kg_per_m3=0),
             dict(lane, mode="air", transit_days=8, cost_per_kg=4.5, cost_per_m3=0.0, volumetric_kg_per_m3=167)]
    return write_campaign(
        folder, config, skus,
        [{"warehouse": "FBA1", "market": "US", "capacity_m3": 1000.0, "cutoff": D(2026, 11, 1)}], lanes,
        [{"sku": "A", "warehouse": "FBA1", "mean": 900, "sd": 250},
         {"sku": "B", "warehouse": "FBA1", "mean": 700, "sd": 200}],
        suppliers=[{"supplier": f, "min_order_value": 0, "deposit_share": 0.3} for f in ("F1", "F2")])


def test_po_date_is_the_order_by_date_rounded_down_to_the_cycle():
    start = D(2026, 9, 1)
    days = [D(2026, 9, 1), D(2026, 9, 7), D(2026, 9, 8), D(2026, 10, 2), D(2026, 10, 14)]
    assert po_dates(days, start, 1) == days
    assert po_dates(days, start, 7) == [D(2026, 9, 1), D(2026, 9, 1), D(2026, 9, 8), D(2026, 9, 29),
                                        D(2026, 10, 13)]
    assert po_dates(days, start, 30) == [start] * 3 + [D(2026, 10, 1), D(2026, 10, 1)]


def test_deposit_is_paid_on_the_po_date_and_the_rest_on_their_own_dates(tmp_path):
    inst = build_instance(load_campaign(_campaign(tmp_path / "c", 7)))
    r = inst.routes
    assert r.loc[("A", "FBA1", "sea"), ["order_by", "po_date", "ship_by"]].tolist() == [
        D(2026, 10, 2), D(2026, 9, 29), D(2026, 10, 2)]
    assert r.loc[("B", "FBA1", "air"), ["order_by", "po_date", "ship_by"]].tolist() == [
        D(2026, 10, 14), D(2026, 10, 13), D(2026, 10, 24)]
    pay = inst.payments.assign(key=[r.index[i] for i in inst.payments["route"]]).set_index(["key", "kind"])
    for key in r.index:
        assert pay.at[(key, "deposit"), "date"] == r.at[key, "po_date"]
        assert pay.at[(key, "balance"), "date"] == pay.at[(key, "freight"), "date"] == r.at[key, "ship_by"]
        assert pay.at[(key, "deposit"), "per_unit"] == pytest.approx(0.3 * inst.skus.at[key[0], "unit_cost"])


@pytest.mark.parametrize("cycle, september", [(None, 0.0), (1, 0.0), (7, 3.0)])
def test_cash_rows_count_a_deposit_by_its_po_date(tmp_path, cycle, september):
    """A by sea: its 3.00 deposit per unit falls in September with weekly POs (09-29),
    in October when each line is ordered on its order-by date (10-02)."""
    inst = build_instance(load_campaign(_campaign(tmp_path / "c", cycle)))
    sea = list(inst.routes.index).index(("A", "FBA1", "sea"))
    assert inst.cash.until == (D(2026, 9, 30), D(2026, 10, 31))
    assert inst.cash.coef[0, sea] == pytest.approx(september)
    assert inst.cash.coef[1, sea] == pytest.approx(10.0 + 0.18)  # purchase and freight; duty on 11-01


def test_plan_keeps_the_limit_with_the_deposit_on_the_po_date(tmp_path):
    """The MILP, the exact evaluation (cash.csv) and the independent checker all pay A's
    deposit on 2026-09-29: at most 833 units of A by sea (0.3 · 10 · 833 = 2,499 ≤ 2,500);
    the optimum is c23_po_cycle's 28,840.38 (30,660.30 with the deposit on the order-by date)."""
    from optimizer.workflows.planner import plan_campaign

    folder = _campaign(tmp_path / "c", 7)
    run = plan_campaign(folder, Settings(time_limit_s=30), out_dir=tmp_path / "run", progress=lambda m: None)
    ev = run.evaluation
    units = {tuple(k): u for k, u in zip(ev.lines[["sku", "warehouse", "mode"]].to_numpy(), ev.lines["units"])}
    assert units[("A", "FBA1", "sea")] <= 833
    assert ev.expected_profit == pytest.approx(28840.3803, rel=1e-3)
    september = ev.payments[ev.payments["date"] <= D(2026, 9, 30)]
    assert september[["date", "kind", "supplier"]].values.tolist() == [[D(2026, 9, 29), "deposit", "F1"]]
    assert september["amount"].sum() <= 2500.0 + 1e-6
    rep = check_plan(folder, tmp_path / "run")
    rep.assert_valid()  # plan.csv po_date, cash.csv and the cash limits, re-derived independently
    daily = plan_campaign(_campaign(tmp_path / "daily", 1), Settings(time_limit_s=30), progress=lambda m: None)
    assert daily.evaluation.expected_profit == pytest.approx(30660.30, rel=1e-3)
