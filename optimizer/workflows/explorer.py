"""Interactive what-if explorer: budget and per-mode delay sliders that re-solve in place.

``Explorer(campaign_dir).show()`` (in ``notebooks/explore.ipynb``) displays one
budget slider and one delay slider per transport mode above an output area that
is redrawn after every change with the headline KPIs, the allocation chart and
the solver's status.

How each change is solved:

* **budget** — no rebuild: the persistent :class:`~optimizer.solve.pipeline.PlanSolver`
  changes the mutable budget Param and re-solves the loaded HiGHS model, warm-
  started from the last plan.  The instance is built with the slider's **largest**
  budget so its per-route unit bounds hold for every budget the slider offers
  (see :mod:`optimizer.workflows.frontier`).
* **delays** — **rebuild**: only routes meeting the cutoff get variables, so a
  delay can add or remove variables (and it moves every order-by / ship-by date);
  the instance, model and solver are rebuilt for the new delays and solved cold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from optimizer.evaluate.plan import evaluate_plan
from optimizer.io.campaign import Campaign, load_campaign
from optimizer.model import build_model
from optimizer.prep.instance import Overrides, build_instance
from optimizer.solve.diagnose import check_service_reachable
from optimizer.solve.pipeline import PlanSolver

BUDGET_RANGE = (0.2, 1.5)  # slider span, shares of the campaign budget
DELAY_RANGE = (-10, 30)    # days


@dataclass
class WhatIf:
    """One explorer solve: the plan's evaluation and how it was obtained."""

    budget: float
    delays: dict
    evaluation: object  # PlanEvaluation, or None when the solver found no plan
    status: str
    bound: float | None
    seconds: float
    rebuilt: bool


class Explorer:
    """Re-solves a campaign for slider values (budget: persistent re-solve; delays: rebuild)."""

    def __init__(self, campaign: Campaign | str, *, time_limit_s: float | None = None):
        self.campaign = campaign if isinstance(campaign, Campaign) else load_campaign(campaign)
        cfg = self.campaign.config
        self.time_limit_s = time_limit_s or cfg.solver.time_limit_s
        self.max_budget = BUDGET_RANGE[1] * cfg.budget
        self.modes = sorted(set(self.campaign.lanes["mode"]))
        self.delays: dict | None = None  # delays of the loaded model
        self.inst = self.solver = None
        self.last: WhatIf | None = None

    def _rebuild(self, delays: dict) -> None:
        self.inst = build_instance(self.campaign, Overrides(budget=self.max_budget, delays=delays))
        check_service_reachable(self.inst)
        s = self.campaign.config.solver
        self.solver = PlanSolver(build_model(self.inst), self.inst, mip_gap=s.mip_gap,
                                 time_limit_s=self.time_limit_s, threads=s.threads,
                                 progress=lambda msg: None)
        self.delays = dict(delays)

    def solve(self, budget: float, delays: dict | None = None) -> WhatIf:
        """Plan for ``budget`` (≤ the slider maximum) and ``delays``; rebuilds only on a delay change."""
        delays = {m: int(d) for m, d in (delays or {}).items() if d}
        if budget > self.max_budget * (1 + 1e-9):
            raise ValueError(f"budget {budget:,.2f} is above the explorer's maximum {self.max_budget:,.2f}")
        t0 = time.perf_counter()
        rebuilt = delays != self.delays
        if rebuilt:
            self._rebuild(delays)
        self.solver.set_budget(budget)
        out = self.solver.solve()
        ev = evaluate_plan(self.inst, out.route_units) if out.has_plan else None
        self.last = WhatIf(budget, delays, ev, out.status, out.bound,
                           time.perf_counter() - t0, rebuilt)
        return self.last

    def kpis(self, w: WhatIf) -> pd.DataFrame:
        """Headline KPIs of a what-if, plus how it was solved."""
        from optimizer.report import tables as report

        facts = [("Status", w.status), ("Budget", f"{w.budget:,.2f}"),
                 ("Delays (days)", ", ".join(f"{m}: {d:+d}" for m, d in w.delays.items()) or "none"),
                 ("Solved by", "rebuild (delays changed)" if w.rebuilt else "persistent re-solve (warm start)"),
                 ("Seconds", f"{w.seconds:.2f}")]
        rows = pd.DataFrame(facts, columns=["KPI", "value"])
        if w.evaluation is None:
            return rows
        kpi = report.kpi_table(self.inst, w.evaluation)
        kpi = kpi[kpi["KPI"] != "Budget"]  # the instance budget is the slider maximum
        return pd.concat([rows, kpi], ignore_index=True)

    def show(self):
        """Display the sliders and an output area redrawn after each change; returns the widget box."""
        import ipywidgets as widgets
        from IPython.display import display

        from optimizer.report import tables as report

        budget0 = float(self.campaign.config.budget)
        budget = widgets.FloatSlider(value=budget0, min=BUDGET_RANGE[0] * budget0, max=self.max_budget,
                                     step=budget0 / 100, description="budget", continuous_update=False,
                                     readout_format=",.0f", layout=widgets.Layout(width="600px"))
        delay = {m: widgets.IntSlider(value=0, min=DELAY_RANGE[0], max=DELAY_RANGE[1], description=m,
                                      continuous_update=False) for m in self.modes}
        out = widgets.Output()

        def redraw(_=None):
            w = self.solve(budget.value, {m: s.value for m, s in delay.items()})
            out.clear_output()  # (wait=True hangs the kernel under papermill/nbclient)
            with out:
                report.show_table(self.kpis(w))
                if w.evaluation is not None:
                    fig = report.allocation_by_warehouse_figure(w.evaluation)
                    report.show_html(fig.to_html(full_html=False, include_plotlyjs=False))

        for s in (budget, *delay.values()):
            s.observe(redraw, names="value")
        box = widgets.VBox([budget, widgets.HBox(list(delay.values())), out])
        # plotly.js goes out once, outside the Output widget: inlined in every redraw it
        # makes each widget message megabytes long (nbclient then stalls on them).
        from plotly.offline import get_plotlyjs
        report.show_html(f'<script type="text/javascript">{get_plotlyjs()}</script>')
        display(box)
        redraw()
        return box


__all__ = ["Explorer", "WhatIf"]
