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

   * budget ``B·w_k``, with ``w_k`` the part's share of the cost of covering every
     forecast mean at purchase cost (``Σ mean·unit_cost·(1 + duty)``);
   * warehouse space ``capacity_m3·v_kw`` and the lanes of that warehouse
     ``capacity_m3·v_kw``, with ``v_kw`` the part's share of the forecast volume
     at the warehouse (``Σ mean·volume_m3``);
   * ``max_sku_budget_share`` ``α/w_k`` (at most 1), so a SKU's cap stays ``α·B``.

2. Each part is planned by the ordinary engine (:func:`~optimizer.workflows.planner.plan_campaign`)
   as one task on a ``dask.distributed`` client (its files travel as text: the
   workers need no shared disk), or one after the other in this process.
3. :func:`merge_parts` sums the parts' lines per route on the whole campaign.
   Every rule of SPEC §2 still holds — the shares add up to the whole, and a lane
   that carries the summed volume needs no more containers or lane fees than the
   parts paid together, so spend can only fall.  The rounding heuristic
   (:mod:`optimizer.solve.rounding`) then spends what the shares left unused and
   re-balances containers across the whole catalogue (fill and ±1 lane moves).

What this does not give is a proven bound for the whole campaign: each part's
bound holds for its shares only.  The run says so: ``status`` is
``"partitioned"``, ``best_bound`` is null, and ``parts.csv`` lists each part's
budget, profit, bound and gap.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.evaluate.plan import PlanEvaluation, evaluate_plan, summarize
from optimizer.io.campaign import Campaign, config_text, frame_csv, load_campaign, skus_csv
from optimizer.prep.instance import Overrides, build_instance
from optimizer.solve.rounding import RoundingHeuristic

PART_COLUMNS = ["part", "skus", "suppliers", "budget", "expected_profit", "spend", "bound",
                "gap", "status", "build_seconds", "solve_seconds"]
# Time the whole-catalogue fill and lane moves may take after the merge.
POLISH_SECONDS = 60.0


@dataclass
class Part:
    files: dict[str, str]  # a campaign folder: file name → text
    skus: int
    suppliers: int


def split_campaign(campaign: Campaign, n_parts: int) -> list[Part]:
    """The campaign as ``n_parts`` campaign folders, by supplier."""
    skus = campaign.skus
    n_parts = max(1, min(int(n_parts), skus["supplier"].nunique()))
    groups = _supplier_groups(skus, n_parts)
    demand = campaign.demand.merge(
        skus[["sku", "supplier", "unit_cost", "duty_rate", "volume_m3"]], on="sku")
    demand["part"] = demand["supplier"].map(groups)
    demand["cover_cost"] = demand["mean"] * demand["unit_cost"] * (1 + demand["duty_rate"])
    demand["volume"] = demand["mean"] * demand["volume_m3"]
    cost_share = _shares(demand.groupby("part")["cover_cost"].sum(), n_parts)
    volume = demand.pivot_table(index="part", columns="warehouse", values="volume",
                                aggfunc="sum", fill_value=0.0)
    cfg = campaign.config
    files = []
    for k in range(n_parts):
        suppliers_k = {f for f, part in groups.items() if part == k}
        skus_k = skus[skus["supplier"].isin(suppliers_k)]
        names = set(skus_k["sku"])
        w = cost_share[k]
        warehouses = campaign.warehouses.copy()
        space = {wh: _volume_share(volume, k, wh, w) for wh in warehouses["warehouse"]}
        warehouses["capacity_m3"] = warehouses["capacity_m3"] * warehouses["warehouse"].map(space)
        lanes = campaign.lanes.copy()
        lanes["capacity_m3"] = lanes["capacity_m3"] * lanes["warehouse"].map(space)
        changes = {"name": f"{cfg.name} (part {k + 1} of {n_parts})", "budget": cfg.budget * w}
        if cfg.max_sku_budget_share is not None:
            changes["max_sku_budget_share"] = min(1.0, cfg.max_sku_budget_share / max(w, 1e-12))
        # Cash limits are shared like the budget: each part gets its cost share.
        changes["cash_limits"] = [c.model_copy(update={"limit": c.limit * w}) for c in cfg.cash_limits]
        part = {
            "campaign.toml": config_text(cfg, **changes),
            "skus.csv": skus_csv(skus_k),
            "suppliers.csv": frame_csv(campaign.suppliers[campaign.suppliers["supplier"].isin(suppliers_k)]),
            "warehouses.csv": frame_csv(warehouses),
            "lanes.csv": frame_csv(lanes),
            "demand.csv": frame_csv(campaign.demand[campaign.demand["sku"].isin(names)]),
        }
        if len(campaign.inventory):
            part["inventory.csv"] = frame_csv(campaign.inventory[campaign.inventory["sku"].isin(names)])
        if len(campaign.fees):
            part["fees.csv"] = frame_csv(campaign.fees[campaign.fees["sku"].isin(names)])
        files.append(Part(part, len(skus_k), len(suppliers_k)))
    return files


