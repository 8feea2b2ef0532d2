"""Plotly figures of the report and the notebooks (profit and cash, allocation, timeline, risk,
frontier, pace)."""

from __future__ import annotations

import datetime as dt
import math
import zlib

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import PlanEvaluation
from optimizer.prep.instance import Instance
from optimizer.report.tables import allocation, timeline

# One colour per transport mode, the same in every chart: the report's and the explorer's.
MODE_COLOURS = {
    "sea_fcl": "#1f77b4",
    "sea_lcl": "#17becf",
    "express_sea": "#9467bd",
    "rail": "#8c564b",
    "air": "#ff7f0e",
    "courier": "#d62728",
}
# Modes lanes.csv may name besides those: a colour picked by the mode's name.
OTHER_MODE_COLOURS = ("#2ca02c", "#e377c2", "#7f7f7f", "#bcbd22", "#636efa", "#ffa15a", "#19d3f3", "#b6e880")


def mode_colour(mode: str) -> str:
    """The colour of a transport mode: :data:`MODE_COLOURS`, else one of
    :data:`OTHER_MODE_COLOURS` chosen by a checksum of the name (the same in every run)."""
    if mode in MODE_COLOURS:
        return MODE_COLOURS[mode]
    return OTHER_MODE_COLOURS[zlib.crc32(str(mode).encode("utf-8")) % len(OTHER_MODE_COLOURS)]


def mode_order(modes) -> list[str]:
    """Modes in one fixed order: those of :data:`MODE_COLOURS` as listed there, then the others by name."""
    known = [m for m in MODE_COLOURS if m in set(modes)]
    return known + sorted(set(modes) - set(known), key=str)


def allocation_by_warehouse_figure(ev: PlanEvaluation):
    """Stacked bars: units per warehouse, coloured by transport mode (:func:`mode_colour`)."""
    import plotly.express as px

    a = allocation(ev)
    modes = mode_order(a["mode"])
    fig = px.bar(a, x="warehouse", y="units", color="mode", barmode="stack",
                 hover_data=["line_cost", "volume_m3"], title="Units by warehouse and mode",
                 color_discrete_map={m: mode_colour(m) for m in modes}, category_orders={"mode": modes})
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
    # above the plot, reading rightwards from the line: clear of the bars and the lane names
    fig.add_annotation(x=planning, y=1, yref="paper", yanchor="bottom", xanchor="left", yshift=2,
                       text="planning date", showarrow=False)
    for cutoff in sorted(set(t["cutoff"])):
        fig.add_vline(x=pd.Timestamp(cutoff).timestamp() * 1000, line_dash="dash", line_color="red")
    fig.update_layout(margin={"t": 90})
    return fig.update_yaxes(autorange="reversed", type="category")


LABEL_ROW_PX = 18  # the height of one row of labels beside or above a chart
LABEL_CHAR_PX = 7.0  # the width of a label's character (12 px text), to place labels
LINE_LABEL_PLOT_PX = 700.0  # the narrowest a full-width chart's plot is drawn (a page ≥ 1,000 px wide)


def place_line_labels(marks: list[tuple[float, str]], low: float, high: float,
                      plot_px: float = 600.0, overflow_px: float = 70.0) -> list[tuple[str, int]]:
    """Where the label of each vertical line goes above its plot: ``(xanchor, row)`` per
    ``(x, text)``, placed from left to right.

    A label reads away from the nearest other line (``"right"``: to the left of its line,
    ``"left"``: to the right; the first of two lines at one x to the left), else towards
    it; neither may run more than ``overflow_px`` past an edge of the range
    ``low``–``high`` drawn ``plot_px`` wide (into the margin beside the plot).  It takes
    the lowest row that is free there — row 0, next to the plot, only where it spans no
    other line's end — and in that row the first of the two directions that fits.
    Widths are estimated (:data:`LABEL_CHAR_PX` a character).
    """
    span = (high - low) or 1.0
    scale = plot_px / span
    placed: list[tuple[int, float, float]] = []
    out: list[tuple[str, int]] = [("left", 0)] * len(marks)
    order = sorted(range(len(marks)), key=lambda i: marks[i][0])
    for rank, i in enumerate(order):
        x, text = marks[i]
        at, width = (x - low) * scale, len(text) * LABEL_CHAR_PX + 6
        others = [(marks[j][0] - low) * scale for j in range(len(marks)) if j != i]
        if not others:
            away = "left" if at <= plot_px / 2 else "right"
        else:
            nearest = min(others, key=lambda o: (abs(o - at), o))
            away = "right" if nearest > at or (nearest == at and rank == 0) else "left"
        sides = [away, "left" if away == "right" else "right"]
        spans = {"right": (at - width, at), "left": (at, at + width)}
        fits = [a for a in sides if -overflow_px <= spans[a][0] and spans[a][1] <= plot_px + overflow_px]
        sides = fits or sides[:1]
        row = 0
        while True:
            free = [a for a in sides
                    if not (row == 0 and any(spans[a][0] + 1 < o < spans[a][1] - 1 for o in others))
                    and not any(r == row and lo < spans[a][1] and spans[a][0] < hi for r, lo, hi in placed)]
            if free:
                break
            row += 1
        placed.append((row, *spans[free[0]]))
        out[i] = (free[0], row)
    return out


