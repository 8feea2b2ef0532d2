"""The Pyomo model handed to HiGHS as matrices, and kept in step for re-solves.

Pyomo's persistent HiGHS interface walks every constraint expression in Python
when it loads a model, so on a large campaign loading alone takes a sizeable share
of the time limit before HiGHS does any work.  Pyomo's
:class:`LinearStandardFormCompiler` turns the same model into a sparse matrix
several times faster, and ``Highs.passModel`` loads that matrix in a fraction of
the compile time.  This module does that, and then keeps HiGHS in step with the
three ways the solve loop changes the Pyomo model afterwards:

* **new rows** — expected-sales chords added between rounds (:meth:`sync` adds
  every active constraint of the growing components HiGHS has not seen yet);
* **column bounds** — the warm start closes flags and lanes by changing their
  upper bounds (:meth:`sync` re-reads the bounds of the integer columns);
* **mutable parameters** — the budget and the SKU share ``α·budget`` sit only in
  a row's bound, so :meth:`sync` re-evaluates the bounds of those rows.

Rows come out of the compiler as ``body ≤ rhs`` (``bound_type`` 1), ``≥`` (−1)
or ``=`` (0), a ranged constraint as two rows; the objective keeps its sense.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from highspy._core import _Highs
from pyomo.repn import generate_standard_repn
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimizer.model import gc_paused
from optimizer.status import Status

INF = highspy.kHighsInf


@dataclass
class Rows:
    """Rows of an LP, HiGHS row-wise: ``lower ≤ Σ value·x[index] ≤ upper``."""

    lower: np.ndarray
    upper: np.ndarray
    starts: np.ndarray
    index: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.lower)

    @staticmethod
    def concat(batches: list[Rows]) -> Rows | None:
        batches = [b for b in batches if b is not None and len(b)]
        if not batches:
            return None
        offsets = np.cumsum([0] + [len(b.index) for b in batches[:-1]])
        return Rows(np.concatenate([b.lower for b in batches]), np.concatenate([b.upper for b in batches]),
                    np.concatenate([b.starts + o for b, o in zip(batches, offsets)]).astype(np.int32),
                    np.concatenate([b.index for b in batches]).astype(np.int32),
                    np.concatenate([b.value for b in batches]))


def new_highs(threads: int | None = None, *, interruptible: bool = False) -> highspy.Highs:
    """A silent HiGHS instance; ``interruptible``: one that Ctrl-C can stop mid-run
    (:func:`run_interruptible`; its interrupt callbacks cost a little time per iteration)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if threads:
        h.setOptionValue("threads", int(threads))
    if interruptible:
        # This instance's own stop request.  HiGHS keeps the interrupt flag a callback
        # set, so every check answers afresh: stop while a stop is requested, else go on
        # (a persistent model, the explorer's, stays usable after a cancelled run).
        stop = h.stop_requested = threading.Event()

        def check(event, stop=stop) -> None:
            event.interrupt(stop.is_set())

        for event in (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt):
            event += check
    return h


def run_interruptible(h: highspy.Highs) -> None:
    """``h.run()`` in a worker thread, so that Ctrl-C reaches Python while HiGHS works.

    On Ctrl-C (or the ``KeyboardInterrupt`` a newer explorer request sends) HiGHS is
    asked to stop at its next check (``h.stop_requested``, see :func:`new_highs`); the
    call waits for it to return and then raises ``KeyboardInterrupt``, so the caller
    still holds the best plan found so far.  The worker and its events belong to this
    call alone (not highspy's process-wide solver lock), so an interrupt arriving at any
    moment can never leave a later run "already running".
    """
    stop = h.stop_requested
    stop.clear()
    started, done = threading.Event(), threading.Event()

    def solve() -> None:
        started.set()
        try:
            _CORE_RUN(h)
        finally:
            done.set()

    worker = threading.Thread(target=solve, name="highs-run", daemon=True)
    try:
        worker.start()
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        stop.set()
        if started.wait(5.0):   # the worker runs (or is about to): let HiGHS stop, then return
            while not done.wait(0.1):
                pass
        raise


