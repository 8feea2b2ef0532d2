"""Warehouse space (SPEC §2 rule 4): ``Σ_{s,m} volume[s]·units[s,(w,m)] ≤ capacity_m3[w]``.

Only inbound units use the free space given to the campaign; stock already
there is not counted.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import combine, linear
from optimizer.model.orders import add_orders
from optimizer.prep.instance import Instance


@family("space_limit")
def add_space(m: pyo.ConcreteModel, inst: Instance) -> None:
    add_orders(m, inst)
    ix = inst.index
    volume, cp, routes_of_wh = ix.volume, ix.case_pack, ix.routes_of_warehouse
    capacity = inst.warehouses["capacity_m3"].to_dict()
    m.inbound_volume = pyo.Expression(
        sorted(routes_of_wh),
        rule=lambda m, w: linear([volume[k] * cp[k] for k in routes_of_wh[w]],
                                 [m.cases[k] for k in routes_of_wh[w]]),
        doc="m³ ordered into a warehouse",
    )
    m.space_limit = pyo.Constraint(
        sorted(routes_of_wh),
        rule=lambda m, w: combine((1, m.inbound_volume[w])) <= capacity[w],
        doc="inbound volume ≤ capacity_m3[w]",
    )
