"""What-if explorer: re-solve a campaign as the budget and per-mode delays move.

:class:`Explorer` keeps one :class:`~optimizer.workflows.planner.Planner` and
answers a budget and delays:

* **budget** — no rebuild: the planner re-solves its loaded HiGHS model at the
  new budget, warm-started from the last plan.  The planner is built for the
  slider's **largest** budget so its per-route unit bounds hold for every budget
  the slider offers (see :mod:`optimizer.workflows.frontier`).
* **delays** — **rebuild**: only routes meeting the cutoff get variables, so a
  delay can add or remove variables (and it moves every order-by / ship-by date);
  a new planner is built for the new delays and solved cold.

:meth:`Explorer.solve` answers at once (one solve, for code).  :meth:`Explorer.request`
is what the sliders call: it returns at once and answers twice, from a worker thread —

1. a **first answer**: the solve capped at ``first_answer_s`` (3 s).  The pipeline's
   price start and rounding have a plan within a second on the 300-SKU sample, so
   the cap costs little profit (a fraction of a percent there);
2. the **refined** plan: the same loaded model solved again with the run's time limit
   (warm: the first answer's shipment counts and chords are kept), reported when it
   is in; when it finds nothing better the first answer stands, with the tighter bound.

The newest request wins.  One solve runs at a time (one lock: a HiGHS model takes
one run at a time); a newer
request interrupts the solve in flight the way Ctrl-C would — the pipeline keeps its
best plan and returns within a fraction of a second — and every answer carries its
request's number, so a superseded one is never shown.

An infeasible what-if (a service target the budget or the delays cannot meet) is
answered with the command line's explanation
(:class:`~optimizer.solve.diagnose.ServiceInfeasible`).

A campaign with ``[recourse]`` is still explored in one stage here (a two-stage plan takes the
run's time limit); the panel plans its two stages on request
(:mod:`optimizer.workflows.recourse_explorer`).

An explorer answers for one campaign; :func:`find_campaigns` lists the campaign folders a
picker offers: the panel builds a new explorer for the one picked, and
:meth:`Explorer.cancel` stops the old one's request in flight.

The sliders and the redrawn output live in :mod:`optimizer.report.explorer_panel`.
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from optimizer.io.campaign import Campaign, load_campaign
from optimizer.prep.instance import Instance
from optimizer.settings import Settings
from optimizer.solve.diagnose import ServiceInfeasible, explain_infeasible_plan
from optimizer.status import Status
from optimizer.workflows.planner import Planner, PlanResult, decide_status, relative_gap

log = logging.getLogger(__name__)

BUDGET_RANGE = (0.2, 1.5)  # slider span, shares of the campaign budget
DELAY_RANGE = (-10, 30)    # days
FIRST_ANSWER_S = 3.0       # time cap of a request's first answer
CAMPAIGN_FILE = "campaign.toml"  # what makes a folder a campaign folder (SPEC §1)
SEARCH_DEPTH = 2           # how many folder levels below a search root find_campaigns looks


class _QuietInterrupt(logging.Filter):
    """Drops a log record made while a KeyboardInterrupt is being handled: Pyomo logs an
    "evaluating object as numeric value" error for the interrupt a newer request sends
    (and re-raises it, which is all that matters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not isinstance(sys.exc_info()[1], KeyboardInterrupt)


logging.getLogger("pyomo.common.numeric_types").addFilter(_QuietInterrupt())


@dataclass
class WhatIf:
    """One explorer answer: the planner's result and how it was obtained.

    ``stage``: ``"first answer"`` (capped at ``time_limit_s``), ``"refined"`` (what the
    first answer left of the run's time limit) or ``"solve"`` (:meth:`Explorer.solve`).  ``result`` is None
    when no planner could be built (a delay leaves a service target without a lane);
    ``problem`` then, or for an infeasible or planless solve, says why.
    """

    budget: float
    delays: dict
    result: PlanResult | None
    seconds: float
    rebuilt: bool
    stage: str = "solve"
    time_limit_s: float | None = None
    problem: str | None = None
    #: Why there is no result: ``infeasible`` or ``error`` (with ``problem``).
    failure: str | None = None
    request: int = 0
    #: The run's time limit: the whole request's, first answer and refinement together.
    run_limit_s: float | None = None
    #: True when the refinement found no better plan and the first answer's plan stands.
    kept_first: bool = False
    #: The instance the plan was made for (its currency, dates and routes).
    instance: Instance | None = None
    #: ``rebuilt`` because there was no model yet (not because the delays changed).
    first_build: bool = False

    @property
    def evaluation(self):
        """The plan's :class:`~optimizer.evaluate.plan.PlanEvaluation` (None without a plan)."""
        return None if self.result is None else self.result.evaluation

    @property
    def status(self) -> str:
        return self.failure if self.result is None else self.result.status

    @property
    def final(self) -> bool:
        """No better answer to this request is coming."""
        if self.stage != "first answer":
            return True
        return self.result is None or self.result.status in (Status.OPTIMAL, Status.INFEASIBLE)


class Explorer:
    """Re-solves a campaign for slider values (budget: persistent re-solve; delays: rebuild)."""

    def __init__(self, campaign: Campaign | str, *, time_limit_s: float | None = None,
                 first_answer_s: float = FIRST_ANSWER_S):
        self.campaign = campaign if isinstance(campaign, Campaign) else load_campaign(campaign)
        self.time_limit_s = time_limit_s
        self.first_answer_s = first_answer_s
        self.max_budget = BUDGET_RANGE[1] * self.campaign.config.budget
        self.modes = sorted(set(self.campaign.lanes["mode"]))
        self.delays: dict | None = None  # delays of the loaded model
        self.planner: Planner | None = None
        self.last: WhatIf | None = None
        self._model = threading.Lock()  # one solve at a time on the planner
        self._state = threading.Lock()  # guards the two fields below
        self._request = 0               # number of the newest request
        self._solving: int | None = None  # thread id of the solve a newer request may interrupt
        self._built = False  # a planner was built (or tried) before

    # ------------------------------------------------------------------ public
    def solve(self, budget: float, delays: dict | None = None, *,
              time_limit_s: float | None = None) -> WhatIf:
        """Plan for ``budget`` (≤ the slider maximum) and ``delays`` now; rebuilds only on a delay change.

        Supersedes any :meth:`request` in flight (and is not interrupted by a later one).
        ``time_limit_s``: this solve's cap (default: the explorer's, else the campaign's
        ``[solver] time_limit_s``).
        """
        budget, delays = self._checked(budget, delays)
        number = self._supersede()
        with self._model:
            w = self._answer(number, budget, delays, "solve", time_limit_s or self.time_limit_s,
                             interruptible=False)
            planner = self.planner
        self._explain(w, planner)
        self.last = w
        return w

    def request(self, budget: float, delays: dict | None,
                on_answer: Callable[[WhatIf], None]) -> int:
        """Start a what-if; returns its number at once.

        ``on_answer`` is called from a worker thread with the first answer and then,
        unless that was final (:attr:`WhatIf.final`), with the refined one — only while
        the request is the newest: a newer request interrupts this one's solve.
        Raises ValueError at once for a budget above the slider maximum.
        """
        budget, delays = self._checked(budget, delays)
        number = self._supersede()
        threading.Thread(target=self._work, args=(number, budget, delays, on_answer), daemon=True,
                         name=f"what-if {number}").start()
        return number

    def is_current(self, number: int) -> bool:
        """Whether request ``number`` is still the newest."""
        return number == self._request

    def cancel(self) -> None:
        """Stop answering: the request in flight is superseded (its solve interrupted, no
        further answer of it is offered); the explorer stays usable."""
        self._supersede()

    # ------------------------------------------------------------------ worker
    def _checked(self, budget: float, delays: dict | None) -> tuple[float, dict]:
        delays = {m: int(d) for m, d in (delays or {}).items() if d}
        if budget > self.max_budget * (1 + 1e-9):
            raise ValueError(f"budget {budget:,.2f} is above the explorer's maximum {self.max_budget:,.2f}")
        return float(budget), delays

    def _supersede(self) -> int:
        """A new request number; the solve in flight (an older request's) is interrupted."""
        with self._state:
            self._request += 1
            if self._solving is not None:
                # KeyboardInterrupt in the solving thread: the pipeline treats it as Ctrl-C
                # (HiGHS is asked to stop, the best plan so far is returned).  Sent once:
                # _solving is cleared with it.
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._solving),
                                                           ctypes.py_object(KeyboardInterrupt))
                self._solving = None
            return self._request

    def _work(self, number: int, budget: float, delays: dict, on_answer) -> None:
        """A request's first answer, then its refinement; each shown only while current.

        The request as a whole keeps the run's time limit in wall time: the refinement gets
        what the first answer left of it (a model rebuilt for new delays is the build, outside)."""
        began = time.perf_counter()
        first = self._stage(number, budget, delays, "first answer", self.first_answer_s)
        if first is None or not self._offer(number, first, on_answer) or first.final:
            return
        build = self.planner.build_seconds if first.rebuilt and self.planner is not None else 0.0
        left = first.run_limit_s - (time.perf_counter() - began - build)
        if self.first_answer_s >= first.run_limit_s:  # the first answer had the whole time limit
            return
        if left < 0.5:  # no time left to refine: the first answer is the request's final one
            self._offer(number, dataclasses.replace(first, stage="refined", kept_first=True), on_answer)
            return
        refined = self._stage(number, budget, delays, "refined", left)
        if refined is not None:
            self._offer(number, self._better(first, refined), on_answer)

    def _stage(self, number: int, budget: float, delays: dict, stage: str,
               time_limit_s: float | None) -> WhatIf | None:
        """One answer of a request, None when superseded; a failure becomes an answer saying so."""
        t0 = time.perf_counter()
        try:
            with self._model:
                if not self.is_current(number):
                    return None
                w = self._answer(number, budget, delays, stage, time_limit_s, interruptible=True)
                planner = self.planner
            if w is not None and self.is_current(number):
                self._explain(w, planner)
            return w
        except Exception as exc:  # shown in the panel rather than lost in a thread
            return WhatIf(budget, delays, None, time.perf_counter() - t0, False, stage, time_limit_s,
                          problem=f"{type(exc).__name__}: {exc}", failure=Status.ERROR, request=number)

    def _offer(self, number: int, w: WhatIf, on_answer) -> bool:
        if not self.is_current(number):
            return False
        self.last = w
        on_answer(w)
        return True

    def _answer(self, number: int, budget: float, delays: dict, stage: str,
                time_limit_s: float | None, *, interruptible: bool) -> WhatIf | None:
        """One solve (under the model lock); None when a newer request interrupted it."""
        t0 = time.perf_counter()
        rebuilt = delays != self.delays
        first_build = self.planner is None and not self._built
        if rebuilt:
            self.planner, self.delays, self._built = None, None, True
            try:
                self.planner = Planner(self.campaign, Settings(delays=delays, time_limit_s=self.time_limit_s),
                                       max_budget=self.max_budget, progress=log.debug, one_stage=True)
            except ServiceInfeasible as exc:  # a target no lane can meet with these delays
                return WhatIf(budget, delays, None, time.perf_counter() - t0, True, stage, time_limit_s,
                              problem=str(exc), failure=Status.INFEASIBLE, request=number, first_build=first_build)
            self.delays = dict(delays)
        if interruptible:
            result = self._interruptible_solve(number, budget, time_limit_s)
            if result is None:
                return None
        else:
            result = self.planner.solve(budget, time_limit_s=time_limit_s)
        run_limit = self.planner.settings.solver.time_limit_s
        return WhatIf(budget, delays, result, time.perf_counter() - t0, rebuilt, stage,
                      time_limit_s or run_limit, request=number, run_limit_s=run_limit,
                      instance=self.planner.instance, first_build=first_build and rebuilt)

    @staticmethod
    def _explain(w: WhatIf, planner: Planner) -> None:
        """Say why an infeasible or planless final answer has no plan, as the command line
        would (outside the model lock: the diagnosis builds and solves models of its own)."""
        if w.result is None or w.problem or w.result.has_plan:
            return
        if w.result.outcome.status == Status.INFEASIBLE:
            # the run's time limit (the instance's settings), not the first answer's cap
            w.problem = str(explain_infeasible_plan(planner.instance))
        elif w.final:
            w.problem = (f"HiGHS found no plan ({w.result.outcome.termination}) within {w.time_limit_s:g}s; "
                         "raise [solver] time_limit_s or simplify the campaign")

    def _interruptible_solve(self, number: int, budget: float, time_limit_s: float | None) -> PlanResult | None:
        """``planner.solve`` that a newer request may interrupt (see :meth:`_supersede`);
        None when request ``number`` was superseded before or during the solve."""
        me = threading.get_ident()
        try:
            with self._state:
                if not self.is_current(number):
                    return None
                self._solving = me
            try:
                result = self.planner.solve(budget, time_limit_s=time_limit_s)
            finally:
                with self._state:
                    self._solving = None
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(me), None)  # one sent, not yet raised
        except KeyboardInterrupt:  # interrupted before the solve had a plan, or just after it
            return None
        return None if result.outcome.status == Status.INTERRUPTED else result

    def _better(self, first: WhatIf, refined: WhatIf) -> WhatIf:
        """The refined answer, or the first answer's plan (with the tighter bound) when it is no better."""
        a, b = first.result, refined.result
        if a is None or b is None or a.evaluation is None or (
                b.evaluation is not None and b.expected_profit >= a.expected_profit):
            return refined
        bounds = [x for x in (a.bound, b.bound) if x is not None]
        bound = min(bounds) if bounds else None
        gap = relative_gap(bound, a.expected_profit)
        status = decide_status(b.outcome.status, gap, self.planner.settings.solver.mip_gap,
                               self.planner.settings.pipeline.optimal_gap_slack)
        kept = dataclasses.replace(a, bound=bound, gap=gap, status=status)
        return dataclasses.replace(refined, result=kept, kept_first=True)