def _mark_label(fig, x: float, text: str, *, row: int, colour: str = "#1f2328", xanchor: str = "center",
                above: bool = True, xref: str = "x", yref: str = "paper") -> None:
    """Label a vertical line at ``x``: above the plot area (``above``) or inside it under
    its top edge, in label row ``row`` (0 next to the plot's edge, each further row
    :data:`LABEL_ROW_PX` away), so that labels in different rows never overlap."""
    shift = row * LABEL_ROW_PX
    fig.add_annotation(x=x, xref=xref, y=1, yref=yref, text=text, showarrow=False, xanchor=xanchor,
                       yanchor="bottom" if above else "top", yshift=2 + shift if above else -2 - shift,
                       font={"color": colour}, bgcolor="rgba(255,255,255,0.85)")


# The parts of PlanEvaluation.profit_parts() as the waterfall names them.
PROFIT_PART_LABELS = {
    "revenue": "Revenue",
    "referral_fees": "Referral fees",
    "fulfilment_fees": "Fulfilment fees",
    "duty_deferred": "Duty on sales (bonded)",
    "storage_cost": "Storage",
    "landed_cost": "Landed cost",
    "salvage": "Salvage",
    "stockout_penalty": "Stock-out penalty",
}


def profit_waterfall_figure(ev: PlanEvaluation, currency: str = ""):
    """Waterfall from expected revenue through each deduction to the expected profit
    (SPEC §6); parts that are zero are left out, revenue is always shown."""
    import plotly.graph_objects as go

    parts = {k: v for k, v in ev.profit_parts().items() if k == "revenue" or abs(v) >= 0.005}
    unit = f" {currency}" if currency else ""
    detail = {"landed_cost": (f"<br>purchase incl. duty and freight {ev.purchase_spend:,.2f}{unit}"
                              f"<br>shipments {ev.shipment_spend:,.2f}{unit}")}
    labels = [PROFIT_PART_LABELS.get(k, k) for k in parts] + ["Expected profit"]
    values = list(parts.values()) + [ev.expected_profit]
    hover = [f"{_signed(v, ',.2f')}{unit}{detail.get(k, '')}" for k, v in parts.items()]
    hover.append(f"{_signed(ev.expected_profit, ',.2f', plus=False)}{unit}")
    fig = go.Figure(go.Waterfall(
        x=labels, y=values, measure=["relative"] * len(parts) + ["total"],
        text=[_signed(v, ",.0f") for v in parts.values()] + [_signed(ev.expected_profit, ",.0f", plus=False)],
        textposition="outside", customdata=hover,
        hovertemplate="%{x}<br>%{customdata}<extra></extra>",
        increasing={"marker": {"color": "#2e8b57"}}, decreasing={"marker": {"color": "#c0392b"}},
        totals={"marker": {"color": "#2c5d8a"}}, connector={"line": {"color": "#999", "width": 1}}))
    running = np.cumsum(values[:-1]).tolist() + [ev.expected_profit]
    low, high = min(0.0, *running), max(0.0, *running)
    pad = 0.12 * ((high - low) or 1.0)  # room for the labels outside the bars
    return fig.update_layout(
        title=f"Expected profit: from revenue to profit ({currency})".replace(" ()", ""),
        yaxis={"title": f"expected {currency}".strip(), "tickformat": ",.0f",
               "range": [low - (pad if low < 0 else 0.0), high + pad]},
        xaxis_type="category", showlegend=False, height=420,
        margin={"t": 60, "b": 40, "l": 70, "r": 20})


