"""Budget frontier: best expected profit as a function of the budget (finance's sweep).

``budget_frontier(campaign, budgets)`` builds one :class:`~optimizer.workflows.planner.Planner`
and re-solves its loaded HiGHS model at each budget, in ascending order: the
budget is a mutable Param, each solve warm-starts from the previous point's plan
(which still fits a larger budget) and keeps every expected-sales chord added so
far (valid cuts at any budget).

The planner is built for the **largest** budget of the sweep: the instance derives
per-route unit bounds from its budget (a route cannot carry more than the budget
buys), and a bound valid for the largest budget is valid for every smaller one.

The table has one row per budget::

    budget, expected_profit, spend, expected_fill_rate, expected_leftover_units,
    bound, gap, status, solve_seconds, marginal_profit_per_budget

``marginal_profit_per_budget`` is (profit − previous profit) / (budget − previous
budget): what one more unit of currency is worth between two points (NaN at the first).

The frontier is monotone by construction: a plan that fits a budget fits every larger
one (the budget row and the SKU cap ``α·budget`` only loosen), so a point whose own solve
ends below a smaller budget's plan shows that plan instead (its bound and gap stay the
point's own).  A higher budget never shows a lower profit; what the solver's gap would
otherwise show as economics is kept out of finance's chart.

With ``refine`` the sweep bisects the step around the knee (where the marginal profit
falls to the hurdle) ``refine`` times, so the knee is found to a fraction of a grid step
instead of read off a coarse grid.

With ``extend=True`` the sweep goes on past its last budget, in steps of its last
spacing, while that marginal profit is above the campaign's ``[frontier] hurdle``
(default 0: while money still earns anything) and the budget stays within
``max_budget_share`` × the campaign budget (default 3); the extension is one more
model, built for that cap.  :func:`recommended_budget` is what the plan at the knee
actually spends: the budget past which an extra unit of currency earns no more than the
hurdle, down to what that plan uses of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.io.campaign import Campaign, load_campaign
from optimizer.io.run_folder import write_table_run
from optimizer.progress import point_done, set_status
from optimizer.settings import Settings
from optimizer.status import Status
from optimizer.workflows.planner import Planner, PlanResult, decide_status, relative_gap

log = logging.getLogger(__name__)

COLUMNS = ["budget", "expected_profit", "spend", "expected_fill_rate", "expected_leftover_units",
           "bound", "gap", "status", "solve_seconds", "marginal_profit_per_budget"]
LOW_SHARE, HIGH_SHARE = 0.2, 1.5  # --steps spans 20 % … 150 % of the campaign budget


def budget_steps(campaign_budget: float, steps: int) -> list[float]:
    """``steps`` budgets evenly spaced from 20 % to 150 % of ``campaign_budget`` (rounded to cents)."""
    if steps < 1:
        raise ValueError("steps must be ≥ 1")
    if steps == 1:
        return [round(float(campaign_budget), 2)]
    return [round(float(x), 2) for x in
            np.linspace(LOW_SHARE * campaign_budget, HIGH_SHARE * campaign_budget, steps)]


def frontier_row(result: PlanResult) -> dict:
    """One frontier point from a planner result (a point without a plan keeps its status)."""
    row = {"budget": result.budget, "status": result.status, "solve_seconds": result.seconds}
    ev = result.evaluation
    if ev is None:
        return row
    demand = float(ev.pairs["expected_demand"].sum())
    row.update({
        "expected_profit": ev.expected_profit, "spend": ev.spend,
        "expected_fill_rate": float(ev.pairs["expected_sales"].sum()) / demand if demand > 0 else np.nan,
        "expected_leftover_units": float(ev.pairs["expected_leftover"].sum()),
        "bound": result.bound, "gap": result.gap,
    })
    return row


def point_line(name: str, result: PlanResult) -> str:
    """One finished point for the progress lines: budget, profit, gap, status and solve seconds."""
    if not result.has_plan:
        return f"{name}: budget {result.budget:,.2f}: no plan ({result.status}, {result.seconds:.1f}s)"
    gap = "no bound proven" if result.gap is None else f"gap {result.gap:.3%}"
    return (f"{name}: budget {result.budget:,.2f}: profit {result.expected_profit:,.2f}, {gap} "
            f"({result.status}, {result.seconds:.1f}s)")


def budget_frontier(campaign: Campaign | str | Path, budgets: list[float],
                    settings: Settings | None = None, time_limit_s: float | None = None,
                    progress=None, extend: bool = False, refine: int = 0) -> pd.DataFrame:
    """Expected profit and KPIs at each budget (ascending), from one persistent model.

    ``time_limit_s`` bounds each point's solve and evaluation in wall time (default: the
    settings', then the campaign's ``[solver] time_limit_s``); the one build is outside
    it.  A point where a ``min_fill_rate`` target cannot be met has status ``infeasible``
    and empty KPIs.  Other
    settings (delays, gap) apply to every point; their budget is ignored
    (the sweep sets it).  ``table.attrs["build_seconds"]`` is the one build.
    ``progress`` hears the solve's stage lines and one line per point (a
    :class:`~optimizer.progress.Progress` also counts the points).  ``refine``
    bisections locate the knee and ``extend`` goes past the last budget (module
    docstring); the profit never falls as the budget grows.

    Ctrl-C ends the sweep: the table holds the points done (the one being solved with
    its best plan, status ``interrupted``, when it had one), ``table.attrs["interrupted"]``
    is True and there is no recommended budget (the knee may lie past the last point).
    """
    if not isinstance(campaign, Campaign):
        campaign = load_campaign(campaign)
    budgets = sorted({float(b) for b in budgets})
    if not budgets or budgets[0] <= 0:
        raise ValueError("budgets must be a non-empty list of positive numbers")
    quiet = progress or log.info
    n = len(budgets)
    hurdle = campaign.config.frontier.hurdle
    set_status(progress, f"building the model for the largest budget, {budgets[-1]:,.2f}", done=0, total=n)
    planner = Planner(campaign, settings, max_budget=budgets[-1], progress=quiet)
    quiet(f"built the model in {planner.build_seconds:.1f}s (once, outside the time limit); each point gets "
          f"{time_limit_s or planner.settings.solver.time_limit_s:g}s for its solve and evaluation")
    results: dict[float, PlanResult] = {}
    interrupted = _sweep(planner, budgets, results, time_limit_s, progress, lambda k: f"point {k}/{n}")
    build, wider = planner.build_seconds, None
    if extend and len(results) >= 2 and not interrupted:
        wider, interrupted = _extension(campaign, settings, planner, results, time_limit_s, progress)
        build += wider.build_seconds if wider is not None else 0.0
    for k in range(refine if not interrupted else 0):
        step = _knee_step(_monotone(results, planner), hurdle)
        if step is None:
            break
        mid = round(sum(step) / 2, 2)
        solver = planner if mid <= budgets[-1] or wider is None else wider
        interrupted = _sweep(solver, [mid], results, time_limit_s, progress,
                             lambda _, k=k: f"knee {k + 1}/{refine}")
        if interrupted:
            break
    table = frontier_table([frontier_row(r) for r in _monotone(results, planner)])
    table.attrs["build_seconds"] = build
    table.attrs["hurdle"] = hurdle
    table.attrs["interrupted"] = interrupted
    table.attrs["recommended_budget"] = None if interrupted else recommended_budget(table, hurdle)
    return table


def _sweep(planner: Planner, budgets, results: dict, time_limit_s, progress, name) -> bool:
    """Solve ``budgets`` in order, keeping each point's result in ``results``; True when
    Ctrl-C stopped the sweep.  The point being solved then keeps its best plan (status
    ``interrupted``) when it has one, and no later point is solved: an interrupt ends the
    sweep, not the point.  ``name(k)`` names the k-th point in the progress lines."""
    for k, b in enumerate(budgets, 1):
        set_status(progress, f"{name(k)}: budget {b:,.2f}")
        try:
            result = planner.solve(b, time_limit_s=time_limit_s)
        except KeyboardInterrupt:  # between solves, or before the point had a plan
            return True
        results[float(b)] = result
        point_done(progress, point_line(name(k), result))
        if result.status == Status.INTERRUPTED:
            return True
    return False


def _monotone(results: dict[float, PlanResult], planner: Planner) -> list[PlanResult]:
    """The points in ascending budget, each showing the best plan of any budget up to its
    own (a smaller budget's plan fits a larger one); its bound, and so its gap, stay its own."""
    out, best = [], None
    knobs = planner.settings
    for budget in sorted(results):
        r = results[budget]
        if r.has_plan and best is not None and r.expected_profit < best.expected_profit - 1e-9:
            gap = relative_gap(r.bound, best.expected_profit)
            r = replace(r, evaluation=best.evaluation, gap=gap,
                        status=decide_status(r.outcome.status, gap, knobs.solver.mip_gap,
                                             knobs.pipeline.optimal_gap_slack))
        if r.has_plan and (best is None or r.expected_profit > best.expected_profit):
            best = r
        out.append(r)
    return out


def _knee_step(points: list[PlanResult], hurdle: float) -> tuple[float, float] | None:
    """The step to bisect next: around the knee (the last point whose step still earned
    more than ``hurdle`` per unit of budget), the step below it when the knee's plan leaves
    budget unspent (the money stopped earning inside that step), else the step above it
    (the marginal may still beat the hurdle part of the way).  None when there is no such
    step or it is already narrow (under 0.5 % of its upper budget)."""
    planned = [p for p in points if p.has_plan]
    if len(planned) < 2:
        return None
    knee = 0
    for i, (lo, hi) in enumerate(zip(planned, planned[1:]), 1):
        if not (hi.expected_profit - lo.expected_profit) / (hi.budget - lo.budget) > hurdle:
            break
        knee = i
    at = planned[knee]
    if knee >= 1 and at.evaluation.spend < 0.995 * at.budget:
        lo, hi = planned[knee - 1], at
    elif knee + 1 < len(planned):
        lo, hi = at, planned[knee + 1]
    else:
        return None
    return None if hi.budget - lo.budget < 0.005 * hi.budget else (lo.budget, hi.budget)


def _extension(campaign: Campaign, settings, planner: Planner, results: dict, time_limit_s,
               progress) -> tuple[Planner | None, bool]:
    """Points past the sweep while the marginal profit beats the hurdle (module docstring),
    added to ``results``: the extension's model (None: no extension) and whether Ctrl-C
    stopped it."""
    sweep = campaign.config.frontier
    cap = sweep.max_budget_share * campaign.config.budget
    budgets = sorted(results)
    step = budgets[-1] - budgets[-2]

    def last_marginal() -> float:
        return frontier_table([frontier_row(r) for r in _monotone(results, planner)])[
            "marginal_profit_per_budget"].iloc[-1]

    marginal = last_marginal()
    if not (step > 0 and np.isfinite(marginal) and marginal > sweep.hurdle and budgets[-1] + step <= cap):
        return None, False
    set_status(progress, f"extending the sweep while an extra unit earns more than {sweep.hurdle:g}: "
                         f"building the model for {cap:,.2f}")
    wider = Planner(campaign, settings, max_budget=cap, progress=progress or log.info)
    b = budgets[-1]
    while marginal > sweep.hurdle and b + step <= cap * (1 + 1e-9):
        b = round(b + step, 2)
        if _sweep(wider, [b], results, time_limit_s, progress, lambda k: "extension"):
            return wider, True
        marginal = last_marginal()
        if not np.isfinite(marginal):
            break
    return wider, False


def recommended_budget(table: pd.DataFrame, hurdle: float = 0.0) -> float | None:
    """What the plan at the knee spends: the knee is the last point of the rising part of
    the frontier whose step from the previous point still earned more than the hurdle
    per unit of budget (the first point if none did).  Its plan spends at most its budget;
    that spend is the budget to give (the same plan fits it, and nothing better does)."""
    t = table.dropna(subset=["expected_profit"]).reset_index(drop=True)
    if t.empty:
        return None
    knee = 0
    for i, marginal in enumerate(t["marginal_profit_per_budget"].iloc[1:], 1):
        if not marginal > hurdle:
            break
        knee = i
    spend = t["spend"].iloc[knee] if "spend" in t else float("nan")
    return round(float(spend if pd.notna(spend) else t["budget"].iloc[knee]), 2)


def frontier_table(rows: list[dict]) -> pd.DataFrame:
    """The frontier table from one dict per point: ``COLUMNS``, ascending budgets, marginal profit.

    Shared by :func:`budget_frontier` and the Dask frontier
    (:func:`optimizer.workflows.distributed.dask_frontier`), so both give the same table.
    """
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    table = table.sort_values("budget", kind="stable").reset_index(drop=True)
    table[COLUMNS[:7] + ["solve_seconds"]] = table[COLUMNS[:7] + ["solve_seconds"]].astype(float)
    table["marginal_profit_per_budget"] = (table["expected_profit"].diff()
                                           / table["budget"].diff())
    return table


def carry_forward(table: pd.DataFrame) -> pd.DataFrame:
    """The frontier table made monotone row by row: a point whose plan is worth less than a
    smaller budget's shows that plan's figures (it fits the larger budget), with its own
    bound and the gap to it; ``marginal_profit_per_budget`` follows.  For tables whose
    points were solved apart (the Dask frontier); :func:`budget_frontier` does the same with
    the plans themselves."""
    t = table.copy()
    kpis = ["expected_profit", "spend", "expected_fill_rate", "expected_leftover_units"]
    best = None
    for i in t.index:
        profit = t.at[i, "expected_profit"]
        if pd.isna(profit):
            continue
        if best is not None and profit < t.at[best, "expected_profit"] - 1e-9:
            t.loc[i, kpis] = t.loc[best, kpis].to_numpy()
            bound = t.at[i, "bound"]
            t.at[i, "gap"] = ((bound - t.at[i, "expected_profit"]) / max(abs(t.at[i, "expected_profit"]), 1e-9)
                              if pd.notna(bound) else np.nan)
        elif best is None or profit > t.at[best, "expected_profit"]:
            best = i
    t["marginal_profit_per_budget"] = t["expected_profit"].diff() / t["budget"].diff()
    t.attrs = dict(table.attrs)
    return t


def read_frontier(run_dir: str | Path) -> pd.DataFrame:
    """A frontier run folder's ``frontier.csv``, with its ``frontier.json`` (the campaign,
    hurdle and recommended budget the run found) in ``table.attrs``."""
    import json

    run_dir = Path(run_dir)
    table = pd.read_csv(run_dir / "frontier.csv")
    meta_file = run_dir / "frontier.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
    table.attrs.update(meta)
    table.attrs.setdefault("hurdle", 0.0)
    if table.attrs.get("recommended_budget") is None:
        table.attrs["recommended_budget"] = recommended_budget(table, table.attrs["hurdle"])
    table.attrs["run_dir"] = str(run_dir)
    return table


def write_frontier(table: pd.DataFrame, run_dir: str | Path, meta: dict | None = None) -> Path:
    """Write ``frontier.csv`` (and ``frontier.json`` with ``meta``) into a new run folder."""
    return write_table_run(table, run_dir, "frontier", meta)


def frontier_rows(table: pd.DataFrame, parameters: dict) -> list[dict]:
    """The run index rows of a frontier run: one per budget point.

    Each row has ``parameters`` plus ``command = "frontier"`` and the point's ``budget``.
    The model build time (``table.attrs["build_seconds"]``, total for the run) goes on
    the first row, so a run's rows add up to its real build work.  A failed point (Dask
    batches) has status ``failed`` and its error as the message.
    """
    errors = table.attrs.get("errors", {})
    build = table.attrs.get("build_seconds")
    rows = []
    for i, r in enumerate(table.itertuples(index=False)):
        error = errors.get(float(r.budget))
        rows.append({
            "parameters": {**parameters, "command": "frontier", "budget": float(r.budget)},
            "status": r.status, "expected_profit": r.expected_profit, "spend": r.spend,
            "build_seconds": build if i == 0 else None, "solve_seconds": r.solve_seconds,
            "message": None if error is None else f"{error[0]}: {error[1]}"[:2000]})
    return rows


@dataclass
class FrontierRun:
    """A frontier run in its published folder: the table, where it is, what it recommends."""

    table: pd.DataFrame
    run_dir: Path
    csv: Path
    recommended_budget: float | None
    interrupted: bool  # Ctrl-C ended the sweep: the table holds the points done
    asked: int  # how many budgets were asked for


def frontier_run(campaign: Campaign, budgets: list[float], settings: Settings | None = None, *,
                 reports_dir: str | Path = "reports", extend: bool = False, scheduler: str | None = None,
                 workers: int | None = None, time_limit_s: float | None = None, progress=None) -> FrontierRun:
    """Sweep ``budgets`` and write the run: ``frontier.csv`` and ``frontier.json`` in a new
    folder under ``reports_dir``, indexed one row per point
    (:class:`~optimizer.workflows.run_lifecycle.RunLifecycle`).

    ``scheduler`` (``"local"`` or an address) solves one task per budget on Dask
    (:func:`~optimizer.workflows.distributed.dask_frontier`), else one persistent model is
    re-solved here (:func:`budget_frontier`; with ``extend``, past the last budget while
    money still earns the hurdle and then ``[frontier] knee_bisections`` bisections of the
    knee).  Ctrl-C keeps the points done (``interrupted``); Ctrl-C before
    the first point had a plan raises KeyboardInterrupt and leaves nothing.
    """
    from optimizer.io.run_index import input_checksum
    from optimizer.workflows.distributed import batch_client, dask_frontier
    from optimizer.workflows.run_lifecycle import RunLifecycle

    settings = settings or Settings()
    asked = sorted({float(b) for b in budgets})
    meta = {"campaign": campaign.config.name, "campaign_dir": str(Path(campaign.root).resolve()),
            "budgets": asked, "delays": dict(settings.what_if.delays), "time_limit_s": time_limit_s,
            "scheduler": scheduler or "single-process"}
    with RunLifecycle(reports_dir, campaign.config.name, command="frontier", parameters=meta,
                      input_sha256=input_checksum(campaign.root)) as run:
        with batch_client(scheduler, workers, progress) as client:
            if client is None:
                table = budget_frontier(campaign, asked, settings, time_limit_s=time_limit_s,
                                        progress=progress, extend=extend,
                                        refine=campaign.config.frontier.knee_bisections if extend else 0)
            else:
                set_status(progress, "solving the budgets, one task each", total=len(asked))
                table = dask_frontier(campaign.root, asked, client, settings, time_limit_s=time_limit_s,
                                      progress=getattr(progress, "step", progress))
        interrupted = bool(table.attrs.get("interrupted"))
        if interrupted and table.empty:  # Ctrl-C before the first point had a plan
            raise KeyboardInterrupt
        hurdle = campaign.config.frontier.hurdle
        recommended = None if interrupted else recommended_budget(table, hurdle)
        meta.update(budgets=[float(b) for b in table["budget"]], hurdle=hurdle,
                    recommended_budget=recommended, interrupted=interrupted)
        csv = write_frontier(table, run.staging, meta=meta)
        run_dir = run.publish()
        run.index(frontier_rows(table, meta))
    return FrontierRun(table, run_dir, run_dir / csv.name, recommended, interrupted, len(asked))


__all__ = [
    "read_frontier",
    "recommended_budget",
    "COLUMNS",
    "budget_frontier",
    "budget_steps",
    "frontier_row",
    "frontier_table",
    "FrontierRun",
    "carry_forward",
    "frontier_rows",
    "frontier_run",
    "write_frontier",
]
