"""Constraint families that can be built in any order.

Each ``add_*`` function of the model is a family decorated with :func:`family`: it
names the component that shows it was built and is built at most once per model.  A
family first calls the families whose components it uses (``add_budget`` calls
``add_orders`` and ``add_shipments``), so its dependencies are its imports, and
:func:`optimizer.model.build_model` may list the families in any order.  The numbers a
family needs come from the instance (``inst.index``, :mod:`optimizer.prep.model_index`),
never from another family's attributes on the model.
"""

from __future__ import annotations

from functools import wraps

import pyomo.environ as pyo


def family(provides: str):
    """Decorate ``add_x(m, inst, ...)``: skipped when ``m`` already has component ``provides``."""
    def decorate(add):
        @wraps(add)
        def add_once(m: pyo.ConcreteModel, inst, *args, **kwargs) -> None:
            if m.component(provides) is None:
                add(m, inst, *args, **kwargs)

        add_once.provides = provides
        return add_once

    return decorate


__all__ = ["family"]
