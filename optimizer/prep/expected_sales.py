"""Expected sales under each demand distribution of SPEC §2 and §7.

Demand at a (SKU, warehouse) pair has one of four shapes, coded per pair
(:data:`DISTRIBUTIONS`; ``dist=None`` means normal everywhere):

* ``normal`` (code 0) — ``D = max(0, N(mean, sd))``.  With the standard normal loss
  ``G(z) = φ(z) − z·(1 − Φ(z))``::

      ES(A) = mean − sd·G((A − mean)/sd) + sd·G(mean/sd)
      E[D]  = mean + sd·G(mean/sd),     P(D > A) = 1 − Φ((A − mean)/sd)

* ``lognormal`` (code 1) — mean and sd are those of D: ``σ² = ln(1 + sd²/mean²)``,
  ``μ = ln(mean) − σ²/2``::

      ES(A) = mean·Φ((ln A − μ − σ²)/σ) + A·(1 − Φ((ln A − μ)/σ)),   E[D] = mean

* ``negative_binomial`` (code 2) — integer demand with variance ``sd² > mean``:
  ``r = mean²/(sd² − mean)``, ``p = mean/sd²`` (scipy's ``nbinom(r, p)``);
* ``poisson`` (code 3) — integer demand with mean λ (sd is ignored).

For integer demand ``ES(a) = Σ_{k<a} P(D > k)``; with ``k·P(D = k) = mean·P(D' = k − 1)``
(``D'`` the same family with ``r + 1``, or the same Poisson) this is, in closed form,

    ES(a) = mean·P(D' ≤ a − 1) + a·P(D > a),

and between integers ES is linear (``ES(A) = ES(⌊A⌋) + (A − ⌊A⌋)·P(D > ⌊A⌋)``, exactly
``E[min(D, A)]``).  ``E[D] = mean`` for the three non-normal shapes.  ``sd = 0`` is the
deterministic case for the continuous shapes: ``ES(A) = min(mean, A)``.  Every ES is
concave in A, so the chords of :mod:`optimizer.model.demand` stay valid.

All functions are vectorised over numpy arrays and return floats for scalar input.
A negative binomial with ``sd² ≤ mean`` is coded as Poisson by :func:`distribution_codes`.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import ndtr, ndtri

from optimizer.io.checks import DISTRIBUTION_NAMES as DISTRIBUTIONS

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)

NORMAL, LOGNORMAL, NEGATIVE_BINOMIAL, POISSON = (DISTRIBUTIONS.index(n) for n in DISTRIBUTIONS)


def distribution_codes(names, mean, sd) -> np.ndarray:
    """Codes of :data:`DISTRIBUTIONS` for names (blank = normal); a negative binomial
    whose variance does not exceed its mean is a Poisson (SPEC §7)."""
    names = ["normal" if (n is None or str(n).strip() == "") else str(n).strip().lower() for n in names]
    codes = np.array([DISTRIBUTIONS.index(n) for n in names], dtype=np.int8)
    mean, sd = np.asarray(mean, float), np.asarray(sd, float)
    return np.where((codes == NEGATIVE_BINOMIAL) & (sd * sd <= mean), POISSON, codes).astype(np.int8)


def spread(mean, sd, dist=None) -> np.ndarray:
    """The standard deviation of D's shape: ``sd``, or ``√mean`` for a Poisson."""
    sd = np.asarray(sd, float)
    if dist is None:
        return sd
    return np.where(np.asarray(dist) == POISSON, np.sqrt(np.maximum(np.asarray(mean, float), 0.0)), sd)


def normal_loss(z):
    """Standard normal loss ``G(z) = φ(z) − z·(1 − Φ(z)) = E[(Z − z)⁺]``."""
    z = np.asarray(z, dtype=float)
    return _INV_SQRT_2PI * np.exp(-0.5 * z * z) - z * ndtr(-z)


# ---------------------------------------------------------------- dispatch


def _by_shape(dist, shape, compute, **arrays) -> np.ndarray:
    """``compute(code, **arrays[mask])`` for each shape present, assembled in ``shape``."""
    arrays = {k: np.broadcast_to(np.asarray(v, float), shape) for k, v in arrays.items()}
    if dist is None:
        return compute(NORMAL, **arrays)
    codes = np.broadcast_to(np.asarray(dist), shape)
    out = np.empty(shape, dtype=float)
    for code in np.unique(codes):
        mask = codes == code
        out[mask] = compute(int(code), **{k: v[mask] for k, v in arrays.items()})
    return out


def _shape(*arrays) -> tuple:
    return np.broadcast_shapes(*(np.shape(a) for a in arrays))


def expected_demand(mean, sd, dist=None):
    """``E[D]``: the truncated normal's, otherwise ``mean``.

    Truncating at zero lifts the mean of a normal whose sd is large against it:

    >>> round(expected_demand(10, 30), 3)
    17.627
    >>> expected_demand(10, 30, POISSON)
    10.0
    """
    shape = _shape(mean, sd) if dist is None else _shape(mean, sd, dist)
    return _scalar(_by_shape(dist, shape, _expected_demand, mean=mean, sd=sd))


