"""The top-up re-plan of in-campaign monitoring, solved by the planning engine itself.

For the SKU × warehouse pairs running ahead of plan, :func:`topup_folder` derives a
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
:func:`~optimizer.workflows.planner.plan_campaign`; a problem the loader finds is
raised as :class:`TopUpInputError`, which names the campaign folder, the run and the
as-of date the top-up was derived from, never the temporary folder.  The monitor
keeps the folder in its output (``topup_campaign/``): ``python -m optimizer plan
OUT/topup_campaign`` reproduces the top-up, and an independent checker can verify it.

The folder is solved from its verbatim text; the copy kept in the output is
formula-safe (:func:`~optimizer.io.safe_text.safe_frame`: a formula-like id gets a
leading ``'``, which :func:`~optimizer.io.safe_text.plain_cell` drops on reading),
so a supplier's ``=HYPERLINK(…)`` id is shown as text when the file is opened in a
spreadsheet.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.io.campaign import Campaign, CampaignConfig, config_text, frame_csv, load_campaign, skus_csv
from optimizer.io.errors import InputError, Problem
from optimizer.io.safe_text import safe_frame
from optimizer.settings import Settings
from optimizer.workflows.planner import PlanRun, SolveFailed, plan_campaign

FAST_MODES = ("air", "courier")


@dataclass
class TopUpFolder:
    """The derived top-up campaign folder: its campaign.toml text and its tables.

    ``tables`` maps a CSV file name to its table; ``skus.csv`` is the loaded SKU
    table (costs converted), written back with the costs as quoted.  ``source``
    says what it was derived from, for messages: "campaign folder X, run Y, as of D".
    """

    config: str
    tables: dict[str, pd.DataFrame]
    source: str = ""

    def texts(self, *, safe: bool = False) -> dict[str, str]:
        """``{file name: text}``; ``safe`` makes every text cell formula-safe (the copy users open)."""
        files = {"campaign.toml": self.config}
        for name, table in self.tables.items():
            table = safe_frame(table) if safe else table
            files[name] = skus_csv(table) if name == "skus.csv" else frame_csv(table)
        return files


def topup_folder(campaign: Campaign, plan_lines: pd.DataFrame, demand: pd.DataFrame,
                 stock_left: pd.Series, as_of: dt.date, budget: float,
                 modes=FAST_MODES, cash_paid: dict | None = None, source: str = "") -> TopUpFolder:
    """The top-up campaign folder (module docstring).

    ``plan_lines``: the monitored plan.csv (sku, warehouse, mode, units);
    ``demand``: sku, warehouse, mean, sd of the pairs to top up; ``stock_left``:
    units of promo stock left per (sku, warehouse) of those pairs.  ``cash_paid``
    maps a cash limit's ``until`` date to what the monitored plan pays by then: the
    top-up keeps the limits dated on or after ``as_of``, each less that amount (the
    two plans share the finance team's cash plan).  ``source`` names what the folder
    is derived from in messages.
    """
    skus = campaign.skus[campaign.skus["sku"].isin(set(demand["sku"]))].copy()
    volume = campaign.skus.set_index("sku")["volume_m3"]
    lines = plan_lines.assign(volume=plan_lines["units"] * plan_lines["sku"].map(volume))
    tables = {"skus.csv": skus,
              "suppliers.csv": _suppliers_left(campaign, skus, lines),
              "warehouses.csv": _warehouses_left(campaign, lines),
              "lanes.csv": _lanes_left(campaign, lines, modes),
              "demand.csv": demand[["sku", "warehouse", "mean", "sd"]],
              "inventory.csv": _inventory(demand, stock_left)}
    fees = campaign.fees[campaign.fees["sku"].isin(set(skus["sku"]))]
    if len(fees):
        tables["fees.csv"] = fees
    return TopUpFolder(topup_config_text(campaign.config, as_of, budget, cash_paid), tables, source)


def topup_config_text(cfg: CampaignConfig, as_of: dt.date, budget: float,
                      cash_paid: dict | None = None) -> str:
    """campaign.toml of the top-up: planned on ``as_of`` with ``budget``, no service
    target or SKU share, the cash limits still ahead less what the plan pays by then."""
    paid = cash_paid or {}
    cash_limits = [c.model_copy(update={"limit": max(0.0, c.limit - paid.get(c.until, 0.0))})
                   for c in cfg.cash_limits if c.until >= as_of]
    return config_text(cfg, name=f"{cfg.name} top-up {as_of}", planning_date=as_of,
                       budget=float(budget), min_fill_rate=None, max_sku_budget_share=None,
                       cash_limits=cash_limits)


def _suppliers_left(campaign: Campaign, skus: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """The top-up SKUs' suppliers, with the capacity the plan has not used."""
    suppliers = campaign.suppliers[campaign.suppliers["supplier"].isin(set(skus["supplier"]))].copy()
    supplier_of = campaign.skus.set_index("sku")["supplier"]
    used_units = lines.groupby(lines["sku"].map(supplier_of))["units"].sum()
    suppliers["capacity_units"] = (suppliers["capacity_units"]
                                   - suppliers["supplier"].map(used_units).fillna(0)).clip(lower=0)
    return suppliers


def _warehouses_left(campaign: Campaign, lines: pd.DataFrame) -> pd.DataFrame:
    """Every warehouse, with the space the plan has not used."""
    warehouses = campaign.warehouses.copy()
    used_space = lines.groupby("warehouse")["volume"].sum()
    warehouses["capacity_m3"] = (warehouses["capacity_m3"]
                                 - warehouses["warehouse"].map(used_space).fillna(0)).clip(lower=0)
    return warehouses


def _lanes_left(campaign: Campaign, lines: pd.DataFrame, modes) -> pd.DataFrame:
    """The lanes of ``modes``, with the space the plan has not used."""
    lanes = campaign.lanes[campaign.lanes["mode"].isin(set(modes))].copy()
    used_lane = lines.groupby(["warehouse", "mode"])["volume"].sum()
    key = pd.MultiIndex.from_frame(lanes[["warehouse", "mode"]])
    lanes["capacity_m3"] = (lanes["capacity_m3"]
                            - used_lane.reindex(key).fillna(0).to_numpy()).clip(lower=0)
    return lanes


def _inventory(demand: pd.DataFrame, stock_left: pd.Series) -> pd.DataFrame:
    """inventory.csv of the top-up: the promo stock left of each pair, whole units."""
    stock = stock_left.reindex(pd.MultiIndex.from_frame(demand[["sku", "warehouse"]]))
    return pd.DataFrame({
        "sku": demand["sku"].to_numpy(), "warehouse": demand["warehouse"].to_numpy(),
        "on_hand": np.floor(stock.fillna(0).clip(lower=0).to_numpy()).astype("int64"),
        "in_transit": 0, "in_transit_eta": ""})


class TopUpInputError(InputError):
    """The derived top-up folder failed a check: its problems, named by what it was derived from.

    The lines are those of the derived files (``topup_campaign/`` in the monitor's
    output), not of the campaign folder's.
    """

    def __init__(self, problems: list[Problem], folder, source: str):
        self.source = source
        super().__init__(problems, folder)

    def __str__(self) -> str:
        n = len(self.problems)
        head = (f"{n} {'problem' if n == 1 else 'problems'} in the top-up campaign derived from "
                f"{self.source} (lines are those of the derived files):")
        return "\n".join([head] + [f"  {p}" for p in self.problems])

    def __reduce__(self):
        return type(self), (self.problems, self.folder, self.source)


def solve_topup(folder: TopUpFolder, time_limit_s: float | None = None,
                progress=None, campaign_dir: str | Path | None = None) -> PlanRun:
    """Load the derived folder like any campaign and plan it (raises like ``plan``).

    A problem the loader finds is raised as :class:`TopUpInputError` and a failed
    solve as :class:`SolveFailed`, both naming ``folder.source`` (the error's
    ``folder`` is ``campaign_dir``), never the temporary folder.
    """
    with tempfile.TemporaryDirectory(prefix="topup-") as tmp:
        for name, text in folder.texts().items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        try:
            campaign = load_campaign(tmp)
        except InputError as e:
            raise TopUpInputError(e.problems, campaign_dir, folder.source) from None
        try:
            return plan_campaign(campaign, Settings(time_limit_s=time_limit_s), progress=progress)
        except SolveFailed as e:
            raise SolveFailed(f"the top-up derived from {folder.source}: {e} "
                              "(or give the top-up more time with --time-limit)") from None


__all__ = ["FAST_MODES", "TopUpFolder", "TopUpInputError", "solve_topup", "topup_config_text", "topup_folder"]
