"""In-campaign monitoring: actual sales against the plan's pace, flags, and a top-up.

    result = monitor_campaign("data/sample", "runs/…/<run>", "data/sample/actuals.csv")
    result.flags            # one row per (sku, warehouse): status, action, pace, stock
    result.topup.evaluation # the top-up plan (None when nothing is running ahead)

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
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import PLAN_COLUMNS, SUMMARY_COLUMNS, PlanEvaluation, write_run
from optimizer.io.campaign import Campaign, load_campaign
from optimizer.io.errors import InputError, Problem
from optimizer.io.safe_text import safe_frame
from optimizer.monitor.actuals import AUDIT_FILE, Actuals, MonitoredRun, load_monitor_inputs
from optimizer.monitor.topup import FAST_MODES, solve_topup, topup_files
from optimizer.workflows.planner import PlanRun


@dataclass(frozen=True)
class Thresholds:
    """When a pair is flagged (documented defaults of the monitor)."""

    stop_loss_share: float = 0.5    # each of the last two weeks below this share of plan
    ahead_share: float = 1.2        # the last week at or above this share of plan
    min_weekly_units: float = 5.0   # a week the plan expects fewer units in is not judged
    noise_z: float = 3.0            # and a week must be off plan by more than z·√plan units


@dataclass
class MonitorResult:
    flags: pd.DataFrame          # one row per (sku, warehouse)
    pace: pd.DataFrame           # date, sku, warehouse, plan_units, actual_units (+ cumulative)
    info: dict                   # monitor.json: dates, thresholds, budget, counts, notes
    topup: PlanRun | None = None
    topup_files: dict[str, str] | None = None
    out_dir: Path | None = None
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- pace


def daily_pace(campaign: Campaign, run: MonitoredRun, actuals: Actuals,
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


def flag_pairs(campaign: Campaign, run: MonitoredRun, actuals: Actuals, pace: pd.DataFrame,
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


def monitor_campaign(campaign: Campaign | str | Path, run_dir: str | Path,
                     actuals_path: str | Path, *, as_of: dt.date | None = None,
                     budget: float | None = None, modes=FAST_MODES,
                     thresholds: Thresholds = Thresholds(), time_limit_s: float | None = None,
                     out_dir: str | Path | None = None, progress=None) -> MonitorResult:
    """Flag the pairs off pace and re-plan a top-up for those running ahead.

    ``budget``: the top-up budget (default: the monitored plan's budget − its spend).
    ``modes``: the transport modes a top-up may use.  With ``out_dir`` the flags,
    the daily pace, the top-up plan (§3 files) and its derived campaign folder are
    written there, completely or not at all (a non-empty folder is refused).
    Raises InputError (bad input, exit 2), and what ``plan`` raises for the solve.
    """
    say = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if not isinstance(campaign, Campaign):
        campaign = load_campaign(campaign)
    problems = []
    known = set(campaign.lanes["mode"])
    for m in modes:
        if m not in known:
            problems.append(Problem("command line", None, "--modes",
                                    f"no lane has mode {m!r} (modes: {', '.join(sorted(known))})"))
    if budget is not None and not budget > 0:
        problems.append(Problem("command line", None, "--budget", f"must be > 0, got {budget:g}"))
    if problems:
        raise InputError(problems, campaign.root)
    out = None if out_dir is None else Path(out_dir)
    if out is not None and out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} already holds files; a run never overwrites another")

    run, actuals, rates = load_monitor_inputs(campaign, run_dir, actuals_path, as_of)
    notes = list(actuals.notes)
    if rates is None and actuals.first_date < campaign.config.promo_start:
        notes.append(f"no {AUDIT_FILE} in the campaign folder: run-up days have no plan pace "
                     "(run `python -m optimizer forecast` to get baseline rates)")
    pace = daily_pace(campaign, run, actuals, rates)
    flags = flag_pairs(campaign, run, actuals, pace, rates, thresholds)

    remaining = budget if budget is not None else run.budget - run.spend
    ahead = flags[(flags["status"] == "running_ahead") & (flags["remaining_demand_at_pace"] > 0)]
    topup = files = None
    if ahead.empty:
        notes.append("no pair is running ahead: no top-up")
    elif remaining <= 0:
        notes.append(f"no budget left (plan spend {run.spend:,.2f} of {run.budget:,.2f}): no top-up")
    else:
        demand = ahead[["sku", "warehouse"]].assign(
            mean=ahead["remaining_demand_at_pace"].round(4), sd=ahead["remaining_sd_at_pace"].round(4))
        stock = ahead.set_index(["sku", "warehouse"])["stock_left"]
        files = topup_files(campaign, run.lines, demand, stock, actuals.as_of, remaining, modes)
        say(f"top-up: {len(ahead)} pairs running ahead, budget {remaining:,.2f}, modes {', '.join(modes)}")
        topup = solve_topup(files, time_limit_s, progress=say)
        _note_topup(flags, topup, modes, actuals.as_of)

    info = {
        "campaign": campaign.config.name, "campaign_dir": str(campaign.root),
        "run_dir": str(run_dir), "actuals": str(actuals_path),
        "as_of": str(actuals.as_of), "first_date": str(actuals.first_date),
        "last_week": [str(actuals.as_of - dt.timedelta(days=6)), str(actuals.as_of)],
        "previous_week": [str(actuals.as_of - dt.timedelta(days=13)),
                          str(actuals.as_of - dt.timedelta(days=7))],
        "thresholds": vars(thresholds),
        "run_up_pace": f"{AUDIT_FILE} baseline_rate" if rates is not None else None,
        "promo_pace": "sku_summary.csv mean / promo days",
        "modes": list(modes),
        "plan_budget": run.budget, "plan_spend": run.spend,
        "topup_budget": remaining, "budget_override": budget,
        "status_counts": {k: int(v) for k, v in flags["status"].value_counts().items()},
        "topup": None if topup is None else {
            k: topup.summary.get(k) for k in ("status", "expected_profit", "spend", "units_ordered",
                                              "skus_ordered", "mip_gap")},
        "notes": notes,
    }
    result = MonitorResult(flags, pace, info, topup, files, notes=notes)
    if out is not None:
        result.out_dir = write_monitor(out, result)
    return result


def _note_topup(flags: pd.DataFrame, topup: PlanRun, modes, as_of: dt.date) -> None:
    """Top-up units, cost and modes per pair into the flags table and its actions."""
    lines = topup.evaluation.lines
    usable = set(topup.instance.routes.index.droplevel("mode"))
    by_pair = lines.groupby(["sku", "warehouse"]).agg(
        units=("units", "sum"), cost=("line_cost", "sum"),
        modes=("mode", lambda m: ", ".join(sorted(set(m)))))
    for i in flags.index[flags["status"] == "running_ahead"]:
        key = (flags.at[i, "sku"], flags.at[i, "warehouse"])
        if key in by_pair.index:
            r = by_pair.loc[key]
            flags.loc[i, ["topup_units", "topup_cost", "topup_modes"]] = [int(r["units"]), float(r["cost"]), r["modes"]]
            flags.at[i, "action"] = f"top-up {int(r['units']):,} units by {r['modes']}"
        elif flags.at[i, "remaining_demand_at_pace"] <= 0:
            flags.at[i, "action"] = "top-up not needed: no demand left"
        elif key not in usable:
            flags.at[i, "action"] = (f"top-up wanted, but no {'/'.join(modes)} lane makes the "
                                     f"cutoff when ordered on {as_of}")
        else:
            flags.at[i, "action"] = ("no top-up: the stock left covers the demand at this pace, or "
                                     "fast freight, MOQ or the budget make it unprofitable")


def _empty_evaluation() -> PlanEvaluation:
    pairs = pd.DataFrame(columns=SUMMARY_COLUMNS[2:],
                         index=pd.MultiIndex.from_arrays([[], []], names=["sku", "warehouse"]))
    shipments = pd.DataFrame(columns=["warehouse", "mode", "shipments", "volume_m3",
                                      "shipment_cost", "container_fill"])
    return PlanEvaluation(pd.DataFrame(columns=PLAN_COLUMNS), shipments, pairs, 0.0, 0.0, 0.0, 0.0)


def write_monitor(out_dir: Path, result: MonitorResult) -> Path:
    """flags.csv, pace.csv, monitor.json and the top-up run (§3 files + topup_campaign/)."""
    extra = {
        "flags.csv": safe_frame(result.flags).to_csv(index=False, lineterminator="\n",
                                                     float_format="%.4f"),
        "pace.csv": safe_frame(result.pace).to_csv(index=False, lineterminator="\n",
                                                   float_format="%.4f"),
        "monitor.json": json.dumps(result.info, indent=1, default=str) + "\n",
    }
    if result.topup is not None:
        summary = dict(result.topup.summary, kind="top-up", as_of=result.info["as_of"],
                       campaign_dir=str(Path(out_dir) / "topup_campaign"),
                       monitored_run=result.info["run_dir"])
        extra["solver_log.txt"] = "\n".join(result.topup.outcome.log) + "\n"
        extra.update({f"topup_campaign/{k}": v for k, v in result.topup_files.items()})
        return write_run(out_dir, result.topup.evaluation, summary, extra_files=extra)
    summary = {"kind": "top-up", "status": "no_top_up", "as_of": result.info["as_of"],
               "campaign": result.info["campaign"], "budget": result.info["topup_budget"],
               "spend": 0.0, "expected_profit": 0.0, "units_ordered": 0,
               "reason": "; ".join(n for n in result.notes if "top-up" in n) or None,
               "monitored_run": result.info["run_dir"]}
    return write_run(out_dir, _empty_evaluation(), summary, extra_files=extra)


# ---------------------------------------------------------------- notebook tables and chart


def default_monitor_dir(campaign_name: str, root: str | Path = "runs") -> Path:
    """``runs/<campaign-slug>/<UTC timestamp>-monitor``, beside the plan runs."""
    from optimizer.workflows.planner import default_run_dir

    d = default_run_dir(campaign_name, root)
    return d.with_name(d.name + "-monitor")


def monitor_facts(result: MonitorResult) -> pd.DataFrame:
    """What was compared, over which days, the status counts and the top-up budget and spend."""
    i, counts = result.info, result.info["status_counts"]
    rows = [("as of", i["as_of"]), ("actuals from", i["first_date"]),
            ("last week", " .. ".join(i["last_week"])), ("week before", " .. ".join(i["previous_week"])),
            ("run-up pace", i["run_up_pace"] or "none (no forecast_audit.csv)"),
            ("promo pace", i["promo_pace"])]
    rows += [(k.replace("_", " "), f"{counts.get(k, 0):,}")
             for k in ("stop_loss", "running_ahead", "behind_1_week", "on_plan", "not_judged")]
    rows += [("top-up modes", ", ".join(i["modes"])), ("top-up budget", f"{i['topup_budget']:,.2f}")]
    if i["topup"]:
        t = i["topup"]
        rows += [("top-up spend", f"{t['spend']:,.2f}"), ("top-up units", f"{t['units_ordered']:,}"),
                 ("top-up expected profit", f"{t['expected_profit']:,.2f}"), ("top-up status", t["status"])]
    return pd.DataFrame(rows, columns=["", "value"])


FLAG_VIEW = ["sku", "warehouse", "status", "action", "plan_prev_week", "actual_prev_week",
             "plan_last_week", "actual_last_week", "pace", "stock_left", "remaining_demand_at_pace",
             "topup_units", "topup_cost"]


def flag_table(result: MonitorResult, statuses=("stop_loss", "running_ahead", "behind_1_week")) -> pd.DataFrame:
    """The flags table's rows with these statuses, in the columns an analyst reads first."""
    f = result.flags
    return f.loc[f["status"].isin(statuses), FLAG_VIEW].reset_index(drop=True)




def pace_figure(pace: pd.DataFrame, flags: pd.DataFrame, max_pairs: int = 12):
    """Cumulative plan (dashed) against actual units for the flagged pairs (plotly)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    shown = flags[flags["flagged"]].head(max_pairs)
    if shown.empty:
        return go.Figure().update_layout(title="No flagged SKU × warehouse", height=200)
    cols = min(3, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig = make_subplots(rows=rows, cols=cols, shared_xaxes=True,
                        subplot_titles=[f"{r.sku} @ {r.warehouse} ({r.status.replace('_', ' ')})"
                                        for r in shown.itertuples()])
    colour = {"stop_loss": "#c0392b", "running_ahead": "#1e8449"}
    for i, r in enumerate(shown.itertuples()):
        d = pace[(pace["sku"] == r.sku) & (pace["warehouse"] == r.warehouse)]
        at = {"row": i // cols + 1, "col": i % cols + 1}
        fig.add_trace(go.Scatter(x=d["date"], y=d["cum_plan"], name="plan", mode="lines",
                                 line={"color": "grey", "dash": "dash"}, legendgroup="plan",
                                 showlegend=i == 0), **at)
        fig.add_trace(go.Scatter(x=d["date"], y=d["cum_actual"], name=r.status.replace("_", " "),
                                 mode="lines", line={"color": colour.get(r.status, "#2c3e50")},
                                 legendgroup=r.status, showlegend=False), **at)
    fig.update_layout(height=260 * rows, title="Cumulative units: plan (dashed) and actual",
                      margin={"t": 80, "l": 40, "r": 20, "b": 40})
    return fig


__all__ = [
    "FLAG_VIEW",
    "MonitorResult",
    "Thresholds",
    "daily_pace",
    "default_monitor_dir",
    "flag_pairs",
    "flag_table",
    "monitor_campaign",
    "monitor_facts",
    "pace_figure",
    "write_monitor",
]
