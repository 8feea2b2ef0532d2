"""``summary.json``: the one schema of a run's summary, as written and as read back.

:class:`RunSummary` declares every key a ``summary.json`` holds (SPEC §3):

* the plan's figures, from :func:`optimizer.evaluate.plan.summarize` — exact expected
  profit, spend, fill rate, leftovers, the SPEC §6 money (fees, storage, deferred duty,
  ``cash_limits``), the model's size and the what-ifs (``overrides``);
* the solve, from :meth:`optimizer.workflows.planner.Planner.summary` — termination,
  gap target, time limit, rounds, the order-nothing profit, the planning date and the
  campaign folder;
* ``plan --parts`` (:mod:`optimizer.workflows.partition` and the command line):
  ``merged_profit_before_polish``, ``parts``, ``parts_seconds``, ``bound_seconds``,
  ``bound_rounds``, ``bound_evaluations``, ``bound_note``, ``scheduler``;
* the monitor's top-up (:mod:`optimizer.monitor.campaign_monitor`): ``kind``,
  ``as_of``, ``monitored_run`` and, when there is no top-up, ``reason``.

Every field is optional (None when a writer does not give it) and only the fields a
writer gave are written, so each kind of run writes the keys it wrote before, with the
same values.  The model is frozen and refuses a key it does not know; a non-finite
number is refused too, so ``NaN`` or ``Infinity`` never reaches the file.  A changed
copy is made by :meth:`RunSummary.updated`, which validates the changes.

Only :mod:`optimizer.io.run_folder` reads and writes the file (``write_run`` and
``read_summary``).

>>> s = RunSummary(campaign="Tiny demo", status="optimal", expected_profit=10.5, budget=20)
>>> s.status, s.budget, s.mip_gap
(<Status.OPTIMAL: 'optimal'>, 20.0, None)
>>> print(s.to_json(), end="")
{
 "campaign": "Tiny demo",
 "status": "optimal",
 "expected_profit": 10.5,
 "budget": 20.0
}
>>> RunSummary.from_json(s.to_json()) == s
True
>>> s.updated(scheduler="single-process").scheduler
'single-process'
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from optimizer.status import Status


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class CashLimitStatus(_Section):
    """One ``[[cash_limits]]`` entry against the plan's payments (SPEC §6)."""

    #: The limit holds for payments due up to and including this date.
    until: dt.date
    #: The most the plan may have paid by ``until``.
    limit: float
    #: What the plan has paid by ``until``.
    paid: float
    #: ``limit − paid``.
    headroom: float


class Overrides(_Section):
    """The what-ifs a run was made with (the campaign files are never edited)."""

    #: The budget given instead of campaign.toml's (None: campaign.toml's).
    budget: float | None = None
    #: Extra transit days per transport mode (negative = a faster carrier).
    delays: dict[str, int] = Field(default_factory=dict)


