"""Promo demand forecast from sales history (``python -m optimizer forecast`` / ``backtest``).

The forecast is **gross** demand in the campaign's promo window, per (sku, warehouse):
returns are the model's business (SPEC §2, ``return_rate``), so nothing is
subtracted here.  For every pair, with every factor in the audit table:

    mean = baseline_rate × promo_days × lift × growth × ad_uplift × competition

1. *Clean days.*  Censored days (``stockout = 1`` or ``on_hand = 0``) are unknown
   demand, not zero demand: they are dropped from every fit.  An export with neither
   column has its stockout spells inferred instead: zero runs improbable for the
   series' own rate (:mod:`optimizer.forecast.censoring`), counted per pair in
   ``inferred_stockout_days`` and in a note.  Promo days (past promo windows, or
   ``promo = 1`` rows) are left out of the baseline.
2. *Baseline* — the daily rate in the 28 days before the promo.  Daily history is
   aggregated to weekly rates (mean of the clean days × 7; weeks with < 3 clean days
   are gaps, interpolated), divided by a trend × yearly seasonal index per category (a
   log-linear trend and 2-harmonic Fourier fit of pooled log weekly rates, the trend
   carried on to the promo), and forecast with statsforecast
   (``n_jobs=1``): AutoETS level (``ZNN``), AutoETS damped trend (``AAdN``), an 8-week
   window average and SeasonalNaive(52).  Each series keeps the model with the lowest
   absolute error in a rolling-origin backtest at the real horizon (two origins, 4
   weeks apart).  Series with < 12 weeks of history use their mean ("recent_mean").
3. *Lift* — for each past occurrence of the same event (by name: "Black Friday"), a
   SKU's lift is its promo-window rate over its own 28-day pre-promo rate (clean
   days, summed over its warehouses).  An occurrence more than 2.5× off the median of
   the SKU's other occurrences (a viral burst, an unseen stockout) is left out.  The
   SKUs' log lifts are pooled with their category's in a partial-pooling model
   (:func:`_lifts`): a well-measured lift is kept, a noisy one leans on the category,
   and the lift is the mean of the next occurrence's.  A SKU with no past occurrence
   (new, or it missed it) takes its category's lift times what the *other* promos say
   about it: ``exp(β·o)``, ``o`` its mean log lift over its category's in the other
   events and ``β`` the slope of the same relation among SKUs that have both
   (:func:`_cross_event`); with no other promo either, the category's lift.  An event
   never seen before uses every past promo's lift (flagged in ``lift_source``).
4. *Factors* — growth, ad_uplift, competition: sku row of factors.csv, else category
   row, else campaign.toml ``[forecast]``, else 1.
5. *sd* — from the method's own out-of-sample errors, not a fixed coefficient:
   ``var = mean + mean² · ((1 + cv_b²)(1 + cv_l²) − 1)`` where ``cv_b²`` is the
   baseline backtest's relative squared error (per category, Poisson noise removed)
   and ``cv_l²`` the relative variance of the SKU's next lift under the pooling model
   of step 3 — for a SKU with no past occurrence never below its category's SKUs'.
   That product misses part of the error (the lift is shrunk, the baseline errors of
   weeks and of promo windows differ, the tails are heavier than normal), so the sd is
   then *calibrated* end to end (:func:`_sd_calibration`): the whole method is re-run
   for up to two earlier past promos, each from the data before its own origin (same
   lead time), and the sd is scaled by the smallest factor whose [P10, P90] intervals
   (of each pair's chosen shape, step 7) hold 80 % of those out-of-sample promo
   outcomes, shrunk toward 1 (n / (n + 30) on the log scale, n = pairs).  An origin
   counts only with ≥ 300 days of history before it (the method's yearly index needs
   that); none: scale 1, said in the audit.
6. Market-level history (``market`` instead of ``warehouse``) is forecast per market
   and split over that market's warehouses by the SKU's existing demand.csv shares
   (equal shares if none).  ``demand_overrides.csv`` rows are applied last.
7. *Shape* (SPEC §7) — each pair's ``distribution`` in demand.csv, with its reason in
   the audit (:func:`choose_shapes`): a count (mean < 30) is a negative binomial; a
   SKU with no past occurrence, with a spike week in its history or in a category
   where a fifth of the SKUs had one, or with a relative sd ≥ 0.5 is lognormal; the
   rest normal.  Overrides and kept demand.csv rows keep a normal (or their own shape).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.forecast.censoring import infer_stockouts
from optimizer.forecast.history import FACTOR_NAMES, History, PastPromo
from optimizer.forecast.history import SALES_FILE as SALES_FILE_NAME
from optimizer.forecast.scoring import distribution_scores, point_scores, quantiles
from optimizer.io.campaign import Campaign

PRE_DAYS = 28          # pre-promo baseline window (days)
MIN_WEEK_DAYS = 3      # clean days for a weekly rate
MIN_SERIES_WEEKS = 12  # below: recent_mean
SEASON_WEEKS = 52
TREND_MAX = 0.5        # the category trend is at most ±50 % log growth a year
CV_ORIGINS = 2
CAL_ORIGINS = 2        # earlier promos re-forecast to calibrate the sd
CAL_MIN_DAYS = 300     # history before a calibration origin (the yearly index needs it)
CAL_SHRINK_PAIRS = 30  # log-scale shrinkage of the sd scale toward 1: n / (n + 30)
CAL_SCALES = (0.3, 5.0)  # the sd scales the calibration searches
MODELS = ("ets_level", "ets_damped_trend", "recent_mean", "seasonal_naive")
SPIKE_RATIO = 3.0      # a week above 3 × the median of the weeks before it is a spike
SPIKE_WEEKS = 8
SPIKE_MIN_UNITS = 20   # ... and sold at least this many units
COUNT_MEAN = 30.0      # promo demand below this mean is a count: negative binomial
SKEW_CV = 0.5          # relative sd from which the promo's uncertainty is skewed: lognormal
SPIKY_CATEGORY = 0.2   # a category where this share of SKUs had a spike week is spiky
OUTLIER_LOG = math.log(2.5)  # an occurrence's lift 2.5× off the SKU's others is not its response
TAU2_MIN = 0.005       # the smallest between-SKU variance of log lifts the pooling assumes


@dataclass
class Forecast:
    demand: pd.DataFrame   # sku, warehouse, mean, sd, distribution
    audit: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# ------------------------------------------------------------------ panel


@dataclass
class Panel:
    keys: pd.DataFrame      # sku, location, level, category
    start: pd.Timestamp
    y: np.ndarray           # (n, T) units; NaN = censored / before first sale row
    promo: np.ndarray       # (n, T) bool
    censored: np.ndarray    # (n, T) bool: flagged, or inferred
    inferred: np.ndarray    # (n, T) bool: censored by an improbable zero run (no flags)


def _panel(sales: pd.DataFrame, end: pd.Timestamp, promos: list[PastPromo],
           categories: pd.Series) -> Panel:
    """Daily units per series up to ``end``.  When the export has no stockout flags
    (``sales.attrs["flagged"]`` false, set by :func:`~optimizer.forecast.history.read_sales`),
    improbable zero runs are censored too (:func:`infer_stockouts`)."""
    infer = not sales.attrs.get("flagged", True)
    s = sales[sales["date"] < end]
    keys = s[["sku", "location", "level"]].drop_duplicates().reset_index(drop=True)
    keys["category"] = categories.reindex(keys["sku"]).fillna("").to_numpy()
    start = s["date"].min()
    T = (end - start).days
    n = len(keys)
    sid = pd.MultiIndex.from_frame(keys[["sku", "location"]]).get_indexer(
        pd.MultiIndex.from_frame(s[["sku", "location"]]))
    did = (s["date"] - start).dt.days.to_numpy()
    y = np.full((n, T), np.nan)
    first = pd.Series(did).groupby(sid).min()
    cols = np.arange(T)
    y[cols[None, :] >= first.reindex(range(n)).to_numpy()[:, None]] = 0.0
    y[sid, did] = s["units"].to_numpy()
    cens = np.zeros((n, T), bool)
    cens[sid, did] = s["censored"].to_numpy()
    y[cens] = np.nan
    promo = np.zeros((n, T), bool)
    promo[sid, did] = s["promo"].to_numpy()
    for p in promos:
        a = max(0, (pd.Timestamp(p.start) - start).days)
        b = min(T, (pd.Timestamp(p.end) - start).days + 1)
        if a < b:
            promo[:, a:b] = True
    inferred = infer_stockouts(y, promo) if infer else np.zeros((n, T), bool)
    y[inferred] = np.nan
    cens |= inferred
    return Panel(keys, start, y, promo, cens, inferred)


# ------------------------------------------------------------------ seasonality


def _fourier(doy: np.ndarray) -> np.ndarray:
    w = 2 * np.pi * np.asarray(doy, float) / 365.25
    return np.column_stack([np.cos(w), np.sin(w), np.cos(2 * w), np.sin(2 * w)])


def _yearly_index(rate: np.ndarray, mids: pd.DatetimeIndex, cats: np.ndarray) -> dict:
    """category -> coefficients of its log index: ``[g, a1, b1, a2, b2]``, the trend
    ``g`` (log growth per year, within ±TREND_MAX) and the 2-harmonic Fourier
    seasonality, fitted together by least squares on the demeaned log weekly rates of
    the category's series with a year of history (so a launch's ramp-up is no trend)
    selling ≥ 3 a week.  Zeros: no trend, no seasonality (under 300 days of history)."""
    out = {}
    span_ok = (mids[-1] - mids[0]).days >= 300
    X_all = _fourier(mids.day_of_year.to_numpy())
    t = _years(mids, mids[0])
    for cat in np.unique(cats):
        beta = np.zeros(5)
        rows = rate[cats == cat]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            good = (np.sum(~np.isnan(rows), axis=1) >= SEASON_WEEKS) & (np.nanmean(rows, axis=1) >= 3)
        if span_ok and good.any():
            r = np.log(rows[good] + 0.5)
            r = r - np.nanmean(r, axis=1, keepdims=True)
            ii, jj = np.nonzero(~np.isnan(r))
            if len(ii) > 60:
                X = np.column_stack([t[jj], X_all[jj]])
                coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(jj)), X]), r[ii, jj], rcond=None)
                beta = coef[1:]
                beta[0] = float(np.clip(beta[0], -TREND_MAX, TREND_MAX))
        out[cat] = beta
    return out


def _years(dates, origin: pd.Timestamp) -> np.ndarray:
    return ((pd.DatetimeIndex(dates) - origin).days / 365.25).to_numpy()


def _index(beta: np.ndarray, dates, origin: pd.Timestamp) -> np.ndarray:
    """The category's trend × seasonal index on ``dates`` (trend counted from ``origin``)."""
    dates = pd.DatetimeIndex(dates)
    return np.exp(beta[0] * _years(dates, origin) + _fourier(dates.day_of_year.to_numpy()) @ beta[1:])


