"""The top-up re-plan of in-campaign monitoring, solved by the planning engine itself.

For the SKU × warehouse pairs running ahead of plan, :func:`topup_files` derives a
small campaign folder (SPEC §1) from the monitored campaign and the plan being run:

* ``planning_date`` = the as-of date: the model's own deadline rule
  (``as_of + production_days + transit_days + buffer_days ≤ cutoff``) drops every
  lane that can no longer make the cutoff;
* ``lanes.csv`` keeps the fast modes only (air and courier by default);
* ``budget`` = what the monitored plan left (its budget − its spend), or an explicit one;
* ``demand.csv`` = the remaining demand of the running-ahead pairs re-estimated at
  their actual pace (see :mod:`optimizer.monitor.pace`); ``inventory.csv`` = the promo
  stock they have left (available − what was sold out of it);
* warehouse and lane space and supplier capacity are what the plan has not used
  (its lines' volume and units are subtracted); MOQs and supplier minimum order
  values apply to the new order as to any order;
* no ``min_fill_rate`` and no ``max_sku_budget_share``: those are targets of the
  campaign plan; a top-up is bought only where it pays.

:func:`solve_topup` writes that folder to a temporary place, loads it with the
ordinary loader (so it is checked like any campaign) and plans it with
:func:`~optimizer.workflows.planner.plan_campaign`.  The monitor keeps the folder in its output
(``topup_campaign/``): ``python -m optimizer plan OUT/topup_campaign`` reproduces the
top-up, and an independent checker can verify it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.io.campaign import Campaign, config_text, frame_csv, load_campaign, skus_csv
from optimizer.prep.instance import Overrides
from optimizer.workflows.planner import PlanRun, plan_campaign

FAST_MODES = ("air", "courier")


def topup_files(campaign: Campaign, plan_lines: pd.DataFrame, demand: pd.DataFrame,
                stock_left: pd.Series, as_of: dt.date, budget: float,
                modes=FAST_MODES, cash_paid: dict | None = None) -> dict[str, str]:
    """The top-up campaign folder as ``{file name: text}``.

    ``plan_lines``: the monitored plan.csv (sku, warehouse, mode, units);
    ``demand``: sku, warehouse, mean, sd of the pairs to top up; ``stock_left``:
    units of promo stock left per (sku, warehouse) of those pairs.  ``cash_paid``
    maps a cash limit's ``until`` date to what the monitored plan pays by then: the
    top-up keeps the limits dated on or after ``as_of``, each less that amount (the
    two plans share the finance team's cash plan).
    """
    cfg = campaign.config
    skus = campaign.skus[campaign.skus["sku"].isin(set(demand["sku"]))].copy()
    volume = campaign.skus.set_index("sku")["volume_m3"]
    lines = plan_lines.assign(volume=plan_lines["units"] * plan_lines["sku"].map(volume))

    suppliers = campaign.suppliers[campaign.suppliers["supplier"].isin(set(skus["supplier"]))].copy()
    supplier_of = campaign.skus.set_index("sku")["supplier"]
    used_units = lines.groupby(lines["sku"].map(supplier_of))["units"].sum()
    suppliers["capacity_units"] = (suppliers["capacity_units"]
                                   - suppliers["supplier"].map(used_units).fillna(0)).clip(lower=0)

    warehouses = campaign.warehouses.copy()
    used_space = lines.groupby("warehouse")["volume"].sum()
    warehouses["capacity_m3"] = (warehouses["capacity_m3"]
                                 - warehouses["warehouse"].map(used_space).fillna(0)).clip(lower=0)

    lanes = campaign.lanes[campaign.lanes["mode"].isin(set(modes))].copy()
    used_lane = lines.groupby(["warehouse", "mode"])["volume"].sum()
    key = pd.MultiIndex.from_frame(lanes[["warehouse", "mode"]])
    lanes["capacity_m3"] = (lanes["capacity_m3"]
                            - used_lane.reindex(key).fillna(0).to_numpy()).clip(lower=0)

    stock = stock_left.reindex(pd.MultiIndex.from_frame(demand[["sku", "warehouse"]]))
    inventory = pd.DataFrame({
        "sku": demand["sku"].to_numpy(), "warehouse": demand["warehouse"].to_numpy(),
        "on_hand": np.floor(stock.fillna(0).clip(lower=0).to_numpy()).astype("int64"),
        "in_transit": 0, "in_transit_eta": ""})

    paid = cash_paid or {}
    cash_limits = [c.model_copy(update={"limit": max(0.0, c.limit - paid.get(c.until, 0.0))})
                   for c in cfg.cash_limits if c.until >= as_of]
    text = config_text(cfg, name=f"{cfg.name} top-up {as_of}", planning_date=as_of,
                       budget=float(budget), min_fill_rate=None, max_sku_budget_share=None,
                       cash_limits=cash_limits)
    files = {"campaign.toml": text, "skus.csv": skus_csv(skus), "suppliers.csv": frame_csv(suppliers),
             "warehouses.csv": frame_csv(warehouses), "lanes.csv": frame_csv(lanes),
             "demand.csv": frame_csv(demand[["sku", "warehouse", "mean", "sd"]]),
             "inventory.csv": frame_csv(inventory)}
    fees = campaign.fees[campaign.fees["sku"].isin(set(skus["sku"]))]
    if len(fees):
        files["fees.csv"] = frame_csv(fees)
    return files


def solve_topup(files: dict[str, str], time_limit_s: float | None = None,
                progress=None) -> PlanRun:
    """Load the derived folder like any campaign and plan it (raises like ``plan``)."""
    with tempfile.TemporaryDirectory(prefix="topup-") as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        campaign = load_campaign(tmp)
        return plan_campaign(campaign, Overrides(time_limit_s=time_limit_s), progress=progress)


__all__ = ["FAST_MODES", "solve_topup", "topup_files"]
