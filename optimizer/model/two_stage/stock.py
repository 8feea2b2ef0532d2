"""Stock at each pair in each scenario: ``A[k][s,w] = E + Σ_m u1[s,w,m] + Σ_m u2[k][s,w,m]``.

``available`` of stage 1 already holds ``E + Σ u1`` and stage 2's ``E + Σ u2[k]``, so
``A[k] = available1 + available2[k] − E`` where the pair has routes in both stages.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model.family import family
from optimizer.model.linear import combine
from optimizer.prep.recourse import TwoStage


@family("scenario_stock")
def add_scenario_stock(m: pyo.ConcreteModel, ts: TwoStage) -> None:
    existing = ts.stage1.pairs["existing"].astype(float).to_dict()
    m.ALL_PAIRS = pyo.Set(initialize=list(ts.pairs), dimen=2, ordered=True)
    first = set(m.PAIRS)

    def stock(m, k, s, w):
        b = m.stage2[k]
        parts = [(1, m.available[s, w])] if (s, w) in first else []
        if (s, w) in b.PAIRS:
            parts.append((1, b.available[s, w]))
        return combine(*parts, constant=-existing[(s, w)] * (len(parts) - 1)) if parts else \
            combine(constant=existing.get((s, w), 0.0))

    m.scenario_stock = pyo.Expression(m.SCENARIOS, m.ALL_PAIRS, rule=stock, doc="A[k]: stock in scenario k")
