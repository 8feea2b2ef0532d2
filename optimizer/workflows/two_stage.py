"""The two-stage plan (SPEC §8) as a run: order now, keep back what pays for a top-up.

:func:`plan_two_stage` is what ``plan`` does for a campaign with ``[recourse]``:

1. both stages' instances and the planning scenarios (:mod:`optimizer.prep.recourse`);
2. the extensive form (:mod:`optimizer.model.two_stage`) solved in MIP rounds
   (:mod:`optimizer.solve.two_stage`) while scenarios × stage-2 routes stay within
   ``PipelineKnobs.extensive_form_limit`` (or the campaign has a service target); past it
   the priced relaxation with solver-free top-ups (:mod:`optimizer.solve.priced_recourse`);
   the plan evaluated exactly (:mod:`optimizer.evaluate.two_stage`): ``expected_profit`` is
   ``Σ_k π_k·profit_k`` on the planning scenarios, ``best_bound`` a valid bound of the same
   problem;
3. the comparisons of SPEC §8 on evaluation scenarios — scenarios.csv's own, or
   ``PipelineKnobs.evaluation_scenarios`` generated from ``seed + 1`` (scenarios not used to
   plan), each with its standard error:

   * ``two_stage_profit``: the stage-1 plan topped up optimally in each scenario;
   * ``single_stage_profit``: the best stage-1 plan when no top-up is allowed, then topped
     up optimally in each scenario; ``no_recourse_profit``: that plan without top-ups;
   * ``perfect_information_profit``: each of the first
     ``PipelineKnobs.perfect_information_scenarios`` scenarios planned knowing its demand, its
     gain over the two-stage plan in those scenarios added to ``two_stage_profit`` (a paired
     estimate: the subset's own mean would carry the subset's sampling error);
   * ``value_of_flexibility`` = two-stage − single-stage, paired over the same scenarios.

Every comparison solve has the run's time limit and gap target.  On the priced path the
top-ups of the comparisons are the solver-free ones of the plan, the single-stage plan is
the solve's single-stage candidate (:mod:`optimizer.solve.priced_recourse`), and the
perfect-information profit is an upper bound (``perfect_information_is_bound``), each
evaluation scenario's from :mod:`optimizer.solve.perfect_information`.  The run folder holds the
stage-1 plan (plan.csv, shipments.csv, cash.csv, sku_summary.csv — stage 1's stock against
demand.csv), recourse.csv, every planning scenario's top-up lines, and policy.csv, the top-ups
as a rule of the pace at R (:mod:`optimizer.evaluate.policy`); summary.json's
expected sales, demand and fill rate are the two-stage plan's over the planning scenarios.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import evaluate_plan, relative_gap, summarize
from optimizer.evaluate.policy import POLICY_FILE, top_up_policy
from optimizer.evaluate.two_stage import (
    Estimate,
    TwoStageEvaluation,
    estimate,
    evaluate_two_stage,
    scenario_profits,
)
from optimizer.io.campaign import Campaign, load_campaign
from optimizer.io.run_folder import SOLVER_LOG_FILE, safe_frame, write_run
from optimizer.io.summary import RunSummary
from optimizer.model.two_stage import build_two_stage_model
from optimizer.prep.recourse import (
    TwoStage,
    build_two_stage,
    effective_recourse,
    has_scenarios_file,
    one_scenario,
    with_scenarios,
)
from optimizer.prep.scenarios import SCENARIOS_FILE, generate_scenarios
from optimizer.settings import Settings
from optimizer.solve.diagnose import ServiceInfeasible
from optimizer.solve.perfect_information import perfect_information_bounds
from optimizer.solve.priced_recourse import PricedRecourseSolver, top_ups
from optimizer.solve.two_stage import TwoStageOutcome, TwoStageSolver
from optimizer.status import Status
from optimizer.workflows.planner import SolveFailed, decide_status

log = logging.getLogger(__name__)

RECOURSE_FILE = "recourse.csv"


@dataclass
class TwoStageRun:
    """A two-stage planning run: the problem, the solver's outcome, the exact evaluation."""

    problem: TwoStage
    outcome: TwoStageOutcome
    evaluation: TwoStageEvaluation
    summary: RunSummary
    out_dir: Path | None = None

    @property
    def instance(self):
        """Stage 1's instance (the POs placed now)."""
        return self.problem.stage1

    @property
    def orders(self):
        """The POs placed now: stage 1's plan evaluated against demand.csv."""
        return self.evaluation.stage1

    @cached_property
    def policy(self) -> pd.DataFrame:
        """policy.csv: the top-up by pace, pair and mode (:mod:`optimizer.evaluate.policy`)."""
        return top_up_policy(self.problem, self.evaluation)


