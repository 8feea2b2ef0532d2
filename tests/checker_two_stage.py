"""Independent checker of a two-stage run folder (SPEC §8).

Written from the SPEC, sharing nothing with ``optimizer`` but the single-stage checker's
campaign reader and §2/§6 helpers (:mod:`checker`).  The scenarios are read from
scenarios.csv, or drawn here exactly as §8 says.  For stage 1 (plan.csv) and each
scenario's top-up (recourse.csv) it checks every line (usable from its stage's date,
modes, case packs, costs) and, in every scenario k, every rule of §8 on
``A[k] = E + Σ u1 + Σ u2[k]``: budget, MOQ and supplier minimums per order, supplier
capacity, warehouse and lane space, service, SKU share and cash limits (each stage's
lines paid on their own dates).  It computes the exact expected profit
``Σ_k π_k·profit_k`` and compares it, stage 1's spend and the reserve with summary.json.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from checker import (
    MONEY_RTOL,
    VOLUME_RTOL,
    Campaign,
    CheckReport,
    _close,
    _le,
    _pair_profit,
    expected_demand,
    expected_sales,
    load_campaign,
    min_shipments,
    plan_payments,
)


@dataclasses.dataclass
class Scenario:
    name: str
    probability: float
    demand: dict  # (sku, warehouse) -> (mean, sd, distribution)


def _categories(campaign_dir: Path) -> dict[str, str]:
    skus = pd.read_csv(campaign_dir / "skus.csv", dtype=str, keep_default_na=False)
    skus.columns = [c.strip().lower() for c in skus.columns]
    column = skus["category"] if "category" in skus else pd.Series("", index=skus.index)
    return dict(zip(skus["sku"].str.strip(), column.str.strip()))


def _generated(camp: Campaign, table: dict, categories: dict[str, str]) -> list[Scenario]:
    """SPEC §8's generated scenarios: heat exp(s·Z − s²/2), s² = ρ·ln(1 + cv²),
    Z = √γ·Z_cat + √(1−γ)·Z_sku; one standard_normal((n, C + S)) draw, categories then SKUs
    in sorted order; mean μ·h, sd σ_r·h (a poisson row: its mean's square root)."""
    rho, gamma = table.get("resolved_share", 0.5), table.get("category_share", 0.5)
    n, seed = table.get("scenarios", 200), table.get("seed", 1)
    skus = sorted(camp.skus)
    category = {s: categories.get(s, "") for s in skus}
    cats = sorted({c for c in category.values() if c})
    z = np.random.default_rng(seed).standard_normal((n, len(cats) + len(skus)))
    out = []
    width = len(str(n))
    for k in range(n):
        demand = {}
        for (s, w), (mu, sd, dist) in camp.demand.items():
            if dist == "poisson":
                sd = math.sqrt(mu)
            if mu <= 0:
                demand[(s, w)] = (mu, sd, dist)
                continue
            z_sku = z[k, len(cats) + skus.index(s)]
            zz = (math.sqrt(gamma) * z[k, cats.index(category[s])] + math.sqrt(1 - gamma) * z_sku
                  if category[s] else z_sku)
            cv2 = (sd / mu) ** 2
            s2 = rho * math.log1p(cv2)
            h = math.exp(math.sqrt(s2) * zz - s2 / 2)
            sd_r = math.sqrt(max(0.0, sd * sd - mu * mu * ((1 + cv2) ** rho - 1)) / (1 + cv2) ** rho)
            demand[(s, w)] = (mu * h, math.sqrt(mu * h) if dist == "poisson" else sd_r * h, dist)
        out.append(Scenario(f"s{k + 1:0{width}d}", 1.0 / n, demand))
    return out


def load_scenarios(campaign_dir: Path, camp: Campaign, table: dict) -> list[Scenario]:
    path = campaign_dir / "scenarios.csv"
    if not path.exists():
        return _generated(camp, table, _categories(campaign_dir))
    rows = pd.read_csv(path, dtype={"scenario": str, "sku": str, "warehouse": str})
    out = []
    for name, group in rows.groupby("scenario", sort=False):
        demand = {(r.sku, r.warehouse): (float(r.mean), float(r.sd), camp.demand[(r.sku, r.warehouse)][2])
                  for r in group.itertuples()}
        out.append(Scenario(str(name), float(group["probability"].iloc[0]), demand))
    return out


def _lines(path: Path, camp: Campaign, stage: str, modes, bad) -> dict:
    """Units per (scenario or '', sku, warehouse, mode) of plan.csv / recourse.csv, each line checked."""
    frame = pd.read_csv(path, dtype={"scenario": str, "sku": str, "warehouse": str, "mode": str})
    units = {}
    for i, row in enumerate(frame.to_dict("records"), start=2):
        s, w, m = row["sku"], row["warehouse"], row["mode"]
        where = f"{path.name} line {i} ({s}, {w}, {m})"
        u = float(row["units"])
        pack = camp.skus[s]["case_pack"]
        if u <= 0 or abs(u / pack - round(u / pack)) > 1e-9:
            bad(f"{where}: units {u:g} not a positive multiple of case_pack {pack:g}")
        if not camp.usable(s, w, m):
            bad(f"{where}: not usable from {camp.planning_date} ({stage})")
        if modes is not None and m not in modes:
            bad(f"{where}: mode {m} is not a [recourse] mode")
        if not _close(float(row["line_cost"]), camp.landed_cost(s, w, m) * u, MONEY_RTOL, 1e-6):
            bad(f"{where}: line_cost {row['line_cost']} != {camp.landed_cost(s, w, m) * u:.6f}")
        key = (row.get("scenario", ""), s, w, m)
        units[key] = units.get(key, 0) + int(round(u))
    return units


def _stage_spend(camp: Campaign, units: dict, bad, label: str) -> tuple[float, dict]:
    """A stage's spend (lines + fewest shipments), MOQ and supplier minimum checked per order."""
    per_sku, lane_volume, purchase = {}, {}, 0.0
    for (s, w, m), u in units.items():
        per_sku[s] = per_sku.get(s, 0) + u
        lane_volume[(w, m)] = lane_volume.get((w, m), 0.0) + camp.skus[s]["volume_m3"] * u
        purchase += camp.landed_cost(s, w, m) * u
    for s, u in per_sku.items():
        if 0 < u < camp.skus[s]["moq"]:
            bad(f"{label}: MOQ: sku {s} orders {u} < moq {camp.skus[s]['moq']:g}")
    value = {}
    for s, u in per_sku.items():
        f = camp.skus[s]["supplier"]
        value[f] = value.get(f, 0.0) + camp.skus[s]["unit_cost"] * u
    for f, v in value.items():
        mov = camp.suppliers.get(f, {}).get("min_order_value", 0.0)
        if v > 0 and not _le(mov, v, MONEY_RTOL):
            bad(f"{label}: supplier {f} order value {v:.4f} below min_order_value {mov:g}")
    shipments = {k: min_shipments(camp.lanes[k], vol) for k, vol in lane_volume.items()}
    return purchase + sum(camp.lanes[k]["shipment_cost"] * n for k, n in shipments.items()), shipments


def check_two_stage(campaign_dir: str | Path, run_dir: str | Path) -> CheckReport:
    """Every §8 rule in every scenario, and the exact expected profit (module docstring)."""
    campaign_dir, run = Path(campaign_dir), Path(run_dir)
    camp = load_campaign(campaign_dir)
    table = tomllib.loads((campaign_dir / "campaign.toml").read_text(encoding="utf-8"))["recourse"]
    recourse_date = table["date"] if isinstance(table["date"], date) else date.fromisoformat(table["date"])
    late = dataclasses.replace(camp, planning_date=recourse_date)
    modes = table.get("modes")
    rep = CheckReport()
    bad = rep.violations.append
    rep.budget = camp.budget

    u1 = {k[1:]: u for k, u in _lines(run / "plan.csv", camp, "stage 1", None, bad).items()}
    u2_all = _lines(run / "recourse.csv", late, "stage 2", modes, bad)
    rep.units = u1
    spend1, ship1 = _stage_spend(camp, u1, bad, "stage 1")
    rep.spend = spend1
    scenarios = load_scenarios(campaign_dir, camp, table)
    names = {sc.name for sc in scenarios}
    for key in u2_all:
        if key[0] not in names:
            bad(f"recourse.csv: unknown scenario {key[0]!r}")
    if abs(sum(sc.probability for sc in scenarios) - 1) > 1e-6:
        bad("scenario probabilities do not sum to 1")

    expected = 0.0
    for sc in scenarios:
        label = f"scenario {sc.name}"
        u2 = {k[1:]: u for k, u in u2_all.items() if k[0] == sc.name}
        spend2, ship2 = _stage_spend(late, u2, bad, label)
        if not _le(spend1 + spend2, camp.budget, MONEY_RTOL):
            bad(f"{label}: budget: {spend1:.4f} + {spend2:.4f} > {camp.budget:g}")
        both = {}
        for units in (u1, u2):
            for k, u in units.items():
                both[k] = both.get(k, 0) + u
        per_sku, per_wh, per_lane, sku_cost = {}, {}, {}, {}
        for (s, w, m), u in both.items():
            vol = camp.skus[s]["volume_m3"] * u
            per_sku[s] = per_sku.get(s, 0) + u
            per_wh[w] = per_wh.get(w, 0.0) + vol
            per_lane[(w, m)] = per_lane.get((w, m), 0.0) + vol
            sku_cost[s] = sku_cost.get(s, 0.0) + camp.landed_cost(s, w, m) * u
        per_supplier = {}
        for s, u in per_sku.items():
            f = camp.skus[s]["supplier"]
            per_supplier[f] = per_supplier.get(f, 0) + u
        for f, u in per_supplier.items():
            cap = camp.suppliers.get(f, {}).get("capacity_units", math.inf)
            if u > cap:
                bad(f"{label}: supplier {f} {u} units > capacity_units {cap:g}")
        for w, vol in per_wh.items():
            if not _le(vol, camp.warehouses[w]["capacity_m3"], VOLUME_RTOL):
                bad(f"{label}: warehouse {w} receives {vol:.6f} m3 > capacity")
        for lane, vol in per_lane.items():
            if not _le(vol, camp.lanes[lane]["capacity_m3"], VOLUME_RTOL):
                bad(f"{label}: lane {lane} carries {vol:.6f} m3 > capacity")
        if camp.max_sku_budget_share is not None:
            for s, cost in sku_cost.items():
                if not _le(cost, camp.max_sku_budget_share * camp.budget, MONEY_RTOL):
                    bad(f"{label}: sku {s} costs {cost:.4f} > share of budget")
        payments = plan_payments(camp, u1, ship1) + plan_payments(late, u2, ship2)
        for lim in camp.cash_limits:
            paid = sum(p.amount for p in payments if p.date <= lim.until)
            if not _le(paid, lim.limit, MONEY_RTOL):
                bad(f"{label}: cash {paid:.4f} paid by {lim.until} > limit {lim.limit:g}")

        ordered = {}
        for (s, w, _m), u in both.items():
            ordered[(s, w)] = ordered.get((s, w), 0) + u
        pairs = set(sc.demand) | {k for k, v in camp.existing.items() if v > 0} | set(ordered)
        profit = -spend1 - spend2
        for s, w in sorted(pairs):
            mean, sd, dist = sc.demand.get((s, w), (0.0, 0.0, "normal"))
            a = camp.existing.get((s, w), 0.0) + ordered.get((s, w), 0)
            es = expected_sales(mean, sd, a, distribution=dist)
            ed = expected_demand(mean, sd, distribution=dist)
            beta = camp.min_fill_rate
            if beta is not None and mean > 0 and not _le(beta * ed, es, 1e-6):
                bad(f"{label}: min_fill_rate: ({s}, {w}) expected sales {es:.6f} < {beta:g} x {ed:.6f}")
            profit += _pair_profit(camp, s, w, a, es, ed)
        expected += sc.probability * profit
    rep.exact_profit = expected

    summary = pd.read_json(run / "summary.json", typ="series")
    for key, want in (("expected_profit", expected), ("spend", spend1), ("reserve", camp.budget - spend1)):
        if not _close(float(summary[key]), want, 1e-6, 1e-4):
            bad(f"summary.json {key} {summary[key]} != {want:.6f}")
    return rep


__all__ = ["check_two_stage", "load_scenarios"]