class RunSummary(_Section):
    """``summary.json`` of a run folder: every key it may hold, in the order it is written."""

    # ---- the plan (optimizer.evaluate.plan.summarize)
    campaign: str | None = None
    currency: str | None = None
    status: Status | None = None
    #: Exact expected profit of the plan (SPEC §2/§6).
    expected_profit: float | None = None
    #: A proven upper bound on the best expected profit (None: none proven).
    best_bound: float | None = None
    #: ``(best_bound − expected_profit) / |expected_profit|`` (None without a bound).
    mip_gap: float | None = None
    spend: float | None = None
    purchase_spend: float | None = None
    shipment_spend: float | None = None
    budget: float | None = None
    #: ``spend / budget``.
    budget_used: float | None = None
    #: Σ expected sales / Σ expected demand (None without demand).
    expected_fill_rate: float | None = None
    expected_sales_units: float | None = None
    expected_demand_units: float | None = None
    expected_leftover_units: float | None = None
    expected_leftover_cost: float | None = None
    expected_revenue: float | None = None
    #: ``referral_fees + fulfilment_fees``.
    fees: float | None = None
    referral_fees: float | None = None
    fulfilment_fees: float | None = None
    storage_cost: float | None = None
    duty_deferred: float | None = None
    #: One entry per ``[[cash_limits]]`` of campaign.toml.
    cash_limits: list[CashLimitStatus] | None = None
    units_ordered: int | None = None
    skus_ordered: int | None = None
    build_seconds: float | None = None
    solve_seconds: float | None = None
    n_variables: int | None = None
    n_constraints: int | None = None
    overrides: Overrides | None = None
    # ---- the solve (optimizer.workflows.planner.Planner.summary)
    #: The solver's last word (HiGHS's model status, or why it did not run).
    termination: str | None = None
    mip_gap_target: float | None = None
    #: The run's wall-clock time limit: loading, the build, the solve and writing the run.
    time_limit_s: float | None = None
    #: What of it the solve had (the rest went to loading, the build and writing).
    solve_time_limit_s: float | None = None
    lp_rounds: int | None = None
    mip_rounds: int | None = None
    sales_chords: int | None = None
    #: Exact expected profit of ordering nothing (existing stock only).
    order_nothing_profit: float | None = None
    planning_date: dt.date | None = None
    #: ``plan --parts``: expected profit of the parts' plans put together, before the polish.
    merged_profit_before_polish: float | None = None
    #: The campaign folder planned, as an absolute path.
    campaign_dir: str | None = None
    # ---- plan --parts (optimizer.workflows.partition, the command line)
    parts: int | None = None
    parts_seconds: float | None = None
    #: The whole campaign's Lagrangian bound (``best_bound``): seconds, price rounds, price
    #: vectors evaluated on every part, and why there is none when ``best_bound`` is null.
    bound_seconds: float | None = None
    bound_rounds: int | None = None
    bound_evaluations: int | None = None
    bound_note: str | None = None
    #: Where the parts were planned: ``single-process``, ``local`` or a scheduler address.
    scheduler: str | None = None
    # ---- the monitor's top-up (optimizer.monitor.campaign_monitor)
    kind: Literal["top-up"] | None = None
    #: The last day of actual sales the top-up was planned from.
    as_of: dt.date | None = None
    #: The plan run folder the monitor watched.
    monitored_run: str | None = None
    #: Why there is no top-up (status ``no_top_up``).
    reason: str | None = None
    # ---- the two-stage plan (SPEC §8, optimizer.workflows.two_stage): ``expected_profit`` is
    # Σ_k π_k·profit_k over the planning scenarios, ``spend`` stage 1's; the profits below are
    # evaluated on ``evaluation_scenarios`` scenarios not used to plan (with scenarios.csv: its
    # own), each with its standard error (``_se``; 0 on scenarios.csv's exact distribution).
    recourse_date: dt.date | None = None
    #: ``budget − spend``: what stage 1 keeps back for the top-up.
    reserve: float | None = None
    #: Σ_k π_k·(stage-2 spend of k) over the planning scenarios.
    expected_stage2_spend: float | None = None
    planning_scenarios: int | None = None
    evaluation_scenarios: int | None = None
    evaluation_seed: int | None = None
    #: How the two-stage plan was solved: ``extensive_form`` or ``priced_relaxation``.
    two_stage_method: str | None = None
    two_stage_profit: float | None = None
    two_stage_profit_se: float | None = None
    #: The best stage-1 plan when no top-up is allowed, then topped up optimally in each scenario.
    single_stage_profit: float | None = None
    single_stage_profit_se: float | None = None
    #: That plan without top-ups.
    no_recourse_profit: float | None = None
    no_recourse_profit_se: float | None = None
    #: Each scenario planned knowing its demand (on ``perfect_information_scenarios`` of them),
    #: or, where ``perfect_information_is_bound``, an upper bound on that
    #: (:mod:`optimizer.solve.perfect_information`, on every evaluation scenario).
    perfect_information_profit: float | None = None
    perfect_information_profit_se: float | None = None
    perfect_information_scenarios: int | None = None
    perfect_information_is_bound: bool | None = None
    #: ``two_stage_profit − single_stage_profit`` (paired over the same scenarios).
    value_of_flexibility: float | None = None
    value_of_flexibility_se: float | None = None

    def updated(self, **changes) -> RunSummary:
        """A copy with ``changes`` (field names and values), validated like a new summary."""
        return type(self).model_validate({**self.model_dump(exclude_unset=True), **changes})

    def to_json(self) -> str:
        """The ``summary.json`` text: the fields given, in declaration order, one space indent."""
        return json.dumps(self.model_dump(mode="json", exclude_unset=True), indent=1, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> RunSummary:
        """A summary from ``summary.json`` text, checked strictly: an unknown key, a value of
        the wrong type (text for a number, a fraction for a count) or a non-finite number
        raises :class:`pydantic.ValidationError` (see :func:`validation_problems`)."""
        return cls.model_validate_json(text, strict=True)


def validation_problems(error: ValidationError) -> list[tuple[str, str]]:
    """``(key, message)`` for each problem of a summary that failed validation; the key
    is dotted for nested values (``cash_limits.0.paid``)."""
    out = []
    for e in error.errors(include_url=False):
        key = ".".join(str(p) for p in e["loc"]) or "summary"
        message = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        out.append((key, message))
    return out


__all__ = ["CashLimitStatus", "Overrides", "RunSummary", "validation_problems"]
