"""The explorer's widgets: a campaign picker, a budget slider and one delay slider per mode,
above the status line, a strip of KPI cards and a chart.

``show_explorer(Explorer("../data/tiny"), campaigns_root="../data")`` (in
``notebooks/explore.ipynb``) displays

* the campaign picker: the campaign folders :func:`~optimizer.workflows.explorer.find_campaigns`
  finds under ``campaigns_root`` and the current folder; picking one builds a new
  explorer for it (new sliders, new model) and cancels the old one's request;
* the budget slider and, stacked under it, one delay slider per transport mode;
* the answer: a status line ("solving… 2 s" while a what-if is worked on, then how it was
  answered), one line of small KPI cards (greyed out while they are stale) and a line of
  how it was solved — one HTML widget, drawn from one answer in one update, so the status
  line and the KPIs never disagree;
* the allocation chart;
* for a campaign with ``[recourse]`` (SPEC §8), under the chart, a recourse-date slider and
  a button that plans in two stages at the sliders' budget and delays
  (:mod:`optimizer.report.recourse_panel`).

A slider change calls :meth:`~optimizer.workflows.explorer.Explorer.request`, which
returns at once: the kernel stays free, the first answer (capped at a few seconds)
and then the refined plan are drawn from the explorer's worker thread, each replacing
the last in place.  The solving is :class:`~optimizer.workflows.explorer.Explorer`'s.

The chart is sent as plotly's own mime bundle — the figure's JSON, which JupyterLab
draws with plotly's extension, and its HTML for nbconvert and the classic notebook
(plotly.js is put in the page once, by ``plotly.offline.init_notebook_mode``).
"""

from __future__ import annotations

import functools
import html
import json
import threading
import time
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from optimizer.io.errors import InputError
from optimizer.report.figures import allocation_by_warehouse_figure, mode_colour, mode_order
from optimizer.report.recourse_panel import TwoStageBox
from optimizer.report.tables import kpi_table
from optimizer.workflows.explorer import BUDGET_RANGE, DELAY_RANGE, Explorer, WhatIf, find_campaigns
from optimizer.workflows.recourse_explorer import RecourseExplorer

CHART_HEIGHT_PX = 380
TICK_S = 0.5  # how often the "solving… N s" line is refreshed
STYLE = ("<style>.pso-stale{opacity:.4;filter:grayscale(1);transition:opacity .2s}"
         ".pso-problem{white-space:pre-wrap;color:#a40000;margin:.3em 0}"
         ".pso-status,.pso-two-stage-status{margin:.3em 0 .4em;font-size:13px}"
         ".pso-strip{display:flex;flex-wrap:wrap;gap:6px;margin:0 0 .3em}"
         ".pso-card{border:1px solid #d0d7de;border-radius:6px;padding:2px 10px;background:#f8fafc;line-height:1.3}"
         ".pso-card-name{display:block;font-size:10.5px;color:#57606a;text-transform:uppercase;"
         "letter-spacing:.03em;white-space:nowrap}"
         ".pso-card-value{display:block;font-size:14px;font-weight:600;color:#1f2328;white-space:nowrap}"
         ".pso-facts{font-size:12px;color:#57606a}</style>")
# The KPI cards of the strip: (row of what_if_kpis, the card's label).
STRIP = (("Expected profit", "expected profit"), ("Budget", "budget"), ("Spend", "spend"),
         ("Budget used", "budget used"), ("Expected fill rate", "fill rate"),
         ("Expected leftover value (at cost incl. duty)", "leftover value"), ("Gap to the bound", "gap"))
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
        return f"refined within {(w.run_limit_s or w.time_limit_s):g} s, persistent re-solve (warm start){kept}"
    return how


def kpi_strip_html(table: pd.DataFrame, *, stale: bool = False) -> str:
    """The KPI cards of :data:`STRIP` found in ``table`` (:func:`what_if_kpis`): one line of small
    cards (wrapping on a narrow page)."""
    values = dict(zip(table["KPI"], table["value"]))
    cards = "".join(
        f'<div class="pso-card" data-kpi="{html.escape(name)}"><span class="pso-card-name">{html.escape(label)}'
        f'</span><span class="pso-card-value">{html.escape(str(values[name]))}</span></div>'
        for name, label in STRIP if name in values)
    return f'<div class="pso-kpis{" pso-stale" if stale else ""}"><div class="pso-strip">{cards}</div></div>'


