"""Cash limits (SPEC §6 rule 8): for each ``[[cash_limits]]`` entry j,

    Σ_r coef[j,r]·case_pack[r]·cases[r] + Σ_l lane_coef[j,l]·n[l] ≤ cash_limit[j],

the payments of the plan dated on or before ``until_j`` (deposits on the order-by
date, balances and freight on the ship-by date, duty on arrival, shipments on the
lane's ship-by date; :mod:`optimizer.prep.cash`).  ``cash_limit`` is a mutable
Param, like the budget.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import linear
from optimizer.model.orders import add_orders
from optimizer.model.shipments import add_shipments
from optimizer.prep.instance import Instance


@family("cash_row")
def add_cash_limits(m: pyo.ConcreteModel, inst: Instance) -> None:
    add_orders(m, inst)
    add_shipments(m, inst)
    ix = inst.index
    cash = inst.cash
    limits = range(len(cash))
    m.CASH_LIMITS = pyo.Set(initialize=list(limits), ordered=True)
    m.cash_limit = pyo.Param(m.CASH_LIMITS, initialize=dict(enumerate(cash.limit.tolist())),
                             mutable=True, doc="cash paid up to a date ≤ limit")
    lane_pos = {l: i for i, l in enumerate(inst.lanes.index)}

    def paid(m, j):
        coef = cash.coef[j]
        terms = [(coef[i] * ix.case_pack[k], m.cases[k]) for i, k in enumerate(ix.routes) if coef[i] > 0]
        terms += [(cash.lane_coef[j, lane_pos[l]], m.shipments[l]) for l in ix.fixed_cost_lanes
                  if cash.lane_coef[j, lane_pos[l]] > 0]
        return linear(*zip(*terms)) if terms else linear([], [])
    m.cash_paid = pyo.Expression(m.CASH_LIMITS, rule=paid, doc="payments dated ≤ until")
    m.cash_row = pyo.Constraint(
        m.CASH_LIMITS,
        rule=lambda m, j: m.cash_paid[j] <= m.cash_limit[j] if m.cash_paid[j].expr.args else pyo.Constraint.Skip,
        doc="payments dated ≤ until ≤ cash limit")
