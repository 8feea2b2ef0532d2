"""Speed and quality benchmark: generated campaigns of several sizes.

    python benchmarks/run_benchmark.py                      # 300, 1000, 5000 SKUs, 3 runs each
    python benchmarks/run_benchmark.py --sizes 300 --repeats 5
    python benchmarks/run_benchmark.py --sizes --partitioned 50000:10   # on a Dask LocalCluster
    python benchmarks/run_benchmark.py --sizes 5000 --economics both    # SPEC §6 off, then on
    python benchmarks/run_benchmark.py --compare --kinds plain minimums  # vs plain HiGHS, the rule

For each size it generates a campaign like the bundled sample (seeded,
:func:`samples.campaign.generate_campaign`), then per run, through the same
:class:`~optimizer.workflows.planner.Planner` as ``plan``: builds the instance and
model, solves with the size's time limit, evaluates the plan exactly, and finally
re-solves the same persistent model with the budget raised by 10 % (the what-if
finance runs), given ``--resolve-share`` (default 30 %) of the cold run's build +
solve time.  It prints per-run figures and the medians: build seconds, the
hand-off to HiGHS (inside the solve), their share of the run (build + solve), solve
seconds, when the solve had its first plan (and that plan's gap to the final
bound), exact expected profit, the bound, the gap, and the re-solve's seconds and gap.

``--economics on`` gives the campaigns the seller economics of SPEC §6 (fees, storage,
a bonded 3PL, deposits, CNY quotes and three monthly cash limits,
:mod:`samples.economics`); ``both`` runs each size without and then with them (rows
marked ``§6``), the same catalogue and demand either way.

``--partitioned SKUS:PARTS`` plans a generated campaign as PARTS supplier groups
on a Dask LocalCluster (:mod:`optimizer.workflows.partition`) and prints the wall time, the
merged plan's exact profit before and after the whole-catalogue polish, the whole
campaign's bound and gap (:mod:`optimizer.workflows.partition_bound`), and each part's gap
to its own bound.

``--compare`` runs each size and kind once through this planner, plain HiGHS on the same
model and time limit, and the spreadsheet rule, and prints a Markdown table: profits,
gaps and the profit ratios.

This is a measurement, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # samples/ (the campaign generator) is not installed
    sys.path.insert(0, str(REPO))

from optimizer.evaluate.plan import evaluate_plan, relative_gap
from optimizer.evaluate.rule_of_thumb import rule_of_thumb
from optimizer.io.campaign import load_campaign
from optimizer.settings import Settings
from optimizer.solve.highs import solve_once
from optimizer.workflows.planner import Planner
from samples.campaign import generate_campaign
from samples.kinds import KINDS, generate_kind

TIME_LIMITS = {300: 10.0, 1000: 60.0, 5000: 120.0}


def one_run(campaign, time_limit: float, gap: float, threads: int | None = None,
            resolve_share: float = 0.3) -> dict:
    gc.collect()  # the last run's model is garbage in cycles: collect it outside the timing
    budget = campaign.config.budget
    # Built for the +10 % what-if re-solve below, as the frontier and the explorer build.
    planner = Planner(campaign, Settings(time_limit_s=time_limit, mip_gap=gap, threads=threads),
                      max_budget=budget * 1.1, progress=lambda _: None)
    build = planner.build_seconds
    first = planner.solve()
    out = first.outcome
    row = {"build_s": build, "solve_s": out.solve_seconds, "status": first.status,
           "handoff_s": out.handoff_seconds,
           "build_share": (build + out.handoff_seconds) / (build + out.solve_seconds),
           "first_s": out.first_plan_seconds if out.first_plan_seconds is not None else float("nan"),
           "first_gap": float("nan"), "profit": float("nan"), "bound": first.bound, "gap": float("nan"),
           "resolve_s": float("nan"), "resolve_gap": float("nan")}
    if first.has_plan and first.evaluation.lines.empty and first.status != "optimal":
        row["status"] = "empty plan (a failure, as `plan` reports it)"
    if first.has_plan:
        row["profit"] = first.expected_profit
        if first.gap is not None:
            row["gap"] = first.gap
            row["first_gap"] = relative_gap(first.bound, out.first_plan_profit)
        # The what-if gets resolve_share of the cold run's time (build + solve): what
        # gap does it reach there?
        again = planner.solve(budget * 1.1, time_limit_s=resolve_share * (build + out.solve_seconds))
        row["resolve_s"] = again.outcome.solve_seconds
        if again.gap is not None:
            row["resolve_gap"] = again.gap
    return row


def compare_run(campaign, time_limit: float, gap: float, threads: int | None = None) -> dict:
    """This planner, plain HiGHS on the same model and time limit, and the spreadsheet rule.

    Plain HiGHS gets a fresh build of the same model and one MIP solve of ``time_limit``
    (no price start, chords, rounding or restricted MIP); its plan is evaluated exactly
    like the planner's, and its own bound gives its gap. The rule of thumb is
    :func:`~optimizer.evaluate.rule_of_thumb.rule_of_thumb` (forecast + 1.645 sd − stock,
    cheapest lane, MOQ rounding, cut to the budget, supplier minimums kept).
    """
    gc.collect()
    settings = Settings(time_limit_s=time_limit, mip_gap=gap, threads=threads)
    planner = Planner(campaign, settings, progress=lambda _: None)
    ours = planner.solve()
    rule = rule_of_thumb(planner.instance).expected_profit
    del planner
    gc.collect()
    plain = Planner(campaign, settings, progress=lambda _: None)
    inst, model = plain.instance, plain.model
    res = solve_once(model, time_limit=time_limit, threads=threads, mip_gap=gap)
    plain_profit, plain_gap = float("nan"), float("nan")
    if res.has_solution:
        cp = inst.index.case_pack
        units = pd.Series({k: cp[k] * (model.cases[k].value or 0.0) for k in model.ROUTES}, dtype=float)
        plain_profit = evaluate_plan(inst, units.reindex(inst.routes.index).fillna(0.0)).expected_profit
        plain_gap = relative_gap(res.bound, plain_profit) if res.bound is not None else float("nan")
    return {"profit": ours.expected_profit if ours.has_plan else float("nan"),
            "gap": ours.gap if ours.gap is not None else float("nan"), "status": ours.status,
            "plain_profit": plain_profit, "plain_gap": plain_gap, "plain_status": str(res.outcome),
            "rule_profit": rule}


def _fmt_compare(n: int, kind: str, row: dict) -> str:
    def ratio(other: float) -> str:   # a ratio to a plan that loses money says nothing
        return f"{row['profit'] / other:.4f}" if other > 0 else "(loses money)"
    return (f"| {n:,} | {kind} | {row['profit']:,.0f} | {row['gap']:.3%} | {row['plain_profit']:,.0f} | "
            f"{row['plain_gap']:.3%} ({row['plain_status']}) | {row['rule_profit']:,.0f} | "
            f"{ratio(row['plain_profit'])} | {ratio(row['rule_profit'])} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[300, 1000, 5000])
    ap.add_argument("--partitioned", nargs="*", default=[], metavar="SKUS:PARTS",
                    help="plan SKUS in PARTS supplier groups on a Dask LocalCluster")
    ap.add_argument("--part-time-limit", type=float, default=60.0,
                    help="solver time limit of each part (--partitioned)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gap", type=float, default=0.001)
    ap.add_argument("--time-limit", type=float, help="override the per-size time limit")
    ap.add_argument("--threads", type=int, help="HiGHS threads (default: HiGHS's own choice)")
    ap.add_argument("--resolve-share", type=float, default=0.3,
                    help="the re-solve's time limit as a share of the cold run's build + solve time")
    ap.add_argument("--economics", choices=("off", "on", "both"), default="off",
                    help="SPEC §6 seller economics in the generated campaigns")
    ap.add_argument("--kinds", nargs="+", choices=["plain", *KINDS], metavar="KIND",
                    help="campaign kinds of samples.kinds instead of --economics: "
                         f"plain, {', '.join(KINDS)}")
    ap.add_argument("--compare", action="store_true",
                    help="one run per size and kind: this planner vs plain HiGHS vs the spreadsheet rule")
    args = ap.parse_args(argv)
    variants = args.kinds or {"off": ("plain",), "on": ("cash",), "both": ("plain", "cash")}[args.economics]

    if args.compare:
        return _compare(args, variants)
    header = (f"{'skus':>6} {'run':>15} {'build s':>8} {'hand-off':>8} {'share':>6} {'solve s':>8} {'1st plan s':>10} {'1st gap':>8} "
              f"{'profit':>14} {'bound':>14} {'gap':>8} {'re-solve s':>10} {'re gap':>8}  status")
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for n, kind in ((n, k) for n in args.sizes for k in variants):
            campaign = load_campaign(generate_kind(Path(tmp) / f"bench_{n}_{kind}", n, kind, seed=7))
            limit = args.time_limit or TIME_LIMITS.get(n, 120.0)
            tag = "" if kind == "plain" else ("§6 " if kind == "cash" and not args.kinds else f"{kind} ")
            rows = []
            for r in range(args.repeats):
                row = one_run(campaign, limit, args.gap, args.threads, args.resolve_share)
                rows.append(row)
                print(_fmt(n, f"{tag}{r + 1}", row), flush=True)
            med = {k: statistics.median(x[k] for x in rows) for k in
                   ("build_s", "handoff_s", "build_share", "solve_s", "first_s", "first_gap", "profit", "gap", "resolve_s",
                    "resolve_gap")}
            med["bound"] = statistics.median(x["bound"] for x in rows if x["bound"] is not None) \
                if any(x["bound"] is not None for x in rows) else None
            med["status"] = "/".join(sorted({x["status"] for x in rows}))
            print(_fmt(n, f"{tag}med", med), f"(time limit {limit:g}s)", flush=True)
        for spec in args.partitioned:
            n, parts = (int(x) for x in spec.split(":"))
            partitioned_run(Path(tmp) / f"bench_{n}", n, parts, args.part_time_limit, args.gap)
    return 0


def _compare(args, variants) -> int:
    print("| SKUs | kind | planner profit | planner gap | plain HiGHS profit | plain HiGHS gap | rule of thumb "
          "| planner / plain HiGHS | planner / rule |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n, kind in ((n, k) for n in args.sizes for k in variants):
            campaign = load_campaign(generate_kind(Path(tmp) / f"bench_{n}_{kind}", n, kind, seed=7))
            limit = args.time_limit or TIME_LIMITS.get(n, 120.0)
            print(_fmt_compare(n, kind, compare_run(campaign, limit, args.gap, args.threads)), flush=True)
    return 0


def partitioned_run(folder: Path, n: int, parts: int, time_limit: float, gap: float) -> None:
    from optimizer.workflows.distributed import dask_client, describe_client
    from optimizer.workflows.partition import plan_partitioned

    campaign = load_campaign(generate_campaign(folder, n_skus=n, seed=7))
    t0 = time.perf_counter()
    with dask_client("local") as client:
        print(describe_client(client), flush=True)
        ev, summary, table = plan_partitioned(
            campaign, parts, Settings(time_limit_s=time_limit, mip_gap=gap), client)
    wall = time.perf_counter() - t0
    print(f"{n:,} SKUs in {parts} parts ({time_limit:g}s each), LocalCluster: wall {wall:.1f}s, "
          f"parts done at {summary.parts_seconds:.1f}s; profit {ev.expected_profit:,.0f} "
          f"(merged {summary.merged_profit_before_polish:,.0f}), spend {ev.spend:,.0f} of "
          f"{summary.budget:,.0f}; bound {_or_dash(summary.best_bound, '{:,.0f}')}, gap "
          f"{_or_dash(summary.mip_gap, '{:.3%}')} ({summary.bound_rounds} price rounds, {summary.bound_seconds:.1f}s); "
          f"part gaps {', '.join('-' if pd.isna(g) else f'{g:.2%}' for g in table['gap'])}",
          flush=True)


def _or_dash(value, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _fmt(n, run, row) -> str:
    bound = "-" if row["bound"] is None else f"{row['bound']:14,.0f}"
    return (f"{n:>6} {run:>15} {row['build_s']:8.2f} {row['handoff_s']:8.2f} "
            f"{row['build_share']:6.1%} {row['solve_s']:8.2f} {row['first_s']:10.2f} "
            f"{row['first_gap']:8.3%} {row['profit']:14,.0f} {bound:>14} {row['gap']:8.3%} "
            f"{row['resolve_s']:10.2f} {row['resolve_gap']:8.3%}  {row['status']}")


if __name__ == "__main__":
    sys.exit(main())
