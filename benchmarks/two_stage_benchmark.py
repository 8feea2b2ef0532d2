"""The two-stage plan (SPEC §8) on the sample: two-stage vs single-stage with a top-up vs no
recourse, out of sample, over several planning seeds.

A copy of ``data/sample`` gets a ``[recourse]`` table (``--date``, ``--modes``,
``--scenarios``) and is planned once per seed (``--seeds``); each run's reported profits are
evaluated on ``evaluation_scenarios`` fresh scenarios (seed + 1).  Prints one row per seed —
method, status, stage-1 spend, reserve, in-sample profit, bound, gap, the out-of-sample
profits with standard errors, the value of flexibility, solve and total seconds — and the
medians.

    python benchmarks/two_stage_benchmark.py --seeds 1 2 3 4 5
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from optimizer.settings import Settings
from optimizer.workflows.two_stage import plan_two_stage

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


def campaign_with_recourse(folder: Path, date: str, modes: list[str], scenarios: int, seed: int) -> Path:
    shutil.copytree(SAMPLE, folder)
    modes_text = ", ".join(f'"{m}"' for m in modes)
    with open(folder / "campaign.toml", "a") as f:
        f.write(f"\n[recourse]\ndate = {date}\nmodes = [{modes_text}]\nscenarios = {scenarios}\nseed = {seed}\n")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--date", default="2026-09-28")
    ap.add_argument("--modes", nargs="+", default=["air", "courier"])
    ap.add_argument("--scenarios", type=int, default=200)
    ap.add_argument("--evaluation-scenarios", type=int, default=1000)
    args = ap.parse_args()
    settings = Settings(evaluation_scenarios=args.evaluation_scenarios)
    cols = ["seed", "method", "status", "spend", "reserve", "in-sample", "bound", "gap", "two-stage",
            "single-stage", "no recourse", "flexibility", "solve s", "total s"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            folder = campaign_with_recourse(Path(tmp) / f"s{seed}", args.date, args.modes, args.scenarios, seed)
            t0 = time.perf_counter()
            s = plan_two_stage(folder, settings).summary
            total = time.perf_counter() - t0
            rows.append((s.spend, s.two_stage_profit, s.value_of_flexibility, s.solve_seconds, total))
            gap = "—" if s.mip_gap is None else f"{s.mip_gap:.2%}"
            print(f"| {seed} | {s.two_stage_method} | {s.status} | {s.spend:,.0f} | {s.reserve:,.0f} | "
                  f"{s.expected_profit:,.0f} | {s.best_bound:,.0f} | {gap} | "
                  f"{s.two_stage_profit:,.0f} ± {s.two_stage_profit_se:,.0f} | "
                  f"{s.single_stage_profit:,.0f} ± {s.single_stage_profit_se:,.0f} | "
                  f"{s.no_recourse_profit:,.0f} | {s.value_of_flexibility:,.0f} ± {s.value_of_flexibility_se:,.0f} | "
                  f"{s.solve_seconds:.1f} | {total:.1f} |", flush=True)
    med = [statistics.median(r[i] for r in rows) for i in range(5)]
    print(f"\nmedian: spend {med[0]:,.0f}, two-stage {med[1]:,.0f}, flexibility {med[2]:,.0f}, "
          f"solve {med[3]:.1f} s, total {med[4]:.1f} s")


if __name__ == "__main__":
    main()
