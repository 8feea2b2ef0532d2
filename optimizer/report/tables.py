"""Tables and figures the campaign notebook shows (SPEC §3: the rendered report).

Every function takes the :class:`~optimizer.prep.instance.Instance` and a
:class:`~optimizer.evaluate.plan.PlanEvaluation` (so the same tables serve the
optimised plan and the rule-of-thumb plan) and returns a DataFrame or a plotly
figure; the notebook only calls them and displays the result::

    run = report.plan_into("data/tiny", run_dir, budget=30_000)
    report.show_table(report.headline_kpis(run.instance, run.evaluation))
    report.show_figure(report.allocation_by_warehouse_figure(run.evaluation))

Names in the campaign files (SKU, supplier, campaign) are untrusted: tables are
shown through ``to_html(escape=True)`` and figures through plotly, whose JSON
escapes ``<`` and whose text is rendered as SVG text, never as HTML.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.evaluate.diff import diff_runs
from optimizer.evaluate.kpis import unserved_by_cause, unserved_demand
from optimizer.evaluate.plan import PlanEvaluation, cash_limit_status
from optimizer.evaluate.rule_of_thumb import rule_of_thumb
from optimizer.io.campaign import FORECAST_AUDIT_FILE
from optimizer.io.run_folder import list_files
from optimizer.io.safe_text import plain_frame
from optimizer.io.summary import Overrides, RunSummary
from optimizer.prep.instance import Instance

# ---------------------------------------------------------------- planning


def changes_since(previous_run_dir, run_dir) -> dict | None:
    """:func:`optimizer.evaluate.diff.diff_runs` from ``previous_run_dir`` (None: no earlier run)."""
    if previous_run_dir is None:
        return None
    return diff_runs(previous_run_dir, run_dir)


# The totals of a diff (optimizer.evaluate.diff.TOTALS, summary.json fields) as the report
# names and formats them: money with the currency, the fill rate as a percentage (its
# change in percentage points), counts as whole numbers.
CHANGE_TOTALS = {
    "expected_profit": ("Expected profit", "money"),
    "spend": ("Spend", "money"),
    "purchase_spend": ("Purchase incl. duty and freight", "money"),
    "shipment_spend": ("Shipments", "money"),
    "budget": ("Budget", "money"),
    "expected_fill_rate": ("Fill rate", "pct"),
    "expected_leftover_units": ("Expected leftover units", "count"),
    "expected_leftover_cost": ("Expected leftover value (at cost incl. duty)", "money"),
    "units_ordered": ("Units ordered", "count"),
    "skus_ordered": ("SKUs ordered", "count"),
}


def changes_totals(totals: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The ``totals`` of a diff (``metric, previous, new, change``) in words: each total by
    its name (:data:`CHANGE_TOTALS`), ``previous → new`` and the change, formatted —
    "Fill rate | 48.0% → 47.0% | -1.0 pp", money with the currency.  A metric missing
    from one run shows "–"."""
    rows = []
    for r in totals.itertuples(index=False):
        label, kind = CHANGE_TOTALS.get(r.metric, (str(r.metric).replace("_", " ").capitalize(), "count"))

        def shown(x, change=False, kind=kind):
            if x is None or (isinstance(x, float) and math.isnan(x)):
                return "–"
            x = float(x)
            signed = change and abs(x) >= {"money": 0.005, "pct": 0.0005}.get(kind, 0.5)
            x = x if signed or not change else 0.0  # no change at the precision shown: no sign
            return _format(x, "pp" if kind == "pct" and change else kind, currency, signed=signed).rstrip()

        rows.append((label, f"{shown(r.previous)} → {shown(r.new)}", shown(r.change, change=True)))
    return pd.DataFrame(rows, columns=["total", "previous → new", "change"])


# ---------------------------------------------------------------- KPIs


