"""Seller-economics inputs (SPEC §6) for a generated campaign, drawn from their own seed.

The values follow what a cross-border seller on Amazon pays in Q4 2026:

* **Referral fee** by category: 8 % on electronics and beauty, 15 % elsewhere.
* **Fulfilment fee** (FBA, by shipping weight): 3.22 USD up to 0.25 kg, 3.86 to 0.5 kg,
  4.75 to 1 kg, 5.95 to 2 kg, then 5.95 + 0.40 per kg above 2.  The New Jersey 3PL
  charges its own pick & pack (``fees.csv``): 55 % of the FBA fee, at least 1.80.
* **Storage** per m³ and month: FBA's Q4 peak rate in the US (2.40 USD per ft³ ≈ 84.75
  per m³), 60 in the UK, 55 in Germany, 18 at the 3PL; leftovers stay two months
  (``leftover_months = 2``) before they are cleared at salvage.
* **Bonded warehouse**: the 3PL in New Jersey sits in a foreign-trade zone, so duty is
  paid on what leaves it for buyers, not on arrival.
* **Supplier terms**: most suppliers take a 30 % deposit with the order and the balance
  before shipping; a fifth want 50 %, a tenth want everything up front.  A third of
  the suppliers quote in CNY (``[fx] CNY = 0.14``).
* **Cash plan**: finance caps what the plan pays by the end of August, September and
  October at 15 %, 55 % and 100 % of the budget (top-ups in October use what the plan leaves).
* **Order cycle**: the buyer places purchase orders once a week (``po_cycle_days = 7``):
  a line goes on the week's PO on or before its order-by date, and its deposit is paid then.

Everything is drawn from ``numpy.random.default_rng([seed, 6])``, so switching these
inputs on leaves every other table of the campaign byte for byte as it was.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

CNY_PER_USD_RATE = 0.14  # campaign currency (USD) per CNY
REFERRAL_RATE = {"electronics": 0.08, "beauty": 0.08}
DEFAULT_REFERRAL_RATE = 0.15
FBA_FEE_TIERS = ((0.25, 3.22), (0.5, 3.86), (1.0, 4.75), (2.0, 5.95))
FBA_FEE_PER_KG_ABOVE = 0.40
THREE_PL_SHARE, THREE_PL_MIN = 0.55, 1.80
STORAGE_PER_M3_MONTH = {"US": 84.75, "UK": 60.0, "DE": 55.0}
THREE_PL_STORAGE = 18.0
LEFTOVER_MONTHS = 2
CASH_PLAN = ((dt.date(2026, 8, 31), 0.15), (dt.date(2026, 9, 30), 0.55), (dt.date(2026, 10, 31), 1.00))
PO_CYCLE_DAYS = 7  # purchase orders placed weekly from the planning date


def fba_fee(weight_kg: np.ndarray) -> np.ndarray:
    """The FBA fulfilment fee of a unit by its shipping weight (module docstring)."""
    w = np.asarray(weight_kg, float)
    fee = 5.95 + FBA_FEE_PER_KG_ABOVE * np.maximum(w - 2.0, 0.0)
    for limit, tier_fee in reversed(FBA_FEE_TIERS):
        fee = np.where(w <= limit, tier_fee, fee)
    return np.round(fee, 2)


def add_seller_economics(seed: int, skus: pd.DataFrame, suppliers: pd.DataFrame,
                         warehouses: pd.DataFrame, budget: float) -> dict:
    """Add the §6 columns to the formatted (text) tables in place; return ``fees`` (the
    fees.csv frame) and the campaign.toml additions (``leftover_months``, ``fx``,
    ``cash_limits``, ``po_cycle_days``)."""
    rng = np.random.default_rng([seed, 6])
    skus["referral_fee_rate"] = [f"{REFERRAL_RATE.get(c, DEFAULT_REFERRAL_RATE):.2f}" for c in skus["category"]]
    fba = fba_fee(skus["weight_kg"].astype(float))
    skus["fulfilment_fee"] = [f"{x:.2f}" for x in fba]

    n_sup = len(suppliers)
    draw = rng.random(n_sup)
    suppliers["deposit_share"] = np.where(draw < 0.1, "1.00", np.where(draw < 0.3, "0.50", "0.30"))
    cny = np.zeros(n_sup, dtype=bool)
    cny[rng.choice(n_sup, size=max(1, n_sup // 3), replace=False)] = True
    quotes_cny = skus["supplier"].map(dict(zip(suppliers["supplier"], cny))).to_numpy(bool)
    usd_cost = skus["unit_cost"].astype(float).to_numpy()
    skus["unit_cost"] = [f"{x:.2f}" for x in np.where(quotes_cny, usd_cost / CNY_PER_USD_RATE, usd_cost)]
    skus["cost_currency"] = np.where(quotes_cny, "CNY", "USD")

    is_3pl = (warehouses["kind"] == "3PL").to_numpy()
    storage = warehouses["market"].map(STORAGE_PER_M3_MONTH).to_numpy(float)
    warehouses["storage_cost_per_m3_month"] = [f"{x:.2f}" for x in np.where(is_3pl, THREE_PL_STORAGE, storage)]
    warehouses["bonded"] = np.where(is_3pl, "true", "false")

    fees = pd.DataFrame(columns=["sku", "warehouse", "fulfilment_fee"])
    if is_3pl.any():
        three_pl = warehouses.loc[is_3pl, "warehouse"].tolist()
        fee = np.maximum(THREE_PL_MIN, np.round(THREE_PL_SHARE * fba, 2))
        fees = pd.DataFrame({
            "sku": np.repeat(skus["sku"].to_numpy(), len(three_pl)),
            "warehouse": np.tile(three_pl, len(skus)),
            "fulfilment_fee": [f"{x:.2f}" for x in np.repeat(fee, len(three_pl))],
        })
    cash_limits = [(until, round(share * budget, -3)) for until, share in CASH_PLAN]
    return {"fees": fees, "leftover_months": LEFTOVER_MONTHS, "fx": {"CNY": CNY_PER_USD_RATE},
            "cash_limits": cash_limits, "po_cycle_days": PO_CYCLE_DAYS}


__all__ = ["add_seller_economics", "fba_fee"]
