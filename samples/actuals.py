"""Seeded run-up sales for a campaign folder: the monitor's sample input.

    >>> from samples.actuals import generate_actuals
    >>> generate_actuals("data/sample", as_of="2026-10-10")   # doctest: +SKIP

Writes two files into the folder:

* ``forecast_audit.csv`` — the audit a perfect forecast would write: per pair of
  demand.csv, the true pre-promo ``baseline_rate`` of the synthetic demand model
  (``mean ÷ promo days ÷ lift``, with the Black Friday lift of the SKU's category
  from :mod:`samples.history` × a SKU factor), ``method = synthetic_truth``;
* ``actuals.csv`` — daily units sold (``date, sku, warehouse, units``; days without
  a sale are left out, as exports do) for the ``days`` days up to ``as_of``:
  ``Poisson(baseline_rate × weekday × pace × Gamma(30, 1/30))``.

``pace`` is 1 except for a few pairs the plan expects at least 15 units a week from:
about 10 pairs selling 25–40 % of plan for the last 14 days (stop-loss), 6 selling
that little in the last 7 days only (not yet a stop-loss), and 10 selling 170–220 %
of plan for the last 14 days (top-up) — chosen among pairs an air or courier lane
can still reach from ``as_of`` with the SKU's production time, so the top-up has
something to buy.  Same arguments, same bytes.
"""

from __future__ import annotations

import datetime as dt
import pathlib

import numpy as np
import pandas as pd

from optimizer.io.campaign import load_campaign
from samples.history import CATEGORY_SHAPE, WEEKDAY

MIN_WEEKLY = 15.0
DISPERSION = 30.0  # day-to-day demand noise Gamma(30, 1/30): milder than the history's
FAST = ("air", "courier")


def generate_actuals(folder, as_of: str = "2026-10-10", days: int = 21, seed: int = 11,
                     n_behind: int = 10, n_behind_1_week: int = 6, n_ahead: int = 10) -> pathlib.Path:
    folder = pathlib.Path(folder)
    c = load_campaign(folder)
    cfg = c.config
    rng = np.random.default_rng(seed)
    end = dt.date.fromisoformat(as_of)
    dates = pd.date_range(end - dt.timedelta(days=days - 1), end, freq="D")
    promo_days = (cfg.promo_end - cfg.promo_start).days + 1

    skus = c.skus.set_index("sku")
    sku_lift = dict(zip(skus.index, np.exp(rng.normal(0, 0.2, len(skus)))))
    d = c.demand.copy()
    cats = d["sku"].map(skus["category"]) if "category" in skus else pd.Series("", index=d.index)
    d["lift"] = [CATEGORY_SHAPE.get(cat, (3.0,))[0] * sku_lift[s] for cat, s in zip(cats, d["sku"])]
    d["baseline_rate"] = d["mean"] / promo_days / d["lift"]

    # Pairs to shock: enough volume to judge, disjoint groups; "ahead" pairs reachable in time.
    lanes = c.lanes[c.lanes["mode"].isin(FAST)].groupby("warehouse")["transit_days"].min()
    cutoff = c.warehouses.set_index("warehouse")["cutoff"]
    slack = [(cutoff[w] - end).days - int(skus.at[s, "production_days"]) - cfg.buffer_days
             - lanes.get(w, 10**6) for s, w in zip(d["sku"], d["warehouse"])]
    big = d["baseline_rate"] * 7 >= MIN_WEEKLY
    reachable = np.flatnonzero(big & (np.array(slack) >= 0))
    ahead = rng.choice(reachable, size=min(n_ahead, len(reachable)), replace=False)
    rest = rng.permutation(np.setdiff1d(np.flatnonzero(big), ahead))
    behind, behind_1 = rest[:n_behind], rest[n_behind:n_behind + n_behind_1_week]

    pace = np.ones((len(d), len(dates)))
    last7 = np.arange(len(dates)) >= len(dates) - 7
    last14 = np.arange(len(dates)) >= len(dates) - 14
    pace[np.ix_(behind, last14)] = rng.uniform(0.25, 0.40, (len(behind), 1))
    pace[np.ix_(behind_1, last7)] = rng.uniform(0.25, 0.40, (len(behind_1), 1))
    pace[np.ix_(ahead, last14)] = rng.uniform(1.7, 2.2, (len(ahead), 1))
    lam = (d["baseline_rate"].to_numpy()[:, None] * WEEKDAY[dates.day_of_week.to_numpy()][None, :]
           * pace * rng.gamma(DISPERSION, 1 / DISPERSION, pace.shape))
    units = rng.poisson(lam)

    i, j = np.nonzero(units)
    actuals = pd.DataFrame({"date": dates[j].strftime("%Y-%m-%d"), "sku": d["sku"].to_numpy()[i],
                            "warehouse": d["warehouse"].to_numpy()[i], "units": units[i, j]})
    actuals = actuals.sort_values(["date", "sku", "warehouse"], kind="stable")
    actuals.to_csv(folder / "actuals.csv", index=False, lineterminator="\n")

    audit = pd.DataFrame({"sku": d["sku"], "warehouse": d["warehouse"], "method": "synthetic_truth",
                          "baseline_rate": d["baseline_rate"].round(4), "promo_days": promo_days,
                          "lift": d["lift"].round(4), "mean": d["mean"], "sd": d["sd"]})
    audit.sort_values(["sku", "warehouse"]).to_csv(folder / "forecast_audit.csv", index=False,
                                                   lineterminator="\n")
    return folder


__all__ = ["generate_actuals"]
