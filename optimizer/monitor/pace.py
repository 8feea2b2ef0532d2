"""In-campaign monitoring: actual sales against the plan's pace, and the flags per pair.

**What the pace is compared against** (plan units per day, per sku × warehouse):

* promo days (``promo_start .. promo_end``): the demand the plan used — ``mean`` of
  the run's sku_summary.csv (demand.csv at planning time) ÷ promo days;
* run-up days (before ``promo_start``): the ``baseline_rate`` the forecast step wrote
  in ``forecast_audit.csv`` (units/day before the promo).  Without that file (or row)
  run-up days have no plan pace and the pair is not judged.

Actual and plan are summed per **week** (so the weekday pattern cancels out): the
last week is ``as_of − 6 .. as_of``, the week before ``as_of − 13 .. as_of − 7``.
A week is judged when the actuals cover it and the plan expects at least
``min_weekly_units`` in it.

A week is off plan only when it is also further off than chance explains: by more
than ``noise_z``·√plan units (3 Poisson standard deviations — with hundreds of pairs
watched, 2 would flag a few percent of them by chance; at 10 planned units a week,
20 sold is running ahead and 19 is not, 0 sold is behind and 1 is not).  Statuses:

* ``stop_loss`` — both weeks below ``stop_loss_share`` (50 %) of plan.  Action: pause
  replenishment (plan lines whose ship-by date is still ahead can be held) and clear
  the stock above the remaining demand at this pace;
* ``running_ahead`` — the last week at or above ``ahead_share`` (120 %) of plan.
  Action: top-up, re-planned by :mod:`optimizer.monitor.topup`;
* ``behind_1_week`` — below 50 % in the last week only: watch, no action yet;
* ``on_plan``; ``not_judged`` (with the reason).

**Stock and remaining demand.**  The plan (SPEC §2) sizes ``available`` for promo
demand; run-up sales at the baseline rate are regular business, served by regular
replenishment.  So the promo stock left is ``available − promo units sold −
run-up units sold above the run-up plan`` (clipped at 0).  The pace ratio ``p`` is
actual ÷ plan over the judged weeks (both if judged, else the last one; 1 when
not judged), and the remaining demand at that pace is
``p·mean·f + max(0, p − 1)·(run-up plan left)`` with ``f`` the share of promo days
still ahead; its sd is ``sqrt((p·sd·f)² + max(0, p − 1)·run-up plan left)`` (the
forecast's coefficient of variation, plus Poisson noise on the extra run-up units).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.io.campaign import Campaign
from optimizer.io.run_folder import PlanRunFiles
from optimizer.monitor.actuals import AUDIT_FILE, Actuals


@dataclass(frozen=True)
class Thresholds:
    """When a pair is flagged (documented defaults of the monitor)."""

    stop_loss_share: float = 0.5    # each of the last two weeks below this share of plan
    ahead_share: float = 1.2        # the last week at or above this share of plan
    min_weekly_units: float = 5.0   # a week the plan expects fewer units in is not judged
    noise_z: float = 3.0            # and a week must be off plan by more than z·√plan units


# ---------------------------------------------------------------- pace


def daily_pace(campaign: Campaign, run: PlanRunFiles, actuals: Actuals,
               run_up_rates: pd.Series | None) -> pd.DataFrame:
    """Plan and actual units per day and pair over ``first_date .. as_of`` (long table).

    Pairs: those of the plan with demand or stock, and any pair with sales.
    ``plan_units`` is NaN on run-up days of a pair without a baseline rate.
    """
    cfg = campaign.config
    promo_days = (cfg.promo_end - cfg.promo_start).days + 1
    sold = actuals.sales.groupby(["sku", "warehouse", "date"])["units"].sum()
    planned = run.pairs[(run.pairs["mean"] > 0) | (run.pairs["available"] > 0)].index
    pairs = planned.union(sold.index.droplevel("date").unique()).sort_values()
    days = [actuals.first_date + dt.timedelta(days=i)
            for i in range((actuals.as_of - actuals.first_date).days + 1)]
    n, t = len(pairs), len(days)
    grid = pd.DataFrame({
        "date": np.tile(np.array(days, dtype=object), n),
        "sku": np.repeat(pairs.get_level_values("sku"), t),
        "warehouse": np.repeat(pairs.get_level_values("warehouse"), t),
    })
    promo_rate = (run.pairs["mean"].reindex(pairs).fillna(0.0) / promo_days).to_numpy()
    run_up_rate = (run_up_rates.reindex(pairs) if run_up_rates is not None
                   else pd.Series(np.nan, index=pairs)).to_numpy(float)
    in_promo = np.tile(np.array([d >= cfg.promo_start for d in days]), n)
    grid["phase"] = np.where(in_promo, "promo", "run-up")
    grid["plan_units"] = np.where(in_promo, np.repeat(promo_rate, t), np.repeat(run_up_rate, t))
    key = pd.MultiIndex.from_frame(grid[["sku", "warehouse", "date"]])
    grid["actual_units"] = sold.reindex(key).fillna(0.0).to_numpy()
    by_pair = grid.groupby(["sku", "warehouse"], sort=False)
    grid["cum_plan"] = by_pair["plan_units"].cumsum(skipna=False)
    grid["cum_actual"] = by_pair["actual_units"].cumsum()
    return grid


def _week(pace: pd.DataFrame, first: dt.date, last: dt.date, start: dt.date) -> pd.DataFrame:
    """Plan and actual units in ``first .. last`` per pair; NaN plan if not covered."""
    days = pace[(pace["date"] >= first) & (pace["date"] <= last)]
    out = days.groupby(["sku", "warehouse"])[["plan_units", "actual_units"]].sum(min_count=1)
    missing_plan = days["plan_units"].isna().groupby([days["sku"], days["warehouse"]]).any()
    out.loc[missing_plan[missing_plan].index, "plan_units"] = np.nan
    if first < start:  # the actuals do not cover the whole week
        out["plan_units"] = np.nan
    return out


def flag_pairs(campaign: Campaign, run: PlanRunFiles, actuals: Actuals, pace: pd.DataFrame,
               run_up_rates: pd.Series | None, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """The flags table: weekly pace, status and action, promo stock left, demand at pace."""
    cfg, th, as_of = campaign.config, thresholds, actuals.as_of
    day = dt.timedelta(days=1)
    w2 = _week(pace, as_of - 6 * day, as_of, actuals.first_date)
    w1 = _week(pace, as_of - 13 * day, as_of - 7 * day, actuals.first_date)
    pairs = pace.groupby(["sku", "warehouse"], sort=True).size().index
    f = pd.DataFrame(index=pairs)
    f["plan_prev_week"], f["actual_prev_week"] = (w1[c].reindex(pairs) for c in ("plan_units", "actual_units"))
    f["plan_last_week"], f["actual_last_week"] = (w2[c].reindex(pairs) for c in ("plan_units", "actual_units"))
    with np.errstate(divide="ignore", invalid="ignore"):
        f["pace_prev_week"] = f["actual_prev_week"] / f["plan_prev_week"].where(f["plan_prev_week"] > 0)
        f["pace_last_week"] = f["actual_last_week"] / f["plan_last_week"].where(f["plan_last_week"] > 0)
    judged1 = (f["plan_prev_week"] >= th.min_weekly_units).fillna(False)
    judged2 = (f["plan_last_week"] >= th.min_weekly_units).fillna(False)
    below1 = judged1 & _off(f["actual_prev_week"], f["plan_prev_week"], th.stop_loss_share, -th.noise_z)
    below2 = judged2 & _off(f["actual_last_week"], f["plan_last_week"], th.stop_loss_share, -th.noise_z)
    stop = below1 & below2
    ahead = judged2 & _off(f["actual_last_week"], f["plan_last_week"], th.ahead_share, th.noise_z) & ~stop
    f["status"] = np.select([stop, ahead, below2, judged2],
                            ["stop_loss", "running_ahead", "behind_1_week", "on_plan"], "not_judged")
    f["flagged"] = stop | ahead
    both = judged1 & judged2
    f["pace"] = np.where(both, (f["actual_prev_week"] + f["actual_last_week"])
                         / (f["plan_prev_week"] + f["plan_last_week"]).where(both),
                         np.where(judged2, f["pace_last_week"], np.nan))

    # promo stock left and remaining demand at the actual pace (module docstring)
    promo_days = (cfg.promo_end - cfg.promo_start).days + 1
    in_promo = pace["date"] >= cfg.promo_start
    per_pair = pace.assign(promo_sold=pace["actual_units"].where(in_promo, 0.0),
                           run_up_sold=pace["actual_units"].where(~in_promo, 0.0),
                           run_up_plan=pace["plan_units"].where(~in_promo, 0.0))
    totals = per_pair.groupby(["sku", "warehouse"])[["promo_sold", "run_up_sold", "run_up_plan"]].sum()
    totals = totals.reindex(pairs)
    run_up_excess = (totals["run_up_sold"] - totals["run_up_plan"]).clip(lower=0).fillna(0.0)
    f["sold_to_date"] = totals["promo_sold"] + totals["run_up_sold"]
    f["plan_to_date"] = pace.groupby(["sku", "warehouse"])["plan_units"].sum(min_count=1).reindex(pairs)
    f["available"] = run.pairs["available"].reindex(pairs).fillna(0).astype("int64")
    f["stock_left"] = (f["available"] - totals["promo_sold"] - run_up_excess).clip(lower=0)

    mean = run.pairs["mean"].reindex(pairs).fillna(0.0)
    sd = run.pairs["sd"].reindex(pairs).fillna(0.0)
    promo_left = (cfg.promo_end - max(as_of, cfg.promo_start - day)).days
    share_left = promo_left / promo_days
    run_up_days_left = max(0, (cfg.promo_start - as_of).days - 1)
    rate = (run_up_rates.reindex(pairs) if run_up_rates is not None
            else pd.Series(np.nan, index=pairs)).fillna(0.0)
    run_up_left = rate * run_up_days_left
    p = f["pace"].fillna(1.0)
    extra = (p - 1).clip(lower=0) * run_up_left
    f["remaining_plan_demand"] = mean * share_left
    f["remaining_demand_at_pace"] = p * mean * share_left + extra
    f["remaining_sd_at_pace"] = np.sqrt((p * sd * share_left) ** 2 + extra)
    f["excess_at_pace"] = f["stock_left"] - f["remaining_demand_at_pace"]
    lines = run.lines[run.lines["ship_by"] > as_of]
    f["holdable_units"] = lines.groupby(["sku", "warehouse"])["units"].sum().reindex(pairs).fillna(0).astype("int64")
    f["topup_units"] = 0
    f["topup_cost"] = 0.0
    f["topup_modes"] = ""

    reason = np.select(
        [f["plan_last_week"].isna() & (as_of - 6 * day < actuals.first_date),
         f["plan_last_week"].isna(),
         ~judged2],
        ["fewer than 7 days of actuals",
         f"no run-up plan pace: no baseline_rate in {AUDIT_FILE}",
         f"plan below {th.min_weekly_units:g} units in the last week"], "")
    f["action"] = np.select(
        [f["status"] == "stop_loss", f["status"] == "running_ahead",
         f["status"] == "behind_1_week", f["status"] == "not_judged"],
        [[_stop_loss_action(h, e) for h, e in zip(f["holdable_units"], f["excess_at_pace"])],
         "top-up: see the top-up plan", "watch: behind plan last week only", reason], "")
    order = {"stop_loss": 0, "running_ahead": 1, "behind_1_week": 2, "on_plan": 3, "not_judged": 4}
    f = f.reset_index()
    f = f.sort_values(by=["status", "plan_to_date"], key=lambda s: s.map(order) if s.name == "status" else -s.fillna(0),
                      kind="stable").reset_index(drop=True)
    first = ["sku", "warehouse", "status", "flagged", "action"]
    return f[first + [c for c in f.columns if c not in first]]


def _off(actual: pd.Series, plan: pd.Series, share: float, z: float) -> pd.Series:
    """Below ``share``·plan (z < 0) or at/above it (z > 0), and beyond Poisson noise z·√plan."""
    noise = z * np.sqrt(plan.clip(lower=0))
    if z < 0:
        return ((actual < share * plan) & (actual <= plan + noise)).fillna(False)
    return ((actual >= share * plan) & (actual >= plan + noise)).fillna(False)


def _stop_loss_action(holdable: int, excess: float) -> str:
    parts = [f"pause replenishment (hold up to {holdable:,} units not yet shipped)" if holdable > 0
             else "pause replenishment"]
    if excess >= 1:
        parts.append(f"clearance: ~{excess:,.0f} units above the remaining demand at this pace")
    return "; ".join(parts)


# ---------------------------------------------------------------- the whole step


# ---------------------------------------------------------------- notebook tables and chart


__all__ = ["Thresholds", "daily_pace", "flag_pairs"]
