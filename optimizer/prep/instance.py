"""Frozen model data derived from a validated campaign (SPEC §2).

`build_instance` turns a :class:`~optimizer.io.campaign.Campaign` under a run's
:class:`~optimizer.settings.Settings` (the what-ifs: budget, per-mode delays, service
target; the solver options and pipeline knobs travel with it to the model and the
solver) into sparse tables the model is built from:

* ``skus``    — the SKU master, costs in the campaign currency.
* ``lanes``   — (warehouse, mode) with effective transit days (delays added).
* ``routes``  — the *usable* (sku, warehouse, mode) triples only: those meeting
  ``planning_date + production_days + transit_days + buffer_days ≤ cutoff``, with
  the landed unit cost ``c = unit_cost·(1 + duty·(1 − bonded)) + freight``, the dates
  ``order_by``, ``ship_by`` and ``po_date`` (SPEC §3, §6) and a valid upper bound on
  the units the route can carry in some optimal plan.
* ``pairs``   — (sku, warehouse) with demand, stock or a route: existing stock E,
  demand moments, the service-level stock ``A_β`` when a fill-rate target is set,
  and the unit economics of :mod:`optimizer.prep.economics` (``sales_coef``,
  ``stock_coef`` and their parts).
* ``late_routes`` — the (sku, lane) triples that miss the cutoff, kept for reports
  and infeasibility explanations.
* ``payments`` and ``cash`` — each route's payments by date and kind, and the cash
  limits as rows over routes and lanes (:mod:`optimizer.prep.cash`).

Nothing here touches Pyomo: this is the single place where input tables become
numbers the model and the reports share.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from optimizer.io.campaign import Campaign
from optimizer.prep.cash import CashLimits, cash_limits, lane_ship_by, po_dates, route_payments
from optimizer.prep.economics import pair_economics
from optimizer.prep.expected_sales import (
    DISTRIBUTIONS,
    NORMAL,
    distribution_codes,
    expected_demand,
    expected_sales,
    quantile,
    spread,
)
from optimizer.prep.model_index import ModelIndex, model_index
from optimizer.prep.sales_curve import DemandCurve, SalesCurve
from optimizer.settings import Settings


@dataclass
class Instance:
    campaign: Campaign
    settings: Settings  # the run's settings, whole: what-ifs, solver options, pipeline knobs
    budget: float
    bound_budget: float  # the budget the per-route unit bounds are valid up to
    buffer_days: int
    min_fill_rate: float | None
    max_sku_budget_share: float | None
    skus: pd.DataFrame  # index sku
    suppliers: pd.DataFrame  # index supplier
    warehouses: pd.DataFrame  # index warehouse
    lanes: pd.DataFrame  # index (warehouse, mode)
    pairs: pd.DataFrame  # index (sku, warehouse)
    routes: pd.DataFrame  # index (sku, warehouse, mode)
    late_routes: pd.DataFrame  # same columns as routes, usable == False
    payments: pd.DataFrame  # per-unit payments of each route (route position, kind, date)
    lane_ship_by: pd.Series  # index (warehouse, mode): the day a lane's shipments are paid
    cash: CashLimits  # the [[cash_limits]] as rows over routes and lanes
    #: Expected sales per pair as a function of stock; None: SPEC §2/§7's ES of the pair's own
    #: demand.  A two-stage plan's priced relaxation puts the value of a top-up here
    #: (:mod:`optimizer.prep.recourse_curve`).
    sales_curve: SalesCurve | None = None

    @property
    def planning_date(self) -> dt.date:
        return self.campaign.config.planning_date

    def sku_unit_bound(self) -> pd.Series:
        """Upper bound on units ordered of each SKU (max over its routes)."""
        return self.routes.groupby(level="sku")["max_units"].sum()

    @cached_property
    def curve(self) -> SalesCurve:
        """What each pair's stock sells: :attr:`sales_curve`, else ES of the pair's own demand."""
        if self.sales_curve is not None:
            return self.sales_curve
        p = self.pairs
        return DemandCurve(p["mean"].to_numpy(float), p["sd"].to_numpy(float), p["dist"].to_numpy())

    def expected_sales(self, stock, at=slice(None)) -> np.ndarray:
        """Expected sales at ``stock`` of the pairs at positions ``at`` of :attr:`pairs` (:attr:`curve`)."""
        return np.atleast_1d(self.curve(np.asarray(stock, float), at))

    def sales_level(self, slope, at=slice(None)) -> np.ndarray:
        """The stock at which expected sales of the pairs at ``at`` rise by ``slope`` per unit
        (``0 < slope < 1``): the newsvendor level ``F⁻¹(1 − slope)`` of each pair's demand, or
        the :attr:`curve`'s."""
        return np.atleast_1d(self.curve.level(np.asarray(slope, float), at))

    @cached_property
    def index(self) -> ModelIndex:
        """The lookups the model's families and the solver share (:mod:`optimizer.prep.model_index`)."""
        return model_index(self.routes, self.pairs, self.skus, self.suppliers, self.lanes, self.sku_unit_bound())


