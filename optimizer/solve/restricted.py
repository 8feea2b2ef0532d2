"""A first plan for HiGHS: the MIP restricted to what the LP relaxation uses.

The hard part of the model is its fixed charges — MOQ / supplier-minimum flags and
paid shipments (containers, per-use lane fees).  The LP relaxation prices them
per unit, but it does show which SKUs are worth ordering and which lanes carry
real volume.  Closing the rest (``y[s] = 0`` where the LP orders under
``restricted_moq_share`` of the MOQ; ``n[l] = 0`` where the LP uses under
``restricted_lane_share`` of one shipment; both :class:`~optimizer.settings.PipelineKnobs`)
leaves a much smaller MIP whose plan is feasible for the full model and is handed to
HiGHS as its starting incumbent (relax-and-fix / RINS in spirit).

When the shipment counts are known (the shipment bound's best leaf, or the
rounded plan's), :class:`Fixed` pins them too: with no fixed-charge choice left
the restricted MIP solves much faster than with the counts free.

Bounds are changed in the Pyomo model and restored afterwards; the HiGHS model
follows them at its next sync, so one model serves throughout.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.prep.instance import Instance


def lp_guided_closures(m: pyo.ConcreteModel, inst: Instance) -> list:
    """Variables to close (upper bound 0) given the LP solution loaded in ``m``.

    SKUs and lanes that a service target may need are never closed.
    """
    skus, knobs = inst.skus, inst.settings.pipeline
    targeted = set(m.SERVICE_PAIRS)
    targeted_skus = {s for s, _ in targeted}
    targeted_whs = {w for _, w in targeted}
    close = []
    for s in m.FLAGGED_SKUS:
        if s in targeted_skus:
            continue
        ordered = pyo.value(m.ordered[s])
        need = max(float(skus.at[s, "moq"]), float(skus.at[s, "case_pack"]))
        if ordered < knobs.restricted_moq_share * need:
            close.append(m.order_placed[s])
    for lane in m.FIXED_COST_LANES:
        if lane[0] in targeted_whs:
            continue
        if (m.shipments[lane].value or 0.0) < knobs.restricted_lane_share:
            close.append(m.shipments[lane])
    return close


class Closed:
    """Context manager: set the given variables' upper bound to 0, then restore."""

    def __init__(self, variables):
        self.variables = list(variables)
        self._ub = [v.ub for v in self.variables]

    def __enter__(self):
        for v in self.variables:
            v.setub(0)
        return self

    def __exit__(self, *exc):
        for v, ub in zip(self.variables, self._ub):
            v.setub(ub)
        return False


class Fixed:
    """Context manager: fix the given variables at values (both bounds), then restore."""

    def __init__(self, variables, values):
        self.pairs = list(zip(variables, values))
        self._bounds = [(v.lb, v.ub) for v, _ in self.pairs]

    def __enter__(self):
        for v, value in self.pairs:
            v.setlb(float(value))
            v.setub(float(value))
        return self

    def __exit__(self, *exc):
        for (v, _), (lb, ub) in zip(self.pairs, self._bounds):
            v.setlb(lb)
            v.setub(ub)
        return False
