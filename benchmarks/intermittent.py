"""Slow movers: the forecast's negative binomial against statsforecast's intermittent-demand
models, on the same pairs (used by ``forecast_benchmark.py``).

For a slow pair (expected promo demand under :data:`SLOW_MEAN` units, where the forecast
gives a negative binomial from its mean and sd) each model of :data:`MODELS` forecasts
the pair's **baseline**: its clean daily history (the forecast's own panel: promo days and
stockout days, flagged or inferred, left out; the last 364 such days) summed into buckets
of the promo's length, forecast up to the bucket before the promo, with an 80 %
conformal interval (``ConformalIntervals``, two windows).  The promo forecast is that
bucket × the method's own lift and factors (``mean / (baseline_rate × promo_days)``), its
P10 / P90 the interval's ends × the same: the models replace the baseline and its noise,
not the lift.  Scores as :mod:`optimizer.forecast.scoring`: WAPE against the expected
demand; 80 % coverage and pinball loss (P10, P50 = the point forecast, P90) against the
simulated outcome.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from optimizer.forecast.panel import build_panel
from optimizer.forecast.scoring import distribution_scores, point_scores

SLOW_MEAN = 30.0        # the forecast's count threshold (a negative binomial below it)
HISTORY_DAYS = 364
MODELS = ("CrostonOptimized", "TSB", "ADIDA", "IMAPA", "AutoETS")


def _models(h: int):
    from statsforecast.models import ADIDA, IMAPA, TSB, AutoETS, CrostonOptimized
    from statsforecast.utils import ConformalIntervals

    ci = ConformalIntervals(n_windows=2, h=h)
    return [CrostonOptimized(prediction_intervals=ci), TSB(alpha_d=0.1, alpha_p=0.1, prediction_intervals=ci),
            ADIDA(prediction_intervals=ci), IMAPA(prediction_intervals=ci),
            AutoETS(model="ZNN", prediction_intervals=ci)]


def bucket_forecasts(hist, campaign, pairs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """model -> (mean, lo, hi) per row of ``pairs`` (sku, warehouse): the forecast of the
    promo-length bucket just before the promo, with its 80 % conformal interval."""
    from statsforecast import StatsForecast

    cfg = campaign.config
    days = (cfg.promo_end - cfg.promo_start).days + 1
    end = pd.Timestamp(cfg.planning_date)
    cats = campaign.skus.set_index("sku").get("category", pd.Series(dtype=str))
    panel = build_panel(hist.sales, end, [p for p in hist.promos if pd.Timestamp(p.start) < end], cats)
    y = np.where(panel.promo, np.nan, panel.y)
    index = {(k.sku, k.location): i for i, k in enumerate(panel.keys.itertuples(index=False))}
    h = max(1, math.ceil((pd.Timestamp(cfg.promo_start) - end).days / days))
    frames = []
    for j, (sku, wh) in enumerate(zip(pairs["sku"], pairs["warehouse"])):
        i = index.get((sku, wh))
        if i is None:
            continue
        clean = y[i][~np.isnan(y[i])][-HISTORY_DAYS:]
        n = len(clean) // days
        if n < 3 * h:   # too short for two conformal windows and a fit
            continue
        sums = clean[len(clean) - n * days:].reshape(n, days).sum(axis=1)
        frames.append(pd.DataFrame({"unique_id": j, "ds": np.arange(n), "y": sums}))
    out = {m: pd.DataFrame(np.nan, index=range(len(pairs)), columns=["mean", "lo", "hi"]) for m in MODELS}
    if not frames:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = StatsForecast(models=_models(h), freq=1, n_jobs=1).forecast(
            df=pd.concat(frames, ignore_index=True), h=h, level=[80])
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    last = fc.groupby("unique_id").tail(1).set_index("unique_id")
    for m in MODELS:
        rows = last.index.to_numpy(int)
        out[m].loc[rows, "mean"] = np.maximum(last[m].to_numpy(float), 0.0)
        out[m].loc[rows, "lo"] = np.maximum(last[f"{m}-lo-80"].to_numpy(float), 0.0)
        out[m].loc[rows, "hi"] = np.maximum(last[f"{m}-hi-80"].to_numpy(float), 0.0)
    return out


def _interval_scores(outcome, mean, lo, hi) -> dict:
    a, m, lo, hi = (np.asarray(x, float) for x in (outcome, mean, lo, hi))
    ok = np.isfinite(a) & np.isfinite(m) & np.isfinite(lo) & np.isfinite(hi)
    a, m, lo, hi = a[ok], m[ok], lo[ok], hi[ok]
    if not len(a) or a.sum() <= 0:
        return {"coverage_80": float("nan"), "pinball_10": float("nan"), "pinball_50": float("nan"),
                "pinball_90": float("nan")}
    out = {"coverage_80": float(np.mean((a >= lo) & (a <= hi)))}
    for q, p in ((0.1, lo), (0.5, m), (0.9, hi)):
        e = a - p
        out[f"pinball_{round(q * 100)}"] = float(np.maximum(q * e, (q - 1) * e).sum() / a.sum())
    return out


def slow_mover_scores(hist, campaign, t: pd.DataFrame) -> dict:
    """Per-run scores on the slow pairs of ``t`` (truth merged with the forecast: expected,
    outcome, mean, sd, distribution, baseline_rate, promo_days): ``slow_pairs``, and
    ``{name}_wape``, ``{name}_coverage_80``, ``{name}_pinball_{10,50,90}`` for the method
    (``nb``) and each model of :data:`MODELS`, all on the pairs every model forecast."""
    slow = t[(t["expected"] < SLOW_MEAN) & t["mean"].notna() & (t["baseline_rate"] > 0)].reset_index(drop=True)
    fc = bucket_forecasts(hist, campaign, slow)
    both = np.all([fc[m]["mean"].notna().to_numpy() for m in MODELS], axis=0) if len(slow) else np.zeros(0, bool)
    s = slow[both]
    out = {"slow_pairs": int(both.sum()), "slow_expected_units": float(s["expected"].sum())}
    shape = s["distribution"].fillna("") if "distribution" in s else None
    nb = distribution_scores(s["outcome"], s["mean"], s["sd"], shape)
    out.update({f"nb_{k}": nb[k] for k in ("wape", "coverage_80", "pinball_10", "pinball_50", "pinball_90")})
    out["nb_wape"] = point_scores(s["expected"], s["mean"])["wape"]
    out["nb_abs_error_units"] = float((s["mean"] - s["expected"]).abs().sum())
    scale = (s["mean"] / (s["baseline_rate"] * s["promo_days"])).to_numpy(float)   # lift × factors
    for m in MODELS:
        f = fc[m][both]
        mean, lo, hi = (f[c].to_numpy(float) * scale for c in ("mean", "lo", "hi"))
        out[f"{m}_wape"] = point_scores(s["expected"], mean)["wape"]
        out[f"{m}_abs_error_units"] = float(np.abs(mean - s["expected"].to_numpy(float)).sum())
        out.update({f"{m}_{k}": v for k, v in _interval_scores(s["outcome"], mean, lo, hi).items()})
    return out


__all__ = ["MODELS", "SLOW_MEAN", "bucket_forecasts", "slow_mover_scores"]
