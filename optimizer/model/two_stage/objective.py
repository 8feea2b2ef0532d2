"""The two-stage objective (SPEC §8): ``Σ_k π_k·profit_k``, with

    profit_k = Σ_{s,w} [ sales_coef·sales[k] + stock_coef·A[k] − penalty·E_k[D] ]
               − spend1 − spend2[k]

as in :mod:`optimizer.model.objective`, with scenario k's expected sales, stock and
demand.  The constants are kept so the objective value *is* the expected profit.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import combine
from optimizer.model.two_stage.sales import add_scenario_sales
from optimizer.model.two_stage.stock import add_scenario_stock
from optimizer.prep.recourse import TwoStage


@family("objective")
def add_two_stage_objective(m: pyo.ConcreteModel, ts: TwoStage) -> None:
    add_scenario_stock(m, ts)
    add_scenario_sales(m, ts)
    d = ts.demand
    pairs = ts.stage1.pairs
    coef, stock, penalty = (pairs[c].to_dict() for c in ("sales_coef", "stock_coef", "stockout_penalty"))

    def profit(m, k):
        sales = [(coef[(s, w)], m.scenario_sales[k, s, w]) for s, w in d.pairs]
        held = [(stock[p], m.scenario_stock[(k,) + p]) for p in m.ALL_PAIRS if stock[p]]
        shortfall = sum(penalty[p] * d.expected_demand[k, j] for j, p in enumerate(d.pairs))
        return combine(*sales, *held, (-1, m.spend), (-1, m.stage2[k].spend), constant=-shortfall)

    m.scenario_profit = pyo.Expression(m.SCENARIOS, rule=profit, doc="profit_k")
    pi = d.probabilities
    m.expected_profit = pyo.Expression(expr=combine(*((float(pi[k]), m.scenario_profit[k]) for k in m.SCENARIOS)))
    m.objective = pyo.Objective(expr=m.expected_profit, sense=pyo.maximize)
