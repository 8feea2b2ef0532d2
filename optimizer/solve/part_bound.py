"""One part's term of the Lagrangian bound on a campaign planned in parts.

A campaign split by supplier (:mod:`optimizer.workflows.partition`) is one model

    max c·x   s.t.   A x ≤ b  (the coupling rows),   x_p ∈ X_p for every part p

whose **coupling rows** are those that sum over parts: the budget, the cash limits,
warehouse space and lane space (:data:`COUPLING`).  Everything else belongs to one
part's suppliers (MOQs, minimum order values, capacities, sales chords, service and
share caps) — except a lane's shipment count ``n_l``, which every part on the lane
shares.  Each part gets its own copy ``n_l^p`` with ``n_l^p ≤ n_l`` (its container
and lane-use rows hold with the copy: its volume is part of the lane's), so with
prices ``λ ≥ 0`` on the coupling rows and ``μ_l^p = −w_l^p·ĉ_l`` on the copies
(``ĉ_l = c_l − A_lᵀλ ≤ 0`` the lane count's priced cost, ``w ≥ 0``, ``Σ_p w_l^p ≤ 1``):

    L(λ) = Σ_p max_{x_p ∈ X_p} [ (c − Aᵀλ)·x_p  with each count's cost w_l^p·ĉ_l ]  +  λ·b

is an upper bound on the campaign's optimum (Lagrangian relaxation: the shared
count's own term ``max_n ĉ_l·(1 − Σ_p w_l^p)·n`` is 0).  A container lane's counts
are priced the other way: its container row ``Σ_p volume_p − shipment_m3·n_l ≤ 0`` at
``ν_l = −ĉ_l / shipment_m3`` (each part pays ``ν_l`` per m³ it puts on the lane, its
copy of the count is free, and the shared count's term ``(ĉ_l + ν_l·shipment_m3)·n_l``
is 0) — what the whole campaign's LP relaxation pays for containers.  The weights ``w``
are for the lanes with a fee per use.  Each part's term is bounded
above by its LP relaxation with any chords (they over-estimate ES), so an LP value
per part is enough; chords added where the LP's stock over-estimates sales tighten
it, and where the part's suppliers have minimum order values the supplier split of
:mod:`optimizer.solve.supplier_bound` tightens it further.  The part's model must be
built on the **whole** campaign's budget, cash limits and space (not on its shares):
its route bounds are derived from them and must hold for the whole campaign.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimizer.prep.instance import Instance
from optimizer.solve.chords import SalesChords
from optimizer.solve.highs import INF, HighsLink, lp_arrays
from optimizer.solve.supplier_bound import column_blocks, supplier_bound

#: The constraint components whose rows sum over the parts of a split campaign.
COUPLING = ("budget_limit", "cash_row", "space_limit", "lane_capacity_limit")
MAX_LP_ROUNDS = 8
CHORD_TOLERANCE = 1e-5   # stop adding chords when the over-estimate is below this share of the value


def coupling_keys(link: HighsLink) -> tuple[np.ndarray, list]:
    """(row positions, keys) of the coupling rows of a loaded model; a key is
    ``(component name, index)``, the same in every part of a campaign."""
    rows = [i for i, (name, _) in enumerate(link.row_keys) if name in COUPLING]
    return np.array(rows, dtype=np.int64), [link.row_keys[i] for i in rows]


def coupling_duals(link: HighsLink) -> dict | None:
    """The last LP relaxation's duals on the coupling rows (key → dual, ≥ 0 for a binding
    ``≤`` row of the maximisation), or None when the link holds no optimal LP solution."""
    solution = link.relaxation_solution()
    if solution is None:
        return None
    rows, keys = coupling_keys(link)
    return {key: float(solution[1][i]) for i, key in zip(rows, keys)}


@dataclass
class TermValue:
    """A part's term at one set of prices."""

    value: float | None   # upper bound on the term (None: its LP did not solve in time)
    activity: dict        # key → the LP solution's use of each coupling row (A_p x)


