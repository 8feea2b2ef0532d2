"""Why a plan orders nothing: the words under ``plan``'s last line when the plan is empty.

An empty plan is rarely what the user meant, so the note names the cause it can read
off the instance:

* no demand, or no lane that makes any cutoff;
* no pair where one more case pays for itself (``economic_stock`` above the stock on
  hand and in transit, :func:`optimizer.prep.instance.economic_stock_limit`):
  existing stock covers what pays;
* otherwise a case pays somewhere, and the limits stop every such route from carrying a
  single case: the budget, the SKU budget share, a warehouse's or a lane's space, the
  supplier's capacity, or a ``[[cash_limits]]`` limit, each named with the number that
  blocks it;
* when a case fits every limit, what is left is a fixed cost of ordering: the MOQ, the
  supplier's minimum order value or a lane's shipment cost costs more than the order earns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.prep.instance import Instance

SHOWN = 3  # pairs named per cause


def empty_plan_notes(instance: Instance, lines: pd.DataFrame) -> list[str]:
    """One note on why the plan ``lines`` orders nothing (none when it orders something)."""
    if not lines.empty:
        return []
    if not instance.pairs["has_demand"].any():
        return ["the plan orders nothing: demand.csv has no demand"]
    if instance.routes.empty:
        return ["the plan orders nothing: no lane makes any cutoff (planning_date + production_days "
                "+ transit_days + buffer_days is after every warehouse's cutoff)"]
    pairs = instance.pairs
    paying = pairs.index[pairs["economic_stock"] > pairs["existing"]]
    if paying.empty:
        return ["the plan orders nothing: at these prices and costs no case adds expected profit "
                "(existing stock covers what pays)"]
    routes = instance.routes.reset_index()
    routes["position"] = np.arange(len(routes))
    routes = routes.set_index(["sku", "warehouse"]).loc[lambda r: r.index.isin(paying)].reset_index()
    blocks = _blocking_limits(instance, routes)
    where = _pair_list(paying)
    if blocks:
        return [f"the plan orders nothing: a case pays at {len(paying)} SKU × warehouse pair(s) ({where}), "
                f"but no route there can carry one case within the limits: {'; '.join(blocks)}"]
    return [f"the plan orders nothing: a case pays at {len(paying)} SKU × warehouse pair(s) ({where}), but "
            "a fixed cost of ordering (the MOQ, the supplier's minimum order value or a lane's shipment "
            "cost) costs more than the order earns"]


def _blocking_limits(instance: Instance, routes: pd.DataFrame) -> list[str]:
    """Each limit that leaves room for less than one case on every paying route."""
    cp = routes["case_pack"].to_numpy(float)
    case_cost = routes["landed_cost"].to_numpy(float) * cp
    case_m3 = routes["volume_m3"].to_numpy(float) * cp
    budget = instance.budget
    found = []
    if (case_cost > budget).all():
        found.append(f"the budget {budget:,.2f} is below the cheapest case ({case_cost.min():,.2f})")
    share = instance.max_sku_budget_share
    if share is not None and (case_cost > share * budget).all():
        found.append(f"max_sku_budget_share {share:g} allows {share * budget:,.2f} per SKU, below the "
                     f"cheapest case ({case_cost.min():,.2f})")
    space = instance.warehouses["capacity_m3"].reindex(routes["warehouse"]).to_numpy(float)
    if (case_m3 > space).all():
        found.append("warehouse space: " + _named(routes["warehouse"], space, "m³ free"))
    lane = instance.lanes["capacity_m3"].reindex(pd.MultiIndex.from_frame(routes[["warehouse", "mode"]]))
    lane = lane.fillna(np.inf).to_numpy(float)
    if (case_m3 > lane).all():
        found.append("lane space: " + _named(routes["warehouse"] + " " + routes["mode"], lane, "m³ free"))
    capacity = routes["sku"].map(instance.skus["supplier"]).map(instance.suppliers["capacity_units"])
    capacity = capacity.fillna(np.inf).to_numpy(float)
    if (cp > capacity).all():
        found.append("supplier capacity: " + _named(routes["sku"].map(instance.skus["supplier"]), capacity,
                                                    "units"))
    cash = instance.cash
    for k, until in enumerate(cash.until):
        paid = cash.coef[k, routes["position"].to_numpy()] * cp
        if (paid > cash.limit[k] + 1e-9).all():
            found.append(f"the cash limit {cash.limit[k]:,.2f} until {until} is below the cheapest case's "
                         f"payments by then ({paid.min():,.2f})")
    return found


def _named(names: pd.Series, values: np.ndarray, unit: str) -> str:
    """``W1 0 m³ free, W2 0.01 m³ free``: the first distinct names with their values."""
    seen = dict(zip(names, values))
    shown = [f"{n} {v:,.4g} {unit}" for n, v in list(seen.items())[:SHOWN]]
    return ", ".join(shown) + (f" and {len(seen) - SHOWN} more" if len(seen) > SHOWN else "")


def _pair_list(pairs: pd.Index) -> str:
    shown = [f"{s} at {w}" for s, w in list(pairs)[:SHOWN]]
    return ", ".join(shown) + (" …" if len(pairs) > SHOWN else "")
