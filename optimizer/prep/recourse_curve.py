"""The two-stage plan's priced relaxation: stage 1 as an ordinary instance whose sales curve
holds the value of a top-up (SPEC §8).

Relax the two-stage problem in three ways, each of which can only raise its optimum:

* a top-up is continuous and pays no fixed cost (no cases, MOQ, supplier minimum or
  shipment);
* every row that ties a scenario's top-ups together — space, lanes, supplier capacity,
  cash limits, SKU share, service — is dropped, except the budget;
* the budget row of each scenario k, ``spend1 + spend2[k] ≤ B``, is priced with the
  multiplier ``π_k·λ_k`` (``λ_k ≥ 0``, one price per scenario; Lagrangian relaxation).

What is left splits by pair.  With ``m`` the value of a sale (``sales_coef``), ``v`` of a
unit held (``stock_coef``) and ``c2`` the pair's cheapest landed cost from the recourse
date, a top-up ``t`` in scenario k adds ``m·(ES_k(a + t) − ES_k(a)) − ((1+λ_k)·c2 − v)·t``, best
at ``t = (q_k − a)⁺`` with ``q_k = F_k⁻¹(1 − r_k)``, ``r_k = ((1+λ_k)·c2 − v)/m`` (no top-up
when ``r_k ≥ 1``, ``m ≤ 0`` or the pair has no stage-2 route).  Stage 1 then sees the
*recourse sales curve*

    G(a) = Σ_k π_k [ ES_k(max(a, q_k)) − r_k·(q_k − a)⁺ ],

concave, nondecreasing, of slope ``G'(a) = Σ_k π_k·min(r_k, P(D_k > a)) ≤ 1``: a sales
curve of :mod:`optimizer.prep.sales_curve`.  With ``λ̄ = Σ_k π_k λ_k`` the relaxation is
the ordinary model of stage 1 with G in place of ES and every value divided by ``1 + λ̄``:

    R(λ) = (1 + λ̄)·max{ Σ [m'·G(a) + v'·a − penalty'·E[D]] − spend1 } + λ̄·B,
    m' = m/(1+λ̄), v' = v/(1+λ̄), penalty' = penalty/(1+λ̄), E[D] = Σ_k π_k E_k[D],

which the one-stage solve pipeline handles as it is; ``R(λ)`` at HiGHS's bound is a valid
bound on the two-stage optimum for every ``λ ≥ 0``, and its plan is a feasible stage 1.

The prices that make the bound tight are each scenario's price of the reserve:
:func:`reserve_prices` gives, for a stage-1 stock, the smallest ``λ_k`` at which scenario
k's top-ups fit in what stage 1 left (a continuous knapsack per scenario, by bisection).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from optimizer.prep.expected_sales import expected_sales, quantile, stockout_probability
from optimizer.prep.instance import Instance
from optimizer.prep.recourse import TwoStage
from optimizer.prep.recourse_hull import HullRecourseCurve, hull_points, hull_recourse_curve

#: Points of the slope table :meth:`RecourseCurve.level` interpolates (a start's accuracy).
LEVEL_POINTS = 48


@dataclass(frozen=True, eq=False)
class RecourseCurve:
    """G of the module docstring for the pairs of one instance (positions of its pairs table).

    A top-up is at most ``cap``, the units stage 2's routes may bring to the pair (their
    bounds hold in some optimal plan), so G stays finite where holding a unit pays by
    itself (``r ≤ 0``): ``t_k = clip(q_k − a, 0, cap)``, ``G = Σ_k π_k [ES_k(a + t_k) − r_k·t_k]``,
    still concave (the best of a concave function over an interval).
    """

    column: np.ndarray  # per instance pair: its column of the scenario matrices, −1 without demand
    probabilities: np.ndarray  # (K,)
    mean: np.ndarray  # (K, P) scenario demand
    sd: np.ndarray
    dist: np.ndarray
    ratio: np.ndarray  # (K, n): r_k per scenario and instance pair, inf where a top-up never pays
    top: np.ndarray  # (K, n): q_k, −inf where no top-up, +inf where r_k ≤ 0
    cap: np.ndarray  # (n,): the most a top-up may bring

    def _parts(self, stock, at):
        idx = np.arange(len(self.column))[at]
        stock = np.broadcast_to(np.asarray(stock, float), idx.shape)
        live = self.column[idx] >= 0
        i, c = idx[live], self.column[idx[live]]
        return idx, live, i, c, stock[live]

    def __call__(self, stock: np.ndarray, at) -> np.ndarray:
        idx, live, i, c, a = self._parts(stock, at)
        out = np.zeros(len(idx))
        if not len(i):
            return out
        t = np.clip(self.top[:, i] - a, 0.0, self.cap[i])
        es = np.asarray(expected_sales(a + t, self.mean[:, c], self.sd[:, c], self.dist[:, c]), float)
        cost = np.where(t > 0, np.where(np.isfinite(self.ratio[:, i]), self.ratio[:, i], 0.0) * t, 0.0)
        out[live] = self.probabilities @ (es - cost)
        return out

    def slope(self, stock: np.ndarray, at) -> np.ndarray:
        """``G'(a)``: ``P(D_k > a + t_k)`` where the top-up is 0 or at its cap, else ``r_k``."""
        idx, live, i, c, a = self._parts(stock, at)
        out = np.zeros(len(idx))
        if not len(i):
            return out
        q = self.top[:, i]
        t = np.clip(q - a, 0.0, self.cap[i])
        tail = np.asarray(stockout_probability(a + t, self.mean[:, c], self.sd[:, c], self.dist[:, c]), float)
        interior = (t > 0) & (a + t >= q)
        out[live] = self.probabilities @ np.where(interior, self.ratio[:, i], tail)
        return out

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        """(LEVEL_POINTS, n) stock grid per pair, from 0 to the largest scenario's 1 − 1e-6
        quantile, and G' on it (nonincreasing down each column)."""
        n = len(self.column)
        far = np.zeros(n)
        live = np.flatnonzero(self.column >= 0)
        if len(live):
            c = self.column[live]
            far[live] = np.nanmax(np.asarray(quantile(np.full(self.mean[:, c].shape, 1.0 - 1e-6), self.mean[:, c],
                                                      self.sd[:, c], self.dist[:, c]), float), axis=0)
        grid = np.linspace(0.0, 1.0, LEVEL_POINTS)[:, None] * np.maximum(far, 1.0)[None, :]
        everywhere = np.arange(n)
        return grid, np.stack([self.slope(grid[j], everywhere) for j in range(LEVEL_POINTS)])

    def level(self, slope: np.ndarray, at) -> np.ndarray:
        """The smallest grid stock where G' has fallen to ``slope``, interpolated between grid
        points (a start for the price heuristic, not a bound)."""
        idx = np.arange(len(self.column))[at]
        slope = np.broadcast_to(np.asarray(slope, float), idx.shape)
        grid, slopes = self._table
        g, s = grid[:, idx], slopes[:, idx]
        below = s <= slope
        first = np.where(below.any(axis=0), np.argmax(below, axis=0), len(g) - 1)
        prev = np.maximum(first - 1, 0)
        cols = np.arange(len(idx))
        s0, s1 = s[prev, cols], s[first, cols]
        g0, g1 = g[prev, cols], g[first, cols]
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(s0 > s1, (s0 - slope) / (s0 - s1), 1.0)
        return np.where(first == 0, g[0, cols], g0 + np.clip(w, 0.0, 1.0) * (g1 - g0))


