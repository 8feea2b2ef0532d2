"""Order decisions: cases per usable route, and the stock they make available.

Sets: ``ROUTES`` = usable (sku, warehouse, mode); ``PAIRS`` = (sku, warehouse)
with demand, stock or a route.  Variables: ``cases[s,w,m] ∈ ℤ≥0``.
Units ``units[r] = case_pack[s]·cases[r]`` (``m.case_pack``) are not a component
of their own: every row states them directly as ``case_pack·cases``.
Expressions (flat linear sums, :mod:`optimizer.model.linear`):
``available[s,w] = E[s,w] + Σ_m case_pack[s]·cases[s,w,m]`` (SPEC §2 "Available"),
``ordered[s] = Σ_{w,m} case_pack[s]·cases[s,w,m]``.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from optimizer.model.linear import linear
from optimizer.prep.instance import Instance


def add_orders(m: pyo.ConcreteModel, inst: Instance) -> None:
    routes = inst.routes
    keys = list(routes.index)
    packs = routes["case_pack"].astype(int).tolist()
    case_pack = dict(zip(keys, packs))
    max_cases = {k: int(u // cp) for k, u, cp in zip(keys, routes["max_units"].tolist(), packs)}

    m.ROUTES = pyo.Set(initialize=keys, dimen=3, ordered=True, doc="usable (sku, warehouse, mode)")
    m.PAIRS = pyo.Set(initialize=list(inst.pairs.index), dimen=2, ordered=True)
    m.ORDERED_SKUS = pyo.Set(initialize=sorted({k[0] for k in keys}), ordered=True)

    m.cases = pyo.Var(
        m.ROUTES,
        within=pyo.NonNegativeIntegers,
        bounds=lambda _, *k: (0, max_cases[k]),
        doc="cases bought for a route",
    )
    m.case_pack = case_pack

    routes_of_pair = defaultdict(list)
    routes_of_sku = defaultdict(list)
    for k in keys:
        routes_of_pair[k[:2]].append(k)
        routes_of_sku[k[0]].append(k)
    m.routes_of_pair = routes_of_pair
    m.routes_of_sku = routes_of_sku

    existing = inst.pairs["existing"].astype(float).to_dict()
    cases = m.cases
    m.available = pyo.Expression(
        m.PAIRS,
        rule=lambda m, s, w: linear([case_pack[k] for k in routes_of_pair[(s, w)]],
                                    [cases[k] for k in routes_of_pair[(s, w)]],
                                    existing[(s, w)]),
    )
    m.ordered = pyo.Expression(
        m.ORDERED_SKUS,
        rule=lambda m, s: linear([case_pack[k] for k in routes_of_sku[s]],
                                 [cases[k] for k in routes_of_sku[s]]),
    )