def find_campaigns(roots: Iterable[str | Path], depth: int = SEARCH_DEPTH) -> list[Path]:
    """The campaign folders — folders holding a ``campaign.toml`` — in each of ``roots``:
    the root itself and its subfolders down to ``depth`` levels, hidden folders (``.name``:
    ``.ipynb_checkpoints``, ``.venv``, …) skipped.

    Paths are returned as found from the root as given (``../data/sample`` for the root
    ``../data``), sorted within each root, roots in the order given; a folder found from
    several roots (or through a link) is listed once, as the first root found it.  A root
    that is missing or unreadable finds nothing.
    """
    found: list[Path] = []
    seen: set[Path] = set()

    def visit(folder: Path, level: int) -> None:
        if (folder / CAMPAIGN_FILE).is_file():
            real = folder.resolve()
            if real not in seen:
                seen.add(real)
                found.append(folder)
        if level >= depth:
            return
        try:
            subfolders = sorted(e.name for e in os.scandir(folder)
                                if not e.name.startswith(".") and e.is_dir())
        except OSError:
            return
        for name in subfolders:
            visit(folder / name, level + 1)

    for root in roots:
        visit(Path(root), 0)
    return found


__all__ = ["BUDGET_RANGE", "DELAY_RANGE", "FIRST_ANSWER_S", "SEARCH_DEPTH", "Explorer", "WhatIf", "find_campaigns"]
