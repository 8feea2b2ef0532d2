"""Catalogues past one machine: plan a large campaign as supplier groups on Dask.

A catalogue of tens of thousands of SKUs is a model of over a million routes:
slow to build in Pyomo, and no single MIP of that size gets anywhere in a planning
session.  The coupling between SKUs is weak, though: the budget, warehouse and
lane space, and lane shipments are shared; everything else belongs to one SKU or
one supplier.  So:

1. :func:`split_campaign` groups the **suppliers** into parts of similar SKU counts
   (a supplier is never split, so its minimum order value and capacity stay inside
   one part).  Each part is a complete campaign (SPEC §1) with the same dates,
   warehouses and lanes, and shares of what is shared:

   * budget ``B·w_k``, with ``B`` the run's budget (``--budget``, else campaign.toml's)
     and ``w_k`` the part's share of the **priced plan**'s spend (:func:`priced_plan`:
     the price start of the whole campaign, the relaxation's plan at the prices on
     budget, space, lanes, supplier capacity and cash at which it fits them), blended
     with 5 % of its share of the cost of covering every forecast mean
     (``Σ mean·unit_cost·(1 + duty)``; without a priced plan, that share alone);
   * each ``[[cash_limits]]`` limit ``L·w_k``;
   * warehouse space ``capacity_m3·v_kw`` and the lanes of that warehouse
     ``capacity_m3·v_kw``, with ``v_kw`` the part's share of the priced plan's volume
     at the warehouse, blended the same way with its share of the forecast volume
     (``Σ mean·volume_m3``);
   * ``max_sku_budget_share`` ``α/w_k`` (at most 1), so a SKU's cap stays ``α·B``.

   Only suppliers with forecast cost found a part, so every ``w_k`` is positive;
   suppliers without demand join the smallest part (a campaign with no demand at
   all is one part).  Every other override (delays, service target, time limit,
   gap, threads) reaches each part as it is.

2. Each part is planned by the ordinary engine (:func:`~optimizer.workflows.planner.plan_campaign`)
   as one task on a ``dask.distributed`` client (its files travel as text: the
   workers need no shared disk), or one after the other in this process.
3. :func:`merge_parts` sums the parts' lines per route on the whole campaign.
   Every rule of SPEC §2 still holds — the shares add up to the whole, and a lane
   that carries the summed volume needs no more containers or lane fees than the
   parts paid together, so spend can only fall.  The rounding heuristic
   (:mod:`optimizer.solve.rounding`) then spends what the shares left unused and
   re-balances containers across the whole catalogue (fill and ±1 lane moves).

4. :func:`~optimizer.workflows.partition_bound.partition_bound` proves a bound on the
   whole campaign (each part's own bound holds for its shares only): the Lagrangian
   of the shared rows, one LP per part and price round.  ``status`` is
   ``"partitioned"``, ``best_bound`` that bound (null when none could be proven,
   ``bound_note`` says why), and ``parts.csv`` lists each part's budget, profit,
   bound on its shares and gap.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import PlanEvaluation, evaluate_plan, summarize
from optimizer.io.campaign import Campaign, config_text, frame_csv, load_campaign, skus_csv
from optimizer.io.errors import InputError, Problem
from optimizer.io.summary import RunSummary
from optimizer.prep.instance import build_instance
from optimizer.settings import Settings
from optimizer.solve.diagnose import ServiceInfeasible
from optimizer.solve.price_start import PriceStart
from optimizer.solve.rounding import RoundingHeuristic
from optimizer.status import Status
from optimizer.workflows.partition_bound import partition_bound

log = logging.getLogger(__name__)

PART_COLUMNS = ["part", "skus", "suppliers", "budget", "expected_profit", "spend", "bound",
                "gap", "status", "build_seconds", "solve_seconds"]
# Suppliers named in a part's label before the rest are counted.
LABEL_SUPPLIERS = 3
# Shares from a priced plan: this share of them is the forecast's (every part keeps some).
FORECAST_BLEND = 0.05


@dataclass
class Part:
    """One supplier group of a split campaign: its folder as text, its size, how messages name it."""

    files: dict[str, str]  # a campaign folder: file name → text
    skus: int
    suppliers: int
    label: str = "part"  # "part 2 of 4 (suppliers S01, S07)": how messages name it
    campaign_dir: str = ""  # the folder the part was derived from
    #: The part's folder on the whole campaign's budget, cash limits and space (not its
    #: shares): what its term of the whole campaign's bound is built on.
    bound_files: dict[str, str] | None = None


# ------------------------------------------------------------ the split
def split_campaign(campaign: Campaign, n_parts: int, budget: float | None = None,
                   priced: pd.DataFrame | None = None) -> list[Part]:
    """The campaign as at most ``n_parts`` campaign folders, by supplier.

    ``budget`` is the whole budget to share out (default: campaign.toml's). Only
    suppliers with forecast cost (demand at a purchase cost) found parts, so every
    part's budget share is positive; suppliers without demand join the part with
    the fewest SKUs. A campaign without any demand is one part.

    ``priced``: a plan of the whole campaign (columns ``sku, warehouse, spend,
    volume``, e.g. :func:`priced_plan`); the shares of budget, cash limits and space
    are then the plan's, blended with the forecast's (:data:`FORECAST_BLEND` of them),
    which keeps every part's share positive.
    """
    if n_parts < 1:
        raise ValueError(f"n_parts must be at least 1, got {n_parts}")
    budget = campaign.config.budget if budget is None else float(budget)
    demand = _demand_weights(campaign)
    groups = _supplier_groups(campaign.skus, demand.groupby("supplier")["cover_cost"].sum(), int(n_parts))
    n = max(groups.values(), default=0) + 1
    demand["part"] = demand["supplier"].map(groups)
    cost_share = _shares(demand.groupby("part")["cover_cost"].sum(), n)
    volume = demand.pivot_table(index="part", columns="warehouse", values="volume",
                                aggfunc="sum", fill_value=0.0)
    if priced is not None:
        plan = priced.merge(campaign.skus[["sku", "supplier"]], on="sku")
        plan["part"] = plan["supplier"].map(groups)
        spent = plan.groupby("part")["spend"].sum()
        if spent.sum() > 0:
            cost_share = (1 - FORECAST_BLEND) * _shares(spent, n) + FORECAST_BLEND * cost_share
        placed = plan.pivot_table(index="part", columns="warehouse", values="volume", aggfunc="sum",
                                  fill_value=0.0).reindex(index=range(n), fill_value=0.0)
        volume = volume.reindex(index=range(n), fill_value=0.0)
        for wh in volume.columns:
            if wh in placed.columns and placed[wh].sum() > 0 and volume[wh].sum() > 0:
                volume[wh] = ((1 - FORECAST_BLEND) * placed[wh] / placed[wh].sum()
                              + FORECAST_BLEND * volume[wh] / volume[wh].sum())
    suppliers = [sorted(f for f, part in groups.items() if part == k) for k in range(n)]
    return [_part(campaign, suppliers[k], k, n, cost_share[k], volume, budget) for k in range(n)]


def priced_plan(heuristic: RoundingHeuristic) -> pd.DataFrame:
    """The price start's plan of the whole campaign (``heuristic``'s instance;
    :mod:`optimizer.solve.price_start`: prices on the budget, space, lanes, supplier
    capacity and cash limits at which the relaxation's plan fits them), per route:
    ``sku, warehouse, spend, volume``."""
    inst = heuristic.inst
    units = PriceStart(heuristic).units(inst.budget)
    routes = inst.routes.reset_index()
    return pd.DataFrame({"sku": routes["sku"], "warehouse": routes["warehouse"],
                         "spend": units * routes["landed_cost"].to_numpy(float),
                         "volume": units * routes["volume_m3"].to_numpy(float)})


def _demand_weights(campaign: Campaign) -> pd.DataFrame:
    """demand.csv rows with their supplier, forecast cost and forecast volume."""
    demand = campaign.demand.merge(
        campaign.skus[["sku", "supplier", "unit_cost", "duty_rate", "volume_m3"]], on="sku")
    demand["cover_cost"] = demand["mean"] * demand["unit_cost"] * (1 + demand["duty_rate"])
    demand["volume"] = demand["mean"] * demand["volume_m3"]
    return demand


def _part(campaign: Campaign, suppliers: list[str], k: int, n: int, w: float,
          volume: pd.DataFrame, budget: float) -> Part:
    """Part ``k`` of ``n``: the suppliers' rows and its shares of what is shared."""
    skus = campaign.skus[campaign.skus["supplier"].isin(suppliers)]
    names = set(skus["sku"])
    warehouses = campaign.warehouses.copy()
    space = {wh: _volume_share(volume, k, wh, w) for wh in warehouses["warehouse"]}
    warehouses["capacity_m3"] = warehouses["capacity_m3"] * warehouses["warehouse"].map(space)
    lanes = campaign.lanes.copy()
    lanes["capacity_m3"] = lanes["capacity_m3"] * lanes["warehouse"].map(space)
    own = {
        "skus.csv": skus_csv(skus),
        "suppliers.csv": frame_csv(campaign.suppliers[campaign.suppliers["supplier"].isin(suppliers)]),
        "demand.csv": frame_csv(campaign.demand[campaign.demand["sku"].isin(names)]),
    }
    if len(campaign.inventory):
        own["inventory.csv"] = frame_csv(campaign.inventory[campaign.inventory["sku"].isin(names)])
    if len(campaign.fees):
        own["fees.csv"] = frame_csv(campaign.fees[campaign.fees["sku"].isin(names)])
    files = {"campaign.toml": _part_config(campaign, k, n, w, budget),
             "warehouses.csv": frame_csv(warehouses), "lanes.csv": frame_csv(lanes), **own}
    whole = {"campaign.toml": _part_config(campaign, k, n, 1.0, budget),
             "warehouses.csv": frame_csv(campaign.warehouses), "lanes.csv": frame_csv(campaign.lanes), **own}
    return Part(files, len(skus), len(suppliers), part_label(k, n, suppliers), str(campaign.root), whole)


def _part_config(campaign: Campaign, k: int, n: int, w: float, budget: float) -> str:
    """campaign.toml of part ``k``: budget, cash limits and SKU cap at share ``w``."""
    cfg = campaign.config
    cap = cfg.max_sku_budget_share
    return config_text(
        cfg, name=f"{cfg.name} (part {k + 1} of {n})", budget=float(budget * w),
        max_sku_budget_share=None if cap is None else float(min(1.0, cap / max(w, 1e-12))),  # a SKU's cap stays α·B
        cash_limits=[c.model_copy(update={"limit": float(c.limit * w)}) for c in cfg.cash_limits])


def part_label(k: int, n: int, suppliers: list[str]) -> str:
    """How a message names part ``k`` (0-based) of ``n``: "part 2 of 4 (suppliers S01, S07)"."""
    shown = [s if s.isprintable() else repr(s) for s in suppliers[:LABEL_SUPPLIERS]]
    if len(suppliers) > LABEL_SUPPLIERS:
        shown[-1] += f" and {len(suppliers) - LABEL_SUPPLIERS} more"
    noun = "supplier" if len(suppliers) == 1 else "suppliers"
    return f"part {k + 1} of {n} ({noun} {', '.join(shown)})"


def _supplier_groups(skus: pd.DataFrame, cost: pd.Series, n_parts: int) -> dict[str, int]:
    """Suppliers to parts, largest first onto the part with fewest SKUs (deterministic).

    Suppliers with forecast cost are placed first, one to each part while parts
    are empty, so each part gets a positive share; there are at most as many parts
    as such suppliers (and at least one). The others then fill in by SKU count.
    """
    sizes = skus.groupby("supplier").size().sort_index()
    paying = cost.reindex(sizes.index).fillna(0.0) > 0
    n = max(1, min(n_parts, int(paying.sum())))
    load = np.zeros(n)
    groups = {}
    for supplier, size in sorted(sizes.items(), key=lambda kv: (not paying[kv[0]], -kv[1], kv[0])):
        k = int(np.argmin(load))
        groups[supplier] = k
        load[k] += size
    return groups


def _shares(values: pd.Series, n_parts: int) -> np.ndarray:
    """Each part's share of ``values`` (equal shares when they sum to 0)."""
    values = values.reindex(range(n_parts)).fillna(0.0).to_numpy(float)
    total = values.sum()
    return values / total if total > 0 else np.full(n_parts, 1.0 / n_parts)


def _volume_share(volume: pd.DataFrame, k: int, warehouse: str, fallback: float) -> float:
    """Part ``k``'s share of the forecast volume at ``warehouse`` (``fallback`` if there is none)."""
    if warehouse not in volume.columns or volume[warehouse].sum() <= 0:
        return fallback
    return float(volume[warehouse].reindex(volume.index.union([k])).fillna(0.0)[k]
                 / volume[warehouse].sum())


# ------------------------------------------------------------ planning the parts
class PartInputError(InputError):
    """A part's derived folder failed a check: its problems, named by the part and the campaign folder.

    The lines of the problems are those of the part's own files (a subset of the
    campaign's rows). Pickles whole, so it travels back from a Dask worker.
    """

    def __init__(self, problems: list[Problem], folder, part: str):
        self.part = part
        super().__init__(problems, folder)

    def __str__(self) -> str:
        n = len(self.problems)
        head = (f"{n} {'problem' if n == 1 else 'problems'} in {self.part} of campaign folder "
                f"{self.folder} (lines are those of the part's own files):")
        return "\n".join([head] + [f"  {p}" for p in self.problems])

    def __reduce__(self):
        return type(self), (self.problems, self.folder, self.part)


class PartServiceInfeasible(ServiceInfeasible):
    """A part cannot meet the service target on its shares of the budget, space and cash limits.

    Pickles whole, so it travels back from a Dask worker.
    """

    def __init__(self, beta: float, reasons: list[str], folder, part: str):
        self.folder = folder
        self.part = part
        super().__init__(beta, reasons, min_budget=None)  # a part's budget is not the campaign's

    def __str__(self) -> str:
        head = (f"The service target min_fill_rate = {self.beta:g} cannot be met in {self.part} of "
                f"campaign folder {self.folder}, on its shares of the budget, space and cash limits:")
        return "\n".join([head] + [f"  - {r}" for r in self.reasons])

    def __reduce__(self):
        return type(self), (self.beta, self.reasons, self.folder, self.part)


def part_settings(settings: Settings) -> Settings:
    """The settings a part is planned with: all of them but the budget.

    A part's folder carries its share of the (overridden) budget, so the part
    plans with no budget of its own and no larger budget to re-solve for.
    """
    return settings.update(budget=None, max_budget=None)


def plan_part(part: Part, settings: Settings) -> dict:
    """Plan one part (on a worker): its lines (``"lines"``, records) and its
    :class:`~optimizer.io.summary.RunSummary` (``"summary"``).

    A failure is raised naming the part and the campaign folder it came from,
    never the temporary folder the part is planned in.
    """
    from optimizer.workflows.planner import SolveFailed, plan_campaign

    where = f"{part.label} of campaign folder {part.campaign_dir}"
    with tempfile.TemporaryDirectory(prefix="part-") as tmp:
        for name, text in part.files.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        try:
            run = plan_campaign(load_campaign(tmp), settings, progress=log.debug)
        except InputError as e:
            raise PartInputError(e.problems, part.campaign_dir, part.label) from e
        except ServiceInfeasible as e:
            raise PartServiceInfeasible(e.beta, e.reasons, part.campaign_dir, part.label) from e
        except SolveFailed as e:
            raise SolveFailed(f"{where}: {e}") from e
    lines = run.evaluation.lines[["sku", "warehouse", "mode", "units"]]
    return {"lines": lines.to_dict("records"), "summary": run.summary, "duals": run.outcome.lp_duals}


def plan_partitioned(campaign: Campaign, n_parts: int, settings: Settings | None = None,
                     client=None, progress=None) -> tuple[PlanEvaluation, RunSummary, pd.DataFrame]:
    """Split, plan every part (on ``client`` if given), merge and polish.

    The overridden budget (else campaign.toml's) is what the parts share; every
    other override reaches each part as it is. Raises ValueError for ``n_parts < 1``.
    Returns the evaluated plan, its summary (SPEC §3) and the per-part table.
    """
    if n_parts < 1:
        raise ValueError(f"n_parts must be at least 1, got {n_parts}")
    say = progress or log.info
    settings = settings or Settings()
    t0 = time.perf_counter()
    heuristic = RoundingHeuristic(build_instance(campaign, settings))  # the priced plan's, then the polish's
    parts = split_campaign(campaign, n_parts, settings.what_if.budget, priced=priced_plan(heuristic))
    say(_split_line(len(parts), n_parts))
    each = part_settings(settings)
    if client is None:
        results = [plan_part(part, each) for part in parts]
    else:
        futures = client.map(plan_part, parts, [each] * len(parts), pure=False)
        results = client.gather(futures)
    parts_seconds = time.perf_counter() - t0
    say(f"planned {_parts(len(parts))} in {parts_seconds:.1f}s; pricing the shared rows for a bound")
    found = partition_bound(parts, results, campaign, settings, client, progress=say)
    ev, summary = merge_parts(heuristic, results, polish_seconds=settings.pipeline.partition_polish_seconds,
                              bound=found.bound)
    table = pd.DataFrame([_part_row(k, part, r) for k, (part, r) in enumerate(zip(parts, results))],
                         columns=PART_COLUMNS)
    summary = summary.updated(parts=len(parts), parts_seconds=round(parts_seconds, 3),
                              bound_seconds=round(found.seconds, 3), bound_rounds=found.rounds,
                              bound_evaluations=found.evaluations, bound_note=found.note or None,
                              solve_seconds=round(time.perf_counter() - t0, 3))
    gap = "no bound" if summary.mip_gap is None else f"gap {summary.mip_gap:.3%} to bound {summary.best_bound:,.2f}"
    say(f"merged {_parts(len(parts))}: expected profit {ev.expected_profit:,.2f}, {gap}")
    return ev, summary, table


def _parts(n: int) -> str:
    return f"{n} part" if n == 1 else f"{n} parts"


def _split_line(made: int, asked: int) -> str:
    """The progress line of the split; says why there are fewer parts than asked."""
    line = f"split into {_parts(made)} by supplier"
    if made < asked:
        suppliers = "1 supplier has" if made == 1 else f"{made} suppliers have"
        line += f" ({asked} asked, but only {suppliers} forecast demand)"
    return line


def merge_parts(heuristic: RoundingHeuristic, results: list[dict], polish_seconds: float,
                bound: float | None = None) -> tuple[PlanEvaluation, RunSummary]:
    """The parts' lines on the whole campaign (``heuristic``'s instance), then the
    heuristic's fill and lane moves; ``bound``: a proven bound on the whole campaign,
    when there is one."""
    inst = heuristic.inst
    lines = pd.DataFrame([line for r in results for line in r["lines"]],
                         columns=["sku", "warehouse", "mode", "units"]).astype({"units": float})
    merged = lines.groupby(["sku", "warehouse", "mode"])["units"].sum()
    units = merged.reindex(inst.routes.index).fillna(0.0).to_numpy(float)
    merged_profit = evaluate_plan(inst, pd.Series(units, index=inst.routes.index)).expected_profit
    polished = heuristic.plan(units, budget=inst.budget, time_limit_s=polish_seconds)
    if polished is not None and heuristic.exact_profit(polished) > merged_profit:
        units = polished
    ev = evaluate_plan(inst, pd.Series(units, index=inst.routes.index))
    summary = summarize(
        inst, ev, status=Status.PARTITIONED, bound=bound, build_seconds=0.0, solve_seconds=0.0,
        n_variables=sum(r["summary"].n_variables for r in results),
        n_constraints=sum(r["summary"].n_constraints for r in results),
        extra={"merged_profit_before_polish": round(merged_profit, 6),
               "campaign_dir": str(inst.campaign.root)})
    return ev, summary


def _part_row(k: int, part: Part, result: dict) -> dict:
    s: RunSummary = result["summary"]
    return {"part": k + 1, "skus": part.skus, "suppliers": part.suppliers, "budget": s.budget,
            "expected_profit": s.expected_profit, "spend": s.spend, "bound": s.best_bound,
            "gap": s.mip_gap, "status": s.status, "build_seconds": s.build_seconds,
            "solve_seconds": s.solve_seconds}


__all__ = ["PART_COLUMNS", "Part", "PartInputError", "PartServiceInfeasible", "merge_parts", "part_label",
           "part_settings", "plan_part", "plan_partitioned", "split_campaign"]
