"""Promo lifts: each past occurrence's lift per SKU, outliers, the cross-event reading
for SKUs that missed the promo, and the partial-pooling model (step 3 of
:mod:`optimizer.forecast.forecaster`)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from optimizer.forecast.baseline import PRE_DAYS, RAMP_WEEKS
from optimizer.forecast.history import PastPromo
from optimizer.forecast.launch import ramp
from optimizer.forecast.panel import Panel

OUTLIER_LOG = math.log(2.5)  # an occurrence's lift 2.5× off the SKU's others is not its response
TAU2_MIN = 0.005       # the smallest between-SKU variance of log lifts the pooling assumes
PRICE_Z = 2.0          # a price band's effect on lifts must be this many standard errors from 0
NO_LIFT = "none: no past promo in history (lift 1)"   # lift_source when no occurrence is usable


def occurrence_table(panel: Panel, promos: list[PastPromo], launch_days: np.ndarray | None = None) -> pd.DataFrame:
    """Per (sku, past promo): pre-promo baseline units and promo units, clean days only.

    A series whose pre-promo window starts within RAMP_WEEKS of its first day of history
    is left out of that occurrence: a listing still ramping up sells below its level in
    the weeks before the promo, and its lift would read too high.  After that, a
    launched series' days are divided by its launch curve ``r`` (time constants
    ``launch_days`` per series, :mod:`optimizer.forecast.launch`), which still rises
    between the pre-window and the promo."""
    first_day = panel.first_days
    y = panel.y
    if launch_days is not None:
        with np.errstate(divide="ignore", invalid="ignore"):   # r = 0 only before a series' first day
            y = y / ramp(np.arange(y.shape[1])[None, :] - first_day[:, None] + 1, launch_days[:, None])
    base = np.where(panel.promo, np.nan, y)
    rows = []
    T = panel.y.shape[1]
    for p in promos:
        a = (pd.Timestamp(p.start) - panel.start).days
        b = (pd.Timestamp(p.end) - panel.start).days + 1
        if a - PRE_DAYS < 0 or b > T:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pre = base[:, a - PRE_DAYS:a]
            win = y[:, a:b]
            ok = ((np.sum(~np.isnan(pre), axis=1) >= 10) & (np.sum(~np.isnan(win), axis=1) * 2 >= b - a)
                  & (a - PRE_DAYS >= first_day + 7 * RAMP_WEEKS))
            pre_rate, win_rate = np.nanmean(pre, axis=1), np.nanmean(win, axis=1)
        df = pd.DataFrame({"sku": panel.keys["sku"], "category": panel.keys["category"],
                           "pre": np.where(ok, pre_rate * (b - a), np.nan),
                           "act": np.where(ok, win_rate * (b - a), np.nan)}).dropna()
        g = df.groupby(["sku", "category"], as_index=False)[["pre", "act"]].sum()
        g["promo"], g["kind"] = p.name, p.kind
        rows.append(g[g["pre"] >= 2])
    if not rows:
        return pd.DataFrame(columns=["sku", "category", "pre", "act", "promo", "kind"])
    return pd.concat(rows, ignore_index=True)


def _outlier_occurrences(occ: pd.DataFrame) -> np.ndarray:
    """Occurrences whose log lift is more than OUTLIER_LOG from the median of the same
    SKU's other occurrences of the same promo (with at least two others): a viral
    burst or an unflagged stockout inside the promo window, not the SKU's response."""
    log = np.log(np.maximum(occ["act"].to_numpy(float), 0.5) / occ["pre"].to_numpy(float))
    out = np.zeros(len(occ), bool)
    for _, idx in occ.reset_index(drop=True).groupby(["sku", "kind"]).indices.items():
        if len(idx) < 3:
            continue
        for j in idx:
            others = log[idx[idx != j]]
            out[j] = abs(log[j] - np.median(others)) > OUTLIER_LOG
    return out


def _relative_log_lifts(occ: pd.DataFrame) -> pd.DataFrame:
    """Per occurrence: log lift (:func:`_log_lifts`) minus its event's category log lift
    (how much more the SKU responds than its category did to that same event)."""
    occ = _log_lifts(occ[occ["act"] >= 0]).rename(columns={"y": "log"})
    g = occ.groupby(["kind", "category"])
    occ["rel"] = occ["log"] - np.log(g["act"].transform("sum") / g["pre"].transform("sum"))
    return occ


