"""The two-stage plan (SPEC §8) on the sample: two-stage vs single-stage with a top-up vs no
recourse, out of sample, over several planning seeds.

A copy of ``data/sample`` gets a ``[recourse]`` table (``--date``, ``--modes``,
``--scenarios``) and is planned once per seed (``--seeds``); each run's reported profits are
evaluated on ``evaluation_scenarios`` fresh scenarios (seed + 1).  Prints one row per seed —
method, status, stage-1 spend, reserve, in-sample profit, bound, gap, the out-of-sample
profits with standard errors, the value of flexibility, solve and total seconds — and the
medians.

``--generated N`` plans instead a generated campaign of N SKUs made for flexibility to pay
(:func:`flexible_campaign`: heavy-tailed lognormal demand, a sea lane now and an air lane
open from the recourse date, no minimums, a budget that binds).

    python benchmarks/two_stage_benchmark.py --seeds 1 2 3 4 5
    python benchmarks/two_stage_benchmark.py --generated 200 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # samples/ (the generators) is not installed
    sys.path.insert(0, str(REPO))

from optimizer.settings import Settings  # noqa: E402
from optimizer.workflows.two_stage import plan_two_stage  # noqa: E402
from samples.recourse import recourse_table, set_recourse  # noqa: E402

SAMPLE = REPO / "data" / "sample"


def campaign_with_recourse(folder: Path, date: str, modes: list[str], scenarios: int, seed: int) -> Path:
    shutil.copytree(SAMPLE, folder)
    return set_recourse(folder, recourse_table(date, modes, scenarios=scenarios, seed=seed))


def flexible_campaign(folder: Path, skus: int, scenarios: int, seed: int, data_seed: int = 11) -> Path:
    """N SKUs in 4 categories, one warehouse: lognormal demand (cv 0.6–1.4), sea now (35 days),
    air now and from 2026-10-15 (20 days, dearer), case pack 10, no MOQ or supplier minimum,
    a budget of 60 % of what covering every mean by sea would cost."""
    import numpy as np

    rng = np.random.default_rng(data_seed)
    folder.mkdir(parents=True)
    cost = rng.uniform(4.0, 30.0, skus).round(2)
    price = (cost * rng.uniform(2.0, 3.2, skus)).round(2)
    mean = rng.uniform(40, 400, skus).round(1)
    sd = (mean * rng.uniform(0.6, 1.4, skus)).round(1)
    budget = round(0.6 * float((cost * mean).sum()), 2)
    (folder / "campaign.toml").write_text(
        'name = "flexible benchmark"\ncurrency = "USD"\nplanning_date = 2026-09-01\npromo_start = 2026-11-27\n'
        f"promo_end = 2026-12-01\nbuffer_days = 0\nbudget = {budget}\n\n[solver]\ntime_limit_s = 60\n\n"
        f'[recourse]\ndate = 2026-10-15\nmodes = ["air"]\nresolved_share = 0.6\nscenarios = {scenarios}\n'
        f"seed = {seed}\n")
    (folder / "skus.csv").write_text(
        "sku,supplier,unit_cost,price,weight_kg,volume_m3,case_pack,moq,production_days,duty_rate,"
        "salvage_value,return_rate,category\n" + "".join(
            f"S{i:04d},F1,{cost[i]},{price[i]},0.5,0.002,10,0,10,0.0,{cost[i] / 4:.2f},0.0,c{i % 4}\n"
            for i in range(skus)))
    (folder / "demand.csv").write_text("sku,warehouse,mean,sd,distribution\n" + "".join(
        f"S{i:04d},FBA1,{mean[i]},{sd[i]},lognormal\n" for i in range(skus)))
    (folder / "warehouses.csv").write_text("warehouse,market,capacity_m3,cutoff\nFBA1,US,100000.0,2026-11-20\n")
    (folder / "lanes.csv").write_text(
        "warehouse,mode,transit_days,cost_per_kg,cost_per_m3,volumetric_kg_per_m3,shipment_cost,shipment_m3,"
        "capacity_m3\nFBA1,sea,35,0.5,0.0,0,0.0,,\nFBA1,air,20,4.0,0.0,0,0.0,,\n")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--date", default="2026-09-28")
    ap.add_argument("--modes", nargs="+", default=["air", "courier"])
    ap.add_argument("--scenarios", type=int, default=200)
    ap.add_argument("--evaluation-scenarios", type=int, default=1000)
    ap.add_argument("--generated", type=int, default=None, metavar="N",
                    help="plan a generated campaign of N SKUs where flexibility pays instead of the sample")
    ap.add_argument("--time-limit", type=float, default=None, help="solver time limit (default: the campaign's)")
    ap.add_argument("--priced", action="store_true",
                    help="the priced relaxation however small the campaign (extensive_form_limit 1)")
    args = ap.parse_args()
    settings = Settings(evaluation_scenarios=args.evaluation_scenarios, time_limit_s=args.time_limit)
    if args.priced:
        settings = settings.update(extensive_form_limit=1)
    cols = ["seed", "method", "status", "spend", "reserve", "in-sample", "bound", "gap", "two-stage",
            "single-stage", "no recourse", "flexibility", "perfect information", "solve s", "total s", "limit s"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            folder = (flexible_campaign(Path(tmp) / f"g{seed}", args.generated, args.scenarios, seed)
                      if args.generated else
                      campaign_with_recourse(Path(tmp) / f"s{seed}", args.date, args.modes, args.scenarios, seed))
            t0 = time.perf_counter()
            s = plan_two_stage(folder, settings).summary
            total = time.perf_counter() - t0
            rows.append((s.spend, s.two_stage_profit, s.value_of_flexibility, s.solve_seconds, total))
            gap = "—" if s.mip_gap is None else f"{s.mip_gap:.2%}"
            bound = "—" if s.best_bound is None else f"{s.best_bound:,.0f}"
            print(f"| {seed} | {s.two_stage_method} | {s.status} | {s.spend:,.0f} | {s.reserve:,.0f} | "
                  f"{s.expected_profit:,.0f} | {bound} | {gap} | "
                  f"{s.two_stage_profit:,.0f} ± {s.two_stage_profit_se:,.0f} | "
                  f"{s.single_stage_profit:,.0f} ± {s.single_stage_profit_se:,.0f} | "
                  f"{s.no_recourse_profit:,.0f} | {s.value_of_flexibility:,.0f} ± {s.value_of_flexibility_se:,.0f} | "
                  f"{'≤ ' if s.perfect_information_is_bound else ''}{s.perfect_information_profit:,.0f} | "
                  f"{s.solve_seconds:.1f} | {total:.1f} | {s.time_limit_s:g} |", flush=True)
    med = [statistics.median(r[i] for r in rows) for i in range(5)]
    print(f"\nmedian: spend {med[0]:,.0f}, two-stage {med[1]:,.0f}, flexibility {med[2]:,.0f}, "
          f"solve {med[3]:.1f} s, total {med[4]:.1f} s")


if __name__ == "__main__":
    main()
