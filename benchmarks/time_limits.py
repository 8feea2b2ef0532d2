"""Wall time against the time limit: ``plan`` and ``frontier`` as a user runs them.

    python benchmarks/time_limits.py                                   # data/sample: plan at 5, 20, 60 s; frontier at 20 s
    python benchmarks/time_limits.py --campaign /tmp/c5000 --plan-limits 60 120 --frontier-limit 0
    python benchmarks/time_limits.py --generated 5000                  # a generated campaign (samples.campaign, seed 7)

``plan`` is run as a subprocess, and its wall time is measured around the whole process
(interpreter start and imports included, which the limit does not count).  ``frontier``
(``--steps``, default 6) reports each point's seconds (its solve and evaluation, which the
per-point limit covers); the one build is outside it.  Each line prints the ratio to the
limit.  This is a measurement, not a test: nothing here asserts a figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # samples/ (the generators) is not installed
    sys.path.insert(0, str(REPO))


def _gap(summary: dict) -> str:
    return "none proven" if summary["mip_gap"] is None else f"{summary['mip_gap']:.3%}"


def run(args: list[str]) -> float:
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "optimizer", *args], cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"optimizer {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--campaign", type=Path, default=REPO / "data" / "sample")
    ap.add_argument("--generated", type=int, metavar="SKUS", help="plan a generated campaign of this many SKUs instead")
    ap.add_argument("--plan-limits", type=float, nargs="*", default=[5, 20, 60])
    ap.add_argument("--frontier-limit", type=float, default=20, help="0: no frontier")
    ap.add_argument("--steps", type=int, default=6)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        campaign = args.campaign
        if args.generated:
            from samples.campaign import generate_campaign
            campaign = generate_campaign(Path(tmp) / "campaign", args.generated, seed=7)
        for limit in args.plan_limits:
            out = Path(tmp) / f"plan-{limit:g}"
            wall = run(["plan", str(campaign), "--time-limit", f"{limit:g}", "--out", str(out)])
            s = json.loads((out / "summary.json").read_text())
            print(f"plan  limit {limit:6.1f}s  wall {wall:7.2f}s  ({wall / limit:.3f} x)  build {s['build_seconds']:.2f}s  "
                  f"solve {s['solve_seconds']:.2f}s of {s['solve_time_limit_s']:.2f}s  status {s['status']}  "
                  f"gap {_gap(s)}", flush=True)
        if args.frontier_limit:
            reports = Path(tmp) / "reports"
            wall = run(["frontier", str(campaign), "--steps", str(args.steps), "--time-limit",
                        f"{args.frontier_limit:g}", "--reports-dir", str(reports)])
            table = pd.read_csv(next(reports.rglob("frontier.csv")))
            worst = table["solve_seconds"].max()
            print(f"frontier  limit {args.frontier_limit:g}s a point  {len(table)} points  slowest point "
                  f"{worst:.2f}s ({worst / args.frontier_limit:.3f} x)  median {table['solve_seconds'].median():.2f}s  "
                  f"whole sweep {wall:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
