"""The two-stage model of SPEC §8: order now, top up in each scenario once the signal is in.

The extensive form: stage 1's families of the ordinary model (:mod:`optimizer.model`) on
the model itself, over the routes usable now (``cases``, ``order_placed``, ``shipments``,
…), and a block ``stage2[k]`` per scenario k holding the same families over the routes
usable from the recourse date (a top-up is its own purchase order and its own shipments).
The families here then tie the stages together in every scenario k, with
``A[k] = E + Σ u1 + Σ u2[k]`` per pair (:mod:`~optimizer.model.two_stage.stock`):

* the budget, the cash limits, warehouse and lane space, supplier capacity and the SKU
  share hold for stage 1 plus stage 2 of k (each stage's own rows, implied by these,
  stay in place);
* the service target holds on ``A[k]`` against scenario k's demand;
* expected sales are chords of scenario k's ES at ``A[k]`` (outer approximation, refined
  by the solve loop, :mod:`optimizer.solve.two_stage`);

and the objective is ``Σ_k π_k·profit_k`` (SPEC §8).
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model import gc_paused
from optimizer.model.budget import add_budget
from optimizer.model.cash import add_cash_limits
from optimizer.model.concentration import add_concentration
from optimizer.model.moq import add_moq
from optimizer.model.shipments import add_shipments
from optimizer.model.space import add_space
from optimizer.model.suppliers import add_suppliers
from optimizer.model.two_stage.limits import add_shared_limits
from optimizer.model.two_stage.objective import add_two_stage_objective
from optimizer.model.two_stage.sales import add_scenario_sales
from optimizer.model.two_stage.service import add_scenario_service
from optimizer.prep.recourse import TwoStage

#: Each stage's families: orders and what they pay, carry and commit, without demand.
STAGE_FAMILIES = (add_shipments, add_budget, add_cash_limits, add_moq, add_suppliers, add_space,
                  add_concentration)
#: The families that tie the stages together in each scenario.
LINK_FAMILIES = (add_shared_limits, add_scenario_service, add_scenario_sales)


def build_two_stage_model(ts: TwoStage, *, top_up: bool = True) -> pyo.ConcreteModel:
    """The extensive form of ``ts``; ``top_up=False`` fixes every stage-2 order at zero
    (the best plan when no top-up is allowed)."""
    with gc_paused():
        m = pyo.ConcreteModel(name=f"{ts.campaign.config.name} (two-stage)")
        for add in STAGE_FAMILIES:
            add(m, ts.stage1)
        m.SCENARIOS = pyo.Set(initialize=range(len(ts.demand)), ordered=True)
        m.stage2 = pyo.Block(m.SCENARIOS)
        for k in m.SCENARIOS:
            for add in STAGE_FAMILIES:
                add(m.stage2[k], ts.stage2)
        for add in LINK_FAMILIES:
            add(m, ts)
        add_two_stage_objective(m, ts)
        if not top_up:
            fix_top_ups(m)
    return m


def fix_top_ups(m: pyo.ConcreteModel) -> None:
    """Fix every stage-2 order (cases, flags, shipments) at zero."""
    for k in m.SCENARIOS:
        for var in m.stage2[k].component_data_objects(pyo.Var):
            var.fix(0)


__all__ = ["LINK_FAMILIES", "STAGE_FAMILIES", "build_two_stage_model", "fix_top_ups"]
