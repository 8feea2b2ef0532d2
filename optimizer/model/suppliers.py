"""Supplier minimums and capacities (SPEC §2 rule 3).

``Σ_{s of f} unit_cost[s]·ordered[s] ≥ min_order_value[f]·z[f]``, ``y[s] ≤ z[f]``
and ``Σ_{s of f} ordered[s] ≤ capacity_units[f]``.  ``z`` exists only for
suppliers with a positive minimum order value.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from ..instance import Instance


def add_suppliers(m: pyo.ConcreteModel, inst: Instance) -> None:
    skus, suppliers = inst.skus, inst.suppliers
    skus_of = defaultdict(list)
    for s in m.ORDERED_SKUS:
        skus_of[skus.at[s, "supplier"]].append(s)
    with_min = [f for f in skus_of if suppliers.at[f, "min_order_value"] > 0]
    m.MIN_VALUE_SUPPLIERS = pyo.Set(initialize=with_min, ordered=True)
    m.supplier_used = pyo.Var(m.MIN_VALUE_SUPPLIERS, within=pyo.Binary, doc="z[f]")
    unit_cost = skus["unit_cost"].to_dict()
    m.supplier_value = pyo.Expression(
        list(skus_of), rule=lambda m, f: sum(unit_cost[s] * m.ordered[s] for s in skus_of[f])
    )
    m.supplier_min_value = pyo.Constraint(
        m.MIN_VALUE_SUPPLIERS,
        rule=lambda m, f: m.supplier_value[f]
        >= float(suppliers.at[f, "min_order_value"]) * m.supplier_used[f],
        doc="order value ≥ min_order_value·z",
    )
    linked = [(f, s) for f in with_min for s in skus_of[f]]
    m.supplier_link = pyo.Constraint(
        linked, rule=lambda m, f, s: m.order_placed[s] <= m.supplier_used[f], doc="y[s] ≤ z[f]"
    )
    capped = [
        f for f in skus_of
        if suppliers.at[f, "capacity_units"] == suppliers.at[f, "capacity_units"]
    ]
    m.supplier_capacity_limit = pyo.Constraint(
        capped,
        rule=lambda m, f: sum(m.ordered[s] for s in skus_of[f])
        <= float(suppliers.at[f, "capacity_units"]),
        doc="Σ ordered ≤ capacity_units",
    )
