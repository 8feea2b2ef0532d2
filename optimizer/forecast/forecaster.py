"""Promo demand forecast from sales history (``python -m optimizer forecast`` / ``backtest``).

The steps live in their own modules: :mod:`~optimizer.forecast.panel` (the daily panel,
with :mod:`~optimizer.forecast.censoring` for exports without stockout flags),
:mod:`~optimizer.forecast.baseline`, :mod:`~optimizer.forecast.lifts` and
:mod:`~optimizer.forecast.shapes`; this module composes them, calibrates the sd, writes
the files and backtests (scored by :mod:`~optimizer.forecast.scoring`).

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
   are gaps, interpolated), divided by a trend × yearly seasonal index (the category's
   log-linear trend and 2-harmonic Fourier fit of pooled log weekly rates, moved toward
   the SKU's own trend and season by partial pooling where its history spans more than
   a year; the trend carried on to the promo), and forecast with statsforecast
   (``n_jobs=1``): AutoETS level (``ZNN``), AutoETS damped trend (``AAdN``), an 8-week
   window average and SeasonalNaive(52).  Each series keeps the model with the lowest
   absolute error in a rolling-origin backtest at the real horizon (two origins, 4
   weeks apart).  Series with < 12 weeks of history use their mean ("recent_mean").
   A series launched inside the history is divided by its SKU's launch curve first and
   the forecast multiplied by it in the pre-promo window (:mod:`~optimizer.forecast.launch`).
3. *Lift* — for each past occurrence of the same event (by name: "Black Friday"), a
   SKU's lift is its promo-window rate over its own 28-day pre-promo rate (clean
   days, summed over its warehouses; not while a new listing ramps up, its first 8
   weeks).  An occurrence more than 2.5× off the median of
   the SKU's other occurrences (a viral burst, an unseen stockout) is left out.  The
   SKUs' log lifts are pooled with their category's in a partial-pooling model
   (:func:`~optimizer.forecast.lifts.promo_lifts`): a well-measured lift is kept, a
   noisy one leans on the category, and the lift is the mean of the next occurrence's.
   A SKU with no past occurrence (new, or it missed it) takes its category's lift
   times what the *other* promos say about it: ``exp(β·o)``, ``o`` its mean log lift
   over its category's in the other events and ``β`` the slope of the same relation
   among SKUs that have both (:func:`~optimizer.forecast.lifts._cross_event`); with no
   other promo either, the category's lift times what its price band says when that is
   significant (:func:`~optimizer.forecast.lifts._price_band`).  An event never seen before uses every
   past promo's lift (flagged in ``lift_source``).
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
   the audit (:func:`~optimizer.forecast.shapes.choose_shapes`): a count (mean < 30)
   is a negative binomial; a SKU with no past occurrence, with a spike week in its
   history or in a category where a fifth of the SKUs had one, or with a relative sd
   ≥ 0.5 is lognormal; the rest normal.  Overrides and kept demand.csv rows keep a
   normal (or their own shape).
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import math
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.forecast.baseline import PRE_DAYS, baseline
from optimizer.forecast.history import FACTOR_NAMES, MIN_HISTORY_DAYS, History, PastPromo
from optimizer.forecast.history import SALES_FILE as SALES_FILE_NAME
from optimizer.forecast.lifts import NO_LIFT, occurrence_table, promo_lifts
from optimizer.forecast.panel import build_panel, fill_gaps, window_units
from optimizer.forecast.scoring import distribution_scores, point_scores, quantiles
from optimizer.forecast.shapes import choose_shapes
from optimizer.io.campaign import FORECAST_AUDIT_FILE, Campaign
from optimizer.io.errors import InputError, Problem
from optimizer.io.safe_text import safe_frame

log = logging.getLogger(__name__)

CAL_ORIGINS = 2        # earlier promos re-forecast to calibrate the sd
CAL_MIN_DAYS = 300     # history before a calibration origin (the yearly index needs it)
CAL_SHRINK_PAIRS = 30  # log-scale shrinkage of the sd scale toward 1: n / (n + 30)
CAL_SCALES = (0.3, 5.0)  # the sd scales the calibration searches


@dataclass
class Forecast:
    demand: pd.DataFrame   # sku, warehouse, mean, sd, distribution
    audit: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


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
    """Series-level forecast (sku, location, level) for a target promo window.

    Days of every past promo that started before ``end`` are promo days (a promo still
    running when the data ends is no baseline); lifts come from the promos over by then."""
    cats = skus.set_index("sku").get("category", pd.Series(dtype=str))
    panel = build_panel(sales, end, [p for p in promos if pd.Timestamp(p.start) < end], cats)
    base = baseline(panel, target_start)
    occ = occurrence_table(panel, [p for p in promos if pd.Timestamp(p.end) < end], base["launch_days"].to_numpy())
    lifts, _ = promo_lifts(occ, kind, skus)
    fac = _factors(skus, hist_for_factors)
    out = pd.concat([panel.keys.reset_index(drop=True), base], axis=1)
    out["first_date"] = [panel.start + pd.Timedelta(days=int(d)) for d in panel.first_days]
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
    #: SPEC §8 ρ: the share of those promos' log deviation from their forecast that the run-up
    #: pace up to the recourse date's lead predicts (None: no recourse date, or too few pairs).
    resolved_share: float | None = None
    resolved_pairs: int = 0

    @property
    def source(self) -> str:
        if not self.origins:
            return "uncalibrated: no earlier promo with enough history before it"
        return (f"x{self.scale:.3f} from {self.pairs} out-of-sample pairs of "
                + "; ".join(self.origins))


def _sd_calibration(sales: pd.DataFrame, promos: list[PastPromo], skus: pd.DataFrame,
                    end: pd.Timestamp, lead_days: int, recourse_lead: int | None = None) -> SdCalibration:
    """sd scale from the same method's out-of-sample forecasts of earlier promos.

    Every past promo that ended before ``end`` and has ≥ CAL_MIN_DAYS of history before
    its origin (start − lead) is a candidate; the CAL_ORIGINS most recent are forecast
    from the data before their origin exactly as the campaign is (``_core``), and
    scored on their actual promo units (pairs with a censored promo day left out).
    Only data before ``end`` is read, so a backtest never calibrates on its target.

    With ``recourse_lead`` (days from the recourse date to the promo, SPEC §8) the same
    forecasts give ρ (:func:`_resolved_share`): how much of each promo's deviation from
    its forecast the run-up from the origin to ``start − recourse_lead`` predicted."""
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
    known = build_panel(sales, end, promos, cats)
    key = pd.MultiIndex.from_frame(known.keys[["sku", "location"]])
    parts, names = [], []
    for p, origin in origins:
        fc = _core(sales, promos, p.kind, skus, origin, pd.Timestamp(p.start), pd.Timestamp(p.end), None)
        at = key.get_indexer(pd.MultiIndex.from_frame(fc[["sku", "location"]]))
        actual = window_units(known, p.start, p.end)[at]
        shape, _ = choose_shapes(fc, p.kind)
        ok = np.isfinite(actual) & (fc["sd"].to_numpy(float) > 0)
        runup = np.full(len(fc), np.nan)
        runup_expected = np.full(len(fc), np.nan)
        if recourse_lead is not None:
            signal_end = pd.Timestamp(p.start) - pd.Timedelta(days=recourse_lead + 1)
            days = (signal_end - origin).days + 1
            if days >= 1:
                runup = window_units(known, origin.date(), signal_end.date())[at]
                runup_expected = fc["baseline_rate"].to_numpy(float) * days
        parts.append(pd.DataFrame({"actual": actual[ok], "mean": fc["mean"].to_numpy(float)[ok],
                                   "sd": fc["sd"].to_numpy(float)[ok], "shape": shape.to_numpy()[ok],
                                   "runup": runup[ok], "runup_expected": runup_expected[ok]}))
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
    rho, rho_pairs = _resolved_share(scored) if recourse_lead is not None else (None, 0)
    return SdCalibration(scale, names, n, coverage(1.0), raw, rho, rho_pairs)


RESOLVED_MIN_UNITS = 5.0  # pairs below this forecast (promo or run-up) are mostly count noise: not used
RESOLVED_MIN_PAIRS = 20   # fewer usable pairs: no estimate


def _resolved_share(scored: pd.DataFrame) -> tuple[float | None, int]:
    """ρ = corr(δ, s)² (0 when the run-up points the wrong way) over the usable pairs, with
    ``δ = ln((actual + 1)/(mean + 1))`` a promo's log deviation from its forecast and
    ``s = ln((runup + 1)/(runup_expected + 1))`` its run-up pace: the share of δ's variance
    the best line in s explains — what SPEC §8's ``resolved_share`` means, measured."""
    use = scored[(scored["mean"] >= RESOLVED_MIN_UNITS) & (scored["runup_expected"] >= RESOLVED_MIN_UNITS)
                 & np.isfinite(scored["runup"])]
    if len(use) < RESOLVED_MIN_PAIRS:
        return None, len(use)
    delta = np.log((use["actual"] + 1.0) / (use["mean"] + 1.0))
    pace = np.log((use["runup"] + 1.0) / (use["runup_expected"] + 1.0))
    if delta.std() == 0 or pace.std() == 0:
        return None, len(use)
    r = float(np.corrcoef(delta, pace)[0, 1])
    return round(max(r, 0.0) ** 2, 4), len(use)


