"""Promo stock planner: how many units of each SKU to buy, for which warehouse, by which mode.

The public API, for notebooks and scripts::

    import optimizer as opt

    campaign = opt.load_campaign("data/sample")          # validated; InputError names file/row/column
    run = opt.plan_campaign(campaign, opt.Settings(budget=800_000), out_dir="runs/sample-800k")
    run.summary.expected_profit, run.summary.status, run.summary.mip_gap   # a RunSummary (summary.json)
    run.evaluation.lines                                 # the plan.csv rows

    planner = opt.Planner(campaign, max_budget=900_000)  # one model, several budgets
    planner.solve(700_000), planner.solve(900_000)
    frontier = opt.budget_frontier(campaign, opt.budget_steps(campaign.config.budget, 6))

The package reads as the pipeline: :mod:`optimizer.io` (campaign folder, run
folder, run index) → :mod:`optimizer.prep` (instance, expected sales) →
:mod:`optimizer.model` (the MILP) → :mod:`optimizer.solve` (HiGHS pipeline) →
:mod:`optimizer.evaluate` (exact profit, KPIs, simulation, diff) →
:mod:`optimizer.workflows` (planner, frontier, scenarios, explorer, batches) →
:mod:`optimizer.forecast`, :mod:`optimizer.monitor`, :mod:`optimizer.report`;
:mod:`optimizer.cli` is the command line.  Names below are imported on first use,
so ``import optimizer`` is instant and the command line loads only what it runs.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "load_campaign": "optimizer.io.campaign",
    "Campaign": "optimizer.io.campaign",
    "InputError": "optimizer.io.errors",
    "default_run_dir": "optimizer.io.run_folder",
    "Settings": "optimizer.settings",
    "Status": "optimizer.status",
    "Progress": "optimizer.progress",
    "RunSummary": "optimizer.io.summary",
    "Planner": "optimizer.workflows.planner",
    "PlanResult": "optimizer.workflows.planner",
    "PlanRun": "optimizer.workflows.planner",
    "plan_campaign": "optimizer.workflows.planner",
    "SolveFailed": "optimizer.workflows.planner",
    "ServiceInfeasible": "optimizer.solve.diagnose",
    "budget_frontier": "optimizer.workflows.frontier",
    "budget_steps": "optimizer.workflows.frontier",
    "read_frontier": "optimizer.workflows.frontier",
    "run_scenarios": "optimizer.workflows.scenarios",
    "frontier_run": "optimizer.workflows.frontier",
    "scenarios_run": "optimizer.workflows.scenarios",
    "Explorer": "optimizer.workflows.explorer",
    "evaluate_plan": "optimizer.evaluate.plan",
    "simulate_plan": "optimizer.evaluate.simulate",
    "diff_runs": "optimizer.evaluate.diff",
    "monitor_campaign": "optimizer.monitor.campaign_monitor",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str):
    """Import a public name from its module on first use (PEP 562)."""
    if name == "__version__":  # read from the installed metadata once asked for
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("promo-stock-optimizer")
        except PackageNotFoundError:  # a source tree that is not installed
            value = "0+unknown"
        globals()[name] = value
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | {"__version__"})
