"""The numbers of a two-stage plan (SPEC §8): both stages' routes and each scenario's demand.

A two-stage campaign has two instances of the ordinary kind
(:class:`~optimizer.prep.instance.Instance`):

* ``stage1`` — the campaign as it is: the routes usable from ``planning_date``;
* ``stage2`` — the campaign seen from the recourse date R, its lanes those of
  ``[recourse] modes``: the routes with ``R + production_days + transit_days + buffer_days
  ≤ cutoff`` (SPEC §2's deadline with R as the planning date), their payments dated from R.

and the scenarios (:mod:`optimizer.prep.scenarios`) as matrices over the demand pairs
(scenario × pair): ``mean``, ``sd``, ``dist``, ``expected_demand`` and, with a
``min_fill_rate``, ``service_stock`` — the smallest lattice stock meeting the service
target in the scenario (``inf``: none; ``nan``: no target).

Route bounds.  Each stage's routes carry the economic stock bound of
:func:`~optimizer.prep.instance.economic_stock_limit` taken at the *largest* of the
scenarios' economic stocks: past it one more case is worth less than it costs in every
scenario (ES is concave, a top-up only lowers the value of the next unit), hence in their
expectation, so an optimal plan with the fewest units never goes there.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from optimizer.io.campaign import FORECAST_AUDIT_FILE, Campaign
from optimizer.io.errors import InputError
from optimizer.io.recourse import RecourseSettings
from optimizer.prep.expected_sales import distribution_codes, expected_demand, spread
from optimizer.prep.instance import Instance, build_instance, economic_stock_limit, service_stock, with_stock_limits
from optimizer.prep.scenarios import SCENARIOS_FILE, Scenarios, generate_scenarios, read_scenarios
from optimizer.settings import Settings


@dataclass(frozen=True, eq=False)
class ScenarioDemand:
    """Each scenario's demand over the demand pairs: arrays of shape (scenarios, pairs)."""

    pairs: pd.MultiIndex  # the demand pairs (sku, warehouse), in stage 1's pair order
    probabilities: np.ndarray
    ids: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray
    dist: np.ndarray
    expected_demand: np.ndarray
    service_stock: np.ndarray  # nan: no service target

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class TwoStage:
    """A two-stage campaign: its two stages' instances, its settings and its scenarios."""

    stage1: Instance
    stage2: Instance
    recourse: RecourseSettings
    scenarios: Scenarios
    demand: ScenarioDemand
    warnings: tuple = ()

    @property
    def campaign(self) -> Campaign:
        return self.stage1.campaign

    @cached_property
    def pairs(self) -> pd.MultiIndex:
        """Every pair of either stage (stage 2's are stage 1's: a route usable from R is usable now)."""
        return self.stage1.pairs.index.union(self.stage2.pairs.index)


def stage2_campaign(campaign: Campaign, recourse: RecourseSettings) -> Campaign:
    """The campaign as seen from the recourse date: planning on ``recourse.date`` over the lanes
    of ``recourse.modes`` (every lane when None)."""
    lanes = campaign.lanes
    if recourse.modes is not None:
        lanes = lanes[lanes["mode"].isin(recourse.modes)].reset_index(drop=True)
    config = campaign.config.model_copy(update={"planning_date": recourse.date})
    return dataclasses.replace(campaign, config=config, lanes=lanes, warnings=[])


def has_scenarios_file(campaign: Campaign) -> bool:
    """Whether the campaign folder has a scenarios.csv (a broken link counts: it is reported)."""
    path = campaign.root / SCENARIOS_FILE
    return path.exists() or path.is_symlink()


def campaign_scenarios(campaign: Campaign, recourse: RecourseSettings) -> tuple[Scenarios, list]:
    """scenarios.csv when the campaign folder has one, else the scenarios SPEC §8 generates.

    Raises :class:`~optimizer.io.errors.InputError` for a scenarios.csv with problems;
    returns its warnings (a pair whose scenario mean is off demand.csv's)."""
    if has_scenarios_file(campaign):
        scenarios, problems = read_scenarios(campaign.root / SCENARIOS_FILE, campaign.demand)
        if scenarios is None:
            raise InputError(problems, campaign.root)
        return scenarios, problems  # with scenarios, the problems are warnings
    return generate_scenarios(campaign.demand, campaign.skus, recourse), []


