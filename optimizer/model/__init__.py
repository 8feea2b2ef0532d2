"""The Pyomo model of SPEC §2 and §6, built one constraint family per module.

``build_model(inst)`` reads as the list of families; each ``add_*`` function's
docstring states its equation.  A family builds the families whose components it
uses first and is built once (:mod:`optimizer.model.family`), so the list may come in
any order; the numbers each needs come from the instance (``inst.index``).  Only usable routes get variables (sparse sets
from :mod:`optimizer.prep.instance`).  The budget and the cash limits are mutable
Params so finance's what-ifs re-solve without rebuilding.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

import pyomo.environ as pyo

from optimizer.model.budget import add_budget
from optimizer.model.cash import add_cash_limits
from optimizer.model.concentration import add_concentration
from optimizer.model.demand import add_expected_sales
from optimizer.model.moq import add_moq
from optimizer.model.objective import add_objective
from optimizer.model.orders import add_orders
from optimizer.model.service import add_service
from optimizer.model.shipments import add_shipments
from optimizer.model.space import add_space
from optimizer.model.suppliers import add_suppliers
from optimizer.prep.instance import Instance

FAMILIES = (add_orders, add_shipments, add_budget, add_cash_limits, add_moq, add_suppliers, add_space,
            add_service, add_concentration, add_expected_sales)


def build_model(inst: Instance, objective: str = "profit", families=FAMILIES) -> pyo.ConcreteModel:
    """Build the MILP for ``inst``.

    ``objective="profit"`` maximises expected profit (the plan);
    ``objective="spend"`` minimises spend with the budget row dropped, which
    diagnoses infeasible service targets (the smallest budget that would do).
    ``families`` may come in any order (the model is the same).
    """
    with gc_paused():
        m = pyo.ConcreteModel(name=inst.campaign.config.name)
        for add in families:
            add(m, inst)
        add_objective(m, inst, objective)
        if objective == "spend":
            m.budget_limit.deactivate()
    return m


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector for a burst of allocations.

    Building a model allocates millions of small objects that all stay alive;
    each allocation burst makes the collector re-scan the ever larger heap, work
    that grows with the model and frees nothing.  Reference counting
    still frees everything as usual; the collector runs again afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


__all__ = ["FAMILIES", "build_model", "gc_paused"]
