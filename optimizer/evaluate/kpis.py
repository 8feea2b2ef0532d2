"""Plan analysis KPIs: ABC classes by expected revenue and stock-health measures.

Pure functions of an :class:`~optimizer.prep.instance.Instance` and a
:class:`~optimizer.evaluate.plan.PlanEvaluation` (the optimised plan, the rule of
thumb, any plan) returning DataFrames; nothing is solved or written.

Per (SKU, warehouse) pair of ``evaluation.pairs``, with ``A`` available stock,
``ES`` expected sales, ``E[D]`` expected demand (SPEC §2) and the SKU's
``price`` and ``purchase_cost = unit_cost·(1 + duty_rate)`` (no duty at a bonded
warehouse, where it is paid from sales):

==========================  =====================================================
expected revenue            ``ES · price``  (gross promo price, before returns)
stock value                 ``A · purchase_cost``
cost of goods sold (COGS)   ``ES · purchase_cost``
expected unmet demand       ``E[D] − ES``  (units)
expected leftover           ``A − ES``  (units)
cash in leftover stock      ``(A − ES) · purchase_cost``
==========================  =====================================================

A group of SKUs (an ABC class, a category, the whole plan) sums these and reports

* ``sell_through   = Σ ES / Σ A`` (units);
* ``turnover_days  = Σ stock value / (Σ COGS / promo_days)`` with
  ``promo_days = promo_end − promo_start + 1``: the days of promo-rate sales
  the stock on hand covers (``inf`` with stock and no sales);
* ``stockout_rate  = #{pairs with E[D] > 0 and P(D > A) > 0.5} / #{pairs with E[D] > 0}``
  next to ``expected_unmet_units = Σ (E[D] − ES)``;
* ``leftover_cash  = Σ (A − ES) · purchase_cost``;
* ``sku_share``, ``revenue_share``, ``stock_value_share``: the group's share of
  the SKUs, of the expected revenue and of the stock value of the whole campaign.

Every SKU of ``skus.csv`` counts (one with neither demand nor stock has zero
revenue and is a C item). Ratios with a zero denominator are NaN.

The expected demand the plan leaves unserved, ``Σ (E[D] − ES)``, splits by pair into
three causes (:func:`unserved_demand`, :func:`unserved_by_cause`):

* ``unreachable`` — no lane brings the SKU to the warehouse by the cutoff (no usable
  route): only existing stock serves it;
* ``not_worth_stocking`` — the plan holds at least the pair's economic stock (the
  newsvendor level of :func:`optimizer.prep.instance.economic_stock_limit`: past
  it one more case costs more than it earns), so the rest is demand not worth
  stocking at its margin;
* ``cut_by_limits`` — one more case would pay (economic stock above the plan's stock)
  but the plan stops short: the budget, a cash limit, space, a supplier's capacity or
  a fixed cost of ordering (MOQ, minimum order value, shipment cost) holds it back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import PlanEvaluation
from optimizer.prep.instance import Instance

A_SHARE = 0.80  # A: the top SKUs making 80 % of expected revenue
B_SHARE = 0.95  # B: the next 15 %; C: the rest
STOCKOUT_THRESHOLD = 0.5  # a pair "stocks out" when P(D > A) exceeds this
CLASSES = ("A", "B", "C")

GROUP_COLUMNS = [
    "skus", "sku_share", "expected_revenue", "revenue_share", "stock_value", "stock_value_share",
    "available_units", "expected_sales_units", "sell_through", "cogs", "turnover_days",
    "demand_pairs", "pairs_stocking_out", "stockout_rate", "expected_unmet_units",
    "expected_leftover_units", "leftover_cash",
]


def promo_days(inst: Instance) -> int:
    """Days of the promotion window: ``promo_end − promo_start + 1``."""
    cfg = inst.campaign.config
    return (cfg.promo_end - cfg.promo_start).days + 1


def pair_values(inst: Instance, evaluation: PlanEvaluation) -> pd.DataFrame:
    """Per (SKU, warehouse) pair: the money and unit measures the KPIs sum.

    Columns: ``available, expected_sales, expected_demand, expected_leftover,
    stockout_probability`` (from the evaluation) plus ``price, purchase_cost``,
    ``expected_revenue = ES·price``, ``stock_value = A·purchase_cost``,
    ``cogs = ES·purchase_cost``, ``expected_unmet = E[D] − ES``,
    ``leftover_cash = (A − ES)·purchase_cost``, ``has_demand = E[D] > 0`` and
    ``stocking_out = has_demand and P(D > A) > 0.5``.
    """
    p = evaluation.pairs
    out = p[["available", "expected_sales", "expected_demand", "expected_leftover",
             "stockout_probability"]].astype(float).copy()
    sku_of = p.index.get_level_values("sku")
    out["price"] = inst.skus.loc[sku_of, "price"].to_numpy(float)
    out["purchase_cost"] = p["purchase_cost"].to_numpy(float)
    out["expected_revenue"] = out["expected_sales"] * out["price"]
    out["stock_value"] = out["available"] * out["purchase_cost"]
    out["cogs"] = out["expected_sales"] * out["purchase_cost"]
    out["expected_unmet"] = (out["expected_demand"] - out["expected_sales"]).clip(lower=0.0)
    out["leftover_cash"] = p["leftover_cost"].astype(float)
    out["has_demand"] = out["expected_demand"] > 0
    out["stocking_out"] = out["has_demand"] & (out["stockout_probability"] > STOCKOUT_THRESHOLD)
    return out


def abc_classes(revenue: pd.Series, a_share: float = A_SHARE, b_share: float = B_SHARE) -> pd.DataFrame:
    """ABC classes of the items of ``revenue`` (index: SKU).

    Items are ranked by revenue, highest first (ties by SKU). With ``before`` the
    share of total revenue of the items ranked above an item:

    * A if ``before < a_share``  — the smallest set of top SKUs reaching 80 %;
    * B if ``a_share ≤ before < b_share`` — the next ones, up to 95 %;
    * C otherwise, and every item when the total revenue is zero.

    E.g. revenues 500, 300, 100, 60, 40 (total 1,000; ``before`` 0, 50, 80, 90,
    96 %) give A, A, B, B, C.

    Returns, in rank order: ``rank, revenue, revenue_share, cumulative_share,
    abc_class`` indexed by SKU.
    """
    r = pd.Series(revenue, dtype=float).fillna(0.0).clip(lower=0.0)
    order = sorted(r.index, key=lambda s: (-r[s], str(s)))
    r = r.loc[order]
    total = float(r.sum())
    share = r / total if total > 0 else r * 0.0
    cumulative = share.cumsum()
    before = (cumulative - share).to_numpy()
    eps = 1e-9
    cls = np.where(before < a_share - eps, "A", np.where(before < b_share - eps, "B", "C"))
    if total <= 0:
        cls[:] = "C"
    out = pd.DataFrame({
        "rank": np.arange(1, len(r) + 1),
        "revenue": r.to_numpy(),
        "revenue_share": share.to_numpy(),
        "cumulative_share": cumulative.to_numpy(),
        "abc_class": cls,
    }, index=pd.Index(order, name=r.index.name or "sku"))
    return out


def sku_kpis(inst: Instance, evaluation: PlanEvaluation) -> pd.DataFrame:
    """One row per SKU of the campaign: the summed pair measures and its ABC class.

    Columns: ``sku, name, category, abc_class, rank, available_units,
    expected_sales_units, expected_demand_units, expected_revenue, revenue_share,
    cumulative_share, stock_value, cogs, sell_through, turnover_days,
    demand_pairs, pairs_stocking_out, expected_unmet_units,
    expected_leftover_units, leftover_cash`` — formulas in the module docstring.
    Sorted by revenue rank.
    """
    v = pair_values(inst, evaluation)
    per = v.groupby(level="sku").agg(
        available_units=("available", "sum"),
        expected_sales_units=("expected_sales", "sum"),
        expected_demand_units=("expected_demand", "sum"),
        expected_revenue=("expected_revenue", "sum"),
        stock_value=("stock_value", "sum"),
        cogs=("cogs", "sum"),
        demand_pairs=("has_demand", "sum"),
        pairs_stocking_out=("stocking_out", "sum"),
        expected_unmet_units=("expected_unmet", "sum"),
        expected_leftover_units=("expected_leftover", "sum"),
        leftover_cash=("leftover_cash", "sum"),
    )
    per = per.reindex(inst.skus.index).fillna(0.0)
    per.index.name = "sku"
    for c in ("demand_pairs", "pairs_stocking_out"):
        per[c] = per[c].astype("int64")
    abc = abc_classes(per["expected_revenue"])
    per = per.loc[abc.index]
    per["abc_class"] = abc["abc_class"]
    per["rank"] = abc["rank"]
    per["revenue_share"] = abc["revenue_share"]
    per["cumulative_share"] = abc["cumulative_share"]
    per["sell_through"] = _div(per["expected_sales_units"], per["available_units"])
    per["turnover_days"] = _turnover_days(per["stock_value"], per["cogs"], promo_days(inst))
    skus = inst.skus.loc[per.index]
    per["name"] = _text_column(skus, "name")
    per["category"] = _text_column(skus, "category")
    cols = ["name", "category", "abc_class", "rank", "available_units", "expected_sales_units",
            "expected_demand_units", "expected_revenue", "revenue_share", "cumulative_share",
            "stock_value", "cogs", "sell_through", "turnover_days", "demand_pairs",
            "pairs_stocking_out", "expected_unmet_units", "expected_leftover_units", "leftover_cash"]
    return per[cols].reset_index()


def kpis_by(inst: Instance, evaluation: PlanEvaluation, by: str = "abc_class", *,
            total: bool = True) -> pd.DataFrame:
    """The group KPIs of the module docstring per value of a :func:`sku_kpis` column.

    ``by="abc_class"`` (rows A, B, C, always all three) or ``"category"`` (SKUs
    without one are grouped as ``""``). With ``total`` a last row ``"Total"`` holds
    the whole campaign (shares 1). Columns: ``by`` then :data:`GROUP_COLUMNS`.
    """
    s = sku_kpis(inst, evaluation)
    keys = list(CLASSES) if by == "abc_class" else sorted(s[by].unique(), key=str)
    rows = [_group_row(s[s[by] == k], s, promo_days(inst)) for k in keys]
    if total:
        keys = keys + ["Total"]
        rows.append(_group_row(s, s, promo_days(inst)))
    out = pd.DataFrame(rows, columns=GROUP_COLUMNS)
    out.insert(0, by, keys)
    return out


def abc_summary(inst: Instance, evaluation: PlanEvaluation) -> pd.DataFrame:
    """Per ABC class (A, B, C, Total): :func:`kpis_by` with ``by="abc_class"``."""
    return kpis_by(inst, evaluation, "abc_class")


def plan_kpis(inst: Instance, evaluation: PlanEvaluation) -> pd.Series:
    """The whole plan's group KPIs (the ``Total`` row of :func:`abc_summary`) as a Series."""
    return abc_summary(inst, evaluation).set_index("abc_class").loc["Total"]