def _supplier_groups(skus: pd.DataFrame, n_parts: int) -> dict[str, int]:
    """Suppliers to parts, largest first onto the part with fewest SKUs (deterministic)."""
    sizes = skus.groupby("supplier").size().sort_index()
    load = np.zeros(n_parts)
    groups = {}
    for supplier, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        k = int(np.argmin(load))
        groups[supplier] = k
        load[k] += size
    return groups


def _shares(values: pd.Series, n_parts: int) -> np.ndarray:
    values = values.reindex(range(n_parts)).fillna(0.0).to_numpy(float)
    total = values.sum()
    return values / total if total > 0 else np.full(n_parts, 1.0 / n_parts)


def _volume_share(volume: pd.DataFrame, k: int, warehouse: str, fallback: float) -> float:
    if warehouse not in volume.columns or volume[warehouse].sum() <= 0:
        return fallback
    return float(volume[warehouse].reindex(volume.index.union([k])).fillna(0.0)[k]
                 / volume[warehouse].sum())


def plan_part(files: dict[str, str], overrides: Overrides) -> dict:
    """Plan one part (on a worker): its lines and its summary."""
    from optimizer.workflows.planner import plan_campaign

    with tempfile.TemporaryDirectory(prefix="part-") as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        run = plan_campaign(load_campaign(tmp), overrides, progress=lambda _: None)
    lines = run.evaluation.lines[["sku", "warehouse", "mode", "units"]]
    return {"lines": lines.to_dict("records"), "summary": run.summary}


def plan_partitioned(campaign: Campaign, n_parts: int, overrides: Overrides | None = None,
                     client=None, progress=None) -> tuple[PlanEvaluation, dict, pd.DataFrame]:
    """Split, plan every part (on ``client`` if given), merge and polish.

    Returns the evaluated plan, its summary (SPEC §3) and the per-part table.
    """
    say = progress or (lambda msg: None)
    overrides = overrides or Overrides()
    t0 = time.perf_counter()
    parts = split_campaign(campaign, n_parts)
    say(f"split into {len(parts)} parts by supplier")
    part_overrides = Overrides(delays=overrides.delays, min_fill_rate=overrides.min_fill_rate,
                               time_limit_s=overrides.time_limit_s, mip_gap=overrides.mip_gap)
    if client is None:
        results = [plan_part(part.files, part_overrides) for part in parts]
    else:
        futures = client.map(plan_part, [part.files for part in parts],
                             [part_overrides] * len(parts), pure=False)
        results = client.gather(futures)
    parts_seconds = time.perf_counter() - t0
    inst = build_instance(campaign, Overrides(budget=overrides.budget, delays=overrides.delays,
                                              min_fill_rate=overrides.min_fill_rate))
    ev, summary = merge_parts(inst, results, polish_seconds=POLISH_SECONDS)
    table = pd.DataFrame([_part_row(k, part, r) for k, (part, r) in enumerate(zip(parts, results))],
                         columns=PART_COLUMNS)
    summary.update(parts=len(parts), parts_seconds=round(parts_seconds, 3),
                   solve_seconds=round(time.perf_counter() - t0, 3))
    say(f"merged {len(parts)} parts: expected profit {ev.expected_profit:,.2f}")
    return ev, summary, table


def merge_parts(inst, results: list[dict], polish_seconds: float) -> tuple[PlanEvaluation, dict]:
    """The parts' lines on the whole campaign, then the heuristic's fill and lane moves."""
    lines = pd.DataFrame([line for r in results for line in r["lines"]],
                         columns=["sku", "warehouse", "mode", "units"])
    merged = lines.groupby(["sku", "warehouse", "mode"])["units"].sum()
    units = merged.reindex(inst.routes.index).fillna(0.0).to_numpy(float)
    merged_profit = evaluate_plan(inst, pd.Series(units, index=inst.routes.index)).expected_profit
    heuristic = RoundingHeuristic(inst)
    polished = heuristic.plan(units, budget=inst.budget, time_limit_s=polish_seconds)
    if polished is not None and heuristic.exact_profit(polished) > merged_profit:
        units = polished
    ev = evaluate_plan(inst, pd.Series(units, index=inst.routes.index))
    summary = summarize(
        inst, ev, status="partitioned", bound=None, build_seconds=0.0, solve_seconds=0.0,
        n_variables=sum(r["summary"]["n_variables"] for r in results),
        n_constraints=sum(r["summary"]["n_constraints"] for r in results),
        extra={"merged_profit_before_polish": round(merged_profit, 6),
               "campaign_dir": str(inst.campaign.root)})
    return ev, summary


def _part_row(k: int, part: Part, result: dict) -> dict:
    s = result["summary"]
    return {"part": k + 1, "skus": part.skus, "suppliers": part.suppliers, "budget": s["budget"],
            "expected_profit": s["expected_profit"], "spend": s["spend"], "bound": s["best_bound"],
            "gap": s["mip_gap"], "status": s["status"], "build_seconds": s["build_seconds"],
            "solve_seconds": s["solve_seconds"]}


__all__ = ["PART_COLUMNS", "Part", "merge_parts", "plan_part", "plan_partitioned", "split_campaign"]
