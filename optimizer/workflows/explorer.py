"""What-if explorer: re-solve a campaign as the budget and per-mode delays move.

:class:`Explorer` keeps one :class:`~optimizer.workflows.planner.Planner` and
answers :meth:`Explorer.solve` for a budget and delays:

* **budget** — no rebuild: the planner re-solves its loaded HiGHS model at the
  new budget, warm-started from the last plan.  The planner is built for the
  slider's **largest** budget so its per-route unit bounds hold for every budget
  the slider offers (see :mod:`optimizer.workflows.frontier`).
* **delays** — **rebuild**: only routes meeting the cutoff get variables, so a
  delay can add or remove variables (and it moves every order-by / ship-by date);
  a new planner is built for the new delays and solved cold.

The sliders and the redrawn output live in :mod:`optimizer.report.explorer_panel`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from optimizer.io.campaign import Campaign, load_campaign
from optimizer.prep.instance import Overrides
from optimizer.workflows.planner import Planner, PlanResult

BUDGET_RANGE = (0.2, 1.5)  # slider span, shares of the campaign budget
DELAY_RANGE = (-10, 30)    # days


@dataclass
class WhatIf:
    """One explorer solve: the planner's result and how it was obtained."""

    budget: float
    delays: dict
    result: PlanResult
    seconds: float
    rebuilt: bool

    @property
    def evaluation(self):
        """The plan's :class:`~optimizer.evaluate.plan.PlanEvaluation` (None without a plan)."""
        return self.result.evaluation

    @property
    def status(self) -> str:
        return self.result.status


class Explorer:
    """Re-solves a campaign for slider values (budget: persistent re-solve; delays: rebuild)."""

    def __init__(self, campaign: Campaign | str, *, time_limit_s: float | None = None):
        self.campaign = campaign if isinstance(campaign, Campaign) else load_campaign(campaign)
        self.time_limit_s = time_limit_s
        self.max_budget = BUDGET_RANGE[1] * self.campaign.config.budget
        self.modes = sorted(set(self.campaign.lanes["mode"]))
        self.delays: dict | None = None  # delays of the loaded model
        self.planner: Planner | None = None
        self.last: WhatIf | None = None

    def solve(self, budget: float, delays: dict | None = None) -> WhatIf:
        """Plan for ``budget`` (≤ the slider maximum) and ``delays``; rebuilds only on a delay change."""
        delays = {m: int(d) for m, d in (delays or {}).items() if d}
        if budget > self.max_budget * (1 + 1e-9):
            raise ValueError(f"budget {budget:,.2f} is above the explorer's maximum {self.max_budget:,.2f}")
        t0 = time.perf_counter()
        rebuilt = delays != self.delays
        if rebuilt:
            self.planner = Planner(self.campaign, Overrides(delays=delays, time_limit_s=self.time_limit_s),
                                   max_budget=self.max_budget, progress=lambda msg: None)
            self.delays = dict(delays)
        result = self.planner.solve(budget)
        self.last = WhatIf(budget, delays, result, time.perf_counter() - t0, rebuilt)
        return self.last


__all__ = ["BUDGET_RANGE", "DELAY_RANGE", "Explorer", "WhatIf"]