# ---------------------------------------------------------------- unserved demand

UNSERVED_CAUSES = ("unreachable", "not_worth_stocking", "cut_by_limits")


def unserved_demand(inst: Instance, evaluation: PlanEvaluation) -> pd.DataFrame:
    """Per (SKU, warehouse) pair with demand: the expected unserved units and their cause.

    Columns: ``sku, warehouse, expected_demand, expected_sales, unserved``
    (``E[D] − ES``), ``available``, ``economic_stock`` and ``cause`` (one of
    :data:`UNSERVED_CAUSES`, as in the module docstring).  The ``unserved`` column adds
    up to the plan's expected demand less its expected sales.
    """
    cols = ["sku", "warehouse", "expected_demand", "expected_sales", "unserved", "available",
            "economic_stock", "cause"]
    p = evaluation.pairs
    p = p[p["expected_demand"] > 0]
    info = inst.pairs[["has_route", "economic_stock"]].reindex(p.index)
    out = p[["expected_demand", "expected_sales", "available"]].astype(float).copy()
    out["unserved"] = (out["expected_demand"] - out["expected_sales"]).clip(lower=0.0)
    out["economic_stock"] = info["economic_stock"].astype(float)
    reachable = info["has_route"].fillna(False).astype(bool).to_numpy()
    pays = (out["economic_stock"] > out["available"] + 1e-9).to_numpy()
    out["cause"] = np.where(~reachable, UNSERVED_CAUSES[0],
                            np.where(pays, UNSERVED_CAUSES[2], UNSERVED_CAUSES[1]))
    return out.reset_index()[cols]