def build_instance(campaign: Campaign, settings: Settings | None = None) -> Instance:
    """Derive the sparse model data for ``campaign`` under ``settings`` (its what-ifs)."""
    settings = settings or Settings()
    what_if = settings.what_if
    cfg = campaign.config
    budget = float(what_if.budget if what_if.budget is not None else cfg.budget)
    bound_budget = max(budget, float(what_if.max_budget or 0.0))
    fill_rate = what_if.min_fill_rate if what_if.min_fill_rate is not None else cfg.min_fill_rate

    skus = _sku_table(campaign)
    suppliers = campaign.suppliers.set_index("supplier")
    warehouses = campaign.warehouses.set_index("warehouse")
    lanes = _lane_table(campaign, what_if.delays)
    all_routes = _route_table(campaign, skus, warehouses, lanes, cfg.buffer_days)
    routes = all_routes[all_routes["usable"]].copy()
    late = all_routes[~all_routes["usable"]].copy()
    pairs = _pair_table(campaign, skus, routes, warehouses, fill_rate)
    pairs["economic_stock"] = economic_stock_limit(pairs, routes)
    routes["max_units"] = _route_unit_bounds(
        routes, pairs, skus, suppliers, warehouses, lanes, bound_budget, cfg.max_sku_budget_share
    )
    payments = route_payments(routes, skus, suppliers, warehouses, cfg.buffer_days)
    ship_by = lane_ship_by(lanes, warehouses, cfg.buffer_days)
    cash = cash_limits(cfg.cash_limits, payments, len(routes), lanes, ship_by)
    return Instance(
        campaign=campaign,
        settings=settings,
        budget=budget,
        bound_budget=bound_budget,
        buffer_days=cfg.buffer_days,
        min_fill_rate=fill_rate,
        max_sku_budget_share=cfg.max_sku_budget_share,
        skus=skus,
        suppliers=suppliers,
        warehouses=warehouses,
        lanes=lanes,
        pairs=pairs,
        routes=routes,
        late_routes=late,
        payments=payments,
        lane_ship_by=ship_by,
        cash=cash,
    )


OPTIONAL_SKU_TEXT = ("name", "category")  # shown in reports; blank when skus.csv has no such column


def _sku_table(campaign: Campaign) -> pd.DataFrame:
    s = campaign.skus.set_index("sku").copy()
    for column in OPTIONAL_SKU_TEXT:
        s[column] = s[column].fillna("").astype(str) if column in s else ""
    return s


def _lane_table(campaign: Campaign, delays: Mapping[str, int]) -> pd.DataFrame:
    lanes = campaign.lanes.set_index(["warehouse", "mode"]).copy()
    modes = lanes.index.get_level_values("mode")
    lanes["delay_days"] = [int(delays.get(m, 0)) for m in modes]
    lanes["base_transit_days"] = lanes["transit_days"]
    lanes["transit_days"] = (lanes["transit_days"] + lanes["delay_days"]).clip(lower=0)
    return lanes


def landed_unit_cost(unit_cost, duty_rate, bonded, freight):
    """``c = unit_cost·(1 + duty_rate·(1 − bonded)) + freight``: what one unit costs landed
    in the warehouse (a bonded warehouse pays no duty on arrival).  Vectorised.

    >>> print(round(landed_unit_cost(10.0, 0.2, False, 1.5), 2))
    13.5
    >>> print(round(landed_unit_cost(10.0, 0.2, True, 1.5), 2))
    11.5
    """
    purchase_cost = unit_cost * (1.0 + duty_rate * np.where(bonded, 0.0, 1.0))
    return purchase_cost + freight


