"""Supplier minimums and capacities (SPEC §2 rule 3).

``Σ_{s of f} unit_cost[s]·ordered[s] ≥ min_order_value[f]·z[f]``, ``y[s] ≤ z[f]``
and ``Σ_{s of f} ordered[s] ≤ capacity_units[f]``.  ``z`` exists only for
suppliers with a positive minimum order value.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import combine
from optimizer.model.moq import add_moq
from optimizer.prep.instance import Instance


@family("supplier_capacity_limit")
def add_suppliers(m: pyo.ConcreteModel, inst: Instance) -> None:
    add_moq(m, inst)
    skus, suppliers = inst.skus, inst.suppliers
    supplier_of = skus["supplier"].to_dict()
    min_value = suppliers["min_order_value"].to_dict()
    capacity = suppliers["capacity_units"].to_dict()
    skus_of = defaultdict(list)
    for s in inst.index.ordered_skus:
        skus_of[supplier_of[s]].append(s)
    with_min = [f for f in skus_of if min_value[f] > 0]
    m.MIN_VALUE_SUPPLIERS = pyo.Set(initialize=with_min, ordered=True)
    m.supplier_used = pyo.Var(m.MIN_VALUE_SUPPLIERS, within=pyo.Binary, doc="z[f]")
    unit_cost = {s: float(c) for s, c in skus["unit_cost"].items()}
    m.supplier_value = pyo.Expression(
        list(skus_of),
        rule=lambda m, f: combine(*((unit_cost[s], m.ordered[s]) for s in skus_of[f])),
    )
    # min_order_value·z − value ≤ 0
    m.supplier_min_value = pyo.Constraint(
        m.MIN_VALUE_SUPPLIERS,
        rule=lambda m, f: combine((float(min_value[f]), m.supplier_used[f]),
                                  (-1, m.supplier_value[f])) <= 0,
        doc="order value ≥ min_order_value·z",
    )
    linked = [(f, s) for f in with_min for s in skus_of[f]]
    # y − z ≤ 0
    m.supplier_link = pyo.Constraint(
        linked,
        rule=lambda m, f, s: combine((1, m.order_placed[s]), (-1, m.supplier_used[f])) <= 0,
        doc="y[s] ≤ z[f]",
    )
    capped = [f for f in skus_of if capacity[f] == capacity[f]]
    m.supplier_capacity_limit = pyo.Constraint(
        capped,
        rule=lambda m, f: combine(*((1, m.ordered[s]) for s in skus_of[f])) <= float(capacity[f]),
        doc="Σ ordered ≤ capacity_units",
    )