def scenario_demand(stage1: Instance, scenarios: Scenarios) -> ScenarioDemand:
    """The scenarios' demand as (scenario × pair) matrices over stage 1's demand pairs."""
    p = stage1.pairs
    demand_pairs = p.index[p["has_demand"].to_numpy(bool)]
    n = len(scenarios)
    frame = scenarios.demand
    position = pd.MultiIndex.from_arrays([frame["sku"].astype(str), frame["warehouse"].astype(str)])
    first = position[: len(frame) // max(n, 1)]
    order = first.get_indexer(demand_pairs)
    if (order < 0).any():
        missing = demand_pairs[order < 0][0]
        raise ValueError(f"pair {missing} has demand but no scenario row")
    pick = lambda column: scenarios.values(column)[:, order]  # noqa: E731
    mean, sd = pick("mean").astype(float), pick("sd").astype(float)
    names = pick("distribution")
    dist = np.stack([distribution_codes(names[k], mean[k], sd[k]) for k in range(n)]) if n else mean
    ed = np.asarray(expected_demand(mean, sd, dist), float).reshape(mean.shape)
    target = np.full(mean.shape, np.nan)
    beta = stage1.min_fill_rate
    if beta is not None:
        demand_rows = p.loc[demand_pairs]
        for k in range(n):
            rows = _scenario_pairs(demand_rows, mean[k], sd[k], dist[k], ed[k])
            live = mean[k] > 0
            target[k, live] = service_stock(rows[live], beta)
    return ScenarioDemand(demand_pairs, np.asarray(scenarios.probabilities, float), tuple(scenarios.ids),
                          mean, sd, dist, ed, target)


def _scenario_pairs(pairs: pd.DataFrame, mean, sd, dist, ed) -> pd.DataFrame:
    """``pairs`` with its demand columns those of one scenario."""
    rows = pairs.copy()
    rows["mean"], rows["sd"], rows["dist"], rows["expected_demand"] = mean, sd, dist, ed
    rows["spread"] = spread(mean, sd, dist)
    return rows


def _scenario_stock_limits(inst: Instance, demand: ScenarioDemand) -> pd.Series:
    """Per pair, the largest economic stock over the scenarios (the route bounds of a stage)."""
    base = inst.pairs
    limit = pd.Series(base["economic_stock"].to_numpy(float), index=base.index)
    rows = base.loc[base.index.intersection(demand.pairs)]
    at = demand.pairs.get_indexer(rows.index)
    largest = np.full(len(rows), -np.inf)
    for k in range(len(demand)):
        scen = _scenario_pairs(rows, demand.mean[k, at], demand.sd[k, at], demand.dist[k, at],
                               demand.expected_demand[k, at])
        scen["service_stock"] = demand.service_stock[k, at]
        largest = np.maximum(largest, economic_stock_limit(scen, inst.routes))
    limit.loc[rows.index] = largest
    return limit




def effective_recourse(campaign: Campaign) -> tuple[RecourseSettings, str]:
    """campaign.toml's ``[recourse]`` with ρ from forecast_audit.csv when the table does not set
    ``resolved_share`` and the audit has one; and where ρ came from."""
    recourse = campaign.config.recourse
    if recourse is None:
        raise ValueError(f"campaign {campaign.config.name!r} has no [recourse] table")
    if "resolved_share" in recourse.model_fields_set:
        return recourse, "campaign.toml [recourse]"
    path = campaign.root / FORECAST_AUDIT_FILE
    try:
        column = pd.read_csv(path, usecols=["resolved_share"])["resolved_share"].dropna()
    except (OSError, ValueError, pd.errors.ParserError):
        return recourse, "the default"
    if column.empty or not 0.0 <= float(column.iloc[0]) <= 1.0:
        return recourse, "the default"
    return recourse.model_copy(update={"resolved_share": float(column.iloc[0])}), FORECAST_AUDIT_FILE


def build_two_stage(campaign: Campaign, settings: Settings | None = None) -> TwoStage:
    """Both stages' instances and the scenarios of a campaign with ``[recourse]`` (ρ as
    :func:`effective_recourse` says)."""
    recourse, _ = effective_recourse(campaign)
    settings = settings or Settings()
    scenarios, warnings = campaign_scenarios(campaign, recourse)
    first = build_instance(campaign, settings)
    second = build_instance(stage2_campaign(campaign, recourse), settings)
    demand = scenario_demand(first, scenarios)
    first = with_stock_limits(first, _scenario_stock_limits(first, demand))
    second = with_stock_limits(second, _scenario_stock_limits(second, demand))
    return TwoStage(first, second, recourse, scenarios, demand, tuple(warnings))


def with_scenarios(ts: TwoStage, scenarios: Scenarios) -> TwoStage:
    """``ts`` on other scenarios (to evaluate a plan out of sample, or one scenario alone):
    stage 2's route bounds from those scenarios, stage 1's the larger of both sets' bounds
    (a stage-1 plan made for ``ts`` stays within them)."""
    demand = scenario_demand(ts.stage1, scenarios)
    first = ts.stage1.pairs["economic_stock"]
    limits = np.maximum(_scenario_stock_limits(ts.stage1, demand), first)
    return TwoStage(with_stock_limits(ts.stage1, limits),
                    with_stock_limits(ts.stage2, _scenario_stock_limits(ts.stage2, demand)),
                    ts.recourse, scenarios, demand)


def one_scenario(scenarios: Scenarios, k: int) -> Scenarios:
    """Scenario ``k`` alone, with probability 1."""
    rows = scenarios.demand[scenarios.demand["scenario"] == scenarios.ids[k]].reset_index(drop=True)
    return Scenarios((scenarios.ids[k],), np.ones(1), rows)


__all__ = ["ScenarioDemand", "TwoStage", "build_two_stage", "effective_recourse", "has_scenarios_file", "one_scenario", "with_scenarios", "campaign_scenarios", "scenario_demand",
           "stage2_campaign"]
