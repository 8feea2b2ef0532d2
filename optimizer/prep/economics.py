"""The seller's unit economics per (SKU, warehouse) pair (SPEC §2 and §6).

With ``ρ`` the referral fee rate, ``f[s,w]`` the fulfilment fee (fees.csv overrides
skus.csv), ``r`` the return rate, ``b[w]`` = 1 at a bonded warehouse, ``h[w]`` the
storage cost per m³ and month, ``L`` = leftover_months and
``months_in[w] = max(0, promo_end − cutoff[w]) / 30``:

* purchase cost of a unit   ``unit_cost·(1 + duty_rate·(1 − b))`` (duty at purchase
  only outside bonded warehouses);
* value of a unit sold      ``p = (1 − ρ)·price·(1 − r) + r·salvage − f − b·duty_rate·unit_cost·(1 − r)``;
* value of a leftover unit  ``v = salvage − h·volume_m3·L`` (negative when clearing costs);
* holding cost of stock     ``k = h·volume_m3·months_in`` per unit available;

so a pair's stock ``A`` is worth ``(p − v + penalty)·ES(A) + (v − k)·A − penalty·E[D]``:
``sales_coef = p − v + penalty`` and ``stock_coef = v − k``.  Without any §6 input
``p = price·(1 − r) + r·salvage``, ``v = salvage`` and ``k = 0``: SPEC §2 exactly.

The fee, storage and duty components are kept per unit so the results can split the
profit into its parts (the report's waterfall) with the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.io.campaign import Campaign

DAYS_PER_MONTH = 30.0


def months_in_stock(campaign: Campaign) -> pd.Series:
    """``max(0, promo_end − cutoff) / 30`` per warehouse: months stock waits and sells."""
    w = campaign.warehouses.set_index("warehouse")
    end = campaign.config.promo_end
    return pd.Series([max(0, (end - c).days) / DAYS_PER_MONTH for c in w["cutoff"]],
                     index=w.index, dtype=float)


def pair_economics(campaign: Campaign, skus: pd.DataFrame, index: pd.MultiIndex) -> pd.DataFrame:
    """Per-unit values of each (sku, warehouse) pair in ``index`` (columns as in the module doc).

    ``skus`` is the instance's SKU table (index sku, costs in the campaign currency).
    """
    sku_of = index.get_level_values("sku")
    wh_of = index.get_level_values("warehouse")
    s = skus.loc[sku_of]
    w = campaign.warehouses.set_index("warehouse").loc[wh_of]
    fee_override = campaign.fees.set_index(["sku", "warehouse"])["fulfilment_fee"]
    fulfilment = fee_override.reindex(index).to_numpy(float)
    fulfilment = np.where(np.isnan(fulfilment), s["fulfilment_fee"].to_numpy(float), fulfilment)

    price, r = s["price"].to_numpy(float), s["return_rate"].to_numpy(float)
    salvage, unit_cost = s["salvage_value"].to_numpy(float), s["unit_cost"].to_numpy(float)
    duty, volume = s["duty_rate"].to_numpy(float), s["volume_m3"].to_numpy(float)
    bonded = w["bonded"].to_numpy(bool).astype(float)
    storage = w["storage_cost_per_m3_month"].to_numpy(float)
    months = months_in_stock(campaign).loc[wh_of].to_numpy(float)
    leftover_months = float(campaign.config.leftover_months)

    out = pd.DataFrame(index=index)
    out["revenue"] = price * (1.0 - r)  # kept by buyers, per unit sold
    out["referral_fee"] = s["referral_fee_rate"].to_numpy(float) * out["revenue"].to_numpy()
    out["fulfilment_fee"] = fulfilment
    out["deferred_duty"] = bonded * duty * unit_cost * (1.0 - r)
    out["return_salvage"] = r * salvage
    out["sale_value"] = (out["revenue"] - out["referral_fee"] + out["return_salvage"]
                         - out["fulfilment_fee"] - out["deferred_duty"])
    out["leftover_storage"] = storage * volume * leftover_months
    out["leftover_value"] = salvage - out["leftover_storage"]
    out["holding_cost"] = storage * volume * months
    out["purchase_cost"] = unit_cost * (1.0 + duty * (1.0 - bonded))
    out["stockout_penalty"] = s["stockout_penalty"].to_numpy(float)
    out["sales_coef"] = out["sale_value"] - out["leftover_value"] + out["stockout_penalty"]
    out["stock_coef"] = out["leftover_value"] - out["holding_cost"]
    return out


__all__ = ["DAYS_PER_MONTH", "months_in_stock", "pair_economics"]
