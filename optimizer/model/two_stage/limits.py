"""The limits both stages share, in every scenario k (SPEC §8 rules 1, 3, 4, 5, 7, 8).

Stage 1's amount plus stage 2's amount in scenario k:

* budget: ``spend1 + spend2[k] ≤ budget``;
* cash: ``paid1[j] + paid2[k][j] ≤ limit[j]`` for each cash limit j (each stage's lines
  paid on their own dates);
* warehouse space: ``vol1[w] + vol2[k][w] ≤ capacity_m3[w]``;
* lane space: ``vol1[l] + vol2[k][l] ≤ capacity_m3[l]``;
* supplier capacity: ``Σ_{s of f} ordered1[s] + ordered2[k][s] ≤ capacity_units[f]``;
* SKU share: ``cost1[s] + cost2[k][s] ≤ α·budget``.

Each stage's own row of the same limit is implied (every amount is ≥ 0) and stays.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import combine
from optimizer.prep.recourse import TwoStage


def _both(m, b, name: str, key):
    """Stage 1's and stage 2's (block ``b``) member ``key`` of component ``name``, those that exist."""
    return [(1, comp[key]) for comp in (m.component(name), b.component(name)) if key in comp]


@family("shared_budget")
def add_shared_limits(m: pyo.ConcreteModel, ts: TwoStage) -> None:
    first = ts.stage1
    m.shared_budget = pyo.Constraint(
        m.SCENARIOS, rule=lambda m, k: combine((1, m.spend), (1, m.stage2[k].spend)) <= m.budget,
        doc="spend1 + spend2[k] ≤ budget")

    limits = list(m.CASH_LIMITS)
    m.shared_cash = pyo.Constraint(
        m.SCENARIOS, limits,
        rule=lambda m, k, j: combine(*_both(m, m.stage2[k], "cash_paid", j)) <= m.cash_limit[j],
        doc="paid1 + paid2[k] by until ≤ cash limit")

    capacity = first.warehouses["capacity_m3"].to_dict()
    warehouses = sorted(set(m.inbound_volume) | set(m.stage2[0].inbound_volume)) if len(m.SCENARIOS) else []
    m.shared_space = pyo.Constraint(
        m.SCENARIOS, warehouses,
        rule=lambda m, k, w: combine(*_both(m, m.stage2[k], "inbound_volume", w)) <= capacity[w],
        doc="vol1 + vol2[k] ≤ capacity_m3[w]")

    lanes = first.lanes
    capped = [l for l in lanes.index if lanes.at[l, "capacity_m3"] == lanes.at[l, "capacity_m3"]]

    def lane_row(m, k, w, md):
        parts = _both(m, m.stage2[k], "lane_volume", (w, md))
        if len(parts) < 2:
            return pyo.Constraint.Skip  # one stage only: its own row holds
        return combine(*parts) <= float(lanes.at[(w, md), "capacity_m3"])
    m.shared_lane_space = pyo.Constraint(m.SCENARIOS, capped, rule=lane_row,
                                         doc="lane vol1 + vol2[k] ≤ capacity_m3[l]")

    supplier_of = first.skus["supplier"].to_dict()
    cap = first.suppliers["capacity_units"].to_dict()
    skus_of = defaultdict(set)
    for s in ordered_in_either(m):
        skus_of[supplier_of[s]].add(s)
    capped_suppliers = sorted(f for f in skus_of if cap[f] == cap[f])
    m.shared_supplier_capacity = pyo.Constraint(
        m.SCENARIOS, capped_suppliers,
        rule=lambda m, k, f: combine(*(part for s in sorted(skus_of[f])
                                       for part in _both(m, m.stage2[k], "ordered", s))) <= float(cap[f]),
        doc="Σ ordered1 + ordered2[k] ≤ capacity_units[f]")

    alpha = first.max_sku_budget_share
    shared = sorted(ordered_in_either(m)) if alpha is not None else []
    m.shared_sku_share = pyo.Constraint(
        m.SCENARIOS, shared,
        rule=lambda m, k, s: combine(*_both(m, m.stage2[k], "sku_cost", s)) <= m.max_sku_share * m.budget,
        doc="cost1[s] + cost2[k][s] ≤ α·budget")


def ordered_in_either(m) -> set:
    """SKUs ordered in either stage."""
    return set(m.ORDERED_SKUS) | (set(m.stage2[0].ORDERED_SKUS) if len(m.SCENARIOS) else set())
