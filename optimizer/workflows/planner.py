"""The one planner: campaign → instance → model → solve → exact evaluation → status.

Every workflow that plans goes through :class:`Planner` — ``plan``, the budget
frontier, the explorer, the monitor's top-up, ``plan --parts`` and the
benchmark — so settings are resolved, the model is built, the solver's outcome is
checked and the status is decided in one place::

    planner = Planner(campaign, Settings(delays={"sea_fcl": 10}), max_budget=900_000)
    first = planner.solve()                # the campaign budget
    more = planner.solve(budget=900_000)   # same loaded model, warm-started

:func:`plan_campaign` is one :meth:`Planner.solve` turned into a run: it refuses a
solve that is not a plan (raising :class:`SolveFailed` or, for an unreachable
service target, :class:`~optimizer.solve.diagnose.ServiceInfeasible`), builds
``summary.json`` and writes the run folder.

Status rule: a solve is ``optimal`` only when the exact expected profit of the
kept plan is proven within the gap target, ``(bound − profit) / |profit| ≤
1.05 · mip_gap`` (the 5 % allows for rounding in the bound's last digits; the
factor is ``PipelineKnobs.optimal_gap_slack``);
a solve that stopped on its time limit with a plan is ``time_limit``; otherwise
the solver's own status (``infeasible``, ``no_plan``, ``error``) stands.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

from optimizer.evaluate.plan import PlanEvaluation, evaluate_plan, relative_gap, summarize
from optimizer.io.campaign import Campaign, load_campaign
from optimizer.io.run_folder import SOLVER_LOG_FILE, write_run
from optimizer.io.summary import RunSummary
from optimizer.model import build_model
from optimizer.prep.instance import Instance, build_instance
from optimizer.settings import Settings
from optimizer.solve.diagnose import ServiceInfeasible, check_service_reachable, explain_infeasible_plan
from optimizer.solve.pipeline import PlanSolver, SolveOutcome
from optimizer.status import Status

log = logging.getLogger(__name__)


class SolveFailed(Exception):
    """The solver produced no plan worth presenting (exit code 1)."""


def decide_status(solver_status: Status, gap: float | None, mip_gap: float, slack: float = 1.05) -> Status:
    """The run's status from the solver's and the exact profit's gap (see the module docstring)."""
    if gap is None:
        return solver_status
    if gap <= mip_gap * slack + 1e-9:
        return Status.OPTIMAL
    return Status.TIME_LIMIT if solver_status in (Status.TIME_LIMIT, Status.OPTIMAL) else solver_status


@dataclass
class PlanResult:
    """One solve of a :class:`Planner`, evaluated exactly.

    ``evaluation`` is None when the solver found no plan (``status`` says why).
    ``bound`` is a valid upper bound on the best exact expected profit (None: none proven).
    """

    budget: float
    outcome: SolveOutcome
    evaluation: PlanEvaluation | None
    status: Status
    bound: float | None
    gap: float | None
    seconds: float

    @property
    def has_plan(self) -> bool:
        return self.evaluation is not None

    @property
    def expected_profit(self) -> float | None:
        return None if self.evaluation is None else self.evaluation.expected_profit


