"""ABC classes and stock-health KPIs (optimizer.evaluate.kpis): a hand-checked example and data/tiny."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

import pandas as pd
import pytest

from optimizer import report
from optimizer.evaluate import kpis
from optimizer.settings import Settings
from optimizer.workflows.planner import plan_campaign

from conftest import REPO

TINY = REPO / "data" / "tiny"


# ---------------------------------------------------------------- ABC rule


def test_abc_hand_example():
    # revenue 500, 300, 100, 60, 40 of 1,000: share ranked above each = 0, 50, 80, 90, 96 %
    rev = pd.Series({"S3": 100.0, "S1": 500.0, "S5": 40.0, "S2": 300.0, "S4": 60.0})
    abc = kpis.abc_classes(rev)
    assert list(abc.index) == ["S1", "S2", "S3", "S4", "S5"]
    assert list(abc["abc_class"]) == ["A", "A", "B", "B", "C"]
    assert list(abc["rank"]) == [1, 2, 3, 4, 5]
    assert abc["cumulative_share"].tolist() == pytest.approx([0.5, 0.8, 0.9, 0.96, 1.0])


@pytest.mark.parametrize("revenue, classes", [
    ({"a": 90.0, "b": 10.0}, ["A", "B"]),                 # one SKU over 80 % is the A class
    ({"a": 70.0, "b": 20.0, "c": 10.0}, ["A", "A", "B"]),  # b crosses 80 % so is A; c starts at 90 %
    ({"a": 0.0, "b": 0.0}, ["C", "C"]),                   # no revenue at all: all C
    ({"b": 50.0, "a": 50.0, "c": 0.0}, ["A", "A", "C"]),   # ties ranked by SKU; zero revenue is C
])
def test_abc_edges(revenue, classes):
    abc = kpis.abc_classes(pd.Series(revenue))
    assert list(abc["abc_class"]) == classes
    assert list(abc.index) == sorted(revenue, key=lambda s: (-revenue[s], s))


# ---------------------------------------------------------------- hand-built plan


def _hand_plan():
    """7 SKUs, price 10; purchase cost 4 (S6, S7: 2); 5 promo days.

    S1 sells 30 + 20 at two warehouses, S2 30, S3 10, S4 6, S5 4 (revenue 500, 300,
    100, 60, 40); S6 has stock and no demand; S7 neither (not in the pairs).
    """
    skus = pd.DataFrame({
        "sku": [f"S{i}" for i in range(1, 8)],
        "price": 10.0,
        "category": ["x", "x", "y", "y", "y", "z", None],
        "name": [f"SKU {i}" for i in range(1, 8)],
    }).set_index("sku")
    rows = [  # sku, warehouse, available, expected sales, expected demand, P(stockout)
        ("S1", "W1", 40, 30, 35, 0.3),
        ("S1", "W2", 20, 20, 30, 0.8),
        ("S2", "W1", 40, 30, 32, 0.2),
        ("S3", "W1", 10, 10, 20, 0.9),
        ("S4", "W1", 12, 6, 6, 0.1),
        ("S5", "W1", 8, 4, 4, 0.05),
        ("S6", "W1", 5, 0, 0, 0.0),
    ]
    pairs = pd.DataFrame(rows, columns=["sku", "warehouse", "available", "expected_sales",
                                        "expected_demand", "stockout_probability"])
    pairs = pairs.set_index(["sku", "warehouse"]).astype(float)
    pairs["expected_leftover"] = pairs["available"] - pairs["expected_sales"]
    pairs["purchase_cost"] = [4.0, 4, 4, 4, 4, 4, 2]
    # As evaluate_plan writes it: leftover at purchase cost.
    pairs["leftover_cost"] = pairs["expected_leftover"] * pairs["purchase_cost"]
    config = SimpleNamespace(promo_start=dt.date(2026, 11, 27), promo_end=dt.date(2026, 12, 1),
                             currency="USD")
    inst = SimpleNamespace(skus=skus, campaign=SimpleNamespace(config=config))
    return inst, SimpleNamespace(pairs=pairs)


def test_hand_built_abc_summary():
    inst, ev = _hand_plan()
    assert kpis.promo_days(inst) == 5
    t = kpis.abc_summary(inst, ev).set_index("abc_class")
    assert list(t.index) == ["A", "B", "C", "Total"]
    # A = S1, S2; B = S3, S4; C = S5, S6, S7
    assert t["skus"].tolist() == [2, 2, 3, 7]
    assert t["sku_share"].tolist() == pytest.approx([2 / 7, 2 / 7, 3 / 7, 1])
    assert t["expected_revenue"].tolist() == pytest.approx([800, 160, 40, 1000])
    assert t["revenue_share"].tolist() == pytest.approx([0.8, 0.16, 0.04, 1])
    # stock value: A (40+20+40)·4 = 400, B (10+12)·4 = 88, C 8·4 + 5·2 = 42; total 530
    assert t["stock_value"].tolist() == pytest.approx([400, 88, 42, 530])
    assert t["stock_value_share"].tolist() == pytest.approx([400 / 530, 88 / 530, 42 / 530, 1])
    # sell-through: A 80/100, B 16/22, C 4/13, all 100/135
    assert t["sell_through"].tolist() == pytest.approx([0.8, 16 / 22, 4 / 13, 100 / 135])
    # turnover days = stock value / (COGS / 5): A 400/(320/5), B 88/(64/5), C 42/(16/5)
    assert t["turnover_days"].tolist() == pytest.approx([6.25, 6.875, 13.125, 530 / 80])
    # pairs with demand: A 3 (S1·W2 over 0.5), B 2 (S3), C 1 (S5 only; S6 has no demand)
    assert t["demand_pairs"].tolist() == [3, 2, 1, 6]
    assert t["pairs_stocking_out"].tolist() == [1, 1, 0, 2]
    assert t["stockout_rate"].tolist() == pytest.approx([1 / 3, 0.5, 0.0, 1 / 3])
    assert t["expected_unmet_units"].tolist() == pytest.approx([17, 10, 0, 27])
    # leftover cash: A (10+0+10)·4, B 6·4, C 4·4 + 5·2
    assert t["leftover_cash"].tolist() == pytest.approx([80, 24, 26, 130])


def test_hand_built_sku_kpis():
    inst, ev = _hand_plan()
    s = kpis.sku_kpis(inst, ev).set_index("sku")
    assert list(s.index) == ["S1", "S2", "S3", "S4", "S5", "S6", "S7"]
    assert s["abc_class"].tolist() == ["A", "A", "B", "B", "C", "C", "C"]
    assert s.at["S1", "available_units"] == 60 and s.at["S1", "expected_revenue"] == 500
    assert s.at["S1", "turnover_days"] == pytest.approx(240 / (200 / 5))
    assert math.isinf(s.at["S6", "turnover_days"])  # stock, no sales
    assert math.isnan(s.at["S7", "turnover_days"]) and math.isnan(s.at["S7", "sell_through"])
    assert s.at["S7", "category"] == "" and s.at["S3", "category"] == "y"
    by_cat = kpis.kpis_by(inst, ev, "category").set_index("category")
    assert list(by_cat.index) == ["", "x", "y", "z", "Total"]
    assert by_cat.at["x", "expected_revenue"] == pytest.approx(800)
    assert by_cat.at["y", "stock_value"] == pytest.approx(120)


def test_report_abc_table_formats_the_summary():
    inst, ev = _hand_plan()
    t = report.abc_table(inst, ev)
    assert t["class"].tolist() == ["A", "B", "C", "Total"]
    assert t.loc[0, "share of expected revenue"] == "80.0%"
    assert t.loc[0, "turnover days"] == "6.2"  # 6.25 shown with one decimal
    assert t.loc[3, "cash in expected leftover (USD)"] == "130.00"  # the currency in the header: no wrap


# ---------------------------------------------------------------- on data/tiny's plan


@pytest.fixture(scope="module")
def tiny():
    run = plan_campaign(TINY, Settings(time_limit_s=20), progress=lambda m: None)
    return run.instance, run.evaluation, run.summary


def test_tiny_kpis_agree_with_the_evaluation(tiny):
    inst, ev, summary = tiny
    s = kpis.sku_kpis(inst, ev)
    assert len(s) == len(inst.skus) and s["sku"].is_unique
    t = kpis.abc_summary(inst, ev).set_index("abc_class")
    total = t.loc["Total"]
    assert total["leftover_cash"] == pytest.approx(summary.expected_leftover_cost, abs=1e-3)
    assert total["expected_leftover_units"] == pytest.approx(summary.expected_leftover_units, abs=1e-3)
    assert total["sell_through"] == pytest.approx(ev.pairs["expected_sales"].sum() / ev.pairs["available"].sum())
    assert total["expected_unmet_units"] == pytest.approx(
        summary.expected_demand_units - summary.expected_sales_units, abs=1e-3)
    for col in ("skus", "expected_revenue", "stock_value", "leftover_cash", "demand_pairs"):
        assert t.loc[["A", "B", "C"], col].sum() == pytest.approx(total[col])
    assert t.loc[["A", "B", "C"], "revenue_share"].sum() == pytest.approx(1.0)
    # A is the smallest top set reaching 80 % of revenue
    a = s[s["abc_class"] == "A"]
    assert a["revenue_share"].sum() >= 0.8 - 1e-9
    assert a["revenue_share"].sum() - a["revenue_share"].min() < 0.8
    assert (s["abc_class"].map({"A": 0, "B": 1, "C": 2}).diff().dropna() >= 0).all()
    assert (s["revenue_share"].diff().dropna() <= 1e-12).all()
    days = (inst.campaign.config.promo_end - inst.campaign.config.promo_start).days + 1
    assert total["turnover_days"] == pytest.approx(total["stock_value"] / (total["cogs"] / days))
    shown = report.abc_table(inst, ev)
    assert shown["class"].tolist() == ["A", "B", "C", "Total"]
    assert shown.loc[3, "share of expected revenue"] == "100.0%"
