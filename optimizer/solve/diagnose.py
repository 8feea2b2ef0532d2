"""Explain why a service target (SPEC §2 rule 6) cannot be met.

Checks run from the cheapest to the most expensive:

1. a target no finite stock meets (β = 1 with uncertain demand);
2. pairs short of their target stock with **no lane that makes the cutoff**
   (naming the lanes and by how many days each misses);
3. **warehouse space**, **lane capacity** and **supplier capacity** too small for
   the units the targets alone need;
4. otherwise the **budget**: the smallest spend meeting every target (the model
   with the budget row dropped and spend minimised); if even that has no plan,
   the MOQ, supplier minimums and share cap together are the cause.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from optimizer.prep.instance import Instance, build_instance


class ServiceInfeasible(Exception):
    """The min_fill_rate target cannot be met; ``reasons`` are human sentences."""

    def __init__(self, beta: float, reasons: list[str], min_budget: float | None = None):
        self.beta = beta
        self.reasons = reasons
        self.min_budget = min_budget
        super().__init__(self.__str__())

    def __str__(self) -> str:
        head = f"The service target min_fill_rate = {self.beta:g} cannot be met:"
        return "\n".join([head] + [f"  - {r}" for r in self.reasons])


def short_pairs(inst: Instance):
    p = inst.pairs
    return p[p["service_stock"] > p["existing"]]


def check_service_reachable(inst: Instance) -> None:
    """Raise :class:`ServiceInfeasible` for causes visible without solving (1–3)."""
    if inst.min_fill_rate is None:
        return
    beta = inst.min_fill_rate
    short = short_pairs(inst)
    reasons: list[str] = []
    for (s, w), row in short.iterrows():
        if math.isinf(row["service_stock"]):
            reasons.append(f"{s} at {w}: no finite stock reaches a fill rate of {beta:g} "
                           f"when demand is uncertain (sd = {row['sd']:g})")
        elif not row["has_route"]:
            reasons.append(f"{s} at {w}: needs {row['service_stock'] - row['existing']:.0f} more units "
                           f"(has {row['existing']}) but no lane makes the cutoff "
                           f"{_cutoff(inst, w)}: {_late_lanes(inst, s, w)}")
    reasons += _capacity_shortfalls(inst, short[short["has_route"] & np.isfinite(short["service_stock"])])
    if reasons:
        raise ServiceInfeasible(beta, reasons)


def _cutoff(inst: Instance, w: str) -> str:
    return str(inst.warehouses.at[w, "cutoff"])


def _late_lanes(inst: Instance, s: str, w: str) -> str:
    late = inst.late_routes
    if (s, w) not in late.index.droplevel("mode"):
        return "the warehouse has no lanes"
    rows = late.loc[(s, w)]
    parts = [f"{mode} misses it by {-int(r['slack_days'])} day(s)" for mode, r in rows.iterrows()]
    return "; ".join(parts)


def _capacity_shortfalls(inst: Instance, short) -> list[str]:
    if short.empty:
        return []
    need = (short["service_stock"] - short["existing"]).rename("units").to_frame()
    sku_of = need.index.get_level_values("sku")
    need["volume"] = need["units"] * inst.skus.loc[sku_of, "volume_m3"].to_numpy()
    need["supplier"] = inst.skus.loc[sku_of, "supplier"].to_numpy()
    reasons = []
    by_wh = need.groupby(level="warehouse")["volume"].sum()
    for w, vol in by_wh.items():
        cap = float(inst.warehouses.at[w, "capacity_m3"])
        if vol > cap + 1e-9:
            reasons.append(f"warehouse space at {w}: the targets need {vol:,.2f} m3 of inbound "
                           f"stock but capacity_m3 is {cap:,.2f}")
        lanes = inst.lanes.loc[[l for l in inst.lanes.index if l[0] == w]]
        if len(lanes) and lanes["capacity_m3"].notna().all():
            lane_cap = float(lanes["capacity_m3"].sum())
            if vol > lane_cap + 1e-9:
                reasons.append(f"lane capacity into {w}: the targets need {vol:,.2f} m3 "
                               f"but its lanes carry at most {lane_cap:,.2f}")
    by_supplier = need.groupby("supplier")["units"].sum()
    for f, units in by_supplier.items():
        cap = inst.suppliers.at[f, "capacity_units"]
        if cap == cap and units > cap + 1e-9:
            reasons.append(f"supplier capacity of {f}: the targets need {units:,.0f} units "
                           f"but capacity_units is {cap:,.0f}")
    return reasons


def _spend_ceiling(inst: Instance) -> float:
    """More than any plan meeting the targets needs: every short pair's gap and every
    MOQ bought at the SKU's dearest landed cost, plus all shipment fees, twice over."""
    dearest = inst.routes.groupby(level="sku")["landed_cost"].max()
    short = short_pairs(inst)
    gap = (short["service_stock"] - short["existing"] + short["case_pack"]).groupby(level="sku").sum()
    units = gap.add(inst.skus["moq"] + inst.skus["case_pack"], fill_value=0)
    cost = float((units * dearest).dropna().sum())
    fees = float(inst.lanes["shipment_cost"].sum()) * (1 + len(inst.skus))
    return 2 * (cost + fees) + inst.budget


def explain_infeasible_plan(inst: Instance, time_limit_s: float, threads: int | None) -> ServiceInfeasible:
    """The plan model had no solution: find the smallest budget meeting the targets."""
    from optimizer.model import build_model

    beta = inst.min_fill_rate if inst.min_fill_rate is not None else 0.0
    # The plan's route bounds assumed its budget; the diagnosis lifts the budget,
    # so it needs bounds valid for any spend that could meet the targets.
    inst = build_instance(inst.campaign, replace(inst.overrides, max_budget=_spend_ceiling(inst)))
    m = build_model(inst, objective="spend")
    res = Highs().solve(m, time_limit=time_limit_s, threads=threads, load_solutions=False,
                        raise_exception_on_nonoptimal_result=False,
                        solver_options={"output_flag": False})
    if res.incumbent_objective is None:
        if res.termination_condition == TerminationCondition.provenInfeasible:
            why = ("no plan meets every target even with an unlimited budget: the MOQs, supplier "
                   "minimums/capacities, space and the SKU budget share cap conflict")
        else:
            why = "no plan meeting every target was found within the time limit"
        return ServiceInfeasible(beta, [why])
    need = float(res.incumbent_objective)  # spend of a plan meeting every target
    pairs = ", ".join(f"{s}@{w}" for s, w in short_pairs(inst).index[:10])
    reason = (f"budget: meeting every target costs at least {need:,.2f} "
              f"{inst.campaign.config.currency} but the budget is {inst.budget:,.2f}; "
              f"the smallest budget that would do is {math.ceil(need * 100) / 100:,.2f}"
              f" (pairs needing stock: {pairs}{'…' if len(short_pairs(inst)) > 10 else ''})")
    if inst.max_sku_budget_share is not None:
        reason += (f"; note max_sku_budget_share = {inst.max_sku_budget_share:g} also scales "
                   "with the budget")
    return ServiceInfeasible(beta, [reason], min_budget=need)

