"""The top of the report: the decision in a few numbers, then what to order by when.

* :func:`summary_cards` — expected profit (with its P10–P90), spend against the budget
  and the tightest cash limit, split into purchase, freight, duty and shipments, the fill
  rate with the unserved demand by cause (no lane in time, not worth stocking, cut by
  the budget or a limit), the gain over the spreadsheet rule of thumb, the change since
  the last run with its cause, and the solver's honesty (status, gap to a proven bound).
* :func:`orders_due` / :func:`action_list_html` — the purchase orders by PO date (SPEC
  §6), one row per supplier and date, in windows of 7, 14 and 30 days from the planning
  date (the day orders are placed), with ship-by, units and value, and totals; under the
  total, freight, duty and shipments, adding up to the spend.
* :func:`spend_cents` — the spend and its parts in whole cents, the parts adding up to
  the spend exactly: the Spend card and the action list show the same amounts.

The cards, the action list and the frontier note format their numbers here
(:func:`_money`, :func:`_pct`), money always with its currency.  The report's other
numbers are formatted where they are shown: the displayed tables by
:func:`optimizer.report.html.present` and :func:`~optimizer.report.html.table_html`,
the text cells of :mod:`optimizer.report.tables` by its own helpers, the purchase-order
workbook by its cells' number formats (:mod:`optimizer.report.workbook`). :func:`_money` is
plain text (the cards escape it); :func:`_money_html` is what goes into HTML directly.
Every text put into HTML is escaped — the currency too, though campaign.toml only
admits a three-letter code.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import PlanEvaluation, cash_limit_status
from optimizer.io.run_folder import NotARunFolder, read_summary
from optimizer.io.summary import Overrides, RunSummary
from optimizer.prep.instance import Instance
from optimizer.report.tables import unserved_parts
from optimizer.status import Status

WINDOWS = (7, 14, 30)  # days from the planning date: the action list's windows
ROWS_PER_WINDOW = 6  # orders the action list shows per window; the rest are counted


def _money(x: float, currency: str, signed: bool = False) -> str:
    """``x`` with its currency, as plain text: whole units from 1,000 up, cents below
    (less than half a cent is 0.00, without a sign)."""
    x = 0.0 if abs(x) < 0.005 else x
    sign = "+" if signed and x > 0 else ("−" if x < 0 else "")
    return f"{sign}{abs(x):,.0f} {currency}" if abs(x) >= 1000 else f"{sign}{abs(x):,.2f} {currency}"


def _money_html(x: float, currency: str, signed: bool = False) -> str:
    """:func:`_money`, escaped for HTML."""
    return html.escape(_money(x, currency, signed))


def _pct(x: float, signed: bool = False) -> str:
    sign = "+" if signed and x > 0 else ("−" if x < 0 else "")
    return f"{sign}{abs(x):.1%}"


# The parts of PlanEvaluation.spend_parts() as the Spend card and the action list name them.
SPEND_PART_LABELS = {
    "purchase": "purchase",
    "freight": "freight",
    "duty": "duty",
    "shipments": "shipments",
}
SPEND_PART_NOTES = {
    "purchase": "the purchase orders at unit cost",
    "freight": "per unit and lane, paid on the ship-by dates",
    "duty": "at non-bonded warehouses, paid on arrival",
    "shipments": "per container or lane use, paid on the lanes' ship-by dates",
}


def spend_cents(ev: PlanEvaluation) -> tuple[dict[str, int], int]:
    """The parts of the spend (:meth:`PlanEvaluation.spend_parts`) and the spend, in whole
    cents.  Each part is its running total rounded to the cent less the one before, the
    last running total being the spend itself: every part is within a cent of its exact
    amount and together they are the spend rounded to the cent."""
    parts = ev.spend_parts()
    names = list(parts)
    running, done, out = 0.0, 0, {}
    for i, name in enumerate(names):
        running = float(ev.spend) if i == len(names) - 1 else running + parts[name]
        upto = round(running * 100)
        out[name] = upto - done
        done = upto
    return out, done


def _cents(c: int, currency: str) -> str:
    """A whole number of cents as money with its currency (plain text), exactly."""
    sign = "−" if c < 0 else ""
    whole, cents = divmod(abs(int(c)), 100)
    return f"{sign}{whole:,}.{cents:02d} {currency}"


def _card(title: str, value: str, detail: str = "", tone: str = "", rows_html: str = "") -> str:
    """A summary card; ``rows_html`` (already escaped) is a breakdown under the detail."""
    return (f'<div class="card {tone}"><div class="card-title">{html.escape(title)}</div>'
            f'<div class="card-value">{html.escape(value)}</div>'
            f'<div class="card-detail">{html.escape(detail)}</div>{rows_html}</div>')


def _card_rows(rows: list[tuple[str, str, str]]) -> str:
    """A card's breakdown: one line per (label, amount, note), the note in small type under it."""
    body = "".join(
        f'<div class="card-row"><span>{html.escape(label)}</span><span>{html.escape(amount)}</span></div>'
        + (f'<div class="card-note">{html.escape(note)}</div>' if note else "")
        for label, amount, note in rows)
    return f'<div class="card-rows">{body}</div>'