class Planner:
    """One campaign's instance, model and persistent HiGHS solver.

    ``max_budget``: the largest budget :meth:`solve` will be given.  The instance
    derives per-route unit bounds from the budget (a route cannot carry more than
    the budget buys); bounds for the largest budget are valid for every smaller one.
    ``check_service_reachable`` runs at build time: a service target that no lane
    can meet raises :class:`ServiceInfeasible` before anything is solved.  A campaign with
    ``[recourse]`` is planned in one stage with a warning, unless ``one_stage`` says the caller
    means it (the explorer's sliders, beside its two-stage box).
    """

    def __init__(self, campaign: Campaign | str | Path, settings: Settings | None = None, *,
                 max_budget: float | None = None, verbose: bool = False, progress=None, one_stage: bool = False):
        self.campaign = campaign if isinstance(campaign, Campaign) else load_campaign(campaign)
        settings = settings or Settings()
        if max_budget is not None:
            settings = settings.update(max_budget=max_budget)
        #: The run's settings, the solver options all set (the campaign's ``[solver]`` under the run's).
        self.settings: Settings = settings.with_campaign_solver(self.campaign.config.solver)
        self.say = progress or log.info
        if self.campaign.config.recourse is not None and not one_stage:
            log.warning("campaign %r has [recourse]: this plans one stage against demand.csv; "
                        "`plan` makes its two-stage plan", self.campaign.config.name)
        t0 = time.perf_counter()
        self.instance: Instance = build_instance(self.campaign, self.settings)
        check_service_reachable(self.instance)
        self.model = build_model(self.instance)
        self.build_seconds = time.perf_counter() - t0
        self.solver = PlanSolver(self.model, self.instance, verbose=verbose, progress=self.say)
        self._nothing: float | None = None
        self._evaluate_seconds = 0.0   # how long the last plan's evaluation took

    @property
    def order_nothing_profit(self) -> float:
        """Exact expected profit of ordering nothing (existing stock only)."""
        if self._nothing is None:
            self._nothing = evaluate_plan(self.instance, None).expected_profit
        return self._nothing

    def solve(self, budget: float | None = None, *, time_limit_s: float | None = None) -> PlanResult:
        """Solve at ``budget`` (default: the instance's) within ``time_limit_s`` (default: the run's).

        The limit is wall time for the solve and the plan's evaluation (the solve gets the
        limit less what the last evaluation took).  Re-solves reuse the loaded model and
        warm-start from the last plan.
        """
        budget = self.instance.budget if budget is None else float(budget)
        self.solver.set_budget(budget)
        limit = time_limit_s or self.settings.solver.time_limit_s
        # the limit covers the plan's evaluation too: the solve gets the rest
        self.solver.time_limit_s = max(limit - self._evaluate_seconds, 0.5 * limit)
        t0 = time.perf_counter()
        out = self.solver.solve()
        if not out.has_plan:
            return PlanResult(budget, out, None, out.status, None, None, time.perf_counter() - t0)
        began = time.perf_counter()
        evaluation = evaluate_plan(self.instance, out.route_units)
        self._evaluate_seconds = time.perf_counter() - began
        seconds = time.perf_counter() - t0
        bound = out.bound if out.bound is not None and math.isfinite(out.bound) else None
        if bound is None and self.instance.routes.empty:
            bound = evaluation.expected_profit  # nothing can be ordered: the empty plan is proven
        gap = relative_gap(bound, evaluation.expected_profit)
        status = decide_status(out.status, gap, self.settings.solver.mip_gap,
                               self.settings.pipeline.optimal_gap_slack)
        return PlanResult(budget, out, evaluation, status, bound, gap, seconds)

    def require_plan(self, result: PlanResult) -> PlanEvaluation:
        """The result's plan, or the reason it is not one (raised).

        Raises :class:`ServiceInfeasible` (with its explanation) when rule 6 cannot
        be met, and :class:`SolveFailed` when the solver found no plan, or stopped
        with only the empty plan while its bound says better plans may exist.
        """
        limit = self.solver.time_limit_s
        if result.outcome.status == Status.INFEASIBLE:
            raise explain_infeasible_plan(self.instance, limit)
        if result.evaluation is None:
            raise SolveFailed(f"HiGHS found no plan ({result.outcome.termination}) within "
                              f"{limit:g}s; raise [solver] time_limit_s or simplify the campaign")
        nothing = self.order_nothing_profit
        if (result.status != Status.OPTIMAL and result.evaluation.lines.empty
                and (result.bound or 0) > nothing + 1e-6):
            raise SolveFailed(
                f"the solver stopped ({result.outcome.termination}) with only the empty plan "
                f"(profit {nothing:,.2f}) while better plans may exist (bound {result.bound:,.2f}); "
                "this is not a plan: raise [solver] time_limit_s")
        return result.evaluation

    def summary(self, result: PlanResult) -> RunSummary:
        """``summary.json`` of a result that is a plan (see :func:`optimizer.evaluate.plan.summarize`)."""
        out = result.outcome
        n_variables, n_constraints = self.solver.model_size()
        return summarize(
            self.instance, result.evaluation, status=result.status, bound=result.bound,
            build_seconds=self.build_seconds, solve_seconds=out.solve_seconds,
            n_variables=n_variables, n_constraints=n_constraints,
            extra={"termination": out.termination, "mip_gap_target": self.settings.solver.mip_gap,
                   "time_limit_s": self.settings.solver.time_limit_s,
                   "solve_time_limit_s": round(self.solver.time_limit_s, 3), "lp_rounds": out.lp_rounds,
                   "mip_rounds": out.mip_rounds, "sales_chords": out.chords,
                   "order_nothing_profit": round(self.order_nothing_profit, 6),
                   "planning_date": str(self.campaign.config.planning_date),
                   "campaign_dir": str(self.campaign.root)},
        )