#: HiGHS's own blocking run (it releases the GIL): what highspy's threaded wrapper calls.
_CORE_RUN = _Highs.run


def _set_matrix(lp, matrix) -> None:
    """Put ``matrix`` (scipy CSC, rows × columns) into ``lp`` (a ``highspy.HighsLp``)."""
    a = lp.a_matrix_
    a.format_ = highspy.MatrixFormat.kColwise
    a.start_ = matrix.indptr.astype(np.int32)
    a.index_ = matrix.indices.astype(np.int32)
    a.value_ = matrix.data.astype(float)
    a.num_row_, a.num_col_ = matrix.shape


def set_run_time_limit(h: highspy.Highs, seconds: float, *, mip: bool) -> None:
    """Give the next ``h.run()`` ``seconds`` of time (at least 0.01).

    HiGHS (1.15) reads ``time_limit`` on two clocks: an LP stops when the model's run
    clock, which adds up every run of this ``Highs`` object (``getRunTime()``), reaches
    it; a MIP stops when its own solve's clock does.  So an LP's limit is offset by the
    time already run and a MIP's is not; either way the run gets ``seconds``.
    """
    seconds = max(float(seconds), 0.01)
    h.setOptionValue("time_limit", seconds if mip else h.getRunTime() + seconds)


class HighsLink:
    """One Pyomo model loaded in one ``highspy.Highs``."""

    def __init__(self, model: pyo.ConcreteModel, param_rows: list | None = None,
                 growing: list | None = None, threads: int | None = None):
        """``param_rows``: constraints whose bounds hold mutable parameters;
        ``growing``: the constraint components that get new members between
        solves (None = look through the whole model)."""
        self.model = model
        self.growing = growing
        self.h = new_highs(threads, interruptible=True)
        with gc_paused():  # the compiler allocates a repn per row (see gc_paused)
            form = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
        self.columns = list(form.columns)
        self.col_of = {id(v): j for j, v in enumerate(self.columns)}
        self._integer = np.array([v.is_integer() for v in self.columns])
        self._int_cols = np.flatnonzero(self._integer).astype(np.int32)
        self._int_vars = [self.columns[j] for j in self._int_cols]
        self._seen = set()
        self.added: list[Rows] = []  # every batch of rows added after loading, in order
        self._relaxed = False
        self._param_rows = []  # (row, bound_type, constraint, offset)
        # (constraint component name, index) of each row loaded from the model
        self.row_keys = [(row.constraint.parent_component().name, row.constraint.index()) for row in form.rows]
        tracked = {id(c) for comp in (param_rows or []) for c in comp.values()}
        for i, row in enumerate(form.rows):
            con = row.constraint
            self._seen.add(id(con))
            if id(con) in tracked:
                bound = con.upper if row.bound_type == 1 else con.lower
                self._param_rows.append((i, row.bound_type, con, float(form.rhs[i]) - pyo.value(bound)))
        self._pass(form)

    # ------------------------------------------------------------------ load
    def _pass(self, form) -> None:
        A = form.A.tocsc()
        n_col, n_row = A.shape[1], A.shape[0]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_col, n_row
        sense = form.objectives[0].sense if form.objectives else pyo.minimize
        lp.sense_ = highspy.ObjSense.kMaximize if sense == pyo.maximize else highspy.ObjSense.kMinimize
        lp.offset_ = float(form.c_offset[0]) if len(form.c_offset) else 0.0
        lp.col_cost_ = np.asarray(form.c.toarray()[0] if form.c.shape[0] else np.zeros(n_col), float)
        lower, upper = self._column_bounds(self.columns)
        lp.col_lower_, lp.col_upper_ = lower, upper
        rhs = np.asarray(form.rhs, float)
        kind = np.array([r.bound_type for r in form.rows])
        lp.row_lower_ = np.where(kind <= 0, rhs, -INF)
        lp.row_upper_ = np.where(kind >= 0, rhs, INF)
        _set_matrix(lp, A)
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in self._integer]
        self.h.passModel(lp)

    @staticmethod
    def _column_bounds(variables) -> tuple[np.ndarray, np.ndarray]:
        lower = np.array([-INF if v.lb is None else v.lb for v in variables], float)
        upper = np.array([INF if v.ub is None else v.ub for v in variables], float)
        return lower, upper

    # ------------------------------------------------------------------ sync
    def sync(self) -> None:
        """Bring HiGHS in step with the Pyomo model (new rows, bounds, parameters)."""
        self.add_new_rows()
        if len(self._int_cols):
            lower, upper = self._column_bounds(self._int_vars)
            self.h.changeColsBounds(len(self._int_cols), self._int_cols, lower, upper)
        for i, kind, con, offset in self._param_rows:
            value = pyo.value(con.upper if kind == 1 else con.lower) + offset
            lo, up = (value, value) if kind == 0 else ((-INF, value) if kind == 1 else (value, INF))
            self.h.changeRowBounds(i, lo, up)

    def add_new_rows(self) -> Rows | None:
        """Add the rows (chords) new in the growing components; return them."""
        lower, upper, starts, index, value = [], [], [], [], []
        if self.growing is None:
            candidates = self.model.component_data_objects(pyo.Constraint, active=True)
        else:
            candidates = (c for comp in self.growing for c in comp.values() if c.active)
        for con in candidates:
            if id(con) in self._seen:
                continue
            self._seen.add(id(con))
            repn = generate_standard_repn(con.body, compute_values=True, quadratic=False)
            const = float(repn.constant)
            starts.append(len(index))
            index.extend(self.col_of[id(v)] for v in repn.linear_vars)
            value.extend(float(c) for c in repn.linear_coefs)
            lower.append(-INF if con.lower is None else pyo.value(con.lower) - const)
            upper.append(INF if con.upper is None else pyo.value(con.upper) - const)
        if not lower:
            return None
        rows = Rows(np.array(lower), np.array(upper), np.array(starts, dtype=np.int32),
                    np.array(index, dtype=np.int32), np.array(value, float))
        self.h.addRows(len(rows), rows.lower, rows.upper, len(rows.index), rows.starts,
                       rows.index, rows.value)
        self.added.append(rows)
        return rows

    # ----------------------------------------------------------------- solve
    def run(self, *, relaxation: bool, time_limit: float, mip_gap: float,
            options: dict | None = None, start: np.ndarray | None = None) -> RunResult:
        h = self.h
        self._set_relaxed(relaxation)
        set_run_time_limit(h, time_limit, mip=not relaxation)
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        for key, val in (options or {}).items():
            h.setOptionValue(key, val)
        if start is not None and len(start) == h.getNumCol():
            sol = highspy.HighsSolution()
            sol.col_value = list(start)
            sol.value_valid = True
            h.setSolution(sol)
        began = time.perf_counter()
        run_interruptible(h)
        seconds = time.perf_counter() - began
        status = h.getModelStatus()
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
        objective = info.objective_function_value if has_solution else None
        if relaxation:
            bound = objective if status == highspy.HighsModelStatus.kOptimal else None
        else:
            bound = info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else None
        return RunResult(status, has_solution, objective, bound, seconds)

    def _set_relaxed(self, relaxed: bool) -> None:
        """Drop (or restore) integrality.  A plain LP keeps its simplex basis, so an
        LP round after new chords re-solves warm from it; HiGHS's
        ``solve_relaxation`` option re-solves from scratch every time."""
        if relaxed == self._relaxed or not len(self._int_cols):
            self._relaxed = relaxed
            return
        kind = np.zeros if relaxed else np.ones
        self.h.changeColsIntegrality(len(self._int_cols), self._int_cols,
                                     kind(len(self._int_cols), dtype=np.uint8))
        self._relaxed = relaxed

    def relaxation_solution(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(column values, row duals, column duals) of the last run when it solved the LP
        relaxation to optimality and the model has not changed since; else None."""
        h = self.h
        if not self._relaxed or h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        solution = h.getSolution()
        if not solution.dual_valid or len(solution.row_dual) != h.getNumRow():
            return None
        return (np.asarray(solution.col_value, float), np.asarray(solution.row_dual, float),
                np.asarray(solution.col_dual, float))

    def lp(self):
        """The model as loaded in HiGHS (a ``highspy.HighsLp``), e.g. to copy into a :class:`NodeRelaxation`.

        Its column bounds are those of the last :meth:`sync`: bounds a context changed in
        Pyomo and has since restored (the restricted start's closures) stay here until the
        next sync, so read it as a relaxation only before such a context or after a sync."""
        return self.h.getModel().lp_

    def solution(self) -> np.ndarray:
        """HiGHS's column values of the last run."""
        return np.asarray(self.h.getSolution().col_value, float)

    def load_solution(self) -> np.ndarray:
        """Copy HiGHS's column values into the Pyomo variables; return them."""
        x = np.asarray(self.h.getSolution().col_value, float)
        for v, value in zip(self.columns, x):
            v.set_value(value, skip_validation=True)
        return x

    def size(self) -> tuple[int, int]:
        return self.h.getNumCol(), self.h.getNumRow()


def solve_once(model: pyo.ConcreteModel, *, time_limit: float, threads: int | None = None,
               mip_gap: float = 1e-4) -> RunResult:
    """One complete HiGHS run of ``model`` (the service diagnosis' models): loaded as
    matrices, solved to ``mip_gap`` (HiGHS's default), and its solution, when there is
    one, copied into the Pyomo variables."""
    link = HighsLink(model, threads=threads)
    result = link.run(relaxation=False, time_limit=time_limit, mip_gap=mip_gap)
    if result.has_solution:
        link.load_solution()
    return result


class NodeRelaxation:
    """A loaded model's LP relaxation in its own HiGHS instance: the node LP of a branch and bound.

    Every integrality of ``lp`` (a ``highspy.HighsLp``) is dropped; each :meth:`solve`
    sets the bounds of some columns (the node) and re-solves warm from the last basis.
    """

    def __init__(self, lp, *, threads: int | None = None):
        h = self._h = new_highs(threads)
        h.passModel(lp)
        n = lp.num_col_
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.int32))
        self.col_lower = np.asarray(lp.col_lower_, float)
        self.col_upper = np.asarray(lp.col_upper_, float)

    def add_rows(self, rows: Rows) -> None:
        """Add valid rows (cuts)."""
        self._h.addRows(len(rows), rows.lower, rows.upper, len(rows.index), rows.starts,
                        rows.index, rows.value)

    def solve(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray,
              time_limit_s: float) -> tuple[Status, float | None, np.ndarray | None]:
        """Solve with ``cols`` bounded to [lower, upper]: ``(status, objective, values of cols)``.

        ``status`` is ``optimal``, ``infeasible`` or ``stopped`` (the time limit or a
        numerical failure: no value).
        """
        h = self._h
        set_run_time_limit(h, time_limit_s, mip=False)
        h.changeColsBounds(len(cols), cols, lower, upper)
        h.run()  # node LPs are short: Ctrl-C takes effect as soon as one returns
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return Status.INFEASIBLE, None, None
        if status != highspy.HighsModelStatus.kOptimal:
            return Status.STOPPED, None, None
        x = np.asarray(h.getSolution().col_value)[cols]
        return Status.OPTIMAL, h.getInfo().objective_function_value, x