def recourse_curve(ts: TwoStage, inst: Instance, prices, *, top_up: bool = True) -> RecourseCurve:
    """G for ``inst``'s pairs (stage 1's) with scenario k's reserve priced at ``prices[k]``
    (λ_k; a number: the same in every scenario); without ``top_up``, ``Σ_k π_k ES_k`` (the
    scenarios' mixture, no stage 2)."""
    d = ts.demand
    pairs = inst.pairs
    prices = np.broadcast_to(np.asarray(prices, float), (len(d),))
    ratio, top, cap = top_up_levels(ts, pairs, prices)
    if not top_up:
        ratio, top = np.full(ratio.shape, np.inf), np.full(top.shape, -np.inf)
    return RecourseCurve(d.pairs.get_indexer(pairs.index), d.probabilities, d.mean, d.sd, d.dist, ratio, top, cap)


def stage2_costs(ts: TwoStage, pairs) -> tuple[np.ndarray, np.ndarray]:
    """Per pair of ``pairs``: the cheapest landed cost from the recourse date ``c2`` (nan: no
    stage-2 route) and the most stage 2's routes may bring (``cap``)."""
    by_pair = ts.stage2.routes.groupby(level=["sku", "warehouse"])
    return (by_pair["landed_cost"].min().reindex(pairs.index).to_numpy(float),
            by_pair["max_units"].sum().reindex(pairs.index).fillna(0.0).to_numpy(float))


