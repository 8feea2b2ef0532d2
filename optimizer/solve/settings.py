"""The solver pipeline's knobs, in one place.

Every stage of :class:`~optimizer.solve.pipeline.PlanSolver` reads its time share,
round limit or tolerance from one :class:`SolveSettings`.  Time shares are of the
time left in the solve when the stage starts (the price start's is of the whole
limit); "cold LP" is the first LP relaxation's solve time, the unit in which the
pipeline judges whether a MIP can get through HiGHS's root in the time left.
The defaults are the values the benchmarks in ``benchmarks/`` were measured with.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SolveSettings:
    """Time shares, round limits and tolerances of the solve stages."""

    #: Price start: share of the whole time limit for its lane local search.
    price_start_share: float = 0.02
    #: LP rounds: at most this many LP solves, each adding the chords at its stock levels.
    max_lp_rounds: int = 6
    #: Rounding: share of the time left for the rounded plan's lane local search.
    rounding_share: float = 0.1
    #: Shipment bound: share of the time left for the branch and bound on shipment counts.
    shipment_bound_share: float = 0.4
    #: Shipment bound: share of the time left for a dive when the search stopped unproven.
    good_leaf_share: float = 0.25
    #: Restricted start: share of the time left for the MIP with shipments fixed and
    #: barely-used flags closed.
    restricted_share: float = 0.6
    #: Restricted start: its gap target as a share of ``mip_gap``.
    restricted_gap_share: float = 0.01
    #: Restricted start: runs only when the time left is at least this many cold LPs.
    restricted_lp_multiple: float = 4
    #: MIP rounds: run only when the time left is at least this many cold LPs
    #: (HiGHS's root cut loop cannot be interrupted); otherwise the time goes to
    #: the shipment bound.
    full_mip_lp_multiple: float = 40
    #: MIP rounds: at most this many MIP solves, each adding chords at the plan's stock.
    max_mip_rounds: int = 12
    #: MIP rounds: stop adding chords once they can change the plan's profit by less
    #: than this share of the gap target.
    chord_tolerance_share: float = 0.1
    #: HiGHS ``mip_heuristic_effort`` (HiGHS's default is 0.05).
    mip_heuristic_effort: float = 0.3


__all__ = ["SolveSettings"]