CARD_STYLE = """<style>
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin:8px 0 18px}
.card{border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;background:#f8fafc}
.card-title{font-size:13px;color:#57606a;text-transform:uppercase;letter-spacing:.03em}
.card-value{font-size:21px;font-weight:600;margin:4px 0;color:#1f2328}
.card-detail{font-size:13px;color:#57606a}
.card.good .card-value{color:#1a7f37}.card.bad .card-value{color:#cf222e}.card.long .card-value{font-size:18px}
.card-rows{margin-top:6px;border-top:1px solid #d0d7de;padding-top:4px;font-size:12.5px;color:#1f2328}
.card-row{display:flex;justify-content:space-between;gap:8px}.card-row span:last-child{white-space:nowrap;font-variant-numeric:tabular-nums}
.card-row.total{font-weight:600}.card-note{font-size:11.5px;color:#57606a;margin:0 0 2px 8px;overflow-wrap:anywhere}
</style>"""


def summary_cards(inst: Instance, ev: PlanEvaluation, summary: RunSummary, *,
                  rule_of_thumb: PlanEvaluation | None = None, sim=None,
                  previous_summary: RunSummary | None = None, frontier: pd.DataFrame | None = None) -> str:
    """The decision in six cards (HTML; every text escaped).  With a budget ``frontier`` of
    these campaign files the spend card also gives the recommended budget and what one more
    10 % of budget earns (:func:`budget_advice`)."""
    cur = inst.campaign.config.currency
    cards = []
    profit = ev.expected_profit
    risk = ""
    if sim is not None:
        st = sim.stats()
        risk = f"P10 {_money(st.at['profit', 'p10'], cur)} · P90 {_money(st.at['profit', 'p90'], cur)}"
    headline = profit
    if summary.recourse_date is not None:  # a two-stage plan: its profit counts the top-ups
        risk = (f"with the top-ups of {summary.recourse_date}, over {summary.planning_scenarios:,} scenarios; "
                f"the orders placed now alone: {_money(profit, cur)}")
        headline = summary.expected_profit
    cards.append(_card("Expected profit", _money(headline, cur), risk))

    used = ev.spend / inst.budget if inst.budget else float("nan")
    detail = f"of budget {_money(inst.budget, cur)} ({_pct(used)})"
    limits = cash_limit_status(inst, ev)
    if limits:
        tight = min(limits, key=lambda c: c["headroom"])
        detail += f"; tightest cash limit {tight['until']}: {_money(tight['headroom'], cur)} left"
    if frontier is not None and (advice := budget_advice(inst.campaign, frontier)) is not None:
        recommended, more = advice
        detail += f"; recommended budget {_money(recommended, cur)}" if recommended is not None else ""
        detail += f"; one more 10 % of budget earns {_money(more, cur)}" if more is not None else ""
    parts, spend = spend_cents(ev)
    cards.append(_card("Spend", _cents(spend, cur), detail, "long", rows_html=_card_rows(
        [(SPEND_PART_LABELS[k], _cents(v, cur), "") for k, v in parts.items()])))

    p = ev.pairs
    demand, sales = float(p["expected_demand"].sum()), float(p["expected_sales"].sum())
    fill = sales / demand if demand > 0 else float("nan")
    unserved = ""
    if demand > 0 and demand - sales > 0:
        t = unserved_parts(inst, ev)
        unserved = _card_rows(
            [("unserved", _pct((demand - sales) / demand), "")]
            + [(f"· {r.short_label}", _pct(r.demand_share),
                ", ".join(sku for sku, _ in r.top_skus[:2]) if r.top_skus else "")
               for r in t.itertuples(index=False)])
    cards.append(_card("Expected fill rate", _pct(fill) if demand > 0 else "–",
                       f"{sales:,.0f} of {demand:,.0f} units of expected demand", rows_html=unserved))

    if rule_of_thumb is not None:
        gain = headline - rule_of_thumb.expected_profit
        rel = gain / abs(rule_of_thumb.expected_profit) if rule_of_thumb.expected_profit else float("nan")
        detail = (f"{_pct(rel, signed=True)} on its {_money(rule_of_thumb.expected_profit, cur)}"
                  if rule_of_thumb.expected_profit else "")
        if summary.recourse_date is not None and detail:
            detail += " (the rule orders everything now; this plan with its top-ups)"
        cards.append(_card("Against the spreadsheet rule (feasible)", _money(gain, cur, signed=True), detail,
                           "good" if gain > 0 else "bad"))

    if previous_summary is None:
        cards.append(_card("Against the last run", "first run", "no earlier run of this campaign"))
    else:
        change = headline - (previous_summary.expected_profit or 0.0)
        cards.append(_card("Against the last run", _money(change, cur, signed=True),
                           change_cause(previous_summary, summary, cur)))

    gap, bound = summary.mip_gap, summary.best_bound
    honesty = (f"gap {gap:.3%} to the bound {_money(bound, cur)}" if gap is not None and bound is not None
               else "no bound proven")
    cards.append(_card("Solver", str(summary.status or ""), honesty,
                       "" if summary.status == Status.OPTIMAL else "bad"))
    return CARD_STYLE + '<div class="cards">' + "".join(cards) + "</div>"


