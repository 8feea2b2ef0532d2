"""A feasible plan from the LP relaxation: round, repair, fill (a primal heuristic).

HiGHS's own heuristics are slow to find anything on large catalogues (the MIP's
incumbent stays at "order nothing" long into the solve), while the LP relaxation
already says which SKUs, warehouses and lanes are worth it.  This module turns
an LP solution into a plan that satisfies every SPEC §2 rule, in vectorised
numpy over the instance tables (no solver):

1. **Round** each route down to whole cases.  A SKU the LP orders below its MOQ
   is raised to the MOQ when the LP orders at least half of it, else dropped;
   a supplier below its minimum order value is topped up the same way, or dropped.
2. **Repair** what rounding broke — mostly the budget, since a lane's fixed cost
   is paid per started container (``⌈volume/shipment_m3⌉``), not per fraction —
   by shedding the cases that lose least profit per unit of relief.
3. **Fill** the budget left by adding, one case per (sku, warehouse) at a time
   (a whole MOQ for a SKU not yet ordered), the cases that earn most expected
   profit per unit of cost, with a price
   threshold that falls geometrically (so cheap gains never crowd out better
   ones), within every space, capacity, share and container limit.
4. **Lanes ±1**: for each container lane, try one container fewer (shed its
   least valuable cases, refill elsewhere) and one more (fill it), and close or
   open each per-use lane; keep a move when the exact profit rises.

The value of stock ``A`` at a pair is ``V(A) = m·ES(A) + v·A`` with
``m = sales_coef`` and ``v = stock_coef`` (SPEC §2/§6, :mod:`optimizer.prep.economics`),
so the exact profit of a plan is ``Σ V(A) − Σ c·u − Σ shipment costs`` minus a
constant.  Cash limits (SPEC §6 rule 8) are budget-like rows: repair sheds cases
until each holds, and fill adds only what fits under all of them.  Service targets
(``min_fill_rate``) are not handled here: :meth:`RoundingHeuristic.plan`
returns ``None`` for such campaigns and the MIP alone finds the plan.
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.prep.instance import Instance


def _group_prefix(group: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Running total of ``amount`` within each group, in the given (priority) order."""
    order = np.argsort(group, kind="stable")
    cs = np.cumsum(amount[order])
    g = group[order]
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    base = np.repeat(cs[starts] - amount[order][starts], np.diff(np.r_[starts, len(g)]))
    out = np.empty_like(cs)
    out[order] = cs - base
    return out