def deadline_slack_days(days_to_cutoff, production_days, transit_days, buffer_days):
    """Days a route has to spare: ``(cutoff − planning_date) − (production_days +
    transit_days + buffer_days)``.  The route is usable iff this is ≥ 0, that is iff
    ``planning_date + production_days + transit_days + buffer_days ≤ cutoff``.  Vectorised.

    >>> import datetime as dt
    >>> days = (dt.date(2025, 11, 1) - dt.date(2025, 9, 2)).days   # planning date to cutoff
    >>> deadline_slack_days(days, 30, 25, 3)
    2
    >>> deadline_slack_days(days, 30, 28, 3) >= 0   # three days more in transit: too late
    False
    """
    return days_to_cutoff - (production_days + transit_days + buffer_days)


def _route_table(campaign, skus, warehouses, lanes, buffer_days) -> pd.DataFrame:
    """Every (sku, lane) with its landed cost and deadline slack (usable or not)."""
    lane_df = lanes.reset_index()
    sku_df = skus.reset_index()[
        ["sku", "unit_cost", "duty_rate", "weight_kg", "volume_m3", "production_days", "case_pack"]
    ]
    r = sku_df.merge(lane_df, how="cross")
    chargeable_kg = np.maximum(r["weight_kg"], r["volume_m3"] * r["volumetric_kg_per_m3"])
    r["freight"] = r["cost_per_kg"] * chargeable_kg + r["cost_per_m3"] * r["volume_m3"]
    bonded = r["warehouse"].map(warehouses["bonded"]).to_numpy(bool)
    r["landed_cost"] = landed_unit_cost(r["unit_cost"], r["duty_rate"], bonded, r["freight"])
    cutoff = r["warehouse"].map(warehouses["cutoff"])
    days_available = np.array(
        [(c - campaign.config.planning_date).days for c in cutoff], dtype=np.int64
    )
    r["slack_days"] = deadline_slack_days(days_available, r["production_days"], r["transit_days"], buffer_days)
    r["usable"] = r["slack_days"] >= 0
    r["cutoff"] = cutoff
    r["ship_by"] = [
        c - dt.timedelta(days=int(t) + buffer_days) for c, t in zip(cutoff, r["transit_days"])
    ]
    r["order_by"] = [
        s - dt.timedelta(days=int(p)) for s, p in zip(r["ship_by"], r["production_days"])
    ]
    r["po_date"] = po_dates(r["order_by"], campaign.config.planning_date, campaign.config.po_cycle_days)
    keep = [
        "sku", "warehouse", "mode", "landed_cost", "freight", "volume_m3", "case_pack",
        "transit_days", "slack_days", "usable", "cutoff", "ship_by", "order_by", "po_date",
    ]
    return r[keep].set_index(["sku", "warehouse", "mode"]).sort_index()


def _pair_table(campaign, skus, routes, warehouses, fill_rate) -> pd.DataFrame:
    """(sku, warehouse) pairs with demand, counted stock, or a usable route."""
    demand = campaign.demand.set_index(["sku", "warehouse"])[["mean", "sd", "distribution"]]
    inv = campaign.inventory.copy()
    if len(inv):
        cutoff = inv["warehouse"].map(warehouses["cutoff"])
        arrives = [
            (eta is not None and not pd.isna(eta) and eta <= c) for eta, c in zip(inv["in_transit_eta"], cutoff)
        ]
        inv["counted_in_transit"] = np.where(arrives, inv["in_transit"], 0)
        inv["late_in_transit"] = inv["in_transit"] - inv["counted_in_transit"]
        inv["existing"] = inv["on_hand"] + inv["counted_in_transit"]
        stock = inv.set_index(["sku", "warehouse"])[["existing", "late_in_transit"]]
    else:
        stock = pd.DataFrame(
            {"existing": pd.Series(dtype="int64"), "late_in_transit": pd.Series(dtype="int64")},
            index=pd.MultiIndex.from_arrays([[], []], names=["sku", "warehouse"]),
        )
    route_pairs = routes.index.droplevel("mode").unique()
    index = demand.index.union(stock.index).union(route_pairs)
    p = pd.DataFrame(index=index)
    p["mean"] = demand["mean"].reindex(index).fillna(0.0)
    p["sd"] = demand["sd"].reindex(index).fillna(0.0)
    p["distribution"] = demand["distribution"].reindex(index).fillna("normal")
    p["dist"] = distribution_codes(p["distribution"], p["mean"], p["sd"])
    p["distribution"] = [DISTRIBUTIONS[c] for c in p["dist"]]  # negative binomial with sd² ≤ mean: poisson
    p["spread"] = spread(p["mean"], p["sd"], p["dist"].to_numpy())
    p["existing"] = stock["existing"].reindex(index).fillna(0).astype("int64")
    p["late_in_transit"] = stock["late_in_transit"].reindex(index).fillna(0).astype("int64")
    p["expected_demand"] = expected_demand(p["mean"].to_numpy(), p["sd"].to_numpy(), p["dist"].to_numpy())
    p["has_demand"] = p["expected_demand"] > 0
    p["has_route"] = index.isin(route_pairs)
    skus_of = index.get_level_values("sku")
    p["case_pack"] = skus.loc[skus_of, "case_pack"].to_numpy()
    p["service_stock"] = np.nan
    if fill_rate is not None:
        targeted = (p["mean"] > 0).to_numpy()
        p.loc[targeted, "service_stock"] = service_stock(p[targeted], fill_rate)
    p = p.join(pair_economics(campaign, skus, p.index))
    return p.sort_index()