def headline_kpis(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """Headline numbers: one row per KPI with ``value``, a formatted ``shown`` and its ``kind``."""
    cur = inst.campaign.config.currency
    p = ev.pairs
    demand = float(p["expected_demand"].sum())
    sales = float(p["expected_sales"].sum())
    available = float(p["available"].sum())
    leftover_value = float(p["leftover_cost"].sum())
    with_demand = p[p["expected_demand"] > 0]
    n_lines = ev.lines["units"]
    rows = [  # (KPI, value, kind)
        ("Expected profit", ev.expected_profit, "money"),
        ("Spend", ev.spend, "money"),
        ("Budget", inst.budget, "money"),
        ("Budget used", ev.spend / inst.budget, "pct"),
        ("Expected fill rate", _ratio(sales, demand), "pct"),
        ("Expected sell-through", _ratio(sales, available), "pct"),
        ("Expected leftover units", float(p["expected_leftover"].sum()), "count"),
        ("Expected leftover value (at cost incl. duty)", leftover_value, "money"),
        ("Average stockout probability", _mean(with_demand["stockout_probability"]), "pct"),
        ("Units ordered", float(n_lines.sum()), "count"),
        ("SKUs ordered", float(ev.lines["sku"].nunique()), "count"),
    ]
    rows = [(k, v, _format(v, kind, cur), kind) for k, v, kind in rows]
    return pd.DataFrame(rows, columns=["KPI", "value", "shown", "kind"])


def run_facts(summary: RunSummary) -> pd.DataFrame:
    """What was run: campaign, overrides and solver honesty (status, gap, seconds)."""
    s, gap = summary, summary.mip_gap
    o = s.overrides or Overrides()
    rows = [
        ("Campaign", s.campaign),
        ("Planning date", None if s.planning_date is None else str(s.planning_date)),
        ("Budget", None if s.budget is None else f"{s.budget:,.2f}" + (" (override)" if o.budget is not None else "")),
        ("Lead-time delays (days)", ", ".join(f"{m}: {d:+d}" for m, d in o.delays.items()) or "none"),
        ("Solver status", s.status),
        ("MIP gap", None if gap is None else f"{gap:.3%}"),
        ("Build / solve seconds", f"{s.build_seconds or 0:.2f} / {s.solve_seconds or 0:.2f}"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": object})


# ---------------------------------------------------------------- purchase orders


def purchase_orders(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """One row per plan line, grouped by supplier, with the line's value at unit cost
    (``po_value``), order-by date and PO date (SPEC §6: one purchase order per supplier
    and PO date)."""
    cols = ["supplier", "sku", "name", "warehouse", "mode", "cases", "units", "unit_cost",
            "po_value", "order_by", "po_date"]
    if ev.lines.empty:
        return pd.DataFrame(columns=cols)
    l = ev.lines.merge(inst.skus[["supplier", "unit_cost", "name"]], left_on="sku", right_index=True)
    l["po_value"] = l["units"] * l["unit_cost"]
    return l[cols].sort_values(["supplier", "order_by", "sku", "warehouse"]).reset_index(drop=True)


def supplier_summary(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """Per supplier: PO value and units against the minimum order and capacity, earliest order-by."""
    po = purchase_orders(inst, ev)
    cols = ["supplier", "supplier_name", "skus", "units", "po_value", "min_order_value",
            "capacity_units", "order_by"]
    if po.empty:
        return pd.DataFrame(columns=cols)
    g = po.groupby("supplier").agg(skus=("sku", "nunique"), units=("units", "sum"),
                                   po_value=("po_value", "sum"), order_by=("order_by", "min"))
    sup = inst.suppliers.reindex(g.index)
    g["supplier_name"] = sup["name"] if "name" in sup else None
    g["min_order_value"] = sup["min_order_value"]
    g["capacity_units"] = sup["capacity_units"]
    return g.reset_index()[cols]


# ---------------------------------------------------------------- payments and cash (SPEC §6)

PAYMENT_KINDS = ("deposit", "balance")


def supplier_payments(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """What each supplier is paid and when (SPEC §6): per purchase order (supplier and
    PO date) the deposit ``deposit_share · unit_cost · units`` of its lines on the PO
    date, and each line's balance on its ship-by date.

    One row per supplier, PO date, kind, due date and quoted currency: ``amount`` in the
    campaign currency (these add up to the plan's purchase value and to the deposit and
    balance rows of cash.csv) and ``quoted_amount`` in ``currency``, the currency the
    supplier quotes the SKUs in (``amount`` / fx rate).
    """
    cols = ["supplier", "po_date", "kind", "share", "due", "amount", "currency", "quoted_amount"]
    if ev.lines.empty:
        return pd.DataFrame(columns=cols)
    l = ev.lines[["sku", "units", "po_date", "ship_by"]].merge(
        inst.skus[["supplier", "unit_cost", "quoted_unit_cost", "cost_currency"]],
        left_on="sku", right_index=True)
    deposit = l["supplier"].map(inst.suppliers["deposit_share"]).fillna(1.0).astype(float)
    value = l["units"] * l["unit_cost"]
    quoted = l["units"] * l["quoted_unit_cost"]
    parts = [pd.DataFrame({"supplier": l["supplier"], "po_date": l["po_date"], "kind": kind,
                           "share": share, "due": l[due], "amount": share * value,
                           "currency": l["cost_currency"], "quoted_amount": share * quoted})
             for kind, due, share in (("deposit", "po_date", deposit),
                                      ("balance", "ship_by", 1.0 - deposit))]
    p = pd.concat(parts, ignore_index=True)
    p = p[p["amount"] > 0]
    g = p.groupby(["supplier", "po_date", "kind", "share", "due", "currency"], as_index=False,
                  sort=False)[["amount", "quoted_amount"]].sum()
    g["kind_order"] = g["kind"].map({k: i for i, k in enumerate(PAYMENT_KINDS)})
    g = g.sort_values(["supplier", "due", "kind_order", "po_date", "currency"]).reset_index(drop=True)
    return g[cols]


def payment_schedule(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """Per supplier, as shown in the report: its deposit share, the deposits (one per
    purchase order, due on its PO date) and the balances (due on the lines' ship-by
    dates) — totals in the campaign currency, the due dates — and the total; for a
    supplier quoting in another currency, the deposits and balances also as quoted.
    Payment by payment they are :func:`supplier_payments` (the workbook's "Payment
    schedule" sheet)."""
    cur = inst.campaign.config.currency
    p = supplier_payments(inst, ev)
    foreign = bool((p["currency"] != cur.upper()).any())
    cols = ["supplier", "deposit share"]
    for kind in PAYMENT_KINDS:
        cols += [kind] + ([f"{kind} as quoted"] if foreign else []) + [f"{kind} due"]
    cols.append("total")
    share = inst.suppliers["deposit_share"]
    rows = []
    for supplier, g in p.groupby("supplier", sort=True):
        row = {"supplier": supplier, "deposit share": _pct(float(share.get(supplier, 1.0)))}
        for kind in PAYMENT_KINDS:
            k = g[g["kind"] == kind]
            row[kind] = _money(k["amount"].sum(), cur) if len(k) else ""
            row[f"{kind} due"] = _due_dates(k["due"])
            if foreign:  # blank for a supplier quoting only in the campaign currency
                quoted = k.groupby("currency", sort=True)["quoted_amount"].sum()
                row[f"{kind} as quoted"] = ("" if set(g["currency"]) == {cur.upper()} else
                                            " + ".join(_money(v, c) for c, v in quoted.items()))
        row["total"] = _money(g["amount"].sum(), cur)
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def _due_dates(dates: pd.Series) -> str:
    """One or two due dates as written; more as their span and count."""
    days = sorted(set(dates))
    if len(days) <= 2:
        return ", ".join(str(d) for d in days)
    return f"{days[0]} – {days[-1]} ({len(days)} dates)"


def cash_limit_table(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """Each ``[[cash_limits]]`` row: what the plan pays up to and including its date
    against the limit, and the headroom left."""
    from optimizer.evaluate.plan import cash_limit_status

    cur = inst.campaign.config.currency
    rows = cash_limit_status(inst, ev)
    return pd.DataFrame({
        "paid until": [r["until"] for r in rows],
        "limit": [_money(r["limit"], cur) for r in rows],
        "paid": [_money(r["paid"], cur) for r in rows],
        "headroom": [_money(r["headroom"], cur) for r in rows],
        "limit used": [_pct(_ratio(r["paid"], r["limit"])) for r in rows],
    }, columns=["paid until", "limit", "paid", "headroom", "limit used"])


# ---------------------------------------------------------------- shipping


def shipping_plan(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """Per lane: ship-by date, cutoff, containers / shipments, volume and container fill."""
    cols = ["warehouse", "mode", "ship_by", "cutoff", "transit_days", "skus", "units", "shipments",
            "volume_m3", "shipment_m3", "container_fill", "shipment_cost"]
    if ev.lines.empty:
        return pd.DataFrame(columns=cols)
    per_lane = ev.lines.groupby(["warehouse", "mode"]).agg(
        ship_by=("ship_by", "min"), cutoff=("cutoff", "first"), transit_days=("transit_days", "first"),
        skus=("sku", "nunique"), units=("units", "sum"))
    out = ev.shipments.set_index(["warehouse", "mode"]).join(per_lane, how="left")
    out["shipment_m3"] = inst.lanes["shipment_m3"].reindex(out.index)
    return out.reset_index()[cols].sort_values(["ship_by", "warehouse", "mode"]).reset_index(drop=True)


def allocation(ev: PlanEvaluation) -> pd.DataFrame:
    """Units and landed cost by warehouse × mode."""
    if ev.lines.empty:
        return pd.DataFrame(columns=["warehouse", "mode", "units", "line_cost", "volume_m3"])
    return (ev.lines.groupby(["warehouse", "mode"])
            .agg(units=("units", "sum"), line_cost=("line_cost", "sum"),
                 volume_m3=("line_volume_m3", "sum"))
            .reset_index())


def timeline(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """Per lane used: earliest order-by, ship-by and check-in cutoff."""
    if ev.lines.empty:
        return pd.DataFrame(columns=["lane", "order_by", "ship_by", "cutoff"])
    t = (ev.lines.groupby(["warehouse", "mode"])
         .agg(order_by=("order_by", "min"), ship_by=("ship_by", "min"), cutoff=("cutoff", "first"))
         .reset_index())
    t.insert(0, "lane", t["warehouse"] + " · " + t["mode"])
    return t.sort_values("order_by").reset_index(drop=True)


# ---------------------------------------------------------------- unserved demand

UNSERVED_LABELS = {"unreachable": "no lane in time", "not_worth_stocking": "not worth stocking at its margin",
                   "cut_by_limits": "cut by {limits}"}
UNSERVED_SHORT_LABELS = {"unreachable": "no lane in time", "not_worth_stocking": "not worth stocking",
                         "cut_by_limits": "cut by {limits}"}
UNSERVED_TOP_SKUS = 3  # SKUs named per cause


def cutting_limits(inst: Instance, ev: PlanEvaluation) -> list[str] | None:
    """Which of the budget and the cash limits hold back the pairs where one more case
    would pay: ``"budget"`` when less than the cheapest such case (landed cost × case
    pack) is left of it, ``"cash limit"`` when the tightest ``[[cash_limits]]`` headroom
    is below it (a case pays at most its landed cost by any date).  Empty when neither
    does: then space, supplier capacity or an order minimum holds them back; None when
    no such pair has unserved demand."""
    u = unserved_demand(inst, ev)
    cut = u[(u["cause"] == "cut_by_limits") & (u["unserved"] > 0)]
    if cut.empty:
        return None
    routes = inst.routes.reset_index().merge(cut[["sku", "warehouse"]], on=["sku", "warehouse"])
    case = float((routes["landed_cost"] * routes["case_pack"]).min()) if len(routes) else math.inf
    found = []
    if inst.budget - ev.spend < case:
        found.append("budget")
    if any(c["headroom"] < case for c in cash_limit_status(inst, ev)):
        found.append("cash limit")
    return found


def _limits_words(limits: list[str] | None, short: bool) -> str:
    """The limits of :func:`cutting_limits` in words, for a table (``short``: for a card)."""
    if limits is None:
        return "the budget or a limit"
    if limits == ["budget", "cash limit"]:
        return "budget, cash" if short else "the budget and a cash limit"
    if limits == ["budget"]:
        return "the budget"
    if limits == ["cash limit"]:
        return "a cash limit"
    return "other limits" if short else "space, capacity or order minimums"


def unserved_parts(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """:func:`optimizer.evaluate.kpis.unserved_by_cause` with each cause's ``label``
    (:data:`UNSERVED_LABELS`) and ``short_label`` (:data:`UNSERVED_SHORT_LABELS`), the
    limits of "cut by …" named by :func:`cutting_limits`."""
    t = unserved_by_cause(inst, ev, top=UNSERVED_TOP_SKUS)
    limits = cutting_limits(inst, ev)
    t.insert(1, "label", [UNSERVED_LABELS[c].format(limits=_limits_words(limits, False)) for c in t["cause"]])
    t.insert(2, "short_label", [UNSERVED_SHORT_LABELS[c].format(limits=_limits_words(limits, True))
                                for c in t["cause"]])
    return t


def unserved_table(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """The expected demand the plan leaves unserved, by cause (formatted): no lane in time,
    not worth stocking at its margin, cut by the budget or a limit — pairs, expected units,
    share of the expected demand and the SKUs with the most unserved units — and the total."""
    t = unserved_parts(inst, ev)
    demand = float(ev.pairs["expected_demand"].sum())
    total = float(t["unserved_units"].sum())
    rows = [(r.label, f"{r.pairs:,}", f"{r.unserved_units:,.0f}", _pct(r.demand_share),
             " · ".join(f"{sku} ({units:,.0f})" for sku, units in r.top_skus))
            for r in t.itertuples(index=False)]
    rows.append(("unserved in all", f"{int(t['pairs'].sum()):,}", f"{total:,.0f}", _pct(_ratio(total, demand)), ""))
    return pd.DataFrame(rows, columns=["cause", "SKU × warehouse pairs", "expected units unserved",
                                       "share of expected demand", "most unserved SKUs (units)"])


# ---------------------------------------------------------------- late SKUs


def unreachable(inst: Instance) -> pd.DataFrame:
    """(SKU, warehouse) pairs with demand that no lane can bring in before the cutoff."""
    cols = ["sku", "name", "warehouse", "mean", "existing", "cutoff", "fastest_mode",
            "days_short"]
    p = inst.pairs
    late = p[p["has_demand"] & ~p["has_route"]]
    if late.empty:
        return pd.DataFrame(columns=cols)
    lr = inst.late_routes.reset_index()
    best = lr.loc[lr.groupby(["sku", "warehouse"])["slack_days"].idxmax()].set_index(["sku", "warehouse"])
    out = late[["mean", "existing"]].join(best[["mode", "slack_days", "cutoff"]], how="left")
    out["fastest_mode"] = out["mode"]
    out["days_short"] = -out["slack_days"]
    out = out.reset_index()
    out["name"] = out["sku"].map(inst.skus["name"])
    if out["cutoff"].isna().any():  # no lane at all to that warehouse
        out["cutoff"] = out["cutoff"].fillna(out["warehouse"].map(inst.warehouses["cutoff"]))
    return out[cols].sort_values(["days_short", "sku"]).reset_index(drop=True)


DEMAND_SHAPE_COLUMNS = ["sku", "name", "warehouse", "distribution", "mean", "sd", "critical_fractile",
                        "newsvendor_stock", "newsvendor_stock_if_normal", "available", "fill_rate", "why"]


def demand_shapes(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """Pairs whose demand is not normal (SPEC §7), and what the shape changes.

    Per pair, with ``m = sales_coef``, ``v = stock_coef`` and ``c`` the cheapest on-time
    landed cost, the critical fractile ``1 − (c − v)/m`` and the newsvendor stock
    ``F⁻¹(fractile)`` under the pair's distribution next to the stock a normal demand with
    the same mean and sd would call for, and the stock the plan holds (limits, MOQs and
    case packs move it off the newsvendor level).  ``why``: the forecast audit's reason
    for the shape, when demand.csv's row is that forecast's shape.  Largest mean first.
    """
    from optimizer.prep.expected_sales import NORMAL, quantile

    p = inst.pairs
    shaped = p[(p["dist"] != NORMAL) & p["has_demand"]]
    if shaped.empty:
        return pd.DataFrame(columns=DEMAND_SHAPE_COLUMNS)
    cheapest = inst.routes.groupby(level=["sku", "warehouse"])["landed_cost"].min().reindex(shaped.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        fractile = 1.0 - (cheapest - shaped["stock_coef"]) / shaped["sales_coef"]
    fractile = fractile.where(shaped["sales_coef"] > 0).clip(0.0, 1.0)
    level = fractile.fillna(0.5).clip(1e-9, 1 - 1e-9).to_numpy(float)
    mean, sd, dist = (shaped[c].to_numpy() for c in ("mean", "sd", "dist"))
    out = shaped[["distribution", "mean", "sd"]].copy()
    out["critical_fractile"] = fractile.round(4)
    usable = fractile.notna() & (fractile > 0)
    out["newsvendor_stock"] = np.where(usable, np.ceil(np.atleast_1d(quantile(level, mean, sd, dist))), np.nan)
    out["newsvendor_stock_if_normal"] = np.where(
        usable, np.ceil(np.maximum(np.atleast_1d(quantile(level, mean, sd, NORMAL)), 0.0)), np.nan)
    outcome = ev.pairs.reindex(shaped.index)
    out["available"] = outcome["available"].fillna(shaped["existing"]).astype("int64")
    out["fill_rate"] = outcome["fill_rate"].round(4)
    out = out.reset_index()
    out["name"] = out["sku"].map(inst.skus["name"])
    audit = forecast_audit(inst)
    out["why"] = ""
    if audit is not None and {"distribution", "distribution_reason"} <= set(audit.columns):
        reason = audit.set_index(["sku", "warehouse"])[["distribution", "distribution_reason"]]
        hit = reason.reindex(pd.MultiIndex.from_frame(out[["sku", "warehouse"]]))
        same = hit["distribution"].to_numpy() == out["distribution"].to_numpy()
        out["why"] = np.where(same, hit["distribution_reason"].fillna("").to_numpy(), "")
    return out[DEMAND_SHAPE_COLUMNS].sort_values(["mean", "sku"], ascending=[False, True]).reset_index(drop=True)


# ---------------------------------------------------------------- rule of thumb


def rule_breaches(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """Rules of SPEC §2 a plan breaks among warehouse space, supplier minimums and capacities, and lane
    space (none for the optimised plan or the spreadsheet rule, which keep them)."""
    rows = []
    if not ev.lines.empty:
        vol = ev.lines.groupby("warehouse")["line_volume_m3"].sum()
        for w, v in vol.items():
            cap = inst.warehouses.at[w, "capacity_m3"]
            if v > cap + 1e-9:
                rows.append(("warehouse space", w, f"{v:,.2f} m³ of {cap:,.2f} m³"))
        po = purchase_orders(inst, ev).groupby("supplier").agg(v=("po_value", "sum"), u=("units", "sum"))
        for f, r in po.iterrows():
            mov = inst.suppliers["min_order_value"].get(f, 0.0)
            cap = inst.suppliers["capacity_units"].get(f, np.nan)
            if r["v"] + 1e-9 < (mov or 0):
                rows.append(("supplier minimum order", f, f"order {r['v']:,.2f} < minimum {mov:,.2f}"))
            if pd.notna(cap) and r["u"] > cap:
                rows.append(("supplier capacity", f, f"{r['u']:,.0f} units > capacity {cap:,.0f}"))
        lv = ev.lines.groupby(["warehouse", "mode"])["line_volume_m3"].sum()
        for lane, v in lv.items():
            cap = inst.lanes.at[lane, "capacity_m3"]
            if pd.notna(cap) and v > cap + 1e-9:
                rows.append(("lane capacity", " · ".join(lane), f"{v:,.2f} m³ of {cap:,.2f} m³"))
    return pd.DataFrame(rows, columns=["rule", "where", "detail"])


def compare_with_rule_of_thumb(inst: Instance, ev: PlanEvaluation,
                               rot: PlanEvaluation | None = None) -> pd.DataFrame:
    """Headline KPIs of the optimised plan next to the spreadsheet rule's plan, which keeps the same
    hard rules (:mod:`optimizer.evaluate.rule_of_thumb`)."""
    rot = rot if rot is not None else rule_of_thumb(inst)
    a = headline_kpis(inst, ev).set_index("KPI")
    b = headline_kpis(inst, rot).set_index("KPI")
    cur = inst.campaign.config.currency
    diff = []
    for kpi, da, db, kind in zip(a.index, a["value"], b["value"], a["kind"]):
        kind = "pp" if kind == "pct" else kind
        diff.append("" if kpi == "Budget" else _format(da - db, kind, cur, signed=True))
    return pd.DataFrame({"KPI": a.index, "optimised": a["shown"].to_numpy(),
                         "spreadsheet rule (feasible)": b["shown"].to_numpy(), "difference": diff})


# ---------------------------------------------------------------- ABC classes and stock health


def abc_table(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """Per ABC class (A, B, C, Total), formatted: :func:`optimizer.evaluate.kpis.abc_summary`.

    Classes rank SKUs by expected revenue (expected sales × price): A the top SKUs
    making 80 % of it, B the next 15 %, C the rest. Stock value and leftover cash
    are at purchase cost incl. duty; turnover days = stock value / daily cost of
    goods sold over the promo window; stockout rate = share of the SKU × warehouse
    pairs with demand whose stock-out probability exceeds 50 %.  Amounts have two
    decimals and the currency in the column name (cells hold no space: they never wrap).
    """
    from optimizer.evaluate.kpis import abc_summary

    cur = inst.campaign.config.currency
    t = abc_summary(inst, ev)

    def amounts(values) -> list[str]:
        return [_format(x, "money", "").strip() for x in values]

    return pd.DataFrame({
        "class": t["abc_class"],
        "SKUs": [_format(float(x), "count", cur) for x in t["skus"]],
        "share of SKUs": [_format(x, "pct", cur) for x in t["sku_share"]],
        "share of expected revenue": [_format(x, "pct", cur) for x in t["revenue_share"]],
        "share of stock value": [_format(x, "pct", cur) for x in t["stock_value_share"]],
        f"expected revenue ({cur})": amounts(t["expected_revenue"]),
        f"stock value ({cur})": amounts(t["stock_value"]),
        "expected sell-through": [_format(x, "pct", cur) for x in t["sell_through"]],
        "turnover days": [_days(x) for x in t["turnover_days"]],
        "stockout rate": [_format(x, "pct", cur) for x in t["stockout_rate"]],
        "expected unmet units": [_format(x, "count", cur) for x in t["expected_unmet_units"]],
        f"cash in expected leftover ({cur})": amounts(t["leftover_cash"]),
    })


# ---------------------------------------------------------------- Monte-Carlo


def simulate(inst: Instance, ev: PlanEvaluation, n: int = 1000, seed=0):
    """:func:`optimizer.evaluate.simulate.simulate_plan`: ``n`` seeded demand scenarios of the plan."""
    from optimizer.evaluate.simulate import simulate_plan

    return simulate_plan(inst, ev, n=n, seed=seed)


_SIM_ROWS = {"profit": ("Profit", "money"), "units_short": ("Units short (unmet demand)", "count"),
             "units_left": ("Units left over", "count"),
             "pairs_short": ("SKU × warehouse pairs stocking out", "count")}


def simulation_summary(inst: Instance, sim) -> pd.DataFrame:
    """Mean, P10, P50 and P90 of the simulated profit, units short and units left
    over (and pairs stocking out), next to their exact SPEC §2 expectation; a last
    row gives the share of scenarios that lose money."""
    cur = inst.campaign.config.currency
    st = sim.stats()
    rows = []
    for metric, (label, kind) in _SIM_ROWS.items():
        r = st.loc[metric]
        fmt = (lambda x: _format(x, kind, cur)) if metric != "pairs_short" else (lambda x: f"{x:,.1f}")
        rows.append([label] + [fmt(r[c]) for c in ("mean", "p10", "p50", "p90", "exact")])
    rows.append(["Chance of a loss", _format(sim.probability_of_loss(), "pct", cur), "", "", "", ""])
    return pd.DataFrame(rows, columns=["outcome", "simulated mean", "P10", "P50", "P90",
                                       "exact expected"])


# ---------------------------------------------------------------- demand forecast

_AUDIT_SHOWN = ["sku", "warehouse", "category", "method", "history_days", "censored_days",
                "inferred_stockout_days", "baseline_rate", "baseline", "lift", "lift_source", "growth",
                "ad_uplift", "competition", "mean", "sd", "distribution", "override", "note"]


def forecast_audit(inst: Instance) -> pd.DataFrame | None:
    """The campaign folder's forecast audit, or None when demand.csv was not forecast."""
    path = Path(inst.campaign.root) / FORECAST_AUDIT_FILE
    if not path.is_file():
        return None
    audit = pd.read_csv(path, dtype={"sku": str, "warehouse": str}, keep_default_na=False, na_values=[""])
    return plain_frame(audit, ("sku", "warehouse"))  # the forecast writes ids formula-safe


def forecast_note(inst: Instance, audit: pd.DataFrame | None) -> str:
    """Where the plan's demand comes from, and whether demand.csv is the audited forecast
    (mean and sd equal to the audit's, to the 0.1 demand.csv is written with)."""
    if audit is None:
        return (f"<p>No {FORECAST_AUDIT_FILE} in the campaign folder: demand.csv is used as "
                "given (not forecast by <code>python -m optimizer forecast</code>).</p>")
    d = inst.campaign.demand.merge(audit[["sku", "warehouse", "mean", "sd"]], on=["sku", "warehouse"],
                                   how="left", suffixes=("", "_audit"))
    same = ((d["mean"] - d["mean_audit"]).abs() <= 0.051) & ((d["sd"] - d["sd_audit"]).abs() <= 0.051)
    text = (f"{int(same.sum()):,} of the {len(d):,} SKU × warehouse rows of demand.csv are the "
            f"forecast of {FORECAST_AUDIT_FILE} (mean and sd); {int((~same).sum()):,} differ or "
            "are not in the audit.")
    if "sd_scale" in audit and audit["sd_scale"].notna().any():
        text += (f" The forecast sd is calibrated ×{float(audit['sd_scale'].dropna().iloc[0]):.3f} "
                 "(out-of-sample errors of earlier promos).")
    return f"<p>{text}</p>"   # numbers and fixed words only: nothing untrusted


def forecast_summary(audit: pd.DataFrame | None) -> pd.DataFrame:
    """Per category: pairs, baseline units, demand-weighted lift, forecast mean and sd."""
    if audit is None or audit.empty:
        return pd.DataFrame()
    a = audit.copy()
    a["category"] = a["category"].fillna("") if "category" in a else ""
    a["baseline"] = a["baseline"] if "baseline" in a else a["baseline_rate"] * a["promo_days"]
    a["sd2"] = a["sd"] ** 2
    a["lift_x_base"] = a["lift"] * a["baseline"]
    g = a.groupby("category").agg(pairs=("sku", "size"), baseline=("baseline", "sum"),
                                  lift_x_base=("lift_x_base", "sum"), mean=("mean", "sum"),
                                  sd2=("sd2", "sum"))
    g["lift"] = g["lift_x_base"] / g["baseline"].where(g["baseline"] > 0)
    g["sd (independent pairs)"] = np.sqrt(g["sd2"])
    g = g.rename(columns={"baseline": "baseline units", "mean": "forecast mean"})
    return g.reset_index()[["category", "pairs", "baseline units", "lift", "forecast mean",
                            "sd (independent pairs)"]]


_AUDIT_IF_USED = ("inferred_stockout_days", "override", "note")   # shown only when some row has one


def forecast_audit_table(audit: pd.DataFrame | None) -> pd.DataFrame:
    """The audit per SKU × warehouse (its main columns), largest forecast first; the
    inferred-stockout, override and note columns only when some row has one."""
    if audit is None:
        return pd.DataFrame()

    def used(col: str) -> bool:
        blank = audit[col].fillna("").astype(str).str.strip().isin(["", "0", "0.0", "False"])
        return bool((~blank).any())

    cols = [c for c in _AUDIT_SHOWN if c in audit and (c not in _AUDIT_IF_USED or used(c))]
    return audit[cols].sort_values("mean", ascending=False).reset_index(drop=True)


# ---------------------------------------------------------------- display


# ---------------------------------------------------------------- small helpers


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def _mean(s: pd.Series) -> float:
    return float(s.mean()) if len(s) else float("nan")


def _pct(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1%}"


def _days(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return "∞" if math.isinf(x) else f"{x:,.1f}"


def _money(x: float, currency: str) -> str:
    """``x`` with its currency, as plain text for a table cell: ``table_html`` escapes it."""
    return f"{x:,.2f} {currency}"


def _format(x: float, kind: str, currency: str, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    sign = "+" if signed else ""
    if kind == "money":
        return f"{x:{sign},.2f} {currency}"
    if kind == "pct":
        return f"{x:{sign}.1%}"
    if kind == "pp":  # a difference of two percentages
        return f"{100 * x:{sign}.1f} pp"
    return f"{x:{sign},.0f}"




def kpi_table(inst: Instance, ev: PlanEvaluation) -> pd.DataFrame:
    """The headline KPIs as shown in the report (name and formatted value)."""
    return headline_kpis(inst, ev)[["KPI", "shown"]].rename(columns={"shown": "value"})


def run_files(run_dir) -> pd.DataFrame:
    """The files of a run folder (name and size), for the report's last section."""
    files = list_files(run_dir)
    return pd.DataFrame({"file": [p.name for p in files],
                         "bytes": [p.stat().st_size for p in files]})


__all__ = [
    "abc_table",
    "allocation",
    "cash_limit_table",
    "changes_since",
    "changes_totals",
    "compare_with_rule_of_thumb",
    "forecast_audit",
    "forecast_audit_table",
    "forecast_note",
    "forecast_summary",
    "headline_kpis",
    "kpi_table",
    "payment_schedule",
    "purchase_orders",
    "rule_breaches",
    "run_facts",
    "run_files",
    "shipping_plan",
    "simulate",
    "simulation_summary",
    "supplier_payments",
    "supplier_summary",
    "timeline",
    "unreachable",
    "unserved_parts",
    "unserved_table",
]
