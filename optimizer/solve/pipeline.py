"""Solve the model with HiGHS (loaded by :mod:`optimizer.solve.highs`).

The expected-sales rows are chords of ES (:mod:`optimizer.model.demand`), so the
model over-estimates sales only where no chord sits at the chosen stock.  One
solve, within ``time_limit_s``:

0. **Price start** — a plan before HiGHS loads the model: the relaxation's plan
   under prices on the budget and the shared limits (:mod:`optimizer.solve.price_start`),
   rounded and repaired (:mod:`optimizer.solve.rounding`).
1. **LP rounds** — solve the LP relaxation, add the chords at the stock levels
   it picks, repeat while that changes the LP optimum noticeably (cheap).  The
   LP value is a valid bound.
2. **Rounding** — :mod:`optimizer.solve.rounding` turns the LP solution into a
   feasible plan (the first incumbent); chords are added at its stock.  A what-if
   also rounds the LP with the last plan's shipment counts fixed.
3. **Shipment bound** — :mod:`optimizer.solve.shipment_bound` branches on the
   shipment counts alone: a proven bound far tighter than the LP's, and the
   most promising shipment counts (its best leaf, or if stopped early the best
   of a dive from its top open node and the rounded plan's counts).  The search
   is kept for the solve and resumed later with the chords added since.
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

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimizer.model.demand import add_sales_chords
from optimizer.prep.expected_sales import expected_sales
from optimizer.prep.instance import Instance
from optimizer.solve.highs import HighsLink, Rows
from optimizer.solve.price_start import PriceStart
from optimizer.solve.restricted import Closed, Fixed, lp_guided_closures
from optimizer.solve.rounding import RoundingHeuristic
from optimizer.solve.settings import SolveSettings
from optimizer.solve.shipment_bound import ShipmentSearch


@dataclass
class SolveOutcome:
    """What the solver achieved; values are read only when ``has_plan``."""

    status: str  # optimal | time_limit | infeasible | no_plan | error
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


class PlanSolver:
    """A persistent HiGHS solver bound to one built model.

    Re-solving after a mutable change (``set_budget``) reuses the loaded model
    and warm-starts from the last plan.
    """

    def __init__(self, model: pyo.ConcreteModel, inst: Instance, *, mip_gap: float,
                 time_limit_s: float, threads: int | None = None, verbose: bool = False,
                 progress=None, settings: SolveSettings | None = None):
        self.model = model
        self.settings = settings or SolveSettings()
        self.inst = inst
        self.mip_gap = mip_gap
        self.time_limit_s = time_limit_s
        self.threads = threads
        self.verbose = verbose
        self.progress = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.link: HighsLink | None = None  # the model as loaded in HiGHS
        self._last_solution: np.ndarray | None = None
        self._rounding: RoundingHeuristic | None = None
        self._prices: PriceStart | None = None
        # Shipments per lane to fix in the restricted start: the shipment bound's
        # best leaf, else the rounded plan's.
        self._best_counts: dict | None = None
        self._plan_counts: dict | None = None
        self._closures: list = []  # what the restricted start closes, read off the LP
        # The last solve's plan's shipment counts: a what-if's first guess.
        self._previous_counts: dict | None = None
        self._cold_lp_seconds = 0.0
        self._solve_start = 0.0
        self._handoff_seconds = 0.0
        self._restricted_seconds = 0.0  # how long the last restricted MIP ran
        self._search: ShipmentSearch | None = None  # this solve's shipment branch and bound
        self._search_rows = 0  # rows of link.added the search has
        self._route_keys = list(model.ROUTES)
        self._pair_keys = list(model.DEMAND_PAIRS)
        self._sales_coef = inst.skus["sales_coef"].reindex(
            [k[0] for k in self._pair_keys]).to_numpy(float)

    def model_size(self) -> tuple[int, int]:
        """(columns, rows) as handed to HiGHS, or the Pyomo counts before a solve."""
        if self.link is not None:
            return self.link.size()
        return self.model.nvariables(), self.model.nconstraints()

    # ---------------------------------------------------------------- what-ifs
    def set_budget(self, budget: float) -> None:
        """Change the budget for the next ``solve`` (no rebuild).

        Per-route unit bounds were derived for budgets up to ``inst.bound_budget``;
        a larger budget needs an instance built with ``Overrides(max_budget=...)``.
        """
        if budget > self.inst.bound_budget * (1 + 1e-12):
            raise ValueError(f"budget {budget:,.2f} exceeds {self.inst.bound_budget:,.2f}, the largest "
                             "this model was built for: build with Overrides(max_budget=...)")
        self.model.budget.set_value(float(budget))

    # ------------------------------------------------------------------ solve
    def solve(self) -> SolveOutcome:
        start = time.perf_counter()
        out = SolveOutcome("no_plan", "not run", False, None, None, None, 0.0)
        if not self._route_keys:  # no usable route: ordering nothing is the only plan
            out.status, out.termination, out.has_plan = "optimal", "nothing to decide", True
            out.route_units = pd.Series(0.0, index=self.inst.routes.index)
            return out
        # Every solve, first or what-if, starts from the LP (cheap once loaded) and
        # the restricted MIP: warm-starting only from the previous what-if's plan
        # gave frontier points up to 35 % worse within the same time (sample, 20 s).
        self._best_counts = self._plan_counts = self._search = self._last_solution = None
        self._solve_start = start
        self._price_start(out, start)
        self._lp_rounds(out, start)
        if out.lp_rounds:
            self._rounding_start(out, start)
            self._previous_counts_start(out, start)
            self._shipment_bound(out, start, self.settings.shipment_bound_share)
            if not self._proven(out) and self._restricted_pays(start):
                self._restricted_start(out, start)
        skip_mip = (bool(out.lp_rounds) and not self._proven(out)
                    and not self._mip_pays(start, self.settings.full_mip_lp_multiple))
        if skip_mip:  # too big for HiGHS's root in the time left: spend it on the bound
            self._shipment_bound(out, start, 1.0)
            out.termination = "shipment bound search"
        if self._proven(out):
            out.status = "optimal"
        elif skip_mip:
            out.status = "time_limit" if out.has_plan else "no_plan"
        else:
            self._mip_rounds(out, start)
        out.solve_seconds = time.perf_counter() - start
        out.handoff_seconds, self._handoff_seconds = self._handoff_seconds, 0.0
        self._remember_counts(out)
        return out

    def _mip_pays(self, start: float, lp_multiple: float) -> bool:
        """Whether a MIP can get through its root in the time left: at least
        ``lp_multiple`` cold LP solves of time.

        HiGHS's root cut loop cannot be interrupted: on the 1,000-SKU benchmark
        (33 k columns, cold LP 1.4 s) one separation round of the full MIP took
        52 s and a 34 s limit ran to 75 s, with a bound no better than the
        shipment bound's; at 5,000 SKUs (cold LP 15 s) the restricted MIP ran
        82 s for a plan worse than ordering nothing.
        """
        return self._remaining(start) >= lp_multiple * self._cold_lp_seconds

    def _restricted_pays(self, start: float) -> bool:
        """Time enough for the restricted MIP: ``self.settings.restricted_lp_multiple`` cold LPs,
        and half of what it took last time (its root heuristics overrun short
        limits: a 0.7 s limit ran 4.5 s on the 300-SKU benchmark)."""
        return (self._mip_pays(start, self.settings.restricted_lp_multiple)
                and self.settings.restricted_share * self._remaining(start) >= 0.5 * self._restricted_seconds)

    def _proven(self, out: SolveOutcome) -> bool:
        """The kept plan is within ``mip_gap`` of the best bound so far."""
        if not out.has_plan or out.bound is None:
            return False
        return out.bound - out.model_objective <= self.mip_gap * max(abs(out.model_objective), 1e-9)

    def _tighten(self, out: SolveOutcome, bound: float | None) -> None:
        if bound is not None and math.isfinite(bound):
            out.bound = bound if out.bound is None else min(out.bound, bound)

    def _remaining(self, start: float) -> float:
        return self.time_limit_s - (time.perf_counter() - start)

    def _run(self, *, relaxation: bool, time_limit: float, warm_start: bool,
             mip_gap: float | None = None):
        if self.link is None:
            m = self.model
            began = time.perf_counter()
            self.link = HighsLink(m, param_rows=[m.budget_limit, m.sku_share_limit],
                                  growing=[m.sales_chord], threads=self.threads)
            self._handoff_seconds = time.perf_counter() - began
        else:
            self.link.sync()
        options = {"log_to_console": self.verbose, "output_flag": self.verbose,
                   "mip_heuristic_effort": self.settings.mip_heuristic_effort}
        return self.link.run(relaxation=relaxation, time_limit=time_limit,
                             mip_gap=self.mip_gap if mip_gap is None else mip_gap,
                             options=options, start=self._last_solution if warm_start else None)

    def _route_units(self) -> np.ndarray:
        cp = self.model.case_pack
        return np.array([cp[k] * (self.model.cases[k].value or 0.0) for k in self._route_keys])

    def _chord_gaps(self):
        """Stock, model sales and exact ES per demand pair at the loaded solution."""
        m = self.model
        stock, exact = self._stock_and_sales(self._route_units())
        sales = np.array([m.sales[k].value or 0.0 for k in self._pair_keys])
        return stock, sales, exact

    def _stock_and_sales(self, route_units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stock and exact ES per demand pair (``_pair_keys`` order) for units per route."""
        units = pd.Series(route_units, index=self.inst.routes.index)
        by_pair = units.groupby(level=["sku", "warehouse"]).sum()
        pairs = self.inst.pairs.loc[self._pair_keys]
        stock = pairs["existing"].to_numpy(float) + by_pair.reindex(pairs.index).fillna(0).to_numpy()
        exact = np.atleast_1d(expected_sales(stock, pairs["mean"].to_numpy(float), pairs["sd"].to_numpy(float)))
        return stock, exact

    def _add_chords_at(self, stock: np.ndarray, over: np.ndarray) -> int:
        """Chords at the lattice points around each over-estimated pair's stock."""
        points = {}
        for i in np.flatnonzero(over):
            k = self._pair_keys[i]
            lo, _ = self.model.stock_range[k]
            cp = self.model.pair_case_pack[k]
            below = lo + cp * np.floor((stock[i] - lo) / cp + 1e-9)
            points[k] = [below - cp, below, below + cp]
        return add_sales_chords(self.model, points)

    def _lp_rounds(self, out: SolveOutcome, start: float) -> None:
        previous = None
        for _ in range(self.settings.max_lp_rounds):
            if self._remaining(start) <= 0:
                return
            res = self._run(relaxation=True, time_limit=self._remaining(start), warm_start=False)
            if not res.optimal:
                return
            if not self._cold_lp_seconds:  # a what-if's first LP is warm: keep the cold one
                self._cold_lp_seconds = res.seconds
            self.link.load_solution()
            out.lp_rounds += 1
            self._tighten(out, res.bound)  # the LP relaxation bounds the MIP
            stock, sales, exact = self._chord_gaps()
            over = (sales - exact) * self._sales_coef
            obj = res.objective
            self._say(out, f"LP round {out.lp_rounds}: relaxation {obj:,.2f}, "
                           f"sales over-estimate {over.sum():,.2f}, {time.perf_counter() - start:.1f}s")
            if previous is not None and abs(previous - obj) <= self.mip_gap * 0.1 * max(abs(obj), 1):
                return
            previous = obj
            added = self._add_chords_at(stock, over > 1e-6 * max(abs(obj), 1.0) / max(len(over), 1))
            out.chords += added
            if added == 0:
                return

    def _heuristic(self) -> RoundingHeuristic:
        if self._rounding is None:
            self._rounding = RoundingHeuristic(self.inst)
        return self._rounding

    def _price_start(self, out: SolveOutcome, start: float) -> None:
        """A plan before HiGHS has even loaded the model: the relaxation's plan under
        prices on the budget and the shared limits (:mod:`optimizer.solve.price_start`),
        rounded, repaired and filled."""
        heuristic = self._heuristic()
        budget = pyo.value(self.model.budget)
        if not heuristic.enabled:
            return
        if self._prices is None:
            self._prices = PriceStart(heuristic)
        units = heuristic.plan(self._prices.units(budget), budget=budget,
                               time_limit_s=self.settings.price_start_share * self.time_limit_s)
        self._offer_plan(out, start, units, "price start plan")

    def _rounding_start(self, out: SolveOutcome, start: float) -> None:
        """Round the LP solution into a feasible plan (:mod:`optimizer.solve.rounding`)."""
        self._closures = lp_guided_closures(self.model, self.inst)  # while the LP is loaded
        heuristic = self._heuristic()
        lp_units = self._route_units()
        units = heuristic.plan(lp_units, budget=pyo.value(self.model.budget),
                               time_limit_s=self.settings.rounding_share * self._remaining(start))
        if units is None:
            return
        # Chords where the plan's stock is a case or more from the LP's: the shipment
        # bound's nodes sit near the plan (300-SKU benchmark: bound 0.1 % tighter).
        lp_stock, _ = self._stock_and_sales(lp_units)
        stock, _ = self._stock_and_sales(units)
        cp = np.array([self.model.pair_case_pack[k] for k in self._pair_keys], float)
        out.chords += self._add_chords_at(stock, np.abs(stock - lp_stock) >= cp)
        self._offer_plan(out, start, units, "rounded LP plan")
        if self._last_solution is None and out.has_plan:  # the price start's plan stands
            units = out.route_units.to_numpy(float)
            self._last_solution = self._columns_of_plan(units, heuristic.shipments(units))

    def _previous_counts_start(self, out: SolveOutcome, start: float) -> None:
        """A what-if's quick plan: the LP with the last solve's shipment counts fixed,
        rounded.  Its containers are already paid for, so rounding loses little.

        300-SKU benchmark, budget +10 %, 3.2 s re-solve: 1,307,631 at 1.9 s, where
        the rounded LP plan was 1,286,308 and a cold 10 s solve proves 1,310,968.
        """
        counts = self._previous_counts
        heuristic = self._heuristic()
        if not counts or not heuristic.enabled or self._remaining(start) <= 0:
            return
        shipments = self.model.shipments
        with Fixed([shipments[lane] for lane in counts], counts.values()):
            res = self._run(relaxation=True, time_limit=self._remaining(start), warm_start=False)
        if not res.optimal:
            return
        self.link.load_solution()
        units = heuristic.plan(self._route_units(), budget=pyo.value(self.model.budget),
                               time_limit_s=self.settings.rounding_share * self._remaining(start))
        self._offer_plan(out, start, units, "rounded LP at the last plan's shipments")

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

    def _offer_plan(self, out: SolveOutcome, start: float, units: np.ndarray, what: str) -> None:
        """Keep a heuristic plan (units per route) if it beats the best so far."""
        heuristic = self._heuristic()
        if not heuristic.feasible(units / heuristic.cp):  # a heuristic bug, never a plan
            self._say(out, f"{what} breaks a rule of SPEC §2: not kept")
            return
        profit = heuristic.exact_profit(units)
        self._say(out, f"{what} {profit:,.2f}, {time.perf_counter() - start:.1f}s")
        if out.has_plan and profit <= out.model_objective:
            return
        if not out.has_plan:
            out.first_plan_seconds = time.perf_counter() - start
            out.first_plan_profit = profit
        out.has_plan = True
        out.model_objective = profit
        out.route_units = pd.Series(units, index=self.inst.routes.index)
        shipments = heuristic.shipments(units)
        self._last_solution = (self._columns_of_plan(units, shipments)
                               if self.link is not None else None)
        self._plan_counts = self._lane_counts(shipments)

    def _shipment_bound(self, out: SolveOutcome, start: float, share: float) -> None:
        """Prove a tighter bound by branching on shipments only (:mod:`optimizer.solve.shipment_bound`).

        The search is kept for the solve: a second call goes on with the same tree,
        given the chords added since (they are valid cuts)."""
        m = self.model
        lanes = list(m.FIXED_COST_LANES)
        if not lanes:
            return
        if self._search is None:
            self.link.sync()  # the restricted start's closures must not reach the bound
            vmap = self.link.col_of
            self._search = ShipmentSearch(
                self.link.lp(), [vmap[id(m.shipments[lane])] for lane in lanes],
                branch_first=[lane in m.shipment_m3 for lane in lanes], threads=self.threads)
            self._search_rows = len(self.link.added)
        else:
            self.link.add_new_rows()
            self._catch_up_search()
        result = self._search.search(incumbent=out.model_objective if out.has_plan else None,
                                     time_limit_s=share * self._remaining(start))
        self._tighten(out, result.bound)
        best = result.best_counts
        if not result.proven and self._plan_counts is not None:
            plan = [self._plan_counts[lane] for lane in lanes]
            best = self._search.good_leaf([plan], time_limit_s=self.settings.good_leaf_share * self._remaining(start))
        if best is not None:
            self._best_counts = dict(zip(lanes, best))
        if result.bound is not None:
            self._say(out, f"shipment bound {result.bound:,.2f} ({result.nodes} nodes, "
                           f"{result.cuts} cuts, {'proven' if result.proven else 'stopped'}), "
                           f"{time.perf_counter() - start:.1f}s")

    def _catch_up_search(self) -> None:
        """Give the shipment search the rows the link gained since it last looked."""
        self._search.add_rows(Rows.concat(self.link.added[self._search_rows:]))
        self._search_rows = len(self.link.added)

    def _columns_of_plan(self, units: np.ndarray, lane_shipments: np.ndarray) -> np.ndarray:
        """HiGHS column values of a plan: cases, flags, shipments and exact sales."""
        m, vmap = self.model, self.link.col_of
        col = np.zeros(self.link.size()[0])
        routes = self.inst.routes
        for k, u, cp in zip(self._route_keys, units, routes["case_pack"].to_numpy(float)):
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
        _, sales = self._stock_and_sales(units)
        for k, value in zip(self._pair_keys, sales):
            col[vmap[id(m.sales[k])]] = value
        return col

    def _restricted_start(self, out: SolveOutcome, start: float) -> None:
        """Solve the MIP restricted to what the LP uses; keep its plan as the start."""
        closed = self._closures
        counts = self._best_counts or self._plan_counts or {}
        shipments = self.model.shipments
        fixed = Fixed([shipments[lane] for lane in counts], counts.values())
        if not closed and not counts:
            return
        with Closed(closed), fixed:
            res = self._run(relaxation=False, time_limit=self.settings.restricted_share * self._remaining(start),
                            warm_start=False, mip_gap=self.settings.restricted_gap_share * self.mip_gap)
            self._restricted_seconds = res.seconds
            if not res.has_solution:
                self._say(out, f"restricted start: no plan ({res.name})")
            else:
                self.link.load_solution()
                stock, sales, exact = self._chord_gaps()
                over = (sales - exact) * self._sales_coef
                self._keep_plan(out, res.objective - over.sum(), sales, exact)
                out.chords += self._add_chords_at(stock, over > 1e-9)
                self._say(out, f"restricted start ({len(closed)} flags/lanes closed): plan "
                               f"{res.objective - over.sum():,.2f}, "
                               f"{time.perf_counter() - start:.1f}s")

    def _mip_rounds(self, out: SolveOutcome, start: float) -> None:
        for _ in range(self.settings.max_mip_rounds):
            remaining = self._remaining(start)
            if remaining <= 0:
                if not out.has_plan:
                    out.status, out.termination = "no_plan", "time limit before a plan was found"
                else:
                    out.status = "time_limit"
                return
            res = self._run(relaxation=False, time_limit=remaining, warm_start=True)
            out.termination = res.name
            if res.infeasible:
                out.status = "infeasible"
                return
            if not res.has_solution:
                if out.has_plan:  # the rounded or restricted start's plan stands
                    out.status = "time_limit"
                else:
                    out.status = "no_plan" if res.time_limit else "error"
                self._say(out, f"MIP round {out.mip_rounds + 1}: no plan found ({res.name})")
                return
            self.link.load_solution()
            out.mip_rounds += 1
            self._tighten(out, res.bound)
            stock, sales, exact = self._chord_gaps()
            over = (sales - exact) * self._sales_coef
            total_over = float(over.sum())
            self._keep_plan(out, res.objective - total_over, sales, exact)
            self._say(out, f"MIP round {out.mip_rounds}: plan {res.objective:,.2f} "
                           f"(exact {res.objective - total_over:,.2f}), "
                           f"bound {res.bound if res.bound is not None else math.inf:,.2f}, {res.name}, "
                           f"{time.perf_counter() - start:.1f}s")
            if self._proven(out):
                out.status = "optimal"
                return
            optimal = res.optimal
            tolerance = self.settings.chord_tolerance_share * self.mip_gap * max(abs(res.objective), 1.0)
            if total_over <= tolerance:
                out.status = "optimal" if optimal else "time_limit"
                return
            added = self._add_chords_at(stock, over > 1e-9)
            out.chords += added
            if added == 0:
                out.status = "optimal" if optimal else "time_limit"
                return
        out.status = "optimal"

    def _keep_plan(self, out: SolveOutcome, exact_profit: float, sales, exact) -> None:
        """Keep the loaded plan if its exact profit beats the best so far this solve."""
        if out.has_plan and exact_profit <= out.model_objective:
            return
        if not out.has_plan:
            out.first_plan_seconds = time.perf_counter() - self._solve_start
            out.first_plan_profit = exact_profit
        out.has_plan = True
        out.model_objective = exact_profit
        out.route_units = pd.Series(self._route_units(), index=self.inst.routes.index)
        self._remember_solution(sales, exact)

    def _remember_solution(self, sales: np.ndarray, exact: np.ndarray) -> None:
        """Keep the plan as the next round's start, with sales cut to exact ES."""
        col = self.link.solution()
        col_of = self.link.col_of
        for k, value in zip(self._pair_keys, np.minimum(sales, exact)):
            col[col_of[id(self.model.sales[k])]] = value
        self._last_solution = col

    def _say(self, out: SolveOutcome, msg: str) -> None:
        out.log.append(msg)
        self.progress(msg)
