"""Service target (SPEC §2 rule 6): ``ES(A[s,w]) ≥ β·E[D[s,w]]`` for pairs with mean > 0.

ES is increasing, so the rule is exactly ``A[s,w] ≥ A_β[s,w]``, the smallest
stock on the pair's lattice ``E + case_pack·k`` that meets it (computed in
:mod:`optimizer.prep.instance`).  Stating it on stock rather than on the
outer-approximated sales variable keeps it exact.  Pairs the target cannot
reach are diagnosed before the model is built (:mod:`optimizer.solve.diagnose`).
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import combine
from optimizer.model.orders import add_orders
from optimizer.prep.instance import Instance


@family("service_lower")
def add_service(m: pyo.ConcreteModel, inst: Instance) -> None:
    add_orders(m, inst)
    p = inst.pairs
    need = p[p["service_stock"] > p["existing"]]
    m.SERVICE_PAIRS = pyo.Set(initialize=list(need.index), dimen=2, ordered=True)
    target = need["service_stock"].to_dict()
    m.service_lower = pyo.Constraint(
        m.SERVICE_PAIRS,
        rule=lambda m, s, w: combine((1, m.available[s, w])) >= target[(s, w)],
        doc="A ≥ A_β (⇔ ES(A) ≥ β·E[D])",
    )
