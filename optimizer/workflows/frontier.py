"""Budget frontier: best expected profit as a function of the budget (finance's sweep).

``budget_frontier(campaign, budgets)`` builds the instance and the model **once**
and re-solves the same loaded HiGHS model for each budget, in ascending order:
``PlanSolver.set_budget(b)`` changes the mutable budget Param, and ``solve()``
warm-starts from the previous point's plan (which still fits a larger budget) and
keeps every expected-sales chord added so far (valid cuts for any budget).

Why the instance is built with the **largest** budget of the sweep: the instance
derives per-route unit bounds ``max_units`` from its budget (a route cannot carry
more than the budget buys).  A bound computed for the largest budget is looser than,
and so still valid for, every smaller one; a bound computed for a small budget would
cut off plans at larger budgets.  The budget row and the SKU-share rule
(``α·budget``) read the mutable Param, so they follow each point.

Each point's plan is evaluated with the exact SPEC §2 profit (:func:`evaluate_plan`);
the table has one row per budget::

    budget, expected_profit, spend, expected_fill_rate, expected_leftover_units,
    bound, gap, status, solve_seconds, marginal_profit_per_budget

``marginal_profit_per_budget`` is (profit − previous profit) / (budget − previous
budget): what one more unit of currency is worth between two points (NaN at the first).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import evaluate_plan, write_table_run
from optimizer.io.campaign import Campaign, load_campaign
from optimizer.model import build_model
from optimizer.prep.instance import Overrides, build_instance
from optimizer.solve.diagnose import check_service_reachable
from optimizer.solve.pipeline import PlanSolver

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


def budget_frontier(campaign: Campaign | str | Path, budgets: list[float],
                    overrides: Overrides | None = None, time_limit_s: float | None = None,
                    progress=None) -> pd.DataFrame:
    """Expected profit and KPIs at each budget (ascending), from one persistent model.

    ``time_limit_s`` bounds each point's solve (default: the campaign's
    ``[solver] time_limit_s``).  A point where a ``min_fill_rate`` target cannot
    be met has status ``infeasible`` and empty KPIs.  Other overrides (delays, gap)
    apply to every point; ``overrides.budget`` is ignored (the sweep sets it).
    ``table.attrs["build_seconds"]`` is the one instance + model build.
    """
    if not isinstance(campaign, Campaign):
        campaign = load_campaign(campaign)
    budgets = sorted({float(b) for b in budgets})
    if not budgets or budgets[0] <= 0:
        raise ValueError("budgets must be a non-empty list of positive numbers")
    overrides = overrides or Overrides()
    settings = campaign.config.solver
    mip_gap = overrides.mip_gap if overrides.mip_gap is not None else settings.mip_gap
    limit = time_limit_s or overrides.time_limit_s or settings.time_limit_s
    quiet = progress or (lambda msg: None)

    t0 = time.perf_counter()
    inst = build_instance(campaign, replace(overrides, budget=budgets[-1]))
    check_service_reachable(inst)  # no lane makes the cutoff: no budget helps
    solver = PlanSolver(build_model(inst), inst, mip_gap=mip_gap, time_limit_s=limit,
                        threads=settings.threads, progress=quiet)
    build_seconds = time.perf_counter() - t0
    rows = []
    for b in budgets:
        solver.set_budget(b)
        t0 = time.perf_counter()
        out = solver.solve()
        seconds = time.perf_counter() - t0
        if not out.has_plan:
            rows.append({"budget": b, "status": out.status, "solve_seconds": seconds})
            continue
        ev = evaluate_plan(inst, out.route_units)
        p = ev.pairs
        demand = float(p["expected_demand"].sum())
        profit = ev.expected_profit
        bound = out.bound if out.bound is not None and math.isfinite(out.bound) else None
        if bound is None and inst.routes.empty:
            bound = profit  # nothing can be ordered: the empty plan is proven
        gap = None if bound is None else max(0.0, (bound - profit) / max(abs(profit), 1e-9))
        status = out.status
        if gap is not None:
            status = "optimal" if gap <= mip_gap * 1.05 + 1e-9 else "time_limit"
        rows.append({
            "budget": b, "expected_profit": profit, "spend": ev.spend,
            "expected_fill_rate": float(p["expected_sales"].sum()) / demand if demand > 0 else np.nan,
            "expected_leftover_units": float(p["expected_leftover"].sum()),
            "bound": bound, "gap": gap, "status": status, "solve_seconds": seconds,
        })
        quiet(f"budget {b:,.2f}: profit {profit:,.2f} ({status}, {seconds:.1f}s)")
    table = frontier_table(rows)
    table.attrs["build_seconds"] = build_seconds
    return table


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


def write_frontier(table: pd.DataFrame, run_dir: str | Path, meta: dict | None = None) -> Path:
    """Write ``frontier.csv`` (and ``frontier.json`` with ``meta``) into a new run folder."""
    return write_table_run(table, run_dir, "frontier", meta)


def record_frontier(db_path: str | Path, table: pd.DataFrame, *, campaign: str, run_dir: str | Path,
                    parameters: dict, input_sha256: str | None) -> list[int]:
    """Index a frontier run in the run history: one row per budget point, one transaction.

    Every row has the run folder's name as ``run_id`` and ``parameters`` plus
    ``command = "frontier"`` and the point's ``budget``.  The model build time
    (``table.attrs["build_seconds"]``, total for the run) goes on the first row, so
    a run's rows add up to its real build work.  A failed point (Dask batches) has
    status ``failed`` and its error as the message.
    """
    from optimizer.io.run_index import record_runs

    errors = table.attrs.get("errors", {})
    build = table.attrs.get("build_seconds")
    rows = []
    for i, r in enumerate(table.itertuples(index=False)):
        error = errors.get(float(r.budget))
        rows.append({
            "campaign": campaign, "run_id": Path(run_dir).name, "run_dir": run_dir,
            "parameters": {**parameters, "command": "frontier", "budget": float(r.budget)},
            "input_sha256": input_sha256, "status": r.status,
            "expected_profit": _number(r.expected_profit), "spend": _number(r.spend),
            "build_seconds": build if i == 0 else None, "solve_seconds": _number(r.solve_seconds),
            "message": None if error is None else f"{error[0]}: {error[1]}"[:2000]})
    return record_runs(db_path, rows)


def _number(x) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def frontier_figures(table: pd.DataFrame, currency: str = ""):
    """Plotly figures: profit, fill rate and leftover against budget; marginal profit per unit budget."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    t = table.dropna(subset=["expected_profit"])
    kpis = make_subplots(rows=1, cols=3, subplot_titles=(
        f"Expected profit ({currency})", "Expected fill rate", "Expected leftover units"))
    for i, (col, fmt) in enumerate((("expected_profit", ",.0f"), ("expected_fill_rate", ".1%"),
                                    ("expected_leftover_units", ",.0f")), start=1):
        kpis.add_trace(go.Scatter(x=t["budget"], y=t[col], mode="lines+markers", name=col,
                                  hovertemplate=f"budget %{{x:,.0f}}<br>%{{y:{fmt}}}<extra></extra>"),
                       row=1, col=i)
        kpis.update_xaxes(title_text=f"budget ({currency})", row=1, col=i)
    kpis.update_yaxes(tickformat=".0%", row=1, col=2)
    kpis.update_layout(showlegend=False, height=380, margin={"t": 50, "b": 40})
    marginal = go.Figure(go.Bar(x=t["budget"], y=t["marginal_profit_per_budget"],
                                hovertemplate="budget %{x:,.0f}<br>%{y:.3f} per unit<extra></extra>"))
    marginal.update_layout(title="Marginal expected profit per extra unit of budget",
                           xaxis_title=f"budget ({currency})", yaxis_title="Δ profit / Δ budget",
                           height=340, margin={"t": 50, "b": 40})
    return kpis, marginal


__all__ = [
    "COLUMNS",
    "budget_frontier",
    "budget_steps",
    "frontier_figures",
    "frontier_table",
    "record_frontier",
    "write_frontier",
]
