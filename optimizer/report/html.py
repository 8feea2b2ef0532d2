"""HTML for the rendered report: every piece of untrusted text escaped, plotly.js inlined once.

Names in the campaign files (SKU, supplier, campaign) are untrusted: tables are
shown through ``to_html(escape=True)`` and figures through plotly, whose JSON
escapes ``<`` and whose text is rendered as SVG text, never as HTML.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from optimizer.prep.instance import Instance
from optimizer.report.tables import changes_totals


def title_html(inst: Instance) -> str:
    """Report heading; the campaign name is untrusted text, so it is escaped."""
    cfg = inst.campaign.config
    return (f"<h1>{html.escape(cfg.name)}</h1>"
            f"<p>Promotion {cfg.promo_start} – {cfg.promo_end}; plan placed on {cfg.planning_date}; "
            f"money in {html.escape(cfg.currency)}.</p>")



MONEY_WORDS = ("cost", "value", "amount", "profit", "spend", "budget", "price", "revenue",
               "total", "limit", "paid", "headroom", "deposit", "balance", "cash")
RATIO_WORDS = ("rate", "share", "probability", "fractile", "fill")
TOP_ROWS = 25  # rows a long table shows before "show all"
EMBEDDED_ROWS = 1000  # rows a long table carries for its filter; the CSV holds the rest


def present(df: pd.DataFrame, currency: str | None = None) -> pd.DataFrame:
    """``df`` with numbers as text in one house style: whole numbers with thousands
    separators, ratios as percentages, money with two decimals; column names with
    spaces, money columns naming the currency.  Text columns are left as they are."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        values = df[col]
        name = str(col).replace("_", " ")
        lower = name.lower()
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            out[name] = values
            continue
        if any(w in lower for w in RATIO_WORDS) and values.dropna().between(0, 1).all():
            out[name] = values.map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
        elif any(w in lower for w in MONEY_WORDS) and not lower.endswith("units"):
            out[f"{name} ({currency})" if currency else name] = values.map(
                lambda v: "" if pd.isna(v) else f"{v:,.2f}")
        elif pd.api.types.is_integer_dtype(values) or values.dropna().map(float.is_integer).all():
            out[name] = values.map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
        else:
            out[name] = values.map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
    return out


_FILTER = ("(function(box){var t=box.parentNode.querySelector('table');var q=box.value.toLowerCase();"
           "var rows=t.tBodies[0].rows;var shown=0;for(var i=0;i<rows.length;i++){var hit=q&&"
           "rows[i].textContent.toLowerCase().indexOf(q)>=0;var keep=q?hit:i<{top};"
           "rows[i].style.display=keep?'':'none';if(keep)shown++;}"
           "box.nextSibling.textContent=q?' '+shown+' matching rows':'';})(this)")


def table_html(df: pd.DataFrame, *, caption: str | None = None, float_format="{:,.2f}".format,
               currency: str | None = None, top: int | None = None, csv: str | None = None) -> str:
    """``df`` as an HTML table with every cell escaped.

    With ``currency`` the numbers are put in the house style first (:func:`present`).
    A table longer than ``top`` rows shows its first ``top`` with a filter box over the
    first :data:`EMBEDDED_ROWS` rows and a note of the rest; ``csv`` names the file
    (relative to the report) with every row.
    """
    head = f"<h3>{html.escape(caption)}</h3>" if caption else ""
    if df.empty:
        return head + "<p><em>none</em></p>"
    shown = present(df, currency) if currency is not None else df
    long = top is not None and len(df) > top
    body = shown.head(EMBEDDED_ROWS if long else len(shown)).to_html(
        index=False, escape=True, float_format=float_format, na_rep="", classes="report-table", border=0)
    if not long:
        return head + body
    head_part, rows_part = body.split("<tbody>", 1)
    rows = rows_part.split("<tr>")  # rows[0] is the whitespace before the first row
    rows_part = "<tr>".join(rows[:top + 1]) + "".join('<tr style="display:none">' + r for r in rows[top + 1:])
    body = head_part + "<tbody>" + rows_part  # the first ``top`` rows shown, the rest hidden
    note = f"{len(df):,} rows; the first {top} shown"
    if len(df) > EMBEDDED_ROWS:
        note += f", the filter searches the first {EMBEDDED_ROWS:,}"
    if csv:
        note += f'; every row: <a href="{html.escape(csv)}">{html.escape(csv)}</a>'
    search = (f'<div class="table-filter"><input type="search" placeholder="filter rows…" '
              f'oninput="{html.escape(_FILTER.replace("{top}", str(top)))}"><span></span> '
              f'<small>{note}</small>{body}</div>')
    return head + search


def appendix_html(title: str, inner: str) -> str:
    """A collapsed section (``<details>``) for detail a reader opens on demand."""
    return f"<details><summary><strong>{html.escape(title)}</strong></summary>{inner}</details>"



_plotly_js_sent = False



def figure_html(fig) -> str:
    """A plotly figure as HTML that works offline: plotly.js is inlined with the first one."""
    global _plotly_js_sent
    include = not _plotly_js_sent
    _plotly_js_sent = True
    return fig.to_html(full_html=False, include_plotlyjs=include, config={"displaylogo": False})



def show_html(text: str) -> None:
    from IPython.display import HTML, display

    display(HTML(text))



def show_table(df: pd.DataFrame, caption: str | None = None, **options) -> None:
    """Display :func:`table_html` (``currency``, ``top`` and ``csv`` as there)."""
    show_html(table_html(df, caption=caption, **options))



def show_figure(fig) -> None:
    show_html(figure_html(fig))


def changes_html(changes: dict | None, previous_run_dir=None, currency: str | None = None) -> str:
    """The diff tables of :func:`optimizer.evaluate.diff.diff_runs`, long ones top-N with
    a filter, or a note that there is no earlier run."""
    if changes is None:
        return "<p><em>No earlier successful run of this campaign in the history.</em></p>"
    parts = [f"<p>Compared with run <code>{html.escape(Path(previous_run_dir).name)}</code>.</p>",
             table_html(changes_totals(changes["totals"], currency or ""), caption="Totals")]
    for key, caption in (("moved", "Lines that switched mode or warehouse"),
                         ("quantities", "Quantity changes per SKU × warehouse × mode"),
                         ("newly_late", "SKU × warehouse with demand that newly miss the cutoff"),
                         ("lost_routes", "Routes that made the cutoff before and miss it now")):
        parts.append(table_html(changes[key], caption=caption, currency=currency, top=TOP_ROWS))
    return "".join(parts)


__all__ = [
    "appendix_html",
    "changes_html",
    "figure_html",
    "present",
    "show_figure",
    "show_html",
    "show_table",
    "table_html",
    "title_html",
]
