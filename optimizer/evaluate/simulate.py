"""Monte-Carlo simulation of a plan's promo outcome (SPEC §2 accounting, scenario by scenario).

The exact expected profit (:func:`optimizer.evaluate.plan.evaluate_plan`) is one number;
this module shows its spread. Each scenario draws, independently for every
(SKU, warehouse) pair of ``evaluation.pairs``, a standard normal ``z`` and the demand

    D = max(0, mean + sd·z)          (normal; sd = 0: D = mean)
    D = F⁻¹(Φ(z))                    (lognormal, negative binomial, Poisson: SPEC §7)

— the pair's own distribution, as the plan was priced with — and, with ``A`` the
pair's available stock, ``p`` and ``v`` the values of a unit sold and of a leftover,
``k`` the holding cost, ``penalty`` the stock-out penalty (:mod:`optimizer.prep.economics`)
and ``spend`` the plan's purchase + shipment cost, computes

    sales  = min(D, A)
    short  = D − sales                (units of demand not served)
    left   = A − sales                (units left over)
    profit = Σ_pairs [ (p − v)·sales + (v − k)·A − penalty·short ] − spend

whose expectation is exactly SPEC §2/§6's expected profit
``Σ [(p − v + penalty)·ES(A) + (v − k)·A − penalty·E[D]] − spend``
(because ``E[short] = E[D] − ES(A)``). Pairs outside ``evaluation.pairs`` have
neither demand nor stock and add nothing.

Scenarios are drawn from a seeded :class:`numpy.random.Generator` in blocks of
rows of one standard-normal matrix (scenario × pair), so a seed gives the same
scenarios whatever the block size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from optimizer.evaluate.plan import PlanEvaluation
from optimizer.prep.expected_sales import NORMAL, quantile
from optimizer.prep.instance import Instance

DEFAULT_SCENARIOS = 1_000
DEFAULT_SEED = 0
QUANTILES = {"p10": 10, "p50": 50, "p90": 90}
_BLOCK_VALUES = 2_000_000  # normal draws held in memory at once


@dataclass(frozen=True)
class Simulation:
    """Per-scenario outcomes of a plan and the exact expectations they estimate.

    ``profit``, ``units_short``, ``units_left`` and ``pairs_short`` (pairs whose
    demand exceeds their stock) are arrays of length ``n``. ``exact`` holds the
    SPEC §2 expectations of the same quantities: ``profit`` (the evaluation's
    exact expected profit), ``units_short = Σ (E[D] − ES)``, ``units_left =
    Σ (A − ES)`` and ``pairs_short = Σ P(D > A)``.
    """

    profit: np.ndarray
    units_short: np.ndarray
    units_left: np.ndarray
    pairs_short: np.ndarray
    exact: dict
    spend: float
    seed: object = None

    METRICS = ("profit", "units_short", "units_left", "pairs_short")

    @property
    def n(self) -> int:
        return int(self.profit.size)

    def scenarios(self) -> pd.DataFrame:
        """The per-scenario arrays as one frame (one row per scenario)."""
        return pd.DataFrame({m: getattr(self, m) for m in self.METRICS})

    def stats(self) -> pd.DataFrame:
        """Per metric: ``mean, std, se`` (standard error of the mean = std/√n),
        ``p10, p50, p90`` (linear-interpolated percentiles of the scenarios) and
        ``exact`` (the SPEC §2 expectation), indexed by metric."""
        rows = []
        for m in self.METRICS:
            x = getattr(self, m).astype(float)
            std = float(x.std(ddof=1)) if x.size > 1 else 0.0
            q = np.percentile(x, list(QUANTILES.values())) if x.size else [np.nan] * 3
            rows.append({"metric": m, "mean": float(x.mean()) if x.size else np.nan,
                         "std": std, "se": std / np.sqrt(max(x.size, 1)),
                         **dict(zip(QUANTILES, map(float, q))), "exact": float(self.exact[m])})
        return pd.DataFrame(rows).set_index("metric")

    def probability_of_loss(self) -> float:
        """Share of scenarios with a negative profit."""
        return float(np.mean(self.profit < 0)) if self.n else float("nan")


def simulate_plan(inst: Instance, evaluation: PlanEvaluation, n: int = DEFAULT_SCENARIOS,
                  seed: int | np.random.Generator | np.random.SeedSequence | None = DEFAULT_SEED,
                  *, block_values: int = _BLOCK_VALUES) -> Simulation:
    """Simulate ``n`` demand scenarios of the plan ``evaluation`` (module docstring).

    ``seed`` is passed to :func:`numpy.random.default_rng` (an int, a
    SeedSequence, or a Generator used as is; None draws fresh entropy). The
    default seed 0 makes a report reproducible. ``block_values`` bounds the
    number of normal draws held in memory at once; it does not change results.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pairs = evaluation.pairs
    mean = pairs["mean"].to_numpy(float)
    sd = pairs["sd"].to_numpy(float)
    dist = pairs["dist"].to_numpy() if "dist" in pairs else np.zeros(len(pairs), dtype=np.int8)
    shaped = np.flatnonzero(dist != NORMAL)
    avail = pairs["available"].to_numpy(float)
    penalty = pairs["stockout_penalty"].to_numpy(float)
    sale_margin = pairs["sales_coef"].to_numpy(float) - penalty  # p − v: a sale over a leftover
    fixed = float(np.sum(pairs["stock_coef"].to_numpy(float) * avail)) - float(evaluation.spend)

    m = len(pairs)
    profit = np.empty(n)
    short_units = np.empty(n)
    left_units = np.empty(n)
    short_pairs = np.empty(n, dtype=np.int64)
    block = max(1, int(block_values) // max(m, 1))
    for start in range(0, n, block):
        k = min(block, n - start)
        z = rng.standard_normal((k, m))
        demand = np.maximum(0.0, mean + sd * z)
        if len(shaped):
            cols = (slice(None), shaped)
            level = np.clip(ndtr(z[cols]), 1e-15, 1.0 - 1e-15)  # a finite quantile
            demand[cols] = quantile(level, mean[shaped], sd[shaped], dist[shaped])
        sales = np.minimum(demand, avail)
        short = demand - sales
        rows = slice(start, start + k)
        # row sums (not matmul): each scenario's total is independent of the block size
        profit[rows] = (sales * sale_margin - short * penalty).sum(axis=1) + fixed
        short_units[rows] = short.sum(axis=1)
        left_units[rows] = (avail - sales).sum(axis=1)
        short_pairs[rows] = (demand > avail).sum(axis=1)

    exact = {
        "profit": float(evaluation.expected_profit),
        "units_short": float((pairs["expected_demand"] - pairs["expected_sales"]).sum()),
        "units_left": float(pairs["expected_leftover"].sum()),
        "pairs_short": float(pairs["stockout_probability"].sum()),
    }
    seed_used = None if isinstance(seed, np.random.Generator) else seed
    return Simulation(profit, short_units, left_units, short_pairs, exact,
                      float(evaluation.spend), seed_used)


__all__ = ["DEFAULT_SCENARIOS", "DEFAULT_SEED", "Simulation", "simulate_plan"]
