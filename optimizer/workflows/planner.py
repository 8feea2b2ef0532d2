"""One planning run: campaign folder → instance → model → solve → evaluated plan.

This is the function the command line and the notebooks share::

    run = plan_campaign("data/sample", Overrides(budget=250_000, delays={"sea_fcl": 10}))
    run.summary["expected_profit"], run.evaluation.lines

Build, solve and extraction are separate steps; the solver's status is checked
before any value is read, and a time-limited solve that found nothing better than
ordering nothing is reported as a failure, not as a plan.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from optimizer.evaluate.plan import PlanEvaluation, evaluate_plan, summarize, write_run
from optimizer.io.campaign import Campaign, load_campaign
from optimizer.model import build_model
from optimizer.prep.instance import Instance, Overrides, build_instance
from optimizer.solve.diagnose import ServiceInfeasible, check_service_reachable, explain_infeasible_plan
from optimizer.solve.pipeline import PlanSolver, SolveOutcome


class SolveFailed(Exception):
    """The solver produced no plan worth presenting (exit code 1)."""


@dataclass
class PlanRun:
    instance: Instance
    outcome: SolveOutcome
    evaluation: PlanEvaluation
    summary: dict
    out_dir: Path | None = None


def plan_campaign(campaign: Campaign | str | Path, overrides: Overrides | None = None, *,
                  out_dir: str | Path | None = None, verbose: bool = False,
                  progress=None) -> PlanRun:
    """Plan one campaign and, when ``out_dir`` is given, write the run folder.

    Raises :class:`~optimizer.io.errors.InputError` (bad input),
    :class:`ServiceInfeasible` (rule 6 cannot be met) or :class:`SolveFailed`.
    """
    say = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if not isinstance(campaign, Campaign):
        campaign = load_campaign(campaign)
    overrides = overrides or Overrides()
    settings = campaign.config.solver
    mip_gap = overrides.mip_gap if overrides.mip_gap is not None else settings.mip_gap
    time_limit = overrides.time_limit_s if overrides.time_limit_s is not None else settings.time_limit_s

    t0 = time.perf_counter()
    inst = build_instance(campaign, overrides)
    check_service_reachable(inst)
    model = build_model(inst)
    build_seconds = time.perf_counter() - t0
    say(f"built model for {campaign.config.name!r}: {len(inst.routes)} usable routes, "
        f"{len(inst.pairs)} sku×warehouse pairs in {build_seconds:.2f}s")

    solver = PlanSolver(model, inst, mip_gap=mip_gap, time_limit_s=time_limit,
                        threads=settings.threads, verbose=verbose, progress=say)
    outcome = solver.solve()
    if outcome.status == "infeasible":
        raise explain_infeasible_plan(inst, time_limit, settings.threads)
    if not outcome.has_plan:
        raise SolveFailed(f"HiGHS found no plan ({outcome.termination}) within "
                          f"{time_limit:g}s; raise [solver] time_limit_s or simplify the campaign")

    evaluation = evaluate_plan(inst, outcome.route_units)
    if outcome.bound is None and inst.routes.empty:
        outcome.bound = evaluation.expected_profit  # nothing could be ordered: proven
    status = _status(outcome, evaluation, mip_gap)
    nothing = evaluate_plan(inst, None).expected_profit
    if status != "optimal" and evaluation.lines.empty and (outcome.bound or 0) > nothing + 1e-6:
        raise SolveFailed(
            f"the solver stopped ({outcome.termination}) with only the empty plan "
            f"(profit {nothing:,.2f}) while better plans may exist (bound {outcome.bound:,.2f}); "
            "this is not a plan: raise [solver] time_limit_s")
    n_variables, n_constraints = solver.model_size()
    summary = summarize(
        inst, evaluation, status=status, bound=outcome.bound, build_seconds=build_seconds,
        solve_seconds=outcome.solve_seconds, n_variables=n_variables, n_constraints=n_constraints,
        extra={"termination": outcome.termination, "mip_gap_target": mip_gap,
               "time_limit_s": time_limit, "lp_rounds": outcome.lp_rounds,
               "mip_rounds": outcome.mip_rounds, "sales_chords": outcome.chords,
               "order_nothing_profit": round(nothing, 6),
               "planning_date": str(campaign.config.planning_date),
               "campaign_dir": str(campaign.root)},
    )
    run = PlanRun(inst, outcome, evaluation, summary)
    if out_dir is not None:
        run.out_dir = write_run(Path(out_dir), evaluation, summary,
                                extra_files={"solver_log.txt": "\n".join(outcome.log) + "\n"})
    return run


def _status(outcome: SolveOutcome, evaluation: PlanEvaluation, mip_gap: float) -> str:
    """``optimal`` only when the exact profit is proven within the gap target."""
    bound = outcome.bound
    if bound is None:
        return outcome.status
    profit = evaluation.expected_profit
    gap = (bound - profit) / max(abs(profit), 1e-9)
    if gap <= mip_gap * 1.05 + 1e-9:
        return "optimal"
    return "time_limit" if outcome.status in ("time_limit", "optimal") else outcome.status


def default_run_dir(campaign_name: str, root: str | Path = "runs") -> Path:
    """``runs/<campaign-slug>/<UTC timestamp>``: unique per run, sortable."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", campaign_name).strip("-").lower() or "campaign"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S_%fZ")
    return Path(root) / slug / stamp


__all__ = ["plan_campaign", "PlanRun", "SolveFailed", "ServiceInfeasible", "default_run_dir"]
