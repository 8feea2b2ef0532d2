"""campaign.toml's optional ``[recourse]`` table: the two-stage plan's settings (SPEC §8).

With the table a plan orders now (stage 1) and keeps budget, space and supplier
capacity back for a top-up on ``date`` (stage 2), once a signal shows which SKUs are hot.
:func:`recourse_settings` validates the table, each problem naming its key as
``recourse.<key>``; :meth:`RecourseSettings.check` checks it against the campaign (the
date between planning_date and promo_start, every mode a mode of lanes.csv).  The
scenarios themselves are :mod:`optimizer.prep.scenarios`.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable
from typing import Annotated

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from optimizer.io import options
from optimizer.io.errors import Problem
from optimizer.io.options import IsoDate

CONFIG_FILE = "campaign.toml"
RECOURSE_TABLE = "recourse"
SCENARIOS_MAX = 100_000       # scenarios drawn for one plan


Mode = Annotated[str, Field(min_length=1)]


class RecourseSettings(BaseModel):
    """campaign.toml's ``[recourse]`` table (SPEC §8): when the top-up is decided, by which
    modes, and how the scenarios are generated when there is no scenarios.csv.

    ``resolved_share`` ρ is the share of each pair's demand log-variance the signal
    resolves by ``date``, ``category_share`` γ the share of that part common to the SKU's
    category; ``scenarios`` and ``seed`` say how many are drawn and from which stream;
    ``presale_conversion`` is the share of presale orders that become sales (the monitor
    reads a pair's heat at R from presales and the run-up pace).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False,
                              str_strip_whitespace=True)

    date: IsoDate
    modes: list[Mode] | None = Field(None, min_length=1)  # None: every mode of lanes.csv
    resolved_share: float = Field(0.5, ge=0, le=1)
    category_share: float = Field(0.5, ge=0, le=1)
    scenarios: int = Field(200, ge=1, le=SCENARIOS_MAX)
    seed: int = Field(1, ge=0, le=2**63 - 1)
    presale_conversion: float = Field(0.3, ge=0, le=1)

    def check(self, planning_date: dt.date, promo_start: dt.date, lane_modes: Iterable[str]) -> list[Problem]:
        """Problems with the table against the campaign: ``planning_date < date < promo_start``,
        and every mode in ``modes`` a mode of lanes.csv."""
        problems = []
        if not planning_date < self.date < promo_start:
            problems.append(Problem(
                CONFIG_FILE, None, f"{RECOURSE_TABLE}.date",
                f"must be after planning_date ({planning_date}) and before promo_start ({promo_start}), "
                f"got {self.date}: the top-up is decided after the first order and before the promotion"))
        known = sorted(set(lane_modes))
        for mode in self.modes or ():
            if mode not in known:
                problems.append(Problem(CONFIG_FILE, None, f"{RECOURSE_TABLE}.modes",
                                        f"no lane has mode {mode!r} (modes: {', '.join(known)})"))
        return problems


def recourse_settings(table) -> tuple[RecourseSettings | None, list[Problem]]:
    """campaign.toml's ``[recourse]`` table validated: (settings, []) or (None, problems),
    each naming its key as ``recourse.<key>``."""
    try:
        return RecourseSettings.model_validate(table), []
    except pydantic.ValidationError as err:
        return None, [_recourse_problem(e) for e in err.errors()]


def _recourse_problem(err: dict) -> Problem:
    key = ".".join([RECOURSE_TABLE] + [f"[{p + 1}]" if isinstance(p, int) else str(p) for p in err["loc"]])
    key = key.replace(".[", "[")
    if err["type"] == "missing":
        message = "required key is missing"
    elif err["type"] == "extra_forbidden":
        near = difflib.get_close_matches(str(err["loc"][-1]), list(RecourseSettings.model_fields), n=1)
        message = "unknown key" + (f": did you mean '{near[0]}'?" if near else
                                   f" (keys: {', '.join(RecourseSettings.model_fields)})")
    elif err["type"] == "value_error":
        message = err["msg"].removeprefix("Value error, ")
    else:
        message = options.message(err)
    return Problem(CONFIG_FILE, None, key, message)



__all__ = ["RECOURSE_TABLE", "SCENARIOS_MAX", "RecourseSettings", "recourse_settings"]
