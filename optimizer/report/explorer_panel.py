"""The explorer's widgets: a budget slider and one delay slider per mode, above KPIs and a chart.

``show_explorer(Explorer("data/sample"))`` (in ``notebooks/explore.ipynb``) displays

* the budget slider and, stacked under it, one delay slider per transport mode;
* a status line: "solving… 2 s" while a what-if is worked on, then how it was answered;
* the headline KPIs of the newest answer (greyed out while they are stale) and the
  allocation chart.

A slider change calls :meth:`~optimizer.workflows.explorer.Explorer.request`, which
returns at once: the kernel stays free, the first answer (capped at a few seconds)
and then the refined plan are drawn from the explorer's worker thread, each replacing
the last in place.  The solving is :class:`~optimizer.workflows.explorer.Explorer`'s.

The chart is sent as plotly's own mime bundle — the figure's JSON, which JupyterLab
draws with plotly's extension, and its HTML for nbconvert and the classic notebook
(plotly.js is put in the page once, by ``plotly.offline.init_notebook_mode``).
"""

from __future__ import annotations

import html
import json
import threading
import time

import pandas as pd

from optimizer.report.figures import allocation_by_warehouse_figure
from optimizer.report.html import table_html
from optimizer.report.tables import kpi_table
from optimizer.workflows.explorer import BUDGET_RANGE, DELAY_RANGE, Explorer, WhatIf

CHART_HEIGHT_PX = 380
TICK_S = 0.5  # how often the "solving… N s" line is refreshed
STYLE = ("<style>.pso-stale{opacity:.4;filter:grayscale(1);transition:opacity .2s}"
         ".pso-problem{white-space:pre-wrap;color:#a40000;margin:.3em 0}</style>")
SLIDER_STYLE = {"description_width": "7.5em"}


def what_if_kpis(explorer: Explorer, w: WhatIf) -> pd.DataFrame:
    """Headline KPIs of a what-if, plus how it was solved.

    "Budget" and "Budget used" are against the budget asked for (the slider's), not
    the instance's: the explorer's instance is built for the slider's largest budget.
    """
    inst = w.instance if w.instance is not None else getattr(explorer.planner, "instance", None)
    currency = explorer.campaign.config.currency
    facts = [("Status", w.status), ("Budget", f"{w.budget:,.2f} {currency}"),
             ("Delays (days)", ", ".join(f"{m}: {d:+d}" for m, d in w.delays.items()) or "none"),
             ("Solved by", solved_by(w)), ("Seconds", f"{w.seconds:.2f}")]
    if w.result is not None and w.result.gap is not None:
        facts.append(("Gap to the bound", f"{w.result.gap:.2%}"))
    rows = pd.DataFrame(facts, columns=["KPI", "value"])
    if w.evaluation is None or inst is None:
        return rows
    used = w.evaluation.spend / w.budget if w.budget > 0 else float("nan")
    kpi = []
    for name, value in kpi_table(inst, w.evaluation).itertuples(index=False):
        if name == "Budget used":
            value = f"{used:.1%}"
        if name != "Budget":  # the instance's (the slider's largest): shown above as asked for
            kpi.append((name, value))
    kpi = pd.DataFrame(kpi, columns=["KPI", "value"])
    return pd.concat([rows, kpi], ignore_index=True)


def solved_by(w: WhatIf) -> str:
    """How a what-if was answered, in words."""
    how = ("model built (the first what-if)" if w.first_build else
           "rebuild (delays changed)" if w.rebuilt else "persistent re-solve (warm start)")
    if w.stage == "first answer":
        return f"first answer within {w.time_limit_s:g} s; {how}"
    if w.stage == "refined":
        kept = "; no better plan: the first answer's stands" if w.kept_first else ""
        return f"refined within {w.time_limit_s:g} s, persistent re-solve (warm start){kept}"
    return how


