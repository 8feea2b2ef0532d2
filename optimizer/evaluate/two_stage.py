"""A two-stage plan evaluated exactly on a set of scenarios (SPEC §8).

For stage 1's units ``u1`` and each scenario's top-up ``u2[k]``:

    profit_k = Σ_{s,w} [ sales_coef·ES_k(A[k]) + stock_coef·A[k] − penalty·E_k[D] ]
               − spend1 − spend2[k],        A[k] = E + Σ u1 + Σ u2[k],

with each stage's spend as :func:`~optimizer.evaluate.plan.evaluate_plan` computes it on
its own instance (its own purchase orders and fewest shipments), and the expected profit
``Σ_k π_k·profit_k``.  Never read from the model's sales variables.

:func:`estimate` turns per-scenario profits into an estimate with its standard error:
on generated scenarios (equally likely draws) ``sd / √n``; on scenarios.csv (the exact
distribution) zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import PlanEvaluation, evaluate_plan
from optimizer.prep.expected_sales import expected_sales
from optimizer.prep.recourse import TwoStage

RECOURSE_COLUMNS = ["scenario", "sku", "warehouse", "mode", "cases", "units", "unit_landed_cost", "line_cost",
                    "order_by", "ship_by"]


@dataclass(frozen=True)
class Estimate:
    """An expected value over scenarios and its standard error."""

    value: float
    se: float


def estimate(values: np.ndarray, probabilities: np.ndarray, exact: bool) -> Estimate:
    """``Σ π_k·values_k`` and its standard error (0 when the scenarios are the distribution)."""
    values = np.asarray(values, float)
    mean = float(probabilities @ values)
    if exact or len(values) < 2:
        return Estimate(mean, 0.0)
    return Estimate(mean, float(np.std(values, ddof=1) / np.sqrt(len(values))))


@dataclass
class TwoStageEvaluation:
    """A two-stage plan evaluated on ``ts``'s scenarios."""

    stage1: PlanEvaluation  # the POs to place now (plan.csv, shipments.csv, cash.csv)
    recourse: pd.DataFrame  # recourse.csv rows: every scenario's top-up lines
    scenario_profit: np.ndarray  # exact profit_k
    stage2_spend: np.ndarray  # spend2[k]
    probabilities: np.ndarray
    scenario_sales: np.ndarray  # Σ_pairs ES_k(A[k])
    demand_units: np.ndarray  # Σ_pairs E_k[D]

    @property
    def expected_sales_units(self) -> float:
        return float(self.probabilities @ self.scenario_sales)

    @property
    def expected_demand_units(self) -> float:
        return float(self.probabilities @ self.demand_units)

    @property
    def lines(self) -> pd.DataFrame:
        """Stage 1's plan lines: the purchase orders placed now."""
        return self.stage1.lines

    @property
    def expected_profit(self) -> float:
        return float(self.probabilities @ self.scenario_profit)

    @property
    def expected_stage2_spend(self) -> float:
        return float(self.probabilities @ self.stage2_spend)


def scenario_profits(ts: TwoStage, u1: pd.Series | None, u2: list[pd.Series | None], spend1: float,
                     spend2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``profit_k`` of every scenario of ``ts`` (module docstring), and its expected units sold."""
    pairs = ts.pairs
    p = ts.stage1.pairs.reindex(pairs)
    first = _per_pair(u1, pairs)
    base = p["existing"].to_numpy(float) + first
    d = ts.demand
    at = pairs.get_indexer(d.pairs)
    coef, stock_coef, penalty = (p[c].to_numpy(float) for c in ("sales_coef", "stock_coef", "stockout_penalty"))
    profits, sold = np.empty(len(d)), np.empty(len(d))
    for k in range(len(d)):
        stock = base + _per_pair(u2[k], pairs)
        es = np.atleast_1d(expected_sales(stock[at], d.mean[k], d.sd[k], d.dist[k]))
        profits[k] = (coef[at] @ es + stock_coef @ stock - penalty[at] @ d.expected_demand[k]
                      - spend1 - spend2[k])
        sold[k] = es.sum()
    return profits, sold


def _per_pair(units: pd.Series | None, pairs: pd.MultiIndex) -> np.ndarray:
    """Units per route summed per pair, in ``pairs`` order (None or empty: zeros)."""
    if units is None or not len(units):
        return np.zeros(len(pairs))
    return units.groupby(level=["sku", "warehouse"]).sum().reindex(pairs).fillna(0.0).to_numpy(float)


def evaluate_two_stage(ts: TwoStage, u1: pd.Series | None, u2: list[pd.Series | None]) -> TwoStageEvaluation:
    """Exact profits of stage 1's ``u1`` topped up by ``u2[k]`` in each scenario of ``ts``."""
    first = evaluate_plan(ts.stage1, u1)
    spend2, lines = np.zeros(len(ts.demand)), []
    for k, units in enumerate(u2):
        if units is None or not (units > 0).any():
            continue
        top = evaluate_plan(ts.stage2, units)
        spend2[k] = top.spend
        rows = top.lines.assign(scenario=ts.demand.ids[k])
        rows["line_cost"] = rows["line_cost"].round(6)
        lines.append(rows[RECOURSE_COLUMNS])
    recourse = pd.concat(lines, ignore_index=True) if lines else pd.DataFrame(columns=RECOURSE_COLUMNS)
    profits, sold = scenario_profits(ts, u1, u2, first.spend, spend2)
    return TwoStageEvaluation(first, recourse, profits, spend2, ts.demand.probabilities, sold,
                              ts.demand.expected_demand.sum(axis=1))


__all__ = ["RECOURSE_COLUMNS", "Estimate", "TwoStageEvaluation", "estimate", "evaluate_two_stage",
           "scenario_profits"]
