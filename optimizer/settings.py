"""The settings of a run, in one frozen object that travels whole from the command line
or a notebook to the solver.

:class:`Settings` has three sections, each a frozen pydantic model that refuses a key
it does not know (``extra="forbid"``):

* :class:`WhatIf` — what the user asks of the campaign without editing its files: another
  budget, extra transit days per mode, another service target; recorded with the run.
* :class:`SolverOptions` — the solve's time limit, gap target and threads (the names of
  campaign.toml's ``[solver]`` table; ``None`` keeps the campaign's value).
* :class:`PipelineKnobs` — every tuned constant of the solve pipeline (time shares,
  round limits, tolerances), each with a one-line meaning.  The defaults are the values
  the benchmarks in ``benchmarks/`` are measured with.

A setting is changed only by a validated copy, :meth:`Settings.update`; the constructor
and ``update`` take the fields of any section by name (field names are unique across the
sections)::

    >>> s = Settings(budget=800_000, time_limit_s=20)
    >>> s.what_if.budget, s.solver.time_limit_s
    (800000.0, 20.0)
    >>> s.update(delays={"sea_fcl": 10}).what_if.delays
    {'sea_fcl': 10}
    >>> Settings(budjet=1)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings
    budjet
    ...

Values obey the same limits as campaign.toml's and the command line's
(:mod:`optimizer.io.options`): a non-finite budget or a thousand threads is refused here
too, whoever builds the object.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.io.options import Budget, DelayDays, MipGap, Threads, TimeLimit

Share = Annotated[float, Field(gt=0, le=1)]
Positive = Annotated[float, Field(gt=0)]
Count = Annotated[int, Field(ge=1)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class WhatIf(_Section):
    """What-if changes to the campaign, recorded with the run (the files are never edited)."""

    #: The budget (None: campaign.toml's ``budget``).
    budget: Budget | None = None
    #: The largest budget a persistent re-solve will be given (a sweep): route bounds use it.
    max_budget: Budget | None = None
    #: Extra transit days for every lane of a mode (negative = a faster carrier).
    delays: dict[str, DelayDays] = Field(default_factory=dict)
    #: The service target (None: campaign.toml's ``min_fill_rate``).
    min_fill_rate: Annotated[float, Field(ge=0, le=1)] | None = None

    def recorded(self) -> dict:
        """The what-ifs a run folder records (``summary.json``'s ``overrides``)."""
        return {"budget": self.budget, "delays": dict(self.delays)}


class SolverOptions(_Section):
    """The solve's limits; None keeps campaign.toml's ``[solver]`` value."""

    #: Seconds the solve may take (campaign default 120).
    time_limit_s: TimeLimit | None = None
    #: Relative gap at which a plan counts as optimal (campaign default 0.001).
    mip_gap: MipGap | None = None
    #: HiGHS threads (campaign default: HiGHS's own choice).
    threads: Threads | None = None


class PipelineKnobs(_Section):
    """The solve pipeline's tuned constants (docs/solve-pipeline.md names each stage)."""

    # Time shares are of the time left in the solve when the stage starts (the price
    # start's is of the whole limit); "cold LP" is the first LP relaxation's solve time.
    #: Price start: share of the whole time limit for its lane local search.
    price_start_share: Share = 0.02
    #: Price start: rounds of coordinate ascent over the price families.
    price_passes: Count = 2
    #: Price start: halvings of each price's bracket.
    price_bisections: Count = 20
    #: Price start: a route's last case is kept when the start orders this share of it.
    price_round_up_from: Share = 0.7
    #: Price start: re-pricings of the cash limits after the last budget price.
    cash_price_rounds: Annotated[int, Field(ge=0)] = 3
    #: LP rounds: at most this many LP solves, each adding the chords at its stock levels.
    max_lp_rounds: Count = 6
    #: Rounding: share of the time left for the rounded plan's lane local search.
    rounding_share: Share = 0.1
    #: Rounding: raise a SKU to its MOQ (a supplier to its minimum) when the LP orders this share of it.
    rounding_raise_share: Share = 0.5
    #: Rounding: the fill threshold falls by this factor per round.
    rounding_price_step: Annotated[float, Field(gt=0, lt=1)] = 0.85
    #: Rounding: stop filling below this profit per unit of cost.
    rounding_min_price: Positive = 1e-4
    #: Rounding: at most this many fill rounds.
    rounding_max_rounds: Count = 400
    #: Supplier bound: share of the time left for the Lagrangian bound by supplier.
    supplier_bound_share: Share = 0.1
    #: Shipment bound: share of the time left for the branch and bound on shipment counts.
    shipment_bound_share: Share = 0.4
    #: Shipment bound: share of the time left for a dive when the search stopped unproven.
    good_leaf_share: Share = 0.25
    #: Shipment bound: a count this close to a whole number is whole.
    integrality_tolerance: Positive = 1e-6
    #: Restricted start: share of the time left for the MIP with shipments fixed and barely-used flags closed.
    restricted_share: Share = 0.6
    #: Restricted start: its gap target as a share of ``mip_gap``.
    restricted_gap_share: Share = 0.01
    #: Restricted start: runs only when the time left is at least this many cold LPs.
    restricted_lp_multiple: Positive = 4
    #: Restricted start: a SKU's order flag stays open when the LP orders this share of its MOQ.
    restricted_moq_share: Share = 0.5
    #: Restricted start: a lane's shipment count stays free when the LP uses this share of one shipment.
    restricted_lane_share: Share = 0.3
    #: MIP rounds: run only when the time left is at least this many cold LPs (HiGHS's root
    #: cut loop cannot be interrupted); otherwise the time goes to the shipment bound.
    full_mip_lp_multiple: Positive = 40
    #: MIP rounds: at most this many MIP solves, each adding chords at the plan's stock.
    max_mip_rounds: Count = 12
    #: MIP rounds: stop adding chords once they can change the plan's profit by less than this share of the gap target.
    chord_tolerance_share: Share = 0.1
    #: HiGHS ``mip_heuristic_effort`` (HiGHS's default is 0.05).
    mip_heuristic_effort: Annotated[float, Field(ge=0, le=1)] = 0.3
    #: Expected-sales chords: the first chords sit at mean + z·sd for z from -z_span to z_span.
    chord_z_span: Positive = 3.0
    #: Expected-sales chords: the step between the first chords' z values.
    chord_z_step: Positive = 0.5
    #: Expected-sales chords: a chord flatter than this adds nothing and is left out.
    chord_min_slope: Positive = 1e-7
    #: Status: a plan within this multiple of ``mip_gap`` of its bound is called optimal.
    optimal_gap_slack: Annotated[float, Field(ge=1)] = 1.05
    #: ``plan --parts``: seconds for the whole-catalogue fill and lane moves after the merge.
    partition_polish_seconds: Positive = 60.0
    #: ``plan --parts``: seconds for the proven bound on the whole campaign (the Lagrangian of the
    #: rows the parts share, :mod:`optimizer.workflows.partition_bound`), spread over its price rounds.
    partition_bound_seconds: Positive = 240.0
    #: Two-stage plan: at most this many MIP solves of the extensive form, each adding chords.
    two_stage_rounds: Count = 12
    #: Two-stage plan: the extensive form is solved while scenarios × stage-2 routes stay within
    #: this; past it the priced relaxation with solver-free top-ups (:mod:`optimizer.solve.priced_recourse`).
    extensive_form_limit: Count = 20_000
    #: Two-stage plan, priced relaxation: how many budget prices are tried, from this one.
    priced_recourse_steps: Count = 4
    priced_recourse_start: Annotated[float, Field(ge=0.0)] = 0.1
    #: Two-stage plan, priced relaxation: solver-free rounds that settle the prices (each
    #: scenario's price of the reserve the relaxation's price-start plan leaves) before the
    #: first priced candidate's solve.
    priced_recourse_warmups: Annotated[int, Field(ge=0)] = 3
    #: Two-stage plan: scenarios (of a fresh seed) the reported profits are evaluated on.
    evaluation_scenarios: Annotated[int, Field(ge=1, le=100_000)] = 1000
    #: Two-stage plan: of those, how many the perfect-information profit is solved on.
    perfect_information_scenarios: Annotated[int, Field(ge=1, le=100_000)] = 100


class Settings(_Section):
    """A run's settings: :class:`WhatIf`, :class:`SolverOptions`, :class:`PipelineKnobs`."""

    what_if: WhatIf = Field(default_factory=WhatIf)
    solver: SolverOptions = Field(default_factory=SolverOptions)
    pipeline: PipelineKnobs = Field(default_factory=PipelineKnobs)

    @model_validator(mode="before")
    @classmethod
    def _route_flat_fields(cls, data: Any) -> Any:
        """``Settings(budget=…, time_limit_s=…)``: each field goes to the section that has it."""
        if not isinstance(data, dict):
            return data
        out = {k: (v.model_dump() if isinstance(v, BaseModel) else dict(v))
               for k, v in data.items() if k in _SECTIONS}
        for key, value in data.items():
            if key in _SECTIONS:
                continue
            section = _SECTION_OF.get(key)
            if section is None:
                out[key] = value  # refused by extra="forbid", with its name
            else:
                out.setdefault(section, {})[key] = value
        return out

    def update(self, **changes) -> Settings:
        """A validated copy with ``changes`` (fields of any section by name, or whole sections)."""
        data = self.model_dump()
        for key, value in changes.items():
            if key in _SECTIONS:
                data[key] = {**data[key], **(value.model_dump() if isinstance(value, BaseModel) else value)}
            elif key in _SECTION_OF:
                data[_SECTION_OF[key]][key] = value
            else:
                data[key] = value  # refused by extra="forbid", with its name
        return Settings.model_validate(data)

    def with_campaign_solver(self, campaign_solver) -> Settings:
        """A copy whose solver options are all set: each None takes the campaign's ``[solver]``
        value (:class:`~optimizer.io.campaign.SolverSettings`)."""
        own = self.solver.model_dump()
        return self.update(solver={k: getattr(campaign_solver, k) if v is None else v for k, v in own.items()})


_SECTIONS = {"what_if": WhatIf, "solver": SolverOptions, "pipeline": PipelineKnobs}
_SECTION_OF = {name: section for section, model in _SECTIONS.items() for name in model.model_fields}


__all__ = ["PipelineKnobs", "Settings", "SolverOptions", "WhatIf"]
