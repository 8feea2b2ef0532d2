"""The daily panel of a sales history: one row per (sku, location) series, one column
per day, with its promo and censored days (the forecast's first step)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.forecast.censoring import infer_stockouts
from optimizer.forecast.history import PastPromo


@dataclass
class Panel:
    keys: pd.DataFrame      # sku, location, level, category
    start: pd.Timestamp
    y: np.ndarray           # (n, T) units; NaN = censored / before first sale row
    promo: np.ndarray       # (n, T) bool
    censored: np.ndarray    # (n, T) bool: flagged, or inferred
    inferred: np.ndarray    # (n, T) bool: censored by an improbable zero run (no flags)

    @property
    def first_days(self) -> np.ndarray:
        """(n,) each series' first day of history (a sale row or a censored day), as a column of ``y``."""
        return np.argmax(~np.isnan(self.y) | self.censored, axis=1)


def build_panel(sales: pd.DataFrame, end: pd.Timestamp, promos: list[PastPromo],
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


def fill_gaps(z: np.ndarray) -> np.ndarray:
    """Interpolate gaps inside each row (leading NaN kept, trailing NaN carried forward)."""
    df = pd.DataFrame(z.T)
    return df.interpolate(limit_area="inside").ffill().where(df.bfill().notna() | df.ffill().notna()).to_numpy().T


def window_units(panel: Panel, a: dt.date, b: dt.date, scale_days: int | None = None) -> np.ndarray:
    """Units per series in [a, b]; NaN if any day is censored or before history."""
    i = (pd.Timestamp(a) - panel.start).days
    j = (pd.Timestamp(b) - panel.start).days + 1
    if i < 0 or j > panel.y.shape[1]:
        return np.full(len(panel.y), np.nan)
    w = panel.y[:, i:j]
    tot = np.where(np.isnan(w).any(axis=1), np.nan, w.sum(axis=1))
    return tot * (scale_days / (j - i) if scale_days else 1.0)
