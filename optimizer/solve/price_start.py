"""A start without the LP: the Lagrangian relaxation's plan under prices on the
shared limits (a primal heuristic, numpy only).

The LP relaxation prices a container by the cubic metre, so route ``r`` costs
``c_r = landed_r + vol_r·shipment_cost/shipment_m3`` per unit.  Put prices on the
rows that couple SKUs — ``λ`` on the budget, ``μ_w`` on warehouse space, ``ν_l`` on
lane capacity, ``π_f`` on supplier capacity, ``κ_j`` on cash limit j — and the
relaxation splits into one problem per SKU.  At these prices a unit on route ``r``
costs

    ``k_r = (1 + λ)·c_r + (μ_w + ν_l)·vol_r + π_f + Σ_j κ_j·pay_jr``

(``pay_jr`` its payments dated by limit j), and each (sku, warehouse) pair stocks
its cheapest route up to the newsvendor level ``A`` with
``sales_coef·P(D > A) + stock_coef = k_r`` (the marginal value of stock, SPEC §2/§6).  Minimums are decided at the same prices, as the MIP would: a SKU whose
stock falls short of its MOQ is raised to it, or dropped when the raised order's
value ``Σ V(A) − V(E)`` does not pay its priced cost; then the same for a supplier
short of its minimum order value.

The prices are found by bisection, one family at a time (a few passes of
coordinate ascent on the dual): ``λ`` until the start costs the budget, then each
warehouse's, lane's and supplier's own price until it fits its limit (bisected together
within a family), and the cash limits' prices one at a time, earliest first (each
limit's payments include the earlier ones'); after the last budget price the cash
prices are set again while a cash limit is broken.  The result rounds to
whole cases (keeping a route's last case once the start orders ``price_round_up_from`` (:class:`~optimizer.settings.PipelineKnobs`)
of it, rather than flooring) and
:meth:`optimizer.solve.rounding.RoundingHeuristic.plan` repairs and fills it.

Prices on every coupling family, with the minimums decided at those prices,
bring the start much closer to the bound than a budget price alone.  The MOQ
decision matters most: a budget price alone orders far more SKUs than the LP
does, most of them below their MOQ.
"""

from __future__ import annotations

import numpy as np

from optimizer.solve.rounding import RoundingHeuristic


