"""The status of a solve, a run or a batch point: one enum, written to every output as its value.

``Status`` is a ``StrEnum``: a member equals its value (``Status.OPTIMAL == "optimal"``),
so summary.json, the CSV files and the run index hold the plain words, and reading them
back gives strings that compare equal to the members.

>>> Status.TIME_LIMIT, str(Status.TIME_LIMIT)
(<Status.TIME_LIMIT: 'time_limit'>, 'time_limit')
>>> Status("optimal").has_plan
True
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What a solve or a run ended with."""

    #: A plan proven within the gap target of the best possible.
    OPTIMAL = "optimal"
    #: A plan, stopped by the time limit before it was proven within the gap.
    TIME_LIMIT = "time_limit"
    #: A plan, stopped by Ctrl-C: the best plan found so far.
    INTERRUPTED = "interrupted"
    #: No plan meets the rules (a service target no plan reaches).
    INFEASIBLE = "infeasible"
    #: The solver stopped before it found any plan.
    NO_PLAN = "no_plan"
    #: The solver failed (a numerical failure, an unexpected model status).
    ERROR = "error"
    #: A node LP of a branch and bound stopped without a value (time limit or numerics).
    STOPPED = "stopped"
    #: A batch point or a report whose run raised (its error is recorded beside it).
    FAILED = "failed"
    #: A run folder whose summary names no status.
    UNKNOWN = "unknown"
    #: A plan put together from separately planned parts (``plan --parts``): no bound for the whole.
    PARTITIONED = "partitioned"
    #: A monitor step that planned no top-up (its summary.json says why).
    NO_TOP_UP = "no_top_up"

    @property
    def has_plan(self) -> bool:
        """Whether a run with this status holds a plan."""
        return self in (Status.OPTIMAL, Status.TIME_LIMIT, Status.INTERRUPTED, Status.PARTITIONED)


__all__ = ["Status"]
