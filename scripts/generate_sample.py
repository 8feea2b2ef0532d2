"""Regenerate the bundled campaigns in data/ (deterministic: same code => same bytes).

    .venv/bin/python scripts/generate_sample.py                 # data/sample, sample_v1, tiny, sample_history
    .venv/bin/python scripts/generate_sample.py --history-only  # data/sample_history only (seconds)
    .venv/bin/python scripts/generate_sample.py --root DIR      # the same under DIR

data/sample: 300 SKUs, seed 2026, the full US/UK/DE network, with the seller economics
             of SPEC §6 (fees, storage, a bonded 3PL, deposits, CNY quotes, a monthly
             cash plan, weekly purchase orders; samples.economics) — the notebook default.
data/sample_v1: the same campaign without the §6 inputs (SPEC §2 economics only).
data/tiny:   6 SKUs, seed 1, 2 warehouses and 5 lanes — small enough to read by eye.
             data/sample also gets actuals.csv and forecast_audit.csv (samples.actuals,
             seed 11): three weeks of run-up sales to 2026-10-10, the monitor's sample;
             and a [recourse] table (samples.recourse): air and courier top-ups from
             2026-09-28, so it plans in two stages (SPEC §8).
data/sample_history: the sample campaign (one stage: no [recourse] table) plus
             sales_history.csv, factors.csv and [[past_promos]] (samples.history,
             seed 7): the forecast's sample.  Not
             committed (the history is 21 MB): this script rebuilds it, byte for byte.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from samples.actuals import generate_actuals
from samples.campaign import generate_campaign
from samples.history import generate_history
from samples.recourse import recourse_table, set_recourse

# folder name -> generate_campaign keyword arguments
CAMPAIGNS = {
    "sample": dict(n_skus=300, seed=2026, name="Black Friday 2026 (sample)", economics=True),
    "sample_v1": dict(n_skus=300, seed=2026, name="Black Friday 2026 (sample, SPEC §2 economics)"),
    "tiny": dict(n_skus=6, seed=1, name="Tiny demo", network="tiny"),
}
# data/sample's run-up sales (the monitor's sample): samples.actuals arguments
ACTUALS = {"as_of": "2026-10-10", "days": 21, "seed": 11}
# data/sample's top-up: five weeks before the first cutoff (2026-11-01), by air or courier
RECOURSE = {"date": "2026-09-28", "modes": ["air", "courier"]}


def generate_all(root: pathlib.Path | str = REPO / "data") -> list[pathlib.Path]:
    """Write every bundled campaign under ``root`` and return their paths."""
    root = pathlib.Path(root)
    paths = [generate_campaign(root / folder, **kwargs) for folder, kwargs in CAMPAIGNS.items()]
    generate_actuals(root / "sample", **ACTUALS)
    set_recourse(root / "sample", recourse_table(**RECOURSE))
    return paths


def generate_history_sample(root: pathlib.Path | str = REPO / "data") -> pathlib.Path:
    """Write ROOT/sample_history: the sample campaign plus two-plus years of sales history."""
    root = pathlib.Path(root)
    folder = root / "sample_history"
    if folder.exists():
        shutil.rmtree(folder)
    generate_campaign(folder, **CAMPAIGNS["sample"])
    return generate_history(folder, seed=7).folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(REPO / "data"), help="parent folder (default: data/)")
    parser.add_argument("--history-only", action="store_true",
                        help="write only ROOT/sample_history (the forecast's sample, not committed)")
    args = parser.parse_args(argv)
    if not args.history_only:
        for path in generate_all(args.root):
            print(f"wrote {path}")
    print(f"wrote {generate_history_sample(args.root)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
