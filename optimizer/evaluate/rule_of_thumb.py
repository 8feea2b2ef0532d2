"""The analyst's spreadsheet rule as a plan that keeps every hard rule, evaluated exactly.

This is the baseline the optimiser is compared with ("spreadsheet rule (feasible)"). It
is a fixed sequence of spreadsheet steps, not a search:

1. **Quantity** per (SKU, warehouse) with demand and an on-time route:
   ``mean + z·sd − existing`` (``z`` = :data:`SAFETY_Z`), at least the stock the service
   target needs when the campaign sets ``min_fill_rate``, rounded up to the case pack.
2. **Lane**: the cheapest on-time route by landed unit cost (only routes that make the
   warehouse cutoff are considered).
3. **Ranking**: SKUs by unit margin (net sale value − landed cost), best first; with a
   service target, every SKU's service quantity is taken before any stock above it.
4. **Taking**, SKU by SKU down the ranking: each line is cut, by whole cases, to what
   still fits the budget (purchase plus shipment fees), the cash limits, warehouse and
   lane space, the supplier's capacity and the SKU budget share. A SKU whose lines
   come to less than its MOQ is topped up to it (largest line first) when that fits,
   else dropped. The least valuable SKUs are therefore the ones cut when a limit runs out.
5. **Supplier minimums**: a supplier whose order is below its minimum order value is
   topped up to it (a case at a time over its lines, best SKU first) when the order
   reaches :data:`TOP_UP_SHARE` of the minimum (or its SKUs carry a service target) and
   the limits allow it; otherwise its lines are dropped and steps 4–5 are redone without
   that supplier.

The plan is evaluated with the same exact SPEC §2 expected profit as the optimised plan.
The steps do not search: a service target they leave no room for (the limits spent on
earlier SKUs, a supplier dropped) is missed, as it is by a campaign no plan can serve.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import PlanEvaluation, evaluate_plan
from optimizer.prep.instance import Instance

SAFETY_Z = 1.65  # forecast + 1.65·sd covers ~95 % of normal demand
TOP_UP_SHARE = 0.5  # an order below its supplier's minimum is topped up when it reaches this share of it
_RTOL = 1e-9  # slack on every limit, relative to the limit (at least 1)


def _within(value, limit) -> bool:
    return bool(np.all(value <= limit + _RTOL * np.maximum(1.0, np.abs(limit))))


class _Limits:
    """The hard limits of one instance and what the plan taken so far uses of them."""

    def __init__(self, inst: Instance):
        routes, lanes = inst.routes, inst.lanes
        self.inst = inst
        self.sku = routes.index.get_level_values("sku").to_numpy()
        self.warehouse = routes.index.get_level_values("warehouse").to_numpy()
        lane_position = {lane: i for i, lane in enumerate(lanes.index)}
        self.lane = np.array([lane_position[(w, m)] for _, w, m in routes.index], dtype=np.int64)
        self.volume = routes["volume_m3"].to_numpy(float)
        self.landed = routes["landed_cost"].to_numpy(float)
        self.pack = routes["case_pack"].to_numpy(np.int64)
        self.supplier = inst.skus.loc[self.sku, "supplier"].to_numpy()
        self.unit_cost = inst.skus.loc[self.sku, "unit_cost"].to_numpy(float)
        self.lane_size = lanes["shipment_m3"].to_numpy(float)
        self.lane_fee = lanes["shipment_cost"].to_numpy(float)
        self.lane_cap = lanes["capacity_m3"].to_numpy(float)
        self.wh_cap = inst.warehouses["capacity_m3"].to_dict()
        caps = inst.suppliers["capacity_units"] if "capacity_units" in inst.suppliers else pd.Series(dtype=float)
        self.sup_cap = {f: float(c) for f, c in caps.items() if pd.notna(c)}
        share = inst.max_sku_budget_share
        self.sku_cap = math.inf if share is None else share * inst.budget
        cash = inst.cash
        self.cash_coef, self.cash_limit = cash.coef, cash.limit
        self.cash_lane = cash.lane_coef
        # what is used
        self.units = np.zeros(len(routes), dtype=np.int64)
        self.lane_volume = np.zeros(len(lanes))
        self.wh_volume: dict = {}
        self.sup_units: dict = {}
        self.sku_cost: dict = {}
        self.sku_units: dict = {}
        self.spent = 0.0
        self.paid = np.zeros(len(cash))

    def snapshot(self) -> tuple:
        return (self.units.copy(), self.lane_volume.copy(), dict(self.wh_volume), dict(self.sup_units),
                dict(self.sku_cost), dict(self.sku_units), self.spent, self.paid.copy())

    def restore(self, state: tuple) -> None:
        (self.units, self.lane_volume, self.wh_volume, self.sup_units, self.sku_cost, self.sku_units,
         self.spent, self.paid) = state

    def _shipments(self, lane: int, volume: float) -> int:
        if volume <= 1e-12:
            return 0
        size = self.lane_size[lane]
        return 1 if np.isnan(size) else max(1, math.ceil(volume / size - 1e-9))

    def _effect(self, r: int, units: int) -> tuple[float, int]:
        """Added volume and added shipments of ``units`` more on route position ``r``."""
        lane = self.lane[r]
        added = units * self.volume[r]
        before = self.lane_volume[lane]
        return added, self._shipments(lane, before + added) - self._shipments(lane, before)

    def fits(self, r: int, units: int) -> bool:
        """Whether ``units`` more on route position ``r`` keep every limit."""
        if units <= 0:
            return True
        s, w, f, lane = self.sku[r], self.warehouse[r], self.supplier[r], self.lane[r]
        added, shipments = self._effect(r, units)
        cost = units * self.landed[r]
        fee = shipments * self.lane_fee[lane]
        lane_cap = self.lane_cap[lane]
        return (_within(self.wh_volume.get(w, 0.0) + added, self.wh_cap[w])
                and (np.isnan(lane_cap) or _within(self.lane_volume[lane] + added, lane_cap))
                and _within(self.sup_units.get(f, 0) + units, self.sup_cap.get(f, math.inf))
                and _within(self.sku_cost.get(s, 0.0) + cost, self.sku_cap)
                and _within(self.spent + cost + fee, self.inst.budget)
                and _within(self.paid + self.cash_coef[:, r] * units + self.cash_lane[:, lane] * shipments,
                            self.cash_limit))

    def room(self, r: int, cases: int) -> int:
        """The most whole cases, up to ``cases``, that route position ``r`` can still take."""
        pack = int(self.pack[r])
        if cases <= 0 or not self.fits(r, pack):
            return 0
        if self.fits(r, cases * pack):
            return cases
        lo, hi = 1, cases  # fits(lo) and not fits(hi): every limit grows with the units
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if self.fits(r, mid * pack) else (lo, mid)
        return lo

    def add(self, r: int, units: int) -> None:
        if units <= 0:
            return
        s, w, f, lane = self.sku[r], self.warehouse[r], self.supplier[r], self.lane[r]
        added, shipments = self._effect(r, units)
        cost = units * self.landed[r]
        self.units[r] += units
        self.lane_volume[lane] += added
        self.wh_volume[w] = self.wh_volume.get(w, 0.0) + added
        self.sup_units[f] = self.sup_units.get(f, 0) + units
        self.sku_cost[s] = self.sku_cost.get(s, 0.0) + cost
        self.sku_units[s] = self.sku_units.get(s, 0) + units
        self.spent += cost + shipments * self.lane_fee[lane]
        self.paid = self.paid + self.cash_coef[:, r] * units + self.cash_lane[:, lane] * shipments

    def supplier_value(self) -> dict:
        """Order value at unit cost per supplier (what its minimum order value is against)."""
        value = np.bincount(pd.factorize(self.supplier)[0], self.unit_cost * self.units) if len(self.units) else []
        names = pd.unique(self.supplier)
        return {f: float(v) for f, v in zip(names, value)}


def _lines(inst: Instance, z: float) -> pd.DataFrame:
    """Per (SKU, warehouse) with demand and an on-time route: the rule's ``units`` (and the
    service target's ``service`` share of them) on the cheapest on-time route (its position
    ``route`` in ``inst.routes``), and the unit ``margin`` there."""
    columns = ["sku", "warehouse", "route", "units", "service", "margin"]
    p = inst.pairs[inst.pairs["has_demand"] & inst.pairs["has_route"]]
    if p.empty:
        return pd.DataFrame(columns=columns)
    cp = p["case_pack"].astype(float)
    need = np.ceil(np.maximum(0.0, p["mean"] + z * p["sd"] - p["existing"]) / cp - 1e-9) * cp
    service_stock = p["service_stock"].to_numpy(float)
    finite = np.isfinite(service_stock)
    service = np.where(finite, np.ceil(np.maximum(0.0, np.where(finite, service_stock, 0.0) - p["existing"])
                                       / cp - 1e-9) * cp, 0.0)
    lines = pd.DataFrame({"units": np.maximum(need, service).astype("int64"),
                          "service": service.astype("int64")}, index=p.index)
    lines = lines[lines["units"] > 0]
    if lines.empty:
        return pd.DataFrame(columns=columns)
    cheapest = inst.routes["landed_cost"].groupby(level=["sku", "warehouse"]).idxmin()
    position = {r: i for i, r in enumerate(inst.routes.index)}
    lines["route"] = [position[r] for r in cheapest.reindex(lines.index)]
    landed = inst.routes["landed_cost"].to_numpy(float)[lines["route"].to_numpy()]
    lines["margin"] = p["sale_value"].reindex(lines.index).to_numpy(float) - landed
    return lines.reset_index()[columns]


def _take(limits: _Limits, r: int, units: int) -> None:
    """Take up to ``units`` (in whole cases, rounded up) on route position ``r``, as much as still fits."""
    pack = int(limits.pack[r])
    limits.add(r, limits.room(r, math.ceil(units / pack)) * pack)


def _fill(limits: _Limits, lines: pd.DataFrame, skus: pd.DataFrame, ranking, column: str) -> None:
    """Take ``column`` units of every line, SKU by SKU in ``ranking``, cut to what fits;
    a SKU below its MOQ is topped up to it or its units of this round are taken back."""
    by_sku = dict(tuple(lines.groupby("sku")))
    for sku in ranking:
        mine = by_sku[sku].sort_values(["margin", column], ascending=[False, False])
        before = limits.snapshot()
        for r, units in zip(mine["route"], mine[column]):
            held = int(limits.units[r])  # from an earlier round
            if units > held:
                _take(limits, r, int(units) - held)
        taken = limits.sku_units.get(sku, 0)
        moq = int(skus.at[sku, "moq"])
        if 0 < taken < moq:  # the MOQ: top up, largest line first
            for r in mine.sort_values(column, ascending=False)["route"]:
                short = moq - limits.sku_units.get(sku, 0)
                if short <= 0:
                    break
                _take(limits, r, short)
            if limits.sku_units.get(sku, 0) < moq:
                limits.restore(before)


def _top_up(limits: _Limits, routes: list[int], minimum: float) -> bool:
    """Add a case at a time over ``routes`` (in turn) until their supplier's order value
    reaches ``minimum``; True when it does."""
    supplier = limits.supplier[routes[0]]
    value = limits.supplier_value().get(supplier, 0.0)
    open_routes = list(routes)
    while value + 1e-9 < minimum and open_routes:
        for r in list(open_routes):
            pack = int(limits.pack[r])
            if not limits.fits(r, pack):
                open_routes.remove(r)
                continue
            limits.add(r, pack)
            value += pack * limits.unit_cost[r]
            if value + 1e-9 >= minimum:
                break
    return value + 1e-9 >= minimum


def rule_of_thumb_units(inst: Instance, z: float = SAFETY_Z) -> pd.Series:
    """The spreadsheet rule's plan as units per usable route (indexed like ``inst.routes``).

    The steps are the module's: forecast + ``z``·sd − stock (at least the service
    target's stock) rounded up to the case pack on the cheapest on-time lane; SKUs by unit
    margin, best first, each line cut to what fits the budget, cash limits, warehouse and
    lane space, supplier capacity and SKU share; a SKU raised to its MOQ or dropped; a
    supplier below its minimum order value topped up to it or dropped (then the rest is
    taken again without it).
    """
    lines = _lines(inst, z)
    if lines.empty:
        return pd.Series(0, index=inst.routes.index, dtype="int64")
    skus = inst.skus
    landed = inst.routes["landed_cost"].to_numpy(float)
    lines["cost"] = lines["units"] * landed[lines["route"].to_numpy()]
    per_sku = lines.assign(weighted=lines["margin"] * lines["units"]).groupby("sku").agg(
        units=("units", "sum"), weighted=("weighted", "sum"), cost=("cost", "sum"))
    per_sku["margin"] = per_sku["weighted"] / per_sku["units"]
    ranking = list(per_sku.sort_values(["margin", "cost"], ascending=[False, True]).index)
    minimum = inst.suppliers["min_order_value"].fillna(0.0).to_dict() if "min_order_value" in inst.suppliers else {}
    supplier_of = skus["supplier"].to_dict()
    serviced = set(lines.loc[lines["service"] > 0, "sku"].map(supplier_of))
    rank = {s: i for i, s in enumerate(ranking)}

    dropped: set = set()
    while True:
        limits = _Limits(inst)
        mine = lines[~lines["sku"].map(supplier_of).isin(dropped)]
        order = [s for s in ranking if supplier_of[s] not in dropped]
        if (mine["service"] > 0).any():
            _fill(limits, mine, skus, order, "service")
        _fill(limits, mine, skus, order, "units")
        short = []
        for f, value in sorted(limits.supplier_value().items()):
            need = float(minimum.get(f, 0.0) or 0.0)
            if value <= 0 or value + 1e-9 >= need:
                continue
            if value >= TOP_UP_SHARE * need or f in serviced:
                taken = sorted((r for r in np.flatnonzero(limits.units) if limits.supplier[r] == f),
                               key=lambda r: (rank.get(limits.sku[r], len(rank)), r))
                if _top_up(limits, taken, need):
                    continue
            short.append(f)
        if not short:
            return pd.Series(limits.units, index=inst.routes.index, dtype="int64")
        dropped.update(short)


def rule_of_thumb(inst: Instance, z: float = SAFETY_Z) -> PlanEvaluation:
    """The spreadsheet rule's plan evaluated with the exact SPEC §2 profit."""
    return evaluate_plan(inst, rule_of_thumb_units(inst, z))


__all__ = [
    "SAFETY_Z",
    "TOP_UP_SHARE",
    "rule_of_thumb",
    "rule_of_thumb_units",
]