def _cross_event(occ: pd.DataFrame, kind: str | None) -> tuple[pd.Series, float, float]:
    """What other events say about a SKU's response to ``kind``.

    With ``o`` a SKU's mean relative log lift (:func:`_relative_log_lifts`) in the
    other events and ``t`` its mean in past ``kind`` occurrences, the SKUs that have
    both give the slope ``β = Σ t·o / Σ o²`` (through the origin, clipped to [0, 1]:
    noisy ``o`` attenuate it, which shrinks the prediction) and the residual variance
    ``s²_r`` of ``t − β·o``.  Returns (β·o per SKU with other events, β, s²_r).
    """
    if not kind or occ.empty:
        return pd.Series(dtype=float), 0.0, np.nan
    rel = _relative_log_lifts(occ)
    t = rel[rel["kind"] == kind].groupby("sku")["rel"].mean()
    o = rel[rel["kind"] != kind].groupby("sku")["rel"].mean()
    both = t.index.intersection(o.index)
    if len(both) < 5 or float((o[both] ** 2).sum()) <= 0:
        return pd.Series(dtype=float), 0.0, np.nan
    beta = float(np.clip((t[both] * o[both]).sum() / (o[both] ** 2).sum(), 0.0, 1.0))
    resid = float(((t[both] - beta * o[both]) ** 2).mean())
    return beta * o, beta, resid


def _log_lifts(seen: pd.DataFrame) -> pd.DataFrame:
    """Per occurrence: ``y`` = log(act / pre) with its small-count bias removed, and
    ``s2`` its Poisson sampling variance (delta method):

        y = log(a / p) + 1/(2a) − 1/(2p),   s² = 1/a + 1/p   (a ≥ 0.5)

    (``E[log X] ≈ log μ − 1/(2μ)`` for a Poisson count X of mean μ: without the
    correction a slow mover's lift is read too low.)"""
    act = np.maximum(seen["act"].to_numpy(float), 0.5)
    pre = seen["pre"].to_numpy(float)
    return seen.assign(y=np.log(act / pre) + 0.5 / act - 0.5 / pre, s2=1 / act + 1 / pre)


