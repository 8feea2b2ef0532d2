"""A plan evaluated exactly: its tables, expected profit and ``summary.json`` content (SPEC §3).

Everything here is computed from the chosen units per route and the instance —
never from the model's approximate sales variables — so the reported expected
profit is the exact formula of SPEC §2/§6 evaluated on the plan:

    Σ_pairs [ sales_coef·ES(A) + stock_coef·A − penalty·E[D] ] − spend

and its parts (the profit waterfall), each an expectation over the same ES:
revenue ``Σ price·(1 − r)·ES``, referral fees ``Σ ρ·price·(1 − r)·ES``,
fulfilment fees ``Σ f·ES``, duty paid on sales at bonded warehouses (deferred duty)
``Σ b·duty·unit_cost·(1 − r)·ES``, storage ``Σ k·A + Σ h·vol·L·(A − ES)``, salvage
``Σ salvage·(r·ES + A − ES)`` and the penalty ``Σ penalty·(E[D] − ES)``.

The spend splits the same way (:meth:`PlanEvaluation.spend_parts`): each plan line's
cost ``u·c`` is its purchase ``u·unit_cost``, its duty ``u·duty_rate·unit_cost`` (none
at a bonded warehouse) and its freight ``u·freight`` (the line columns ``line_purchase``,
``line_duty``, ``line_freight``), and each used lane adds its shipment cost — the same
per-unit amounts cash.csv pays as deposits and balances, duty, freight and shipments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.io.run_folder import SHIPMENT_COLUMNS
from optimizer.io.summary import RunSummary
from optimizer.prep.cash import payment_schedule
from optimizer.prep.expected_sales import expected_sales, stockout_probability
from optimizer.prep.instance import Instance
from optimizer.status import Status


@dataclass
class PlanEvaluation:
    """A plan (units per usable route) evaluated exactly."""

    lines: pd.DataFrame  # plan.csv rows (units > 0)
    shipments: pd.DataFrame  # one row per used lane
    pairs: pd.DataFrame  # sku_summary.csv rows
    expected_profit: float
    spend: float
    purchase_spend: float
    shipment_spend: float
    payments: pd.DataFrame = field(default_factory=pd.DataFrame)  # cash.csv rows

    def profit_parts(self) -> dict[str, float]:
        """The expected profit split into its parts (they add up to it), in waterfall order."""
        p = self.pairs
        es, a, left = p["expected_sales"], p["available"], p["expected_leftover"]
        parts = {
            "revenue": float((p["revenue"] * es).sum()),
            "referral_fees": -float((p["referral_fee"] * es).sum()),
            "fulfilment_fees": -float((p["fulfilment_fee"] * es).sum()),
            "duty_deferred": -float((p["deferred_duty"] * es).sum()),
            "storage_cost": -float((p["holding_cost"] * a + p["leftover_storage"] * left).sum()),
            "landed_cost": -self.spend,
            "salvage": float((p["return_salvage"] * es + p["salvage_value"] * left).sum()),
            "stockout_penalty": -float((p["stockout_penalty"] * (p["expected_demand"] - es)).sum()),
        }
        return parts

    def spend_parts(self) -> dict[str, float]:
        """The spend split into purchase (Σ units·unit_cost), freight, duty and shipments;
        they add up to :attr:`spend` (and to cash.csv's amounts by kind: deposits and
        balances are the purchase)."""
        lines = self.lines
        parts = {name: float(lines[column].sum()) if column in lines and len(lines) else 0.0
                 for name, column in (("purchase", "line_purchase"), ("freight", "line_freight"),
                                      ("duty", "line_duty"))}
        parts["shipments"] = float(self.shipment_spend)
        return parts


def evaluate_plan(inst: Instance, route_units: pd.Series | None) -> PlanEvaluation:
    """Exact SPEC §2 profit and the §3 tables for ``route_units`` (None = order nothing)."""
    routes = inst.routes
    units = (route_units if route_units is not None else pd.Series(0.0, index=routes.index))
    units = units.reindex(routes.index).fillna(0.0).round().astype("int64")

    lines = routes.loc[units > 0].copy()
    lines["units"] = units[units > 0]
    lines["cases"] = (lines["units"] // lines["case_pack"]).astype("int64")
    lines["unit_landed_cost"] = lines["landed_cost"]
    lines["line_cost"] = lines["units"] * lines["landed_cost"]
    sku = inst.skus.loc[lines.index.get_level_values("sku")]
    bonded = inst.warehouses.loc[lines.index.get_level_values("warehouse"), "bonded"].to_numpy(bool)
    unit_cost = sku["unit_cost"].to_numpy(float)
    lines["line_purchase"] = lines["units"].to_numpy(float) * unit_cost
    lines["line_duty"] = lines["units"].to_numpy(float) * np.where(
        bonded, 0.0, sku["duty_rate"].to_numpy(float) * unit_cost)
    lines["line_freight"] = lines["units"] * lines["freight"]
    lines = lines.reset_index()[
        ["sku", "warehouse", "mode", "cases", "units", "unit_landed_cost", "line_cost",
         "line_purchase", "line_duty", "line_freight",
         "order_by", "po_date", "ship_by", "cutoff", "volume_m3", "transit_days", "slack_days"]
    ]
    lines["line_volume_m3"] = lines["units"] * lines["volume_m3"]

    shipments = _shipments(inst, lines)
    pairs = _pair_outcomes(inst, units)
    purchase = float(lines["line_cost"].sum())
    shipping = float(shipments["shipment_cost"].sum()) if len(shipments) else 0.0
    profit = float(
        np.sum(pairs["sales_coef"] * pairs["expected_sales"] + pairs["stock_coef"] * pairs["available"]
               - pairs["stockout_penalty"] * pairs["expected_demand"])
        - purchase - shipping
    )
    used = shipments.set_index(["warehouse", "mode"])["shipments"] if len(shipments) else pd.Series(dtype=float)
    per_lane = used.reindex(inst.lanes.index).fillna(0.0).to_numpy(float)
    payments = payment_schedule(inst.payments, inst.routes, inst.skus, units.to_numpy(float),
                                inst.lanes, inst.lane_ship_by, per_lane,
                                inst.campaign.config.cash_limits)
    return PlanEvaluation(lines, shipments, pairs, profit, purchase + shipping, purchase, shipping,
                          payments)


def _shipments(inst: Instance, lines: pd.DataFrame) -> pd.DataFrame:
    """Fewest shipments that carry each lane's volume: containers or one lane use."""
    if lines.empty:
        return pd.DataFrame(columns=SHIPMENT_COLUMNS)
    vol = lines.groupby(["warehouse", "mode"])["line_volume_m3"].sum()
    lanes = inst.lanes.loc[vol.index]
    size = lanes["shipment_m3"]
    n = np.where(size.notna(), np.ceil(vol / size.fillna(1.0) - 1e-9), 1).astype("int64")
    out = pd.DataFrame({
        "shipments": n,
        "volume_m3": vol.round(6),
        "shipment_cost": n * lanes["shipment_cost"],
    }, index=vol.index)
    out["container_fill"] = np.where(size.notna(), vol / (n * size.fillna(1.0)), np.nan)
    return out.reset_index()


