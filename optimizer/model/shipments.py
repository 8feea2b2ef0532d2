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

import math
from collections import defaultdict

import pyomo.environ as pyo

from optimizer.model.linear import combine, linear
from optimizer.prep.instance import Instance


def add_shipments(m: pyo.ConcreteModel, inst: Instance) -> None:
    routes = inst.routes
    volume = dict(zip(routes.index, routes["volume_m3"].astype(float).tolist()))
    max_units = dict(zip(routes.index, routes["max_units"].astype(float).tolist()))
    routes_of_lane = defaultdict(list)
    for k in routes.index:
        routes_of_lane[k[1:]].append(k)
    lanes = inst.lanes.loc[[l for l in inst.lanes.index if l in routes_of_lane]]
    m.routes_of_lane = routes_of_lane
    m.LANES = pyo.Set(initialize=list(lanes.index), dimen=2, ordered=True)

    cases, case_pack = m.cases, m.case_pack
    m.lane_volume = pyo.Expression(
        m.LANES,
        rule=lambda m, w, md: linear([volume[k] * case_pack[k] for k in routes_of_lane[(w, md)]],
                                     [cases[k] for k in routes_of_lane[(w, md)]]),
    )
    max_volume = {
        l: sum(volume[k] * max_units[k] for k in routes_of_lane[l]) for l in lanes.index
    }

    capped = [l for l in lanes.index if lanes.at[l, "capacity_m3"] == lanes.at[l, "capacity_m3"]]
    m.lane_capacity_limit = pyo.Constraint(
        capped,
        rule=lambda m, w, md: combine((1, m.lane_volume[w, md])) <= float(lanes.at[(w, md), "capacity_m3"]),
        doc="lane space: Σ volume·units ≤ capacity_m3[l]",
    )

    fixed = [l for l in lanes.index if lanes.at[l, "shipment_cost"] > 0 and max_volume[l] > 0]
    containerised = {l for l in fixed if lanes.at[l, "shipment_m3"] == lanes.at[l, "shipment_m3"]}
    max_shipments = {
        l: (max(1, math.ceil(max_volume[l] / lanes.at[l, "shipment_m3"] - 1e-9)) if l in containerised else 1)
        for l in fixed
    }
    m.FIXED_COST_LANES = pyo.Set(initialize=fixed, dimen=2, ordered=True)
    m.shipments = pyo.Var(
        m.FIXED_COST_LANES,
        within=pyo.NonNegativeIntegers,
        bounds=lambda _, *l: (0, max_shipments[l]),
        doc="containers (or 1 = lane used) paid on a lane",
    )
    m.shipment_cost = {l: float(lanes.at[l, "shipment_cost"]) for l in fixed}
    m.shipment_m3 = {l: float(lanes.at[l, "shipment_m3"]) for l in containerised}

    # Σ volume·units − shipment_m3·n ≤ 0
    m.container_fill = pyo.Constraint(
        sorted(containerised),
        rule=lambda m, w, md: combine((1, m.lane_volume[w, md]),
                                      (-m.shipment_m3[(w, md)], m.shipments[w, md])) <= 0,
        doc="containers: Σ volume·units ≤ shipment_m3·n",
    )
    fixed_routes = [k for l in fixed for k in routes_of_lane[l]]
    shipments = m.shipments
    # case_pack·cases − U·n ≤ 0
    m.lane_use = pyo.Constraint(
        fixed_routes,
        rule=lambda m, s, w, md: linear((case_pack[(s, w, md)], -max_units[(s, w, md)]),
                                        (cases[s, w, md], shipments[w, md])) <= 0,
        doc="a route carries units only on a paid shipment: units ≤ U·n",
    )