def answer_html(explorer: Explorer, w: WhatIf | None, status: str, *, stale: bool = False,
                problem: str | None = None) -> str:
    """The status line, the KPI strip and how it was solved, all of answer ``w`` (None: none yet)."""
    parts = [f'<div class="pso-status">{html.escape(status)}</div>']
    problem = problem or (w.problem if w is not None else None)
    if problem:
        parts.append(f'<div class="pso-problem">{html.escape(problem)}</div>')
    if w is None:
        parts.append(f'<div class="pso-kpis{" pso-stale" if stale else ""}"></div>')
        return "".join(parts)
    table = what_if_kpis(explorer, w)
    parts.append(kpi_strip_html(table, stale=stale))
    facts = dict(zip(table["KPI"], table["value"]))
    parts.append(f'<div class="pso-facts">{html.escape(explorer.campaign.config.name)} · '
                 f'delays (days): {html.escape(facts["Delays (days)"])} · {html.escape(facts["Solved by"])} · '
                 f'{facts["Seconds"]} s</div>')
    return "".join(parts)


def campaign_label(folder: str | Path) -> str:
    """A campaign folder as the picker lists it: the path, then the campaign's name."""
    try:
        name = tomllib.loads((Path(folder) / "campaign.toml").read_text(encoding="utf-8")).get("name")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        name = None
    return f"{folder} · {name}" if isinstance(name, str) and name.strip() else str(folder)


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
    """The allocation chart of an answer, sized for the panel, each mode in its colour of the
    report (:func:`~optimizer.report.figures.mode_colour`), the modes in one order and the
    warehouses in the same order from one answer to the next."""
    fig = allocation_by_warehouse_figure(w.evaluation)
    order = mode_order(modes)
    for trace in fig.data:
        trace.marker.color = mode_colour(trace.name)
        trace.legendrank = order.index(trace.name) if trace.name in order else 1000
    return fig.update_layout(height=CHART_HEIGHT_PX, autosize=True, margin=dict(l=60, r=20, t=50, b=40),
                             xaxis_categoryorder="category ascending")