def unserved_by_cause(inst: Instance, evaluation: PlanEvaluation, top: int = 3) -> pd.DataFrame:
    """The unserved expected demand per cause (rows :data:`UNSERVED_CAUSES`, always all three).

    Columns: ``cause, pairs`` (pairs with unserved demand), ``unserved_units``,
    ``demand_share`` (of the expected demand), ``unserved_share`` (of the unserved
    demand) and ``top_skus``: the ``top`` SKUs with the most unserved units of that
    cause, as ``(sku, units)`` tuples, most first.  The ``unserved_units`` add up to
    the expected demand less the expected sales.
    """
    u = unserved_demand(inst, evaluation)
    demand = float(u["expected_demand"].sum())
    unserved = float(u["unserved"].sum())
    rows = []
    for cause in UNSERVED_CAUSES:
        g = u[(u["cause"] == cause) & (u["unserved"] > 0)]
        units = float(g["unserved"].sum())
        per_sku = g.groupby("sku")["unserved"].sum()
        ranked = sorted(per_sku.items(), key=lambda kv: (-kv[1], str(kv[0])))[:top]
        rows.append((cause, len(g), units, _ratio(units, demand), _ratio(units, unserved),
                     tuple((str(k), float(v)) for k, v in ranked)))
    return pd.DataFrame(rows, columns=["cause", "pairs", "unserved_units", "demand_share",
                                       "unserved_share", "top_skus"])