def _solve(ts: TwoStage, settings: Settings, *, top_up: bool = True, fixed: pd.Series | None = None,
           progress=None) -> TwoStageOutcome:
    """Build and solve the extensive form of ``ts``; ``fixed``: stage 1's units held at these."""
    m = build_two_stage_model(ts, top_up=top_up)
    if fixed is not None:
        cp = ts.stage1.index.case_pack
        for route in ts.stage1.routes.index:
            m.cases[route].fix(round(float(fixed.get(route, 0.0)) / cp[route]))
    return TwoStageSolver(m, ts, settings, progress=progress or (lambda _: None)).solve()


def _refuse_unreachable_service(ts: TwoStage) -> None:
    d = ts.demand
    k, j = np.nonzero(np.isinf(d.service_stock))
    if len(k):
        reasons = [f"{d.pairs[jj][0]} at {d.pairs[jj][1]}: no finite stock reaches the target in scenario "
                   f"{d.ids[kk]}" for kk, jj in list(zip(k, j))[:10]]
        raise ServiceInfeasible(ts.stage1.min_fill_rate, reasons)


def extensive_form_fits(ts: TwoStage, settings: Settings) -> bool:
    """Whether ``ts`` is solved as its extensive form (else by the priced relaxation)."""
    return (ts.stage1.min_fill_rate is not None
            or len(ts.demand) * len(ts.stage2.routes) <= settings.pipeline.extensive_form_limit)


def topped_up(ts: TwoStage, u1: pd.Series, settings: Settings, *, exact: bool = True) -> np.ndarray:
    """Exact profit in each scenario of ``ts`` of stage 1's ``u1`` topped up: optimally (the
    extensive form with stage 1 fixed), or by the solver-free top-ups (``exact=False``)."""
    if not exact:
        return evaluate_two_stage(ts, u1, top_ups(ts, u1)).scenario_profit
    out = _solve(ts, settings, fixed=u1)
    if not out.has_plan:
        raise SolveFailed(f"the top-ups of the evaluation scenarios found no plan ({out.termination})")
    return evaluate_two_stage(ts, u1, out.stage2_units).scenario_profit


def single_stage_plan(ts: TwoStage, settings: Settings) -> pd.Series:
    """The best stage-1 plan when no top-up is allowed: the extensive form without stage 2."""
    single = _solve(ts, settings, top_up=False)
    if not single.has_plan:
        raise SolveFailed(f"the single-stage comparison found no plan ({single.termination})")
    return single.stage1_units


def evaluation_problem(ts: TwoStage, settings: Settings) -> tuple[TwoStage, bool, int | None]:
    """The scenarios the profits are reported on: (problem, exact distribution?, seed)."""
    if has_scenarios_file(ts.campaign):
        return ts, True, None
    seed = ts.recourse.seed + 1
    fresh = ts.recourse.model_copy(update={"seed": seed, "scenarios": settings.pipeline.evaluation_scenarios})
    return with_scenarios(ts, generate_scenarios(ts.campaign.demand, ts.campaign.skus, fresh)), False, seed


def evaluation_size(ts: TwoStage, settings: Settings) -> int:
    """How many scenarios :func:`evaluation_problem` evaluates on."""
    return len(ts.demand) if has_scenarios_file(ts.campaign) else settings.pipeline.evaluation_scenarios


