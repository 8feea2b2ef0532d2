"""A two-stage plan's policy in the monitor (SPEC §8): the pair's heat and the top-up it calls for.

Inputs, both optional:

* ``policy.csv`` of the monitored run folder (written by ``plan`` on a campaign with
  ``[recourse]``, :mod:`optimizer.evaluate.policy`): per pair and mode, from which pace on
  how many units to order;
* ``presale.csv`` in the campaign folder: ``date``, ``sku``, ``warehouse``, ``orders``
  (presale orders taken that day, ≥ 0); dates within ``[planning_date, promo_end]``, rows
  after ``--as-of`` left out, every sku and warehouse known.

A pair's **heat** is what it has sold so far plus ``presale_conversion`` of its presale
orders, over what the plan expected by now (the run-up plan of ``forecast_audit.csv``'s
``baseline_rate``): ``(sold + c·orders) / plan_to_date``.  The policy's row for the pair is
the last whose ``pace_from`` the heat reaches; its units and mode are the proposed top-up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.evaluate.policy import POLICY_FILE
from optimizer.io import checks
from optimizer.io.campaign import Campaign, is_absent, read_checked_csv
from optimizer.io.checks import Col
from optimizer.io.errors import Problem, limit_per_column
from optimizer.monitor.actuals import campaign_row_problems

PRESALE_FILE = "presale.csv"
PRESALE_COLUMNS = (Col("date", "date"), Col("sku", "str"), Col("warehouse", "str"),
                   Col("orders", "float", ge=0, cap=checks.DAILY_UNITS_MAX))
POLICY_COLUMNS = (Col("sku", "str"), Col("warehouse", "str"), Col("mode", "str"), Col("pace_from", "float", ge=0),
                  Col("units", "float", ge=0), Col("rule", "str", blank_ok=True))


def read_presales(campaign: Campaign, as_of) -> tuple[pd.DataFrame | None, list[Problem]]:
    """presale.csv's orders per (sku, warehouse) up to ``as_of`` (None without the file)."""
    path = Path(campaign.root) / PRESALE_FILE
    if is_absent(path):
        return None, []
    frame, problems = read_checked_csv(path, PRESALE_FILE, PRESALE_COLUMNS, ("date", "sku", "warehouse"))
    if frame is None:
        return None, problems
    problems += campaign_row_problems(frame, PRESALE_FILE, campaign,
                                      "presale orders count from the plan on")
    problems = limit_per_column(problems)
    if problems:
        return None, problems
    frame = frame[frame["date"] <= as_of]
    return frame.groupby(["sku", "warehouse"])["orders"].sum(), []


def read_policy(run_dir: str | Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The monitored run's policy.csv (None: a one-stage run has none)."""
    path = Path(run_dir) / POLICY_FILE
    if is_absent(path):
        return None, []
    frame, problems = read_checked_csv(path, POLICY_FILE, POLICY_COLUMNS, ("sku", "warehouse", "mode", "pace_from"))
    return (None, problems) if frame is None or problems else (frame, [])


def policy_top_ups(flags: pd.DataFrame, policy: pd.DataFrame, presales: pd.Series | None,
                   conversion: float) -> pd.DataFrame:
    """``flags`` with each pair's ``heat`` and the policy's ``policy_units``, ``policy_mode`` and
    ``policy_rule`` at that heat (0 units, blank: the heat reaches no row)."""
    f = flags.copy()
    key = pd.MultiIndex.from_frame(f[["sku", "warehouse"]])
    orders = (presales.reindex(key).fillna(0.0).to_numpy(float) if presales is not None else np.zeros(len(f)))
    plan = f["plan_to_date"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        heat = np.where(plan > 0, (f["sold_to_date"].to_numpy(float) + conversion * orders) / plan, np.nan)
    f["presale_orders"] = orders
    f["heat"] = np.round(heat, 4)
    f["policy_units"], f["policy_mode"], f["policy_rule"] = 0, "", ""
    rows = policy.sort_values("pace_from").groupby(["sku", "warehouse"])
    position = {k: i for i, k in enumerate(zip(f["sku"], f["warehouse"]))}
    for pair, bands in rows:
        i = position.get(pair)
        if i is None or not np.isfinite(heat[i]):
            continue
        reached = bands[bands["pace_from"] <= heat[i] + 1e-9]
        if reached.empty:
            continue
        row = reached.iloc[-1]
        f.iat[i, f.columns.get_loc("policy_units")] = int(round(row["units"]))
        f.iat[i, f.columns.get_loc("policy_mode")] = row["mode"]
        f.iat[i, f.columns.get_loc("policy_rule")] = row["rule"]
    return f


__all__ = ["POLICY_FILE", "PRESALE_FILE", "policy_top_ups", "read_policy", "read_presales"]