def expected_sales(available, mean, sd, dist=None):
    """``ES(A) = E[min(D, A)]`` for stock ``A ≥ 0``.

    Normal demand of mean 100 and sd 30: stock at the mean sells 88.035 units on
    average, 30 units more stock 97.504; with ``sd = 0`` demand is exactly the mean.
    A Poisson of mean 1.5 with 2 in stock sells ``P(D > 0) + P(D > 1)``:

    >>> round(expected_sales(100, 100, 30), 3)
    88.035
    >>> round(expected_sales(130, 100, 30), 3)
    97.504
    >>> expected_sales(150, 100, 0)
    100.0
    >>> round(expected_sales(2, 1.5, 0, POISSON), 4)
    1.219
    """
    shape = _shape(available, mean, sd) if dist is None else _shape(available, mean, sd, dist)
    return _scalar(_by_shape(dist, shape, _expected_sales, a=available, mean=mean, sd=sd))


def stockout_probability(available, mean, sd, dist=None):
    """``P(D > A)``, the slope of ES at A (from the right, for integer demand).

    >>> round(stockout_probability(130, 100, 30), 4)   # one sd above the mean
    0.1587
    """
    shape = _shape(available, mean, sd) if dist is None else _shape(available, mean, sd, dist)
    return _scalar(_by_shape(dist, shape, _survival, a=available, mean=mean, sd=sd))


def quantile(prob, mean, sd, dist=None):
    """The smallest stock ``A`` with ``P(D ≤ A) ≥ prob`` (``prob`` in (0, 1))."""
    shape = _shape(prob, mean, sd) if dist is None else _shape(prob, mean, sd, dist)
    return _scalar(_by_shape(dist, shape, _quantile, q=prob, mean=mean, sd=sd))


# ---------------------------------------------------------------- one shape


def _expected_demand(code, mean, sd):
    if code != NORMAL:
        return np.maximum(mean, 0.0)
    safe_sd = np.where(sd > 0, sd, 1.0)
    return np.where(sd > 0, mean + safe_sd * normal_loss(mean / safe_sd), np.maximum(mean, 0.0))


def _expected_sales(code, a, mean, sd):
    a = np.maximum(a, 0.0)
    if code == NORMAL:
        safe_sd = np.where(sd > 0, sd, 1.0)
        stochastic = (mean - safe_sd * normal_loss((a - mean) / safe_sd)
                      + safe_sd * normal_loss(mean / safe_sd))
        return np.where(sd > 0, stochastic, np.minimum(np.maximum(mean, 0.0), a))
    if code == LOGNORMAL:
        mu, sigma, random = _lognormal(mean, sd)
        with np.errstate(divide="ignore"):
            log_a = np.log(np.where(a > 0, a, 1.0))
        es = mean * ndtr((log_a - mu - sigma ** 2) / sigma) + a * ndtr((mu - log_a) / sigma)
        es = np.where(a > 0, es, 0.0)
        return np.where(random, es, np.minimum(np.maximum(mean, 0.0), a))
    floor = np.floor(a + 1e-9)
    below, tail = _count_parts(code, floor, mean, sd)
    return np.where(mean > 0, mean * below + a * tail, 0.0)


def _survival(code, a, mean, sd):
    a = np.maximum(a, 0.0)
    if code == NORMAL:
        safe_sd = np.where(sd > 0, sd, 1.0)
        return np.where(sd > 0, ndtr(-(a - mean) / safe_sd), (mean > a).astype(float))
    if code == LOGNORMAL:
        mu, sigma, random = _lognormal(mean, sd)
        log_a = np.log(np.where(a > 0, a, 1.0))
        sf = np.where(a > 0, ndtr((mu - log_a) / sigma), (mean > 0).astype(float))
        return np.where(random, sf, (mean > a).astype(float))
    return np.where(mean > 0, _count(code, mean, sd).sf(np.floor(a + 1e-9)), 0.0)


def _quantile(code, q, mean, sd):
    if code == NORMAL:
        return mean + sd * ndtri(q)
    if code == LOGNORMAL:
        mu, sigma, random = _lognormal(mean, sd)
        return np.where(random, np.exp(mu + sigma * ndtri(q)), mean)
    return np.where(mean > 0, _count(code, mean, sd).ppf(q), 0.0)


def _lognormal(mean, sd):
    """(μ, σ, random): the log-scale parameters, and where D is not a constant."""
    random = (sd > 0) & (mean > 0)
    safe_mean = np.where(random, mean, 1.0)
    sigma2 = np.log1p(np.where(random, sd / safe_mean, 1.0) ** 2)
    return np.log(safe_mean) - 0.5 * sigma2, np.sqrt(sigma2), random


def _count(code, mean, sd, extra: int = 0):
    """The frozen scipy distribution of integer demand (``extra = 1``: D' of the module doc)."""
    lam = np.where(mean > 0, mean, 1.0)  # mean 0 (no demand) is handled by the callers
    if code == POISSON:
        return stats.poisson(lam)
    variance = np.maximum(sd * sd, lam * (1 + 1e-12) + 1e-300)
    r = lam * lam / (variance - lam)
    return stats.nbinom(r + extra, np.where(variance > 0, lam / variance, 1.0))


def _count_parts(code, a, mean, sd):
    """``(P(D' ≤ a − 1), P(D > a))`` for integer stock ``a``."""
    return _count(code, mean, sd, extra=1).cdf(a - 1), _count(code, mean, sd).sf(a)


def _scalar(x):
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


__all__ = [
    "DISTRIBUTIONS", "LOGNORMAL", "NEGATIVE_BINOMIAL", "NORMAL", "POISSON", "distribution_codes",
    "expected_demand", "expected_sales", "normal_loss", "quantile", "spread", "stockout_probability",
]
