"""Shipments: containers and per-use lane fees (SPEC §2 rule 5).

For a lane l with ``shipment_m3`` set (containers), ``n[l] ∈ ℤ≥0`` and
``Σ_s volume[s]·units[s,l] ≤ shipment_m3[l]·n[l]``; otherwise, when the lane has a
fixed ``shipment_cost``, ``n[l] ∈ {0,1}`` and ``units[s,l] ≤ U[s,l]·n[l]``.
Lane space: ``Σ_s volume[s]·units[s,l] ≤ capacity_m3[l]`` when set.
A shipment variable is created only for lanes with a positive shipment cost
(free containers change nothing).  Each route also gets
``units[s,l] ≤ U[s,l]·n[l]``, the disaggregated form that tightens the LP.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import combine, linear
from optimizer.model.orders import add_orders
from optimizer.prep.instance import Instance


@family("shipments")
def add_shipments(m: pyo.ConcreteModel, inst: Instance) -> None:
    add_orders(m, inst)
    ix = inst.index
    lanes = inst.lanes
    m.LANES = pyo.Set(initialize=ix.lanes, dimen=2, ordered=True)

    cases, case_pack, volume, max_units = m.cases, ix.case_pack, ix.volume, ix.max_units
    m.lane_volume = pyo.Expression(
        m.LANES,
        rule=lambda m, w, md: linear([volume[k] * case_pack[k] for k in ix.routes_of_lane[(w, md)]],
                                     [cases[k] for k in ix.routes_of_lane[(w, md)]]),
    )

    capped = [l for l in ix.lanes if lanes.at[l, "capacity_m3"] == lanes.at[l, "capacity_m3"]]
    m.lane_capacity_limit = pyo.Constraint(
        capped,
        rule=lambda m, w, md: combine((1, m.lane_volume[w, md])) <= float(lanes.at[(w, md), "capacity_m3"]),
        doc="lane space: Σ volume·units ≤ capacity_m3[l]",
    )

    m.FIXED_COST_LANES = pyo.Set(initialize=ix.fixed_cost_lanes, dimen=2, ordered=True)
    m.shipments = pyo.Var(
        m.FIXED_COST_LANES,
        within=pyo.NonNegativeIntegers,
        bounds=lambda _, *l: (0, ix.max_shipments[l]),
        doc="containers (or 1 = lane used) paid on a lane",
    )

    # Σ volume·units − shipment_m3·n ≤ 0
    m.container_fill = pyo.Constraint(
        sorted(ix.shipment_m3),
        rule=lambda m, w, md: combine((1, m.lane_volume[w, md]),
                                      (-ix.shipment_m3[(w, md)], m.shipments[w, md])) <= 0,
        doc="containers: Σ volume·units ≤ shipment_m3·n",
    )
    fixed_routes = [k for l in ix.fixed_cost_lanes for k in ix.routes_of_lane[l]]
    shipments = m.shipments
    # case_pack·cases − U·n ≤ 0
    m.lane_use = pyo.Constraint(
        fixed_routes,
        rule=lambda m, s, w, md: linear((case_pack[(s, w, md)], -max_units[(s, w, md)]),
                                        (cases[s, w, md], shipments[w, md])) <= 0,
        doc="a route carries units only on a paid shipment: units ≤ U·n",
    )