def _signed(x: float, fmt: str, plus: bool = True) -> str:
    """``x`` formatted with a typographic minus (and a plus unless ``plus`` is False)."""
    return f"{x:{'+' if plus else ''}{fmt}}".replace("-", "\u2212")


def cash_curve_figure(ev: PlanEvaluation, cash_limits=(), currency: str = "", *, start=None):
    """Cash paid out by the plan up to each date (a step per payment day, SPEC §6 rule 8)
    against the ``[[cash_limits]]``: each limit a red marker at its date and amount,
    and the red step the tightest limit in force on every day before it.

    ``start`` (e.g. the planning date) starts the curve at zero on that day.
    """
    import plotly.graph_objects as go

    unit = f" {currency}" if currency else ""
    pay = ev.payments
    fig = go.Figure()
    if len(pay):
        day = pay.groupby("date", sort=True)["amount"].sum()
        cum = day.cumsum()
        what = pay.assign(who=[" · ".join(x for x in (r.supplier, r.warehouse, r.mode) if x)
                               for r in pay.itertuples()])
        lines = ["<br>".join(f"{k} {w}: {a:,.2f}" for k, w, a in zip(d["kind"], d["who"], d["amount"]))
                 for _, d in what.groupby("date", sort=True)]
        first = min(day.index[0], start) if start is not None else day.index[0]
        last = max([day.index[-1]] + [c.until for c in cash_limits])
        last += dt.timedelta(days=max(2, round(0.04 * (last - first).days)))  # show the final level
        x = [first] + list(day.index) + [last]
        y = [0.0] + list(cum) + [float(cum.iloc[-1])]
        hover = (["nothing paid yet"] + [f"paid this day {d:,.2f}{unit}<br>{t}" for d, t in zip(day, lines)]
                 + ["no further payments"])
        fig.add_trace(go.Scatter(
            x=pd.to_datetime(x), y=y, mode="lines+markers", line_shape="hv", name="cash paid",
            line={"color": "#2c5d8a", "width": 2.5}, customdata=hover,
            marker={"size": [0] + [7] * len(day) + [0]},  # a marker per payment day only
            hovertemplate=f"%{{x|%Y-%m-%d}}<br>paid so far %{{y:,.2f}}{unit}<br>%{{customdata}}<extra></extra>"))
    limits = sorted(cash_limits, key=lambda c: c.until)
    if limits:
        origin = min([limits[0].until] + ([start] if start is not None else [])
                     + ([pay["date"].min()] if len(pay) else []))
        sx, sy, left = [], [], origin
        for c in limits:  # the tightest limit on or after each day: what caps the curve there
            cap = min(float(d.limit) for d in limits if d.until >= c.until)
            sx += [left, c.until]
            sy += [cap, cap]
            left = c.until
        fig.add_trace(go.Scatter(x=pd.to_datetime(sx), y=sy, mode="lines", name="cash limit in force",
                                 line={"color": "#c0392b", "width": 1.5, "dash": "dot"},
                                 hoverinfo="skip"))
        paid = [float(pay.loc[(pay["date"] <= c.until).to_numpy(bool), "amount"].sum()) if len(pay) else 0.0
                for c in limits]
        fig.add_trace(go.Scatter(
            x=pd.to_datetime([c.until for c in limits]), y=[float(c.limit) for c in limits],
            mode="markers+text", name="cash limit",
            marker={"color": "#c0392b", "size": 11, "symbol": "triangle-down"},
            text=[f"limit until {c.until}: {float(c.limit):,.0f}{unit}" for c in limits],
            textposition="top left", textfont={"color": "#c0392b"},
            customdata=[f"paid by then {p:,.2f}{unit}<br>headroom {float(c.limit) - p:,.2f}{unit}"
                        for c, p in zip(limits, paid)],
            hovertemplate="%{text}<br>%{customdata}<extra></extra>"))
    top = max([float(ev.spend)] + [float(c.limit) for c in limits]) or 1.0
    return fig.update_layout(
        title="Cash paid out by date" + (" against the cash limits" if limits else ""),
        xaxis={"title": "date", "tickformat": "%Y-%m-%d"},
        yaxis={"title": f"cumulative paid ({currency})".replace(" ()", ""), "tickformat": ",.0f",
               "range": [0, top * 1.15]},
        height=400, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        margin={"t": 70, "b": 40, "l": 70, "r": 20})