class PriceStart:
    """The priced relaxation of one instance (arrays shared with the heuristic)."""

    def __init__(self, heuristic: RoundingHeuristic):
        h = self.h = heuristic
        self.knobs = h.knobs
        size = np.where(h.l_container, h.l_size, np.inf)
        self.unit = h.cost + h.vol * np.where(h.l_container, h.l_cost / size, 0.0)[h.r_lane]
        self.r_sup = h.s_sup[h.r_sku]
        self.cap = h.max_cases * h.cp
        # Routes grouped by pair, for the cheapest route of each pair.
        self.order = np.argsort(h.r_pair, kind="stable")
        grouped = h.r_pair[self.order]
        self.starts = np.r_[0, np.flatnonzero(grouped[1:] != grouped[:-1]) + 1]
        self.sizes = np.diff(np.r_[self.starts, len(self.order)])
        self.grouped_pairs = grouped
        # Cash limits, earliest first (their payments nest: each includes the earlier ones').
        self.cash_order = np.argsort(np.array(h.inst.cash.until, dtype="datetime64[D]"))

    # ---------------------------------------------------------------- pricing
    def units(self, budget: float) -> np.ndarray:
        """Route units of the start for ``budget``, in whole cases."""
        h = self.h
        lam = 0.0
        wh, lane, sup = np.zeros(len(h.w_cap)), np.zeros(len(h.l_cost)), np.zeros(len(h.f_cap))
        cash = np.zeros(len(h.cash_limit))

        def spend(x):
            return self.used(self.solve(x[0], wh, lane, sup, cash), self.unit,
                             np.zeros(len(h.cp), int), 1)

        for _ in range(self.knobs.price_passes):
            lam = self._bisect(spend, np.array([budget]))[0]
            wh = self._bisect(lambda x: self.used(self.solve(lam, x, lane, sup, cash), h.vol, h.r_wh,
                                                  len(wh)), h.w_cap)
            lane = self._bisect(lambda x: self.used(self.solve(lam, wh, x, sup, cash), h.vol,
                                                    h.r_lane, len(lane)), h.l_cap)
            sup = self._bisect(lambda x: self.used(self.solve(lam, wh, lane, x, cash), 1.0,
                                                   self.r_sup, len(sup)), h.f_cap)
            cash = self._cash_prices(lam, wh, lane, sup, cash)
        lam = self._bisect(spend, np.array([budget]))[0]
        for _ in range(self.knobs.cash_price_rounds if len(cash) else 0):
            # A lower budget price buys more, which may break a cash limit again.
            if np.all(self.cash_used(self.solve(lam, wh, lane, sup, cash)) <= h.cash_limit + 1e-6):
                break
            cash = self._cash_prices(lam, wh, lane, sup, cash)
            lam = self._bisect(spend, np.array([budget]))[0]
        best, amount = self.solve(lam, wh, lane, sup, cash)
        units = np.zeros(len(h.cp))
        units[best] = amount
        cases = np.floor(units / h.cp + (1.0 - self.knobs.price_round_up_from))
        return np.minimum(cases, h.max_cases) * h.cp

    @staticmethod
    def used(start: tuple[np.ndarray, np.ndarray], per_unit, group: np.ndarray, n: int) -> np.ndarray:
        """What a start ``(routes, units)`` uses of each limit in ``group``."""
        best, amount = start
        return np.bincount(group[best], amount * np.broadcast_to(per_unit, group.shape)[best], n)

    def _cash_prices(self, lam, wh, lane, sup, cash: np.ndarray) -> np.ndarray:
        """Each cash limit's price, earliest limit first, the others held: a limit's
        payments include every earlier one's, so a later price is set on what the
        earlier prices leave."""
        cash = cash.copy()
        for j in self.cash_order:
            def used(x, j=j):
                trial = cash.copy()
                trial[j] = x[0]
                return self.cash_used(self.solve(lam, wh, lane, sup, trial))[j:j + 1]
            cash[j] = self._bisect(used, self.h.cash_limit[j:j + 1])[0]
        return cash

    def cash_used(self, start: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """What a start pays by each cash limit's date (shipments priced per m³ are left out)."""
        best, amount = start
        return self.h.cash_case[:, best] / self.h.cp[best] @ amount

    def _bisect(self, used, limit: np.ndarray) -> np.ndarray:
        """Smallest prices ``x ≥ 0`` (one per limit, bisected together) with
        ``used(x) ≤ limit``; zero where the limit holds at no price."""
        limit = np.asarray(limit, float)
        over = np.isfinite(limit) & (used(np.zeros(len(limit))) > limit + 1e-9)
        if not over.any():
            return np.zeros(len(limit))
        low, high = np.zeros(len(limit)), np.where(over, 1.0, 0.0)
        for _ in range(40):  # a bracket: every price high enough
            still = over & (used(high) > limit + 1e-9)
            if not still.any():
                break
            high = np.where(still, 4.0 * high, high)
        for _ in range(self.knobs.price_bisections):
            mid = 0.5 * (low + high)
            too_low = used(mid) > limit + 1e-9
            low, high = np.where(over & too_low, mid, low), np.where(over & ~too_low, mid, high)
        return np.where(over, high, 0.0)

    # ------------------------------------------------------- one priced solve
    def solve(self, lam: float, wh: np.ndarray, lane: np.ndarray, sup: np.ndarray,
              cash: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The priced relaxation's optimum: each pair's cheapest route and its units."""
        h = self.h
        price = (1.0 + lam) * self.unit + (wh[h.r_wh] + lane[h.r_lane]) * h.vol + sup[self.r_sup]
        if len(cash):
            price = price + cash @ (h.cash_case / h.cp)
        best = self._cheapest_route(price)
        price = price[best]
        pair = h.r_pair[best]
        tail = (price - h.p_stock[pair]) / np.maximum(h.p_coef[pair], 1e-12)
        level = h.inst.sales_level(np.clip(tail, 1e-9, 1.0 - 1e-12), pair)
        amount = np.where(tail >= 1.0, 0.0, np.clip(level - h.p_existing[pair], 0.0, self.cap[best]))
        sku = h.r_sku[best]
        amount = self._minimums(best, amount, price, sku, h.s_moq, 1.0)
        return best, self._minimums(best, amount, price, h.s_sup[sku], h.f_mov, h.s_unit_cost[sku])

    def _cheapest_route(self, price: np.ndarray) -> np.ndarray:
        """The first cheapest route of every pair."""
        p = price[self.order]
        is_min = p == np.repeat(np.minimum.reduceat(p, self.starts), self.sizes)
        idx = np.flatnonzero(is_min)
        grouped = self.grouped_pairs[idx]
        first = np.r_[True, grouped[1:] != grouped[:-1]]
        return self.order[idx[first]]

    def _minimums(self, best, amount, price, group, minimum, value_per_unit) -> np.ndarray:
        """Raise each group (SKU or supplier) short of its minimum to it, pro rata, and
        drop it where the raised order does not pay its priced cost.  ``best`` holds one
        route per pair, so pairs and routes correspond one to one."""
        n = len(minimum)
        total = np.bincount(group, amount * value_per_unit, n)
        short = (total > 0) & (total < minimum)
        if not short.any():
            return amount
        at = np.flatnonzero(short[group] & (amount > 0))
        g = group[at]
        raised = np.minimum(amount[at] * minimum[g] / total[g], self.cap[best[at]])
        pair = self.h.r_pair[best[at]]
        existing = self.h.p_existing[pair]
        gain = (self.h._value(existing + raised, pair) - self.h._value(existing, pair)
                - raised * price[at])
        pays = np.bincount(g, gain, n)[g] > 0
        amount = amount.copy()
        amount[at] = np.where(pays, raised, 0.0)
        return amount
