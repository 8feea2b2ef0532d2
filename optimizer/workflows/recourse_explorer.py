"""The explorer's two-stage plan (SPEC §8): what to order now and keep back, for a recourse
date the user picks, at the explorer's budget and delays.

A two-stage plan takes the run's time limit (a minute on the 300-SKU sample), so it is
asked for on demand rather than on every slider move.  :class:`RecourseExplorer` plans it
in a worker thread with :func:`~optimizer.workflows.two_stage.plan_two_stage` on the
campaign with its ``[recourse] date`` replaced; requests run one at a time, and a request
superseded by a newer one before it starts is skipped, so the answer offered is always the
newest request's.  A plan in flight is not interrupted (its evaluation on fresh scenarios
is what the answer is for).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from optimizer.io.campaign import Campaign
from optimizer.settings import Settings

if TYPE_CHECKING:
    from optimizer.workflows.two_stage import TwoStageRun

#: Days between the recourse dates offered.
DATE_STEP_DAYS = 7


def recourse_dates(campaign: Campaign) -> list[dt.date]:
    """The recourse dates offered: every week after the planning date until the promotion
    starts (SPEC §8: ``planning_date < R < promo_start``), and the campaign's own date."""
    config = campaign.config
    dates = {config.planning_date + dt.timedelta(days=d)
             for d in range(DATE_STEP_DAYS, (config.promo_start - config.planning_date).days, DATE_STEP_DAYS)}
    if config.recourse is not None:
        dates.add(config.recourse.date)
    return sorted(dates)


def with_recourse_date(campaign: Campaign, date: dt.date) -> Campaign:
    """``campaign`` with its top-up decided on ``date`` (its other ``[recourse]`` keys kept)."""
    recourse = campaign.config.recourse.model_copy(update={"date": date})
    return dataclasses.replace(campaign, config=campaign.config.model_copy(update={"recourse": recourse}))


@dataclass
class TwoStageAnswer:
    """A two-stage plan for one recourse date, budget and delays (``run`` None: ``problem`` says why)."""

    date: dt.date
    budget: float
    delays: dict
    run: TwoStageRun | None
    seconds: float
    request: int
    problem: str | None = None


class RecourseExplorer:
    """Two-stage plans of a campaign with ``[recourse]`` on request (module docstring)."""

    def __init__(self, campaign: Campaign, *, time_limit_s: float | None = None, settings: Settings | None = None):
        """``settings``: the runs' other settings (evaluation scenarios, pipeline knobs); each
        request sets their budget, delays and ``time_limit_s``."""
        if campaign.config.recourse is None:
            raise ValueError(f"campaign {campaign.config.name!r} has no [recourse] table")
        self.campaign = campaign
        self.time_limit_s = time_limit_s
        self.settings = settings or Settings()
        self.dates = recourse_dates(campaign)
        self._request = 0
        self._state = threading.Lock()  # guards _request
        self._planning = threading.Lock()  # one two-stage plan at a time

    def is_current(self, number: int) -> bool:
        return number == self._request

    def request(self, date: dt.date, budget: float, delays: dict | None,
                on_answer: Callable[[TwoStageAnswer], None]) -> int:
        """Plan in two stages with top-ups on ``date``; returns the request's number at once and
        calls ``on_answer`` from a worker thread when done, if the request is still the newest."""
        with self._state:
            self._request += 1
            number = self._request
        delays = {m: int(d) for m, d in (delays or {}).items() if d}
        threading.Thread(target=self._work, args=(number, date, float(budget), delays, on_answer), daemon=True,
                         name=f"two-stage {number}").start()
        return number

    def cancel(self) -> None:
        """No answer of a request made so far is offered."""
        with self._state:
            self._request += 1

    def plan(self, date: dt.date, budget: float, delays: dict | None = None, *, number: int = 0) -> TwoStageAnswer:
        """The two-stage plan now (the worker's call; also for code)."""
        from optimizer.io.errors import InputError
        from optimizer.solve.diagnose import ServiceInfeasible
        from optimizer.workflows.planner import SolveFailed
        from optimizer.workflows.two_stage import plan_two_stage

        began = time.perf_counter()
        delays = dict(delays or {})
        settings = self.settings.update(budget=budget, delays=delays, time_limit_s=self.time_limit_s)
        try:
            run = plan_two_stage(with_recourse_date(self.campaign, date), settings, progress=lambda _: None)
        except (InputError, ServiceInfeasible, SolveFailed) as exc:
            return TwoStageAnswer(date, budget, delays, None, time.perf_counter() - began, number, problem=str(exc))
        return TwoStageAnswer(date, budget, delays, run, time.perf_counter() - began, number)

    def _work(self, number: int, date: dt.date, budget: float, delays: dict, on_answer) -> None:
        with self._planning:
            if not self.is_current(number):
                return
            try:
                answer = self.plan(date, budget, delays, number=number)
            except Exception as exc:  # shown in the panel rather than lost in a thread
                answer = TwoStageAnswer(date, budget, delays, None, 0.0, number,
                                        problem=f"{type(exc).__name__}: {exc}")
        if self.is_current(number):
            on_answer(answer)


__all__ = ["DATE_STEP_DAYS", "RecourseExplorer", "TwoStageAnswer", "recourse_dates", "with_recourse_date"]
