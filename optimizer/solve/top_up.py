"""Top-ups of a stage-1 plan, scenario by scenario, without a solver (SPEC §8).

Given stage 1's units ``u1``, the top-up in scenario k is an ordinary one-stage plan of
stage 2 (the campaign seen from the recourse date over ``[recourse] modes``) with what
stage 1 left: its existing stock is ``E + u1`` per pair, its demand scenario k's, its budget
the reserve ``B − spend1``, its warehouse space, lane space and supplier capacity the
remainders after stage 1's, each cash limit less what stage 1 pays by its date, and each
SKU's share cap ``α·B − cost1[s]``.  Minimums apply to the top-up's own orders (a top-up is
a new purchase order and new shipments), as in the two-stage model.

:class:`TopUps` solves each such plan with the one-stage pipeline's solver-free start
(:mod:`optimizer.solve.price_start`: the priced relaxation, rounded, repaired and filled by
:mod:`optimizer.solve.rounding`), on one set of arrays reset per scenario.  A top-up is kept
only when it meets every rule and earns more than none (else the scenario gets none), so the
profits evaluated on them are those of a feasible two-stage plan: a lower estimate of what
the best top-ups give.  A scenario where not one case of any route pays at stage 1's stock
or fits the reserve gets none without running the heuristic (ES is concave: if the first
case does not pay, no more of it does).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from optimizer.prep.recourse import TwoStage
from optimizer.prep.sales_curve import DemandCurve
from optimizer.solve.price_start import PriceStart
from optimizer.solve.rounding import RoundingHeuristic

#: The price start of a top-up: passes over the price families and bisections per price.
TOP_UP_PRICE_PASSES, TOP_UP_BISECTIONS = 1, 12
#: Seconds a top-up's lane local search may take (opening or closing a per-use lane): on the
#: sample with a reserve, 0.01 s kept 99.999 % of what 0.05 s earns in 60 % of the time.
TOP_UP_LANE_SEARCH_S = 0.01
#: A reserve that buys at most this many cases of the cheapest route is spent by the fill
#: alone (case by case, the best gain per cost first), without the price start.
SMALL_RESERVE_CASES = 20


def scenario_curve(ts: TwoStage, pairs: pd.DataFrame, k: int) -> DemandCurve:
    """ES of scenario k's demand at each of ``pairs`` (a pair without scenario demand keeps its own)."""
    d = ts.demand
    column = d.pairs.get_indexer(pairs.index)
    live, c = column >= 0, np.maximum(column, 0)
    return DemandCurve(np.where(live, d.mean[k, c], pairs["mean"].to_numpy(float)),
                       np.where(live, d.sd[k, c], pairs["sd"].to_numpy(float)),
                       np.where(live, d.dist[k, c], pairs["dist"].to_numpy()))


class TopUps:
    """The top-up of stage 1's ``u1`` in each scenario of ``ts`` (module docstring)."""

    def __init__(self, ts: TwoStage, u1: pd.Series | None):
        self.ts = ts
        first = RoundingHeuristic(ts.stage1)
        units1 = np.zeros(len(ts.stage1.routes)) if u1 is None else \
            u1.reindex(ts.stage1.routes.index).fillna(0.0).to_numpy(float)
        used = first.usage(units1)
        #: Stage 1's stock per pair (stage 1's pairs) and the budget it leaves: the reserve.
        self.stage1_stock, self.reserve = used["stock"], ts.stage1.budget - used["spend"]
        # A top-up is small: one pass of prices, fewer bisections (the start of a heuristic).
        knobs = ts.stage2.settings.update(price_passes=TOP_UP_PRICE_PASSES, price_bisections=TOP_UP_BISECTIONS)
        second = self.second = dataclasses.replace(ts.stage2, settings=knobs)
        h = self.h = RoundingHeuristic(second)
        stock1 = pd.Series(used["stock"], index=ts.stage1.pairs.index)
        self._existing = stock1.reindex(second.pairs.index).fillna(second.pairs["existing"]).to_numpy(float)
        h.share_of = ts.stage1.budget
        h.sku_cost_committed = pd.Series(used["sku_cost"], index=ts.stage1.skus.index) \
            .reindex(second.skus.index).fillna(0.0).to_numpy(float)
        h.w_cap = h.w_cap - pd.Series(used["wh_vol"], index=ts.stage1.warehouses.index) \
            .reindex(second.warehouses.index).fillna(0.0).to_numpy(float)
        h.l_cap = h.l_cap - pd.Series(used["lane_vol"], index=ts.stage1.lanes.index) \
            .reindex(second.lanes.index).fillna(0.0).to_numpy(float)
        h.f_cap = h.f_cap - pd.Series(used["sup_units"], index=ts.stage1.suppliers.index) \
            .reindex(second.suppliers.index).fillna(0.0).to_numpy(float)
        h.cash_limit = h.cash_limit - used["cash"]
        h.p_existing = self._existing
        self.prices = PriceStart(h)
        usable = h.case_cost[h.max_cases > 0]
        #: Whether the reserve is small enough for the fill alone (:data:`SMALL_RESERVE_CASES`).
        self.small = bool(len(usable)) and self.reserve <= SMALL_RESERVE_CASES * float(usable.min())

    def every_scenario(self, deadline: float | None = None) -> list[pd.Series]:
        """The top-up in every scenario; past ``deadline`` (a ``time.perf_counter()`` value) the
        scenarios left get none — still a feasible plan, valued low."""
        none = pd.Series(0.0, index=self.second.routes.index)
        return [none if deadline is not None and time.perf_counter() > deadline else self.scenario(k)
                for k in range(len(self.ts.demand))]

    def scenario(self, k: int, time_limit_s: float = TOP_UP_LANE_SEARCH_S) -> pd.Series:
        """Units per stage-2 route of the top-up in scenario ``k`` (zeros: none pays or fits)."""
        h, second = self.h, self.second
        zero = pd.Series(0.0, index=second.routes.index)
        if not h.enabled or not len(second.routes) or self.reserve <= 0:
            return zero
        h.inst = dataclasses.replace(second, sales_curve=scenario_curve(self.ts, second.pairs, k))
        if not self._any_case_pays(h):
            return zero
        start = np.zeros(len(second.routes)) if self.small else self.prices.units(self.reserve)
        units = h.plan(start, budget=self.reserve, time_limit_s=time_limit_s)
        if units is None:
            return zero
        cases = units / h.cp
        # a heuristic's plan is kept only when it meets every rule and earns more than no top-up
        if not h.feasible(cases) or h.profit(cases) <= h.profit(np.zeros_like(cases)) + 1e-9:
            return zero
        return pd.Series(units, index=second.routes.index)


    def _any_case_pays(self, h: RoundingHeuristic) -> bool:
        """Whether one case of some route earns more than it costs at stage 1's stock and fits the
        reserve (ES is concave: where the first case does not pay, no top-up of it does)."""
        stock = self._existing[h.r_pair]
        gain = h._value(stock + h.cp, h.r_pair) - h._value(stock, h.r_pair) - h.case_cost
        return bool(np.any((gain > 0) & (h.case_cost <= self.reserve) & (h.max_cases > 0)))


__all__ = ["TopUps", "scenario_curve"]