@dataclass
class PlanRun:
    """A planning run: the planner's instance, the solver's outcome, the evaluated plan."""

    instance: Instance
    outcome: SolveOutcome
    evaluation: PlanEvaluation
    summary: RunSummary
    out_dir: Path | None = None

    @property
    def orders(self) -> PlanEvaluation:
        """The POs placed now: the plan evaluated."""
        return self.evaluation

    @property
    def policy(self) -> None:
        """A one-stage plan has no top-up policy (a two-stage run's is policy.csv)."""
        return None


#: Seconds kept back from a run's time limit for writing its run folder.
WRITE_RESERVE_S = 0.5
#: The solve never gets less than this share of the time limit, even when loading and
#: building took the rest (the run then overruns its limit, and says so before solving).
MIN_SOLVE_SHARE = 0.1


def solve_time_limit(limit_s: float, elapsed_s: float, evaluate_s: float) -> tuple[float, bool]:
    """The solve's share of a run's wall-clock time limit, and whether the run overruns it.

    The limit counts everything after the command line is read: loading and building
    (``elapsed_s`` so far), the solve, evaluating the plan (``evaluate_s``: what the
    order-nothing plan's evaluation took, the first evaluation and so the dearest) and
    writing the run (:data:`WRITE_RESERVE_S`).  The solve gets what is left, at least
    :data:`MIN_SOLVE_SHARE` of the limit."""
    left = limit_s - elapsed_s - evaluate_s - WRITE_RESERVE_S
    floor = MIN_SOLVE_SHARE * limit_s
    return (left, False) if left >= floor else (floor, True)


def plan_campaign(campaign: Campaign | str | Path, settings: Settings | None = None, *,
                  out_dir: str | Path | None = None, verbose: bool = False,
                  progress=None, started: float | None = None) -> PlanRun:
    """Plan one campaign and, when ``out_dir`` is given, write its run folder.

    The time limit (``[solver] time_limit_s``) is wall time from ``started`` (a
    ``time.perf_counter()`` reading; default: this call) to the written run: the solve
    gets what loading and building leave (:func:`solve_time_limit`).
    A campaign with ``[recourse]`` gets its two-stage plan
    (:func:`optimizer.workflows.two_stage.plan_two_stage`, a ``TwoStageRun``).
    Raises :class:`~optimizer.io.errors.InputError` (bad input),
    :class:`ServiceInfeasible` (rule 6 cannot be met) or :class:`SolveFailed`.
    """
    started = time.perf_counter() if started is None else started
    campaign = campaign if isinstance(campaign, Campaign) else load_campaign(campaign)
    if campaign.config.recourse is not None:  # SPEC §8: order now, top up later
        from optimizer.workflows.two_stage import plan_two_stage

        return plan_two_stage(campaign, settings, out_dir=out_dir, progress=progress, started=started)
    planner = Planner(campaign, settings, verbose=verbose, progress=progress)
    inst = planner.instance
    began = time.perf_counter()
    planner.order_nothing_profit  # noqa: B018 - evaluated now: it times an evaluation
    evaluate_s = time.perf_counter() - began
    limit = planner.settings.solver.time_limit_s
    solve_s, overruns = solve_time_limit(limit, time.perf_counter() - started, evaluate_s)
    planner.say(f"built model for {planner.campaign.config.name!r}: {len(inst.routes)} usable "
                f"routes, {len(inst.pairs)} sku×warehouse pairs in {planner.build_seconds:.2f}s; "
                f"solving for up to {solve_s:.1f}s of the {limit:g}s time limit, which counts loading, "
                "the build, the solve and writing the run"
                + (f" (loading and the build took {time.perf_counter() - started:.1f}s: this run will "
                   "overrun its time limit)" if overruns else ""))
    result = planner.solve(time_limit_s=solve_s)
    evaluation = planner.require_plan(result)
    run = PlanRun(inst, result.outcome, evaluation, planner.summary(result))
    if out_dir is not None:
        run.out_dir = write_run(Path(out_dir), evaluation, run.summary,
                                extra_files={SOLVER_LOG_FILE: "\n".join(result.outcome.log) + "\n"})
    return run


__all__ = ["PlanResult", "PlanRun", "Planner", "ServiceInfeasible", "SolveFailed",
           "decide_status", "plan_campaign", "relative_gap", "solve_time_limit"]
