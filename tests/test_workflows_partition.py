"""Large catalogues as supplier groups (optimizer.workflows.partition).

* The split shares out the budget, space and SKUs exactly, and keeps each
  supplier whole.
* A partitioned plan passes the independent checker, and on a Dask LocalCluster
  it is the same plan as in one process.
"""

from __future__ import annotations

import io
import json
import tomllib

import pandas as pd
import pytest

from optimizer.io.campaign import load_campaign
from optimizer.prep.instance import Overrides
from optimizer.workflows.distributed import dask_client
from optimizer.workflows.partition import plan_partitioned, split_campaign
from samples.campaign import generate_campaign

from checker import check_plan
from conftest import run_cli


@pytest.fixture(scope="module")
def campaign_60(tmp_path_factory):
    folder = generate_campaign(tmp_path_factory.mktemp("c60") / "campaign", n_skus=60, seed=3)
    return load_campaign(folder)


def _read(part, name):
    return pd.read_csv(io.StringIO(part.files[name]))


def test_split_shares_out_budget_space_and_skus(campaign_60):
    parts = split_campaign(campaign_60, 3)
    assert len(parts) == 3
    skus = pd.concat([_read(p, "skus.csv") for p in parts])
    assert sorted(skus["sku"]) == sorted(campaign_60.skus["sku"])
    assert skus.groupby("supplier")["sku"].count().to_dict() == \
        campaign_60.skus.groupby("supplier")["sku"].count().to_dict()
    for p in parts:  # a supplier lives in one part only
        assert set(_read(p, "suppliers.csv")["supplier"]) == set(_read(p, "skus.csv")["supplier"])
    budgets = [tomllib.loads(p.files["campaign.toml"])["budget"] for p in parts]
    assert sum(budgets) == pytest.approx(campaign_60.config.budget, rel=1e-9)
    space = sum(_read(p, "warehouses.csv").set_index("warehouse")["capacity_m3"] for p in parts)
    original = campaign_60.warehouses.set_index("warehouse")["capacity_m3"]
    assert (space <= original * (1 + 1e-9)).all()
    assert space.sum() == pytest.approx(original.sum(), rel=1e-9)


@pytest.mark.slow
def test_partitioned_plan_passes_the_checker(campaign_60, tmp_path):
    out = tmp_path / "run"
    proc = run_cli(["plan", str(campaign_60.root), "--parts", "3", "--time-limit", "5",
                    "--out", str(out)])
    assert proc.returncode == 0, proc.stderr
    check_plan(campaign_60.root, out).assert_valid()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "partitioned" and summary["best_bound"] is None
    parts = pd.read_csv(out / "parts.csv")
    assert parts["skus"].sum() == 60 and len(parts) == 3
    # The merge never loses what the parts earned on their own shares.
    assert summary["expected_profit"] >= summary["merged_profit_before_polish"] - 1e-6


@pytest.fixture(scope="module")
def campaign_60_economics(tmp_path_factory):
    folder = generate_campaign(tmp_path_factory.mktemp("c60e") / "campaign", n_skus=60, seed=3,
                               economics=True)
    return load_campaign(folder)


def test_split_shares_out_cash_limits_and_keeps_seller_economics(campaign_60_economics):
    c = campaign_60_economics
    parts = split_campaign(c, 3)
    limits = [tomllib.loads(p.files["campaign.toml"])["cash_limits"] for p in parts]
    for j, limit in enumerate(c.config.cash_limits):
        assert sum(part[j]["limit"] for part in limits) == pytest.approx(limit.limit, rel=1e-9)
    skus = pd.concat([_read(p, "skus.csv") for p in parts]).set_index("sku")
    # costs are written as quoted, so the part converts them exactly once
    quoted = c.skus.set_index("sku")["quoted_unit_cost"]
    assert (skus["unit_cost"] == quoted.reindex(skus.index)).all()
    part_campaign = tomllib.loads(parts[0].files["campaign.toml"])
    assert part_campaign["fx"] == {"CNY": 0.14} and part_campaign["leftover_months"] == 2
    fees = pd.concat([_read(p, "fees.csv") for p in parts if "fees.csv" in p.files])
    assert len(fees) == len(c.fees)


@pytest.mark.slow
def test_partitioned_plan_with_seller_economics_passes_the_checker(campaign_60_economics, tmp_path):
    out = tmp_path / "run"
    proc = run_cli(["plan", str(campaign_60_economics.root), "--parts", "2", "--time-limit", "5",
                    "--out", str(out)])
    assert proc.returncode == 0, proc.stderr
    check_plan(campaign_60_economics.root, out).assert_valid()


@pytest.mark.distributed
def test_dask_partitioned_plan_equals_single_process(repo):
    tiny = load_campaign(repo / "data" / "tiny")
    exact = Overrides(mip_gap=0.0, time_limit_s=30)
    ev_single, _, parts_single = plan_partitioned(tiny, 2, exact)
    with dask_client("local", 2) as client:
        ev_dask, _, parts_dask = plan_partitioned(tiny, 2, exact, client)
    pd.testing.assert_frame_equal(ev_single.lines, ev_dask.lines)
    assert ev_dask.expected_profit == pytest.approx(ev_single.expected_profit, rel=1e-12)
    assert parts_dask["status"].tolist() == parts_single["status"].tolist() == ["optimal"] * 2
