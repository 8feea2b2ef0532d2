"""Expected sales by chords of ES on each pair's stock lattice (SPEC §2).

Stock at a pair only takes values on the lattice ``E + case_pack·k``.  For a
lattice point ``a`` the chord through ``(a, ES(a))`` and ``(a+cp, ES(a+cp))``,

    sales[s,w] ≤ ES(a) + (ES(a+cp) − ES(a))/cp · (available[s,w] − a),

lies above the concave ES at every lattice point (and touches it at both ends),
so it is a valid cut for the integer model and is *exact* at ``a`` and ``a+cp``.
For a SKU with an order flag ``y`` (MOQ or supplier minimum) the chord is written
in perspective form, ``sales ≤ ES(E) + y·(chord(E) − ES(E)) + slope·(A − E)``,
equal to the chord when ``y = 1`` and to ``ES(E)`` when ``y = 0`` (nothing
ordered) — the same integer model with a tighter LP relaxation.
The model therefore over-estimates expected sales only between chords; the
solve loop (:mod:`optimizer.solve`) adds the chords at the chosen stock until the
over-estimate is negligible, which makes the model objective the exact profit
of the plan and HiGHS's dual bound a valid bound on the best exact profit.

Initial chords sit at ``mean + z·sd`` for z in ``INITIAL_Z`` (clipped to the
reachable stock range) and at the existing stock.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from ..expected_sales import expected_sales
from ..instance import Instance

INITIAL_Z = np.arange(-3.0, 3.01, 0.5)
# Chords flatter than this are skipped: beyond such a stock ES rises by under
# 1e-7 per unit, and the tiny coefficients would only hurt HiGHS's numerics.
MIN_SLOPE = 1e-7


def add_expected_sales(m: pyo.ConcreteModel, inst: Instance) -> None:
    p = inst.pairs
    demand_pairs = p[p["has_demand"]]
    reach = inst.routes.groupby(level=["sku", "warehouse"])["max_units"].sum()
    max_stock = demand_pairs["existing"] + reach.reindex(demand_pairs.index).fillna(0)
    m.stock_range = {
        k: (int(e), int(hi)) for k, e, hi in zip(demand_pairs.index, demand_pairs["existing"], max_stock)
    }
    m.DEMAND_PAIRS = pyo.Set(initialize=list(demand_pairs.index), dimen=2, ordered=True)
    sales_cap = expected_sales(max_stock.to_numpy(float), demand_pairs["mean"].to_numpy(float),
                               demand_pairs["sd"].to_numpy(float))
    cap = dict(zip(demand_pairs.index, np.atleast_1d(sales_cap)))
    m.sales = pyo.Var(
        m.DEMAND_PAIRS, within=pyo.NonNegativeReals, bounds=lambda _, *k: (0, cap[k]),
        doc="expected units sold (outer approximation of ES)",
    )
    m.pair_case_pack = {k: int(c) for k, c in zip(demand_pairs.index, demand_pairs["case_pack"])}
    m.moments = {k: (float(mu), float(sd)) for k, mu, sd in zip(demand_pairs.index, demand_pairs["mean"], demand_pairs["sd"])}
    m.sales_chord = pyo.Constraint(pyo.Any, doc="sales ≤ chord of ES on the stock lattice")
    add_sales_chords(m, initial_chord_points(m, inst))


def initial_chord_points(m, inst: Instance) -> dict:
    """Lattice points at ``mean + z·sd`` (z in INITIAL_Z) and at existing stock."""
    points = {}
    for k in m.DEMAND_PAIRS:
        lo, hi = m.stock_range[k]
        if hi <= lo:
            continue  # stock cannot change: the sales bound is already exact
        mu, sd = m.moments[k]
        cp = m.pair_case_pack[k]
        targets = mu + INITIAL_Z * sd if sd > 0 else np.array([mu])
        pts = {lo}
        for t in targets:
            a = lo + cp * np.floor((t - lo) / cp)
            pts.add(int(min(max(a, lo), hi - cp)))
        points[k] = sorted(pts)
    return points


def add_sales_chords(m, points: dict) -> int:
    """Add the chord starting at each lattice point ``a`` (skipping known ones).

    ``points`` maps a pair to lattice stock levels.  Returns how many were added.
    """
    added = 0
    for k, pts in points.items():
        lo, hi = m.stock_range[k]
        mu, sd = m.moments[k]
        cp = m.pair_case_pack[k]
        flag = m.order_placed[k[0]] if k[0] in m.FLAGGED_SKUS else None
        es_lo = float(expected_sales(lo, mu, sd))
        for a in pts:
            a = int(a)
            if a < lo or a + cp > hi or (k + (a,)) in m.sales_chord:
                continue
            es_a, es_b = (float(v) for v in expected_sales(np.array([a, a + cp], float), mu, sd))
            slope = (es_b - es_a) / cp
            if slope < MIN_SLOPE:
                continue  # ES is flat here: the sales bound ES(max stock) is as good
            if flag is None:
                rhs = es_a + slope * (m.available[k] - a)
            else:
                # Perspective with the order flag y: with y = 0 nothing arrives and
                # sales ≤ ES(E); with y = 1 this is the plain chord.  Tighter LP.
                lift = es_a + slope * (lo - a) - es_lo  # ≥ 0: chord is above ES at E
                rhs = es_lo + lift * flag + slope * (m.available[k] - lo)
            m.sales_chord[k + (a,)] = m.sales[k] <= rhs
            added += 1
    return added
