"""Stockout spells in sales exports that carry no stockout flag.

Seller Central, TikTok Shop and most ERP exports have no ``stockout`` or
``on_hand`` column: a week out of stock is just a run of zero-sales days, and
fitting it as zero demand pulls the baseline and the promo lifts down.  The rate
is read from the ``n`` usable non-promo days before a run (at most
:data:`RATE_DAYS`; the days after it when the series has fewer than
:data:`MIN_RATE_DAYS` before: it just started), which sold ``c`` units, so deciding
about a day never reads sales more than the run's own length after it.  A run of
``L`` zero days is *improbable* when both

    p0(r)^L < RUN_PROBABILITY   with r = c / n,  p0(r) = (k / (k + r))^k,   and
    (n / (n + L))^c < RUN_PROBABILITY

— the first with ``p0`` the zero probability of a Gamma-Poisson day of shape
``k =`` :data:`DISPERSION` (more dispersed than most daily sales), the second the
chance of ``L`` zeros when the rate itself is uncertain (a Poisson whose rate has
the Gamma(c, n) posterior of the ``c`` units seen): a slow mover's few units never
make a long zero run look improbable.  Such runs
are censored like flagged days: left out of every fit, demand unknown.

The threshold is strict on purpose: a slow mover's zero runs are common, and
dropping true zeros would lift its rate as surely as keeping a stockout lowers it.

When the export has a ``stockout`` or ``on_hand`` column its flags win and nothing
is inferred (:func:`optimizer.forecast.history.load_history`).
"""

from __future__ import annotations

import numpy as np

DISPERSION = 4.0         # Gamma-Poisson shape of a day's sales
RUN_PROBABILITY = 1e-4   # a zero run less likely than this is a stockout
RATE_DAYS = 56           # usable days that give the rate before a run
MIN_RATE_DAYS = 7
MIN_RUN = 2              # a single zero day is never a stockout


def zero_probability(rate) -> np.ndarray:
    """``p0(r)`` of the module docstring."""
    rate = np.maximum(np.asarray(rate, float), 0.0)
    return (DISPERSION / (DISPERSION + rate)) ** DISPERSION


def _zero_runs(row: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of the runs of exact zeros in ``row`` (NaN breaks a run)."""
    zero = np.r_[False, row == 0, False]
    edges = np.flatnonzero(np.diff(zero.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= MIN_RUN]


def _evidence(usable: np.ndarray, a: int, b: int) -> tuple[float, int]:
    """(units, days) of the last RATE_DAYS days of ``usable`` before ``a``, else of
    those after ``b`` ((0, 0) when neither side has MIN_RATE_DAYS)."""
    before = usable[:a][~np.isnan(usable[:a])][-RATE_DAYS:]
    if len(before) >= MIN_RATE_DAYS:
        return float(before.sum()), len(before)
    after = usable[b:][~np.isnan(usable[b:])][:RATE_DAYS]
    return (float(after.sum()), len(after)) if len(after) >= MIN_RATE_DAYS else (0.0, 0)


def run_probability(units: float, days: int, length: int) -> float:
    """The larger of the two chances of ``length`` zero days in the module docstring."""
    if days == 0 or units <= 0:
        return 1.0
    return max(float(zero_probability(units / days)) ** length, (days / (days + length)) ** units)


def infer_stockouts(y: np.ndarray, promo: np.ndarray | None = None) -> np.ndarray:
    """Days of ``y`` ((series, days) units, NaN = unknown) that sit in an improbable
    zero run, as a bool mask of ``y``'s shape; ``promo`` days (same shape) never give
    a rate.  Runs are judged in date order, each with the runs before it already left
    out of its rate."""
    y = np.array(y, float)
    out = np.zeros(y.shape, bool)
    for i, row in enumerate(y):
        usable = row.copy() if promo is None else np.where(promo[i], np.nan, row)
        for a, b in _zero_runs(row):
            if run_probability(*_evidence(usable, a, b), b - a) < RUN_PROBABILITY:
                out[i, a:b] = True
                usable[a:b] = np.nan
    return out


__all__ = ["infer_stockouts", "run_probability", "zero_probability", "DISPERSION", "RUN_PROBABILITY"]
