"""Order decisions: cases per usable route, and the stock they make available.

Sets: ``ROUTES`` = usable (sku, warehouse, mode); ``PAIRS`` = (sku, warehouse)
with demand, stock or a route.  Variables: ``cases[s,w,m] ∈ ℤ≥0``.
Units ``units[r] = case_pack[s]·cases[r]`` (``inst.index.case_pack``) are not a component
of their own: every row states them directly as ``case_pack·cases``.
Expressions (flat linear sums, :mod:`optimizer.model.linear`):
``available[s,w] = E[s,w] + Σ_m case_pack[s]·cases[s,w,m]`` (SPEC §2 "Available"),
``ordered[s] = Σ_{w,m} case_pack[s]·cases[s,w,m]``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import linear
from optimizer.prep.instance import Instance


@family("cases")
def add_orders(m: pyo.ConcreteModel, inst: Instance) -> None:
    ix = inst.index
    case_pack, max_cases = ix.case_pack, ix.max_cases

    m.ROUTES = pyo.Set(initialize=ix.routes, dimen=3, ordered=True, doc="usable (sku, warehouse, mode)")
    m.PAIRS = pyo.Set(initialize=list(inst.pairs.index), dimen=2, ordered=True)
    m.ORDERED_SKUS = pyo.Set(initialize=ix.ordered_skus, ordered=True)

    m.cases = pyo.Var(
        m.ROUTES,
        within=pyo.NonNegativeIntegers,
        bounds=lambda _, *k: (0, max_cases[k]),
        doc="cases bought for a route",
    )

    existing = inst.pairs["existing"].astype(float).to_dict()
    cases = m.cases
    m.available = pyo.Expression(
        m.PAIRS,
        rule=lambda m, s, w: linear([case_pack[k] for k in ix.routes_at((s, w))],
                                    [cases[k] for k in ix.routes_at((s, w))],
                                    existing[(s, w)]),
    )
    m.ordered = pyo.Expression(
        m.ORDERED_SKUS,
        rule=lambda m, s: linear([case_pack[k] for k in ix.routes_of_sku[s]],
                                 [cases[k] for k in ix.routes_of_sku[s]]),
    )
