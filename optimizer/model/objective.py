"""Objective (SPEC §2).

Expected profit

    Σ_{s,w} [ (p − salvage + penalty)·sales[s,w] + salvage·A[s,w] − penalty·E[D[s,w]] ]
      − Σ c·units − Σ shipment_cost·n

with ``sales`` the outer approximation of ES; the constants (salvage of existing
stock, penalty on expected demand) are kept so the objective value *is* the
profit.  ``objective="spend"`` instead minimises spend (infeasibility diagnosis).
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.linear import combine
from optimizer.prep.instance import Instance


def add_objective(m: pyo.ConcreteModel, inst: Instance, objective: str = "profit") -> None:
    if objective == "spend":
        m.objective = pyo.Objective(expr=m.spend, sense=pyo.minimize)
        return
    skus, pairs = inst.skus, inst.pairs
    coef, salvage, penalty = (
        {s: float(v) for s, v in skus[col].items()}
        for col in ("sales_coef", "salvage_value", "stockout_penalty")
    )
    demand = {k: float(v) for k, v in pairs["expected_demand"].items()}
    sales_value = [(coef[s], m.sales[s, w]) for s, w in m.DEMAND_PAIRS]
    stock_value = [(salvage[s], m.available[s, w]) for s, w in m.PAIRS]
    shortfall = sum(penalty[s] * demand[(s, w)] for s, w in m.DEMAND_PAIRS)
    m.expected_profit = pyo.Expression(
        expr=combine(*stock_value, *sales_value, (-1, m.spend), constant=-shortfall)
    )
    m.objective = pyo.Objective(expr=m.expected_profit, sense=pyo.maximize)
