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
solve loop (:mod:`optimizer.solve.pipeline`) adds the chords at the chosen stock until the
over-estimate is negligible, which makes the model objective the exact profit
of the plan and HiGHS's dual bound a valid bound on the best exact profit.

Initial chords sit at ``mean + z·sd`` for z on a grid of the pipeline knobs (clipped to the
reachable stock range) and at the existing stock; for the other demand shapes of
SPEC §7 at the quantiles ``F⁻¹(Φ(z))`` (a lognormal's mass sits below its mean).

Chords only bound sales from above, which is exact where the objective rewards a
sale (``sales_coef > 0``).  Where fees make a sale worth less than a leftover
(``sales_coef ≤ 0``) the economic stock bound keeps the pair at its existing stock
(:mod:`optimizer.prep.instance`), and ``sales ≥ ES(E)`` pins sales there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from scipy.special import ndtr

from optimizer.model.family import family
from optimizer.model.linear import combine
from optimizer.model.moq import add_moq
from optimizer.model.orders import add_orders
from optimizer.prep.expected_sales import NORMAL, quantile
from optimizer.prep.instance import Instance


@family("sales_chord")
def add_expected_sales(m: pyo.ConcreteModel, inst: Instance) -> None:
    add_orders(m, inst)
    add_moq(m, inst)
    ix = inst.index
    p = inst.pairs
    demand_pairs = p[p["has_demand"]]
    reach = inst.routes.groupby(level=["sku", "warehouse"])["max_units"].sum()
    max_stock = (demand_pairs["existing"] + reach.reindex(demand_pairs.index).fillna(0)).to_numpy(float)
    m.DEMAND_PAIRS = pyo.Set(initialize=ix.demand_pairs, dimen=2, ordered=True)
    at = p.index.get_indexer(demand_pairs.index)
    cap = dict(zip(ix.demand_pairs, inst.expected_sales(max_stock, at)))
    floor = inst.expected_sales(demand_pairs["existing"].to_numpy(float), at)
    floor = np.where(demand_pairs["sales_coef"].to_numpy(float) > 0, 0.0, floor)
    low = dict(zip(ix.demand_pairs, floor.tolist()))
    m.sales = pyo.Var(
        m.DEMAND_PAIRS, within=pyo.NonNegativeReals, bounds=lambda _, *k: (low[k], cap[k]),
        doc="expected units sold (outer approximation of ES)",
    )
    m.sales_chord = pyo.Constraint(pyo.Any, doc="sales ≤ chord of ES on the stock lattice")
    add_sales_chords(m, inst, initial_chord_points(inst))


def initial_chord_points(inst: Instance) -> dict:
    """Lattice points at ``mean + z·sd`` (z from −``chord_z_span`` to ``chord_z_span`` in steps
    of ``chord_z_step``, :class:`~optimizer.settings.PipelineKnobs`; quantiles ``F⁻¹(Φ(z))``
    for the non-normal shapes) and at existing stock."""
    ix, knobs = inst.index, inst.settings.pipeline
    z = np.arange(-knobs.chord_z_span, knobs.chord_z_span + 0.01, knobs.chord_z_step)
    points = {}
    for k in ix.demand_pairs:
        lo, hi = ix.stock_range[k]
        if hi <= lo:
            continue  # stock cannot change: the sales bound is already exact
        mu, sd, dist, spread = ix.moments[k]
        cp = ix.pair_case_pack[k]
        if spread <= 0:
            targets = np.array([mu])
        elif dist == NORMAL:
            targets = mu + z * sd
        else:
            targets = np.unique(np.atleast_1d(quantile(ndtr(z), mu, sd, dist)))
        pts = {lo}
        for t in targets:
            a = lo + cp * np.floor((t - lo) / cp)
            pts.add(int(min(max(a, lo), hi - cp)))
        points[k] = sorted(pts)
    return points


def add_sales_chords(m, inst: Instance, points: dict) -> int:
    """Add the chord starting at each lattice point ``a`` (skipping known ones).

    ``points`` maps a pair to lattice stock levels.  Returns how many were added.
    ES is evaluated for all new chords at once; each row is built as one flat
    linear sum over ``sales``, the order flag and the pair's ``cases``.
    """
    ix = inst.index
    keys, starts = [], []
    for k, pts in points.items():
        lo, hi = ix.stock_range[k]
        cp = ix.pair_case_pack[k]
        new = set()
        for a in pts:
            a = int(a)
            if a < lo or a + cp > hi or a in new or (k + (a,)) in m.sales_chord:
                continue
            new.add(a)
            keys.append(k)
            starts.append(a)
    if not keys:
        return 0
    a = np.array(starts, float)
    lo = np.array([ix.stock_range[k][0] for k in keys], float)
    cp = np.array([ix.pair_case_pack[k] for k in keys], float)
    at = inst.pairs.index.get_indexer(pd.MultiIndex.from_tuples(keys))
    es_lo, es_a, es_b = (inst.expected_sales(x, at) for x in (lo, a, a + cp))
    slope = (es_b - es_a) / cp
    added = 0
    flagged = m.FLAGGED_SKUS
    for i in np.flatnonzero(slope >= inst.settings.pipeline.chord_min_slope):
        k = keys[i]
        ai, s_i, e_a = int(starts[i]), float(slope[i]), float(es_a[i])
        if k[0] not in flagged:
            # sales − slope·A ≤ ES(a) − slope·a
            body = combine((1, m.sales[k]), (-s_i, m.available[k]))
            rhs = e_a - s_i * ai
        else:
            # Perspective with the order flag y: with y = 0 nothing arrives and
            # sales ≤ ES(E); with y = 1 this is the plain chord.  Tighter LP.
            # sales − lift·y − slope·A ≤ ES(E) − slope·E
            lo_i, e_lo = int(lo[i]), float(es_lo[i])
            lift = e_a + s_i * (lo_i - ai) - e_lo  # ≥ 0: chord is above ES at E
            body = combine((1, m.sales[k]), (-lift, m.order_placed[k[0]]), (-s_i, m.available[k]))
            rhs = e_lo - s_i * lo_i
        m.sales_chord[k + (ai,)] = body <= rhs
        added += 1
    return added