class RoundingHeuristic:
    """Arrays of one instance, and the round → repair → fill → containers search."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.knobs = inst.settings.pipeline
        r, p, s = inst.routes, inst.pairs, inst.skus
        self.enabled = inst.min_fill_rate is None and len(r) > 0
        sku_index = s.index
        self.r_sku = sku_index.get_indexer(r.index.get_level_values("sku"))
        self.r_pair = p.index.get_indexer(r.index.droplevel("mode"))
        lane_keys = list(zip(r.index.get_level_values("warehouse"), r.index.get_level_values("mode")))
        lanes = inst.lanes
        self.r_lane = lanes.index.get_indexer(lane_keys)
        self.r_wh = inst.warehouses.index.get_indexer(r.index.get_level_values("warehouse"))
        self.cp = r["case_pack"].to_numpy(float)
        self.cost = r["landed_cost"].to_numpy(float)
        self.vol = r["volume_m3"].to_numpy(float)
        self.max_cases = np.floor(r["max_units"].to_numpy(float) / self.cp + 1e-9)
        self.case_cost = self.cost * self.cp
        self.case_vol = self.vol * self.cp

        self.p_existing = p["existing"].to_numpy(float)
        self.p_coef = p["sales_coef"].to_numpy(float)
        self.p_stock = p["stock_coef"].to_numpy(float)

        suppliers = inst.suppliers
        self.s_sup = suppliers.index.get_indexer(s["supplier"])
        self.s_moq = s["moq"].to_numpy(float)
        self.s_unit_cost = s["unit_cost"].to_numpy(float)
        self.f_mov = suppliers["min_order_value"].fillna(0.0).to_numpy(float)
        self.f_cap = suppliers["capacity_units"].fillna(np.inf).to_numpy(float)
        self.w_cap = inst.warehouses["capacity_m3"].to_numpy(float)
        self.l_cap = lanes["capacity_m3"].fillna(np.inf).to_numpy(float)
        self.l_cost = lanes["shipment_cost"].to_numpy(float)
        self.l_size = lanes["shipment_m3"].to_numpy(float)
        self.l_container = ~np.isnan(self.l_size) & (self.l_cost > 0)
        self.l_per_use = np.isnan(self.l_size) & (self.l_cost > 0)
        # Shipments paid whether used or not (a move of the local search).
        self.min_shipments = np.zeros(len(self.l_cost))
        self.r_moq_units = self.s_moq[self.r_sku]
        self.constant = -float(p["stockout_penalty"].to_numpy(float) @ p["expected_demand"].to_numpy(float))
        # Cash limits: payments per case of each route, per shipment of each lane.
        self.cash_case = inst.cash.coef * self.cp
        self.cash_lane = inst.cash.lane_coef
        self.cash_limit = inst.cash.limit.astype(float)
        #: Per SKU, cost already committed against its share cap (a top-up's stage 1), and the
        #: budget the share applies to (None: the plan's own budget).
        self.sku_cost_committed = np.zeros(len(s))
        self.share_of: float | None = None
        self._set_budget(float(inst.budget))

    def _set_budget(self, budget: float) -> None:
        share = self.inst.max_sku_budget_share
        self.budget = budget
        base = budget if self.share_of is None else self.share_of
        # Per SKU: its share cap less what is already committed (inf without a share cap).
        self.sku_cost_cap = (share * base - self.sku_cost_committed if share is not None
                             else np.full(len(self.sku_cost_committed), np.inf))

    def usage(self, route_units: np.ndarray) -> dict:
        """What a plan (units per route) uses: ``stock`` per pair, ``wh_vol``, ``lane_vol``,
        ``sku_units``, ``sku_cost``, ``sup_units``, ``sup_value``, ``shipments``, ``spend`` and
        ``cash`` (paid by each cash limit's date), in the instance's orders."""
        return self._state(np.asarray(route_units, float) / self.cp)

    # ------------------------------------------------------------- evaluation
    def _value(self, stock: np.ndarray, pair_idx=None) -> np.ndarray:
        if pair_idx is None:
            pair_idx = slice(None)
        es = self.inst.expected_sales(stock, pair_idx)
        return self.p_coef[pair_idx] * es + self.p_stock[pair_idx] * stock

    def _state(self, cases: np.ndarray) -> dict:
        units = cases * self.cp
        n_pairs, n_lanes = len(self.p_existing), len(self.l_cost)
        st = {
            "stock": self.p_existing + np.bincount(self.r_pair, units, n_pairs),
            "lane_vol": np.bincount(self.r_lane, units * self.vol, n_lanes),
            "wh_vol": np.bincount(self.r_wh, units * self.vol, len(self.w_cap)),
            "sku_units": np.bincount(self.r_sku, units, len(self.s_moq)),
            "sku_cost": np.bincount(self.r_sku, units * self.cost, len(self.s_moq)),
            "purchase": float(units @ self.cost),
        }
        st["sup_units"] = np.bincount(self.s_sup, st["sku_units"], len(self.f_mov))
        st["sup_value"] = np.bincount(self.s_sup, st["sku_units"] * self.s_unit_cost, len(self.f_mov))
        st["shipments"] = self._shipments(st["lane_vol"])
        st["spend"] = st["purchase"] + float(st["shipments"] @ self.l_cost)
        st["cash"] = self.cash_case @ cases + self.cash_lane @ st["shipments"]
        return st

    def _shipments(self, lane_vol: np.ndarray) -> np.ndarray:
        return np.maximum(self._shipments_needed(np.arange(len(lane_vol)), lane_vol),
                          self.min_shipments)

    def _shipments_needed(self, lanes: np.ndarray, volume: np.ndarray) -> np.ndarray:
        """Shipments ``lanes`` need to carry ``volume`` m³: started containers, or 1
        for a used per-use lane."""
        size = np.where(self.l_container, self.l_size, 1.0)[lanes]
        containers = np.ceil(volume / size - 1e-9)
        return np.where(self.l_container[lanes], containers, (volume > 1e-12) & self.l_per_use[lanes])

    def profit(self, cases: np.ndarray) -> float:
        """Exact profit up to the constant ``−Σ penalty·E[D]``."""
        st = self._state(cases)
        return float(self._value(st["stock"]).sum()) - st["spend"]

    def exact_profit(self, route_units: np.ndarray) -> float:
        """The SPEC §2 expected profit of a plan given as units per route."""
        return self.profit(np.asarray(route_units, float) / self.cp) + self.constant

    def shipments(self, route_units: np.ndarray) -> np.ndarray:
        """Shipments per lane (``inst.lanes`` order) the plan pays for."""
        return self._state(np.asarray(route_units, float) / self.cp)["shipments"]

    def feasible(self, cases: np.ndarray) -> bool:
        st = self._state(cases)
        ordered = st["sku_units"] > 0
        return bool(
            st["spend"] <= self.budget * (1 + 1e-9)
            and np.all(st["cash"] <= self.cash_limit * (1 + 1e-9) + 1e-9)
            and np.all(st["wh_vol"] <= self.w_cap + 1e-9)
            and np.all(st["lane_vol"] <= self.l_cap + 1e-9)
            and np.all(st["sup_units"] <= self.f_cap + 1e-9)
            and np.all(st["sku_cost"] <= self.sku_cost_cap * (1 + 1e-9))
            and np.all(st["sku_units"][ordered] >= self.s_moq[ordered] - 1e-9)
            and np.all((st["sup_value"] >= self.f_mov - 1e-6) | (st["sup_units"] == 0))
            and np.all(cases <= self.max_cases)
        )

    # ----------------------------------------------------------------- search
    def plan(self, lp_units: np.ndarray, budget: float, time_limit_s: float = 10.0) -> np.ndarray | None:
        """Route units of a feasible plan built from the LP's ``lp_units`` (None if disabled).

        The lane local search stops after ``time_limit_s`` (counted from the call).
        """
        deadline = time.perf_counter() + time_limit_s
        if not self.enabled:
            return None
        self._set_budget(float(budget))
        lp_cases = np.clip(np.asarray(lp_units, float) / self.cp, 0.0, self.max_cases)
        cases = np.floor(lp_cases + 1e-6)
        cases = self._meet_minimums(cases, lp_cases)
        cases = self._complete(cases)
        cases = self._lanes_local_search(cases, deadline)
        return cases * self.cp

    def _complete(self, cases: np.ndarray) -> np.ndarray:
        """Repair the ≤ rules, drop broken minimums, then fill the budget left."""
        cases = self._repair(cases)
        cases = self._drop_below_minimums(cases)
        return self._fill(cases)

    def _meet_minimums(self, cases: np.ndarray, lp_cases: np.ndarray) -> np.ndarray:
        """Raise SKUs to their MOQ (suppliers to their minimum) where the LP nearly does."""
        lp_sku_units = np.bincount(self.r_sku, lp_cases * self.cp, len(self.s_moq))
        st = self._state(cases)
        short = (st["sku_units"] < self.s_moq) & (st["sku_units"] > 0) | \
                (st["sku_units"] == 0) & (lp_sku_units >= self.knobs.rounding_raise_share * self.s_moq) & (lp_sku_units > 0)
        raise_ok = lp_sku_units >= self.knobs.rounding_raise_share * self.s_moq
        lane_vol = st["lane_vol"].copy()
        for s in np.flatnonzero(short):
            routes = np.flatnonzero(self.r_sku == s)
            if not raise_ok[s]:
                cases[routes] = 0
                continue
            need = np.ceil(max(self.s_moq[s] - cases[routes].dot(self.cp[routes]), 0.0) / self.cp[routes])
            need = np.minimum(need, self.max_cases[routes] - cases[routes])
            i = self._raise_route(routes, need, lp_cases, lane_vol)
            best = routes[i]
            cases[best] += need[i]
            lane_vol[self.r_lane[best]] += need[i] * self.case_vol[best]
        st = self._state(cases)
        lp_value = np.bincount(self.s_sup, lp_sku_units * self.s_unit_cost, len(self.f_mov))
        for f in np.flatnonzero((st["sup_value"] < self.f_mov) & (st["sup_units"] > 0)):
            routes = np.flatnonzero(self.s_sup[self.r_sku] == f)
            if lp_value[f] < self.knobs.rounding_raise_share * self.f_mov[f]:
                cases[routes] = 0
                continue
            gap = self.f_mov[f] - st["sup_value"][f]
            ordered = routes[cases[routes] > 0]
            if len(ordered) == 0:
                cases[routes] = 0
                continue
            per_case = self.s_unit_cost[self.r_sku[ordered]] * self.cp[ordered]
            need = np.minimum(np.ceil(gap / per_case), self.max_cases[ordered] - cases[ordered])
            i = self._raise_route(ordered, need, lp_cases, st["lane_vol"])
            cases[ordered[i]] += need[i]
            st = self._state(cases)
        return cases

    def _raise_route(self, routes, need, lp_cases, lane_vol) -> int:
        """Which of ``routes`` takes a raise of ``need`` cases (to a MOQ or a supplier
        minimum): the one the LP uses most, among those that start no shipment (no
        new container, no unused per-use lane) if there are any.  Raising where the
        LP does regardless can start a second container on a lane the LP has filled,
        and the repair then sheds profit to pay for it."""
        lane = self.r_lane[routes]
        before = lane_vol[lane]
        starts = (self._shipments_needed(lane, before + need * self.case_vol[routes])
                  > self._shipments_needed(lane, before))
        free = ~starts & (need > 0)
        pool = np.flatnonzero(free) if free.any() else np.arange(len(routes))
        return int(pool[np.argmax(lp_cases[routes][pool] - 1e-9 * self.cost[routes][pool])])

    def _marginal_loss(self, cases: np.ndarray, st: dict) -> np.ndarray:
        """Profit lost by removing one case of each route (∞ where it has none)."""
        pair = self.r_pair
        stock = st["stock"][pair]
        cp = self.cp
        loss = (self._value(stock, pair) - self._value(np.maximum(stock - cp, 0.0), pair)
                - self.case_cost)
        return np.where(cases > 0, loss, np.inf)

    def _sheddable(self, cases: np.ndarray, st: dict) -> np.ndarray:
        """Routes that can lose one case without taking their SKU below its MOQ or
        their supplier below its minimum (unless the case is the last one)."""
        left = st["sku_units"][self.r_sku] - self.cp
        sup = self.s_sup[self.r_sku]
        value_left = st["sup_value"][sup] - self.s_unit_cost[self.r_sku] * self.cp
        units_left = st["sup_units"][sup] - self.cp
        return (cases > 0) & ((left >= self.r_moq_units - 1e-9) | (left <= 0)) & (
            (value_left >= self.f_mov[sup] - 1e-6) | (units_left <= 0))

    def _repair(self, cases: np.ndarray) -> np.ndarray:
        """Shed cases until budget, space, lane, supplier and share limits hold."""
        for _ in range(self.knobs.rounding_max_rounds):
            st = self._state(cases)
            loss = self._marginal_loss(cases, st)
            loss = np.where(self._sheddable(cases, st), loss, np.inf)
            excess = [
                (self.r_wh, st["wh_vol"] - self.w_cap, self.case_vol),
                (self.r_lane, st["lane_vol"] - self.l_cap, self.case_vol),
                (self.s_sup[self.r_sku], st["sup_units"] - self.f_cap, self.cp),
                (self.r_sku, st["sku_cost"] - self.sku_cost_cap, self.case_cost),
                (np.zeros_like(self.r_sku), np.array([st["spend"] - self.budget]), self.case_cost),
            ] + [
                (np.zeros_like(self.r_sku), np.array([paid - limit]), relief)
                for paid, limit, relief in zip(st["cash"], self.cash_limit, self.cash_case)
            ]
            shed = np.zeros(len(cases), bool)
            dropped = False
            for group, over, relief in excess:
                bad = over > 1e-9
                if not bad.any():
                    continue
                idx = np.flatnonzero(bad[group] & np.isfinite(loss) & (relief > 0))
                if len(idx) == 0:  # only whole SKUs at their minimum are left
                    cases = self._drop_weakest_sku(cases, st, bad[group] & (cases > 0) & (relief > 0))
                    dropped = True
                    break
                # Cheapest losses per unit of relief first, until the excess is covered.
                order = idx[np.argsort(loss[idx] / relief[idx], kind="stable")]
                before = _group_prefix(group[order], relief[order]) - relief[order]
                take = before < over[group[order]]
                shed[order[take]] = True
            if dropped:
                continue
            if not shed.any():
                return cases
            # One case per pair per round: marginal losses change once a case goes.
            firsts = np.flatnonzero(shed)
            _, keep = np.unique(self.r_pair[firsts], return_index=True)
            cases[firsts[keep]] -= 1
        return cases

    def _drop_weakest_sku(self, cases: np.ndarray, st: dict, involved: np.ndarray) -> np.ndarray:
        """Zero the involved SKU whose stock earns least per unit of its cost."""
        skus = np.unique(self.r_sku[involved])
        value = np.array([self._sku_value(cases, st, s) for s in skus])
        weakest = skus[np.argmin(value / np.maximum(st["sku_cost"][skus], 1e-9))]
        cases[self.r_sku == weakest] = 0
        return cases

    def _sku_value(self, cases: np.ndarray, st: dict, sku: int) -> float:
        """Profit the SKU's ordered units add (stock value gained minus their cost)."""
        routes = np.flatnonzero((self.r_sku == sku) & (cases > 0))
        pairs = np.unique(self.r_pair[routes])
        ordered = np.bincount(self.r_pair[routes], cases[routes] * self.cp[routes],
                              len(self.p_existing))[pairs]
        stock = st["stock"][pairs]
        gained = self._value(stock, pairs) - self._value(stock - ordered, pairs)
        return float(gained.sum() - cases[routes] @ self.case_cost[routes])

    def _drop_below_minimums(self, cases: np.ndarray) -> np.ndarray:
        """Zero SKUs below their MOQ and suppliers below their minimum (only removes)."""
        while True:
            st = self._state(cases)
            low_sku = (st["sku_units"] > 0) & (st["sku_units"] < self.s_moq - 1e-9)
            low_sup = (st["sup_units"] > 0) & (st["sup_value"] < self.f_mov - 1e-6)
            drop = low_sku[self.r_sku] | low_sup[self.s_sup[self.r_sku]]
            if not (drop & (cases > 0)).any():
                return cases
            cases[drop] = 0

    def _fill(self, cases: np.ndarray) -> np.ndarray:
        """Add the best cases per unit of cost while a positive gain fits."""
        price = None
        for _ in range(self.knobs.rounding_max_rounds):
            st = self._state(cases)
            step = self._step(st)
            gain = self._addable_gain(cases, st, step)
            ratio = gain / (step * self.case_cost)
            ok = np.isfinite(ratio) & (ratio > self.knobs.rounding_min_price)
            if not ok.any():
                return cases
            top = ratio[ok].max()
            price = top if price is None else min(price, top)
            pick = np.flatnonzero(ok & (ratio >= price))
            # Best route of each pair only.
            pick = pick[np.lexsort((-ratio[pick], self.r_pair[pick]))]
            _, first = np.unique(self.r_pair[pick], return_index=True)
            pick = pick[first]
            pick = pick[np.argsort(-ratio[pick], kind="stable")]
            pick = pick[self._fits_together(pick, st, step)]
            if len(pick) == 0:
                price *= self.knobs.rounding_price_step
                if price < self.knobs.rounding_min_price:
                    return cases
                continue
            cases[pick] += step[pick]
            price *= self.knobs.rounding_price_step
        return cases

    def _step(self, st: dict) -> np.ndarray:
        """Cases one fill move adds per route: one, or a whole MOQ for a SKU not yet ordered."""
        first = np.maximum(1.0, np.ceil(self.r_moq_units / self.cp - 1e-9))
        return np.where(st["sku_units"][self.r_sku] > 0, 1.0, first)

    def _lanes_with_gain(self, cases: np.ndarray, st: dict) -> np.ndarray:
        """Per lane, whether one fill step on one of its routes earns more than it costs,
        its lane's fee per use left out."""
        gain = self._addable_gain(cases, st, self._step(st), per_use_open=True)
        best = np.full(len(self.l_cost), -np.inf)
        np.maximum.at(best, self.r_lane, gain)
        return best > 0

    def _addable_gain(self, cases: np.ndarray, st: dict, step: np.ndarray, *,
                      per_use_open: bool = False) -> np.ndarray:
        """Profit of one more fill step per route (−∞ where a rule forbids it alone);
        ``per_use_open``: as if every per-use lane were already paid for."""
        pair = self.r_pair
        stock = st["stock"][pair]
        cost, vol, units = step * self.case_cost, step * self.case_vol, step * self.cp
        gain = self._value(stock + units, pair) - self._value(stock, pair) - cost
        lane = self.r_lane
        room = np.where(self.l_container, st["shipments"] * np.nan_to_num(self.l_size), np.inf)
        sku_units = st["sku_units"][self.r_sku]
        sup = self.s_sup[self.r_sku]
        new_sku_ok = (self.f_mov[sup] <= 0) | (st["sup_value"][sup] >= self.f_mov[sup])
        allowed = (
            (cases + step <= self.max_cases)
            & (st["wh_vol"][self.r_wh] + vol <= self.w_cap[self.r_wh] + 1e-9)
            & (st["lane_vol"][lane] + vol <= np.minimum(self.l_cap, room)[lane] + 1e-9)
            & (per_use_open | ~self.l_per_use[lane] | (st["shipments"][lane] > 0))
            & (st["sup_units"][sup] + units <= self.f_cap[sup])
            & (st["sku_cost"][self.r_sku] + cost <= self.sku_cost_cap[self.r_sku] * (1 + 1e-12))
            & ((sku_units > 0) | new_sku_ok)
            & (cost <= self.budget - st["spend"] + 1e-9)
            & np.all(step * self.cash_case <= (self.cash_limit - st["cash"])[:, None] + 1e-9, axis=0)
        )
        return np.where(allowed, gain, -np.inf)

    def _fits_together(self, pick: np.ndarray, st: dict, step: np.ndarray) -> np.ndarray:
        """Which of ``pick`` (in priority order) fit the shared limits all at once."""
        room = np.where(self.l_container, st["shipments"] * np.nan_to_num(self.l_size), np.inf)
        lane_room = np.minimum(self.l_cap, room) - st["lane_vol"]
        sup = self.s_sup[self.r_sku[pick]]
        cost, vol = (step * self.case_cost)[pick], (step * self.case_vol)[pick]
        checks = [
            (np.zeros(len(pick), int), cost, np.array([self.budget - st["spend"]])),
            (self.r_wh[pick], vol, self.w_cap - st["wh_vol"]),
            (self.r_lane[pick], vol, lane_room),
            (sup, (step * self.cp)[pick], self.f_cap - st["sup_units"]),
            (self.r_sku[pick], cost, self.sku_cost_cap - st["sku_cost"]),
        ] + [
            (np.zeros(len(pick), int), (step * per_case)[pick], np.array([limit - paid]))
            for per_case, limit, paid in zip(self.cash_case, self.cash_limit, st["cash"])
        ]
        fits = np.ones(len(pick), bool)
        for group, amount, room_left in checks:
            fits &= _group_prefix(group, amount) <= room_left[group] + 1e-9
        return fits

    def _lanes_local_search(self, cases: np.ndarray, deadline: float) -> np.ndarray:
        """One container more or fewer per container lane, opening or closing a
        per-use lane; a move is kept when the exact profit rises.  A closed per-use lane is
        opened only when one fill step on it would earn something before its fee (else the
        fill after opening adds nothing to it and the move only pays the fee)."""
        best = self.profit(cases)
        improved = True
        while improved and time.perf_counter() < deadline:
            improved = False
            st = self._state(cases)
            shipments = st["shipments"]
            worth_opening = self._lanes_with_gain(cases, st)
            for lane in np.flatnonzero(self.l_container | self.l_per_use):
                n = shipments[lane]
                if self.l_per_use[lane] and n == 0 and not worth_opening[lane]:
                    continue
                moves = (-1, 1) if self.l_container[lane] else ((-1,) if n > 0 else (1,))
                for delta in moves:
                    if time.perf_counter() >= deadline:
                        return cases
                    if n + delta < 0:
                        continue
                    trial = self._with_shipments(cases, lane, int(n + delta))
                    value = self.profit(trial)
                    if value > best + 1e-6 and self.feasible(trial):
                        cases, best, improved = trial, value, True
                        shipments = self._state(cases)["shipments"]
                        break
        return cases

    def _with_shipments(self, cases: np.ndarray, lane: int, n: int) -> np.ndarray:
        """The plan re-balanced around ``n`` shipments on ``lane``.

        Fewer: shed the lane's least valuable cases (per m³) until its volume fits,
        then refill elsewhere.  More: the extra shipment is paid up front while
        filling, so the fill can use its room.
        """
        trial = cases.copy()
        st = self._state(trial)
        room = n * self.l_size[lane] if self.l_container[lane] else (np.inf if n else 0.0)
        if st["lane_vol"][lane] > room + 1e-9:
            on_lane = np.flatnonzero((self.r_lane == lane) & (trial > 0))
            loss = self._marginal_loss(trial, st)[on_lane] / self.case_vol[on_lane]
            volume = st["lane_vol"][lane]
            for r in on_lane[np.argsort(loss, kind="stable")]:
                while trial[r] > 0 and volume > room + 1e-9:
                    trial[r] -= 1
                    volume -= self.case_vol[r]
        if n > st["shipments"][lane]:
            self.min_shipments[lane] = n
            try:
                trial = self._fill(trial)
            finally:
                self.min_shipments[lane] = 0
        return self._complete(trial)