class ExplorerPanel:
    """The widgets of :func:`show_explorer` and the drawing of the explorer's answers.

    ``campaigns``: the campaign folders the picker offers (the explorer's own is always
    among them).  ``explorer`` is the explorer of the campaign on screen.
    """

    def __init__(self, explorer: Explorer, campaigns: Iterable[str | Path] = ()):
        import ipywidgets as widgets

        self._widgets = widgets
        self.explorer = explorer
        options = [(campaign_label(c), str(c)) for c in campaigns]
        here = Path(explorer.campaign.root).resolve()
        current = next((value for _, value in options if Path(value).resolve() == here), None)
        if current is None:
            current = str(explorer.campaign.root)
            options.insert(0, (campaign_label(current), current))
        self.picker = widgets.Dropdown(options=options, value=current, description="campaign",
                                       style=SLIDER_STYLE, layout=widgets.Layout(width="640px"))
        self.picker.add_class("pso-campaign")
        self.sliders = widgets.VBox()
        self.answer = widgets.HTML()
        self.answer.add_class("pso-answer")
        self.chart = widgets.Output(layout=widgets.Layout(width="100%", min_height=f"{CHART_HEIGHT_PX}px"))
        self.chart.add_class("pso-chart")
        self.two_stage_area = widgets.VBox()  # the two-stage box of a campaign with [recourse]
        self.box = widgets.VBox([widgets.HTML(STYLE), self.picker, self.sliders, self.answer, self.chart,
                                 self.two_stage_area])
        self._lock = threading.Lock()  # one drawing at a time; guards the fields below
        self._number = 0               # the request whose answers are drawn
        self._asked = self._since = time.perf_counter()  # when the newest request was made / its stage began
        self._phase: str | None = "first answer"  # what the newest request waits for; None: nothing
        self._cap = explorer.first_answer_s  # the time cap of what is being solved
        self._shown: WhatIf | None = None  # the answer on screen
        self._shown_after = 0.0        # its seconds after the change it answers
        self._stale = False            # the answer on screen is not the newest request's
        self._problem: str | None = None  # a campaign that could not be loaded
        self._first = threading.Event()  # the newest request has an answer on screen
        self._use(explorer)
        self.picker.observe(self._picked, names="value")
        with self._lock:
            self._phase = None
            self._draw("starting…")
        threading.Thread(target=self._tick, daemon=True, name="explorer status").start()

    def _use(self, explorer: Explorer) -> None:
        """Sliders for ``explorer``'s campaign (replacing any earlier campaign's)."""
        widgets = self._widgets
        old = [getattr(self, "budget", None), *getattr(self, "delay", {}).values()]
        budget0 = float(explorer.campaign.config.budget)
        budget = widgets.FloatSlider(
            value=budget0, min=BUDGET_RANGE[0] * budget0, max=explorer.max_budget, step=budget0 / 100,
            description="budget", continuous_update=False, readout_format=",.0f", style=SLIDER_STYLE,
            layout=widgets.Layout(width="640px"))
        budget.add_class("pso-budget")
        delay = {m: widgets.IntSlider(value=0, min=DELAY_RANGE[0], max=DELAY_RANGE[1], description=m,
                                      continuous_update=False, style=SLIDER_STYLE,
                                      layout=widgets.Layout(width="480px"))
                 for m in explorer.modes}
        delays = widgets.VBox(list(delay.values()))
        delays.add_class("pso-delays")
        old_two_stage = getattr(self, "two_stage", None)
        two_stage = None
        if explorer.campaign.config.recourse is not None:
            two_stage = TwoStageBox(RecourseExplorer(explorer.campaign, time_limit_s=explorer.time_limit_s),
                                    self._inputs)
        with self._lock:
            self.explorer, self.budget, self.delay, self.two_stage = explorer, budget, delay, two_stage
        self.sliders.children = [
            budget, widgets.HTML("<b>Delays</b> — extra transit days for every lane of a mode (rebuilds the model)"),
            delays]
        self.two_stage_area.children = [] if two_stage is None else [two_stage.box]
        if old_two_stage is not None:
            old_two_stage.cancel()
        for s in (budget, *delay.values()):
            s.observe(self.changed, names="value")
        for s in old:
            if s is not None:
                s.close()

    def _inputs(self) -> tuple[float, dict]:
        """The sliders' budget and delays."""
        return self.budget.value, {m: s.value for m, s in self.delay.items()}

    # ------------------------------------------------------------------ events
    def changed(self, change=None) -> None:
        """A slider moved (``change``; None: the first what-if of a campaign): grey out the
        KPIs and ask the explorer (returns at once)."""
        with self._lock:
            explorer = self.explorer
            if change is not None:  # a slider move answers for the campaign on screen: no load problem
                self._problem = None
            self._stale = True
            self.chart.add_class("pso-stale")
            self._first.clear()
            self._asked = self._since = time.perf_counter()
            self._phase = "first answer"
            self._cap = explorer.first_answer_s
            self._number = explorer.request(self.budget.value, {m: s.value for m, s in self.delay.items()},
                                            functools.partial(self._answered, explorer))
            self._draw()

    def _picked(self, change) -> None:
        """A campaign was picked: a new explorer (and sliders) for it, and its first what-if."""
        folder, old = change["new"], self.explorer
        if Path(folder).resolve() == Path(old.campaign.root).resolve():
            return
        old.cancel()
        with self._lock:
            self._number, self._phase, self._stale, self._problem = 0, None, True, None
            self._draw(f"loading {folder}…")
        try:
            explorer = Explorer(folder, time_limit_s=old.time_limit_s, first_answer_s=old.first_answer_s)
        except (InputError, OSError) as exc:  # the old campaign stays, asked again
            with self._lock:
                self._problem = f"{folder} could not be loaded, so {old.campaign.config.name} stays:\n{exc}"
            self.picker.value = change["old"]
            self.changed()
            return
        with self._lock:
            self._shown = None
        self._use(explorer)
        self.changed()

    def wait_for_answer(self, timeout: float | None = None) -> bool:
        """Wait until the newest request has an answer on screen."""
        return self._first.wait(timeout)

    def _answered(self, explorer: Explorer, w: WhatIf) -> None:
        """Draw an answer (the explorer's worker thread calls this) if it is the newest request's."""
        with self._lock:
            if explorer is not self.explorer or w.request != self._number:
                return
            self.chart.remove_class("pso-stale")
            if not w.kept_first:  # (a refinement that kept the first answer's plan keeps its chart)
                self.chart.outputs = (() if w.evaluation is None else
                                      ({"output_type": "display_data", "data": figure_bundle(allocation_chart(w, self.explorer.modes)),
                                        "metadata": {}},))
            self._shown, self._shown_after, self._stale = w, time.perf_counter() - self._asked, False
            self._since, self._phase, self._cap = time.perf_counter(), (None if w.final else "refined plan"), w.run_limit_s
            self._draw()
            self._first.set()

    # ------------------------------------------------------------------ the answer
    def _tick(self) -> None:
        while True:
            time.sleep(TICK_S)
            with self._lock:
                if self._phase is not None:
                    self._draw()
                two_stage = self.two_stage
            if two_stage is not None:
                two_stage.tick()

    def _draw(self, note: str | None = None) -> None:
        """The status line and the KPIs (under the lock), both of the answer on screen, in one update."""
        w = self._shown
        text = note if note is not None else ("" if w is None or self._stale and self._phase == "first answer"
                                              else _answer_line(w, self._shown_after))
        if self._phase is not None:
            seconds = time.perf_counter() - self._since
            working = f"solving… {seconds:.0f} s (the {self._phase}, within {self._cap:g} s)"
            text = f"{text}; {working}" if text else working
        value = answer_html(self.explorer, w, text, stale=self._stale, problem=self._problem)
        if self.answer.value != value:
            self.answer.value = value