def _pair_outcomes(inst: Instance, units: pd.Series) -> pd.DataFrame:
    p = inst.pairs
    ordered = units.groupby(level=["sku", "warehouse"]).sum().reindex(p.index).fillna(0)
    out = pd.DataFrame(index=p.index)
    out["existing"] = p["existing"]
    out["ordered"] = ordered.astype("int64")
    out["available"] = out["existing"] + out["ordered"]
    out["mean"] = p["mean"]
    out["sd"] = p["sd"]
    out["expected_demand"] = p["expected_demand"]
    a, mu, sd = (out[c].to_numpy(float) for c in ("available", "mean", "sd"))
    dist = p["dist"].to_numpy()
    out["distribution"] = p["distribution"]
    out["dist"] = p["dist"]
    out["expected_sales"] = np.atleast_1d(expected_sales(a, mu, sd, dist))
    out["expected_leftover"] = out["available"] - out["expected_sales"]
    # Cash tied in expected leftover stock, at purchase cost incl. duty paid.
    out["leftover_cost"] = out["expected_leftover"] * p["purchase_cost"]
    economics = ["revenue", "referral_fee", "fulfilment_fee", "deferred_duty", "return_salvage",
                 "leftover_storage", "holding_cost", "purchase_cost", "stockout_penalty",
                 "sales_coef", "stock_coef"]
    out[economics] = p[economics]
    sku_of = p.index.get_level_values("sku")
    out["salvage_value"] = inst.skus.loc[sku_of, "salvage_value"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["fill_rate"] = np.where(p["expected_demand"] > 0,
                                    out["expected_sales"] / p["expected_demand"], np.nan)
    out["stockout_probability"] = np.where(
        p["expected_demand"] > 0, np.atleast_1d(stockout_probability(a, mu, sd, dist)), 0.0)
    keep = (out["expected_demand"] > 0) | (out["available"] > 0)
    return out[keep]


def cash_limit_status(inst: Instance, ev: PlanEvaluation) -> list[dict]:
    """Each cash limit with what the plan pays by its date and the headroom left."""
    out = []
    dates = ev.payments["date"] if len(ev.payments) else pd.Series(dtype=object)
    for limit in inst.campaign.config.cash_limits:
        paid = float(ev.payments.loc[(dates <= limit.until).to_numpy(bool), "amount"].sum()) if len(dates) else 0.0
        out.append({"until": limit.until.isoformat(), "limit": float(limit.limit),
                    "paid": round(paid, 6), "headroom": round(float(limit.limit) - paid, 6)})
    return out


def relative_gap(bound: float | None, profit: float) -> float | None:
    """``(bound − profit) / |profit|`` (≥ 0), or None without a finite bound."""
    if bound is None or not math.isfinite(bound):
        return None
    return max(0.0, (bound - profit) / max(abs(profit), 1e-9))


def summarize(inst: Instance, ev: PlanEvaluation, *, status: Status, bound: float | None,
              build_seconds: float, solve_seconds: float, n_variables: int,
              n_constraints: int, extra: dict | None = None) -> RunSummary:
    """The summary.json content: exact profit, spend, KPIs, solver honesty.

    ``extra`` holds further :class:`~optimizer.io.summary.RunSummary` fields by name
    (the solve's, or a partitioned plan's); every value is validated.
    """
    pairs = ev.pairs
    demand = float(pairs["expected_demand"].sum())
    sales = float(pairs["expected_sales"].sum())
    profit = ev.expected_profit
    gap = relative_gap(bound, profit)
    leftover_value = float(pairs["leftover_cost"].sum())
    parts = ev.profit_parts()
    summary = {
        "campaign": inst.campaign.config.name,
        "currency": inst.campaign.config.currency,
        "status": status,
        "expected_profit": round(profit, 6),
        "best_bound": None if bound is None else round(float(bound), 6),
        "mip_gap": None if gap is None else round(gap, 8),
        "spend": round(ev.spend, 6),
        "purchase_spend": round(ev.purchase_spend, 6),
        "shipment_spend": round(ev.shipment_spend, 6),
        "budget": inst.budget,
        "budget_used": round(ev.spend / inst.budget, 6) if inst.budget else None,
        "expected_fill_rate": round(sales / demand, 6) if demand > 0 else None,
        "expected_sales_units": round(sales, 4),
        "expected_demand_units": round(demand, 4),
        "expected_leftover_units": round(float(pairs["expected_leftover"].sum()), 4),
        "expected_leftover_cost": round(leftover_value, 4),
        "expected_revenue": round(parts["revenue"], 6),
        "fees": round(-(parts["referral_fees"] + parts["fulfilment_fees"]), 6),
        "referral_fees": round(-parts["referral_fees"], 6),
        "fulfilment_fees": round(-parts["fulfilment_fees"], 6),
        "storage_cost": round(-parts["storage_cost"], 6),
        "duty_deferred": round(-parts["duty_deferred"], 6),
        "cash_limits": cash_limit_status(inst, ev),
        "units_ordered": int(ev.lines["units"].sum()) if len(ev.lines) else 0,
        "skus_ordered": int(ev.lines["sku"].nunique()) if len(ev.lines) else 0,
        "build_seconds": round(build_seconds, 4),
        "solve_seconds": round(solve_seconds, 4),
        "n_variables": n_variables,
        "n_constraints": n_constraints,
        "overrides": {
            "budget": inst.settings.what_if.budget,
            "delays": dict(inst.settings.what_if.delays),
        },
    }
    return RunSummary.model_validate({**summary, **(extra or {})})