def promo_lifts(occ: pd.DataFrame, kind: str | None, skus: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Per SKU of skus.csv: lift_sku_raw, n_past_promos, lift_category, lift, lift_source
    and cv_l2, from a partial-pooling (hierarchical) model of log lifts.

    Occurrence ``j`` of SKU ``i`` (of the promo ``kind``; outliers left out,
    :func:`_outlier_occurrences`) has ``y_ij = θ_i + ε_ij``, ``ε_ij ~ N(0, ω² + s²_ij)``
    (:func:`_log_lifts`), and ``θ_i ~ N(μ_c, τ²)`` within its category ``c``:

    * ``ω²`` — occurrence-to-occurrence noise: the pooled within-SKU variance of ``y``
      less the mean ``s²`` (SKUs with two or more occurrences; else 0);
    * ``V_i = (ω² + mean_j s²_ij) / n_i`` — the noise of the SKU's mean ``ȳ_i``;
    * ``μ_c`` — the category's ``1/(τ² + V_i)``-weighted mean of ``ȳ_i``; ``τ²`` — the
      between-SKU variance, ``mean (ȳ_i − μ_c)² − mean V_i`` (at least TAU2_MIN);
    * posterior ``θ_i ~ N(m_i, v_i)``: ``w_i = τ² / (τ² + V_i)``, ``m_i = μ_c + w_i(ȳ_i − μ_c)``,
      ``v_i = w_i V_i`` — a SKU with a well-measured lift keeps it, a noisy one leans on
      its category;
    * a SKU with no occurrence: ``m = μ_c`` plus what the other promos say about it
      (:func:`_cross_event`; ``v`` = that prediction's residual variance), else plus
      what its price band says (:func:`_price_band`) and ``v = τ²``; never below the
      largest ``v`` of its category's SKUs with occurrences.

    The lift is the *mean* of the next occurrence's, ``exp(m + (v + ω²)/2)`` (the
    median ``exp(m)`` would under-forecast), and ``cv_l2 = exp(v + ω²) − 1`` its relative
    variance.  ``lift_category`` is the same for a SKU with no evidence: ``exp(μ_c + (τ² + ω²)/2)``.
    """
    occ = occ[~_outlier_occurrences(occ)] if len(occ) else occ
    seen = occ[occ["kind"] == kind] if kind else occ.iloc[0:0]
    if kind and len(seen):
        source = f"past '{kind}'"
    else:
        seen = occ
        source = (f"all past promos (no past '{kind}')" if kind else "all past promos") if len(occ) \
            else NO_LIFT
    cats = skus.get("category", pd.Series("", index=skus.index)).fillna("")
    out = pd.DataFrame({"sku": skus["sku"], "category": cats}).set_index("sku")
    seen = _log_lifts(seen[seen["act"] >= 0])
    per = seen.groupby("sku").agg(category=("category", "first"), n=("y", "size"), ybar=("y", "mean"),
                                  s2=("s2", "mean"), var=("y", "var"))
    multi = per[per["n"] >= 2]
    omega2 = (max(float(((multi["var"] - multi["s2"]) * (multi["n"] - 1)).sum() / (multi["n"] - 1).sum()), 0.0)
              if len(multi) else 0.0)
    per["V"] = (omega2 + per["s2"]) / per["n"]
    mu, tau2 = _category_means(per)
    all_mu = float(np.average(per["ybar"], weights=1 / (tau2 + per["V"]))) if len(per) else 0.0
    per["mu"] = per["category"].map(mu).fillna(all_mu)
    w = tau2 / (tau2 + per["V"])
    per["m"] = per["mu"] + w * (per["ybar"] - per["mu"])
    per["v"] = w * per["V"]
    out["mu"] = out["category"].map(mu).fillna(all_mu)
    out["n_past_promos"] = per["n"].reindex(out.index).fillna(0).astype(int)
    out["lift_sku_raw"] = np.exp(per["ybar"]).reindex(out.index)
    out["m"] = per["m"].reindex(out.index).fillna(out["mu"])
    out["v"] = per["v"].reindex(out.index).fillna(tau2)
    out["lift_source"] = np.where(out["n_past_promos"] > 0,
                                  source + ", pooled",
                                  source + ", category lift")
    # a SKU with no past occurrence of this promo: what the other promos say about it
    none = out["n_past_promos"] == 0
    cross, beta, resid = _cross_event(occ, kind if kind and len(occ[occ["kind"] == kind]) else None)
    other = none & out.index.isin(cross.index)
    out.loc[other, "m"] = out.loc[other, "mu"] + cross.reindex(out.index[other]).to_numpy()
    if np.isfinite(resid):
        out.loc[other, "v"] = resid
    out.loc[other, "lift_source"] = f"category × other promos (β={beta:.2f})"
    # a SKU with no past promo at all: what its price within its category says
    alone = none & ~other
    gamma, band = _price_band(per, skus, tau2)
    if gamma and alone.any():
        out.loc[alone, "m"] += gamma * band.reindex(out.index[alone]).fillna(0.0).to_numpy()
        out.loc[alone, "lift_source"] = f"category × price band (γ={gamma:.2f})"
    widest = per.groupby("category")["v"].max()
    out.loc[none, "v"] = np.fmax(out.loc[none, "v"], out.loc[none, "category"].map(widest).to_numpy(float))
    out["lift_category"] = np.exp(out["mu"] + (tau2 + omega2) / 2)
    out["lift"] = np.exp(out["m"] + (out["v"] + omega2) / 2)
    out["cv_l2"] = np.expm1(out["v"] + omega2)
    if seen.empty:   # nothing to learn from: lift 1, no lift error
        out["lift"], out["lift_category"], out["cv_l2"] = 1.0, 1.0, 0.0
    return out.drop(columns=["mu", "m", "v"]), source


def _price_band(per: pd.DataFrame, skus: pd.DataFrame, tau2: float) -> tuple[float, pd.Series]:
    """(γ*, x per SKU of skus.csv): what a SKU's price band says about its lift.

    ``x_i = log(price_i / median price of its category)``; among the SKUs with
    occurrences, ``r_i = ȳ_i − μ_c`` regressed on ``x_i`` through the origin with weights
    ``1/(τ² + V_i)`` gives ``γ`` and its variance ``s² = 1 / Σ w x²``, and ``γ`` is shrunk
    by its own evidence, ``γ* = γ · γ² / (γ² + s²)``, and kept only when ``|γ| / s``
    exceeds PRICE_Z: a catalogue whose cheap SKUs respond more to a promo gets it, one
    where price says nothing gets 0.  Needs ten SKUs with a price and an occurrence."""
    if "price" not in skus or per.empty:
        return 0.0, pd.Series(dtype=float)
    table = skus.drop_duplicates("sku").set_index("sku")
    price = pd.to_numeric(table["price"], errors="coerce").where(lambda p: p > 0)
    cats = table.get("category", pd.Series("", index=table.index)).fillna("")
    band = np.log(price / price.groupby(cats).transform("median"))
    x = band.reindex(per.index)
    w = 1 / (tau2 + per["V"])
    ok = np.isfinite(x)
    sxx = float((w * x * x)[ok].sum())
    if ok.sum() < 10 or sxx <= 0:
        return 0.0, band
    gamma = float((w * x * (per["ybar"] - per["mu"]))[ok].sum()) / sxx
    if gamma * gamma * sxx < PRICE_Z ** 2:   # not significant: price says nothing here
        return 0.0, band
    return gamma * gamma ** 2 / (gamma ** 2 + 1 / sxx), band


def _category_means(per: pd.DataFrame) -> tuple[pd.Series, float]:
    """(μ_c per category, τ²) of :func:`promo_lifts`: two rounds of precision weighting."""
    if per.empty:
        return pd.Series(dtype=float), TAU2_MIN
    tau2 = max(float(per["ybar"].var()) if len(per) > 1 else TAU2_MIN, TAU2_MIN)
    for _ in range(3):
        wt = 1 / (tau2 + per["V"])
        mu = (per["ybar"] * wt).groupby(per["category"]).sum() / wt.groupby(per["category"]).sum()
        resid = per["ybar"] - per["category"].map(mu)
        tau2 = max(float((resid ** 2).mean() - per["V"].mean()), TAU2_MIN) if len(per) > 2 else TAU2_MIN
    return mu, tau2
