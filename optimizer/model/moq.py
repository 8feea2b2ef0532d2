"""Minimum order quantities (SPEC §2 rule 2).

``moq[s]·y[s] ≤ ordered[s] ≤ U[s]·y[s]`` with ``y[s] ∈ {0,1}``.  A flag is needed
only where the MOQ can bind (``moq > case_pack``; any single case already meets a
smaller MOQ) or where a supplier minimum links to it.  ``U[s]`` is the valid
per-SKU bound from :func:`optimizer.prep.instance._route_unit_bounds`.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import combine
from optimizer.model.orders import add_orders
from optimizer.prep.instance import Instance


@family("order_placed")
def add_moq(m: pyo.ConcreteModel, inst: Instance) -> None:
    add_orders(m, inst)
    ix = inst.index
    moq = inst.skus["moq"].to_dict()
    case_pack = inst.skus["case_pack"].to_dict()
    m.FLAGGED_SKUS = pyo.Set(initialize=ix.flagged_skus, ordered=True)
    m.order_placed = pyo.Var(m.FLAGGED_SKUS, within=pyo.Binary, doc="y[s]: SKU ordered")
    binding = [s for s in ix.flagged_skus if moq[s] > case_pack[s]]
    # moq·y − ordered ≤ 0
    m.moq_lower = pyo.Constraint(
        binding,
        rule=lambda m, s: combine((float(moq[s]), m.order_placed[s]), (-1, m.ordered[s])) <= 0,
        doc="ordered ≥ moq·y",
    )
    # ordered − U·y ≤ 0
    m.moq_upper = pyo.Constraint(
        m.FLAGGED_SKUS,
        rule=lambda m, s: combine((1, m.ordered[s]), (-ix.sku_unit_bound[s], m.order_placed[s])) <= 0,
        doc="ordered ≤ U·y",
    )
