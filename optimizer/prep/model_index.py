"""The lookups the model's families and the solver share, derived once from an instance.

A constraint family reads the numbers it needs from :class:`ModelIndex`
(``instance.index``), never from another family's attributes on the Pyomo model, so
the families can be built in any order and the solver reads the same numbers the rows
were built from.  Everything here is plain Python (dicts and lists keyed by route,
pair, SKU or lane), in the instance's order: the model's rows and columns come out in
the same order whatever builds them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

Route = tuple[str, str, str]  # (sku, warehouse, mode)
Pair = tuple[str, str]        # (sku, warehouse)
Lane = tuple[str, str]        # (warehouse, mode)


@dataclass(frozen=True)
class ModelIndex:
    """Routes, pairs and lanes of one instance, with the per-key numbers of the model."""

    routes: list[Route]                      # usable routes, instance order
    case_pack: dict[Route, int]
    max_cases: dict[Route, int]              # the route's valid bound in cases
    max_units: dict[Route, float]
    landed_cost: dict[Route, float]          # per unit
    volume: dict[Route, float]               # m³ per unit
    routes_of_pair: dict[Pair, list[Route]]
    routes_of_sku: dict[str, list[Route]]
    routes_of_lane: dict[Lane, list[Route]]
    routes_of_warehouse: dict[str, list[Route]]
    ordered_skus: list[str]                  # SKUs with a usable route, sorted
    lanes: list[Lane]                        # lanes with a usable route, instance order
    fixed_cost_lanes: list[Lane]             # a positive shipment cost and room for volume
    max_shipments: dict[Lane, int]           # 1 for a per-use fee, else containers
    shipment_cost: dict[Lane, float]
    shipment_m3: dict[Lane, float]           # containerised fixed-cost lanes only
    flagged_skus: list[str]                  # SKUs with an order flag (MOQ above a case, or a supplier minimum)
    sku_unit_bound: dict[str, float]         # U[s] of the flagged SKUs
    demand_pairs: list[Pair]                 # pairs with demand
    stock_range: dict[Pair, tuple[int, int]]  # (existing stock, most stock the routes can bring)
    pair_case_pack: dict[Pair, int]
    moments: dict[Pair, tuple[float, float, int, float]]  # mean, sd, distribution code, spread

    def routes_at(self, pair: Pair) -> list[Route]:
        """The usable routes into ``pair`` (none for a pair with stock or demand only)."""
        return self.routes_of_pair.get(pair, [])


def model_index(routes: pd.DataFrame, pairs: pd.DataFrame, skus: pd.DataFrame, suppliers: pd.DataFrame,
                lanes: pd.DataFrame, sku_unit_bound: pd.Series) -> ModelIndex:
    """The :class:`ModelIndex` of an instance's tables."""
    keys = list(routes.index)
    packs = routes["case_pack"].astype(int).tolist()
    case_pack = dict(zip(keys, packs))
    max_units = dict(zip(keys, routes["max_units"].astype(float).tolist()))
    by_pair, by_sku, by_lane, by_wh = (defaultdict(list) for _ in range(4))
    for k in keys:
        by_pair[k[:2]].append(k)
        by_sku[k[0]].append(k)
        by_lane[k[1:]].append(k)
        by_wh[k[1]].append(k)
    volume = dict(zip(keys, routes["volume_m3"].astype(float).tolist()))

    used = lanes.loc[[l for l in lanes.index if l in by_lane]]
    max_volume = {l: sum(volume[k] * max_units[k] for k in by_lane[l]) for l in used.index}
    fixed = [l for l in used.index if used.at[l, "shipment_cost"] > 0 and max_volume[l] > 0]
    containerised = [l for l in fixed if used.at[l, "shipment_m3"] == used.at[l, "shipment_m3"]]
    max_shipments = {l: (max(1, math.ceil(max_volume[l] / used.at[l, "shipment_m3"] - 1e-9))
                         if l in containerised else 1) for l in fixed}

    ordered = sorted({k[0] for k in keys})
    moq, sku_pack = skus["moq"].to_dict(), skus["case_pack"].to_dict()
    mov = skus["supplier"].map(suppliers["min_order_value"]).fillna(0.0).to_dict()
    flagged = [s for s in ordered if moq[s] > sku_pack[s] or mov[s] > 0]

    demand = pairs[pairs["has_demand"]]
    reach = routes.groupby(level=["sku", "warehouse"])["max_units"].sum()
    most = demand["existing"] + reach.reindex(demand.index).fillna(0)
    return ModelIndex(
        routes=keys,
        case_pack=case_pack,
        max_cases={k: int(u // cp) for k, u, cp in zip(keys, routes["max_units"].tolist(), packs)},
        max_units=max_units,
        landed_cost=dict(zip(keys, routes["landed_cost"].astype(float).tolist())),
        volume=volume,
        routes_of_pair=dict(by_pair),
        routes_of_sku=dict(by_sku),
        routes_of_lane=dict(by_lane),
        routes_of_warehouse=dict(by_wh),
        ordered_skus=ordered,
        lanes=list(used.index),
        fixed_cost_lanes=fixed,
        max_shipments=max_shipments,
        shipment_cost={l: float(used.at[l, "shipment_cost"]) for l in fixed},
        shipment_m3={l: float(used.at[l, "shipment_m3"]) for l in containerised},
        flagged_skus=flagged,
        sku_unit_bound={s: float(sku_unit_bound[s]) for s in flagged},
        demand_pairs=list(demand.index),
        stock_range={k: (int(e), int(hi)) for k, e, hi in zip(demand.index, demand["existing"], most)},
        pair_case_pack={k: int(c) for k, c in zip(demand.index, demand["case_pack"])},
        moments={k: (float(mu), float(sd), int(d), float(spread)) for k, mu, sd, d, spread in zip(
            demand.index, demand["mean"], demand["sd"], demand["dist"], demand["spread"])},
    )


__all__ = ["ModelIndex", "model_index"]