def _calibrate(series: pd.DataFrame, cal: SdCalibration) -> None:
    """sd ← scale × sd (never below the Poisson sd); the uncalibrated sd is kept."""
    series["sd_uncalibrated"] = series["sd"]
    series["sd_scale"] = cal.scale
    series["sd"] = np.maximum(series["sd"] * cal.scale, np.sqrt(series["mean"]))


def _no_lift_note(series: pd.DataFrame, hist: History) -> list[str]:
    """A note when no past promo gave a usable lift: every series then has lift 1, the
    forecast is its baseline demand in the promo window with no promo uplift."""
    if not len(series) or not series["lift_source"].astype(str).str.startswith(NO_LIFT).all():
        return []
    first, last = hist.sales["date"].min().date(), hist.sales["date"].max().date()
    why = (f"none of the {len(hist.promos)} [[past_promos]] of campaign.toml has its whole window and "
           f"the {PRE_DAYS} days before it, with sales, inside {SALES_FILE_NAME} ({first} .. {last})"
           if hist.promos else "campaign.toml lists no [[past_promos]]")
    return [f"no past promo gives a promo lift: {why}; the forecast uses lift 1 (the baseline demand, no "
            "promo uplift) — add past promos, a longer history or demand_overrides.csv rows"]


def forecast_campaign(campaign: Campaign, hist: History, progress=None) -> Forecast:
    """The promo demand forecast of ``campaign`` from its sales history.

    ``progress`` (a callable of one message) hears each stage as it ends; a
    :class:`~optimizer.progress.Progress` also shows the stage that runs.
    """
    import time

    from optimizer.progress import set_status

    say = progress or log.info
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
    notes += _no_lift_note(series, hist)
    notes.append(_launch_note(series))
    set_status(progress, "calibrating the sd on past promos forecast out of sample")
    recourse_lead = (cfg.promo_start - cfg.recourse.date).days if cfg.recourse is not None else None
    cal = _sd_calibration(hist.sales, hist.promos, campaign.skus, end,
                          (cfg.promo_start - cfg.planning_date).days, recourse_lead)
    _calibrate(series, cal)
    say(f"sd calibration: {cal.source}")
    if recourse_lead is not None:
        notes.append(_resolved_note(cal, cfg.recourse.date))
    set_status(progress, "splitting market series over warehouses, applying overrides")
    notes.append(f"sd calibration: {cal.source}")
    if not hist.flagged:
        days = series["inferred_stockout_days"]
        notes.append(f"{SALES_FILE_NAME} has no stockout or on_hand column: {int(days.sum()):,} zero-sales "
                     f"day(s) in {int((days > 0).sum())} of {len(series)} series were improbable for the "
                     "series' own rate and inferred as stockouts (censored; inferred_stockout_days "
                     "in forecast_audit.csv)")

    audit = _split_over_warehouses(series, campaign)
    audit, kept = _keep_rows_without_history(audit, campaign, notes)
    audit = _apply_overrides(audit, hist.overrides, notes)
    unseen = sorted(set(campaign.skus["sku"]) - set(audit["sku"]))
    if unseen:
        notes.append(f"{len(unseen)} SKU(s) of skus.csv have no sales history and no demand.csv or "
                     f"override row: not forecast (zero demand): {', '.join(unseen[:10])}"
                     + (" ..." if len(unseen) > 10 else "") + " — add them to demand_overrides.csv")
    bad = audit["mean"].isna()
    if bad.any():
        notes.append(f"{int(bad.sum())} pair(s) have no usable history and no override: left out "
                     "(zero demand) — add them to demand_overrides.csv")
    _choose_shapes(audit, kept, hist.promo_kind)
    audit = audit.sort_values(["sku", "warehouse"]).reset_index(drop=True)
    audit = audit.reindex(columns=AUDIT_COLUMNS + [c for c in ("forecast_mean", "forecast_sd") if c in audit])
    if cal.resolved_share is not None:
        audit["resolved_share"] = cal.resolved_share
    demand = audit.loc[~bad, ["sku", "warehouse", "mean", "sd", "distribution"]].reset_index(drop=True)
    return Forecast(demand, audit, notes, time.perf_counter() - t0)


