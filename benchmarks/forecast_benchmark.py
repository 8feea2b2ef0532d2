"""Forecast quality on generated sales exports, scored against the truth.

    python benchmarks/forecast_benchmark.py                      # every family, development seeds 1-4
    python benchmarks/forecast_benchmark.py --held-out           # every family, held-out seeds 101-104
    python benchmarks/forecast_benchmark.py --exports sku_trend catalogue --seeds 5 6

For each generator family (:data:`samples.history.FAMILIES`, or an export of
:data:`samples.history.EXPORTS`) and seed it generates a campaign of ``--skus`` SKUs
(:func:`samples.campaign.generate_campaign`, each SKU kept at its ``--warehouses``
largest warehouses), writes its sales history (:func:`samples.history.generate_history`)
and runs ``forecast`` on it, exactly as the command does.  Seeds 1-4
(:data:`DEV_SEEDS`) are the ones to look at while changing the method; 101-104
(:data:`HELD_OUT_SEEDS`) are run only to report, never to tune on.  The forecast of
the campaign's own Black Friday is scored against the generator's truth:

* WAPE and bias against the **expected** promo demand (demand.csv's mean, which the
  history was generated from), overall and on the new SKUs;
* 80 % interval coverage and pinball loss at P10 / P50 / P90 against one simulated
  **outcome** of the promo per pair (:mod:`optimizer.forecast.scoring`), for the
  chosen demand shapes and for a normal with the same mean and sd;
* the pieces: the baseline rate and the lift × factors each against the truth's
  (:func:`piece_biases`);
* on the slow movers, the method's negative binomial against statsforecast's
  intermittent-demand models and AutoETS (:mod:`intermittent`);
* the naive baselines "same promo last year" (last Black Friday's units, scaled to the
  promo's days) and "same promo last year × growth" (× the pair's year-on-year ratio of
  its last 8 weeks, :func:`year_on_year_growth`); pairs without one left out, so the
  method is scored on the same pairs too.

It prints one row per run, the medians over seeds, and WAPE and bias pooled over every
pair of every run, per family and over all families.  This is a measurement, not a
test: nothing here asserts a figure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # samples/ (the generators) is not installed
    sys.path.insert(0, str(REPO))

from intermittent import MODELS as INTERMITTENT_MODELS
from intermittent import slow_mover_scores

from optimizer.forecast.forecaster import forecast_campaign
from optimizer.forecast.history import load_history
from optimizer.forecast.scoring import distribution_scores, point_scores
from optimizer.io.campaign import load_campaign
from samples.campaign import generate_campaign
from samples.history import EXPORTS, FAMILIES, generate_history

DEV_SEEDS = (1, 2, 3, 4)
HELD_OUT_SEEDS = (101, 102, 103, 104)


def keep_warehouses(folder: Path, per_sku: int) -> None:
    """Give each SKU exactly ``per_sku`` demand rows (a 60 × 3 history like a seller's):
    its largest ones, and for a SKU sold at fewer warehouses, rows at the next
    warehouses of warehouses.csv at 60 % of its smallest mean."""
    path = folder / "demand.csv"
    demand = pd.read_csv(path, dtype=str)
    demand["_m"] = demand["mean"].astype(float)
    demand = demand.sort_values("_m", ascending=False).groupby("sku").head(per_sku)
    names = list(pd.read_csv(folder / "warehouses.csv", dtype=str)["warehouse"])
    extra = []
    for sku, g in demand.groupby("sku"):
        smallest = g.loc[g["_m"].idxmin()]
        others = [w for w in names if w not in set(g["warehouse"])][:per_sku - len(g)]
        for w in others:
            m, sd = 0.6 * float(smallest["mean"]), 0.6 * float(smallest["sd"])
            extra.append({"sku": sku, "warehouse": w, "mean": f"{m:.1f}", "sd": f"{sd:.1f}"})
    out = pd.concat([demand.drop(columns="_m"), pd.DataFrame(extra)], ignore_index=True)
    out.sort_values(["sku", "warehouse"]).to_csv(path, index=False, lineterminator="\n")


def last_promo_units(hist, campaign, pairs: pd.DataFrame) -> np.ndarray:
    """Units of the last past occurrence of the campaign's promo per pair, scaled to the
    campaign's promo days (NaN where the pair has no full record of it)."""
    same = [p for p in hist.promos if p.kind == hist.promo_kind]
    if not same:
        return np.full(len(pairs), np.nan)
    last = same[-1]
    s = hist.sales
    window = s[(s["date"] >= pd.Timestamp(last.start)) & (s["date"] <= pd.Timestamp(last.end))]
    counts = window.groupby(["sku", "location"])["units"].agg(["sum", "count"])
    counts = counts[counts["count"] == last.days]
    days = (campaign.config.promo_end - campaign.config.promo_start).days + 1
    idx = pd.MultiIndex.from_frame(pairs[["sku", "warehouse"]])
    return counts["sum"].reindex(idx).to_numpy(float) * days / last.days


def year_on_year_growth(hist, campaign, pairs: pd.DataFrame, weeks: int = 8) -> np.ndarray:
    """Per pair: its mean daily units in the ``weeks`` weeks before the planning date over
    the same weeks a year (52 weeks) earlier, non-promo days only, within [0.25, 4]
    (NaN where the year-ago window has no sales)."""
    s = hist.sales
    s = s[s["promo"] == 0] if "promo" in s else s
    end = pd.Timestamp(campaign.config.planning_date)

    def rate(a, b):
        w = s[(s["date"] >= a) & (s["date"] < b)]
        return w.groupby(["sku", "location"])["units"].mean()

    now = rate(end - pd.Timedelta(weeks=weeks), end)
    ago = rate(end - pd.Timedelta(weeks=52 + weeks), end - pd.Timedelta(weeks=52))
    idx = pd.MultiIndex.from_frame(pairs[["sku", "warehouse"]])
    g = now.reindex(idx).to_numpy(float) / ago.reindex(idx).where(lambda v: v > 0).to_numpy(float)
    return np.clip(g, 0.25, 4.0)


def piece_biases(t: pd.DataFrame, new: np.ndarray) -> dict:
    """The forecast's pieces against the generator's truth, on the pairs with history:

    * ``baseline_bias`` — ``Σ(b̂ − b)·L / Σ b·L``: the baseline rate ``b̂`` against the
      expected daily demand ``b`` of the 28 days before the promo, weighted by the true
      rest of the forecast ``L = expected / (b · days)`` (so it is the share of the
      bias the baseline alone would cause);
    * ``lift_bias`` — ``Σ b·(L̂ − L) / Σ b·L``, ``L̂ = lift × factors`` (the lift alone);
    * both for the SKUs new within the year too (``new_…``)."""
    days = t["promo_days"].astype(float)
    L = t["expected"] / (t["pre_rate"] * days)
    L_hat = t["mean"] / (t["baseline_rate"] * days)
    ok = (t["pre_rate"] > 0) & (t["baseline_rate"] > 0) & np.isfinite(L_hat)
    out = {}
    for name, m in (("", ok), ("new_", ok & new)):
        denom = float((t.loc[m, "pre_rate"] * L[m]).sum())
        out[f"{name}baseline_bias"] = float(((t.loc[m, "baseline_rate"] - t.loc[m, "pre_rate"]) * L[m]).sum()) / denom
        out[f"{name}lift_bias"] = float((t.loc[m, "pre_rate"] * (L_hat[m] - L[m])).sum()) / denom
    return out


def one_run(export: str, seed: int, n_skus: int, per_sku: int, root: Path) -> dict:
    folder = generate_campaign(root / f"{export}-{seed}", n_skus, seed=seed)
    keep_warehouses(folder, per_sku)
    truth = generate_history(folder, seed=seed, export=export).table
    campaign = load_campaign(folder)
    hist = load_history(campaign)
    began = time.perf_counter()
    fc = forecast_campaign(campaign, hist)
    seconds = time.perf_counter() - began
    audit = fc.audit.set_index(["sku", "warehouse"])
    t = truth.merge(fc.demand, on=["sku", "warehouse"], how="left").merge(
        fc.audit[["sku", "warehouse", "baseline_rate", "promo_days"]], on=["sku", "warehouse"], how="left")
    shape = (t["distribution"] if "distribution" in t else pd.Series("", index=t.index)).fillna("")
    row = {"export": export, "seed": seed, "pairs": len(t), "seconds": seconds}
    row.update({k: v for k, v in point_scores(t["expected"], t["mean"]).items() if k != "pairs"})
    have = t["mean"].notna()
    row["expected_units"] = float(t.loc[have, "expected"].sum())
    row["error_units"] = float((t.loc[have, "mean"] - t.loc[have, "expected"]).sum())
    row["abs_error_units"] = float((t.loc[have, "mean"] - t.loc[have, "expected"]).abs().sum())
    new = t["new"].to_numpy(bool)
    row.update(piece_biases(t, new))
    row["new_wape"] = point_scores(t.loc[new, "expected"], t.loc[new, "mean"])["wape"]
    row["new_expected_units"] = float(t.loc[new & have, "expected"].sum())
    row["new_abs_error_units"] = float((t.loc[new & have, "mean"] - t.loc[new & have, "expected"]).abs().sum())
    chosen = distribution_scores(t["outcome"], t["mean"], t["sd"], shape)
    normal = distribution_scores(t["outcome"], t["mean"], t["sd"])
    row.update({"coverage_80": chosen["coverage_80"], "normal_coverage_80": normal["coverage_80"]})
    row["new_coverage_80"] = distribution_scores(t.loc[new, "outcome"], t.loc[new, "mean"], t.loc[new, "sd"],
                                                 shape[new])["coverage_80"]
    for q in (10, 50, 90):
        row[f"pinball_{q}"] = chosen[f"pinball_{q}"]
        row[f"normal_pinball_{q}"] = normal[f"pinball_{q}"]
    last = last_promo_units(hist, campaign, t)
    both = np.isfinite(last)
    row["last_year_wape"] = point_scores(t.loc[both, "expected"], last[both])["wape"]
    row["method_wape_same_pairs"] = point_scores(t.loc[both, "expected"], t.loc[both, "mean"])["wape"]
    grown = last * year_on_year_growth(hist, campaign, t)
    both = np.isfinite(grown)
    row["last_year_growth_wape"] = point_scores(t.loc[both, "expected"], grown[both])["wape"]
    row["method_wape_growth_pairs"] = point_scores(t.loc[both, "expected"], t.loc[both, "mean"])["wape"]
    row.update(slow_mover_scores(hist, campaign, t))
    row["censored_days"] = int(audit["censored_days"].fillna(0).sum()) if "censored_days" in audit else 0
    if "distribution" in fc.demand:
        row["shapes"] = ", ".join(f"{k or 'normal'} {v}" for k, v in
                                  fc.demand["distribution"].fillna("").value_counts().items())
    return row


COLUMNS = ["export", "seed", "pairs", "seconds", "wape", "bias", "baseline_bias", "lift_bias", "new_wape",
           "new_baseline_bias", "new_lift_bias", "coverage_80",
           "normal_coverage_80", "new_coverage_80", "pinball_10", "pinball_50", "pinball_90", "normal_pinball_10",
           "normal_pinball_50", "normal_pinball_90", "last_year_wape", "method_wape_same_pairs",
           "last_year_growth_wape", "method_wape_growth_pairs",
           "censored_days"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exports", nargs="+", default=list(FAMILIES), choices=sorted({**EXPORTS, **FAMILIES}),
                    help="generator families (default: every family of samples.history.FAMILIES)")
    ap.add_argument("--seeds", nargs="+", type=int, default=list(DEV_SEEDS))
    ap.add_argument("--held-out", action="store_true", help=f"the held-out seeds {HELD_OUT_SEEDS}")
    ap.add_argument("--skus", type=int, default=60)
    ap.add_argument("--warehouses", type=int, default=3, help="demand rows kept per SKU (default 3)")
    ap.add_argument("--csv", type=Path, help="also write the per-run rows here")
    args = ap.parse_args(argv)
    if args.held_out:
        args.seeds = list(HELD_OUT_SEEDS)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for export in args.exports:
            for seed in args.seeds:
                row = one_run(export, seed, args.skus, args.warehouses, Path(tmp))
                rows.append(row)
                print("  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                                for k, v in row.items()), flush=True)
    table = pd.DataFrame(rows)
    if args.csv:
        table.to_csv(args.csv, index=False)
    pd.set_option("display.width", 200)
    cols = [c for c in COLUMNS if c in table and c not in ("seed",)]
    medians = table[cols].groupby("export").median(numeric_only=True)
    print("\nmedians over seeds", args.seeds)
    print(medians.T.round(3).to_string())
    g = table.groupby("export")[["expected_units", "error_units", "abs_error_units",
                                 "new_expected_units", "new_abs_error_units"]].sum()
    cover = table.groupby("export")["coverage_80"].mean()
    print("\npooled over seeds (every pair of every run):")
    g.loc["all families"] = g.sum()
    cover["all families"] = table["coverage_80"].mean()
    for export, r in g.iterrows():
        print(f"  {export}: WAPE {r.abs_error_units / r.expected_units:.3f}, "
              f"bias {r.error_units / r.expected_units:+.3f}, "
              f"new-SKU WAPE {r.new_abs_error_units / r.new_expected_units:.3f}, "
              f"80% coverage {cover[export]:.3f}")
    print_slow_movers(table)
    return 0


def print_slow_movers(table: pd.DataFrame) -> None:
    """The slow pairs' scores, pooled over every run: the method's negative binomial
    (``nb``) against each intermittent model (:mod:`intermittent`)."""
    if "slow_pairs" not in table or not table["slow_pairs"].sum():
        return
    print(f"\nslow movers (expected promo demand under 30 units; {int(table['slow_pairs'].sum())} pairs "
          "pooled over every run): WAPE, mean 80 % coverage, median pinball P10 / P50 / P90")
    for name in ("nb", *INTERMITTENT_MODELS):
        wape = table[f"{name}_abs_error_units"].sum() / table["slow_expected_units"].sum()
        pin = " / ".join(f"{table[f'{name}_pinball_{q}'].median():.3f}" for q in (10, 50, 90))
        label = "method (negative binomial)" if name == "nb" else name
        print(f"  {label:28s} WAPE {wape:.3f}  coverage {table[f'{name}_coverage_80'].mean():.3f}  pinball {pin}")


if __name__ == "__main__":
    raise SystemExit(main())
