"""The sales rows' outer approximation, refined where a solution over-estimates ES.

The model's ``sales[s,w]`` is capped by chords of the pair's expected sales
``ES(A)`` (:mod:`optimizer.model.demand`): lines through lattice points of the
concave ES, each an upper estimate between its points and exact at them.  A
solution whose stock falls between chords is credited more than ``ES``; adding
the chords at the lattice points around that stock removes the excess there.
Every set of chords keeps the model an upper estimate of the exact profit, so an
LP or MIP bound stays valid whatever chords it was solved with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimizer.model.demand import add_sales_chords
from optimizer.prep.instance import Instance


class SalesChords:
    """One built model's routes and demand pairs, read and refined at its loaded solution."""

    def __init__(self, model: pyo.ConcreteModel, inst: Instance):
        self.model = model
        self.inst = inst
        self.route_keys = list(model.ROUTES)
        self.pair_keys = list(model.DEMAND_PAIRS)
        self.pair_positions = inst.pairs.index.get_indexer(pd.MultiIndex.from_tuples(self.pair_keys)) \
            if self.pair_keys else np.zeros(0, int)
        self.sales_coef = inst.pairs["sales_coef"].reindex(self.pair_keys).to_numpy(float)

    def route_units(self) -> np.ndarray:
        """Units per route (``route_keys`` order) of the solution loaded in the model."""
        cp = self.inst.index.case_pack
        return np.array([cp[k] * (self.model.cases[k].value or 0.0) for k in self.route_keys])

    def gaps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stock, model sales and exact ES per demand pair at the loaded solution."""
        stock, exact = self.stock_and_sales(self.route_units())
        sales = np.array([self.model.sales[k].value or 0.0 for k in self.pair_keys])
        return stock, sales, exact

    def over_estimate(self) -> tuple[np.ndarray, np.ndarray]:
        """(stock, value the loaded solution's sales over-estimate) per demand pair:
        ``(sales − ES(stock))·sales_coef``."""
        stock, sales, exact = self.gaps()
        return stock, (sales - exact) * self.sales_coef

    def stock_and_sales(self, route_units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stock and exact ES per demand pair (``pair_keys`` order) for units per route."""
        units = pd.Series(route_units, index=self.inst.routes.index)
        by_pair = units.groupby(level=["sku", "warehouse"]).sum()
        pairs = self.inst.pairs.loc[self.pair_keys]
        stock = pairs["existing"].to_numpy(float) + by_pair.reindex(pairs.index).fillna(0).to_numpy()
        exact = self.inst.expected_sales(stock, self.pair_positions)
        return stock, exact

    def add_at(self, stock: np.ndarray, over: np.ndarray) -> int:
        """Chords at the lattice points around each pair's stock where ``over`` is true;
        the number added."""
        points = {}
        for i in np.flatnonzero(over):
            k = self.pair_keys[i]
            lo, _ = self.inst.index.stock_range[k]
            cp = self.inst.index.pair_case_pack[k]
            below = lo + cp * np.floor((stock[i] - lo) / cp + 1e-9)
            points[k] = [below - cp, below, below + cp]
        return add_sales_chords(self.model, self.inst, points)


__all__ = ["SalesChords"]