def top_up_levels(ts: TwoStage, pairs, prices: np.ndarray,
                  costs: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per scenario and pair of ``pairs``: ``r_k = ((1+λ_k)·c2 − v)/m`` (inf: no top-up pays)
    and the order-up-to level ``q_k = F_k⁻¹(1 − r_k)`` (−inf: none; +inf: ``r_k ≤ 0``); per
    pair, the most stage 2's routes may bring (``cap``).  ``costs``: :func:`stage2_costs`, when
    the caller has them."""
    d = ts.demand
    column = d.pairs.get_indexer(pairs.index)
    m = pairs["sales_coef"].to_numpy(float)
    v = pairs["stock_coef"].to_numpy(float)
    c2, cap = costs if costs is not None else stage2_costs(ts, pairs)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = ((1.0 + prices[:, None]) * c2[None, :] - v) / m
    usable = (m > 0) & np.isfinite(c2) & (column >= 0) & (cap > 0)
    ratio = np.where(usable[None, :] & np.isfinite(ratio), np.maximum(ratio, 0.0), np.inf)
    ratio = np.where(ratio >= 1.0, np.inf, ratio)
    top = np.full(ratio.shape, -np.inf)
    live = np.flatnonzero(np.isfinite(ratio).any(axis=0))
    if len(live):
        c, r = column[live], ratio[:, live]
        q = np.asarray(quantile(np.clip(1.0 - r, 1e-12, 1.0 - 1e-12), d.mean[:, c], d.sd[:, c], d.dist[:, c]),
                       float)
        top[:, live] = np.where(np.isinf(r), -np.inf, np.where(r <= 0, np.inf, q))
    return ratio, top, cap


def top_ups_at(ts: TwoStage, pairs, stock: np.ndarray, prices: np.ndarray,
               costs: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """(K, n) the relaxation's top-up ``clip(q_k − a, 0, cap)`` of each pair of ``pairs`` at
    stage-1 ``stock`` with the reserve priced at ``prices``."""
    _, top, cap = top_up_levels(ts, pairs, prices, costs)
    return np.clip(top - stock[None, :], 0.0, cap[None, :])


def reserve_prices(ts: TwoStage, pairs, stock: np.ndarray, reserve: float, *, bisections: int = 30,
                   curve=None) -> np.ndarray:
    """Per scenario, the smallest ``λ_k ≥ 0`` at which the relaxation's top-ups at stage-1
    ``stock`` (per pair of ``pairs``) cost at most ``reserve``: the continuous ones, or with
    ``curve`` a :class:`~optimizer.prep.recourse_hull.HullRecourseCurve` on ``pairs``, its
    whole-case top-ups under its MOQ and minimum prices."""
    costs = stage2_costs(ts, pairs)  # once: every bisection step reads them
    c2 = np.nan_to_num(costs[0])
    reserve = max(float(reserve), 0.0)

    def spend(prices):
        if isinstance(curve, HullRecourseCurve) and curve.top_ups is not None:
            return np.sum(curve.top_ups(prices, stock) * c2, axis=1)
        return top_ups_at(ts, pairs, stock, prices, costs) @ c2

    n = len(ts.demand)
    low, high = np.zeros(n), np.zeros(n)
    over = spend(low) > reserve + 1e-6
    if not over.any():
        return low
    high = np.where(over, 1.0, 0.0)
    for _ in range(40):
        still = over & (spend(high) > reserve + 1e-6)
        if not still.any():
            break
        high = np.where(still, 4.0 * high, high)
    for _ in range(bisections):
        mid = 0.5 * (low + high)
        too_low = spend(mid) > reserve + 1e-6
        low, high = np.where(over & too_low, mid, low), np.where(over & ~too_low, mid, high)
    return np.where(over, high, 0.0)


def priced_instance(ts: TwoStage, prices, *, top_up: bool = True, whole_cases: bool = True,
                    reference: np.ndarray | None = None) -> Instance:
    """Stage 1 as the relaxation ``R(prices)`` of the module docstring sees it: G as its sales
    curve, values divided by ``1 + λ̄``, the scenarios' expected demand, no service row.
    Without ``top_up`` (and at prices 0) it is stage 1 alone on the scenarios' mixture: the
    exact single-stage problem (no service target).  With ``whole_cases`` the curve keeps
    stage 2's case packs pair by pair and prices its MOQs and supplier minimums at the
    stage-1 stock ``reference`` (:mod:`optimizer.prep.recourse_hull`): a tighter relaxation,
    still valid, where its evaluation fits :data:`~optimizer.prep.recourse_hull.HULL_WORK`."""
    inst = ts.stage1
    pairs = inst.pairs.copy()
    scale = 1.0 / (1.0 + mean_price(ts, prices))
    for column in ("sales_coef", "stock_coef", "stockout_penalty"):
        pairs[column] = pairs[column].to_numpy(float) * scale
    d = ts.demand
    at = d.pairs.get_indexer(pairs.index)
    expected = np.where(at >= 0, d.probabilities @ d.expected_demand[:, np.maximum(at, 0)], 0.0)
    pairs["expected_demand"] = expected
    pairs["service_stock"] = np.nan
    relaxed = dataclasses.replace(inst, pairs=pairs, min_fill_rate=None)
    curve = recourse_curve(ts, inst, prices, top_up=top_up)
    if top_up and whole_cases and hull_points(ts, curve):
        prices = np.broadcast_to(np.asarray(prices, float), (len(d),))
        curve = hull_recourse_curve(ts, inst, curve, prices, stage2_costs(ts, inst.pairs), reference)
    return dataclasses.replace(relaxed, sales_curve=curve)


def mean_price(ts: TwoStage, prices) -> float:
    """``λ̄ = Σ_k π_k·λ_k``."""
    return float(ts.demand.probabilities @ np.broadcast_to(np.asarray(prices, float), (len(ts.demand),)))


def relaxation_value(ts: TwoStage, objective: float, prices) -> float:
    """``R(λ)`` from the priced instance's objective (or bound): ``(1 + λ̄)·objective + λ̄·B``."""
    lam = mean_price(ts, prices)
    return (1.0 + lam) * objective + lam * ts.stage1.budget


__all__ = ["LEVEL_POINTS", "RecourseCurve", "mean_price", "priced_instance", "recourse_curve", "relaxation_value",
           "reserve_prices", "stage2_costs", "top_up_levels", "top_ups_at"]
