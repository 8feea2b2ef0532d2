"""When the plan's money goes out (SPEC §6 rule 8): payments by date and kind.

A plan line of ``u`` units on route ``(s, w, m)`` pays, on the dates plan.csv prints:

* ``deposit``   ``deposit_share[f]·unit_cost·u`` on its PO date ``po_date``;
* ``balance``   ``(1 − deposit_share[f])·unit_cost·u`` on ``ship_by``;
* ``freight``   ``freight[s,l]·u`` on ``ship_by``;
* ``duty``      ``duty_rate·unit_cost·u`` on arrival, ``cutoff − buffer_days``
  (not at a bonded warehouse: there duty is paid from sales);

and a lane's shipments pay ``shipment_cost·n[l]`` on the lane's ship-by date
``cutoff − transit_days − buffer_days``.  Existing stock costs nothing.  These add up
to the plan's spend.  A cash limit ``(until, limit)`` caps the payments dated on or
before ``until``; as rows over the decisions:

    Σ_r coef[j,r]·u[r] + Σ_l lane_coef[j,l]·n[l] ≤ limit[j],

``coef[j,r]`` the per-unit payments of route r dated ≤ until_j, ``lane_coef[j,l]`` the
lane's shipment cost when its ship-by date is ≤ until_j.

The PO date (SPEC §6 ``po_cycle_days``): the buyer places purchase orders every
``cycle`` days from the planning date, so a line goes on the last order day on or
before its order-by date, ``planning_date + ⌊(order_by − planning_date)/cycle⌋·cycle``
(:func:`po_dates`; its ``order_by`` when the cycle is 1 day). One purchase order per
supplier and PO date; its deposit is paid that day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

KINDS = ("deposit", "balance", "freight", "shipments", "duty")


@dataclass(frozen=True)
class CashLimits:
    """The cash rows of one instance: ``coef`` (limits × routes, per unit) and
    ``lane_coef`` (limits × lanes of ``inst.lanes``, per shipment)."""

    until: tuple[dt.date, ...]
    limit: np.ndarray
    coef: np.ndarray
    lane_coef: np.ndarray

    def __len__(self) -> int:
        return len(self.until)


def po_dates(order_by, planning_date: dt.date, cycle_days: int = 1) -> list[dt.date]:
    """The PO date of each ``order_by`` date: the last order day of the cycle
    (``planning_date`` + a multiple of ``cycle_days``) on or before it."""
    cycle = int(cycle_days)
    return [planning_date + dt.timedelta(days=((d - planning_date).days // cycle) * cycle)
            for d in order_by]


def route_payments(routes: pd.DataFrame, skus: pd.DataFrame, suppliers: pd.DataFrame,
                   warehouses: pd.DataFrame, buffer_days: int) -> pd.DataFrame:
    """Per-unit payments of every route: one row per (route position, kind) with
    ``route`` (position in ``routes``), ``kind``, ``date`` and ``per_unit``; the deposit
    is dated ``routes["po_date"]``."""
    sku_of = routes.index.get_level_values("sku")
    wh_of = routes.index.get_level_values("warehouse")
    s = skus.loc[sku_of]
    unit_cost = s["unit_cost"].to_numpy(float)
    share = s["supplier"].map(suppliers["deposit_share"]).fillna(1.0).to_numpy(float)
    bonded = warehouses.loc[wh_of, "bonded"].to_numpy(bool)
    arrival = [c - dt.timedelta(days=buffer_days) for c in routes["cutoff"]]
    position = np.arange(len(routes))
    parts = [
        ("deposit", routes["po_date"].to_numpy(), share * unit_cost),
        ("balance", routes["ship_by"].to_numpy(), (1.0 - share) * unit_cost),
        ("freight", routes["ship_by"].to_numpy(), routes["freight"].to_numpy(float)),
        ("duty", np.array(arrival, dtype=object),
         np.where(bonded, 0.0, s["duty_rate"].to_numpy(float) * unit_cost)),
    ]
    frames = [pd.DataFrame({"route": position, "kind": kind, "date": dates, "per_unit": amount})
              for kind, dates, amount in parts]
    out = pd.concat(frames, ignore_index=True)
    return out[out["per_unit"] > 0].reset_index(drop=True)


def lane_ship_by(lanes: pd.DataFrame, warehouses: pd.DataFrame, buffer_days: int) -> pd.Series:
    """Each lane's latest departure ``cutoff − transit_days − buffer_days`` (its shipments' pay date)."""
    cutoff = warehouses.loc[lanes.index.get_level_values("warehouse"), "cutoff"]
    return pd.Series([c - dt.timedelta(days=int(t) + buffer_days)
                      for c, t in zip(cutoff, lanes["transit_days"])], index=lanes.index)


def cash_limits(limits, payments: pd.DataFrame, n_routes: int, lanes: pd.DataFrame,
                ship_by: pd.Series) -> CashLimits:
    """The rows of ``limits`` (objects with ``until`` and ``limit``) over routes and lanes."""
    until = tuple(c.until for c in limits)
    coef = np.zeros((len(until), n_routes))
    lane_coef = np.zeros((len(until), len(lanes)))
    dates = payments["date"].to_numpy()
    for j, day in enumerate(until):
        due = np.array([d <= day for d in dates], dtype=bool)
        coef[j] = np.bincount(payments["route"].to_numpy()[due],
                              payments["per_unit"].to_numpy(float)[due], n_routes)
        lane_coef[j] = np.where(np.array([d <= day for d in ship_by]),
                                lanes["shipment_cost"].to_numpy(float), 0.0)
    return CashLimits(until, np.array([float(c.limit) for c in limits]), coef, lane_coef)


def payment_schedule(payments: pd.DataFrame, routes: pd.DataFrame, skus: pd.DataFrame,
                     route_units: np.ndarray, lanes: pd.DataFrame, ship_by: pd.Series,
                     shipments: np.ndarray, limits=()) -> pd.DataFrame:
    """The plan's payments (cash.csv): one row per date and kind, deposits and balances
    per supplier, freight and shipments per lane, duty per warehouse; ``cumulative`` is
    the running total and ``limit_until``/``limit`` the tightest cash limit on it."""
    units = np.asarray(route_units, float)
    p = payments[units[payments["route"].to_numpy()] > 0].copy()
    p["amount"] = p["per_unit"].to_numpy(float) * units[p["route"].to_numpy()]
    keys = routes.index[p["route"].to_numpy()]
    p["supplier"] = skus.loc[keys.get_level_values("sku"), "supplier"].to_numpy()
    p["warehouse"] = keys.get_level_values("warehouse")
    p["mode"] = keys.get_level_values("mode")
    by_supplier = p["kind"].isin(["deposit", "balance"])
    p.loc[by_supplier, ["warehouse", "mode"]] = ""
    p.loc[~by_supplier, "supplier"] = ""
    p.loc[p["kind"] == "duty", "mode"] = ""
    n = np.asarray(shipments, float)
    cost = lanes["shipment_cost"].to_numpy(float) * n
    paid = cost > 0
    lane_rows = pd.DataFrame({
        "date": ship_by.to_numpy()[paid], "kind": "shipments", "supplier": "",
        "warehouse": lanes.index.get_level_values("warehouse")[paid],
        "mode": lanes.index.get_level_values("mode")[paid], "amount": cost[paid]})
    columns = ["date", "kind", "supplier", "warehouse", "mode"]
    rows = pd.concat([p[columns + ["amount"]], lane_rows], ignore_index=True)
    rows = rows.groupby(columns, as_index=False, sort=False)["amount"].sum()
    rows["kind_order"] = rows["kind"].map({k: i for i, k in enumerate(KINDS)})
    rows = rows.sort_values(["date", "kind_order", "supplier", "warehouse", "mode"])
    rows = rows.drop(columns="kind_order").reset_index(drop=True)
    rows["cumulative"] = rows["amount"].cumsum()
    rows["limit_until"], rows["limit"] = _tightest_limit(rows["date"], limits)
    return rows


def _tightest_limit(dates: pd.Series, limits) -> tuple[list, list]:
    """For each date, the smallest limit among those dated on or after it (None if none)."""
    until, limit = [], []
    for day in dates:
        live = [c for c in limits if c.until >= day]
        best = min(live, key=lambda c: (c.limit, c.until)) if live else None
        until.append(best.until if best else None)
        limit.append(float(best.limit) if best else np.nan)
    return until, limit


__all__ = ["KINDS", "CashLimits", "cash_limits", "lane_ship_by", "payment_schedule", "po_dates",
           "route_payments"]
