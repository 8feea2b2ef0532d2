"""A tighter proven bound where supplier minimums bind: the Lagrangian bound by supplier.

Why: the LP relaxation ignores a supplier's minimum order value.  Its flag ``z[f]``
costs nothing, so the LP sets it to a fraction just large enough for what it orders
(``ordered ≤ U·z``) and ``min_order_value·z ≤ value`` is then met at any value: a
supplier worth ordering 2,000 from below a 10,000 minimum counts in the LP bound in
full, where a plan must order 0 or 10,000.  On a catalogue where most suppliers have a
minimum that binds, this is most of the LP's excess over the best plan, and HiGHS's
branch and bound closes it slowly (one supplier at a time).

What: with the LP's row duals ``λ`` on the rows that couple suppliers (a row is
**coupling** when its columns belong to more than one supplier or to none: the budget,
cash, space and lane rows, the shipment counts), the problem falls apart by supplier:

    L(λ) = Σ_f max_{x_f ∈ X_f} (c_f − A_fᵀλ)·x_f + Σ_shared max (c − Aᵀλ)·x + λ·b

``X_f`` the supplier's own rows (MOQs, its minimum, its SKUs' sales chords) with its
integrality relaxed **except its flag** ``z[f] ∈ {0, 1}``.  ``L(λ)`` is an upper bound
on the model's optimum for any ``λ`` of the right sign (Lagrangian relaxation), so on
the best plan's exact profit too (the model's chords over-estimate ES).  At the LP's own
duals, ``L(λ)`` with ``z`` relaxed is the LP value (strong duality; checked, or no
bound), and the LP's solution attains every supplier's term — so only the suppliers
whose ``z`` the LP leaves fractional need solving, each as two small LPs (``z = 0``,
``z = 1``; infeasible at 1: the supplier cannot reach its minimum at all), and the bound
is the LP value less what they lose.  Column blocks come from the model's variables:
``cases``, ``sales`` and ``order_placed`` belong to their SKU's supplier,
``supplier_used`` to its supplier; every other column is shared.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from optimizer.solve.highs import new_highs, set_run_time_limit

TOLERANCE = 1e-6   # relative agreement of L(λ) with the LP value; a flag this close to 0 or 1 is whole
BLOCK_COMPONENTS = ("cases", "sales", "order_placed")


@dataclass
class SupplierBound:
    bound: float | None    # valid upper bound (None: the LP did not solve, or the check failed)
    lp_value: float | None
    suppliers_split: int   # suppliers whose fractional flag was split into 0 and 1
    unreachable: int       # of those, suppliers that cannot reach their minimum at all
    seconds: float


def column_blocks(columns, supplier_of: dict) -> tuple[np.ndarray, np.ndarray]:
    """(block id per column, −1 shared; which columns are supplier flags ``z``)."""
    ids: dict = {}
    blocks = np.full(len(columns), -1, dtype=np.int64)
    flags = np.zeros(len(columns), bool)
    for j, v in enumerate(columns):
        name, idx = v.parent_component().name, v.index()
        if name in BLOCK_COMPONENTS:
            sku = idx[0] if isinstance(idx, tuple) else idx
            blocks[j] = ids.setdefault(supplier_of[sku], len(ids))
        elif name == "supplier_used":
            blocks[j] = ids.setdefault(idx, len(ids))
            flags[j] = True
    return blocks, flags


def supplier_bound(lp, blocks: np.ndarray, flags: np.ndarray, *, time_limit_s: float,
                   threads: int | None = None) -> SupplierBound:
    """The Lagrangian bound by supplier of ``lp`` (the loaded maximisation model, a
    ``highspy.HighsLp``) at its LP duals; ``blocks`` and ``flags`` per column
    (:func:`column_blocks`)."""
    start = time.perf_counter()
    deadline = start + time_limit_s
    if lp.sense_ != highspy.ObjSense.kMaximize:
        return SupplierBound(None, None, 0, 0, 0.0)
    n_col, n_row = lp.num_col_, lp.num_row_
    A = sp.csc_matrix((np.asarray(lp.a_matrix_.value_), np.asarray(lp.a_matrix_.index_),
                       np.asarray(lp.a_matrix_.start_)), shape=(n_row, n_col))
    h = new_highs(threads)
    h.passModel(lp)
    h.changeColsIntegrality(n_col, np.arange(n_col, dtype=np.int32), np.zeros(n_col, dtype=np.int32))
    set_run_time_limit(h, max(deadline - time.perf_counter(), 0.0), mip=False)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return SupplierBound(None, None, 0, 0, time.perf_counter() - start)
    value = float(h.getInfo().objective_function_value)
    x = np.asarray(h.getSolution().col_value, float)
    duals = np.asarray(h.getSolution().row_dual, float)
    coo = A.tocoo()
    low = np.full(n_row, np.iinfo(np.int64).max)
    high = np.full(n_row, np.iinfo(np.int64).min)
    np.minimum.at(low, coo.row, blocks[coo.col])
    np.maximum.at(high, coo.row, blocks[coo.col])
    coupling = (low != high) | (low == -1)
    row_lower, row_upper = np.asarray(lp.row_lower_, float), np.asarray(lp.row_upper_, float)
    priced = _priced(A, np.asarray(lp.col_cost_, float), duals, coupling, row_lower, row_upper, lp.offset_)
    if priced is None:
        return SupplierBound(None, value, 0, 0, time.perf_counter() - start)
    reduced, constant = priced
    if abs(reduced @ x + constant - value) > TOLERANCE * max(1.0, abs(value)):
        return SupplierBound(None, value, 0, 0, time.perf_counter() - start)
    z = x[flags]
    fractional = np.unique(blocks[flags][(z > TOLERANCE) & (z < 1 - TOLERANCE)])
    own_rows = np.where(coupling, -2, low)
    loss, split, unreachable = 0.0, 0, 0
    col_lower, col_upper = np.asarray(lp.col_lower_, float), np.asarray(lp.col_upper_, float)
    for b in fractional:
        cols = np.flatnonzero(blocks == b)
        rows = np.flatnonzero(own_rows == b)
        relaxed = float(reduced[cols] @ x[cols])
        best = -math.inf
        for fix in (0.0, 1.0):
            got = _block_optimum(A, cols, rows, reduced, col_lower, col_upper, row_lower, row_upper,
                                 flags, fix, deadline, threads)
            if got is None:     # out of time: this supplier keeps its relaxed term (valid)
                best = relaxed
                break
            if got == -math.inf and fix == 1.0:
                unreachable += 1
            best = max(best, got)
        split += 1
        if math.isfinite(best):
            loss += max(0.0, relaxed - best)
        if time.perf_counter() >= deadline:
            break
    return SupplierBound(value - loss, value, split, unreachable, time.perf_counter() - start)


def _priced(A, cost, duals, coupling, row_lower, row_upper, offset):
    """(reduced costs ``c − Aᵀλ`` over the coupling rows, constant ``λ·b + offset``) with
    the duals' sign as HiGHS reports them for a maximisation; None when a dual points at
    an infinite row bound (no bound to price)."""
    lam = np.where(coupling, duals, 0.0)
    side = np.where(lam > 0, row_upper, np.where(lam < 0, row_lower, 0.0))
    if not np.all(np.isfinite(side[lam != 0])):
        return None
    return cost - A.T @ lam, float(lam @ side) + float(offset)


def _block_optimum(A, cols, rows, reduced, col_lower, col_upper, row_lower, row_upper, flags, fix,
                   deadline, threads) -> float | None:
    """max over one supplier's own rows of its reduced-cost objective with its flag
    fixed at ``fix`` (−inf: infeasible; None: out of time)."""
    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    sub = A[:, cols].tocsr()[rows].tocsc()
    lower, upper = col_lower[cols].copy(), col_upper[cols].copy()
    is_flag = flags[cols]
    lower[is_flag], upper[is_flag] = fix, fix
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cols), len(rows)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = reduced[cols]
    lp.col_lower_, lp.col_upper_ = lower, upper
    lp.row_lower_, lp.row_upper_ = row_lower[rows], row_upper[rows]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = sub.indptr.astype(np.int32)
    lp.a_matrix_.index_ = sub.indices.astype(np.int32)
    lp.a_matrix_.value_ = sub.data.astype(float)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(cols), len(rows)
    h = new_highs(threads)
    h.passModel(lp)
    set_run_time_limit(h, left, mip=False)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return -math.inf
    if status != highspy.HighsModelStatus.kOptimal:
        return None
    return float(h.getInfo().objective_function_value)


__all__ = ["SupplierBound", "column_blocks", "supplier_bound"]
