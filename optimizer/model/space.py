"""Warehouse space (SPEC §2 rule 4): ``Σ_{s,m} volume[s]·units[s,(w,m)] ≤ capacity_m3[w]``.

Only inbound units use the free space given to the campaign; stock already
there is not counted.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from optimizer.model.linear import linear
from optimizer.prep.instance import Instance


def add_space(m: pyo.ConcreteModel, inst: Instance) -> None:
    routes = inst.routes
    volume = dict(zip(routes.index, routes["volume_m3"].astype(float).tolist()))
    cp = m.case_pack
    routes_of_wh = defaultdict(list)
    for k in m.ROUTES:
        routes_of_wh[k[1]].append(k)
    capacity = inst.warehouses["capacity_m3"].to_dict()
    m.space_limit = pyo.Constraint(
        sorted(routes_of_wh),
        rule=lambda m, w: linear([volume[k] * cp[k] for k in routes_of_wh[w]],
                                 [m.cases[k] for k in routes_of_wh[w]]) <= capacity[w],
        doc="inbound volume ≤ capacity_m3[w]",
    )