def _answer_line(w: WhatIf, since_change_s: float) -> str:
    """One line saying what the answer on screen is, ``since_change_s`` after the slider moved."""
    if w.result is None or not w.result.has_plan:
        return f"{w.status}: no plan (see below)"
    gap = "" if w.result.gap is None else f", gap {w.result.gap:.2%}"
    what = {"first answer": "first answer", "refined": "refined plan"}.get(w.stage, "plan")
    kept = " (the first answer's plan stands)" if w.kept_first else ""
    return (f"{what} {since_change_s:.1f} s after the change: {w.status}{gap}, "
            f"expected profit {w.evaluation.expected_profit:,.2f}{kept}")


def show_explorer(explorer: Explorer, *, wait: bool = True, campaigns_root: str | Path | None = None) -> ExplorerPanel:
    """Display the campaign picker, sliders, status, KPIs and chart, and ask for the first what-if.

    ``campaigns_root``: the picker lists the campaign folders
    :func:`~optimizer.workflows.explorer.find_campaigns` finds there and in the current
    folder (each with its subfolders, two levels down), and the explorer's own campaign.
    ``wait``: return once the first answer is drawn (a few seconds), so that a notebook
    run top to bottom — papermill included — ends with KPIs on screen; the refinement
    goes on in the background either way.
    """
    from IPython.display import display
    from plotly.offline import init_notebook_mode

    # plotly.js goes into the page once, outside the Output widget, for the chart's HTML
    # (nbconvert, classic notebook); JupyterLab draws the chart's JSON with plotly's extension.
    init_notebook_mode(connected=False)
    roots = [Path(".")] if campaigns_root is None else [Path(campaigns_root), Path(".")]
    panel = ExplorerPanel(explorer, campaigns=find_campaigns(roots))
    display(panel.box)
    panel.changed()
    if wait:
        panel.wait_for_answer(timeout=explorer.first_answer_s + 120)
    return panel


__all__ = ["CHART_HEIGHT_PX", "STRIP", "ExplorerPanel", "allocation_chart", "answer_html", "campaign_label",
           "figure_bundle", "kpi_strip_html", "show_explorer", "solved_by", "what_if_kpis"]
