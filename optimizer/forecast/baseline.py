"""The baseline: each series' daily rate in the 28 days before the promo (step 2 of
:mod:`optimizer.forecast.forecaster`), from weekly rates divided by a trend × seasonal
index (the category's, moved toward the SKU's own by partial pooling) and forecast with
statsforecast; and the spike weeks the shape rules read."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from optimizer.forecast.launch import LAUNCH_MARGIN_DAYS, RAMP_FLOOR, launch_days, ramp
from optimizer.forecast.panel import Panel, fill_gaps

PRE_DAYS = 28          # pre-promo baseline window (days)
MIN_WEEK_DAYS = 3      # clean days for a weekly rate
MIN_SERIES_WEEKS = 12  # below: recent_mean
SEASON_WEEKS = 52
TREND_MAX = 0.5        # the category trend is at most ±50 % log growth a year
CV_ORIGINS = 2
MODELS = ("ets_level", "ets_damped_trend", "recent_mean", "seasonal_naive")
SPIKE_RATIO = 3.0      # a week above 3 × the median of the weeks before it is a spike
SPIKE_WEEKS = 8
SPIKE_MIN_UNITS = 20   # ... and sold at least this many units
SKU_MIN_WEEKS = 26     # usable weeks of a series for its SKU's own trend and season
SKU_SEASON_WEEKS = 60  # a SKU's usable history must span more than this for its own
SKU_MIN_RATE = 1.0     # a SKU's series selling under this a week (log rates too noisy) keep the category's
RAMP_WEEKS = 8         # a series' first weeks (a launch's ramp-up) are not its trend
TAU2_MIN = 1e-4        # the smallest between-SKU variance of a coefficient the shrinkage assumes
TREND_SKU_MAX = 1.0    # a SKU's trend is at most ±100 % log growth a year


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


def _sku_deviations(rate: np.ndarray, idx: np.ndarray, mids: pd.DatetimeIndex,
                    skus: np.ndarray) -> np.ndarray:
    """(n, 5) each series' SKU-level deviation from its category's log index
    ``[g, a1, b1, a2, b2]`` (:func:`_yearly_index`), shrunk by its noise.

    A SKU's own growth and seasonality are read from all of its series together: the
    log weekly rates over the category index, each series demeaned (its own level), are
    regressed on the trend ``t`` and the 2-harmonic Fourier terms.  A SKU's history must
    span more than SKU_SEASON_WEEKS usable weeks (under a year, its own trend and its own
    season cannot be told apart: it keeps its category's); a series' first RAMP_WEEKS
    weeks (a launch's ramp-up) and series selling under SKU_MIN_RATE a week are left
    out.  Each coefficient ``d_k`` has the OLS variance ``s²_k`` inflated by
    ``(1 + φ)/(1 − φ)``, ``φ`` the residuals' lag-one autocorrelation (weekly residuals
    are not independent), and is shrunk toward the category (empirical Bayes, as the
    lifts are pooled):

        d*_k = d_k · τ²_k / (τ²_k + s²_k),   τ²_k = max(TAU2_MIN, mean d²_k − mean s²_k)

    over the SKUs fitted.  A SKU with little or noisy history keeps its category's
    trend and season; a long, clean series its own."""
    n, W = rate.shape
    out = np.zeros((n, 5))
    if n == 0 or W < SKU_MIN_WEEKS:
        return out
    t = _years(mids, mids[0])
    X_all = np.column_stack([t, _fourier(mids.day_of_year.to_numpy())])
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = np.log(rate + 0.5) - np.log(idx)
    valid = ~np.isnan(resid)
    first = np.argmax(valid, axis=1)
    valid &= np.arange(W)[None, :] >= (first + RAMP_WEEKS)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        slow = np.nanmean(rate, axis=1) < SKU_MIN_RATE
    valid[slow] = False
    fits = {}
    for sku in np.unique(skus):
        rows = np.flatnonzero((skus == sku) & (valid.sum(axis=1) >= SKU_MIN_WEEKS))
        if not len(rows):
            continue
        span = max(np.flatnonzero(valid[r])[-1] - np.flatnonzero(valid[r])[0] for r in rows) + 1
        if span <= SKU_SEASON_WEEKS:   # under a year, a trend and a season are one and the same
            continue
        ys, xs, lag = [], [], []
        for r in rows:
            j = np.flatnonzero(valid[r])
            ys.append(resid[r, j] - resid[r, j].mean())
            xs.append(X_all[j] - X_all[j].mean(axis=0))
            lag.append(np.diff(j) == 1)
        y, X = np.concatenate(ys), np.vstack(xs)
        dof = len(y) - X.shape[1] - len(rows)
        if dof <= 5:
            continue
        xtx_inv = np.linalg.pinv(X.T @ X)
        d = xtx_inv @ X.T @ y
        e = [yy - xx @ d for yy, xx in zip(ys, xs)]
        s2 = float(sum((ee ** 2).sum() for ee in e)) / dof
        pairs = np.concatenate([np.column_stack([ee[:-1][ll], ee[1:][ll]]) for ee, ll in zip(e, lag)])
        phi = float(np.clip(np.corrcoef(pairs.T)[0, 1], 0.0, 0.9)) if len(pairs) > 10 else 0.0
        fits[sku] = (d, s2 * np.diag(xtx_inv) * (1 + phi) / (1 - phi))
    if not fits:
        return out
    d = np.array([f[0] for f in fits.values()])
    v = np.array([f[1] for f in fits.values()])
    tau2 = np.maximum(TAU2_MIN, np.mean(d ** 2, axis=0) - np.mean(v, axis=0))
    by_sku = dict(zip(fits, d * tau2 / (tau2 + v)))
    for i, sku in enumerate(skus):
        if sku in by_sku:
            out[i] = by_sku[sku]
    return out


def _years(dates, origin: pd.Timestamp) -> np.ndarray:
    return ((pd.DatetimeIndex(dates) - origin).days / 365.25).to_numpy()


def _index(beta: np.ndarray, dates, origin: pd.Timestamp) -> np.ndarray:
    """The category's trend × seasonal index on ``dates`` (trend counted from ``origin``)."""
    dates = pd.DatetimeIndex(dates)
    return np.exp(beta[0] * _years(dates, origin) + _fourier(dates.day_of_year.to_numpy()) @ beta[1:])


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


def _deramped(z: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Rates over the launch curve ``r`` (:mod:`optimizer.forecast.launch`): a launched
    series' weeks below RAMP_FLOOR of maturity are left out (NaN) unless it has no
    other week, so the noisiest first weeks are not multiplied up."""
    z = z / r
    early = r < RAMP_FLOOR
    has_later = np.any(~early & ~np.isnan(z), axis=1)
    return np.where(early & has_later[:, None], np.nan, z)


def _spike_weeks(z: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Per series, the weeks whose deseasonalised rate is above SPIKE_RATIO × the median
    of the SPIKE_WEEKS weeks before it (and sold at least SPIKE_MIN_UNITS): viral bursts,
    not a season or a promo (promo days are not in these rates)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        before = pd.DataFrame(z.T).rolling(SPIKE_WEEKS, min_periods=4).median().shift(1).to_numpy().T
    spikes = (z > SPIKE_RATIO * before) & (units >= SPIKE_MIN_UNITS)
    return np.sum(spikes, axis=1)


def baseline(panel: Panel, target_start: pd.Timestamp) -> pd.DataFrame:
    rate, mids, _ = _weekly(panel)
    cats = panel.keys["category"].to_numpy()
    betas = _yearly_index(rate, mids, cats)
    coef = (np.vstack([betas[c] for c in cats]) if len(cats) else np.zeros((0, 5)))
    idx = (np.vstack([_index(b, mids, mids[0]) for b in coef]) if len(cats)
           else np.zeros((0, len(mids))))
    coef = coef + _sku_deviations(rate, idx, mids, panel.keys["sku"].to_numpy())
    coef[:, 0] = np.clip(coef[:, 0], -TREND_SKU_MAX, TREND_SKU_MAX)
    idx = (np.vstack([_index(b, mids, mids[0]) for b in coef]) if len(cats)
           else np.zeros((0, len(mids))))
    end = panel.start + pd.Timedelta(days=panel.y.shape[1])   # first day after the data
    pre = pd.date_range(target_start - pd.Timedelta(days=PRE_DAYS), target_start - pd.Timedelta(days=1))
    first = panel.start + pd.to_timedelta(panel.first_days, unit="D")
    launched = panel.first_days >= LAUNCH_MARGIN_DAYS
    age = np.maximum((mids.to_numpy()[None, :] - first.to_numpy()[:, None]) / np.timedelta64(1, "D"), 1.0)
    ramp_k = launch_days(rate / idx, age, launched, panel.keys["sku"].to_numpy())
    r = ramp(age, ramp_k[:, None])
    z_raw = _deramped(rate / idx, r)
    z = fill_gaps(z_raw)
    pre_age = (pre.to_numpy()[None, :] - first.to_numpy()[:, None]) / np.timedelta64(1, "D")
    pre_ramp = ramp(pre_age + 1, ramp_k[:, None])
    ahead = np.maximum(1, np.ceil(((pre - end).days + 1) / 7).astype(int))
    H = int(ahead.max())
    W = z.shape[1]
    n_valid = np.sum(~np.isnan(z_raw), axis=1)
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
        daily = path[ahead - 1] / 7 * _index(coef[i], pre, mids[0]) * pre_ramp[i]
        rows.append((m, float(np.mean(daily)) if len(valid) else np.nan, len(valid)))
    out = pd.DataFrame(rows, columns=["method", "baseline_rate", "history_weeks"])
    total_num, total_den = sum(cvb_num.values()), sum(cvb_den.values())
    pooled = max(0.0, total_num / total_den) if total_den > 0 else 0.25
    cvb = {c: (max(0.0, cvb_num[c] / cvb_den[c]) if cvb_den[c] > 0 else pooled) for c in cvb_num}
    out["cv_b2"] = [cvb[c] for c in cats]
    out["launch_days"] = ramp_k
    out["launch_ramp"] = pre_ramp.mean(axis=1)
    out["spike_weeks"] = _spike_weeks(z_raw, rate)
    out["history_days"] = np.sum(~np.isnan(panel.y), axis=1)
    out["censored_days"] = panel.censored.sum(axis=1)
    out["inferred_stockout_days"] = panel.inferred.sum(axis=1)
    return out
