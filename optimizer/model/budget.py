"""Budget (SPEC §2 rule 1): ``Σ c[s,l]·units[s,l] + Σ shipment_cost[l]·n[l] ≤ budget``.

``budget`` is a mutable Param: a finance sweep changes it and re-solves.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.linear import combine, linear
from optimizer.prep.instance import Instance


def add_budget(m: pyo.ConcreteModel, inst: Instance, enforce: bool = True) -> None:
    routes = inst.routes
    landed = dict(zip(routes.index, routes["landed_cost"].astype(float).tolist()))
    m.landed_cost = landed
    m.budget = pyo.Param(initialize=inst.budget, mutable=True, doc="cash cap")
    cp = m.case_pack
    m.purchase_spend = pyo.Expression(
        expr=linear([landed[k] * cp[k] for k in m.ROUTES], [m.cases[k] for k in m.ROUTES])
    )
    m.shipment_spend = pyo.Expression(
        expr=linear([m.shipment_cost[l] for l in m.FIXED_COST_LANES], [m.shipments[l] for l in m.FIXED_COST_LANES])
    )
    m.spend = pyo.Expression(expr=combine((1, m.purchase_spend), (1, m.shipment_spend)))
    m.budget_limit = pyo.Constraint(
        expr=m.spend <= m.budget, doc="purchase + duty + freight + shipments ≤ budget"
    )
    if not enforce:
        m.budget_limit.deactivate()
