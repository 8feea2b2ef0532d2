"""Solve the model with HiGHS (loaded by :mod:`optimizer.solve.highs`).

The expected-sales rows are chords of ES (:mod:`optimizer.model.demand`), so the
model over-estimates sales only where no chord sits at the chosen stock.  One
solve, within ``time_limit_s``:

Each stage is a method taking the solve's :class:`SolveRun` (what stages pass
on: the best plan, counts, the shipment search) and reading its knobs from the
run's :class:`~optimizer.settings.PipelineKnobs` (``inst.settings.pipeline``):

0. **Price start** — a plan before HiGHS loads the model: the relaxation's plan
   under prices on the budget and the shared limits (:mod:`optimizer.solve.price_start`),
   rounded and repaired (:mod:`optimizer.solve.rounding`).
1. **LP rounds** — solve the LP relaxation, add the chords at the stock levels
   it picks, repeat while that changes the LP optimum noticeably (cheap).  The
   LP value is a valid bound.
   1b. **Supplier bound** — where suppliers have minimum order values, the
   Lagrangian bound by supplier at the LP's duals (:mod:`optimizer.solve.supplier_bound`):
   the LP bound less what each supplier the LP uses below its minimum loses.
2. **Rounding** — :mod:`optimizer.solve.rounding` turns the LP solution into a
   feasible plan (the first incumbent); chords are added at its stock.  A what-if
   also rounds the LP with the last plan's shipment counts fixed.
3. **Shipment bound** — :mod:`optimizer.solve.shipment_bound` branches on the
   shipment counts alone: a proven bound far tighter than the LP's, and the
   most promising shipment counts (its best leaf, or if stopped early the best
   of a dive from its top open node and the rounded plan's counts).  The search
   is kept for the solve and resumed later with the chords added since.
   3b. The LP with those counts fixed (and the flags the LP barely uses closed),
   rounded: a plan whose containers are already paid for, in seconds.
4. **Restricted start** — the MIP with those shipment counts fixed and the
   flags the LP barely uses closed (:mod:`optimizer.solve.restricted`), solved to a
   gap a hundred times smaller than ``mip_gap``: seconds.
5. **MIP rounds** — when the time left is enough for HiGHS's root: solve the MIP
   to ``mip_gap`` warm-started from the best plan, add the chords at the plan's
   stock levels, repeat until the over-estimate is below a small share of the
   gap.  Otherwise the time left goes to more shipment-bound search.

The best plan is kept by its exact profit; the reported bound is the smallest of
the valid bounds met (LP, shipment, MIP).  The outcome says honestly what
happened: optimal within the gap, stopped on the time limit (with the gap), or
no plan at all.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimizer.prep.instance import Instance
from optimizer.solve.chords import SalesChords
from optimizer.solve.highs import HighsLink, Rows
from optimizer.solve.part_bound import coupling_duals
from optimizer.solve.price_start import PriceStart
from optimizer.solve.restricted import Closed, Fixed, lp_guided_closures
from optimizer.solve.rounding import RoundingHeuristic
from optimizer.solve.shipment_bound import ShipmentSearch
from optimizer.solve.supplier_bound import column_blocks, supplier_bound
from optimizer.status import Status

log = logging.getLogger(__name__)

# The stages of one solve, in order, as (number, name): docs/solve-pipeline.md has a section per stage.
STAGES = (("0", "price start"), ("1", "LP rounds"), ("1b", "supplier bound"),
          ("2", "rounding"), ("2b", "previous-shipments start"),
          ("3", "shipment bound"), ("3b", "rounding at the shipment bound's counts"),
          ("4", "restricted start"), ("5", "MIP rounds"))


@dataclass
class SolveOutcome:
    """What the solver achieved; values are read only when ``has_plan``."""

    status: Status  # OPTIMAL, TIME_LIMIT, INTERRUPTED, INFEASIBLE, NO_PLAN or ERROR
    termination: str
    has_plan: bool
    route_units: pd.Series | None  # units per usable route (index = inst.routes.index)
    model_objective: float | None  # exact profit of the kept plan (objective − over-estimate)
    bound: float | None  # valid upper bound on the best exact expected profit
    solve_seconds: float
    lp_rounds: int = 0
    mip_rounds: int = 0
    chords: int = 0
    first_plan_seconds: float | None = None  # when the solve had its first plan
    first_plan_profit: float | None = None  # and that plan's exact profit
    handoff_seconds: float = 0.0  # handing the model to HiGHS (the first solve only)
    log: list[str] = field(default_factory=list)
    #: The last LP round's duals on the rows a split campaign's parts share (key → dual,
    #: :func:`~optimizer.solve.part_bound.coupling_duals`): a part's prices of its shares.
    lp_duals: dict | None = None


@dataclass
class SolveRun:
    """The state one :meth:`PlanSolver.solve` passes from stage to stage.

    Each stage reads and writes these fields (its docstring says which); nothing
    here outlives the solve.  What does — the loaded HiGHS model, the heuristics,
    the last plan's shipment counts, timings — stays on the :class:`PlanSolver`.
    """

    start: float  # perf_counter() when the solve began
    outcome: SolveOutcome  # the best plan so far, the bound, the counters
    #: HiGHS column values of the best plan: the next MIP's warm start.
    start_columns: np.ndarray | None = None
    #: The best plan's shipment count per fixed-cost lane.
    plan_counts: dict | None = None
    #: Shipment counts the shipment bound found most promising (its best leaf or dive).
    best_counts: dict | None = None
    #: Order flags and lanes the LP barely uses, closed in the restricted start.
    closures: list = field(default_factory=list)
    #: This solve's branch and bound over shipment counts, resumed by later calls.
    search: ShipmentSearch | None = None
    #: How many of the link's added row batches the search has been given.
    search_rows: int = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


class PlanSolver:
    """A persistent HiGHS solver bound to one built model.

    Re-solving after a mutable change (``set_budget``) reuses the loaded model
    and warm-starts from the last plan.
    """

    def __init__(self, model: pyo.ConcreteModel, inst: Instance, *, verbose: bool = False, progress=None):
        """``inst.settings``: the solver options (all set: the campaign's ``[solver]`` under
        the run's, :meth:`~optimizer.settings.Settings.with_campaign_solver`) and the
        pipeline knobs.  ``time_limit_s`` may be changed between solves."""
        self.model = model
        self.settings = inst.settings.pipeline
        self.inst = inst
        options = inst.settings.solver
        self.mip_gap = options.mip_gap
        self.time_limit_s = options.time_limit_s
        self.threads = options.threads
        self.verbose = verbose
        self.progress = progress or log.info
        self.link: HighsLink | None = None  # the model as loaded in HiGHS
        self._rounding: RoundingHeuristic | None = None
        self._prices: PriceStart | None = None
        # The last solve's plan's shipment counts: a what-if's first guess.
        self._previous_counts: dict | None = None
        self._cold_lp_seconds = 0.0
        self._handoff_seconds = 0.0
        self._restricted_seconds = 0.0  # how long the last restricted MIP ran
        self._restricted_overrun = 0.0  # how far it ran past its limit (HiGHS's root does not stop)
        self._rounding_seconds = 0.0    # how long the last rounding pass ran (its fixed work ignores the limit;
        #                                 before the first, how long the price start's took)
        self.chords = SalesChords(model, inst)  # the sales rows, refined at each solution

    def model_size(self) -> tuple[int, int]:
        """(columns, rows) as handed to HiGHS, or the Pyomo counts before a solve."""
        if self.link is not None:
            return self.link.size()
        return self.model.nvariables(), self.model.nconstraints()

    # ---------------------------------------------------------------- what-ifs
    def set_budget(self, budget: float) -> None:
        """Change the budget for the next ``solve`` (no rebuild).

        Per-route unit bounds were derived for budgets up to ``inst.bound_budget``;
        a larger budget needs an instance built with ``Settings(max_budget=...)``.
        """
        if budget > self.inst.bound_budget * (1 + 1e-12):
            raise ValueError(f"budget {budget:,.2f} exceeds {self.inst.bound_budget:,.2f}, the largest "
                             "this model was built for: build with Settings(max_budget=...)")
        self.model.budget.set_value(float(budget))

    # ------------------------------------------------------------------ solve
    def solve(self) -> SolveOutcome:
        """Run the stages within ``time_limit_s``; the outcome holds the best plan found.

        Ctrl-C stops the search and keeps that plan (status ``interrupted``); with no
        plan yet it propagates.
        """
        start = time.perf_counter()
        out = SolveOutcome(Status.NO_PLAN, "not run", False, None, None, None, 0.0)
        if not self.chords.route_keys:  # no usable route: ordering nothing is the only plan
            out.status, out.termination, out.has_plan = Status.OPTIMAL, "nothing to decide", True
            out.route_units = pd.Series(0.0, index=self.inst.routes.index)
            return out
        run = SolveRun(start, out)
        try:
            self._stages(run)
        except KeyboardInterrupt:
            if not out.has_plan:
                raise
            out.status, out.termination = Status.INTERRUPTED, "interrupted by the user (Ctrl-C)"
            self._say(out, f"interrupted: keeping the best plan found, {out.model_objective:,.2f}, "
                           f"{run.elapsed():.1f}s")
        out.solve_seconds = run.elapsed()
        out.handoff_seconds, self._handoff_seconds = self._handoff_seconds, 0.0
        self._remember_counts(out)
        return out

    def _stages(self, run: SolveRun) -> None:
        """The pipeline of the module docstring, stage by stage."""
        out = run.outcome
        # Every solve, first or what-if, starts from the LP (cheap once loaded) and the
        # restricted MIP, not only from the previous what-if's plan: within the same time
        # that start alone gave worse frontier points (benchmarks/README.md).
        self._price_start(run)
        self._lp_rounds(run)
        if out.lp_rounds:
            out.lp_duals = coupling_duals(self.link)
            self._supplier_bound(run)
            self._rounding_start(run)
            self._previous_counts_start(run)
            self._shipment_bound(run, self.settings.shipment_bound_share)
            if not self._proven(out):
                self._rounded_at_counts(run, run.best_counts, "rounded LP at the shipment bound's counts",
                                        closed=run.closures)
            if not self._proven(out) and self._restricted_pays(run):
                self._restricted_start(run)
        skip_mip = (bool(out.lp_rounds) and not self._proven(out)
                    and not self._mip_pays(run, self.settings.full_mip_lp_multiple))
        if skip_mip:  # too big for HiGHS's root in the time left: spend it on the bound
            self._shipment_bound(run, 1.0)
            out.termination = "shipment bound search"
        if self._proven(out):
            out.status = Status.OPTIMAL
        elif skip_mip:
            out.status = Status.TIME_LIMIT if out.has_plan else Status.NO_PLAN
        else:
            self._mip_rounds(run)

    def _mip_pays(self, run: SolveRun, lp_multiple: float) -> bool:
        """Whether a MIP can get through its root in the time left: at least
        ``lp_multiple`` cold LP solves of time.

        HiGHS's root cut loop cannot be interrupted, so a MIP started without that
        margin overruns the time limit (figures in benchmarks/README.md).
        """
        return self._remaining(run) >= lp_multiple * self._cold_lp_seconds

    def _restricted_pays(self, run: SolveRun) -> bool:
        """Time enough for the restricted MIP: ``self.settings.restricted_lp_multiple`` cold LPs,
        half of what it took last time, and room after its share of the time left for what it
        ran past its limit last time (its root heuristics overrun short limits)."""
        left = self._remaining(run)
        share = self.settings.restricted_share
        return (self._mip_pays(run, self.settings.restricted_lp_multiple)
                and share * left >= 0.5 * self._restricted_seconds
                and (1 - share) * left >= self._restricted_overrun)

    def _proven(self, out: SolveOutcome) -> bool:
        """The kept plan is within ``mip_gap`` of the best bound so far."""
        if not out.has_plan or out.bound is None:
            return False
        return out.bound - out.model_objective <= self.mip_gap * max(abs(out.model_objective), 1e-9)

    def _tighten(self, out: SolveOutcome, bound: float | None) -> None:
        if bound is not None and math.isfinite(bound):
            out.bound = bound if out.bound is None else min(out.bound, bound)

    def _remaining(self, run: SolveRun) -> float:
        return self.time_limit_s - run.elapsed()

    def _run(self, *, relaxation: bool, time_limit: float, start: np.ndarray | None = None,
             mip_gap: float | None = None):
        """One HiGHS run of the loaded model (the LP when ``relaxation``), from the column values ``start``.

        ``time_limit`` counts the model's hand-off to HiGHS (the first run) and the sync of
        the rows added since the last run: HiGHS gets what they leave of it."""
        began = time.perf_counter()
        if self.link is None:
            m = self.model
            self.link = HighsLink(m, param_rows=[m.budget_limit, m.sku_share_limit],
                                  growing=[m.sales_chord], threads=self.threads)
            self._handoff_seconds = time.perf_counter() - began
        else:
            self.link.sync()
        time_limit -= time.perf_counter() - began
        options = {"log_to_console": self.verbose, "output_flag": self.verbose,
                   "mip_heuristic_effort": self.settings.mip_heuristic_effort}
        return self.link.run(relaxation=relaxation, time_limit=time_limit,
                             mip_gap=self.mip_gap if mip_gap is None else mip_gap,
                             options=options, start=start)

    def _lp_rounds(self, run: SolveRun) -> None:
        """Stage 1: LP solves, each adding the chords at the stock levels it picks.

        Stops after ``settings.max_lp_rounds``, when the LP value moves by less than a
        tenth of the gap target, or when no chord is added.  Writes the bound
        (``outcome.bound``), ``outcome.lp_rounds`` and ``outcome.chords``; leaves the
        last LP solution loaded for the rounding stage.
        """
        out = run.outcome
        previous = None
        for _ in range(self.settings.max_lp_rounds):
            if self._remaining(run) <= 0:
                return
            res = self._run(relaxation=True, time_limit=self._remaining(run))
            if not res.optimal:
                return
            if not self._cold_lp_seconds:  # a what-if's first LP is warm: keep the cold one
                self._cold_lp_seconds = res.seconds
            self.link.load_solution()
            out.lp_rounds += 1
            self._tighten(out, res.bound)  # the LP relaxation bounds the MIP
            stock, sales, exact = self.chords.gaps()
            over = (sales - exact) * self.chords.sales_coef
            obj = res.objective
            self._say(out, f"LP round {out.lp_rounds}: relaxation {obj:,.2f}, "
                           f"sales over-estimate {over.sum():,.2f}, {run.elapsed():.1f}s")
            if previous is not None and abs(previous - obj) <= self.mip_gap * 0.1 * max(abs(obj), 1):
                return
            previous = obj
            added = self.chords.add_at(stock, over > 1e-6 * max(abs(obj), 1.0) / max(len(over), 1))
            out.chords += added
            if added == 0:
                return

    def _heuristic(self) -> RoundingHeuristic:
        if self._rounding is None:
            self._rounding = RoundingHeuristic(self.inst)
        return self._rounding

    def _price_start(self, run: SolveRun) -> None:
        """Stage 0: a plan before HiGHS has even loaded the model.

        The relaxation's plan under prices on the budget and the shared limits
        (:mod:`optimizer.solve.price_start`), rounded, repaired and filled.  Writes
        the plan (``outcome``, ``run.plan_counts``) when it is the best so far.
        """
        heuristic = self._heuristic()
        budget = pyo.value(self.model.budget)
        if not heuristic.enabled:
            return
        if self._prices is None:
            self._prices = PriceStart(heuristic)
        began = time.perf_counter()
        units = heuristic.plan(self._prices.units(budget), budget=budget,
                               time_limit_s=self.settings.price_start_share * self.time_limit_s)
        self._offer_plan(run, units, "price start plan")
        if not self._rounding_seconds:  # a rounding pass and its bookkeeping: the first estimate of the next
            self._rounding_seconds = time.perf_counter() - began

    def _rounding_start(self, run: SolveRun) -> None:
        """Stage 2: round the loaded LP solution into a feasible plan (:mod:`optimizer.solve.rounding`).

        Reads the loaded LP; writes ``run.closures`` (for stage 4), chords where the
        rounded stock is a case or more from the LP's (the shipment bound's nodes sit
        near the plan), the plan when best, and ``run.start_columns``.
        """
        out = run.outcome
        if not self._rounding_fits(run, "rounded LP plan"):
            return
        run.closures = lp_guided_closures(self.model, self.inst)  # while the LP is loaded
        began = time.perf_counter()
        heuristic = self._heuristic()
        lp_units = self.chords.route_units()
        units = heuristic.plan(lp_units, budget=pyo.value(self.model.budget),
                               time_limit_s=self.settings.rounding_share * self._remaining(run))
        if units is None:
            return
        # Chords where the plan's stock is a case or more from the LP's: the shipment
        # bound's nodes sit near the plan.
        lp_stock, _ = self.chords.stock_and_sales(lp_units)
        stock, _ = self.chords.stock_and_sales(units)
        cp = np.array([self.inst.index.pair_case_pack[k] for k in self.chords.pair_keys], float)
        out.chords += self.chords.add_at(stock, np.abs(stock - lp_stock) >= cp)
        self._offer_plan(run, units, "rounded LP plan")
        if run.start_columns is None and out.has_plan:  # the price start's plan stands
            units = out.route_units.to_numpy(float)
            run.start_columns = self._columns_of_plan(units, heuristic.shipments(units))
        self._rounding_seconds = time.perf_counter() - began

    def _rounding_fits(self, run: SolveRun, what: str) -> bool:
        """Whether a rounding pass fits the time left: its fixed work (minimums, completion,
        the exact profit) does not watch the clock, so a pass is not started with less
        time left than the last one took."""
        left = self._remaining(run)
        if left > 0 and self._rounding_seconds <= left:
            return True
        self._say(run.outcome, f"{what}: skipped, " + (
            f"{left:.1f}s left and the last rounding took {self._rounding_seconds:.1f}s" if left > 0
            else "the time limit is reached"))
        return False

    def _previous_counts_start(self, run: SolveRun) -> None:
        """Stage 2b, what-ifs only: the LP with the last solve's shipment counts fixed, rounded."""
        self._rounded_at_counts(run, self._previous_counts, "rounded LP at the last plan's shipments")

    def _rounded_at_counts(self, run: SolveRun, counts: dict | None, what: str, closed=()) -> None:
        """The LP with the shipment counts ``counts`` fixed (and the variables ``closed``
        shut), rounded (stages 2b and 3b).

        Its containers are already paid for, so rounding loses little: on campaigns
        where cash limits make the restricted MIP slow this is the best plan in the time
        (benchmarks/README.md).  Writes the plan when best.
        """
        heuristic = self._heuristic()
        if not counts or not heuristic.enabled or self._remaining(run) <= 0:
            return
        shipments = self.model.shipments
        with Closed(closed), Fixed([shipments[lane] for lane in counts], counts.values()):
            res = self._run(relaxation=True, time_limit=self._remaining(run))
        if not res.optimal or not self._rounding_fits(run, what):
            return
        began = time.perf_counter()
        self.link.load_solution()
        units = heuristic.plan(self.chords.route_units(), budget=pyo.value(self.model.budget),
                               time_limit_s=self.settings.rounding_share * self._remaining(run))
        self._offer_plan(run, units, what)
        self._rounding_seconds = time.perf_counter() - began

    def _remember_counts(self, out: SolveOutcome) -> None:
        """Keep the plan's shipment counts for the next what-if."""
        if not out.has_plan or not self._heuristic().enabled:
            return
        self._previous_counts = self._lane_counts(
            self._heuristic().shipments(out.route_units.to_numpy(float)))

    def _lane_counts(self, shipments: np.ndarray) -> dict:
        """Shipments per fixed-cost lane, from shipments per lane in ``inst.lanes`` order."""
        n = dict(zip(self.inst.lanes.index, shipments))
        return {lane: n[lane] for lane in self.model.FIXED_COST_LANES}

    def _offer_plan(self, run: SolveRun, units: np.ndarray, what: str) -> None:
        """Keep a heuristic plan (units per route) if it beats the best so far."""
        out = run.outcome
        heuristic = self._heuristic()
        if not heuristic.feasible(units / heuristic.cp):  # a heuristic bug, never a plan
            self._say(out, f"{what} breaks a rule of SPEC §2: not kept")
            return
        profit = heuristic.exact_profit(units)
        self._say(out, f"{what} {profit:,.2f}, {run.elapsed():.1f}s")
        if not self._take_if_better(run, profit, units):
            return
        shipments = heuristic.shipments(units)
        run.start_columns = self._columns_of_plan(units, shipments) if self.link is not None else None
        run.plan_counts = self._lane_counts(shipments)

    def _supplier_bound(self, run: SolveRun) -> None:
        """Stage 1b: the Lagrangian bound by supplier at the LP's duals
        (:mod:`optimizer.solve.supplier_bound`), where supplier minimums exist."""
        m = self.model
        if not len(m.MIN_VALUE_SUPPLIERS) or self._remaining(run) <= 0:
            return
        solution = self.link.relaxation_solution()   # the last LP round's, before any row is synced
        blocks, flags = column_blocks(self.link.columns, self.inst.skus["supplier"].to_dict())
        result = supplier_bound(self.link.lp(), blocks, flags, threads=self.threads, solution=solution,
                                time_limit_s=self.settings.supplier_bound_share * self._remaining(run))
        out = run.outcome
        self._tighten(out, result.bound)
        if result.bound is not None:
            self._say(out, f"supplier bound {result.bound:,.2f} ({result.suppliers_split} suppliers split, "
                           f"{result.unreachable} cannot reach their minimum), {run.elapsed():.1f}s")

    def _shipment_bound(self, run: SolveRun, share: float) -> None:
        """Stage 3: a tighter bound by branching on shipment counts only (:mod:`optimizer.solve.shipment_bound`).

        Uses ``share`` of the time left.  Writes ``outcome.bound`` and
        ``run.best_counts`` (the best leaf, or the dive's counts when stopped);
        keeps ``run.search`` so a second call goes on with the same tree, given the
        chords added since (they are valid cuts).
        """
        out = run.outcome
        m = self.model
        lanes = list(m.FIXED_COST_LANES)
        if not lanes or self._remaining(run) <= 0:
            return
        if run.search is None:
            self.link.sync()  # the restricted start's closures must not reach the bound
            vmap = self.link.col_of
            run.search = ShipmentSearch(
                self.link.lp(), [vmap[id(m.shipments[lane])] for lane in lanes],
                branch_first=[lane in self.inst.index.shipment_m3 for lane in lanes], threads=self.threads,
                tolerance=self.settings.integrality_tolerance)
            run.search_rows = len(self.link.added)
        else:
            self.link.add_new_rows()
            self._catch_up_search(run)
        result = run.search.search(incumbent=out.model_objective if out.has_plan else None,
                                     time_limit_s=share * self._remaining(run))
        self._tighten(out, result.bound)
        best = result.best_counts
        if not result.proven and run.plan_counts is not None:
            plan = [run.plan_counts[lane] for lane in lanes]
            best = run.search.good_leaf([plan], time_limit_s=self.settings.good_leaf_share * self._remaining(run))
        if best is not None:
            run.best_counts = dict(zip(lanes, best))
        if result.bound is not None:
            self._say(out, f"shipment bound {result.bound:,.2f} ({result.nodes} nodes, "
                           f"{result.cuts} cuts, {'proven' if result.proven else 'stopped'}), "
                           f"{run.elapsed():.1f}s")

    def _catch_up_search(self, run: SolveRun) -> None:
        """Give the shipment search the rows the link gained since it last looked."""
        run.search.add_rows(Rows.concat(self.link.added[run.search_rows:]))
        run.search_rows = len(self.link.added)

    def _columns_of_plan(self, units: np.ndarray, lane_shipments: np.ndarray) -> np.ndarray:
        """HiGHS column values of a plan: cases, flags, shipments and exact sales."""
        m, vmap = self.model, self.link.col_of
        col = np.zeros(self.link.size()[0])
        routes = self.inst.routes
        for k, u, cp in zip(self.chords.route_keys, units, routes["case_pack"].to_numpy(float)):
            col[vmap[id(m.cases[k])]] = u / cp
        ordered = pd.Series(units, index=routes.index).groupby(level="sku").sum()
        for s in m.FLAGGED_SKUS:
            col[vmap[id(m.order_placed[s])]] = float(ordered.get(s, 0.0) > 0)
        supplier_of = self.inst.skus["supplier"]
        used = set(supplier_of[ordered[ordered > 0].index])
        for f in m.MIN_VALUE_SUPPLIERS:
            col[vmap[id(m.supplier_used[f])]] = float(f in used)
        n = dict(zip(self.inst.lanes.index, lane_shipments))
        for lane in m.FIXED_COST_LANES:
            col[vmap[id(m.shipments[lane])]] = n[lane]
        _, sales = self.chords.stock_and_sales(units)
        for k, value in zip(self.chords.pair_keys, sales):
            col[vmap[id(m.sales[k])]] = value
        return col

    def _restricted_start(self, run: SolveRun) -> None:
        """Stage 4: the MIP restricted to what the LP uses, solved to a fine gap.

        Fixes ``run.best_counts`` (else ``run.plan_counts``) and closes
        ``run.closures``; writes the plan when best and chords at its stock.
        """
        out = run.outcome
        closed = run.closures
        counts = run.best_counts or run.plan_counts or {}
        shipments = self.model.shipments
        fixed = Fixed([shipments[lane] for lane in counts], counts.values())
        if not closed and not counts:
            return
        with Closed(closed), fixed:
            limit = self.settings.restricted_share * self._remaining(run)
            res = self._run(relaxation=False, time_limit=limit,
                            mip_gap=self.settings.restricted_gap_share * self.mip_gap)
            self._restricted_seconds = res.seconds
            self._restricted_overrun = max(0.0, res.seconds - limit)
            if not res.has_solution:
                self._say(out, f"restricted start: no plan ({res.name})")
            else:
                self.link.load_solution()
                stock, sales, exact = self.chords.gaps()
                over = (sales - exact) * self.chords.sales_coef
                self._keep_plan(run, res.objective - over.sum(), sales, exact)
                out.chords += self.chords.add_at(stock, over > 1e-9)
                self._say(out, f"restricted start ({len(closed)} flags/lanes closed): plan "
                               f"{res.objective - over.sum():,.2f}, "
                               f"{run.elapsed():.1f}s")

    def _mip_rounds(self, run: SolveRun) -> None:
        """Stage 5: the full MIP, warm-started from ``run.start_columns``, then chords at its plan.

        Repeats until the plan's sales over-estimate is below
        ``settings.chord_tolerance_share`` of the gap target, the plan is proven, or
        time runs out.  Writes the plan, the bound, ``outcome.status`` and
        ``outcome.termination``.
        """
        out = run.outcome
        for _ in range(self.settings.max_mip_rounds):
            remaining = self._remaining(run)
            if remaining <= 0:
                if not out.has_plan:
                    out.status, out.termination = Status.NO_PLAN, "time limit before a plan was found"
                else:
                    out.status = Status.TIME_LIMIT
                return
            res = self._run(relaxation=False, time_limit=remaining, start=run.start_columns)
            out.termination = res.name
            if res.infeasible:
                out.status = Status.INFEASIBLE
                return
            if not res.has_solution:
                if out.has_plan:  # the rounded or restricted start's plan stands
                    out.status = Status.TIME_LIMIT
                else:
                    out.status = Status.NO_PLAN if res.time_limit else Status.ERROR
                self._say(out, f"MIP round {out.mip_rounds + 1}: no plan found ({res.name})")
                return
            self.link.load_solution()
            out.mip_rounds += 1
            self._tighten(out, res.bound)
            stock, sales, exact = self.chords.gaps()
            over = (sales - exact) * self.chords.sales_coef
            total_over = float(over.sum())
            self._keep_plan(run, res.objective - total_over, sales, exact)
            self._say(out, f"MIP round {out.mip_rounds}: plan {res.objective:,.2f} "
                           f"(exact {res.objective - total_over:,.2f}), "
                           f"bound {res.bound if res.bound is not None else math.inf:,.2f}, {res.name}, "
                           f"{run.elapsed():.1f}s")
            if self._proven(out):
                out.status = Status.OPTIMAL
                return
            optimal = res.optimal
            tolerance = self.settings.chord_tolerance_share * self.mip_gap * max(abs(res.objective), 1.0)
            if total_over <= tolerance:
                out.status = Status.OPTIMAL if optimal else Status.TIME_LIMIT
                return
            added = self.chords.add_at(stock, over > 1e-9)
            out.chords += added
            if added == 0:
                out.status = Status.OPTIMAL if optimal else Status.TIME_LIMIT
                return
        out.status = Status.OPTIMAL

    def _keep_plan(self, run: SolveRun, exact_profit: float, sales, exact) -> None:
        """Keep the loaded plan if its exact profit beats the best so far this solve."""
        if self._take_if_better(run, exact_profit, self.chords.route_units()):
            run.start_columns = self._start_columns(sales, exact)

    def _take_if_better(self, run: SolveRun, exact_profit: float, route_units: np.ndarray) -> bool:
        """Make ``route_units`` the solve's plan if its exact profit beats the best so far."""
        out = run.outcome
        if out.has_plan and exact_profit <= out.model_objective:
            return False
        if not out.has_plan:
            out.first_plan_seconds = run.elapsed()
            out.first_plan_profit = exact_profit
        out.has_plan = True
        out.model_objective = exact_profit
        out.route_units = pd.Series(route_units, index=self.inst.routes.index)
        return True

    def _start_columns(self, sales: np.ndarray, exact: np.ndarray) -> np.ndarray:
        """The loaded solution as a warm start, with sales cut to exact ES."""
        col = self.link.solution()
        col_of = self.link.col_of
        for k, value in zip(self.chords.pair_keys, np.minimum(sales, exact)):
            col[col_of[id(self.model.sales[k])]] = value
        return col

    def _say(self, out: SolveOutcome, msg: str) -> None:
        out.log.append(msg)
        self.progress(msg)
