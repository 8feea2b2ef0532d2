"""The explorer's widgets: a budget slider and one delay slider per mode, above KPIs and a chart.

``show_explorer(Explorer("data/sample"))`` (in ``notebooks/explore.ipynb``) displays
the sliders and an output area redrawn after every change with the headline KPIs,
how the what-if was solved, and the allocation chart.  The solving is
:class:`~optimizer.workflows.explorer.Explorer`'s.
"""

from __future__ import annotations

import pandas as pd

from optimizer.report.figures import allocation_by_warehouse_figure
from optimizer.report.html import show_html, show_table
from optimizer.report.tables import kpi_table
from optimizer.workflows.explorer import BUDGET_RANGE, DELAY_RANGE, Explorer, WhatIf


def what_if_kpis(explorer: Explorer, w: WhatIf) -> pd.DataFrame:
    """Headline KPIs of a what-if, plus how it was solved."""
    facts = [("Status", w.status), ("Budget", f"{w.budget:,.2f}"),
             ("Delays (days)", ", ".join(f"{m}: {d:+d}" for m, d in w.delays.items()) or "none"),
             ("Solved by", "rebuild (delays changed)" if w.rebuilt else "persistent re-solve (warm start)"),
             ("Seconds", f"{w.seconds:.2f}")]
    rows = pd.DataFrame(facts, columns=["KPI", "value"])
    if w.evaluation is None:
        return rows
    kpi = kpi_table(explorer.planner.instance, w.evaluation)
    kpi = kpi[kpi["KPI"] != "Budget"]  # the instance's budget is the campaign's, not the slider's
    return pd.concat([rows, kpi], ignore_index=True)


def show_explorer(explorer: Explorer):
    """Display the sliders and an output area redrawn after each change; returns the widget box."""
    import ipywidgets as widgets
    from IPython.display import display
    from plotly.offline import get_plotlyjs

    budget0 = float(explorer.campaign.config.budget)
    budget = widgets.FloatSlider(value=budget0, min=BUDGET_RANGE[0] * budget0, max=explorer.max_budget,
                                 step=budget0 / 100, description="budget", continuous_update=False,
                                 readout_format=",.0f", layout=widgets.Layout(width="600px"))
    delay = {m: widgets.IntSlider(value=0, min=DELAY_RANGE[0], max=DELAY_RANGE[1], description=m,
                                  continuous_update=False) for m in explorer.modes}
    out = widgets.Output()

    def redraw(_=None):
        w = explorer.solve(budget.value, {m: s.value for m, s in delay.items()})
        out.clear_output()  # (wait=True hangs the kernel under papermill/nbclient)
        with out:
            show_table(what_if_kpis(explorer, w))
            if w.evaluation is not None:
                fig = allocation_by_warehouse_figure(w.evaluation)
                show_html(fig.to_html(full_html=False, include_plotlyjs=False))

    for s in (budget, *delay.values()):
        s.observe(redraw, names="value")
    box = widgets.VBox([budget, widgets.HBox(list(delay.values())), out])
    # plotly.js goes out once, outside the Output widget: inlined in every redraw it
    # makes each widget message megabytes long (nbclient then stalls on them).
    show_html(f'<script type="text/javascript">{get_plotlyjs()}</script>')
    display(box)
    redraw()
    return box


__all__ = ["show_explorer", "what_if_kpis"]
