"""Budget (SPEC §2 rule 1): ``Σ c[s,l]·units[s,l] + Σ shipment_cost[l]·n[l] ≤ budget``.

``budget`` is a mutable Param: a finance sweep changes it and re-solves.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import combine, linear
from optimizer.model.orders import add_orders
from optimizer.model.shipments import add_shipments
from optimizer.prep.instance import Instance


@family("budget_limit")
def add_budget(m: pyo.ConcreteModel, inst: Instance) -> None:
    add_orders(m, inst)
    add_shipments(m, inst)
    ix = inst.index
    m.budget = pyo.Param(initialize=inst.budget, mutable=True, doc="cash cap")
    m.purchase_spend = pyo.Expression(
        expr=linear([ix.landed_cost[k] * ix.case_pack[k] for k in ix.routes], [m.cases[k] for k in ix.routes])
    )
    m.shipment_spend = pyo.Expression(
        expr=linear([ix.shipment_cost[l] for l in ix.fixed_cost_lanes], [m.shipments[l] for l in ix.fixed_cost_lanes])
    )
    m.spend = pyo.Expression(expr=combine((1, m.purchase_spend), (1, m.shipment_spend)))
    m.budget_limit = pyo.Constraint(
        expr=m.spend <= m.budget, doc="purchase + duty + freight + shipments ≤ budget"
    )