class RunResult:
    """What one HiGHS run ended with: HiGHS's model status (``status``, its name the
    termination reason), the project's :class:`~optimizer.status.Status` of it
    (``outcome``), the objective of the solution it holds and the proven bound."""

    def __init__(self, status, has_solution: bool, objective: float | None, bound: float | None,
                 seconds: float):
        self.status = status
        self.seconds = seconds
        self.has_solution = has_solution
        self.objective = objective
        self.bound = bound

    @property
    def optimal(self) -> bool:
        return self.status == highspy.HighsModelStatus.kOptimal

    @property
    def infeasible(self) -> bool:
        return self.status in (highspy.HighsModelStatus.kInfeasible,
                               highspy.HighsModelStatus.kUnboundedOrInfeasible)

    @property
    def time_limit(self) -> bool:
        return self.status == highspy.HighsModelStatus.kTimeLimit

    @property
    def name(self) -> str:
        """HiGHS's words for why the run ended (``kTimeLimit``, ``kInterrupt``, …)."""
        return self.status.name

    @property
    def outcome(self) -> Status:
        """The run as a :class:`~optimizer.status.Status`."""
        if self.optimal:
            return Status.OPTIMAL
        if self.infeasible:
            return Status.INFEASIBLE
        if self.status == highspy.HighsModelStatus.kInterrupt:
            return Status.INTERRUPTED if self.has_solution else Status.NO_PLAN
        if self.time_limit:
            return Status.TIME_LIMIT if self.has_solution else Status.NO_PLAN
        return Status.ERROR


