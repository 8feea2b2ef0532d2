"""The engine's expected sales (optimizer.prep.expected_sales) against the independent
checker's numerical ones, for every demand shape of SPEC §2 and §7.

The engine uses closed forms (the normal loss function, the lognormal's partial
expectation, ``mean·P(D' ≤ a − 1) + a·P(D > a)`` for counts); the checker integrates
the survival function or sums ``P(D > k)``.  They must agree, and each ES must be
concave on the stock lattice with slope ``P(D > A)``.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.prep.expected_sales import (
    DISTRIBUTIONS,
    distribution_codes,
    expected_demand,
    expected_sales,
    quantile,
    stockout_probability,
)

from checker import expected_demand as checker_demand
from checker import expected_sales as checker_sales

CASES = [  # distribution, mean, sd
    ("normal", 150.0, 40.0), ("normal", 5.0, 8.0), ("normal", 30.0, 0.0),
    ("lognormal", 400.0, 600.0), ("lognormal", 20.0, 5.0), ("lognormal", 30.0, 0.0),
    ("negative_binomial", 20.0, 15.0), ("negative_binomial", 1.2, 2.0),
    ("negative_binomial", 3.0, 1.0),  # sd² ≤ mean: a Poisson
    ("poisson", 3.0, 1.7320508), ("poisson", 0.4, 9.0),
]


@pytest.mark.parametrize("name, mean, sd", CASES, ids=[f"{c[0]}-{c[1]:g}-{c[2]:g}" for c in CASES])
def test_engine_agrees_with_the_independent_checker(name, mean, sd):
    code = distribution_codes([name], [mean], [sd])
    stocks = np.unique(np.round(np.r_[0, 1, 2, np.linspace(0, 4 * mean + 6 * sd + 5, 12)]))
    engine = np.atleast_1d(expected_sales(stocks, mean, sd, np.repeat(code, len(stocks))))
    independent = [checker_sales(mean, sd, a, distribution=name) for a in stocks]
    assert engine == pytest.approx(independent, rel=1e-7, abs=1e-9)
    assert float(expected_demand(mean, sd, code[0])) == pytest.approx(
        checker_demand(mean, sd, distribution=name), rel=1e-9)


@pytest.mark.parametrize("name, mean, sd", CASES, ids=[f"{c[0]}-{c[1]:g}-{c[2]:g}" for c in CASES])
def test_slope_is_the_stockout_probability_and_es_is_concave(name, mean, sd):
    code = int(distribution_codes([name], [mean], [sd])[0])
    a = np.arange(0, int(4 * mean + 6 * sd + 6), dtype=float)
    es = np.atleast_1d(expected_sales(a, mean, sd, code))
    steps = np.diff(es)
    assert np.all(np.diff(steps) <= 1e-9)  # concave on the integer lattice
    if DISTRIBUTIONS[code] in ("negative_binomial", "poisson"):
        # integer demand: ES is linear between integers with slope P(D > a)
        assert steps == pytest.approx(np.atleast_1d(stockout_probability(a[:-1], mean, sd, code)), abs=1e-12)
        assert float(expected_sales(2.5, mean, sd, code)) == pytest.approx((es[2] + es[3]) / 2, abs=1e-12)


def test_negative_binomial_with_small_variance_is_poisson():
    assert distribution_codes(["negative_binomial", "negative_binomial", "", "LogNormal"],
                              [3, 3, 3, 3], [1.7, 1.8, 1, 1]).tolist() == [3, 2, 0, 1]


def test_quantile_inverts_the_distribution():
    for name, mean, sd in CASES:
        code = int(distribution_codes([name], [mean], [sd])[0])
        if sd == 0 and name in ("normal", "lognormal"):
            continue
        for p in (0.1, 0.5, 0.9):
            q = float(quantile(p, mean, sd, code))
            # P(D ≤ q) ≥ p: the survival at q is at most 1 − p
            assert float(stockout_probability(q, mean, sd, code)) <= 1 - p + 1e-9
