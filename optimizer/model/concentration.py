"""SKU concentration (SPEC §2 rule 7): ``Σ_l c[s,l]·units[s,l] ≤ α·budget``.

Shipment costs are shared by a lane and are not attributed to a SKU.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.linear import linear
from optimizer.prep.instance import Instance


def add_concentration(m: pyo.ConcreteModel, inst: Instance) -> None:
    alpha = inst.max_sku_budget_share
    skus = list(m.ORDERED_SKUS) if alpha is not None else []
    m.max_sku_share = pyo.Param(initialize=alpha if alpha is not None else 1.0, mutable=True)
    m.sku_share_limit = pyo.Constraint(
        skus,
        rule=lambda m, s: linear([m.landed_cost[k] * m.case_pack[k] for k in m.routes_of_sku[s]],
                                 [m.cases[k] for k in m.routes_of_sku[s]])
        <= m.max_sku_share * m.budget,
        doc="landed cost of one SKU ≤ α·budget",
    )