def previous_summary(run_dir) -> RunSummary | None:
    """summary.json of the run compared with (None: no earlier run, or not a run folder)."""
    if run_dir is None:
        return None
    try:
        return read_summary(run_dir)
    except (NotARunFolder, OSError, ValueError):
        return None


def load_frontier(frontier_dir) -> tuple[pd.DataFrame | None, str]:
    """The frontier run the report shows, and a one-line note when there is none to show:
    a recorded frontier that cannot be read is said so, and the report renders without it."""
    from optimizer.workflows.frontier import read_frontier

    if not frontier_dir:
        return None, ("<p><em>No budget frontier of these campaign files yet: <code>python -m optimizer "
                      "frontier CAMPAIGN --steps 8</code> sweeps one, and the next report shows it here.</em></p>")
    try:
        return read_frontier(frontier_dir), ""
    except (OSError, ValueError, KeyError) as e:
        return None, (f"<p><em>The budget frontier recorded for these campaign files "
                      f"({html.escape(Path(frontier_dir).name)}) cannot be read "
                      f"({html.escape(type(e).__name__)}): the report is shown without it.</em></p>")


def budget_advice(campaign, frontier: pd.DataFrame) -> tuple[float | None, float | None] | None:
    """(recommended budget, what one more 10 % of the campaign budget earns) from a budget
    frontier: the profit curve read linearly between its points, None where the frontier does
    not reach (None for both: no point with a plan)."""
    t = frontier.dropna(subset=["expected_profit"]).sort_values("budget")
    if t.empty:
        return None
    recommended = frontier.attrs.get("recommended_budget")
    budget = float(campaign.config.budget)
    b, p = t["budget"].to_numpy(float), t["expected_profit"].to_numpy(float)
    more = None
    if len(t) > 1 and b[0] <= budget and 1.1 * budget <= b[-1]:
        more = float(np.interp(1.1 * budget, b, p) - np.interp(budget, b, p))
    return (None if recommended is None else float(recommended)), more


