"""Minimum order quantities (SPEC §2 rule 2).

``moq[s]·y[s] ≤ ordered[s] ≤ U[s]·y[s]`` with ``y[s] ∈ {0,1}``.  A flag is needed
only where the MOQ can bind (``moq > case_pack``; any single case already meets a
smaller MOQ) or where a supplier minimum links to it.  ``U[s]`` is the valid
per-SKU bound from :func:`optimizer.instance._route_unit_bounds`.
"""

from __future__ import annotations

import pyomo.environ as pyo

from ..instance import Instance


def add_moq(m: pyo.ConcreteModel, inst: Instance) -> None:
    skus = inst.skus
    bound = inst.sku_unit_bound()
    mov = skus["supplier"].map(inst.suppliers["min_order_value"]).fillna(0.0)
    needs_flag = [
        s for s in m.ORDERED_SKUS
        if skus.at[s, "moq"] > skus.at[s, "case_pack"] or mov[s] > 0
    ]
    m.FLAGGED_SKUS = pyo.Set(initialize=needs_flag, ordered=True)
    m.order_placed = pyo.Var(m.FLAGGED_SKUS, within=pyo.Binary, doc="y[s]: SKU ordered")
    m.sku_unit_bound = {s: float(bound[s]) for s in needs_flag}
    binding = [s for s in needs_flag if skus.at[s, "moq"] > skus.at[s, "case_pack"]]
    m.moq_lower = pyo.Constraint(
        binding,
        rule=lambda m, s: m.ordered[s] >= float(skus.at[s, "moq"]) * m.order_placed[s],
        doc="ordered ≥ moq·y",
    )
    m.moq_upper = pyo.Constraint(
        m.FLAGGED_SKUS,
        rule=lambda m, s: m.ordered[s] <= m.sku_unit_bound[s] * m.order_placed[s],
        doc="ordered ≤ U·y",
    )