def _launch_note(series: pd.DataFrame) -> str:
    k = series.loc[series["launch_days"] > 0, "launch_days"]
    if k.empty:
        return ("launch curve: none (no series launched inside the history ramps up, or too few); "
                "launched series are forecast at their latest level")
    ramping = series["launch_ramp"] < 0.99
    return (f"launch curve: {k.index.size} launched series ramp up, reaching 63 % of their mature rate "
            f"after a median {k.median():.0f} days (each SKU its own, forecast_audit.csv column launch_days); "
            f"{int(ramping.sum())} series still ramping in the 28 days before the promo are forecast below "
            "their level (column launch_ramp)")


def _resolved_note(cal: SdCalibration, recourse_date: dt.date) -> str:
    if cal.resolved_share is None:
        return (f"resolved_share (SPEC §8): not estimated, {cal.resolved_pairs} usable pair(s) of earlier promos "
                f"(at least {RESOLVED_MIN_PAIRS} with a forecast and a run-up of {RESOLVED_MIN_UNITS:g}+ units)")
    return (f"resolved_share (SPEC §8) {cal.resolved_share:.3f}: the run-up up to {recourse_date}'s lead "
            f"predicted that share of the log deviation of {cal.resolved_pairs} pairs of earlier promos from "
            "their forecasts (forecast_audit.csv column resolved_share; [recourse] resolved_share overrides)")