def frontier_note(campaign, frontier: pd.DataFrame) -> str:
    """What the frontier says, in words: the recommended budget, and what one more unit
    of currency earns at the campaign budget (between the two points around it)."""
    cur, budget = campaign.config.currency, float(campaign.config.budget)
    hurdle = float(frontier.attrs.get("hurdle", 0.0) or 0.0)
    recommended = frontier.attrs.get("recommended_budget")
    t = frontier.dropna(subset=["expected_profit"]).sort_values("budget").reset_index(drop=True)
    parts = []
    if recommended is not None:
        parts.append(f"<strong>Recommended budget: {_money_html(float(recommended), cur)}</strong> — past it one "
                     f"more unit of budget earns no more than the hurdle of {hurdle:g} "
                     f"(campaign.toml [frontier] hurdle).")
    above = t[t["budget"] >= budget]
    if len(above) and len(t) > 1 and above.index[0] > 0:
        i = above.index[0]
        a, b = t.loc[i - 1], t.loc[i]
        parts.append(f"At the campaign budget of {_money_html(budget, cur)}, one more unit earns "
                     f"{float(b['marginal_profit_per_budget']):,.2f} of expected profit "
                     f"(between the points at {_money_html(float(a['budget']), cur)} and {_money_html(float(b['budget']), cur)}).")
    if frontier.attrs.get("run_dir"):  # the run's name: where it is depends on who reads the report
        parts.append(f"From the frontier run <code>{html.escape(Path(str(frontier.attrs['run_dir'])).name)}</code>.")
    return "<p>" + " ".join(parts) + "</p>"


def change_cause(before: RunSummary, after: RunSummary, currency: str = "") -> str:
    """What differs between two runs' settings (budget, with ``currency`` when given;
    lead-time delays)."""
    unit = f" {currency}" if currency else ""
    causes = []
    if before.budget != after.budget:
        causes.append(f"budget {before.budget or 0:,.0f}{unit} → {after.budget or 0:,.0f}{unit}")
    da = (before.overrides or Overrides()).delays
    db = (after.overrides or Overrides()).delays
    if da != db:
        modes = sorted(set(da) | set(db))
        causes.append("lead-time delays " + ", ".join(
            f"{m} {int(da.get(m, 0)):+d} → {int(db.get(m, 0)):+d} days" for m in modes
            if da.get(m, 0) != db.get(m, 0)))
    return "; ".join(causes) or "same budget and lead times: the campaign files or the solve differ"


# ---------------------------------------------------------------- the action list


def orders_due(inst: Instance, ev: PlanEvaluation, windows=WINDOWS) -> pd.DataFrame:
    """Purchase orders by PO date: one row per (PO date, supplier) — one purchase order
    (SPEC §6) — with the window it falls in (days from the planning date), the earliest
    ship-by date of its lines, lines, units and value at unit cost (campaign currency)."""
    cols = ["window", "po_date", "supplier", "supplier_name", "ship_by", "lines", "units", "value"]
    if ev.lines.empty:
        return pd.DataFrame(columns=cols)
    lines = ev.lines.merge(inst.skus[["supplier", "unit_cost"]], left_on="sku", right_index=True)
    lines["value"] = lines["units"] * lines["unit_cost"]
    g = lines.groupby(["po_date", "supplier"], as_index=False).agg(
        ship_by=("ship_by", "min"), lines=("sku", "size"), units=("units", "sum"), value=("value", "sum"))
    names = inst.suppliers["name"] if "name" in inst.suppliers else pd.Series(dtype=str)
    g["supplier_name"] = g["supplier"].map(names).fillna("")
    g["window"] = [window_label(inst.planning_date, d, windows) for d in g["po_date"]]
    return g.sort_values(["po_date", "supplier"]).reset_index(drop=True)[cols]


def window_label(start: dt.date, day: dt.date, windows=WINDOWS) -> str:
    """'within 7 days', '8–14 days', '15–30 days' or 'later' (days after ``start``)."""
    days = (day - start).days
    lower = 0
    for w in windows:
        if days <= w:
            return f"within {w} days" if lower == 0 else f"{lower + 1}–{w} days"
        lower = w
    return f"after {windows[-1]} days"


