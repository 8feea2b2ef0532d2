"""Solving the two-stage model (:mod:`optimizer.model.two_stage`): MIP rounds with chord refinement.

Each round hands the extensive form to HiGHS (:class:`~optimizer.solve.highs.HighsLink`,
warm-started from the last round's plan), reads each scenario's stock ``A[k]`` at the
plan and compares the model's sales with the exact ``ES_k(A[k])``.  Where the model
over-estimates, the chords at the lattice points around ``A[k]`` are added and the next
round re-solves; the loop stops when the over-estimate is worth less than the gap target
(the model objective is then the exact expected profit up to it), on the time limit, or
after ``PipelineKnobs.two_stage_rounds`` rounds.  HiGHS's dual bound of a round is a
valid bound on the best exact expected profit, since chords only over-estimate ES.

Ctrl-C stops the round and keeps the best plan found so far.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimizer.model.two_stage.sales import add_scenario_chords, stock_ranges
from optimizer.prep.expected_sales import expected_sales
from optimizer.prep.recourse import TwoStage
from optimizer.settings import Settings
from optimizer.solve.highs import HighsLink
from optimizer.status import Status

log = logging.getLogger(__name__)


@dataclass
class TwoStageOutcome:
    """The best plan of a two-stage solve: stage 1's units per route and stage 2's per scenario."""

    status: Status
    termination: str
    stage1_units: pd.Series | None = None  # index: stage 1's routes
    stage2_units: list[pd.Series] = field(default_factory=list)  # per scenario, index: stage 2's routes
    model_objective: float | None = None
    bound: float | None = None
    solve_seconds: float = 0.0
    rounds: int = 0
    chords: int = 0
    log: list[str] = field(default_factory=list)

    @property
    def has_plan(self) -> bool:
        return self.stage1_units is not None

    def note(self, message: str, say) -> None:
        """A line of the solver log, also told to ``say``."""
        self.log.append(message)
        say(message)

    def interrupted(self) -> None:
        """Ctrl-C with a plan in hand: the plan is kept, the run says why it stopped."""
        self.status, self.termination = Status.INTERRUPTED, "interrupted by the user (Ctrl-C)"


class TwoStageSolver:
    """HiGHS bound to one two-stage model; :meth:`solve` runs the rounds."""

    def __init__(self, model: pyo.ConcreteModel, ts: TwoStage, settings: Settings, *, progress=None):
        self.model, self.ts, self.settings = model, ts, settings
        self.say = progress or log.info
        m = model
        params = [m.shared_budget, m.shared_cash, m.shared_sku_share]
        self.link = HighsLink(model, param_rows=params, growing=[m.scenario_chord],
                              threads=settings.solver.threads)
        self._routes1 = list(ts.stage1.routes.index)
        self._routes2 = list(ts.stage2.routes.index)
        self._existing, _, self._case_pack = stock_ranges(ts)

    def size(self) -> tuple[int, int]:
        """(columns, rows) as handed to HiGHS."""
        return self.link.size()

    def solve(self, time_limit_s: float | None = None) -> TwoStageOutcome:
        """Rounds until the chords are exact up to the gap target or time runs out."""
        solver = self.settings.solver
        limit = solver.time_limit_s if time_limit_s is None else time_limit_s
        start = time.perf_counter()
        out = TwoStageOutcome(Status.NO_PLAN, "not run")
        columns = None
        try:
            for _ in range(self.settings.pipeline.two_stage_rounds):
                left = limit - (time.perf_counter() - start)
                if left <= 0:
                    break
                result = self.link.run(relaxation=False, time_limit=left, mip_gap=solver.mip_gap, start=columns)
                out.rounds += 1
                out.termination = result.name
                if result.bound is not None:
                    out.bound = result.bound if out.bound is None else min(out.bound, result.bound)
                if not result.has_solution:
                    out.status = result.outcome
                    break
                columns = self.link.load_solution()
                over, stock = self._over_estimates()
                gain = float(self.ts.demand.probabilities @ over.sum(axis=1))
                self._keep(out, result.objective - gain)
                out.status = result.outcome
                out.note(f"round {out.rounds}: model {result.objective:,.2f}, sales over-estimate {gain:,.2f}, "
                         f"bound {out.bound if out.bound is not None else float('nan'):,.2f}", self.say)
                tolerance = solver.mip_gap * self.settings.pipeline.chord_tolerance_share
                if gain <= tolerance * max(abs(result.objective), 1.0) or result.time_limit:
                    break
                added = self._add_chords(stock, over)
                out.chords += added
                if not added:
                    break
                self.link.add_new_rows()
        except KeyboardInterrupt:
            if not out.has_plan:
                raise
            out.interrupted()
        out.solve_seconds = time.perf_counter() - start
        return out

    def _over_estimates(self) -> tuple[np.ndarray, np.ndarray]:
        """(scenario × pair) value of the model's sales above exact ES, and the stock ``A[k]``."""
        m, d = self.model, self.ts.demand
        stock = np.array([[pyo.value(m.scenario_stock[(k,) + p]) for p in d.pairs] for k in range(len(d))])
        stock = np.round(stock)
        sales = np.array([[m.scenario_sales[(k,) + p].value or 0.0 for p in d.pairs] for k in range(len(d))])
        exact = np.asarray(expected_sales(stock, d.mean, d.sd, d.dist), float).reshape(stock.shape)
        coef = self.ts.stage1.pairs["sales_coef"].reindex(d.pairs).to_numpy(float)
        return np.maximum(sales - exact, 0.0) * np.maximum(coef, 0.0), stock

    def _add_chords(self, stock: np.ndarray, over: np.ndarray) -> int:
        """Chords at the lattice points around each over-estimated (scenario, pair)'s stock."""
        k, j = np.nonzero(over > 1e-9)
        lo, cp = self._existing[j], self._case_pack[j]
        below = lo + cp * np.floor((stock[k, j] - lo) / cp + 1e-9)
        points = (np.tile(k, 3), np.tile(j, 3), np.concatenate([below - cp, below, below + cp]))
        return add_scenario_chords(self.model, self.ts, points)

    def _keep(self, out: TwoStageOutcome, exact_objective: float) -> None:
        """Keep the loaded plan when its objective less the over-estimate beats the kept one's."""
        if out.model_objective is not None and exact_objective <= out.model_objective:
            return
        m = self.model
        cp1, cp2 = self.ts.stage1.index.case_pack, self.ts.stage2.index.case_pack
        out.model_objective = exact_objective
        out.stage1_units = pd.Series([cp1[r] * round(m.cases[r].value or 0.0) for r in self._routes1],
                                     index=self.ts.stage1.routes.index, dtype=float)
        out.stage2_units = [
            pd.Series([cp2[r] * round(m.stage2[k].cases[r].value or 0.0) for r in self._routes2],
                      index=self.ts.stage2.routes.index, dtype=float)
            for k in m.SCENARIOS
        ]


__all__ = ["TwoStageOutcome", "TwoStageSolver"]
