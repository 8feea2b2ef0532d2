"""The launch curve: a new listing sells below its mature rate over its first weeks
(step 2 of :mod:`optimizer.forecast.forecaster`).

A series that starts LAUNCH_MARGIN_DAYS or more after the history does was launched
inside it.  Its expected weekly rate at age ``a`` (days since its first day of history) is

    level · r(a),   r(a) = 1 − exp(−a / k_i)

with a time constant ``k_i`` per SKU (its series share it, each with its own level;
``k = 0``: no ramp, ``r = 1``).  Listings ramp at very different speeds, so one ``k``
for the catalogue would over-correct the fast ones and under-correct the slow.  Over a
grid of ``k`` (RAMP_GRID), each launched SKU's first FIT_WEEKS weeks of rates over the
category index give a Poisson deviance ``D_i(k)`` (levels profiled out,
``level = Σ z / Σ r``), scaled by the overdispersion ``φ`` of the best fits; the
catalogue's spread of ramps ``π`` is the nonparametric maximum-likelihood mixture over
the grid (EM on ``exp(−D_i(k) / 2φ)``, from the SKUs with FIT_MIN_WEEKS weeks or more);
and each SKU takes its posterior mode ``argmax_k π_k exp(−D_i(k) / 2φ)`` — its own ramp
where its weeks show it, the catalogue's usual one where they are too few.  The
baseline divides a launched series' weekly rates by ``r`` before it forecasts them and
multiplies the forecast by ``r`` at the promo's pre-window; a past promo's lift is read
from rates divided by ``r`` the same way.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

LAUNCH_MARGIN_DAYS = 28    # a series starting this long after the history does was launched in it
RAMP_GRID = (0.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 75.0, 90.0, 120.0, 150.0)
FIT_WEEKS = 39             # the weeks after a launch the fit reads (enough to see its level)
FIT_MIN_WEEKS = 8          # a SKU's weeks needed to inform the catalogue's spread of ramps
MIN_LAUNCHES = 3           # SKUs with FIT_MIN_WEEKS weeks needed to fit the spread of ramps
MIN_WEEKLY_RATE = 1.0      # a launched series selling under this a week tells nothing of the curve
RAMP_FLOOR = 0.4           # weeks under this share of maturity are too noisy to divide by r


def ramp(age_days, k) -> np.ndarray:
    """``r(a) = 1 − exp(−a/k)`` at ages in days (1 where ``k = 0``; 0 before the launch);
    ``k`` a scalar or an array that broadcasts against the ages."""
    age = np.maximum(np.asarray(age_days, float), 0.0)
    k = np.asarray(k, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(k > 0, 1 - np.exp(-age / np.where(k > 0, k, 1.0)), 1.0)


def _deviance(z: np.ndarray, r: np.ndarray) -> float:
    """Poisson deviance of rates ``z`` (rows: series, NaN: not read) against ``level · r``,
    each row's level its maximum-likelihood ``Σ z / Σ r``."""
    ok = ~np.isnan(z)
    zz, rr = np.where(ok, z, 0.0), np.where(ok, r, 0.0)
    level = zz.sum(axis=1, keepdims=True) / np.maximum(rr.sum(axis=1, keepdims=True), 1e-12)
    mu = np.maximum(level * rr, 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(zz > 0, zz * np.log(zz / mu), 0.0) - (zz - mu)
    return float(2 * np.sum(np.where(ok, term, 0.0)))


def launch_days(z: np.ndarray, age: np.ndarray, launched: np.ndarray,
                skus: np.ndarray) -> np.ndarray:
    """(n,) each series' launch time constant ``k`` in days (0: not launched, or no ramp).

    ``z`` (n, W) weekly rates over the category index (NaN: a gap), ``age`` (n, W) each
    week's mid-point age in days, ``launched`` (n,) the series launched inside the
    history, ``skus`` (n,) the SKU of each series (its series share one ``k``)."""
    out = np.zeros(len(z))
    window = (age >= 0) & (age < 7 * FIT_WEEKS)
    zf = np.where(window & launched[:, None], z, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        zf[np.nanmean(zf, axis=1) < MIN_WEEKLY_RATE] = np.nan
    rows_of = {s: rows for s, rows in pd.Series(np.arange(len(z))).groupby(skus).indices.items()
               if launched[rows].any() and np.sum(~np.isnan(zf[rows])) >= 3}
    if not rows_of:
        return out
    fitted = list(rows_of)
    dev = np.array([[_deviance(zf[rows], ramp(age[rows], k)) for k in RAMP_GRID] for rows in rows_of.values()])
    weeks = np.array([np.sum(~np.isnan(zf[rows])) for rows in rows_of.values()])
    series = np.array([np.sum(np.any(~np.isnan(zf[rows]), axis=1)) for rows in rows_of.values()])
    dispersion = max(float(dev.min(axis=1).sum()) / max(int((weeks - series - 1).sum()), 1), 1.0)
    like = np.exp(-(dev - dev.min(axis=1, keepdims=True)) / (2 * dispersion))
    informative = weeks >= FIT_MIN_WEEKS
    if informative.sum() < MIN_LAUNCHES:
        return out
    prior = np.full(len(RAMP_GRID), 1 / len(RAMP_GRID))
    for _ in range(200):   # EM for the mixture weights over the grid
        post = prior * like[informative]
        prior = (post / post.sum(axis=1, keepdims=True)).mean(axis=0)
    k = np.asarray(RAMP_GRID)[np.argmax(prior * like, axis=1)]
    by_sku = dict(zip(fitted, k))
    for i, s in enumerate(skus):
        if launched[i]:
            out[i] = by_sku.get(s, float(np.asarray(RAMP_GRID) @ prior))
    return out


__all__ = ["launch_days", "ramp", "LAUNCH_MARGIN_DAYS", "RAMP_FLOOR"]