def action_list_html(inst: Instance, ev: PlanEvaluation, windows=WINDOWS,
                     rows_per_window: int = ROWS_PER_WINDOW) -> str:
    """The action list: per window its total, then its first ``rows_per_window`` orders
    (supplier, PO date, ship-by, units, value), earliest first, and a count of the rest;
    orders due after the last window are only counted."""
    cur = inst.campaign.config.currency
    due = orders_due(inst, ev, windows)
    if due.empty:
        return "<p><em>The plan orders nothing.</em></p>"
    start = inst.planning_date
    parts = [f"<p>Days counted from the planning date, {start}, the day orders are placed. "
             f"Value at unit cost; under the total, the freight, duty and shipments the plan pays "
             f"besides, adding up to the spend. The full order lines are in <code>plan.csv</code> and "
             f"<code>purchase_orders.xlsx</code>, every payment by date in <code>cash.csv</code>.</p>"]
    rows = []
    for window, g in due.groupby("window", sort=False):
        rows.append(f'<tr class="window"><th colspan="4">{html.escape(window)}: {g["supplier"].nunique()} '
                    f'suppliers, {len(g)} orders</th><th>{int(g["units"].sum()):,}</th>'
                    f'<th>{_money_html(float(g["value"].sum()), cur)}</th></tr>')
        listed = g.head(0) if window.startswith("after") else g.head(rows_per_window)
        for r in listed.itertuples(index=False):
            who = html.escape(r.supplier) + (f" — {html.escape(r.supplier_name)}" if r.supplier_name else "")
            rows.append(f"<tr><td>{r.po_date}</td><td>{who}</td><td>{r.ship_by}</td>"
                        f"<td>{r.lines:,}</td><td>{int(r.units):,}</td><td>{_money_html(r.value, cur)}</td></tr>")
        rest = g.iloc[len(listed):]
        if len(rest):
            more = "more " if len(listed) else ""
            rows.append(f'<tr class="more"><td colspan="4">… {len(rest)} {more}orders in this window, '
                        f'{rest["po_date"].min()} – {rest["po_date"].max()} (every one in '
                        f'purchase_orders.xlsx)</td><td>{int(rest["units"].sum()):,}</td>'
                        f'<td>{_money_html(float(rest["value"].sum()), cur)}</td></tr>')
    cents, spend = spend_cents(ev)
    rows.append(f'<tr class="window"><th colspan="4">Total: {due["supplier"].nunique()} suppliers, '
                f'{len(due)} orders</th><th>{int(due["units"].sum()):,}</th>'
                f'<th>{html.escape(_cents(cents["purchase"], cur))}</th></tr>')
    for kind in ("freight", "duty", "shipments"):
        rows.append(f'<tr class="spend-part"><td colspan="4">+ {SPEND_PART_LABELS[kind]} '
                    f'({SPEND_PART_NOTES[kind]})</td><td></td><td>{html.escape(_cents(cents[kind], cur))}</td></tr>')
    rows.append(f'<tr class="window spend"><th colspan="4">= spend (the Spend card)</th><th></th>'
                f'<th>{html.escape(_cents(spend, cur))}</th></tr>')
    head = ("<tr><th>PO date</th><th>supplier</th><th>ship by</th><th>lines</th><th>units</th>"
            f"<th>value ({html.escape(cur)})</th></tr>")
    style = ("<style>.actions td,.actions th{padding:3px 10px;text-align:right}"
             ".actions td:nth-child(2),.actions thead th:nth-child(2){text-align:left}"
             ".actions tr.more td{color:#57606a;font-style:italic}.actions tr.more td:first-child{text-align:left}"
             ".actions tr.window th{background:#eef2f7;"
             "text-align:left}.actions tr.window th:nth-last-child(-n+2){text-align:right}"
             ".actions tr.spend-part td:first-child{text-align:left;color:#57606a}"
             ".actions td:last-child,.actions th:last-child{white-space:nowrap}</style>")
    parts.append(style + f'<table class="actions report-table"><thead>{head}</thead><tbody>'
                 + "".join(rows) + "</tbody></table>")
    return "".join(parts)


__all__ = ["SPEND_PART_LABELS", "WINDOWS", "action_list_html", "spend_cents", "change_cause", "frontier_note", "orders_due", "previous_summary", "summary_cards",
           "window_label"]
