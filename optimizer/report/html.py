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


def title_html(inst: Instance) -> str:
    """Report heading; the campaign name is untrusted text, so it is escaped."""
    cfg = inst.campaign.config
    return (f"<h1>{html.escape(cfg.name)}</h1>"
            f"<p>Promotion {cfg.promo_start} – {cfg.promo_end}; plan placed on {cfg.planning_date}; "
            f"money in {html.escape(cfg.currency)}.</p>")



def table_html(df: pd.DataFrame, *, caption: str | None = None, float_format="{:,.2f}".format) -> str:
    """``df`` as an HTML table with every cell escaped."""
    if df.empty:
        body = "<p><em>none</em></p>"
    else:
        body = df.to_html(index=False, escape=True, float_format=float_format, na_rep="",
                          classes="report-table", border=0)
    head = f"<h3>{html.escape(caption)}</h3>" if caption else ""
    return head + body



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



def show_table(df: pd.DataFrame, caption: str | None = None) -> None:
    show_html(table_html(df, caption=caption))



def show_figure(fig) -> None:
    show_html(figure_html(fig))


def show_changes(changes: dict | None, previous_run_dir=None) -> None:
    """The diff tables, titled, or a note that there is no earlier run to compare with."""
    if changes is None:
        show_html("<p><em>No earlier successful run of this campaign in the history.</em></p>")
        return
    show_html(f"<p>Compared with run <code>{html.escape(Path(previous_run_dir).name)}</code>.</p>")
    show_table(changes["totals"].fillna(""), "Totals")
    show_table(changes["moved"], "Lines that switched mode or warehouse")
    show_table(changes["quantities"], "Quantity changes per SKU × warehouse × mode")
    show_table(changes["newly_late"], "SKU × warehouse with demand that newly miss the cutoff")
    show_table(changes["lost_routes"], "Routes that made the cutoff before and miss it now")


__all__ = [
    "figure_html",
    "show_changes",
    "show_figure",
    "show_html",
    "show_table",
    "table_html",
    "title_html",
]
