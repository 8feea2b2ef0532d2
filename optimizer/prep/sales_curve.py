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

from typing import Protocol

import numpy as np


class SalesCurve(Protocol):
    """``curve(stock, at)``: expected sales at ``stock`` of the pairs at positions ``at`` of the
    instance's pairs table (an integer array or a slice, aligned with ``stock``);
    ``curve.level(slope, at)``: the smallest stock from which the curve rises by at most
    ``slope`` per unit (the newsvendor level, ``F⁻¹(1 − slope)`` for ES of a demand F)."""

    def __call__(self, stock: np.ndarray, at) -> np.ndarray: ...

    def level(self, slope: np.ndarray, at) -> np.ndarray: ...


__all__ = ["SalesCurve"]
