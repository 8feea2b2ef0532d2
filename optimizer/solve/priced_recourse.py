"""Solving a two-stage plan too large for its extensive form: candidate stage-1 plans, each
topped up scenario by scenario, the best kept.

The extensive form (:mod:`optimizer.model.two_stage`) copies every stage-2 route into every
scenario; with hundreds of SKUs and scenarios HiGHS finds no useful plan in a default time
limit.  This solve works on one-stage-sized problems only:

1. **Candidates for stage 1**, each from the one-stage pipeline (:mod:`optimizer.solve.pipeline`:
   price start, LP rounds, rounding, restricted MIP) on stage 1 with a sales curve
   (:mod:`optimizer.prep.recourse_curve`):

   * the single-stage plan — the scenarios' mixture, no top-up (what planning one stage
     gives; the two-stage plan is never worse than it on the planning scenarios).  Planned
     on demand.csv's own distribution instead it was worth 2,800 less out of sample on the
     sample (benchmarks/README.md): a generated scenario's heat makes a normal row skewed;
   * the priced relaxation ``R(λ)`` — the value of a continuous top-up at scenario k's
     reserve price ``λ_k`` in the sales curve, whole cases kept and the MOQs and supplier
     minimums priced at the last candidate's stage-1 stock (:mod:`optimizer.prep.recourse_hull`).
     ``R(λ)`` at HiGHS's bound is a valid bound on the two-stage optimum (the smallest met is
     reported).  The prices start at ``PipelineKnobs.priced_recourse_start`` in every scenario
     and are settled by ``priced_recourse_warmups`` solver-free rounds (the relaxation's price
     start plan, then each scenario's price of the reserve it leaves); each later candidate's
     are the mean of the last ones and each scenario's price of the reserve the last stage 1
     leaves (:func:`~optimizer.prep.recourse_curve.reserve_prices`), for
     ``priced_recourse_steps`` candidates in all.

2. **Stage 2** of every candidate in every planning scenario by the solver-free top-up of
   :mod:`optimizer.solve.top_up` (feasible, so the exact profit evaluated on it is a lower
   estimate of the candidate's worth; at the time limit the scenarios left get no top-up);
   the candidate with the best exact expected profit is the plan.

The time limit covers what the run does after the solve as well: the evaluation tops up the
plan and the single-stage candidate in ``evaluation_scenarios`` scenarios each, at the pace
their top-ups took on the planning scenarios, and that time is set aside from the limit; a
better candidate whose evaluation would end past the limit does not become the plan (the
run draws its evaluation scenarios before the solve, so their drawing is inside the limit).

The bound prices stage 2's MOQs and supplier minimums pair by pair and relaxes its shipments,
space, lane, supplier capacity and cash rows, so the reported gap is honest but wider than the
extensive form's would be.  When no priced candidate
fits the time limit, the bound is the perfect-information bound on the planning scenarios
(:mod:`optimizer.solve.perfect_information`): valid, and much wider.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from optimizer.model import build_model
from optimizer.prep.recourse import TwoStage
from optimizer.prep.recourse_curve import mean_price, priced_instance, relaxation_value, reserve_prices
from optimizer.settings import Settings
from optimizer.solve.perfect_information import perfect_information_bounds
from optimizer.solve.pipeline import PlanSolver
from optimizer.solve.price_start import PriceStart
from optimizer.solve.rounding import RoundingHeuristic
from optimizer.solve.top_up import TopUps
from optimizer.solve.two_stage import TwoStageOutcome
from optimizer.status import Status

log = logging.getLogger(__name__)

#: Of the time left for a candidate, the share its pipeline solve gets (the rest: its top-ups).
SOLVE_SHARE = 0.7
#: Of the time limit, the share the single-stage candidate (the baseline) may use.
SINGLE_STAGE_SHARE = 0.5
#: Bisections of each scenario's price of the reserve (a price within 2⁻²⁰ of its bracket).
RESERVE_BISECTIONS = 20
#: Of the time limit, how far past it a run may end (the promise the limit makes).
OVERRUN_SHARE = 0.05


def top_ups(ts: TwoStage, u1: pd.Series | None) -> list[pd.Series]:
    """The top-up of ``u1`` in every scenario of ``ts`` (:class:`~optimizer.solve.top_up.TopUps`)."""
    return TopUps(ts, u1).every_scenario()


class PricedRecourseSolver:
    """The solve of the module docstring for one two-stage problem."""

    def __init__(self, ts: TwoStage, settings: Settings, value, *, progress=None, evaluation_scenarios: int = 0):
        """``value(u1, u2)``: the exact expected profit of stage 1's ``u1`` topped up by ``u2[k]`` in
        each scenario of ``ts`` (:func:`optimizer.evaluate.two_stage.evaluate_two_stage`);
        ``evaluation_scenarios``: how many scenarios the run's evaluation tops up each plan in."""
        self.ts, self.settings, self.value = ts, settings, value
        self.evaluation_scenarios = evaluation_scenarios
        #: Seconds one scenario's top-up took: of the single-stage candidate, of the best one,
        #: of the slowest priced one.
        self._pace_single = self._pace_best = self._pace_priced = 0.0
        #: Seconds the perfect-information bound took per planning scenario.
        self._pace_informed = 0.0
        self.say = progress or log.info
        self._size = (0, 0)
        #: The single-stage candidate's stage-1 units (the comparison's single-stage plan).
        self.single_stage_units: pd.Series | None = None

    def size(self) -> tuple[int, int]:
        """(columns, rows) of the last relaxation handed to HiGHS."""
        return self._size

    def solve(self, time_limit_s: float | None = None) -> TwoStageOutcome:
        limit = self.settings.solver.time_limit_s if time_limit_s is None else time_limit_s
        start = time.perf_counter()
        out = TwoStageOutcome(Status.NO_PLAN, "not run")
        knobs = self.settings.pipeline
        ts, n = self.ts, len(self.ts.demand)
        steps = 1 + knobs.priced_recourse_steps
        prices: np.ndarray | None = None  # None: the single-stage candidate
        reference: np.ndarray | None = None  # the last candidate's stage-1 stock
        last = 0.0  # how long the last candidate took
        # Perfect information on the planning scenarios bounds every plan made without it: the
        # bound when no priced candidate brings a smaller one (a short limit).  First, so its
        # pace sets the evaluation's own perfect-information bound aside from the limit too.
        informed = float(ts.demand.probabilities @ perfect_information_bounds(ts))
        self._pace_informed = (time.perf_counter() - start) / n
        try:
            for step in range(steps):
                began = time.perf_counter()
                # a priced candidate not yet topped up may become the plan: its evaluation too
                left = limit - (began - start) - self.evaluation_seconds(next_priced=prices is not None)
                if prices is not None and (left <= 0 or (out.bound is not None and left < last)):
                    break  # another candidate would not fit in the time left (one priced: the bound);
                    # the single-stage one, the baseline, is always planned
                inst = priced_instance(ts, 0.0 if prices is None else prices, top_up=prices is not None,
                                       reference=reference)
                # the single-stage baseline a share of the limit; each priced one half what is left
                # (the first priced candidate brings the bound: it gets the most)
                share = SINGLE_STAGE_SHARE * limit if prices is None else left / min(2, steps - step)
                result = self._solve_relaxation(inst, max(share * SOLVE_SHARE, 1.0))
                out.rounds += 1
                out.termination = result.termination
                if prices is not None and result.bound is not None:
                    bound = relaxation_value(ts, result.bound, prices)
                    out.bound = bound if out.bound is None else min(out.bound, bound)
                if not result.has_plan:  # the prices would not change: no further candidate
                    if not out.has_plan:
                        out.status = result.status
                    break
                u1 = result.route_units
                if prices is None:
                    self.single_stage_units = u1
                heuristic = TopUps(ts, u1)
                topping = time.perf_counter()
                u2 = heuristic.every_scenario(deadline=start + limit - self.evaluation_seconds())
                profit = self.value(u1, u2)
                pace = (time.perf_counter() - topping) / n  # a scenario's top-up and its evaluation
                what = "single-stage plan" if prices is None else f"reserve prices (mean {mean_price(ts, prices):.4f})"
                out.note(f"{what}: two-stage profit {profit:,.2f} topped up in every scenario"
                         + ("" if out.bound is None else f", bound {out.bound:,.2f}"), self.say)
                if prices is None:
                    self._pace_single = pace
                else:
                    self._pace_priced = max(self._pace_priced, pace)
                if self._keeps(out, profit, pace, limit - (time.perf_counter() - start)):
                    out.model_objective, out.stage1_units, out.stage2_units = profit, u1, u2
                    self._pace_best = pace if prices is not None else 0.0  # the single-stage one: once
                out.status = Status.TIME_LIMIT if result.status == Status.OPTIMAL else result.status
                if result.status == Status.INTERRUPTED:
                    break
                last = time.perf_counter() - began
                reference = heuristic.stage1_stock
                if prices is None:
                    prices, reference = self._settle_prices(np.full(n, knobs.priced_recourse_start), reference,
                                                            start + limit - self.evaluation_seconds(next_priced=True),
                                                            last)
                else:  # each scenario's price of what this stage 1 leaves, damped
                    prices = 0.5 * (prices + reserve_prices(ts, ts.stage1.pairs, heuristic.stage1_stock,
                                                            heuristic.reserve, bisections=RESERVE_BISECTIONS,
                                                            curve=inst.sales_curve))
        except KeyboardInterrupt:
            if not out.has_plan:
                raise
            out.interrupted()
        out.bound = informed if out.bound is None else min(out.bound, informed)
        out.solve_seconds = time.perf_counter() - start
        return out

    def _settle_prices(self, prices: np.ndarray, reference: np.ndarray, deadline: float, solve_s: float) \
            -> tuple[np.ndarray, np.ndarray]:
        """Prices and a reference stock for the first priced candidate, without a solver: for
        ``priced_recourse_warmups`` rounds, the priced relaxation's price-start plan
        (:class:`~optimizer.solve.price_start.PriceStart`) and each scenario's price of the
        reserve it leaves, damped.  A round starts only when it leaves the priced candidate
        ``solve_s`` (what the single-stage one took) before ``deadline``: the candidate's solve
        brings the bound and needs the time more."""
        ts = self.ts
        took = 0.0  # the last round's seconds
        for _ in range(self.settings.pipeline.priced_recourse_warmups):
            began = time.perf_counter()
            if began + took + solve_s > deadline:
                break
            inst = priced_instance(ts, prices, reference=reference)
            units = PriceStart(RoundingHeuristic(inst)).units(inst.budget)
            used = RoundingHeuristic(ts.stage1).usage(units)
            reference = used["stock"]
            prices = 0.5 * (prices + reserve_prices(ts, ts.stage1.pairs, reference, ts.stage1.budget - used["spend"],
                                                    bisections=RESERVE_BISECTIONS, curve=inst.sales_curve))
            took = time.perf_counter() - began
        return prices, reference

    def _keeps(self, out: TwoStageOutcome, profit: float, pace: float, left: float) -> bool:
        """Whether a candidate worth ``profit`` (its top-ups at ``pace`` s a scenario) becomes the
        plan: when it is worth more than the plan so far and its evaluation ends within the time
        limit (and :data:`OVERRUN_SHARE` of it)."""
        if out.model_objective is None:
            return True
        gain = profit - out.model_objective
        if gain <= 0:
            return False
        evaluation = self.evaluation_scenarios * (self._pace_single + pace)
        if evaluation <= left + OVERRUN_SHARE * self.settings.solver.time_limit_s:
            return True
        self.say(f"kept the plan so far: this one gains {gain:,.2f}, but its evaluation ({evaluation:.0f}s) "
                 f"would end past the time limit")
        return False

    def evaluation_seconds(self, next_priced: bool = False) -> float:
        """The time set aside for the evaluation: the top-ups of the single-stage candidate and of
        the best one so far, at the pace of their top-ups on the planning scenarios, and the
        perfect-information bound, at its pace there; ``next_priced``: of the next priced
        candidate instead when it may be slower (the slowest priced pace met, before any: the
        single-stage one's)."""
        best = self._pace_best
        if next_priced:
            best = max(best, self._pace_priced or self._pace_single)
        return self.evaluation_scenarios * (self._pace_single + best + self._pace_informed)

    def _solve_relaxation(self, inst, time_limit_s: float):
        pipeline = PlanSolver(build_model(inst), inst, progress=lambda _: None)
        pipeline.time_limit_s = time_limit_s
        result = pipeline.solve()
        self._size = pipeline.model_size()
        return result


__all__ = ["PricedRecourseSolver", "top_ups"]