def compare(ts: TwoStage, u1: pd.Series, settings: Settings, say, *, extensive: bool = True,
            single: pd.Series | None = None, evaluation: tuple | None = None) -> dict:
    """The SPEC §8 comparison profits (module docstring), as summary.json fields; ``single``:
    the single-stage plan when the solve already has it; ``evaluation``:
    :func:`evaluation_problem`'s answer when the run drew it already."""
    held_out, exact, seed = evaluation or evaluation_problem(ts, settings)
    pi = held_out.demand.probabilities
    say(f"evaluating on {len(pi)} {'scenarios of ' + SCENARIOS_FILE if exact else 'fresh scenarios'}")
    two = topped_up(held_out, u1, settings, exact=extensive)
    u1s = single if single is not None else single_stage_plan(ts, settings)
    spend1 = evaluate_plan(ts.stage1, u1s).spend
    no_recourse, _ = scenario_profits(held_out, u1s, [None] * len(pi), spend1, np.zeros(len(pi)))
    routes = u1.index.union(u1s.index)
    same = u1.reindex(routes, fill_value=0.0).equals(u1s.reindex(routes, fill_value=0.0))  # one plan: topped up once
    single_topped = two if same else topped_up(held_out, u1s, settings, exact=extensive)

    def fields(name: str, e: Estimate | None) -> dict:
        if e is None:
            return {name: None, f"{name}_se": None}
        return {name: round(e.value, 6), f"{name}_se": round(e.se, 6)}

    two_stage = estimate(two, pi, exact)
    common = {"evaluation_scenarios": len(pi), "evaluation_seed": seed,
              **fields("two_stage_profit", two_stage),
              **fields("single_stage_profit", estimate(single_topped, pi, exact)),
              **fields("no_recourse_profit", estimate(no_recourse, pi, exact)),
              **fields("value_of_flexibility", estimate(two - single_topped, pi, exact))}
    if not extensive:  # a bound per scenario, without a solver
        return {**common, **fields("perfect_information_profit",
                                   estimate(perfect_information_bounds(held_out), pi, exact)),
                "perfect_information_scenarios": len(pi), "perfect_information_is_bound": True}
    n_pi = min(len(pi), settings.pipeline.perfect_information_scenarios)
    perfect = np.empty(n_pi)
    for k in range(n_pi):
        alone = with_scenarios(ts, one_scenario(held_out.scenarios, k))
        best = _solve(alone, settings)
        if not best.has_plan:
            raise SolveFailed(f"the perfect-information plan of scenario {alone.demand.ids[0]} found no plan")
        perfect[k] = evaluate_two_stage(alone, best.stage1_units, best.stage2_units).scenario_profit[0]
    # Paired with the two-stage profit on the same scenarios: the perfect-information gain on
    # the first n_pi scenarios added to the two-stage estimate on all of them.
    w = pi[:n_pi] / pi[:n_pi].sum()
    gain = estimate(perfect - two[:n_pi], w, exact and n_pi == len(pi))
    perfect_info = Estimate(two_stage.value + gain.value, float(np.hypot(two_stage.se, gain.se)))
    return {**common, **fields("perfect_information_profit", perfect_info), "perfect_information_scenarios": n_pi,
            "perfect_information_is_bound": False}


