"""An upper bound on the perfect-information profit of each scenario, without a solver (SPEC §8).

Knowing scenario k's demand before ordering, the best plan earns ``PI_k``.  Drop every rule
but the budget — MOQs, minimums, case packs, space, lanes, cash limits, service, share
caps — and every lane's fee per use (≥ 0), pay a container lane by the cubic metre
(``shipment_cost/shipment_m3`` per m³: ``n`` containers for volume ``V`` cost at least
that, ``n ≥ V/shipment_m3``), and let each pair buy at its cheapest unit cost ``c_j`` so
counted over the routes of either stage.  Pricing the budget at ``λ ≥ 0`` then splits the
problem by pair, and for every ``λ``

    PI_k ≤ U_k(λ) = λ·B + Σ_j max_{0 ≤ x ≤ cap_j} [ v_kj(E_j + x) − (1 + λ)·c_j·x ] − Σ_j p_j·E_k[D_j],

with ``v_kj(A) = sales_coef_j·ES_k(A) + stock_coef_j·A`` (SPEC §2/§6 with scenario k's
demand) and ``cap_j`` the units the pair's routes may carry.  ``v_kj`` is concave, so the
inner maximum is the newsvendor level: the smallest ``A`` with
``P_k(D_j ≤ A) ≥ 1 − ((1 + λ)·c_j − stock_coef_j) / sales_coef_j``, clipped to
``[E_j, E_j + cap_j]``.  ``U_k`` is convex in ``λ``; it is evaluated on a grid of prices
and the smallest value taken, each scenario for itself (any ``λ`` gives a valid bound).

The bound is loose where the dropped rules bind: on the sample (cash limits, minimum order
values, case packs) it lies about 20 % above the two-stage plan's profit.  Prices on warehouse
space as well (one per warehouse, found per scenario) did not lower it there, so only the
budget is priced.  It is what ``perfect_information_profit`` reports where planning each
evaluation scenario with its demand known would cost a solve each.
"""

from __future__ import annotations

import numpy as np

from optimizer.prep.expected_sales import expected_sales, quantile
from optimizer.prep.recourse import TwoStage
from optimizer.solve.price_start import PriceStart
from optimizer.solve.rounding import RoundingHeuristic

#: Budget prices tried: 0, then geometric from 1e-4 to 100.
BUDGET_PRICES = np.r_[0.0, np.geomspace(1e-4, 100.0, 61)]


def _cheapest(ts: TwoStage) -> tuple[np.ndarray, np.ndarray]:
    """Per pair of ``ts.pairs``: the cheapest unit cost over both stages' routes (inf: none),
    and the units its routes may carry."""
    cost, cap = np.full(len(ts.pairs), np.inf), np.zeros(len(ts.pairs))
    for inst in (ts.stage1, ts.stage2):
        if not len(inst.routes):
            continue
        h = RoundingHeuristic(inst)
        at = ts.pairs.get_indexer(inst.pairs.index)[h.r_pair]
        np.minimum.at(cost, at, PriceStart(h).unit)  # landed + container cost per m³
        np.add.at(cap, at, h.max_cases * h.cp)
    return cost, cap


def perfect_information_bounds(ts: TwoStage) -> np.ndarray:
    """``min_λ U_k(λ)`` (module docstring) for every scenario of ``ts``."""
    p = ts.stage1.pairs.reindex(ts.pairs)
    d = ts.demand
    at = ts.pairs.get_indexer(d.pairs)  # scenario columns → pairs
    existing = p["existing"].to_numpy(float)[at]
    coef = p["sales_coef"].to_numpy(float)[at]
    stock_coef = p["stock_coef"].to_numpy(float)[at]
    penalty = p["stockout_penalty"].to_numpy(float)[at]
    cost, cap = (a[at] for a in _cheapest(ts))
    mean, sd, dist = d.mean, d.sd, d.dist
    before = (np.asarray(expected_sales(np.broadcast_to(existing, mean.shape), mean, sd, dist)) * coef
              + stock_coef * existing)  # v(E) per scenario and pair
    base = before.sum(axis=1) - d.expected_demand @ penalty
    best = np.full(len(d), np.inf)
    for price in BUDGET_PRICES:
        unit = (1.0 + price) * cost
        pays = np.isfinite(unit) & (cap > 0) & (coef > 0) & (unit - stock_coef < coef)
        if np.any(pays & (unit <= stock_coef)):
            return np.full(len(d), np.inf)  # a unit that never loses value: no finite bound
        gain = np.zeros(mean.shape)
        if pays.any():
            q = np.where(pays, 1.0 - (unit - stock_coef) / np.where(coef > 0, coef, 1.0), 0.5)
            level = np.asarray(quantile(np.broadcast_to(q, mean.shape), mean, sd, dist), float)
            x = np.where(pays, np.clip(np.nan_to_num(level) - existing, 0.0, cap), 0.0)
            stock = existing + x
            value = np.asarray(expected_sales(stock, mean, sd, dist)) * coef + stock_coef * stock
            gain = np.maximum(value - before - np.where(x > 0, unit, 0.0) * x, 0.0)
        best = np.minimum(best, price * ts.stage1.budget + base + gain.sum(axis=1))
    return best


__all__ = ["perfect_information_bounds"]
