"""What a pair's stock is expected to sell: the interface the model and the solver read.

An :class:`~optimizer.prep.instance.Instance` values stock through
:meth:`~optimizer.prep.instance.Instance.expected_sales`; by default that is ES of the
pair's own demand (SPEC §2/§7, :mod:`optimizer.prep.expected_sales`).  A *sales curve* put
on the instance replaces it: any function of stock that is concave and nondecreasing on
each pair's lattice with slope at most 1 keeps the chords of :mod:`optimizer.model.demand`
valid cuts and the solve loop's over-estimate check exact.  The two-stage plan's priced
relaxation uses one (:mod:`optimizer.prep.recourse_curve`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from optimizer.prep.expected_sales import expected_sales, quantile


class SalesCurve(Protocol):
    """``curve(stock, at)``: expected sales at ``stock`` of the pairs at positions ``at`` of the
    instance's pairs table (an integer array or a slice, aligned with ``stock``);
    ``curve.level(slope, at)``: the smallest stock from which the curve rises by at most
    ``slope`` per unit (the newsvendor level, ``F⁻¹(1 − slope)`` for ES of a demand F)."""

    def __call__(self, stock: np.ndarray, at) -> np.ndarray: ...

    def level(self, slope: np.ndarray, at) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class DemandCurve:
    """ES of each pair's demand (SPEC §2/§7), from arrays over the pairs: ``mean``, ``sd`` and the
    shape ``dist`` (codes of :mod:`optimizer.prep.expected_sales`).  An instance's own curve
    (its pairs' columns) and a scenario's (:func:`optimizer.solve.top_up.scenario_curve`)."""

    mean: np.ndarray
    sd: np.ndarray
    dist: np.ndarray

    def __call__(self, stock: np.ndarray, at) -> np.ndarray:
        return np.atleast_1d(expected_sales(stock, self.mean[at], self.sd[at], self.dist[at]))

    def level(self, slope: np.ndarray, at) -> np.ndarray:
        return np.atleast_1d(quantile(1.0 - np.asarray(slope, float), self.mean[at], self.sd[at], self.dist[at]))


__all__ = ["DemandCurve", "SalesCurve"]
