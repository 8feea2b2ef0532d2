"""The monitor step: flags from the pace, the top-up re-plan, and the monitor's output folder.

    result = monitor_campaign("data/sample", "runs/…/<run>", "data/sample/actuals.csv")
    result.flags            # one row per (sku, warehouse): status, action, pace, stock
    result.topup.evaluation # the top-up plan (None when nothing is running ahead)

How the pace is judged is :mod:`optimizer.monitor.pace`; the top-up campaign is
:mod:`optimizer.monitor.topup`.  On a two-stage run (its folder has policy.csv) each
pair's heat — sales plus converted presales over the plan to date — picks the policy's
top-up (:mod:`optimizer.monitor.policy`), and those pairs join the re-planned top-up at
their heat.  The output folder holds ``flags.csv``, ``pace.csv``,
``monitor.json`` and the top-up as a plan run (SPEC §3 files plus ``topup_campaign/``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import PlanEvaluation
from optimizer.io.campaign import Campaign, load_campaign, option_problems
from optimizer.io.errors import InputError, Problem
from optimizer.io.recourse import RecourseSettings
from optimizer.io.run_folder import (
    PLAN_COLUMNS,
    SHIPMENT_COLUMNS,
    SKU_SUMMARY_COLUMNS,
    SOLVER_LOG_FILE,
    default_run_dir,
    new_folder_problems,
    write_run,
)
from optimizer.io.safe_text import safe_frame
from optimizer.io.summary import RunSummary
from optimizer.monitor.actuals import AUDIT_FILE, load_monitor_inputs
from optimizer.monitor.pace import Thresholds, daily_pace, flag_pairs
from optimizer.monitor.policy import POLICY_FILE, PRESALE_FILE, policy_top_ups, read_policy, read_presales
from optimizer.monitor.topup import FAST_MODES, solve_topup, topup_folder
from optimizer.progress import set_status
from optimizer.status import Status
from optimizer.workflows.planner import PlanRun

log = logging.getLogger(__name__)

#: SPEC §8's default share of presale orders that become sales (a campaign without [recourse]).
PRESALE_CONVERSION = RecourseSettings.model_fields["presale_conversion"].default


@dataclass
class MonitorResult:
    """What the monitor step found, and where it wrote it (``out_dir``)."""

    flags: pd.DataFrame          # one row per (sku, warehouse)
    pace: pd.DataFrame           # date, sku, warehouse, plan_units, actual_units (+ cumulative)
    info: dict                   # monitor.json: dates, thresholds, budget, counts, notes
    topup: PlanRun | None = None
    topup_files: dict[str, str] | None = None  # topup_campaign/ as written: file → formula-safe text
    out_dir: Path | None = None
    notes: list[str] = field(default_factory=list)



def monitor_campaign(campaign: Campaign | str | Path, run_dir: str | Path,
                     actuals_path: str | Path, *, as_of: dt.date | None = None,
                     budget: float | None = None, modes=None,
                     thresholds: Thresholds = Thresholds(), time_limit_s: float | None = None,
                     out_dir: str | Path | None = None, progress=None) -> MonitorResult:
    """Flag the pairs off pace and re-plan a top-up for those running ahead.

    ``budget``: the top-up budget (default: the monitored plan's budget − its spend).
    ``modes``: the transport modes a top-up may use (default: those of air and courier
    the campaign has).  With ``out_dir`` the flags,
    the daily pace, the top-up plan (§3 files) and its derived campaign folder are
    written there, completely or not at all.  ``out_dir`` is checked before any work:
    a file, a folder that cannot be written or one that holds files is an InputError
    naming ``--out``.
    Raises InputError (bad input, exit 2), and what ``plan`` raises for the solve.
    """
    say = progress or log.info
    if not isinstance(campaign, Campaign):
        campaign = load_campaign(campaign)
    problems = []
    if modes is None:  # the fast modes this campaign has
        modes = tuple(m for m in FAST_MODES if m in set(campaign.lanes["mode"]))
        if not modes:
            problems.append(Problem("command line", None, "--modes",
                                    f"the campaign has no {' or '.join(FAST_MODES)} lane: name the modes "
                                    "a top-up may use"))
    problems += option_problems(campaign, modes=modes, mode_option="--modes", budget=budget)
    out = None if out_dir is None else Path(out_dir)
    if out is not None:
        problems += new_folder_problems(out, "--out")
    if problems:
        raise InputError(problems, campaign.root)

    set_status(progress, "reading the plan and the actuals")
    run, actuals, rates = load_monitor_inputs(campaign, run_dir, actuals_path, as_of)
    policy, problems = read_policy(run_dir)
    presales, found = read_presales(campaign, actuals.as_of)
    if problems + found:
        raise InputError(problems + found, campaign.root)
    say(f"read the plan ({len(run.lines)} lines) and actuals {actuals.first_date} .. {actuals.as_of}")
    notes = list(actuals.notes)
    if rates is None and actuals.first_date < campaign.config.promo_start:
        notes.append(f"no {AUDIT_FILE} in the campaign folder: run-up days have no plan pace "
                     "(run `python -m optimizer forecast` to get baseline rates)")
    pace = daily_pace(campaign, run, actuals, rates)
    flags = flag_pairs(campaign, run, actuals, pace, rates, thresholds)
    counts = flags["status"].value_counts()
    say(f"pace of {len(flags)} pairs: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()))

    called = pd.Series(False, index=flags.index)
    if policy is not None:  # a two-stage run: the policy's top-up at each pair's heat (SPEC §8)
        recourse = campaign.config.recourse
        conversion = recourse.presale_conversion if recourse is not None else PRESALE_CONVERSION
        flags = policy_top_ups(flags, policy, presales, conversion)
        called = flags["policy_units"] > 0
        # the policy's pairs are re-planned at their heat where it runs above the weekly pace
        heat = flags["heat"].fillna(0.0)
        at_heat = heat * flags["remaining_plan_demand"]
        flags.loc[called, "remaining_demand_at_pace"] = np.maximum(flags["remaining_demand_at_pace"], at_heat)[called]
        notes.append(f"{POLICY_FILE} of the run: {int(called.sum())} pair(s) call for a top-up at their heat "
                     f"({int(flags.loc[called, 'policy_units'].sum()):,} units; heat = sold + {conversion:g} × "
                     f"presale orders over the plan to date; presales: "
                     f"{PRESALE_FILE if presales is not None else 'none'})")
    remaining = budget if budget is not None else run.budget - run.spend
    ahead = flags[((flags["status"] == "running_ahead") | called) & (flags["remaining_demand_at_pace"] > 0)]
    topup = files = None
    if ahead.empty:
        notes.append("no pair is running ahead: no top-up")
    elif remaining <= 0:
        notes.append(f"no budget left (plan spend {run.spend:,.2f} of {run.budget:,.2f}): no top-up")
    else:
        demand = ahead[["sku", "warehouse"]].assign(
            mean=ahead["remaining_demand_at_pace"].round(4), sd=ahead["remaining_sd_at_pace"].round(4))
        stock = ahead.set_index(["sku", "warehouse"])["stock_left"]
        cash_paid = {c.until: c.paid for c in run.summary.cash_limits or []}
        source = f"campaign folder {campaign.root}, run {run_dir} and the actuals as of {actuals.as_of}"
        folder = topup_folder(campaign, run.lines, demand, stock, actuals.as_of, remaining, modes,
                              cash_paid=cash_paid, source=source)
        say(f"top-up: {len(ahead)} pairs running ahead, budget {remaining:,.2f}, modes {', '.join(modes)}")
        set_status(progress, "solving the top-up")
        topup = solve_topup(folder, time_limit_s, progress=say, campaign_dir=campaign.root)
        files = folder.texts(safe=True)
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
        "topup": None if topup is None else _topup_info(topup.summary),
        "notes": notes,
    }
    result = MonitorResult(flags, pace, info, topup, files, notes=notes)
    if out is not None:
        result.out_dir = write_monitor(out, result)
    return result



def _topup_info(s: RunSummary) -> dict:
    """The top-up's figures in monitor.json."""
    return {"status": s.status, "expected_profit": s.expected_profit, "spend": s.spend,
            "units_ordered": s.units_ordered, "skus_ordered": s.skus_ordered, "mip_gap": s.mip_gap}


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
    pairs = pd.DataFrame(columns=SKU_SUMMARY_COLUMNS[2:],
                         index=pd.MultiIndex.from_arrays([[], []], names=["sku", "warehouse"]))
    return PlanEvaluation(pd.DataFrame(columns=PLAN_COLUMNS), pd.DataFrame(columns=SHIPMENT_COLUMNS),
                          pairs, 0.0, 0.0, 0.0, 0.0)



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
        summary = result.topup.summary.updated(kind="top-up", as_of=result.info["as_of"],
                                               campaign_dir=str(Path(out_dir) / "topup_campaign"),
                                               monitored_run=result.info["run_dir"])
        extra[SOLVER_LOG_FILE] = "\n".join(result.topup.outcome.log) + "\n"
        extra.update({f"topup_campaign/{k}": v for k, v in result.topup_files.items()})
        return write_run(out_dir, result.topup.evaluation, summary, extra_files=extra)
    summary = RunSummary(kind="top-up", status=Status.NO_TOP_UP, as_of=result.info["as_of"],
                         campaign=result.info["campaign"], budget=result.info["topup_budget"],
                         spend=0.0, expected_profit=0.0, units_ordered=0,
                         reason="; ".join(n for n in result.notes if "top-up" in n) or None,
                         monitored_run=result.info["run_dir"])
    return write_run(out_dir, _empty_evaluation(), summary, extra_files=extra)



def default_monitor_dir(campaign_name: str, root: str | Path = "runs") -> Path:
    """``runs/<campaign-slug>/<UTC timestamp>-monitor``, beside the plan runs."""
    return default_run_dir(campaign_name, root, suffix="-monitor")


__all__ = ["MonitorResult", "default_monitor_dir", "monitor_campaign", "write_monitor"]