@dataclass
class LpArrays:
    """A loaded model's arrays (of a ``highspy.HighsLp``): the matrix by columns, bounds, costs."""

    matrix: sp.csc_matrix
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float
    maximize: bool


def lp_arrays(lp) -> LpArrays:
    """The arrays of ``lp`` (a ``highspy.HighsLp``, e.g. :meth:`HighsLink.lp`)."""
    n_col, n_row = lp.num_col_, lp.num_row_
    a = lp.a_matrix_
    matrix = sp.csc_matrix((np.asarray(a.value_, float), np.asarray(a.index_), np.asarray(a.start_)),
                           shape=(n_row, n_col))
    return LpArrays(matrix, np.asarray(lp.col_cost_, float), np.asarray(lp.col_lower_, float),
                    np.asarray(lp.col_upper_, float), np.asarray(lp.row_lower_, float),
                    np.asarray(lp.row_upper_, float), float(lp.offset_),
                    lp.sense_ == highspy.ObjSense.kMaximize)


def lp_relaxation(lp, *, time_limit_s: float, threads: int | None = None):
    """Solve ``lp``'s LP relaxation (integrality dropped) in its own HiGHS instance:
    ``(status, (column values, row duals, column duals))``, the solution None unless optimal."""
    h = new_highs(threads)
    h.passModel(lp)
    n = lp.num_col_
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.int32))
    set_run_time_limit(h, max(time_limit_s, 0.0), mip=False)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return Status.INFEASIBLE if status == highspy.HighsModelStatus.kInfeasible else Status.STOPPED, None
    solution = h.getSolution()
    return Status.OPTIMAL, (np.asarray(solution.col_value, float), np.asarray(solution.row_dual, float),
                            np.asarray(solution.col_dual, float))


def max_lp(cost: np.ndarray, matrix: sp.csc_matrix, col_lower: np.ndarray, col_upper: np.ndarray,
           row_lower: np.ndarray, row_upper: np.ndarray, *, time_limit_s: float,
           threads: int | None = None) -> tuple[Status, float | None]:
    """``max cost·x`` over ``row_lower ≤ matrix·x ≤ row_upper``, ``col_lower ≤ x ≤ col_upper``
    (a small LP given as arrays): ``(status, objective)``."""
    n_row, n_col = matrix.shape
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, n_row
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.asarray(cost, float)
    lp.col_lower_, lp.col_upper_ = np.asarray(col_lower, float), np.asarray(col_upper, float)
    lp.row_lower_, lp.row_upper_ = np.asarray(row_lower, float), np.asarray(row_upper, float)
    _set_matrix(lp, matrix)
    h = new_highs(threads)
    h.passModel(lp)
    set_run_time_limit(h, max(time_limit_s, 0.0), mip=False)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return Status.INFEASIBLE, None
    if status != highspy.HighsModelStatus.kOptimal:
        return Status.STOPPED, None
    return Status.OPTIMAL, float(h.getInfo().objective_function_value)
