"""The analyst's spreadsheet rule of thumb as a plan, evaluated exactly: the baseline the optimiser is compared with."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import PlanEvaluation, evaluate_plan
from optimizer.prep.instance import Instance

SAFETY_Z = 1.65  # rule of thumb: forecast + 1.65·sd covers ~95 % of demand



def rule_of_thumb_units(inst: Instance, z: float = SAFETY_Z) -> pd.Series:
    """The analyst's rule-of-thumb plan as units per usable route (indexed like ``inst.routes``).

    Per (SKU, warehouse) with demand: ``mean + z·sd − existing`` rounded up to the
    case pack, shipped by the cheapest on-time lane; a SKU's total is raised to its
    MOQ; then SKUs are taken by unit margin (net sale value − landed cost), best
    first, while purchase plus shipment cost fits the budget. Supplier minimums,
    capacities and space are ignored — that is what a rule of thumb does.
    """
    units = pd.Series(0, index=inst.routes.index, dtype="int64")
    p = inst.pairs[inst.pairs["has_demand"] & inst.pairs["has_route"]]
    if p.empty:
        return units
    need = np.maximum(0.0, p["mean"] + z * p["sd"] - p["existing"])
    cp = p["case_pack"].astype(float)
    need = (np.ceil(need / cp - 1e-9) * cp).astype("int64")
    cheapest = inst.routes["landed_cost"].groupby(level=["sku", "warehouse"]).idxmin()
    lines = pd.DataFrame({"units": need})
    lines = lines[lines["units"] > 0]
    if lines.empty:
        return units
    lines["route"] = cheapest.reindex(lines.index)
    lines = lines.reset_index()
    # MOQ: top up the SKU's largest line.
    skus = inst.skus
    for sku, grp in lines.groupby("sku"):
        moq, pack = int(skus.at[sku, "moq"]), int(skus.at[sku, "case_pack"])
        short = moq - int(grp["units"].sum())
        if short > 0:
            top = grp["units"].idxmax()
            lines.at[top, "units"] += int(math.ceil(short / pack) * pack)
    routes = inst.routes
    lines["landed_cost"] = [routes.at[r, "landed_cost"] for r in lines["route"]]
    lines["volume_m3"] = [routes.at[r, "volume_m3"] for r in lines["route"]]
    lines["lane"] = [(r[1], r[2]) for r in lines["route"]]
    lines["cost"] = lines["units"] * lines["landed_cost"]
    lines["value"] = lines["units"] * inst.pairs["sale_value"].reindex(
        list(zip(lines["sku"], lines["warehouse"]))).to_numpy(float)
    position = {r: i for i, r in enumerate(routes.index)}
    lines["position"] = [position[r] for r in lines["route"]]
    per_sku = lines.groupby("sku").agg(units=("units", "sum"), cost=("cost", "sum"),
                                       value=("value", "sum"))
    per_sku["margin"] = (per_sku["value"] - per_sku["cost"]) / per_sku["units"]
    order = per_sku.sort_values(["margin", "cost"], ascending=[False, True]).index

    size = inst.lanes["shipment_m3"].to_dict()
    fee = inst.lanes["shipment_cost"].to_dict()

    def lane_cost(lane, volume: float) -> float:
        if volume <= 0:
            return 0.0
        n = 1 if pd.isna(size[lane]) else math.ceil(volume / size[lane] - 1e-9)
        return n * float(fee[lane])

    lane_volume: dict = {}
    spent = 0.0  # goods plus shipments of the SKUs taken so far
    cash = inst.cash
    paid = np.zeros(len(cash))  # by each cash limit's date
    lane_due = {l: cash.lane_coef[:, i] for i, l in enumerate(inst.lanes.index)}
    by_sku = dict(tuple(lines.groupby("sku")))
    for sku in order:
        mine = by_sku[sku]
        added: dict = {}
        for lane, vol in zip(mine["lane"], mine["units"] * mine["volume_m3"]):
            added[lane] = added.get(lane, 0.0) + vol
        extra = {l: lane_cost(l, lane_volume.get(l, 0.0) + v) - lane_cost(l, lane_volume.get(l, 0.0))
                 for l, v in added.items()}
        total = spent + float(mine["cost"].sum()) + sum(extra.values())
        cash_after = paid + cash.coef[:, mine["position"].to_numpy()] @ mine["units"].to_numpy(float)
        for l, fee_added in extra.items():  # a shipment's fee is due on its lane's date
            cash_after = cash_after + (lane_due[l] > 0) * fee_added
        if total <= inst.budget + 1e-6 and np.all(cash_after <= cash.limit + 1e-6):
            spent, paid = total, cash_after
            for l, v in added.items():
                lane_volume[l] = lane_volume.get(l, 0.0) + v
            for route, u in zip(mine["route"], mine["units"]):
                units.at[route] += int(u)
    return units



def rule_of_thumb(inst: Instance, z: float = SAFETY_Z) -> PlanEvaluation:
    """The rule-of-thumb plan evaluated with the exact SPEC §2 profit."""
    return evaluate_plan(inst, rule_of_thumb_units(inst, z))


__all__ = [
    "SAFETY_Z",
    "rule_of_thumb",
    "rule_of_thumb_units",
]
