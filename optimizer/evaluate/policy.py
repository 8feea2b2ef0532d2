"""The top-up policy of a two-stage plan in words a buyer follows (SPEC §8 ``policy.csv``).

The signal on the recourse date R is a pair's *pace*: its demand mean as known at R over
demand.csv's forecast mean (run-up sales and presales against the forecast; 1.30 = 30 %
hotter than planned).  Across the planning scenarios the plan's top-ups say, per pair and
mode, from which pace on it orders more and how much.  The scenarios with a top-up are cut
into at most ``BANDS`` bands of pace (equal counts, hottest last); each band is a row:

* ``pace_from`` / ``pace_to`` — the band's lowest and highest pace;
* ``units`` — the median top-up of the band's scenarios, ``order_up_to`` — the median stock
  after it (stage 1's stock plus the top-up);
* ``share`` — the probability of the band's scenarios, ``below`` — the highest pace of a
  scenario with no top-up by any mode (top-ups need not rise with the pace, so it may
  exceed a band's ``pace_from``);
* ``rule`` — the row as a sentence: "if PET-00001's pace at ONT8 by 2026-10-20 is 130 % of
  forecast or more, order 240 more by air".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.evaluate.two_stage import TwoStageEvaluation
from optimizer.prep.recourse import TwoStage

BANDS = 3
POLICY_FILE = "policy.csv"
POLICY_COLUMNS = ["sku", "warehouse", "mode", "pace_from", "pace_to", "below", "units", "order_up_to",
                  "share", "expected_units", "rule"]


def top_up_policy(ts: TwoStage, ev: TwoStageEvaluation) -> pd.DataFrame:
    """``policy.csv`` of the module docstring from ``ev``'s top-ups on ``ts``'s scenarios."""
    rec = ev.recourse
    if rec.empty:
        return pd.DataFrame(columns=POLICY_COLUMNS)
    d = ts.demand
    forecast = ts.stage1.pairs["mean"].reindex(d.pairs).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pace = np.where(forecast > 0, d.mean / forecast, np.nan)  # (K, P)
    scenario_of = {sid: k for k, sid in enumerate(d.ids)}
    first = ev.stage1.lines.groupby(["sku", "warehouse"])["units"].sum() if len(ev.stage1.lines) else pd.Series()
    existing = ts.stage1.pairs["existing"]
    rows = []
    topped_any = {pair: {scenario_of[s] for s in group["scenario"]}
                  for pair, group in rec[rec["units"] > 0].groupby(["sku", "warehouse"])}
    units = rec.groupby(["sku", "warehouse", "mode", "scenario"])["units"].sum()
    for (sku, wh, mode), per_scenario in units.groupby(level=[0, 1, 2]):
        j = d.pairs.get_indexer([(sku, wh)])[0]
        if j < 0 or not np.isfinite(pace[:, j]).all():
            continue  # no forecast mean to read a pace against: no rule in words
        ks = np.array([scenario_of[s] for s in per_scenario.index.get_level_values("scenario")])
        amount = per_scenario.to_numpy(float)
        order = np.argsort(pace[ks, j], kind="stable")
        ks, amount = ks[order], amount[order]
        topped = np.zeros(len(d), bool)
        topped[list(topped_any.get((sku, wh), ()))] = True  # a top-up by any mode
        below = pace[~topped, j]
        below = float(np.nanmax(below)) if len(below) else None
        stock1 = float(existing.get((sku, wh), 0.0)) + float(first.get((sku, wh), 0.0))
        for band in np.array_split(np.arange(len(ks)), min(BANDS, len(ks))):
            kb, ub = ks[band], amount[band]
            share = float(d.probabilities[kb].sum())
            lo, hi = float(pace[kb, j].min()), float(pace[kb, j].max())
            n = float(np.median(ub))
            rows.append({"sku": sku, "warehouse": wh, "mode": mode, "pace_from": round(lo, 4),
                         "pace_to": round(hi, 4), "below": None if below is None else round(below, 4),
                         "units": round(n), "order_up_to": round(stock1 + n), "share": round(share, 6),
                         "expected_units": round(float(d.probabilities[kb] @ ub), 4),
                         "rule": f"if {sku}'s pace at {wh} by {ts.recourse.date} is {lo:.0%} of forecast or "
                                 f"more, order {n:,.0f} more by {mode}"})
    return pd.DataFrame(rows, columns=POLICY_COLUMNS)


__all__ = ["BANDS", "POLICY_COLUMNS", "POLICY_FILE", "top_up_policy"]
