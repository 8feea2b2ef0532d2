"""Objective (SPEC §2, §6).

Expected profit

    Σ_{s,w} [ (p − v + penalty)·sales[s,w] + (v − k)·A[s,w] − penalty·E[D[s,w]] ]
      − Σ c·units − Σ shipment_cost·n

with ``sales`` the outer approximation of ES and, per pair, ``p`` the value of a
unit sold, ``v`` of a leftover and ``k`` the holding cost of a unit in stock
(:mod:`optimizer.prep.economics`; without SPEC §6 inputs ``v`` is the salvage value
and ``k = 0``).  The constants (the value of existing stock, the penalty on
expected demand) are kept so the objective value *is* the profit.
``objective="spend"`` instead minimises spend (infeasibility diagnosis).
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.budget import add_budget
from optimizer.model.demand import add_expected_sales
from optimizer.model.family import family
from optimizer.model.linear import combine
from optimizer.prep.instance import Instance


@family("objective")
def add_objective(m: pyo.ConcreteModel, inst: Instance, objective: str = "profit") -> None:
    add_budget(m, inst)
    if objective == "spend":
        m.objective = pyo.Objective(expr=m.spend, sense=pyo.minimize)
        return
    add_expected_sales(m, inst)
    pairs = inst.pairs
    coef, stock, penalty, demand = (
        {k: float(v) for k, v in pairs[col].items()}
        for col in ("sales_coef", "stock_coef", "stockout_penalty", "expected_demand")
    )
    sales_value = [(coef[k], m.sales[k]) for k in m.DEMAND_PAIRS]
    stock_value = [(stock[k], m.available[k]) for k in m.PAIRS]
    shortfall = sum(penalty[k] * demand[k] for k in m.DEMAND_PAIRS)
    m.expected_profit = pyo.Expression(
        expr=combine(*stock_value, *sales_value, (-1, m.spend), constant=-shortfall)
    )
    m.objective = pyo.Objective(expr=m.expected_profit, sense=pyo.maximize)