class PartTerm:
    """A part's model loaded in HiGHS with its coupling rows freed, priced at will.

    ``model`` and ``inst`` are the part built on the whole campaign's budget, cash
    limits and space.
    """

    def __init__(self, model: pyo.ConcreteModel, inst: Instance, *, threads: int | None = None):
        self.threads = threads
        self.chords = SalesChords(model, inst)
        self.link = HighsLink(model, growing=[model.sales_chord], threads=threads)
        arrays = lp_arrays(self.link.lp())
        self.rows, self.keys = coupling_keys(self.link)
        if np.any(np.isfinite(arrays.row_lower[self.rows])):
            raise ValueError("a coupling row has a lower bound: only ≤ rows can be priced")
        self.rhs = {key: float(arrays.row_upper[i]) for i, key in zip(self.rows, self.keys)}
        matrix = arrays.matrix.tocsr()
        self.coupling = matrix[self.rows, :]
        self.cost = arrays.cost
        vmap = self.link.col_of
        self.lane_columns = {lane: vmap[id(model.shipments[lane])] for lane in model.FIXED_COST_LANES}
        fill_rows = {key[1]: i for i, key in enumerate(self.link.row_keys) if key[0] == "container_fill"}
        self.container_m3 = {}   # container lane → (its volume coefficients as a row, shipment_m3)
        for lane, i in fill_rows.items():
            row = matrix[i].toarray().ravel()
            m3 = -row[self.lane_columns[lane]]
            row[self.lane_columns[lane]] = 0.0
            self.container_m3[lane] = (row, m3)
        n = len(self.rows)
        if n:
            self.link.h.changeRowsBounds(n, self.rows.astype(np.int32), np.full(n, -INF), np.full(n, INF))
        # the supplier bound's column blocks, where suppliers have minimum order values
        self.blocks = (column_blocks(self.link.columns, inst.skus["supplier"].to_dict())
                       if len(model.MIN_VALUE_SUPPLIERS) else None)

    def evaluate(self, prices: dict, lane_weights: dict, *, time_limit_s: float,
                 split_suppliers: bool = False) -> TermValue:
        """The term at ``prices`` (key → λ ≥ 0; missing keys 0) with each lane's count
        paid at ``lane_weights[lane]`` (missing lanes: 0) of its priced cost."""
        deadline = time.perf_counter() + time_limit_s
        lam = np.array([max(0.0, float(prices.get(key, 0.0))) for key in self.keys])
        cost = self.cost - self.coupling.T @ lam
        for lane, j in self.lane_columns.items():
            if lane in self.container_m3:   # the lane's container row priced at its priced container cost per m³
                volume, m3 = self.container_m3[lane]
                cost += (cost[j] / m3) * volume
                cost[j] = 0.0
            else:
                cost[j] *= max(0.0, float(lane_weights.get(lane, 0.0)))
        h = self.link.h
        h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        best, x = None, None
        for rounds in range(1, MAX_LP_ROUNDS + 1):
            res = self.link.run(relaxation=True, time_limit=deadline - time.perf_counter(), mip_gap=0.0)
            if not res.optimal:
                break
            x = self.link.load_solution()
            best = res.objective if best is None else min(best, res.objective)
            stock, over = self.chords.over_estimate()
            if rounds == MAX_LP_ROUNDS or over.sum() <= CHORD_TOLERANCE * max(abs(res.objective), 1.0):
                break
            if not self.chords.add_at(stock, over > 1e-9) or time.perf_counter() >= deadline:
                break
            self.link.add_new_rows()
        if x is None:
            return TermValue(None, {})
        activity = dict(zip(self.keys, (self.coupling @ x).tolist()))
        solution = self.link.relaxation_solution() if split_suppliers and self.blocks is not None else None
        if solution is not None:
            result = supplier_bound(self.link.lp(), *self.blocks, threads=self.threads, solution=solution,
                                    time_limit_s=max(0.0, deadline - time.perf_counter()))
            if result.bound is not None:
                best = min(best, result.bound)
        return TermValue(best, activity)


__all__ = ["COUPLING", "PartTerm", "TermValue", "coupling_duals", "coupling_keys"]