def plan_two_stage(campaign: Campaign | str | Path, settings: Settings | None = None, *,
                   out_dir: str | Path | None = None, progress=None, started: float | None = None) -> TwoStageRun:
    """Plan a campaign with ``[recourse]`` and, when ``out_dir`` is given, write its run folder.

    The time limit is wall time from ``started`` (a ``time.perf_counter()`` reading; default:
    this call), as :func:`~optimizer.workflows.planner.plan_campaign` counts it.

    Raises :class:`~optimizer.io.errors.InputError` (bad input, scenarios.csv included),
    :class:`ServiceInfeasible` or :class:`SolveFailed` (no plan, or only the empty plan
    while better ones may exist).
    """
    t0 = time.perf_counter() if started is None else started
    campaign = campaign if isinstance(campaign, Campaign) else load_campaign(campaign)
    settings = (settings or Settings()).with_campaign_solver(campaign.config.solver)
    say = progress or log.info
    ts = build_two_stage(campaign, settings)
    if not has_scenarios_file(campaign):
        say(f"scenarios: {len(ts.demand)} generated, resolved_share {ts.recourse.resolved_share:g} from "
            f"{effective_recourse(campaign)[1]}")
    for warning in ts.warnings:  # scenarios.csv means off demand.csv's
        log.warning("warning: %s", warning)
    _refuse_unreachable_service(ts)
    extensive = extensive_form_fits(ts, settings)
    evaluation = evaluation_problem(ts, settings)  # drawn now: inside the time limit the solve gets
    if extensive:
        model = build_two_stage_model(ts)
        solver = TwoStageSolver(model, ts, settings, progress=say)
    else:
        solver = PricedRecourseSolver(ts, settings, lambda u1, u2: evaluate_two_stage(ts, u1, u2).expected_profit,
                                      progress=say, evaluation_scenarios=evaluation_size(ts, settings))
    build_seconds = time.perf_counter() - t0
    say(f"{'built the two-stage model' if extensive else 'two-stage plan by priced relaxation'} for "
        f"{campaign.config.name!r}: {len(ts.stage1.routes)} routes now, {len(ts.stage2.routes)} from "
        f"{ts.recourse.date} in {len(ts.demand)} scenarios, in {build_seconds:.2f}s")
    out = solver.solve(max(settings.solver.time_limit_s - build_seconds, 1.0))
    if out.status == Status.INFEASIBLE:
        raise SolveFailed("no two-stage plan meets every rule in every scenario (HiGHS: infeasible); "
                          "check min_fill_rate, the budget and the cash limits against the scenarios")
    if not out.has_plan:
        raise SolveFailed(f"HiGHS found no two-stage plan ({out.termination}) within "
                          f"{settings.solver.time_limit_s:g}s; raise [solver] time_limit_s")
    ev = evaluate_two_stage(ts, out.stage1_units, out.stage2_units)
    bound = out.bound if out.bound is not None and math.isfinite(out.bound) else None
    gap = relative_gap(bound, ev.expected_profit)
    status = decide_status(out.status, gap, settings.solver.mip_gap, settings.pipeline.optimal_gap_slack)
    nothing = evaluate_two_stage(ts, None, [None] * len(ts.demand)).expected_profit
    if (status != Status.OPTIMAL and ev.stage1.lines.empty and ev.recourse.empty
            and (bound or 0) > nothing + 1e-6):
        raise SolveFailed(f"the solver stopped ({out.termination}) with only the empty plan while better "
                          f"plans may exist (bound {bound:,.2f}); raise [solver] time_limit_s")
    if not extensive:  # the solve set the evaluation's time aside; a short limit cannot hold it
        ahead = solver.evaluation_seconds()
        past = time.perf_counter() - t0 + ahead - settings.solver.time_limit_s
        if past > 0.05 * settings.solver.time_limit_s:
            log.warning("warning: the evaluation on %d scenarios takes about %.0fs at the pace of the planning "
                        "scenarios' top-ups, %.0fs past the %gs time limit", evaluation_size(ts, settings), ahead,
                        past, settings.solver.time_limit_s)
    comparison = compare(ts, out.stage1_units, settings, say, extensive=extensive,
                         single=None if extensive else solver.single_stage_units, evaluation=evaluation)
    n_variables, n_constraints = solver.size()
    spend = ev.stage1.spend
    summary = summarize(
        ts.stage1, ev.stage1, status=status, bound=bound, build_seconds=build_seconds,
        solve_seconds=out.solve_seconds, n_variables=n_variables, n_constraints=n_constraints,
        extra={"termination": out.termination, "mip_gap_target": settings.solver.mip_gap,
               "time_limit_s": settings.solver.time_limit_s, "mip_rounds": out.rounds,
               "sales_chords": out.chords, "order_nothing_profit": round(nothing, 6),
               "two_stage_method": "extensive_form" if extensive else "priced_relaxation",
               "planning_date": str(campaign.config.planning_date), "campaign_dir": str(campaign.root)},
    ).updated(
        expected_profit=round(ev.expected_profit, 6), mip_gap=None if gap is None else round(gap, 8),
        expected_sales_units=round(ev.expected_sales_units, 4),
        expected_demand_units=round(ev.expected_demand_units, 4),
        expected_fill_rate=(round(ev.expected_sales_units / ev.expected_demand_units, 6)
                            if ev.expected_demand_units > 0 else None),
        recourse_date=ts.recourse.date, reserve=round(ts.stage1.budget - spend, 6),
        expected_stage2_spend=round(ev.expected_stage2_spend, 6), planning_scenarios=len(ts.demand),
        **comparison,
    )
    run = TwoStageRun(ts, out, ev, summary)
    if out_dir is not None:
        run.out_dir = write_run(Path(out_dir), ev.stage1, summary, extra_files={
            RECOURSE_FILE: safe_frame(ev.recourse).to_csv(index=False),
            POLICY_FILE: safe_frame(run.policy).to_csv(index=False),
            SOLVER_LOG_FILE: "\n".join(out.log) + "\n"})
    return run


__all__ = ["POLICY_FILE", "RECOURSE_FILE", "TwoStageRun", "compare", "plan_two_stage", "topped_up"]
