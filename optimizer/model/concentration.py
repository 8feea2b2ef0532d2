"""SKU concentration (SPEC §2 rule 7): ``Σ_l c[s,l]·units[s,l] ≤ α·budget``.

Shipment costs are shared by a lane and are not attributed to a SKU.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.budget import add_budget
from optimizer.model.family import family
from optimizer.model.linear import combine, linear
from optimizer.prep.instance import Instance


@family("sku_share_limit")
def add_concentration(m: pyo.ConcreteModel, inst: Instance) -> None:
    add_budget(m, inst)
    ix = inst.index
    alpha = inst.max_sku_budget_share
    skus = list(ix.ordered_skus) if alpha is not None else []
    m.max_sku_share = pyo.Param(initialize=alpha if alpha is not None else 1.0, mutable=True)
    m.sku_cost = pyo.Expression(
        list(ix.ordered_skus),
        rule=lambda m, s: linear([ix.landed_cost[k] * ix.case_pack[k] for k in ix.routes_of_sku[s]],
                                 [m.cases[k] for k in ix.routes_of_sku[s]]),
        doc="landed cost of one SKU's units",
    )
    m.sku_share_limit = pyo.Constraint(
        skus,
        rule=lambda m, s: combine((1, m.sku_cost[s])) <= m.max_sku_share * m.budget,
        doc="landed cost of one SKU ≤ α·budget",
    )
