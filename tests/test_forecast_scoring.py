"""Stockout inference without flags, forecast scores and the demand-shape choice: small
arrays and frames, each checked against what it must be by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from optimizer.forecast.censoring import RUN_PROBABILITY, infer_stockouts, run_probability
from optimizer.forecast.scoring import distribution_scores, point_scores, quantiles
from optimizer.forecast.shapes import COUNT_MEAN, choose_shapes

# ------------------------------------------------------------------ censoring


def test_a_week_of_zeros_at_five_a_day_is_a_stockout_and_nothing_else_is():
    rng = np.random.default_rng(0)
    y = rng.poisson(5.0, 200).astype(float)
    y[120:127] = 0
    mask = infer_stockouts(y[None, :])[0]
    assert mask[120:127].all()
    assert mask.sum() == 7


def test_a_slow_movers_long_zero_runs_are_not_stockouts():
    """At 0.2 a day, zero runs of two weeks are common: none is taken for a stockout."""
    rng = np.random.default_rng(1)
    y = rng.poisson(0.2, (20, 700)).astype(float)
    assert infer_stockouts(y).sum() == 0


def test_the_rates_uncertainty_protects_a_series_with_few_units():
    # 3 units in 28 days: 20 zero days are not improbable (the rate may well be lower)
    assert run_probability(3, 28, 20) > RUN_PROBABILITY
    # 140 units in 28 days: 4 zero days are
    assert run_probability(140, 28, 4) < RUN_PROBABILITY
    assert run_probability(0, 28, 50) == 1.0


def test_promo_days_never_set_the_rate_and_unknown_days_break_a_run():
    y = np.full(80, 1.0)
    y[50:56] = 40.0                   # a promo at 40 a day just before the zeros
    y[56:62] = 0.0
    promo = np.zeros(80, bool)
    promo[50:56] = True
    assert infer_stockouts(y[None, :], promo[None, :]).sum() == 0   # at 1 a day: not improbable
    assert infer_stockouts(y[None, :]).sum() == 6                     # the promo's rate would say so
    z = np.full(80, 8.0)
    z[40:43] = 0.0
    z[43] = np.nan
    z[44:47] = 0.0                    # two runs of 3 split by an unknown day, each improbable
    assert infer_stockouts(z[None, :])[0, 40:47].sum() == 6


def test_deciding_a_run_reads_nothing_after_it():
    rng = np.random.default_rng(2)
    y = rng.poisson(6.0, 150).astype(float)
    y[100:105] = 0
    later = y.copy()
    later[105:] = 500.0               # whatever sells after the run
    assert (infer_stockouts(y[None, :])[0, :105] == infer_stockouts(later[None, :])[0, :105]).all()


# ------------------------------------------------------------------ scores


def test_point_scores():
    s = point_scores([10, 20, np.nan], [12, 16, 5])
    assert s == {"pairs": 2, "wape": pytest.approx(6 / 30), "bias": pytest.approx(-2 / 30)}


def test_normal_intervals_cover_eighty_percent_of_normal_outcomes():
    rng = np.random.default_rng(3)
    mean, sd = np.full(20000, 200.0), np.full(20000, 30.0)
    actual = rng.normal(mean, sd)
    s = distribution_scores(actual, mean, sd)
    assert s["coverage_80"] == pytest.approx(0.8, abs=0.01)
    # the pinball loss at the true quantile: E[ρ_q(D − P_q)] = σ·φ(z_q) for a normal, over E[D]
    for q in (0.1, 0.5, 0.9):
        z = stats.norm.ppf(q)
        expected = 30.0 * stats.norm.pdf(z) / 200.0
        assert s[f"pinball_{round(q * 100)}"] == pytest.approx(expected, rel=0.03)


def test_quantiles_follow_the_shape_and_never_go_below_zero():
    q = quantiles((0.1, 0.5, 0.9), [5.0, 100.0, 100.0], [8.0, 60.0, 60.0],
                  ["normal", "lognormal", "negative_binomial"])
    assert q[0, 0] == 0.0                                  # the normal's P10 is negative
    sigma2 = np.log1p(0.36)
    assert q[1, 1] == pytest.approx(100 * np.exp(-sigma2 / 2))   # the lognormal's median
    assert q[:, 2] == pytest.approx(stats.nbinom(100 / 35, 1 / 36).ppf([0.1, 0.5, 0.9]))


# ------------------------------------------------------------------ demand shape


def _audit(**cols):
    n = len(next(iter(cols.values())))
    base = {"sku": [f"S{i}" for i in range(n)], "category": ["c"] * n, "mean": [100.0] * n,
            "sd": [20.0] * n, "spike_weeks": [0] * n, "n_past_promos": [2] * n}
    base.update(cols)
    return pd.DataFrame(base)


def test_shape_rules_in_order():
    a = _audit(mean=[COUNT_MEAN / 2, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100],
               sd=[4, 20, 20, 20, 60, 20, 20, 20, 20, 20, 20],
               n_past_promos=[0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2],
               spike_weeks=[3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    dist, why = choose_shapes(a, "black friday")
    assert list(dist) == ["negative_binomial", "lognormal", "lognormal", "normal", "lognormal",
                          "normal", "normal", "normal", "normal", "normal", "normal"]
    assert "count demand" in why[0] and "no past 'black friday'" in why[1]
    assert "1 spike week" in why[2] and "relative sd 0.60" in why[4]
    assert why[3].startswith("relative sd 0.20")


def test_a_spiky_category_makes_all_its_skus_lognormal():
    a = _audit(spike_weeks=[1, 0, 0, 0], category=["beauty", "beauty", "beauty", "pets"])
    dist, why = choose_shapes(a, None)
    assert list(dist) == ["lognormal", "lognormal", "lognormal", "normal"]
    assert "33% of the category's SKUs" in why[1]
