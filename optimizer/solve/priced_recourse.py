"""Solving a two-stage plan too large for its extensive form: candidate stage-1 plans, each
topped up scenario by scenario, the best kept.

The extensive form (:mod:`optimizer.model.two_stage`) copies every stage-2 route into every
scenario; with hundreds of SKUs and scenarios HiGHS finds no useful plan in a default time
limit.  This solve works on one-stage-sized problems only:

1. **Candidates for stage 1**, each from the one-stage pipeline (:mod:`optimizer.solve.pipeline`:
   price start, LP rounds, rounding, restricted MIP) on stage 1 with a sales curve
   (:mod:`optimizer.prep.recourse_curve`):

   * the single-stage plan — the scenarios' mixture, no top-up (what planning one stage
     gives; the two-stage plan is never worse than it on the planning scenarios);
   * the priced relaxation ``R(λ)`` — the value of a continuous top-up at budget price λ in
     the sales curve.  ``R(λ)`` at HiGHS's bound is a valid bound on the two-stage optimum
     (the smallest met is reported).  λ starts at ``PipelineKnobs.priced_recourse_start``
     and moves once by the relaxation's expected overrun of the budget (up when its stage 1
     plus its expected top-up spend exceeds the budget, down otherwise).

2. **Stage 2** of every candidate in every planning scenario by the solver-free top-up of
   :mod:`optimizer.solve.top_up` (feasible, so the exact profit evaluated on it is a lower
   estimate of the candidate's worth); the candidate with the best exact expected profit is
   the plan.

The bound relaxes stage 2's minimums, shipments, space, lane, supplier and cash rows, so the
reported gap is honest but wider than the extensive form's would be.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from optimizer.model import build_model
from optimizer.prep.recourse import TwoStage
from optimizer.prep.recourse_curve import priced_instance, relaxation_value
from optimizer.settings import Settings
from optimizer.solve.pipeline import PlanSolver
from optimizer.solve.top_up import TopUps
from optimizer.solve.two_stage import TwoStageOutcome
from optimizer.status import Status

log = logging.getLogger(__name__)

#: Of the time left for a candidate, the share its pipeline solve gets (the rest: its top-ups).
SOLVE_SHARE = 0.7


def top_ups(ts: TwoStage, u1: pd.Series | None) -> list[pd.Series]:
    """The top-up of ``u1`` in every scenario of ``ts`` (:class:`~optimizer.solve.top_up.TopUps`)."""
    heuristic = TopUps(ts, u1)
    return [heuristic.scenario(k) for k in range(len(ts.demand))]


def expected_top_up_spend(ts: TwoStage, curve_instance, u1: pd.Series) -> float:
    """The relaxation's expected stage-2 spend at ``u1``: ``Σ_k π_k Σ_p c2·(q_k − a)⁺``."""
    curve = curve_instance.sales_curve
    pairs = curve_instance.pairs
    stock = pairs["existing"].to_numpy(float) + u1.groupby(level=["sku", "warehouse"]).sum() \
        .reindex(pairs.index).fillna(0.0).to_numpy(float)
    c2 = ts.stage2.routes.groupby(level=["sku", "warehouse"])["landed_cost"].min().reindex(pairs.index) \
        .to_numpy(float)
    live = np.flatnonzero(np.isfinite(curve.ratio))
    if not len(live):
        return 0.0
    amount = np.maximum(curve.top[:, curve.column[live]] - stock[live], 0.0)
    return float(curve.probabilities @ (np.nan_to_num(amount, posinf=0.0) @ c2[live]))


class PricedRecourseSolver:
    """The solve of the module docstring for one two-stage problem."""

    def __init__(self, ts: TwoStage, settings: Settings, value, *, progress=None):
        """``value(u1, u2)``: the exact expected profit of stage 1's ``u1`` topped up by ``u2[k]`` in
        each scenario of ``ts`` (:func:`optimizer.evaluate.two_stage.evaluate_two_stage`)."""
        self.ts, self.settings, self.value = ts, settings, value
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
        prices = [None] + [knobs.priced_recourse_start] * knobs.priced_recourse_steps
        last = 0.0  # how long the last candidate took
        try:
            for step, price in enumerate(prices):
                began = time.perf_counter()
                left = limit - (began - start)
                if left <= 0 or (out.has_plan and left < last):
                    break  # another candidate would not fit in the time left
                inst = priced_instance(self.ts, price or 0.0, top_up=price is not None)
                share = left / (len(prices) - step) * SOLVE_SHARE
                result = self._solve_relaxation(inst, max(share, 1.0))
                out.rounds += 1
                out.termination = result.termination
                if price is not None and result.bound is not None:
                    bound = relaxation_value(result.bound, price, self.ts.stage1.budget)
                    out.bound = bound if out.bound is None else min(out.bound, bound)
                if not result.has_plan:
                    if out.has_plan:
                        continue
                    out.status = result.status
                    break
                u1 = result.route_units
                if price is None:
                    self.single_stage_units = u1
                u2 = top_ups(self.ts, u1)
                profit = self.value(u1, u2)
                what = "single-stage plan" if price is None else f"budget price {price:.4f}"
                self._note(out, f"{what}: two-stage profit {profit:,.2f} topped up in every scenario"
                                + ("" if out.bound is None else f", bound {out.bound:,.2f}"))
                if out.model_objective is None or profit > out.model_objective:
                    out.model_objective, out.stage1_units, out.stage2_units = profit, u1, u2
                out.status = Status.TIME_LIMIT if result.status == Status.OPTIMAL else result.status
                if result.status == Status.INTERRUPTED:
                    break
                last = time.perf_counter() - began
                if price is not None and step + 1 < len(prices):
                    overrun = (float((u1 * inst.routes["landed_cost"]).sum())
                               + expected_top_up_spend(self.ts, inst, u1)) / self.ts.stage1.budget - 1.0
                    prices[step + 1] = max(price * (1.0 + 2.0 * overrun), 0.0)
        except KeyboardInterrupt:
            if not out.has_plan:
                raise
            out.status, out.termination = Status.INTERRUPTED, "interrupted by the user (Ctrl-C)"
        out.solve_seconds = time.perf_counter() - start
        return out

    def _solve_relaxation(self, inst, time_limit_s: float):
        pipeline = PlanSolver(build_model(inst), inst, progress=lambda _: None)
        pipeline.time_limit_s = time_limit_s
        result = pipeline.solve()
        self._size = pipeline.model_size()
        return result

    def _note(self, out: TwoStageOutcome, message: str) -> None:
        out.log.append(message)
        self.say(message)


__all__ = ["PricedRecourseSolver", "expected_top_up_spend", "top_ups"]
