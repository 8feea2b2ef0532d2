"""The explorer's two-stage box, for a campaign with ``[recourse]`` (SPEC §8): a recourse-date
slider, a button that plans in two stages at the explorer's budget and delays, and the
answer — what is kept back, the two-stage profit next to planning one stage and topping up,
the value of flexibility and the policy of the top SKUs, as the report shows them
(:func:`~optimizer.report.two_stage.two_stage_html`).

The plan takes the run's time limit, so it is planned on the button, not on every move
(:class:`~optimizer.workflows.recourse_explorer.RecourseExplorer`); the status line counts
the seconds while it works and greys out the last answer, which stays on screen until the
new one replaces it.
"""

from __future__ import annotations

import html
import threading
import time

from optimizer.report.two_stage import two_stage_html
from optimizer.workflows.recourse_explorer import RecourseExplorer, TwoStageAnswer

SLIDER_STYLE = {"description_width": "7.5em"}


def answer_line(a: TwoStageAnswer, currency: str) -> str:
    """One line saying what a two-stage answer is."""
    if a.run is None:
        return f"top-ups on {a.date}: no two-stage plan"
    s = a.run.summary
    gap = "no bound" if s.mip_gap is None else f"gap {s.mip_gap:.2%}"
    return (f"two-stage plan for top-ups on {a.date} at a budget of {a.budget:,.0f} {currency}, in "
            f"{a.seconds:.0f} s: {s.status}, {gap}; expected profit {s.expected_profit:,.2f} {currency} "
            f"on the planning scenarios")


class TwoStageBox:
    """The widgets of the module docstring for one campaign; ``inputs()`` gives the explorer's
    budget and delays when the button is pressed."""

    def __init__(self, recourse: RecourseExplorer, inputs):
        import ipywidgets as widgets

        self.recourse, self.inputs = recourse, inputs
        campaign = recourse.campaign
        self.currency = campaign.config.currency
        self.date = widgets.SelectionSlider(
            options=[(d.isoformat(), d) for d in recourse.dates], value=campaign.config.recourse.date,
            description="recourse date", continuous_update=False, style=SLIDER_STYLE,
            layout=widgets.Layout(width="640px"))
        self.date.add_class("pso-recourse-date")
        self.button = widgets.Button(description="plan two stages", tooltip=(
            "order now, keep back what pays for a top-up on the recourse date (SPEC §8); "
            "takes the run's time limit"))
        self.button.add_class("pso-two-stage-button")
        self.status = widgets.HTML()
        self.answer = widgets.HTML()
        self.answer.add_class("pso-two-stage")
        intro = widgets.HTML("<b>Two stages</b> — order now, top up once the run-up shows which SKUs are hot")
        self.box = widgets.VBox([intro, widgets.HBox([self.date, self.button]), self.status, self.answer])
        self._lock = threading.Lock()  # guards the fields below
        self._number = 0
        self._since: float | None = None  # when the plan in flight was asked for (None: none)
        self._shown: TwoStageAnswer | None = None
        self.button.on_click(self.plan)
        self._draw()

    def plan(self, _button=None) -> int:
        """Ask for the two-stage plan at the slider's date and the explorer's budget and delays."""
        budget, delays = self.inputs()
        with self._lock:
            self._since = time.perf_counter()
            self._number = self.recourse.request(self.date.value, budget, delays, self._answered)
            self._draw()
            return self._number

    def cancel(self) -> None:
        self.recourse.cancel()

    def tick(self) -> None:
        """Redraw the status line while a plan is in flight (the panel's ticking thread)."""
        with self._lock:
            if self._since is not None:
                self._draw()

    def _answered(self, a: TwoStageAnswer) -> None:
        with self._lock:
            if a.request != self._number:
                return
            self._shown, self._since = a, None
            self._draw()

    def _draw(self) -> None:
        a = self._shown
        parts = [] if a is None else [answer_line(a, self.currency)]
        if self._since is not None:
            limit = self.recourse.time_limit_s or self.recourse.campaign.config.solver.time_limit_s
            parts.append(f"planning two stages for top-ups on {self.date.value}… "
                         f"{time.perf_counter() - self._since:.0f} s (within about {limit:g} s)")
        elif a is None:
            parts.append("pick a recourse date and press the button to plan in two stages")
        status = f'<div class="pso-two-stage-status">{html.escape("; ".join(parts))}</div>'
        if self.status.value != status:
            self.status.value = status
        if a is None:
            body = ""
        elif a.run is None:
            body = f'<div class="pso-problem">{html.escape(a.problem or "")}</div>'
        else:
            body = two_stage_html(a.run.summary, a.run.policy)
        stale = " pso-stale" if self._since is not None else ""
        value = f'<div class="pso-two-stage-answer{stale}">{body}</div>'
        if self.answer.value != value:
            self.answer.value = value


__all__ = ["TwoStageBox", "answer_line"]
