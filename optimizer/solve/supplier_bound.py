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
is the LP value less what they lose.  That the LP's solution attains every term needs
HiGHS's duals to be the reduced costs' (``c − Aᵀy`` = its column duals; checked, or no
bound).  Column blocks come from the model's variables:
``cases``, ``sales`` and ``order_placed`` belong to their SKU's supplier,
``supplier_used`` to its supplier; every other column is shared.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from optimizer.solve.highs import lp_arrays, lp_relaxation, max_lp
from optimizer.status import Status

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
                   threads: int | None = None, solution: tuple | None = None) -> SupplierBound:
    """The Lagrangian bound by supplier of ``lp`` (the loaded maximisation model, a
    ``highspy.HighsLp``) at its LP duals; ``blocks`` and ``flags`` per column
    (:func:`column_blocks`).  ``solution``: the LP relaxation's (column values, row
    duals, column duals) when already solved (:meth:`~optimizer.solve.highs.HighsLink.relaxation_solution`);
    else it is solved here, cold."""
    start = time.perf_counter()
    deadline = start + time_limit_s
    arrays = lp_arrays(lp)
    if not arrays.maximize:
        return SupplierBound(None, None, 0, 0, 0.0)
    if solution is None:
        status, solution = lp_relaxation(lp, time_limit_s=time_limit_s, threads=threads)
        if status != Status.OPTIMAL:
            return SupplierBound(None, None, 0, 0, time.perf_counter() - start)
    x, duals, col_duals = solution
    value = float(arrays.cost @ x) + arrays.offset
    A = arrays.matrix
    scale = max(1.0, float(np.abs(arrays.cost).max(initial=0.0)))
    if np.abs(arrays.cost - A.T @ duals - col_duals).max(initial=0.0) > 1e-5 * scale:
        # the duals are not c − Aᵀy = reduced costs in this sign: no bound rather than a wrong one
        return SupplierBound(None, value, 0, 0, time.perf_counter() - start)
    coo = A.tocoo()
    low = np.full(A.shape[0], np.iinfo(np.int64).max)
    high = np.full(A.shape[0], np.iinfo(np.int64).min)
    np.minimum.at(low, coo.row, blocks[coo.col])
    np.maximum.at(high, coo.row, blocks[coo.col])
    coupling = (low != high) | (low == -1)
    priced = _priced(arrays, duals, coupling)
    if priced is None:
        return SupplierBound(None, value, 0, 0, time.perf_counter() - start)
    reduced, constant = priced
    if abs(reduced @ x + constant - value) > TOLERANCE * max(1.0, abs(value)):
        return SupplierBound(None, value, 0, 0, time.perf_counter() - start)
    z = x[flags]
    fractional = np.unique(blocks[flags][(z > TOLERANCE) & (z < 1 - TOLERANCE)])
    own_rows = np.where(coupling, -2, low)
    rows_by_block = A.tocsr()
    loss, split, unreachable = 0.0, 0, 0
    for b in fractional:
        cols = np.flatnonzero(blocks == b)
        rows = np.flatnonzero(own_rows == b)
        sub = rows_by_block[rows][:, cols].tocsc()
        relaxed = float(reduced[cols] @ x[cols])
        best = -math.inf
        for fix in (0.0, 1.0):
            lower, upper = arrays.col_lower[cols].copy(), arrays.col_upper[cols].copy()
            lower[flags[cols]] = upper[flags[cols]] = fix
            got, optimum = max_lp(reduced[cols], sub, lower, upper, arrays.row_lower[rows], arrays.row_upper[rows],
                                  time_limit_s=deadline - time.perf_counter(), threads=threads)
            if got == Status.STOPPED:   # out of time: this supplier keeps its relaxed term (valid)
                best = relaxed
                break
            if got == Status.INFEASIBLE:
                unreachable += fix == 1.0
                continue
            best = max(best, optimum)
        split += 1
        if math.isfinite(best):
            loss += max(0.0, relaxed - best)
        if time.perf_counter() >= deadline:
            break
    return SupplierBound(value - loss, value, split, unreachable, time.perf_counter() - start)


def _priced(arrays, duals, coupling):
    """(reduced costs ``c − Aᵀλ`` over the coupling rows, constant ``λ·b + offset``) with
    the duals' sign as HiGHS reports them for a maximisation; None when a dual points at
    an infinite row bound (no bound to price)."""
    lam = np.where(coupling, duals, 0.0)
    side = np.where(lam > 0, arrays.row_upper, np.where(lam < 0, arrays.row_lower, 0.0))
    if not np.all(np.isfinite(side[lam != 0])):
        return None
    return arrays.cost - arrays.matrix.T @ lam, float(lam @ side) + arrays.offset


__all__ = ["SupplierBound", "column_blocks", "supplier_bound"]
