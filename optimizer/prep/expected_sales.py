"""Expected sales under normal demand truncated at zero (SPEC §2).

Demand at a (SKU, warehouse) pair is ``D = max(0, N(mean, sd))``.  With the
standard normal loss function ``G(z) = φ(z) − z·(1 − Φ(z))``:

    ES(A)  = E[min(D, A)] = mean − sd·G((A − mean)/sd) + sd·G(mean/sd)
    E[D]   = mean + sd·G(mean/sd)
    ES'(A) = P(D > A) = 1 − Φ((A − mean)/sd)          (A ≥ 0)

``sd = 0`` is the deterministic case: ``ES(A) = min(mean, A)``.  All functions
are vectorised over numpy arrays and return floats for scalar input.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def normal_loss(z):
    """Standard normal loss ``G(z) = φ(z) − z·(1 − Φ(z)) = E[(Z − z)⁺]``."""
    z = np.asarray(z, dtype=float)
    return _INV_SQRT_2PI * np.exp(-0.5 * z * z) - z * ndtr(-z)


def expected_demand(mean, sd):
    """``E[max(0, N(mean, sd))]``."""
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    safe_sd = np.where(sd > 0, sd, 1.0)
    stochastic = mean + safe_sd * normal_loss(mean / safe_sd)
    return _scalar(np.where(sd > 0, stochastic, np.maximum(mean, 0.0)))


def expected_sales(available, mean, sd):
    """``ES(A) = E[min(max(0, D), A)]`` for stock ``A ≥ 0``."""
    a = np.maximum(np.asarray(available, dtype=float), 0.0)
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    safe_sd = np.where(sd > 0, sd, 1.0)
    stochastic = (
        mean
        - safe_sd * normal_loss((a - mean) / safe_sd)
        + safe_sd * normal_loss(mean / safe_sd)
    )
    deterministic = np.minimum(np.maximum(mean, 0.0), a)
    return _scalar(np.where(sd > 0, stochastic, deterministic))


def stockout_probability(available, mean, sd):
    """``P(D > A)``, the slope of ES at A."""
    a = np.maximum(np.asarray(available, dtype=float), 0.0)
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    safe_sd = np.where(sd > 0, sd, 1.0)
    stochastic = ndtr(-(a - mean) / safe_sd)
    return _scalar(np.where(sd > 0, stochastic, (mean > a).astype(float)))


def _scalar(x):
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x
