"""Scores of a promo forecast against outcomes (``backtest``, ``benchmarks/forecast_benchmark.py``).

For outcomes ``a`` and point forecasts ``f`` over the pairs compared:

* **WAPE** ``Σ|f − a| / Σa`` and **bias** ``Σ(f − a) / Σa`` (negative: under-forecast);
* for a forecast distribution (mean, sd and SPEC §7 shape per pair):
  **80 % coverage**, the share of outcomes inside ``[P10, P90]`` of the pair's
  distribution, and the **pinball loss** at each level ``q`` of :data:`LEVELS`,
  ``Σ ρ_q(a − P_q) / Σa`` with ``ρ_q(e) = max(q·e, (q − 1)·e)`` (scaled by the total
  outcome like WAPE; ``2 × pinball_50`` is the WAPE of the median).

Pairs where the outcome or the forecast is missing are left out.
"""

from __future__ import annotations

import numpy as np

from optimizer.prep.expected_sales import distribution_codes, quantile

LEVELS = (0.1, 0.5, 0.9)


def point_scores(actual, forecast) -> dict:
    """WAPE and bias of point forecasts (NaN where there is nothing to compare)."""
    a, f = np.asarray(actual, float), np.asarray(forecast, float)
    ok = np.isfinite(a) & np.isfinite(f)
    total = a[ok].sum()
    if not ok.any() or total <= 0:
        return {"pairs": int(ok.sum()), "wape": float("nan"), "bias": float("nan")}
    return {"pairs": int(ok.sum()), "wape": float(np.abs(f[ok] - a[ok]).sum() / total),
            "bias": float((f[ok] - a[ok]).sum() / total)}


def quantiles(levels, mean, sd, distribution=None) -> np.ndarray:
    """(len(levels), n) quantiles of each pair's demand distribution (blank shape = normal),
    at least 0."""
    mean, sd = np.asarray(mean, float), np.asarray(sd, float)
    names = np.full(len(mean), "") if distribution is None else np.asarray(distribution, object)
    dist = distribution_codes(names, mean, sd)
    return np.maximum(np.vstack([np.atleast_1d(quantile(np.full(len(mean), q), mean, sd, dist))
                                 for q in levels]), 0.0)


def distribution_scores(actual, mean, sd, distribution=None) -> dict:
    """Point scores of the mean plus 80 % coverage and pinball losses at :data:`LEVELS`."""
    a, m, s = (np.asarray(x, float) for x in (actual, mean, sd))
    ok = np.isfinite(a) & np.isfinite(m) & np.isfinite(s)
    out = point_scores(a[ok], m[ok])
    if not ok.any() or a[ok].sum() <= 0:
        return {**out, "coverage_80": float("nan"), **{f"pinball_{round(q * 100)}": float("nan") for q in LEVELS}}
    names = None if distribution is None else np.asarray(distribution, object)[ok]
    q = quantiles(LEVELS, m[ok], s[ok], names)
    a = a[ok]
    lo, hi = q[LEVELS.index(0.1)], q[LEVELS.index(0.9)]
    out["coverage_80"] = float(np.mean((a >= lo) & (a <= hi)))
    for level, row in zip(LEVELS, q):
        e = a - row
        out[f"pinball_{round(level * 100)}"] = float(np.maximum(level * e, (level - 1) * e).sum() / a.sum())
    return out


__all__ = ["LEVELS", "point_scores", "quantiles", "distribution_scores"]