# ------------------------------------------------------------------ baseline models


def _statsforecast(z: np.ndarray, ok_rows: np.ndarray, h: int) -> dict[str, np.ndarray]:
    """Forecast h weeks for each row of z (NaN-free from its first value) with the
    statsforecast candidates; returns model -> (n, h) array (NaN where not fitted)."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, SeasonalNaive, WindowAverage

    n = len(z)
    out = {m: np.full((n, h), np.nan) for m in MODELS}
    rows, ids, ds, ys = [], [], [], []
    for i in np.nonzero(ok_rows)[0]:
        v = z[i]
        first = int(np.argmax(~np.isnan(v)))
        v = v[first:]
        if len(v) < MIN_SERIES_WEEKS or np.isnan(v).any():
            continue
        ids.append(np.full(len(v), i))
        ds.append(np.arange(len(v)))
        ys.append(v)
        rows.append((i, len(v)))
    if not rows:
        return out
    df = pd.DataFrame({"unique_id": np.concatenate(ids), "ds": np.concatenate(ds),
                       "y": np.concatenate(ys)})
    long_ids = {i for i, L in rows if L >= SEASON_WEEKS + 8}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sf = StatsForecast(models=[AutoETS(model="ZNN", alias="ets_level"),
                                   AutoETS(model="AAN", damped=True, alias="ets_damped_trend"),
                                   WindowAverage(window_size=8, alias="recent_mean")],
                           freq=1, n_jobs=1, fallback_model=WindowAverage(window_size=8))
        fc = sf.forecast(df=df, h=h)
        parts = [fc]
        if long_ids:
            sn = StatsForecast(models=[SeasonalNaive(season_length=SEASON_WEEKS, alias="seasonal_naive")],
                               freq=1, n_jobs=1)
            parts.append(sn.forecast(df=df[df["unique_id"].isin(long_ids)], h=h))
    for part in parts:
        part = part.reset_index() if "unique_id" not in part.columns else part
        uid = part["unique_id"].astype(int).to_numpy()
        step = part.groupby("unique_id").cumcount().to_numpy()
        for m in MODELS:
            if m in part.columns:
                out[m][uid, step] = np.maximum(part[m].to_numpy(float), 0.0)
    return out


def _weekly(panel: Panel) -> tuple[np.ndarray, pd.DatetimeIndex, int]:
    """(n, W) weekly baseline rates aligned to end the day before ``end``; week mids; offset."""
    T = panel.y.shape[1]
    W = T // 7
    off = T - 7 * W
    base = np.where(panel.promo, np.nan, panel.y)[:, off:].reshape(len(panel.y), W, 7)
    count = np.sum(~np.isnan(base), axis=2)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rate = np.where(count >= MIN_WEEK_DAYS, np.nanmean(base, axis=2) * 7, np.nan)
    mids = panel.start + pd.to_timedelta(off + 7 * np.arange(W) + 3, unit="D")
    return rate, pd.DatetimeIndex(mids), off


def _fill(z: np.ndarray) -> np.ndarray:
    """Interpolate gaps inside each row (leading NaN kept, trailing NaN carried forward)."""
    df = pd.DataFrame(z.T)
    return df.interpolate(limit_area="inside").ffill().where(df.bfill().notna() | df.ffill().notna()).to_numpy().T


def _spike_weeks(z: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Per series, the weeks whose deseasonalised rate is above SPIKE_RATIO × the median
    of the SPIKE_WEEKS weeks before it (and sold at least SPIKE_MIN_UNITS): viral bursts,
    not a season or a promo (promo days are not in these rates)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        before = pd.DataFrame(z.T).rolling(SPIKE_WEEKS, min_periods=4).median().shift(1).to_numpy().T
    spikes = (z > SPIKE_RATIO * before) & (units >= SPIKE_MIN_UNITS)
    return np.sum(spikes, axis=1)


def _baseline(panel: Panel, target_start: pd.Timestamp) -> pd.DataFrame:
    rate, mids, _ = _weekly(panel)
    cats = panel.keys["category"].to_numpy()
    betas = _yearly_index(rate, mids, cats)
    idx = (np.vstack([_index(betas[c], mids, mids[0]) for c in cats]) if len(cats)
           else np.zeros((0, len(mids))))
    z_raw = rate / idx
    z = _fill(z_raw)
    end = panel.start + pd.Timedelta(days=panel.y.shape[1])   # first day after the data
    pre = pd.date_range(target_start - pd.Timedelta(days=PRE_DAYS), target_start - pd.Timedelta(days=1))
    ahead = np.maximum(1, np.ceil(((pre - end).days + 1) / 7).astype(int))
    H = int(ahead.max())
    W = z.shape[1]
    n_valid = np.sum(~np.isnan(z_raw), axis=1)
    span = W - np.argmax(~np.isnan(z), axis=1)
    fit_ok = (n_valid >= MIN_SERIES_WEEKS) & np.any(~np.isnan(z), axis=1)

    # rolling-origin backtest at the real horizon: forecast weeks H-3..H from W-H-4k
    errs = {m: np.zeros(len(z)) for m in MODELS}
    counted = np.zeros(len(z))
    cv_f, cv_a = [], []
    for k in range(CV_ORIGINS):
        o = W - H - 4 * k
        if o < MIN_SERIES_WEEKS + 4:
            continue
        zo = z[:, :o]
        ok = fit_ok & (np.sum(~np.isnan(z_raw[:, :o]), axis=1) >= MIN_SERIES_WEEKS)
        fc = _statsforecast(zo, ok, H)
        lo = max(0, H - 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            actual = np.nanmean(z_raw[:, o + lo:o + H], axis=1)
            ix = np.nanmean(idx[:, o + lo:o + H], axis=1)
        have = ok & ~np.isnan(actual)
        for m in MODELS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                f = np.nanmean(fc[m][:, lo:H], axis=1)
            e = np.abs(f - actual) * ix
            errs[m] += np.where(have & ~np.isnan(e), e, np.where(have, np.inf if m == "seasonal_naive" else 1e9, 0))
        counted += have
        cv_f.append(np.where(have, ix, np.nan))
        cv_a.append(actual)
        cv_f[-1] = (cv_f[-1], fc, lo, H)
    choice = np.array([min(MODELS, key=lambda m: errs[m][i]) if counted[i] else "ets_level"
                       for i in range(len(z))], dtype=object)
    choice[~fit_ok] = "recent_mean"

    # baseline-error coefficient from the chosen models' backtest errors
    cvb_num = {c: 0.0 for c in np.unique(cats)}
    cvb_den = {c: 0.0 for c in np.unique(cats)}
    for (ix, fc, lo, H_), actual in zip(cv_f, cv_a):
        for i in np.nonzero(~np.isnan(ix) & ~np.isnan(actual))[0]:
            f = np.nanmean(fc[choice[i]][i, lo:H_]) * ix[i] if choice[i] in fc else np.nan
            if np.isnan(f) or f <= 0:
                continue
            a = actual[i] * ix[i]
            cvb_num[cats[i]] += (f - a) ** 2 - f / 4  # Poisson part of a 4-week mean
            cvb_den[cats[i]] += f * f

    fc = _statsforecast(z, fit_ok, H)
    rows = []
    for i in range(len(z)):
        valid = z_raw[i][~np.isnan(z_raw[i])]
        m = choice[i]
        if m == "recent_mean" and not fit_ok[i]:
            path = np.full(H, valid[-8:].mean()) if len(valid) else np.full(H, np.nan)
        else:
            path = fc[m][i]
            if np.all(np.isnan(path)):
                m, path = "ets_level", fc["ets_level"][i]
        if len(valid) and not np.nanmax(path[ahead - 1], initial=0.0) > 0 and valid[-8:].mean() > 0:
            # a trend extrapolated to zero for a series still selling is not believed
            m, path = "recent_mean", np.full(H, valid[-8:].mean())
        daily = path[ahead - 1] / 7 * _index(betas[cats[i]], pre, mids[0])
        rows.append((m, float(np.mean(daily)) if len(valid) else np.nan, len(valid)))
    out = pd.DataFrame(rows, columns=["method", "baseline_rate", "history_weeks"])
    total_num, total_den = sum(cvb_num.values()), sum(cvb_den.values())
    pooled = max(0.0, total_num / total_den) if total_den > 0 else 0.25
    cvb = {c: (max(0.0, cvb_num[c] / cvb_den[c]) if cvb_den[c] > 0 else pooled) for c in cvb_num}
    out["cv_b2"] = [cvb[c] for c in cats]
    out["spike_weeks"] = _spike_weeks(z_raw, rate)
    out["history_days"] = np.sum(~np.isnan(panel.y), axis=1)
    out["censored_days"] = panel.censored.sum(axis=1)
    out["inferred_stockout_days"] = panel.inferred.sum(axis=1)
    del span
    return out


# ------------------------------------------------------------------ lift


def _occurrence_table(panel: Panel, promos: list[PastPromo]) -> pd.DataFrame:
    """Per (sku, past promo): pre-promo baseline units and promo units, clean days only."""
    base = np.where(panel.promo, np.nan, panel.y)
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
            win = panel.y[:, a:b]
            ok = (np.sum(~np.isnan(pre), axis=1) >= 10) & (np.sum(~np.isnan(win), axis=1) * 2 >= b - a)
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


def _lifts(occ: pd.DataFrame, kind: str | None, skus: pd.DataFrame) -> tuple[pd.DataFrame, str]:
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
      (:func:`_cross_event`; ``v`` = that prediction's residual variance), else
      ``v = τ²``; never below the largest ``v`` of its category's SKUs with occurrences.

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
            else "none: no past promo in history (lift 1)"
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
    widest = per.groupby("category")["v"].max()
    out.loc[none, "v"] = np.fmax(out.loc[none, "v"], out.loc[none, "category"].map(widest).to_numpy(float))
    out["lift_category"] = np.exp(out["mu"] + (tau2 + omega2) / 2)
    out["lift"] = np.exp(out["m"] + (out["v"] + omega2) / 2)
    out["cv_l2"] = np.expm1(out["v"] + omega2)
    if seen.empty:   # nothing to learn from: lift 1, no lift error
        out["lift"], out["lift_category"], out["cv_l2"] = 1.0, 1.0, 0.0
    return out.drop(columns=["mu", "m", "v"]), source


def _category_means(per: pd.DataFrame) -> tuple[pd.Series, float]:
    """(μ_c per category, τ²) of :func:`_lifts`: two rounds of precision weighting."""
    if per.empty:
        return pd.Series(dtype=float), TAU2_MIN
    tau2 = max(float(per["ybar"].var()) if len(per) > 1 else TAU2_MIN, TAU2_MIN)
    for _ in range(3):
        wt = 1 / (tau2 + per["V"])
        mu = (per["ybar"] * wt).groupby(per["category"]).sum() / wt.groupby(per["category"]).sum()
        resid = per["ybar"] - per["category"].map(mu)
        tau2 = max(float((resid ** 2).mean() - per["V"].mean()), TAU2_MIN) if len(per) > 2 else TAU2_MIN
    return mu, tau2


# ------------------------------------------------------------------ factors


def _factors(skus: pd.DataFrame, hist: History | None) -> pd.DataFrame:
    cats = skus.get("category", pd.Series("", index=skus.index)).fillna("")
    out = pd.DataFrame({"sku": skus["sku"].to_numpy()}, index=skus["sku"].to_numpy())
    for name in FACTOR_NAMES:
        value = pd.Series((hist.campaign_factors.get(name, 1.0) if hist else 1.0), index=out.index)
        if hist is not None and len(hist.factors):
            f = hist.factors
            bycat = f[f["scope"] == "category"].set_index("key")[name].dropna()
            bysku = f[f["scope"] == "sku"].set_index("key")[name].dropna()
            value = pd.Series(cats.map(bycat).to_numpy(), index=out.index).fillna(value)
            value = out["sku"].map(bysku).fillna(value)
        out[name] = value.astype(float)
    return out


# ------------------------------------------------------------------ the forecast


def _core(sales: pd.DataFrame, promos: list[PastPromo], kind: str | None, skus: pd.DataFrame,
          end: pd.Timestamp, target_start: pd.Timestamp, target_end: pd.Timestamp,
          hist_for_factors: History | None) -> pd.DataFrame:
    """Series-level forecast (sku, location, level) for a target promo window."""
    cats = skus.set_index("sku").get("category", pd.Series(dtype=str))
    panel = _panel(sales, end, [p for p in promos if pd.Timestamp(p.end) < end], cats)
    base = _baseline(panel, target_start)
    occ = _occurrence_table(panel, [p for p in promos if pd.Timestamp(p.end) < end])
    lifts, _ = _lifts(occ, kind, skus)
    fac = _factors(skus, hist_for_factors)
    out = pd.concat([panel.keys.reset_index(drop=True), base], axis=1)
    out["first_date"] = [panel.start + pd.Timedelta(days=int(np.argmax(~np.isnan(r) | panel.censored[i])))
                         for i, r in enumerate(panel.y)]
    days = (target_end - target_start).days + 1
    out["promo_days"] = days
    out["baseline"] = out["baseline_rate"] * days
    for col in ("lift_sku_raw", "n_past_promos", "lift_category", "lift", "lift_source", "cv_l2"):
        out[col] = out["sku"].map(lifts[col]).to_numpy()
    for name in FACTOR_NAMES:
        out[name] = out["sku"].map(fac[name]).to_numpy()
    out["mean"] = out["baseline"] * out["lift"] * out["growth"] * out["ad_uplift"] * out["competition"]
    rel = (1 + out["cv_b2"]) * (1 + out["cv_l2"]) - 1
    out["sd"] = np.sqrt(out["mean"] + out["mean"] ** 2 * rel)
    return out


@dataclass
class SdCalibration:
    """Scale applied to the sd, from earlier promos forecast out of sample."""
    scale: float = 1.0
    origins: list[str] = field(default_factory=list)   # "Prime Day 2025 from 2025-03-31"
    pairs: int = 0
    coverage_80_raw: float = float("nan")   # of [P10, P90] before scaling, on those promos
    scale_raw: float = 1.0                  # the smallest scale covering 80 %, before shrinkage

    @property
    def source(self) -> str:
        if not self.origins:
            return "uncalibrated: no earlier promo with enough history before it"
        return (f"x{self.scale:.3f} from {self.pairs} out-of-sample pairs of "
                + "; ".join(self.origins))


def _sd_calibration(sales: pd.DataFrame, promos: list[PastPromo], skus: pd.DataFrame,
                    end: pd.Timestamp, lead_days: int) -> SdCalibration:
    """sd scale from the same method's out-of-sample forecasts of earlier promos.

    Every past promo that ended before ``end`` and has ≥ CAL_MIN_DAYS of history before
    its origin (start − lead) is a candidate; the CAL_ORIGINS most recent are forecast
    from the data before their origin exactly as the campaign is (``_core``), and
    scored on their actual promo units (pairs with a censored promo day left out).
    Only data before ``end`` is read, so a backtest never calibrates on its target."""
    if not len(sales):
        return SdCalibration()
    first = sales["date"].min()
    origins = []
    for p in sorted(promos, key=lambda p: p.start, reverse=True):
        origin = pd.Timestamp(p.start) - pd.Timedelta(days=lead_days)
        if pd.Timestamp(p.end) < end and (origin - first).days >= CAL_MIN_DAYS:
            origins.append((p, origin))
        if len(origins) == CAL_ORIGINS:
            break
    if not origins:
        return SdCalibration()
    cats = skus.set_index("sku").get("category", pd.Series(dtype=str))
    known = _panel(sales, end, promos, cats)
    key = pd.MultiIndex.from_frame(known.keys[["sku", "location"]])
    parts, names = [], []
    for p, origin in origins:
        fc = _core(sales, promos, p.kind, skus, origin, pd.Timestamp(p.start), pd.Timestamp(p.end), None)
        actual = _window_units(known, p.start, p.end)[
            key.get_indexer(pd.MultiIndex.from_frame(fc[["sku", "location"]]))]
        shape, _ = choose_shapes(fc, p.kind)
        ok = np.isfinite(actual) & (fc["sd"].to_numpy(float) > 0)
        parts.append(pd.DataFrame({"actual": actual[ok], "mean": fc["mean"].to_numpy(float)[ok],
                                   "sd": fc["sd"].to_numpy(float)[ok], "shape": shape.to_numpy()[ok]}))
        names.append(f"{p.name} from {origin.date()}")
    scored = pd.concat(parts, ignore_index=True)
    n = len(scored)
    if n == 0:
        return SdCalibration()

    def coverage(scale: float) -> float:
        q = quantiles((0.1, 0.9), scored["mean"], scored["sd"] * scale, scored["shape"])
        return float(np.mean((scored["actual"] >= q[0]) & (scored["actual"] <= q[1])))

    grid = np.exp(np.linspace(math.log(CAL_SCALES[0]), math.log(CAL_SCALES[1]), 81))
    covered = np.array([coverage(g) for g in grid])
    raw = float(grid[np.argmax(covered >= 0.8)] if (covered >= 0.8).any() else grid[-1])
    scale = math.exp(n / (n + CAL_SHRINK_PAIRS) * math.log(raw))
    return SdCalibration(scale, names, n, coverage(1.0), raw)


def _calibrate(series: pd.DataFrame, cal: SdCalibration) -> None:
    """sd ← scale × sd (never below the Poisson sd); the uncalibrated sd is kept."""
    series["sd_uncalibrated"] = series["sd"]
    series["sd_scale"] = cal.scale
    series["sd"] = np.maximum(series["sd"] * cal.scale, np.sqrt(series["mean"]))


def forecast_campaign(campaign: Campaign, hist: History, progress=None) -> Forecast:
    """The promo demand forecast of ``campaign`` from its sales history.

    ``progress`` (a callable of one message) hears each stage as it ends; a
    :class:`~optimizer.progress.Progress` also shows the stage that runs.
    """
    import time

    from optimizer.progress import set_status

    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    cfg = campaign.config
    end = pd.Timestamp(cfg.planning_date)
    if len(hist.sales):
        end = min(end, hist.sales["date"].max() + pd.Timedelta(days=1))
    notes = list(hist.notes)
    if hist.promo_kind and not any(p.kind == hist.promo_kind for p in hist.promos):
        notes.append(f"no past occurrence of '{hist.promo_kind}': lift from all past promos")
    set_status(progress, f"baseline and promo lift of {campaign.skus['sku'].nunique()} SKUs from sales "
                         f"up to {(end - pd.Timedelta(days=1)).date()}")
    series = _core(hist.sales, hist.promos, hist.promo_kind, campaign.skus, end,
                   pd.Timestamp(cfg.promo_start), pd.Timestamp(cfg.promo_end), hist)
    say(f"baseline and promo lift: {len(series)} series in {time.perf_counter() - t0:.1f}s")
    set_status(progress, "calibrating the sd on past promos forecast out of sample")
    cal = _sd_calibration(hist.sales, hist.promos, campaign.skus, end,
                          (cfg.promo_start - cfg.planning_date).days)
    _calibrate(series, cal)
    say(f"sd calibration: {cal.source}")
    set_status(progress, "splitting market series over warehouses, applying overrides")
    notes.append(f"sd calibration: {cal.source}")
    if not hist.flagged:
        days = series["inferred_stockout_days"]
        notes.append(f"{SALES_FILE_NAME} has no stockout or on_hand column: {int(days.sum()):,} zero-sales "
                     f"day(s) in {int((days > 0).sum())} of {len(series)} series were improbable for the "
                     "series' own rate and inferred as stockouts (censored; inferred_stockout_days "
                     "in forecast_audit.csv)")

    # series -> (sku, warehouse): market-level series split over the market's warehouses
    whs = campaign.warehouses
    existing = campaign.demand.set_index(["sku", "warehouse"])["mean"]
    parts = []
    for level, g in series.groupby("level"):
        if level == "warehouse":
            parts.append(g.assign(warehouse=g["location"], split_share=1.0))
            continue
        for r in g.itertuples(index=False):
            names = list(whs.loc[whs["market"] == r.location, "warehouse"])
            prior = np.array([existing.get((r.sku, w), 0.0) for w in names], float)
            share = prior / prior.sum() if prior.sum() > 0 else np.full(len(names), 1 / len(names))
            for w, s in zip(names, share):
                parts.append(pd.DataFrame([{**r._asdict(), "warehouse": w, "split_share": float(s)}]))
    audit = pd.concat(parts, ignore_index=True) if parts else series.assign(warehouse="", split_share=1.0)
    s = audit["split_share"]
    audit["baseline"] *= s
    audit["mean"] *= s
    mean0 = audit["mean"] / s.where(s > 0, 1)   # the market series' mean
    for col in ("sd", "sd_uncalibrated"):          # scale the relative part, re-add Poisson
        audit[col] = np.sqrt(audit["mean"] + (audit[col] ** 2 - mean0).clip(lower=0) * s * s)

    # pairs in demand.csv with no history: keep the analyst's row (flagged)
    have = set(zip(audit["sku"], audit["warehouse"]))
    kept = campaign.demand[[(a, b) not in have for a, b in zip(campaign.demand["sku"], campaign.demand["warehouse"])]]
    if len(kept):
        notes.append(f"{len(kept)} (sku, warehouse) pair(s) of demand.csv have no sales history: "
                     "their demand.csv rows are kept (method 'no history: demand.csv kept')")
        cats = campaign.skus.set_index("sku").get("category", pd.Series(dtype=str))
        audit = pd.concat([audit, pd.DataFrame({
            "sku": kept["sku"], "warehouse": kept["warehouse"], "location": kept["warehouse"],
            "level": "warehouse", "category": cats.reindex(kept["sku"]).fillna("").to_numpy(),
            "method": "no history: demand.csv kept", "history_days": 0, "history_weeks": 0,
            "mean": kept["mean"], "sd": kept["sd"]})], ignore_index=True)
    audit["override"] = False
    audit["note"] = ""
    ov = hist.overrides
    if len(ov):
        key = audit.set_index(["sku", "warehouse"]).index
        for r in ov.itertuples(index=False):
            hit = key == (r.sku, r.warehouse)
            if hit.any():
                audit.loc[hit, "forecast_mean"] = audit.loc[hit, "mean"]
                audit.loc[hit, "forecast_sd"] = audit.loc[hit, "sd"]
                audit.loc[hit, "mean"] = r.mean
                if not pd.isna(r.sd):
                    audit.loc[hit, "sd"] = r.sd
            else:
                audit = pd.concat([audit, pd.DataFrame([{"sku": r.sku, "warehouse": r.warehouse,
                                                         "method": "override only", "mean": r.mean,
                                                         "sd": 0.0 if pd.isna(r.sd) else r.sd}])],
                                  ignore_index=True)
                hit = (audit["sku"] == r.sku) & (audit["warehouse"] == r.warehouse)
            audit.loc[hit, "override"] = True
            audit.loc[hit, "note"] = str(r.note or "analyst override")
        notes.append(f"{len(ov)} analyst override(s) applied from demand_overrides.csv")
    unseen = sorted(set(campaign.skus["sku"]) - set(audit["sku"]))
    if unseen:
        notes.append(f"{len(unseen)} SKU(s) of skus.csv have no sales history and no demand.csv or "
                     f"override row: not forecast (zero demand): {', '.join(unseen[:10])}"
                     + (" ..." if len(unseen) > 10 else "") + " — add them to demand_overrides.csv")
    bad = audit["mean"].isna()
    if bad.any():
        notes.append(f"{int(bad.sum())} pair(s) have no usable history and no override: left out "
                     "(zero demand) — add them to demand_overrides.csv")
    audit["distribution"], audit["distribution_reason"] = choose_shapes(audit, hist.promo_kind)
    if len(kept):   # the analyst's rows keep their own shape
        shape = (kept["distribution"] if "distribution" in kept else pd.Series("normal", index=kept.index))
        keys = audit.set_index(["sku", "warehouse"]).index
        for sku, wh, d in zip(kept["sku"], kept["warehouse"], shape):
            hit = (keys == (sku, wh)) & (audit["method"] == "no history: demand.csv kept")
            audit.loc[hit, "distribution"] = d or "normal"
            audit.loc[hit, "distribution_reason"] = "demand.csv's own row"
    audit.loc[audit["override"], "distribution"] = "normal"
    audit.loc[audit["override"], "distribution_reason"] = "analyst override: mean and sd as given"
    audit = audit.sort_values(["sku", "warehouse"]).reset_index(drop=True)
    cols = ["sku", "warehouse", "category", "level", "method", "history_days", "history_weeks",
            "censored_days", "inferred_stockout_days", "spike_weeks", "first_date", "baseline_rate",
            "promo_days", "baseline", "lift_sku_raw", "n_past_promos", "lift_category", "lift",
            "lift_source", *FACTOR_NAMES, "split_share", "cv_b2", "cv_l2", "sd_uncalibrated",
            "sd_scale", "mean", "sd", "distribution", "distribution_reason", "override", "note"]
    audit = audit.reindex(columns=cols + [c for c in ("forecast_mean", "forecast_sd") if c in audit])
    demand = audit.loc[~bad, ["sku", "warehouse", "mean", "sd", "distribution"]].reset_index(drop=True)
    return Forecast(demand, audit, notes, time.perf_counter() - t0)


def choose_shapes(audit: pd.DataFrame, kind: str | None) -> tuple[pd.Series, pd.Series]:
    """The SPEC §7 demand shape of each forecast pair, and why (in this order):

    1. ``mean < COUNT_MEAN`` — a count: ``negative_binomial`` (its sd² is above the
       mean, the forecast's Poisson part plus the lift and baseline errors; a normal
       would put probability on negative demand);
    2. a SKU with no past occurrence of the promo (new, or it missed it) — its lift is
       the category's, or read off other promos: ``lognormal``;
    3. a SKU with a spike week in its history, or in a category where SPIKY_CATEGORY of
       the SKUs had one (viral bursts, :func:`_spike_weeks`): ``lognormal``;
    4. a relative sd of SKEW_CV or more: ``lognormal`` (a multiplicative error that
       large is skewed: a normal would have a tenth of its mass below zero);
    5. otherwise ``normal``.
    """
    mean = audit["mean"].astype(float)
    cv = audit["sd"].astype(float) / mean.where(mean > 0)
    spikes = audit.groupby("sku")["spike_weeks"].transform("sum").fillna(0)
    spiky_sku = audit.groupby("sku")["spike_weeks"].sum() > 0
    cats = audit.drop_duplicates("sku").set_index("sku")["category"].reindex(spiky_sku.index)
    share = spiky_sku.groupby(cats).mean()
    cat_share = audit["category"].map(share).fillna(0.0)
    new = audit["n_past_promos"].fillna(0) == 0
    promo = f"'{kind}'" if kind else "promo"
    dist = pd.Series("normal", index=audit.index, dtype=object)
    reason = pd.Series("", index=audit.index, dtype=object)
    rules = [
        (mean < COUNT_MEAN, "negative_binomial",
         lambda i: f"count demand: mean {mean[i]:.1f} < {COUNT_MEAN:g}, sd {audit['sd'][i]:.1f} (sd² > mean)"),
        (new, "lognormal", lambda i: f"no past {promo} for this SKU: its lift is a category estimate"),
        (spikes > 0, "lognormal", lambda i: f"{int(spikes[i])} spike week(s) in the SKU's history"),
        (cat_share >= SPIKY_CATEGORY, "lognormal",
         lambda i: f"{cat_share[i]:.0%} of the category's SKUs had a spike week"),
        (cv >= SKEW_CV, "lognormal", lambda i: f"relative sd {cv[i]:.2f} ≥ {SKEW_CV:g}: skewed"),
    ]
    left = pd.Series(True, index=audit.index)
    for hit, shape, why in rules:
        pick = left & hit.fillna(False)
        dist[pick] = shape
        reason[pick] = [why(i) for i in audit.index[pick]]
        left &= ~pick
    reason[left] = [f"relative sd {cv[i]:.2f}, no spikes, past {promo} seen" for i in audit.index[left]]
    return dist, reason


def write_forecast(fc: Forecast, campaign_dir: Path, out: Path | None = None) -> tuple[Path, Path]:
    """demand.csv if the folder has none, else demand_forecast.csv (never overwrite)."""
    campaign_dir = Path(campaign_dir)
    if out is None:
        out = campaign_dir / ("demand_forecast.csv" if (campaign_dir / "demand.csv").exists()
                              else "demand.csv")
    elif out.exists():
        raise FileExistsError(f"{out} exists: choose another --out (nothing was written)")
    audit_path = out.parent / "forecast_audit.csv"
    d = fc.demand
    text = pd.DataFrame({"sku": d["sku"], "warehouse": d["warehouse"],
                         "mean": d["mean"].map(lambda v: f"{v:.1f}"),
                         "sd": d["sd"].map(lambda v: f"{v:.1f}"),
                         "distribution": d["distribution"].fillna("normal")})
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    text.to_csv(tmp, index=False, lineterminator="\n")
    atmp = audit_path.with_name(audit_path.name + ".tmp")
    audit = fc.audit.copy()
    for col in ("mean", "sd", "forecast_mean", "forecast_sd"):   # as demand.csv has them
        if col in audit:
            audit[col] = audit[col].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    audit.to_csv(atmp, index=False, lineterminator="\n", float_format="%.4g")
    tmp.replace(out)
    atmp.replace(audit_path)
    return out, audit_path


# ------------------------------------------------------------------ backtest


def _window_units(panel: Panel, a: dt.date, b: dt.date, scale_days: int | None = None) -> np.ndarray:
    """Units per series in [a, b]; NaN if any day is censored or before history."""
    i = (pd.Timestamp(a) - panel.start).days
    j = (pd.Timestamp(b) - panel.start).days + 1
    if i < 0 or j > panel.y.shape[1]:
        return np.full(len(panel.y), np.nan)
    w = panel.y[:, i:j]
    tot = np.where(np.isnan(w).any(axis=1), np.nan, w.sum(axis=1))
    return tot * (scale_days / (j - i) if scale_days else 1.0)


def backtest(campaign: Campaign, hist: History, kind: str | None = None,
             lead_days: int | None = None) -> dict:
    """Forecast the most recent past promo (of the campaign's kind when there is one)
    from the data before it; WAPE and bias against seasonal naive and last year's
    same promo.  Pairs with a censored promo day are left out (demand unknown)."""
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    kind = kind or hist.promo_kind
    end_all = hist.sales["date"].max() + pd.Timedelta(days=1)
    done = [p for p in hist.promos if pd.Timestamp(p.end) < end_all]
    same = [p for p in done if kind and p.kind == kind]
    if not done:
        raise ValueError("no past promo inside the sales history: nothing to backtest")
    target = (same or done)[-1]
    lead = lead_days if lead_days is not None else (campaign.config.promo_start - campaign.config.planning_date).days
    cutoff = pd.Timestamp(target.start) - pd.Timedelta(days=lead)
    fc = _core(hist.sales, hist.promos, target.kind, campaign.skus, cutoff,
               pd.Timestamp(target.start), pd.Timestamp(target.end), None)
    # calibrated on promos before the cutoff only: the target is never seen
    cal = _sd_calibration(hist.sales, hist.promos, campaign.skus, cutoff, lead)
    _calibrate(fc, cal)
    cats = campaign.skus.set_index("sku").get("category", pd.Series(dtype=str))
    full = _panel(hist.sales, end_all, hist.promos, cats)
    key = pd.MultiIndex.from_frame(full.keys[["sku", "location"]])
    pos = key.get_indexer(pd.MultiIndex.from_frame(fc[["sku", "location"]]))
    actual = _window_units(full, target.start, target.end)[pos]

    prev = [p for p in hist.promos if p.kind == target.kind and p.end < target.start]
    last_year = (_window_units(full, prev[-1].start, prev[-1].end, target.days)[pos] if prev
                 else np.full(len(fc), np.nan))

    # seasonal naive (weekly season) on daily history up to the cutoff
    before = _panel(hist.sales, cutoff, hist.promos, cats)
    bpos = pd.MultiIndex.from_frame(before.keys[["sku", "location"]]).get_indexer(
        pd.MultiIndex.from_frame(fc[["sku", "location"]]))
    y = _fill(before.y)
    h = (pd.Timestamp(target.end) - cutoff).days + 1
    ids, ds, ys = [], [], []
    for i in range(len(y)):
        v = y[i][~np.isnan(y[i])]
        if len(v) >= 7:
            ids.append(np.full(len(v), i))
            ds.append(np.arange(len(v)))
            ys.append(v)
    df = pd.DataFrame({"unique_id": np.concatenate(ids), "ds": np.concatenate(ds), "y": np.concatenate(ys)})
    sn = StatsForecast(models=[SeasonalNaive(season_length=7)], freq=1, n_jobs=1).forecast(df=df, h=h)
    sn = sn.reset_index() if "unique_id" not in sn.columns else sn
    sn["step"] = sn.groupby("unique_id").cumcount()
    sn = sn[sn["step"] >= h - target.days].groupby("unique_id")["SeasonalNaive"].sum()
    snaive = np.array([sn.get(i, np.nan) for i in bpos])

    shape, _ = choose_shapes(fc, target.kind)
    table = pd.DataFrame({"sku": fc["sku"], "location": fc["location"], "actual": actual,
                          "method": fc["mean"].to_numpy(), "method_sd": fc["sd"].to_numpy(),
                          "method_sd_uncalibrated": fc["sd_uncalibrated"].to_numpy(),
                          "distribution": shape.to_numpy(),
                          "new": (fc["n_past_promos"].fillna(0) == 0).to_numpy(),
                          "seasonal_naive": snaive, "same_promo_last_year": last_year})
    comparable = table.dropna(subset=["actual", "method", "seasonal_naive", "same_promo_last_year"])
    metrics = {m: point_scores(comparable["actual"], comparable[m])
               for m in ("method", "seasonal_naive", "same_promo_last_year")}
    # every pair with an outcome: the shapes, the normal, new SKUs (no last year to compare)
    scored = table.dropna(subset=["actual", "method"])
    a, m = scored["actual"], scored["method"]
    shapes = distribution_scores(a, m, scored["method_sd"], scored["distribution"])
    normal = distribution_scores(a, m, scored["method_sd"])
    raw = distribution_scores(a, m, scored["method_sd_uncalibrated"], scored["distribution"])
    new = scored["new"].to_numpy(bool)
    return {"target": target, "cutoff": cutoff.date(), "lead_days": lead,
            "previous": prev[-1] if prev else None, "pairs": len(table),
            "compared": len(comparable), "metrics": metrics, "scored": len(scored),
            "shapes": shapes, "normal": normal,
            "new_skus": point_scores(a[new], m[new]),
            "coverage_80": shapes["coverage_80"], "coverage_80_uncalibrated": raw["coverage_80"],
            "calibration": cal, "table": table}
