"""Explain why a service target (SPEC §2 rule 6) cannot be met.

Checks run from the cheapest to the most expensive:

1. a target no finite stock meets (β = 1 with uncertain demand);
2. pairs short of their target stock with **no lane that makes the cutoff**
   (naming the lanes and by how many days each misses);
3. **warehouse space**, **lane capacity** and **supplier capacity** too small for
   the units the targets alone need;
4. otherwise the **budget**: the smallest spend meeting every target (the model
   with the budget row dropped and spend minimised);
5. when limits conflict only together (space, supplier and lane capacity, the SKU
   share cap, the budget and the cash limits, given MOQs and case packs), an
   **elastic relaxation**:
   the targets' model with every such limit allowed to grow at a price, minimising
   the sum of the relative increases.  Each limit that must grow is named with its
   amount and the SKU × warehouse pairs behind it; the amounts together restore
   feasibility.  Cause 3 is reported this way too, so that every cause shows at once.
"""

from __future__ import annotations

import math

import numpy as np

from optimizer.prep.cash import cash_limits
from optimizer.prep.instance import Instance, build_instance
from optimizer.solve.highs import solve_once


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
    if reasons:
        raise ServiceInfeasible(beta, reasons)
    shortfalls = _capacity_shortfalls(inst, short[short["has_route"] & np.isfinite(short["service_stock"])])
    if shortfalls:  # certain: the elastic relaxation names every cause at once, these if it cannot
        raise explain_infeasible_plan(inst, fallback=shortfalls)


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


def _solver_options(inst: Instance):
    """The run's solver options with every value set (the campaign's ``[solver]`` where the
    run sets none): the diagnosis solves within the run's time limit and threads."""
    return inst.settings.with_campaign_solver(inst.campaign.config.solver).solver


def explain_infeasible_plan(inst: Instance, time_limit_s: float | None = None,
                            fallback: list[str] | None = None) -> ServiceInfeasible:
    """The plan model had no solution: find the smallest budget meeting the targets.

    ``time_limit_s``: for each of the diagnosis' solves (default: the run's time limit).
    ``fallback``: the causes to give when neither the budget nor the elastic
    relaxation explains it (e.g. the relaxation ran out of time).
    """
    from optimizer.model import build_model

    options = _solver_options(inst)
    time_limit_s = time_limit_s or options.time_limit_s

    beta = inst.min_fill_rate if inst.min_fill_rate is not None else 0.0
    # The plan's route bounds assumed its budget; the diagnosis lifts the budget,
    # so it needs bounds valid for any spend that could meet the targets.
    inst = build_instance(inst.campaign, inst.settings.update(max_budget=_spend_ceiling(inst)))
    m = build_model(inst, objective="spend")
    res = solve_once(m, time_limit=time_limit_s, threads=options.threads)
    if not res.has_solution:
        if res.infeasible:
            causes = elastic_causes(inst, time_limit_s)
            if causes:
                return ServiceInfeasible(beta, causes + [
                    "together these changes make every target reachable (the smallest sum of "
                    "relative increases); each limit alone may need less if another grows instead"])
            why = ("no plan meets every target even with an unlimited budget: the MOQs, supplier "
                   "minimums/capacities, space and the SKU budget share cap conflict")
        else:
            why = "no plan meeting every target was found within the time limit"
        return ServiceInfeasible(beta, fallback or [why])
    need = float(res.objective)  # spend of a plan meeting every target
    pairs = ", ".join(f"{s}@{w}" for s, w in short_pairs(inst).index[:10])
    reason = (f"budget: meeting every target costs at least {need:,.2f} "
              f"{inst.campaign.config.currency} but the budget is {inst.budget:,.2f}; "
              f"the smallest budget that would do is {math.ceil(need * 100) / 100:,.2f}"
              f" (pairs needing stock: {pairs}{'…' if len(short_pairs(inst)) > 10 else ''})")
    if inst.max_sku_budget_share is not None:
        reason += (f"; note max_sku_budget_share = {inst.max_sku_budget_share:g} also scales "
                   "with the budget")
    return ServiceInfeasible(beta, [reason], min_budget=need)