def figure_bundle(fig) -> dict:
    """A plotly figure as the mime bundle plotly's notebook renderer sends: JSON and HTML."""
    import plotly.io as pio

    config = {"displaylogo": False, "responsive": True}
    data = json.loads(pio.to_json(fig, validate=False))
    data["config"] = config
    page = pio.to_html(fig, full_html=False, include_plotlyjs=False, config=config, validate=False,
                       default_width="100%", default_height=f"{fig.layout.height or CHART_HEIGHT_PX}px")
    return {"application/vnd.plotly.v1+json": data, "text/html": page, "text/plain": "(plotly figure)"}


def allocation_chart(w: WhatIf, modes: list[str]):
    """The allocation chart of an answer, sized for the panel, each mode in the same colour and
    the warehouses in the same order from one answer to the next."""
    import plotly.express as px

    fig = allocation_by_warehouse_figure(w.evaluation)
    palette = px.colors.qualitative.Plotly
    colour = {m: palette[i % len(palette)] for i, m in enumerate(modes)}
    for trace in fig.data:
        trace.marker.color = colour.get(trace.name, trace.marker.color)
        trace.legendrank = modes.index(trace.name) if trace.name in modes else 1000
    return fig.update_layout(height=CHART_HEIGHT_PX, autosize=True, margin=dict(l=60, r=20, t=50, b=40),
                             xaxis_categoryorder="category ascending")


class ExplorerPanel:
    """The widgets of :func:`show_explorer` and the drawing of the explorer's answers."""

    def __init__(self, explorer: Explorer):
        import ipywidgets as widgets

        self.explorer = explorer
        budget0 = float(explorer.campaign.config.budget)
        self.budget = widgets.FloatSlider(
            value=budget0, min=BUDGET_RANGE[0] * budget0, max=explorer.max_budget, step=budget0 / 100,
            description="budget", continuous_update=False, readout_format=",.0f", style=SLIDER_STYLE,
            layout=widgets.Layout(width="640px"))
        self.budget.add_class("pso-budget")
        self.delay = {m: widgets.IntSlider(value=0, min=DELAY_RANGE[0], max=DELAY_RANGE[1], description=m,
                                           continuous_update=False, style=SLIDER_STYLE,
                                           layout=widgets.Layout(width="480px"))
                      for m in explorer.modes}
        self.status = widgets.HTML("<i>starting…</i>")
        self.status.add_class("pso-status")
        self.kpis = widgets.HTML(layout=widgets.Layout(width="440px"))
        self.kpis.add_class("pso-kpis")
        self.chart = widgets.Output(layout=widgets.Layout(flex="1 1 480px", min_width="480px",
                                                          min_height=f"{CHART_HEIGHT_PX}px"))
        self.chart.add_class("pso-chart")
        # KPIs beside the chart, the chart below them on a narrow page
        answer = widgets.Box([self.kpis, self.chart], layout=widgets.Layout(
            display="flex", flex_flow="row wrap", align_items="flex-start", width="100%"))
        delays = widgets.VBox(list(self.delay.values()))
        delays.add_class("pso-delays")
        self.box = widgets.VBox([
            self.budget,
            widgets.HTML(STYLE + "<b>Delays</b> — extra transit days for every lane of a mode (rebuilds the model)"),
            delays, self.status, answer])
        self._lock = threading.Lock()  # one drawing at a time; guards the fields below
        self._number = 0               # the request whose answers are drawn
        self._asked = self._since = time.perf_counter()  # when the newest request was made / its stage began
        self._phase: str | None = "first answer"  # what the newest request waits for; None: nothing
        self._line = ""                # what the answer on screen is
        self._cap = explorer.first_answer_s  # the time cap of what is being solved
        self._first = threading.Event()  # the newest request has an answer on screen
        for s in (self.budget, *self.delay.values()):
            s.observe(self.changed, names="value")
        threading.Thread(target=self._tick, daemon=True, name="explorer status").start()

    # ------------------------------------------------------------------ events
    def changed(self, _=None) -> None:
        """A slider moved: grey out the KPIs and ask the explorer (returns at once)."""
        with self._lock:
            self.kpis.add_class("pso-stale")
            self.chart.add_class("pso-stale")
            self._first.clear()
            self._asked = self._since = time.perf_counter()
            self._phase, self._line = "first answer", ""
            self._cap = self.explorer.first_answer_s
            self._show_status()
            self._number = self.explorer.request(self.budget.value, {m: s.value for m, s in self.delay.items()},
                                                 self._answered)

    def wait_for_answer(self, timeout: float | None = None) -> bool:
        """Wait until the newest request has an answer on screen."""
        return self._first.wait(timeout)

    def _answered(self, w: WhatIf) -> None:
        """Draw an answer (the explorer's worker thread calls this) if it is the newest request's."""
        with self._lock:
            if w.request != self._number:
                return
            self.kpis.value = self._kpi_html(w)
            self.kpis.remove_class("pso-stale")
            self.chart.remove_class("pso-stale")
            if not w.kept_first:  # (a refinement that kept the first answer's plan keeps its chart)
                self.chart.outputs = (() if w.evaluation is None else
                                      ({"output_type": "display_data", "data": figure_bundle(allocation_chart(w, self.explorer.modes)),
                                        "metadata": {}},))
            self._line = _answer_line(w, time.perf_counter() - self._asked)
            self._since, self._phase, self._cap = time.perf_counter(), (None if w.final else "refined plan"), w.run_limit_s
            self._show_status()
            self._first.set()

    def _kpi_html(self, w: WhatIf) -> str:
        parts = []
        if w.problem:
            parts.append(f'<div class="pso-problem">{html.escape(w.problem)}</div>')
        parts.append(table_html(what_if_kpis(self.explorer, w)))
        return "".join(parts)

    # ------------------------------------------------------------------ status line
    def _tick(self) -> None:
        while True:
            time.sleep(TICK_S)
            with self._lock:
                if self._phase is not None:
                    self._show_status()

    def _show_status(self) -> None:
        """The status line (under the lock): the last answer, and the seconds spent on the next."""
        text = self._line
        if self._phase is not None:
            seconds = time.perf_counter() - self._since
            working = f"solving… {seconds:.0f} s (the {self._phase}, within {self._cap:g} s)"
            text = f"{text}; {working}" if text else working
        value = html.escape(text)
        if self.status.value != value:
            self.status.value = value


