"""Plotly figures of the report and the notebooks (allocation, timeline, risk, frontier, pace)."""

from __future__ import annotations

import math

import pandas as pd

from optimizer.evaluate.plan import PlanEvaluation
from optimizer.prep.instance import Instance
from optimizer.report.tables import allocation, timeline


def allocation_by_warehouse_figure(ev: PlanEvaluation):
    """Stacked bars: units per warehouse, coloured by transport mode."""
    import plotly.express as px

    a = allocation(ev)
    fig = px.bar(a, x="warehouse", y="units", color="mode", barmode="stack",
                 hover_data=["line_cost", "volume_m3"], title="Units by warehouse and mode")
    return fig.update_layout(xaxis_type="category", legend_title_text="mode")



def allocation_by_mode_figure(ev: PlanEvaluation):
    """Bars: landed cost per transport mode, split by warehouse."""
    import plotly.express as px

    a = allocation(ev)
    fig = px.bar(a, x="mode", y="line_cost", color="warehouse", barmode="group",
                 hover_data=["units", "volume_m3"], title="Landed cost by transport mode",
                 labels={"line_cost": "landed cost"})
    return fig.update_layout(xaxis_type="category")



def timeline_figure(inst: Instance, ev: PlanEvaluation):
    """Order-by → ship-by (production) and ship-by → cutoff (transit + buffer) per lane."""
    import plotly.express as px

    t = timeline(inst, ev)
    bars = pd.concat([
        pd.DataFrame({"lane": t["lane"], "phase": "production (order-by → ship-by)",
                      "start": t["order_by"], "finish": t["ship_by"]}),
        pd.DataFrame({"lane": t["lane"], "phase": "transit + buffer (ship-by → cutoff)",
                      "start": t["ship_by"], "finish": t["cutoff"]}),
    ], ignore_index=True)
    bars["start"] = pd.to_datetime(bars["start"])
    bars["finish"] = pd.to_datetime(bars["finish"])
    fig = px.timeline(bars, x_start="start", x_end="finish", y="lane", color="phase",
                      title="Order-by and ship-by dates against the check-in cutoffs")
    planning = pd.Timestamp(inst.planning_date)
    fig.add_vline(x=planning.timestamp() * 1000, line_dash="dot")
    fig.add_annotation(x=planning, y=1, yref="paper", text="planning date", showarrow=False)
    for cutoff in sorted(set(t["cutoff"])):
        fig.add_vline(x=pd.Timestamp(cutoff).timestamp() * 1000, line_dash="dash", line_color="red")
    return fig.update_yaxes(autorange="reversed", type="category")



def simulated_profit_figure(sim, currency: str = ""):
    """Histogram of the simulated profit with P10 / P50 / P90 (dashed) and the exact
    expected profit (solid) marked."""
    import plotly.express as px

    st = sim.stats().loc["profit"]
    fig = px.histogram(x=sim.profit, nbins=60,
                       title=f"Simulated promo profit ({sim.n:,} demand scenarios)",
                       labels={"x": f"profit ({currency})".replace(" ()", "")})
    fig.update_layout(yaxis_title="scenarios", showlegend=False, bargap=0.02)
    for name, pos in (("P10", "top left"), ("P50", "top"), ("P90", "top right")):
        fig.add_vline(x=float(st[name.lower()]), line_dash="dash", line_color="black",
                      annotation_text=f"{name} {st[name.lower()]:,.0f}", annotation_position=pos)
    fig.add_vline(x=float(st["exact"]), line_color="red",
                  annotation_text=f"expected {st['exact']:,.0f}", annotation_position="bottom right")
    return fig


def frontier_figures(table: pd.DataFrame, currency: str = ""):
    """Plotly figures: profit, fill rate and leftover against budget; marginal profit per unit budget."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    t = table.dropna(subset=["expected_profit"])
    kpis = make_subplots(rows=1, cols=3, subplot_titles=(
        f"Expected profit ({currency})", "Expected fill rate", "Expected leftover units"))
    for i, (col, fmt) in enumerate((("expected_profit", ",.0f"), ("expected_fill_rate", ".1%"),
                                    ("expected_leftover_units", ",.0f")), start=1):
        kpis.add_trace(go.Scatter(x=t["budget"], y=t[col], mode="lines+markers", name=col,
                                  hovertemplate=f"budget %{{x:,.0f}}<br>%{{y:{fmt}}}<extra></extra>"),
                       row=1, col=i)
        kpis.update_xaxes(title_text=f"budget ({currency})", row=1, col=i)
    kpis.update_yaxes(tickformat=".0%", row=1, col=2)
    kpis.update_layout(showlegend=False, height=380, margin={"t": 50, "b": 40})
    marginal = go.Figure(go.Bar(x=t["budget"], y=t["marginal_profit_per_budget"],
                                hovertemplate="budget %{x:,.0f}<br>%{y:.3f} per unit<extra></extra>"))
    marginal.update_layout(title="Marginal expected profit per extra unit of budget",
                           xaxis_title=f"budget ({currency})", yaxis_title="Δ profit / Δ budget",
                           height=340, margin={"t": 50, "b": 40})
    return kpis, marginal


def pace_figure(pace: pd.DataFrame, flags: pd.DataFrame, max_pairs: int = 12):
    """Cumulative plan (dashed) against actual units for the flagged pairs (plotly)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    shown = flags[flags["flagged"]].head(max_pairs)
    if shown.empty:
        return go.Figure().update_layout(title="No flagged SKU × warehouse", height=200)
    cols = min(3, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig = make_subplots(rows=rows, cols=cols, shared_xaxes=True,
                        subplot_titles=[f"{r.sku} @ {r.warehouse} ({r.status.replace('_', ' ')})"
                                        for r in shown.itertuples()])
    colour = {"stop_loss": "#c0392b", "running_ahead": "#1e8449"}
    for i, r in enumerate(shown.itertuples()):
        d = pace[(pace["sku"] == r.sku) & (pace["warehouse"] == r.warehouse)]
        at = {"row": i // cols + 1, "col": i % cols + 1}
        fig.add_trace(go.Scatter(x=d["date"], y=d["cum_plan"], name="plan", mode="lines",
                                 line={"color": "grey", "dash": "dash"}, legendgroup="plan",
                                 showlegend=i == 0), **at)
        fig.add_trace(go.Scatter(x=d["date"], y=d["cum_actual"], name=r.status.replace("_", " "),
                                 mode="lines", line={"color": colour.get(r.status, "#2c3e50")},
                                 legendgroup=r.status, showlegend=False), **at)
    fig.update_layout(height=260 * rows, title="Cumulative units: plan (dashed) and actual",
                      margin={"t": 80, "l": 40, "r": 20, "b": 40})
    return fig


__all__ = [
    "allocation_by_mode_figure",
    "allocation_by_warehouse_figure",
    "frontier_figures",
    "pace_figure",
    "simulated_profit_figure",
    "timeline_figure",
]