def elastic_causes(inst: Instance, time_limit_s: float) -> list[str] | None:
    """The limits that must grow for every service target to hold, with the amounts.

    The targets' model (spend minimised) is built on the campaign with those limits
    lifted; each limit is then added back as a row ``use − slack ≤ limit`` with
    ``slack ≥ 0``, and the sum of ``slack / limit`` is minimised (a limit of 0 counts
    its slack in its own unit).  The budget, warehouse space, lane space, supplier
    capacity, the SKU share cap and each cash limit are relaxed; MOQs, case packs,
    cutoffs and supplier minimums are the campaign's facts and stay.  None when even
    that has no plan.
    """
    import dataclasses

    import pyomo.environ as pyo

    from optimizer.model import build_model
    from optimizer.model.linear import linear

    c = inst.campaign
    budget = inst.budget
    share = inst.max_sku_budget_share
    ceiling = _spend_ceiling(inst)
    lifted = dataclasses.replace(
        c, config=c.config.model_copy(update={"max_sku_budget_share": None, "cash_limits": []}),
        warehouses=c.warehouses.assign(capacity_m3=1e12),
        lanes=c.lanes.assign(capacity_m3=float("nan")),
        suppliers=c.suppliers.assign(capacity_units=float("nan")))
    relaxed = build_instance(lifted, inst.settings.update(budget=ceiling, max_budget=ceiling))
    m = build_model(relaxed, objective="spend")
    routes = relaxed.routes
    cp, cases = relaxed.index.case_pack, m.cases
    volume = routes["volume_m3"].astype(float).to_dict()
    landed = routes["landed_cost"].astype(float).to_dict()
    supplier_of = relaxed.skus["supplier"].to_dict()

    groups = {}  # (kind, key) -> (limit, [(coef, route)], unit)
    def add(kind, key, limit, route, coef, unit):
        groups.setdefault((kind, key), (float(limit), [], unit))[1].append((coef, route))
    for k in m.ROUTES:
        s, w, mode = k
        add("space", w, inst.warehouses.at[w, "capacity_m3"], k, volume[k] * cp[k], "m³")
        lane_cap = inst.lanes.at[(w, mode), "capacity_m3"] if (w, mode) in inst.lanes.index else np.nan
        if lane_cap == lane_cap:
            add("lane", (w, mode), lane_cap, k, volume[k] * cp[k], "m³")
        sup_cap = inst.suppliers.at[supplier_of[s], "capacity_units"]
        if sup_cap == sup_cap:
            add("supplier", supplier_of[s], sup_cap, k, cp[k], "units")
        if share is not None:
            add("share", s, share * budget, k, landed[k] * cp[k], c.config.currency)
    cash = cash_limits(c.config.cash_limits, relaxed.payments, len(routes), relaxed.lanes,
                       relaxed.lane_ship_by)
    lane_pos = {l: i for i, l in enumerate(relaxed.lanes.index)}
    lane_terms = {j: [(cash.lane_coef[j, lane_pos[l]], m.shipments[l]) for l in relaxed.index.fixed_cost_lanes
                      if cash.lane_coef[j, lane_pos[l]] > 0] for j in range(len(cash))}
    for j, limit in enumerate(c.config.cash_limits):
        for i, k in enumerate(routes.index):
            if cash.coef[j, i] > 0:
                add("cash", (j, limit.until), limit.limit, k, cash.coef[j, i] * cp[k], c.config.currency)
    keys = list(groups)
    m.elastic_slack = pyo.Var(range(len(keys) + 1), domain=pyo.NonNegativeReals)
    m.elastic_rows = pyo.ConstraintList()
    weights = []
    for i, key in enumerate(keys):
        limit, terms, _ = groups[key]
        extra = lane_terms[key[1][0]] if key[0] == "cash" else []
        body = linear([coef for coef, _ in terms] + [coef for coef, _ in extra] + [-1.0],
                      [cases[r] for _, r in terms] + [v for _, v in extra] + [m.elastic_slack[i]])
        m.elastic_rows.add(body <= limit)
        weights.append(1.0 / max(limit, 1e-9) if limit > 0 else 1.0)
    b = len(keys)  # the budget's slack
    m.elastic_rows.add(m.spend - m.elastic_slack[b] <= budget)
    weights.append(1.0 / budget)
    for obj in m.component_objects(pyo.Objective, active=True):
        obj.deactivate()
    m.elastic_objective = pyo.Objective(
        expr=sum(wt * m.elastic_slack[i] for i, wt in enumerate(weights)), sense=pyo.minimize)
    res = solve_once(m, time_limit=time_limit_s, threads=_solver_options(inst).threads)
    if not res.has_solution:
        return None
    short = short_pairs(relaxed)
    causes = []
    for i, key in enumerate(keys):
        more = float(m.elastic_slack[i].value or 0.0)
        limit, terms, unit = groups[key]
        if more <= 1e-6 * max(limit, 1.0):
            continue
        kind, where = key
        behind = _pairs_behind(short, kind, where, supplier_of)
        if kind == "space":
            what = f"warehouse space at {where}: {more:,.2f} {unit} more than capacity_m3 = {limit:,.2f}"
        elif kind == "lane":
            what = f"lane space of {where[0]} · {where[1]}: {more:,.2f} {unit} more than capacity_m3 = {limit:,.2f}"
        elif kind == "supplier":
            what = f"supplier capacity of {where}: {more:,.0f} {unit} more than capacity_units = {limit:,.0f}"
        elif kind == "cash":
            what = (f"cash limit until {where[1]}: {more:,.2f} {unit} more than {limit:,.2f} "
                    f"(the smallest cash limit that would do is "
                    f"{math.ceil((limit + more) * 100) / 100:,.2f})")
        else:
            what = (f"SKU {where}: the share cap max_sku_budget_share = {share:g} allows {limit:,.2f} "
                    f"{unit} of spend, {more:,.2f} short of its target")
        causes.append(f"{what} (pairs: {behind})")
    more = float(m.elastic_slack[b].value or 0.0)
    if more > 1e-6 * budget:
        causes.append(f"budget: {more:,.2f} {c.config.currency} more than {budget:,.2f} "
                      f"(with the changes above, a budget of {math.ceil((budget + more) * 100) / 100:,.2f})")
    return causes or None


def _pairs_behind(short, kind: str, where, supplier_of: dict, most: int = 5) -> str:
    """The short SKU × warehouse pairs a limit holds back, for the message."""
    index = short.index
    if kind == "space":
        pairs = [p for p in index if p[1] == where]
    elif kind == "lane":
        pairs = [p for p in index if p[1] == where[0]]
    elif kind == "supplier":
        pairs = [p for p in index if supplier_of.get(p[0]) == where]
    elif kind == "cash":
        pairs = list(index)
    else:
        pairs = [p for p in index if p[0] == where]
    text = ", ".join(f"{s}@{w}" for s, w in pairs[:most])
    return (text + ("…" if len(pairs) > most else "")) or "none short of their target"
