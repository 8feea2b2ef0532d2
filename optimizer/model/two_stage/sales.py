"""Expected sales in every scenario by chords of the scenario's ES on the stock lattice.

As in :mod:`optimizer.model.demand`, with scenario k's demand and stock ``A[k]``: for a
lattice point ``a`` of the pair (``E + case_pack·j``),

    sales[k,s,w] ≤ ES_k(a) + (ES_k(a+cp) − ES_k(a))/cp · (A[k][s,w] − a),

a valid cut for the integer model, exact at ``a`` and ``a + cp``.  Initial chords sit at
``F_k⁻¹(Φ(z))`` for z on the pipeline knobs' grid; the solve loop adds the chords at the
chosen stock until the over-estimate is negligible.  Where a sale is worth less than a
leftover (``sales_coef ≤ 0``) the pair's stock stays at E (the economic stock bound) and
``sales ≥ ES_k(E)`` pins it.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from scipy.special import ndtr

from optimizer.model.family import family
from optimizer.model.linear import combine
from optimizer.model.two_stage.stock import add_scenario_stock
from optimizer.prep.expected_sales import NORMAL, expected_sales, quantile
from optimizer.prep.recourse import TwoStage


def stock_ranges(ts: TwoStage) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per demand pair: existing stock E, the largest reachable stock, the case pack."""
    pairs = ts.demand.pairs
    p1 = ts.stage1.pairs.reindex(pairs)
    reach = sum(inst.routes.groupby(level=["sku", "warehouse"])["max_units"].sum().reindex(pairs).fillna(0)
                .to_numpy(float) for inst in (ts.stage1, ts.stage2))
    existing = p1["existing"].to_numpy(float)
    return existing, existing + reach, p1["case_pack"].to_numpy(float)


@family("scenario_chord")
def add_scenario_sales(m: pyo.ConcreteModel, ts: TwoStage) -> None:
    add_scenario_stock(m, ts)
    d = ts.demand
    lo, hi, _ = stock_ranges(ts)
    cap = np.asarray(expected_sales(np.broadcast_to(hi, d.mean.shape), d.mean, d.sd, d.dist), float)
    floor = np.asarray(expected_sales(np.broadcast_to(lo, d.mean.shape), d.mean, d.sd, d.dist), float)
    coef = ts.stage1.pairs["sales_coef"].reindex(d.pairs).to_numpy(float)
    floor = np.where(coef > 0, 0.0, floor)
    keys = [(k,) + pair for k in range(len(d)) for pair in d.pairs]
    bounds = dict(zip(keys, zip(floor.ravel().tolist(), cap.ravel().tolist())))
    m.SCENARIO_DEMAND = pyo.Set(initialize=keys, dimen=3, ordered=True)
    m.scenario_sales = pyo.Var(m.SCENARIO_DEMAND, within=pyo.NonNegativeReals,
                               bounds=lambda _, *key: bounds[key],
                               doc="expected units sold in scenario k (outer approximation of ES_k)")
    m.scenario_chord = pyo.Constraint(pyo.Any, doc="sales[k] ≤ chord of ES_k on the stock lattice")
    add_scenario_chords(m, ts, initial_points(ts))


def initial_points(ts: TwoStage) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scenario, pair position, lattice stock) of the first chords: at E and at each scenario's
    ``F_k⁻¹(Φ(z))`` for z from −``chord_z_span`` to ``chord_z_span`` by ``chord_z_step``."""
    d, knobs = ts.demand, ts.stage1.settings.pipeline
    lo, hi, cp = stock_ranges(ts)
    z = np.arange(-knobs.chord_z_span, knobs.chord_z_span + 0.01, knobs.chord_z_step)
    ks, js, stock = [], [], []
    for zi in z:
        t = np.where(d.dist == NORMAL, d.mean + zi * d.sd,
                     np.asarray(quantile(np.full(d.mean.shape, ndtr(zi)), d.mean, d.sd, d.dist), float))
        k, j = np.nonzero(np.ones(d.mean.shape, bool))
        ks.append(k), js.append(j), stock.append(t.ravel())
    k = np.concatenate(ks + [np.repeat(np.arange(len(d)), len(d.pairs))])
    j = np.concatenate(js + [np.tile(np.arange(len(d.pairs)), len(d))])
    t = np.concatenate(stock + [np.tile(lo, len(d))])
    a = lo[j] + cp[j] * np.floor((np.nan_to_num(t, nan=0.0) - lo[j]) / cp[j])
    a = np.clip(a, lo[j], np.maximum(hi[j] - cp[j], lo[j]))
    return k, j, a


def add_scenario_chords(m, ts: TwoStage, points: tuple[np.ndarray, np.ndarray, np.ndarray]) -> int:
    """Add the chord starting at each (scenario, pair position, lattice stock) not yet in the
    model; return how many were added."""
    d = ts.demand
    lo, hi, cp = stock_ranges(ts)
    k, j, a = (np.asarray(x) for x in points)
    keep = (a >= lo[j]) & (a + cp[j] <= hi[j])
    k, j, a = k[keep].astype(int), j[keep].astype(int), a[keep]
    if not len(k):
        return 0
    unique = np.unique(np.stack([k, j, a]), axis=1)
    k, j, a = unique[0].astype(int), unique[1].astype(int), unique[2]
    mu, sd, dist = d.mean[k, j], d.sd[k, j], d.dist[k, j]
    es_a = np.atleast_1d(expected_sales(a, mu, sd, dist))
    es_b = np.atleast_1d(expected_sales(a + cp[j], mu, sd, dist))
    slope = (es_b - es_a) / cp[j]
    min_slope = ts.stage1.settings.pipeline.chord_min_slope
    added = 0
    for i in np.flatnonzero(slope >= min_slope):
        s, w = d.pairs[j[i]]
        key = (int(k[i]), s, w, int(a[i]))
        if key in m.scenario_chord:
            continue
        # sales − slope·A ≤ ES(a) − slope·a
        m.scenario_chord[key] = combine((1, m.scenario_sales[key[:3]]),
                                        (-float(slope[i]), m.scenario_stock[key[:3]])) \
            <= float(es_a[i] - slope[i] * a[i])
        added += 1
    return added