def service_stock(pairs: pd.DataFrame, beta: float) -> np.ndarray:
    """Smallest stock on the lattice ``E + case_pack·k`` with ``ES(A) ≥ β·E[D]``.

    Returns ``inf`` where no finite stock reaches the target (β = 1 with sd > 0).
    ``E`` itself is returned when existing stock already meets the target.
    """
    E = pairs["existing"].to_numpy(float)
    cp = pairs["case_pack"].to_numpy(float)
    mu = pairs["mean"].to_numpy(float)
    sd = pairs["sd"].to_numpy(float)
    dist = pairs["dist"].to_numpy()
    target = beta * pairs["expected_demand"].to_numpy(float)
    tol = 1e-12 * np.maximum(1.0, target)

    def meets(k):
        return expected_sales(E + cp * k, mu, sd, dist) >= target - tol

    far = np.where(dist == NORMAL, mu + 12 * sd, np.maximum(mu + 12 * sd, quantile(1 - 1e-12, mu, sd, dist)))
    hi = np.ceil(np.maximum(far - E, 0) / cp) + 1
    reachable = meets(hi)
    lo = np.zeros_like(hi)  # invariant: meets(hi); lo fails unless lo == 0 meets
    done = meets(lo)
    hi = np.where(done, 0, hi)
    for _ in range(64):
        mid = np.floor((lo + hi) / 2)
        ok = meets(mid)
        hi = np.where(ok & ~done, mid, hi)
        lo = np.where(~ok & ~done, mid, lo)
        done = done | (hi - lo <= 1)
    # ES(A) < E[D] for every finite A when D is random: β = 1 is never met (floating
    # point would otherwise accept a stock ~12 sd above the mean).
    reachable &= (beta < 1.0) | (pairs["spread"].to_numpy(float) == 0)
    return np.where(reachable, E + cp * hi, np.inf)