# ---------------------------------------------------------------- helpers


def _group_row(g: pd.DataFrame, everything: pd.DataFrame, days: int) -> list:
    n_all = len(everything)
    revenue = float(g["expected_revenue"].sum())
    stock = float(g["stock_value"].sum())
    available = float(g["available_units"].sum())
    sales = float(g["expected_sales_units"].sum())
    cogs = float(g["cogs"].sum())
    demand_pairs = int(g["demand_pairs"].sum())
    stocking_out = int(g["pairs_stocking_out"].sum())
    return [
        len(g),
        _ratio(len(g), n_all),
        revenue,
        _ratio(revenue, float(everything["expected_revenue"].sum())),
        stock,
        _ratio(stock, float(everything["stock_value"].sum())),
        available,
        sales,
        _ratio(sales, available),
        cogs,
        float(_turnover_days(pd.Series([stock]), pd.Series([cogs]), days).iloc[0]),
        demand_pairs,
        stocking_out,
        _ratio(stocking_out, demand_pairs),
        float(g["expected_unmet_units"].sum()),
        float(g["expected_leftover_units"].sum()),
        float(g["leftover_cash"].sum()),
    ]


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b > 0 else float("nan")


def _div(a: pd.Series, b: pd.Series) -> pd.Series:
    a, b = a.astype(float), b.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(np.where(b > 0, a / b.where(b > 0, 1.0), np.nan), index=a.index)


def _turnover_days(stock_value: pd.Series, cogs: pd.Series, days: int) -> pd.Series:
    """``stock_value / (cogs / days)``: inf with stock and no sales, NaN with neither."""
    stock_value, cogs = stock_value.astype(float), cogs.astype(float)
    safe = cogs.where(cogs > 0, 1.0)
    out = np.where(cogs > 0, stock_value * days / safe,
                   np.where(stock_value > 0, np.inf, np.nan))
    return pd.Series(out, index=stock_value.index)


def _text_column(skus: pd.DataFrame, column: str) -> pd.Series:
    if column not in skus:
        return pd.Series("", index=skus.index, dtype=object)
    return skus[column].fillna("").astype(str)


__all__ = ["A_SHARE", "B_SHARE", "STOCKOUT_THRESHOLD", "GROUP_COLUMNS", "promo_days",
           "pair_values", "abc_classes", "sku_kpis", "kpis_by", "abc_summary", "plan_kpis",
           "UNSERVED_CAUSES", "unserved_demand", "unserved_by_cause"]