AUDIT_COLUMNS = ["sku", "warehouse", "category", "level", "method", "history_days", "history_weeks",
                 "censored_days", "inferred_stockout_days", "spike_weeks", "first_date", "launch_days", "launch_ramp", "baseline_rate",
                 "promo_days", "baseline", "lift_sku_raw", "n_past_promos", "lift_category", "lift",
                 "lift_source", *FACTOR_NAMES, "split_share", "cv_b2", "cv_l2", "sd_uncalibrated",
                 "sd_scale", "mean", "sd", "distribution", "distribution_reason", "override", "note"]


def _split_over_warehouses(series: pd.DataFrame, campaign: Campaign) -> pd.DataFrame:
    """Series → (sku, warehouse) rows: a market-level series is shared over the market's
    warehouses in proportion to their demand.csv means (equal shares without any).  Means
    and baselines scale with the share; an sd keeps its Poisson part at the warehouse's mean
    and scales its relative part by the share."""
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
    return audit


def _keep_rows_without_history(audit: pd.DataFrame, campaign: Campaign,
                               notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """demand.csv's pairs with no sales history keep the analyst's row (flagged by its
    method); returns the audit with them and those rows."""
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
    return audit, kept


def _apply_overrides(audit: pd.DataFrame, overrides: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """demand_overrides.csv applied last: an overridden pair keeps its forecast in
    ``forecast_mean`` / ``forecast_sd``; an override of a pair the forecast has not is a row
    of its own (method 'override only')."""
    audit["override"] = False
    audit["note"] = ""
    if not len(overrides):
        return audit
    key = audit.set_index(["sku", "warehouse"]).index
    for r in overrides.itertuples(index=False):
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
    notes.append(f"{len(overrides)} analyst override(s) applied from demand_overrides.csv")
    return audit


def _choose_shapes(audit: pd.DataFrame, kept: pd.DataFrame, kind: str | None) -> None:
    """Each pair's SPEC §7 shape and why (in place): chosen from the forecast
    (:func:`~optimizer.forecast.shapes.choose_shapes`); demand.csv's kept rows keep their own
    shape; an analyst override is normal with its mean and sd as given."""
    audit["distribution"], audit["distribution_reason"] = choose_shapes(audit, kind)
    if len(kept):   # the analyst's rows keep their own shape
        shape = (kept["distribution"] if "distribution" in kept else pd.Series("normal", index=kept.index))
        keys = audit.set_index(["sku", "warehouse"]).index
        for sku, wh, d in zip(kept["sku"], kept["warehouse"], shape):
            hit = (keys == (sku, wh)) & (audit["method"] == "no history: demand.csv kept")
            audit.loc[hit, "distribution"] = d or "normal"
            audit.loc[hit, "distribution_reason"] = "demand.csv's own row"
    audit.loc[audit["override"], "distribution"] = "normal"
    audit.loc[audit["override"], "distribution_reason"] = "analyst override: mean and sd as given"


DEMAND_FILE = "demand.csv"
DEMAND_FORECAST_FILE = "demand_forecast.csv"   # the default when the folder has a demand.csv
AUDIT_FILE = FORECAST_AUDIT_FILE               # beside the demand file; the monitor reads it
_NEVER = "a forecast never overwrites a file, nothing was written"


def forecast_targets(campaign_dir: str | Path, out: str | Path | None = None) -> tuple[Path, Path]:
    """The demand file and the audit a forecast of ``campaign_dir`` writes, checked before
    any work: ``out`` (``--out FILE``) with forecast_audit.csv beside it; without ``out``,
    demand.csv in the campaign folder if it has none, else demand_forecast.csv, with
    forecast_audit.csv beside it.

    Raises :class:`~optimizer.io.errors.InputError` naming the file when either exists or
    cannot be written there.  Creates ``out``'s missing folders, nothing else.
    """
    campaign_dir = Path(campaign_dir)
    if out is None:
        demand = campaign_dir / (DEMAND_FORECAST_FILE if (campaign_dir / DEMAND_FILE).exists() else DEMAND_FILE)
        audit = campaign_dir / AUDIT_FILE
        problems = [Problem(p.name, None, None, f"already exists (an earlier forecast): {_NEVER}; move it "
                            "away, or write this forecast elsewhere with --out FILE")
                    for p in (demand, audit) if p.exists()]
        if not problems and (reason := _unwritable(campaign_dir)):
            problems = [Problem(demand.name, None, None, f"cannot be written to {campaign_dir}: {reason}")]
    else:
        demand = Path(out)
        audit = demand.parent / AUDIT_FILE
        problems = [Problem("command line", None, "--out", text) for text in _out_problems(demand, audit)]
    if problems:
        raise InputError(problems, campaign_dir)
    return demand, audit


def _out_problems(demand: Path, audit: Path) -> list[str]:
    """What stops ``--out`` ``demand`` (and ``audit`` beside it) from being written."""
    if demand.is_dir():
        return [f"{demand} is a folder: --out names the demand file to write, e.g. {demand / DEMAND_FILE}"]
    if demand.name == AUDIT_FILE:
        return [f"{demand}: {AUDIT_FILE} is the audit's name (written beside the demand file); "
                "name the demand file otherwise"]
    found = [f"{demand} already exists: {_NEVER}; choose a new file"] if demand.exists() else []
    if audit.exists():
        found.append(f"{audit} already exists ({AUDIT_FILE} goes beside the demand file): {_NEVER}; "
                     "choose another folder")
    if found:
        return found
    try:
        demand.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return [f"cannot create the folder {demand.parent}: {e.strerror or e}"]
    reason = _unwritable(demand.parent)
    return [f"cannot write to {demand.parent}: {reason}"] if reason else []


def _unwritable(folder: Path) -> str | None:
    """Why a file cannot be created in ``folder`` (a probe file is made and removed), or None."""
    probe = _temp_name(folder / "write-probe")
    try:
        probe.open("x").close()
        probe.unlink()
    except OSError as e:
        return str(e.strerror or e)
    return None


def _temp_name(path: Path) -> Path:
    """A new hidden name beside ``path`` for its temporary file."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def _demand_text(demand: pd.DataFrame) -> str:
    """demand.csv's text: mean and sd to 0.1, each pair's shape; ids formula-safe."""
    text = pd.DataFrame({"sku": demand["sku"], "warehouse": demand["warehouse"],
                         "mean": demand["mean"].map(lambda v: f"{v:.1f}"),
                         "sd": demand["sd"].map(lambda v: f"{v:.1f}"),
                         "distribution": demand["distribution"].fillna("normal")})
    return safe_frame(text).to_csv(index=False, lineterminator="\n")


def _audit_text(audit: pd.DataFrame) -> str:
    """forecast_audit.csv's text: mean and sd as demand.csv has them, other numbers to
    4 significant digits; ids, categories and notes formula-safe."""
    audit = audit.copy()
    for col in ("mean", "sd", "forecast_mean", "forecast_sd"):
        if col in audit:
            audit[col] = audit[col].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    return safe_frame(audit).to_csv(index=False, lineterminator="\n", float_format="%.4g")


def write_forecast(fc: Forecast, campaign_dir: str | Path, out: str | Path | None = None) -> tuple[Path, Path]:
    """Write the forecast's demand file and audit where :func:`forecast_targets` says
    (refusing, with an InputError, a file that exists); returns their paths.

    Text cells are formula-safe (:func:`~optimizer.io.safe_text.safe_frame`: a formula-like
    id gets a leading quote, which :func:`~optimizer.io.safe_text.plain_cell` drops on
    reading).  Both files are written in full to hidden temporary files in their folder
    first, then put in place, never over a file: nothing is half-written, and a run that
    fails leaves neither.
    """
    demand_path, audit_path = forecast_targets(campaign_dir, out)
    _write_new({demand_path: _demand_text(fc.demand), audit_path: _audit_text(fc.audit)}, campaign_dir)
    return demand_path, audit_path


def _write_new(texts: dict[Path, str], campaign_dir: str | Path) -> None:
    """Each text to its path, all or none: temporary files first, then each put in place
    by :func:`_place`; if one cannot be, those already placed are removed again."""
    temps: dict[Path, Path] = {}
    placed: list[Path] = []
    try:
        for path, text in texts.items():
            temps[path] = _temp_name(path)
            with temps[path].open("x", encoding="utf-8", newline="") as fh:
                fh.write(text)
        for path, tmp in temps.items():
            _place(tmp, path)
            placed.append(path)
    except BaseException as e:
        for path in placed:
            path.unlink(missing_ok=True)
        if isinstance(e, FileExistsError):
            raise InputError([Problem(Path(e.filename or "").name, None, None,
                                      f"appeared while the forecast was written: {_NEVER}")],
                             campaign_dir) from None
        raise
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


def _place(tmp: Path, path: Path) -> None:
    """Give the complete file ``tmp`` the name ``path`` in one step, never over a file: a
    hard link (FileExistsError if ``path`` exists); where the file system has none,
    ``os.replace`` after checking ``path`` is free."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "file exists", str(path)) from None
    except OSError:
        if path.exists():
            raise FileExistsError(errno.EEXIST, "file exists", str(path)) from None
        os.replace(tmp, path)


# ------------------------------------------------------------------ backtest


@dataclass(frozen=True)
class BacktestResult:
    """What :func:`backtest` found on one past promo.

    The point scores (``metrics``, ``new_skus``) are dicts of ``pairs``, ``wape`` and
    ``bias``; the distribution scores (``shapes``, ``normal``) add ``coverage_80`` and
    ``pinball_10`` / ``pinball_50`` / ``pinball_90``
    (:mod:`optimizer.forecast.scoring`).
    """

    #: The promo forecast and scored.
    target: PastPromo
    #: The forecast reads only sales before this day.
    cutoff: dt.date
    #: Days from the cutoff to the promo's start.
    lead_days: int
    #: The same promo the year before, inside the history (None: there is none).
    previous: PastPromo | None
    #: Pairs forecast.
    pairs: int
    #: Pairs with an outcome and every benchmark (the ``metrics`` pairs).
    compared: int
    #: Point scores per forecast: ``method``, ``seasonal_naive``, ``same_promo_last_year``.
    metrics: dict[str, dict]
    #: Pairs with an outcome (the ``shapes``, ``normal`` and ``new_skus`` pairs).
    scored: int
    #: Distribution scores with the demand shape chosen per pair.
    shapes: dict
    #: Distribution scores with the normal for every pair.
    normal: dict
    #: Point scores of the pairs whose SKU has no past occurrence of the promo.
    new_skus: dict
    #: Point scores of the pairs whose series has under a year of history before the cutoff.
    young_skus: dict
    #: Share of actuals inside the calibrated 80 % interval (``shapes["coverage_80"]``).
    coverage_80: float
    #: The same with the uncalibrated sd.
    coverage_80_uncalibrated: float
    #: The sd calibration, from promos before the cutoff only.
    calibration: SdCalibration
    #: One row per pair: actual, the method's mean, sd and shape, and the benchmarks.
    table: pd.DataFrame

    def text(self) -> str:
        """The backtest as ``python -m optimizer backtest`` prints it."""
        t, prev = self.target, self.previous
        last = f"{prev.name} ({prev.start} .. {prev.end})" if prev else "none"
        lines = [f"backtest: {t.name} ({t.start} .. {t.end}) forecast from data before {self.cutoff} "
                 f"(lead {self.lead_days} days); same promo last year: {last}",
                 f"pairs compared: {self.compared} of {self.pairs} (left out: a censored promo day, "
                 "or no history for a benchmark)",
                 f"{'forecast':<22}{'WAPE':>8}{'bias':>9}"]
        lines += [f"{name:<22}{m['wape']:>8.1%}{m['bias']:>+9.1%}" for name, m in self.metrics.items()]
        for name, score in (("new SKUs (no past occurrence of the promo)", self.new_skus),
                            ("young SKUs (under a year of history)", self.young_skus)):
            lines.append(f"{name}: {score['pairs']} pairs, WAPE "
                         + (f"{score['wape']:.1%}, bias {score['bias']:+.1%}" if score["pairs"] else "-"))
        lines += ["", f"the method's distribution on the {self.scored} pairs with an outcome "
                  "(pinball loss per unit of actual demand):",
                  f"{'demand shape':<22}{'80% cover':>10}{'P10':>8}{'P50':>8}{'P90':>8}"]
        lines += [f"{name:<22}{m['coverage_80']:>10.1%}{m['pinball_10']:>8.3f}{m['pinball_50']:>8.3f}"
                  f"{m['pinball_90']:>8.3f}" for name, m in (("chosen per pair", self.shapes),
                                                            ("normal everywhere", self.normal))]
        lines.append(f"80% interval coverage with the uncalibrated sd: {self.coverage_80_uncalibrated:.1%}; "
                     f"sd calibration: {self.calibration.source}")
        return "\n".join(lines)


def _backtest_cutoff(target: PastPromo, lead: int, first: pd.Timestamp) -> pd.Timestamp:
    """The data cutoff ``lead`` days before ``target`` starts.  ValueError unless the lead is
    ≥ 1 (the cutoff is before the promo scored) and leaves MIN_HISTORY_DAYS of sales before
    the cutoff; the message gives the longest lead that would."""
    if lead < 1:
        raise ValueError(f"lead of {lead} days: must be ≥ 1 (the data cutoff must be before "
                         f"{target.name}, which starts {target.start})")
    cutoff = pd.Timestamp(target.start) - pd.Timedelta(days=lead)
    have = max(0, (cutoff - first).days)
    if have >= MIN_HISTORY_DAYS:
        return cutoff
    longest = (pd.Timestamp(target.start) - first).days - MIN_HISTORY_DAYS
    hint = (f"use a lead of at most {longest} days" if longest >= 1 else
            f"no lead does, {target.name} starts {longest + MIN_HISTORY_DAYS} day(s) after the history")
    raise ValueError(f"lead of {lead} days: the data cutoff {cutoff.date()} ({target.name} starts "
                     f"{target.start}) leaves {have} day(s) of sales history before it ({SALES_FILE_NAME} "
                     f"starts {first.date()}); the backtest needs at least {MIN_HISTORY_DAYS}: {hint}")


def backtest(campaign: Campaign, hist: History, kind: str | None = None,
             lead_days: int | None = None) -> BacktestResult:
    """Forecast the most recent past promo inside the sales history (of the campaign's
    kind when there is one) from the data before it; WAPE and bias against seasonal
    naive and last year's same promo (inside the history too).  Pairs with a censored
    promo day are left out (demand unknown).  ValueError when no promo can be scored
    or the lead is not usable (:func:`_backtest_cutoff`)."""
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    kind = kind or hist.promo_kind
    first, end_all = hist.sales["date"].min(), hist.sales["date"].max() + pd.Timedelta(days=1)
    done = [p for p in hist.promos if first <= pd.Timestamp(p.start) and pd.Timestamp(p.end) < end_all]
    same = [p for p in done if kind and p.kind == kind]
    if not done:
        raise ValueError(f"no past promo of campaign.toml lies inside {SALES_FILE_NAME} ({first.date()} .. "
                         f"{(end_all - pd.Timedelta(days=1)).date()}): nothing to backtest")
    target = (same or done)[-1]
    lead = lead_days if lead_days is not None else (campaign.config.promo_start - campaign.config.planning_date).days
    cutoff = _backtest_cutoff(target, lead, first)
    fc = _core(hist.sales, hist.promos, target.kind, campaign.skus, cutoff,
               pd.Timestamp(target.start), pd.Timestamp(target.end), None)
    # calibrated on promos before the cutoff only: the target is never seen
    cal = _sd_calibration(hist.sales, hist.promos, campaign.skus, cutoff, lead)
    _calibrate(fc, cal)
    cats = campaign.skus.set_index("sku").get("category", pd.Series(dtype=str))
    full = build_panel(hist.sales, end_all, hist.promos, cats)
    key = pd.MultiIndex.from_frame(full.keys[["sku", "location"]])
    pos = key.get_indexer(pd.MultiIndex.from_frame(fc[["sku", "location"]]))
    actual = window_units(full, target.start, target.end)[pos]

    prev = [p for p in done if p.kind == target.kind and p.end < target.start]
    last_year = (window_units(full, prev[-1].start, prev[-1].end, target.days)[pos] if prev
                 else np.full(len(fc), np.nan))

    # seasonal naive (weekly season) on daily history up to the cutoff
    before = build_panel(hist.sales, cutoff, hist.promos, cats)
    bpos = pd.MultiIndex.from_frame(before.keys[["sku", "location"]]).get_indexer(
        pd.MultiIndex.from_frame(fc[["sku", "location"]]))
    y = fill_gaps(before.y)
    h = (pd.Timestamp(target.end) - cutoff).days + 1
    ids, ds, ys = [], [], []
    for i in range(len(y)):
        v = y[i][~np.isnan(y[i])]
        if len(v) >= 7:
            ids.append(np.full(len(v), i))
            ds.append(np.arange(len(v)))
            ys.append(v)
    snaive = np.full(len(fc), np.nan)
    if ids:   # no series with a week of clean days before the cutoff: no seasonal naive
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
                          "young": (pd.to_datetime(fc["first_date"]) > cutoff - pd.Timedelta(days=365)).to_numpy(),
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
    young = scored["young"].to_numpy(bool)
    return BacktestResult(target=target, cutoff=cutoff.date(), lead_days=lead,
                          previous=prev[-1] if prev else None, pairs=len(table),
                          compared=len(comparable), metrics=metrics, scored=len(scored),
                          shapes=shapes, normal=normal, new_skus=point_scores(a[new], m[new]),
                          young_skus=point_scores(a[young], m[young]),
                          coverage_80=shapes["coverage_80"], coverage_80_uncalibrated=raw["coverage_80"],
                          calibration=cal, table=table)