def simulated_profit_figure(sim, currency: str = ""):
    """Histogram of the simulated profit with P10 / P50 / P90 (dashed) and the exact
    expected profit (solid) marked."""
    import plotly.express as px

    st = sim.stats().loc["profit"]
    fig = px.histogram(x=sim.profit, nbins=60,
                       title=f"Simulated promo profit ({sim.n:,} demand scenarios)",
                       labels={"x": f"profit ({currency})".replace(" ()", "")})
    # The lines' labels above the plot (place_line_labels): side by side where there is
    # room, P50 and the nearby expected profit each reading away from the other's line.
    marks = [(float(st[q]), f"{q.upper()} {float(st[q]):,.0f}", "black", "dash") for q in ("p10", "p50", "p90")]
    marks.append((float(st["exact"]), f"expected {float(st['exact']):,.0f}", "red", "solid"))
    where = place_line_labels([(x, text) for x, text, _, _ in marks], float(np.min(sim.profit)),
                              float(np.max(sim.profit)), plot_px=LINE_LABEL_PLOT_PX)
    for (x, text, colour, dash), (anchor, row) in zip(marks, where):
        fig.add_vline(x=x, line_dash=dash, line_color=colour)
        _mark_label(fig, x, text, row=row, colour=colour, xanchor=anchor)
    rows = 1 + max(row for _, row in where)
    fig.update_layout(yaxis_title="scenarios", showlegend=False, bargap=0.02,
                      margin={"t": 56 + rows * LABEL_ROW_PX})
    return fig


def frontier_figures(table: pd.DataFrame, currency: str = "", *, campaign_budget: float | None = None,
                     recommended: float | None = None, hurdle: float | None = None):
    """Plotly figures: profit, fill rate and leftover against budget; marginal profit per
    unit budget.  The campaign budget (grey) and the recommended budget (green) are marked,
    the hurdle drawn on the marginal chart."""
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
    # The marks' labels above the plots (place_line_labels), where no line reaches them:
    # each reading away from the other mark's line, side by side where there is room, else
    # in a second row — above the profit plot (its subplot titles moved up over them,
    # narrow: 240 px) and above the marginal chart (clear of its bars).
    marks = [(v, label, colour) for v, label, colour in
             ((campaign_budget, "campaign budget", "#6e7781"), (recommended, "recommended", "#1a7f37"))
             if v is not None]
    if marks:
        values = [v for v, _, _ in marks] + ([float(x) for x in t["budget"]] if len(t) else [])
        low, high = min(values), max(values)
        texts = [(v, label) for v, label, _ in marks]
        narrow = place_line_labels(texts, low, high, plot_px=240.0)
        wide = place_line_labels(texts, low, high, plot_px=LINE_LABEL_PLOT_PX)
        titles = len(kpis.layout.annotations)  # the subplot titles, made first
        for (value, label, colour), (anchor, row), (top_anchor, top_row) in zip(marks, narrow, wide):
            for col in (1, 2, 3):
                kpis.add_vline(x=value, line_dash="dash", line_color=colour, row=1, col=col)
            _mark_label(kpis, value, label, row=row, colour=colour, xanchor=anchor, yref="y domain")
            marginal.add_vline(x=value, line_dash="dash", line_color=colour)
            _mark_label(marginal, value, label, row=top_row, colour=colour, xanchor=top_anchor)
        kpi_rows = 1 + max(r for _, r in narrow)
        for title in kpis.layout.annotations[:titles]:
            title.yshift = kpi_rows * LABEL_ROW_PX + 2
        kpis.update_layout(margin={"t": 50 + kpi_rows * LABEL_ROW_PX})
        marginal.update_layout(margin={"t": 50 + (1 + max(r for _, r in wide)) * LABEL_ROW_PX})
    if hurdle is not None:
        marginal.add_hline(y=hurdle, line_dash="dot", line_color="#cf222e",
                           annotation_text=f"hurdle {hurdle:g}", annotation_font_color="#cf222e",
                           annotation_position="bottom right")
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
    "MODE_COLOURS",
    "PROFIT_PART_LABELS",
    "allocation_by_mode_figure",
    "allocation_by_warehouse_figure",
    "cash_curve_figure",
    "frontier_figures",
    "mode_colour",
    "mode_order",
    "pace_figure",
    "profit_waterfall_figure",
    "simulated_profit_figure",
    "timeline_figure",
]