def _answer_line(w: WhatIf, since_change_s: float) -> str:
    """One line saying what the answer on screen is, ``since_change_s`` after the slider moved."""
    if w.result is None or not w.result.has_plan:
        return f"{w.status}: no plan (see below)"
    gap = "" if w.result.gap is None else f", gap {w.result.gap:.2%}"
    what = {"first answer": "first answer", "refined": "refined plan"}.get(w.stage, "plan")
    kept = " (the first answer's plan stands)" if w.kept_first else ""
    return (f"{what} {since_change_s:.1f} s after the change: {w.status}{gap}, "
            f"expected profit {w.evaluation.expected_profit:,.2f}{kept}")


def show_explorer(explorer: Explorer, *, wait: bool = True) -> ExplorerPanel:
    """Display the sliders, status, KPIs and chart, and ask for the first what-if.

    ``wait``: return once the first answer is drawn (a few seconds), so that a notebook
    run top to bottom — papermill included — ends with KPIs on screen; the refinement
    goes on in the background either way.
    """
    from IPython.display import display
    from plotly.offline import init_notebook_mode

    # plotly.js goes into the page once, outside the Output widget, for the chart's HTML
    # (nbconvert, classic notebook); JupyterLab draws the chart's JSON with plotly's extension.
    init_notebook_mode(connected=False)
    panel = ExplorerPanel(explorer)
    display(panel.box)
    panel.changed()
    if wait:
        panel.wait_for_answer(timeout=explorer.first_answer_s + 120)
    return panel


__all__ = ["CHART_HEIGHT_PX", "ExplorerPanel", "allocation_chart", "figure_bundle", "show_explorer",
           "solved_by", "what_if_kpis"]
