"""The Lagrangian bound by supplier (optimizer.solve.supplier_bound): valid against proven
optima, tighter than the LP where a supplier minimum binds, and reported by the pipeline."""

from __future__ import annotations

import pytest

from optimizer.io.campaign import load_campaign
from optimizer.settings import Settings
from optimizer.solve.highs import lp_relaxation
from optimizer.solve.supplier_bound import column_blocks, supplier_bound
from optimizer.workflows.planner import Planner
from samples.kinds import generate_kind

pytestmark = pytest.mark.slow   # generated campaigns, solved to proven optimality


def _solved(tmp_path, n: int, seed: int, messages: list | None = None) -> Planner:
    campaign = load_campaign(generate_kind(tmp_path / "c", n, "minimums", seed=seed))
    planner = Planner(campaign, Settings(time_limit_s=60, mip_gap=1e-6),
                      progress=(messages.append if messages is not None else lambda _: None))
    return planner


@pytest.mark.parametrize("n, seed", [(16, 4), (16, 5)])
def test_the_bound_holds_the_proven_optimum_and_is_below_the_lp(tmp_path, n, seed):
    planner = _solved(tmp_path, n, seed)
    result = planner.solve()
    assert result.status == "optimal"
    link = planner.solver.link
    blocks, flags = column_blocks(link.columns, planner.instance.skus["supplier"].to_dict())
    got = supplier_bound(link.lp(), blocks, flags, time_limit_s=30)
    assert got.bound is not None and got.suppliers_split >= 1
    assert got.bound >= result.expected_profit - 1e-6 * abs(result.expected_profit)
    assert got.bound < got.lp_value - 1.0      # a supplier the LP used below its minimum


def test_duals_of_the_wrong_sign_give_no_bound_rather_than_a_wrong_one(tmp_path):
    planner = _solved(tmp_path, 16, 4)
    planner.solve()
    link = planner.solver.link
    blocks, flags = column_blocks(link.columns, planner.instance.skus["supplier"].to_dict())
    status, (x, duals, col_duals) = lp_relaxation(link.lp(), time_limit_s=30)
    assert status == "optimal"
    assert supplier_bound(link.lp(), blocks, flags, time_limit_s=30, solution=(x, duals, col_duals)).bound is not None
    flipped = supplier_bound(link.lp(), blocks, flags, time_limit_s=30, solution=(x, -duals, col_duals))
    assert flipped.bound is None


def test_the_pipeline_reports_it_and_keeps_the_smallest_bound(tmp_path):
    messages: list[str] = []
    planner = _solved(tmp_path, 16, 4, messages)
    result = planner.solve()
    said = [m for m in messages if m.startswith("supplier bound")]
    assert said
    reported = float(said[0].split()[2].replace(",", ""))
    assert result.bound <= reported + 1e-6


def test_a_campaign_without_minimums_has_no_supplier_bound(tmp_path):
    campaign = load_campaign(generate_kind(tmp_path / "c", 16, "minimums", seed=4))
    assert (campaign.suppliers["min_order_value"] > 0).any()
    campaign.suppliers["min_order_value"] = 0.0
    messages: list[str] = []
    planner = Planner(campaign, Settings(time_limit_s=10), progress=messages.append)
    assert not len(planner.model.MIN_VALUE_SUPPLIERS)
    planner.solve()
    assert not any(m.startswith("supplier bound") for m in messages)
