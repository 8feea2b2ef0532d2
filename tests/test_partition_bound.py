"""The whole campaign's bound for a plan made in parts (optimizer.workflows.partition_bound).

* It holds: on generated campaigns of every kind, small enough to solve whole to a
  proven optimum, the partitioned run's bound is at least that optimum.
* How tight it is — on the sample in 3 parts, 0.23 % above the whole campaign's own LP
  relaxation — is a benchmark figure (benchmarks/README.md), not a test.
* Its pieces: the first prices come from the parts' duals, a lane no plan uses is paid
  in equal shares, and parts that disagree on a shared row give no bound.
"""

from __future__ import annotations

import pytest

from optimizer.io.campaign import load_campaign
from optimizer.io.summary import RunSummary
from optimizer.settings import Settings
from optimizer.workflows.partition import plan_partitioned
from optimizer.workflows.partition_bound import (
    _shared_rhs,
    first_candidates,
    lane_weights,
)
from optimizer.workflows.planner import Planner
from samples.kinds import generate_kind


def _summary(budget: float) -> RunSummary:
    return RunSummary.model_validate({"campaign": "c", "currency": "USD", "status": "optimal",
                                      "expected_profit": 0.0, "spend": 0.0, "budget": budget})


def test_first_prices_are_the_parts_duals_weighted_by_budget():
    results = [{"summary": _summary(300.0), "duals": {("budget_limit", None): 0.2}},
               {"summary": _summary(100.0), "duals": {("budget_limit", None): 0.6,
                                                      ("space_limit", "W1"): -1.0}}]
    got = first_candidates(results)
    budget = [c[("budget_limit", None)] for c in got]
    assert budget[0] == pytest.approx(0.3)                  # (300·0.2 + 100·0.6) / 400
    assert budget[2] == pytest.approx(0.6)                  # the largest
    assert all(c[("space_limit", "W1")] == 0.0 for c in got)   # a negative dual prices nothing
    assert first_candidates([{"summary": _summary(1.0), "duals": None}]) == [{}]


def test_a_lane_no_plan_uses_is_paid_in_equal_shares(tmp_path):
    campaign = load_campaign(generate_kind(tmp_path / "c", 12, None, seed=2))
    lane = tuple(campaign.lanes[["warehouse", "mode"]].iloc[0])
    sku = campaign.skus["sku"].iloc[0]
    results = [{"lines": [{"sku": sku, "warehouse": lane[0], "mode": lane[1], "units": 10.0}]},
               {"lines": []}, {"lines": []}]
    weights = lane_weights(campaign, results)
    assert [w[lane] for w in weights] == [1.0, 0.0, 0.0]
    other = tuple(campaign.lanes[["warehouse", "mode"]].iloc[1])
    assert [w[other] for w in weights] == pytest.approx([1 / 3] * 3)


def test_parts_that_disagree_on_a_shared_row_give_no_bound():
    rhs, note = _shared_rhs([{"rhs": {("budget_limit", None): 100.0}},
                             {"rhs": {("budget_limit", None): 90.0}}])
    assert rhs is None and "budget_limit" in note
    rhs, _ = _shared_rhs([{"rhs": {("budget_limit", None): 100.0}}, {"rhs": {("space_limit", "W"): 5.0}}])
    assert rhs == {("budget_limit", None): 100.0, ("space_limit", "W"): 5.0}


@pytest.mark.slow
@pytest.mark.parametrize("kind, seed", [(None, 11), ("minimums", 12), ("containers", 13), ("cash", 14),
                                        ("scarce_space", 15)])
def test_the_bound_holds_the_whole_campaigns_proven_optimum(tmp_path, kind, seed):
    campaign = load_campaign(generate_kind(tmp_path / "c", 24, kind, seed=seed))
    settings = Settings(time_limit_s=60, mip_gap=1e-6)
    whole = Planner(campaign, settings, progress=lambda _: None).solve()
    assert whole.status == "optimal"
    ev, summary, _ = plan_partitioned(campaign, 3, settings, progress=lambda _: None)
    assert summary.best_bound is not None and summary.bound_evaluations >= 1
    assert summary.best_bound >= whole.expected_profit - 1e-6 * abs(whole.expected_profit)
    assert ev.expected_profit <= whole.expected_profit + 1e-6 * abs(whole.expected_profit)
    assert summary.mip_gap == pytest.approx((summary.best_bound - ev.expected_profit) / abs(ev.expected_profit),
                                            rel=1e-6)

