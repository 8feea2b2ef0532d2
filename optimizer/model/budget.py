"""Budget (SPEC §2 rule 1): ``Σ c[s,l]·units[s,l] + Σ shipment_cost[l]·n[l] ≤ budget``.

``budget`` is a mutable Param: a finance sweep changes it and re-solves.
"""

from __future__ import annotations

import pyomo.environ as pyo

from ..instance import Instance


def add_budget(m: pyo.ConcreteModel, inst: Instance, enforce: bool = True) -> None:
    landed = inst.routes["landed_cost"].to_dict()
    m.landed_cost = landed
    m.budget = pyo.Param(initialize=inst.budget, mutable=True, doc="cash cap")
    m.purchase_spend = pyo.Expression(expr=sum(landed[k] * m.units[k] for k in m.ROUTES))
    m.shipment_spend = pyo.Expression(
        expr=sum(m.shipment_cost[l] * m.shipments[l] for l in m.FIXED_COST_LANES)
    )
    m.spend = pyo.Expression(expr=m.purchase_spend + m.shipment_spend)
    m.budget_limit = pyo.Constraint(
        expr=m.spend <= m.budget, doc="purchase + duty + freight + shipments ≤ budget"
    )
    if not enforce:
        m.budget_limit.deactivate()