def economic_stock_limit(pairs: pd.DataFrame, routes: pd.DataFrame) -> np.ndarray:
    """Stock beyond which one more case is never worth buying at this warehouse.

    With ``m = sales_coef``, ``v = stock_coef`` (:mod:`optimizer.prep.economics`) and
    the cheapest usable landed cost ``c``, one more case at stock A gains
    ``m·(ES(A+cp) − ES(A)) − (c − v)·cp``, which is ≤ 0 once
    ``P(D > A) ≤ (c − v)/m``, i.e. for A beyond the critical quantile
    ``Q = F⁻¹(1 − (c − v)/m)`` of the pair's demand distribution.  Stock above ``max(Q, A_β)`` rounded up
    to the lattice is held only to satisfy an MOQ or a supplier minimum (see
    ``_route_unit_bounds``).  ``inf`` when ``v ≥ c`` (a unit pays for itself unsold);
    when ``m ≤ 0`` (fees exceed what a sale adds) a unit is worth buying only if
    ``v > c``.
    """
    cheapest = routes.groupby(level=["sku", "warehouse"])["landed_cost"].min()
    c = cheapest.reindex(pairs.index).to_numpy(float)
    v = pairs["stock_coef"].to_numpy(float)
    m = pairs["sales_coef"].to_numpy(float)
    E = pairs["existing"].to_numpy(float)
    cp = pairs["case_pack"].to_numpy(float)
    mu = pairs["mean"].to_numpy(float)
    sd = pairs["sd"].to_numpy(float)
    dist = pairs["dist"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (c - v) / m
        level = np.clip(np.nan_to_num(1.0 - ratio, nan=0.5), 1e-300, 1.0 - 1e-16)
        q = np.where(pairs["spread"].to_numpy(float) > 0, quantile(level, mu, sd, dist), mu)
        q = np.where(ratio >= 1.0, 0.0, q)  # never worth a unit
        cases = np.ceil(np.maximum(q - E, 0.0) / cp)
        limit = E + cp * cases
    limit = np.where(m > 0, np.where(ratio <= 0, np.inf, limit), np.where(v > c, np.inf, E))
    limit = np.where(np.isnan(c), E, limit)  # no usable route: stock stays E
    service = pairs["service_stock"].to_numpy(float)
    return np.where(np.isnan(service), limit, np.maximum(limit, service))


def with_stock_limits(inst: Instance, economic_stock: pd.Series) -> Instance:
    """``inst`` with the pairs' economic stock replaced by ``economic_stock`` (index: the
    pairs) and every route's unit bound derived again from it (:func:`_route_unit_bounds`).

    The two-stage plan bounds each stage's routes by the largest economic stock over its
    scenarios (:mod:`optimizer.prep.recourse`): beyond it one more case is worth less than
    it costs in every scenario, so in their expectation too.
    """
    pairs = inst.pairs.copy()
    pairs["economic_stock"] = economic_stock.reindex(pairs.index).to_numpy(float)
    routes = inst.routes.copy()
    cfg = inst.campaign.config
    routes["max_units"] = _route_unit_bounds(routes, pairs, inst.skus, inst.suppliers, inst.warehouses,
                                             inst.lanes, inst.bound_budget, cfg.max_sku_budget_share)
    return dataclasses.replace(inst, pairs=pairs, routes=routes)


def _route_unit_bounds(routes, pairs, skus, suppliers, warehouses, lanes, budget, share):
    """A valid upper bound on the units of each route in some optimal plan.

    Take an optimal plan with the fewest units.  Removing a case never breaks the
    budget, space, capacity or container rows, so a SKU holds a case beyond every
    warehouse's economic stock only to meet (a) its MOQ: units < moq + case_pack,
    or (b) its supplier's minimum order value: unit_cost·units < MOV + unit_cost·cp.
    Hence ``units[s] ≤ max(Σ_w (economic_w − E_w), moq + cp − 1, MOV/unit_cost + cp)``,
    also capped by budget / landed cost, warehouse and lane space, supplier capacity
    and the SKU budget share.  Conformance case c12 pins both exceptions.
    """
    skus_of = routes.index.get_level_values("sku")
    wh_of = routes.index.get_level_values("warehouse")
    cp = routes["case_pack"].to_numpy(float)
    vol = routes["volume_m3"].to_numpy(float)
    landed = routes["landed_cost"].to_numpy(float)

    extra = (pairs["economic_stock"] - pairs["existing"]).clip(lower=0)
    economic = extra.groupby(level="sku").sum()
    s = skus
    mov = s["supplier"].map(suppliers["min_order_value"]).fillna(0.0)
    by_moq = np.ceil(s["moq"] / s["case_pack"]) * s["case_pack"]
    by_mov = np.where(mov > 0, (np.floor(mov / s["unit_cost"] / s["case_pack"]) + 1) * s["case_pack"], 0)
    sku_limit = pd.Series(
        np.maximum(economic.reindex(s.index).fillna(0.0).to_numpy(), np.maximum(by_moq, by_mov)),
        index=s.index,
    )
    cap = s["supplier"].map(suppliers["capacity_units"])
    sku_limit = np.minimum(sku_limit, cap.fillna(np.inf))

    bound = sku_limit.reindex(skus_of).to_numpy(float)
    bound = np.minimum(bound, budget / landed)
    if share is not None:
        bound = np.minimum(bound, share * budget / landed)
    bound = np.minimum(bound, warehouses.loc[wh_of, "capacity_m3"].to_numpy(float) / vol)
    lane_cap = lanes.loc[list(zip(wh_of, routes.index.get_level_values("mode"))), "capacity_m3"]
    bound = np.minimum(bound, lane_cap.fillna(np.inf).to_numpy(float) / vol)
    cases = np.floor(bound / cp + 1e-9)
    return (cases * cp).astype("int64")

